package controller

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
	"github.com/pocketfleet/pocketfleet/operator/internal/status"
)

// reconcileStatefulSet applies the single-replica StatefulSet running the instance.
func (r *PocketBaseInstanceReconciler) reconcileStatefulSet(ctx context.Context, p *pass) error {
	sts := &appsv1.StatefulSet{}
	created, changed, err := r.applyChild(ctx, specs.StatefulSet(p.pbi, specs.StatefulSetInputs{
		Image:          p.image,
		SuperuserEmail: p.superuserEmail,
		SecretVersion:  p.secretVersion,
	}), sts)
	if err != nil {
		return fmt.Errorf("applying statefulset: %w", err)
	}
	p.sts = sts
	p.recordApplied("StatefulSet", sts.Name, created, changed)
	return nil
}

// observePod reads the instance pod and looks for what keeps it from running. When the
// StatefulSet has no pod at all, the StatefulSet controller's events say why (a quota,
// an admission policy).
func (r *PocketBaseInstanceReconciler) observePod(ctx context.Context, p *pass) error {
	pod := &corev1.Pod{}
	err := r.Get(ctx, client.ObjectKey{Namespace: p.pbi.Namespace, Name: p.pbi.ChildName() + "-0"}, pod)
	switch {
	case err == nil:
		p.pod = pod
		if prob := status.PodProblem(pod); prob != nil {
			p.fail(prob.Reason, "%s", prob.Message)
		}
		return nil
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("getting pod: %w", err)
	}
	if p.sts == nil {
		return nil
	}
	evs := &corev1.EventList{}
	if err := r.APIReader.List(ctx, evs, client.InNamespace(p.pbi.Namespace), client.MatchingFieldsSelector{
		Selector: fields.OneTermEqualSelector("involvedObject.uid", string(p.sts.UID)),
	}); err != nil {
		return fmt.Errorf("listing statefulset events: %w", err)
	}
	var latest *corev1.Event
	for i := range evs.Items {
		e := &evs.Items[i]
		if e.Reason == "FailedCreate" && (latest == nil || lastSeen(e).After(lastSeen(latest))) {
			latest = e
		}
	}
	// note: events outlive the failure they report; an old one says nothing about now.
	if latest == nil || time.Since(lastSeen(latest)) > failedCreateWindow {
		return nil
	}
	if q := status.QuotaProblem("pod", latest.Message); q != nil {
		p.fail(q.Reason, "%s", q.Message)
	} else {
		p.fail(pbv1alpha1.ReasonPodFailed, "StatefulSet cannot create the pod: %s", latest.Message)
	}
	return nil
}

// failedCreateWindow is how recent a FailedCreate event must be to count.
const failedCreateWindow = 10 * time.Minute

// lastSeen is when an event last happened, whichever API wrote it.
func lastSeen(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
