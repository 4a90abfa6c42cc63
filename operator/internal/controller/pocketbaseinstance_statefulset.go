package controller

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
	"github.com/pocketfleet/pocketfleet/operator/internal/status"
)

// reconcileStatefulSet applies the single-replica StatefulSet running the instance,
// letting a new image through only when the upgrade gate admits it.
func (r *PocketBaseInstanceReconciler) reconcileStatefulSet(ctx context.Context, p *pass) error {
	key := client.ObjectKey{Namespace: p.pbi.Namespace, Name: p.pbi.ChildName()}
	var current *appsv1.StatefulSet
	existing := &appsv1.StatefulSet{}
	switch err := r.Get(ctx, key, existing); {
	case err == nil:
		current = existing
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("getting statefulset: %w", err)
	}
	image, target, err := r.gateUpgrade(ctx, p, current)
	if err != nil {
		return err
	}

	sts := &appsv1.StatefulSet{}
	created, changed, err := r.applyChild(ctx, specs.StatefulSet(p.pbi, specs.StatefulSetInputs{
		Image:          image,
		SuperuserEmail: p.superuserEmail,
		SecretVersion:  p.secretVersion,
		UpgradeTarget:  target,
		Stopped:        p.held != nil,
	}), sts)
	if err != nil {
		return fmt.Errorf("applying statefulset: %w", err)
	}
	if err := r.Upgrades.hold(ctx, r.Client, key, target != ""); err != nil {
		return err
	}
	p.sts = sts
	p.recordApplied("StatefulSet", sts.Name, created, changed)
	return nil
}

// gateUpgrade picks the image to apply and the upgrade the StatefulSet holds a slot for.
// A new image for a serving (Ready) instance needs a slot; while it has none, the instance keeps
// its current image and reports UpgradeQueued. The slot is released once the new pod is
// rolled out and ready. A failed upgrade keeps its slot, so a bad image stops spreading
// through the fleet, until the spec is fixed or reverted.
func (r *PocketBaseInstanceReconciler) gateUpgrade(ctx context.Context, p *pass, cur *appsv1.StatefulSet) (image, target string, err error) {
	want := p.image
	if cur == nil || p.pbi.Hibernated() || p.held != nil {
		return want, "", nil
	}
	running := containerImage(&cur.Spec.Template.Spec)
	target = cur.Annotations[specs.AnnotationUpgradeTarget]
	switch {
	case running == "":
		return want, "", nil
	case running != want && target == "" && !status.IsReady(p.pbi.Status.Conditions):
		// note: an instance that serves nothing (new, broken) has nothing to protect;
		// its change, often the fix, goes straight through without a slot.
		return want, "", nil
	case running != want:
		key := client.ObjectKeyFromObject(cur)
		why, err := r.Upgrades.admit(ctx, r.Client, key, r.now())
		if err != nil {
			return "", "", err
		}
		if why != "" {
			p.pending = &status.Problem{Reason: pbv1alpha1.ReasonUpgradeQueued, Message: why}
			p.requeue(recheckAfter)
			if c := meta.FindStatusCondition(p.pbi.Status.Conditions, string(pbv1alpha1.ConditionProgressing)); c == nil || c.Reason != pbv1alpha1.ReasonUpgradeQueued {
				p.record(corev1.EventTypeNormal, pbv1alpha1.ReasonUpgradeQueued, "Upgrade", "Upgrade from %s to %s is queued: %s", running, want, why)
			}
			return running, target, nil
		}
		p.record(corev1.EventTypeNormal, "UpgradeStarted", "Upgrade", "Rolling out image %s (was %s).", want, running)
		return want, want, nil
	case target != "" && !rolledOut(cur):
		return want, target, nil
	case target != "":
		p.record(corev1.EventTypeNormal, "UpgradeCompleted", "Upgrade", "Image %s is rolled out and ready.", target)
	}
	return want, "", nil
}

// rolledOut reports whether the StatefulSet runs its latest template on a ready pod.
func rolledOut(sts *appsv1.StatefulSet) bool {
	st := sts.Status
	return st.ObservedGeneration >= sts.Generation && st.UpdateRevision != "" &&
		st.CurrentRevision == st.UpdateRevision && st.UpdatedReplicas >= 1 && st.ReadyReplicas >= 1
}

func containerImage(pod *corev1.PodSpec) string {
	for _, c := range pod.Containers {
		if c.Name == specs.ContainerName {
			return c.Image
		}
	}
	return ""
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
		if p.pbi.Hibernated() || p.held != nil {
			return nil
		}
		if prob := status.PodProblem(pod); prob != nil {
			p.fail(prob.Reason, "%s", prob.Message)
		}
		return r.replaceStalePod(ctx, p)
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("getting pod: %w", err)
	}
	// note: listing events is a namespace-wide scan on the API server; look only when
	// the StatefulSet controller has seen the latest spec and still runs no pod, which
	// is when it records why (FailedCreate). Anything earlier is just not there yet.
	if sts := p.sts; sts == nil || p.pbi.Hibernated() || p.held != nil || sts.Status.ObservedGeneration < sts.Generation || sts.Status.Replicas > 0 {
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

// replaceStalePod deletes the pod when it is broken (crash-looping, unable to pull or
// start, or not ready past the startup window) and was made from an outdated revision
// of the StatefulSet. The StatefulSet controller never replaces a broken pod by
// itself (kubernetes/kubernetes#67250): without this, reverting the spec after a bad
// upgrade would leave the crashing pod in place. Deleting a pod that serves nothing is
// safe, and the StatefulSet creates its successor only once it is gone, so there is
// still never a second writer.
func (r *PocketBaseInstanceReconciler) replaceStalePod(ctx context.Context, p *pass) error {
	pod, sts := p.pod, p.sts
	rev := pod.Labels[specs.LabelRevisionHash]
	if sts == nil || pod.DeletionTimestamp != nil || rev == "" || sts.Status.UpdateRevision == "" ||
		rev == sts.Status.UpdateRevision || status.PodIsReady(pod) {
		return nil
	}
	// note: the cache may show a pod of a brand-new revision before the StatefulSet
	// status naming it; such a pod is starting, not broken, and is left alone.
	if status.PodProblem(pod) == nil && r.now().Sub(pod.CreationTimestamp.Time) < startupWindow {
		return nil
	}
	if err := r.Delete(ctx, pod, client.Preconditions{UID: &pod.UID}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting stale pod: %w", err)
	}
	p.record(corev1.EventTypeNormal, "PodReplaced", "Delete",
		"Deleted pod %s: it is not ready and runs outdated revision %s, so the StatefulSet recreates it from revision %s.",
		pod.Name, rev, sts.Status.UpdateRevision)
	return nil
}

// startupWindow is how long a new pod may stay unready before it counts as broken: the
// startup probe's two minutes.
const startupWindow = 2 * time.Minute

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
