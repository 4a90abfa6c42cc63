package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1apply "k8s.io/client-go/applyconfigurations/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	pbapply "github.com/pocketfleet/pocketfleet/api/v1alpha1/applyconfiguration/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
	"github.com/pocketfleet/pocketfleet/operator/internal/status"
)

// writeStatus applies the status this pass computed, once, and only when it differs
// from what the instance already says. It also records events for condition changes.
func (r *PocketBaseInstanceReconciler) writeStatus(ctx context.Context, p *pass) error {
	pbi := p.pbi
	computed := status.Compute(pbi, status.Observed{
		StatefulSet: p.sts, Pod: p.pod, Problem: p.problem, Pending: p.pending,
		Held: p.held, Notice: p.notice, Now: r.now(),
	})
	p.requeue(computed.RecheckAfter)
	next := pbv1alpha1.PocketBaseInstanceStatus{
		Conditions:          computed.Conditions,
		ObservedGeneration:  pbi.Generation,
		URL:                 specs.URL(pbi),
		SuperuserSecretName: pbi.SuperuserSecretName(),
		Image:               pbi.Status.Image,
		RolloutStartTime:    computed.RolloutStartTime,
		Storage:             p.storage,
		// note: status.backup and BackupHealthy belong to the backup scheduler's field
		// manager; they are compared here but never applied.
		Backup:       pbi.Status.Backup,
		Bootstrapped: pbi.Status.Bootstrapped || p.bootstrapped,
	}
	if next.Storage == nil {
		next.Storage = pbi.Status.Storage
	}
	if p.sts != nil {
		next.ReadyReplicas = p.sts.Status.ReadyReplicas
	}
	if p.pod != nil {
		for _, c := range p.pod.Spec.Containers {
			if c.Name == specs.ContainerName {
				next.Image = c.Image
			}
		}
	}
	r.recordTransitions(p, next.Conditions)
	if equality.Semantic.DeepEqual(pbi.Status, next) {
		return nil
	}

	conds := make([]*metav1apply.ConditionApplyConfiguration, 0, len(next.Conditions))
	for _, c := range next.Conditions {
		if c.Type == string(pbv1alpha1.ConditionBackupHealthy) {
			continue
		}
		conds = append(conds, metav1apply.Condition().
			WithType(c.Type).WithStatus(c.Status).WithReason(c.Reason).WithMessage(c.Message).
			WithObservedGeneration(c.ObservedGeneration).WithLastTransitionTime(c.LastTransitionTime))
	}
	st := pbapply.PocketBaseInstanceStatus().
		WithConditions(conds...).
		WithObservedGeneration(next.ObservedGeneration).
		WithURL(next.URL).
		WithSuperuserSecretName(next.SuperuserSecretName).
		WithReadyReplicas(next.ReadyReplicas)
	if next.Image != "" {
		st.WithImage(next.Image)
	}
	if next.Bootstrapped {
		st.WithBootstrapped(true)
	}
	if next.RolloutStartTime != nil {
		st.WithRolloutStartTime(*next.RolloutStartTime)
	}
	if s := next.Storage; s != nil {
		ss := pbapply.StorageStatus()
		if s.Requested != "" {
			ss.WithRequested(s.Requested)
		}
		if s.Capacity != "" {
			ss.WithCapacity(s.Capacity)
		}
		if s.Resize != "" {
			ss.WithResize(s.Resize)
		}
		st.WithStorage(ss)
	}
	ac := pbapply.PocketBaseInstance(pbi.Name, pbi.Namespace).WithStatus(st)
	return r.Status().Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership)
}

// recordTransitions records events when the instance becomes ready, stops being
// ready, or becomes degraded.
func (r *PocketBaseInstanceReconciler) recordTransitions(p *pass, next []metav1.Condition) {
	prev := p.pbi.Status.Conditions
	ready := string(pbv1alpha1.ConditionReady)
	degraded := string(pbv1alpha1.ConditionDegraded)
	wasReady, isReady := meta.IsStatusConditionTrue(prev, ready), meta.IsStatusConditionTrue(next, ready)
	switch {
	case isReady && !wasReady:
		p.record(corev1.EventTypeNormal, "InstanceReady", "Observe", "Instance is ready at %s.", specs.URL(p.pbi))
	case wasReady && !isReady:
		c := meta.FindStatusCondition(next, ready)
		p.record(corev1.EventTypeWarning, "InstanceNotReady", "Observe", "Instance is no longer ready: %s", c.Message)
	}
	if c := meta.FindStatusCondition(next, degraded); c != nil && c.Status == metav1.ConditionTrue {
		old := meta.FindStatusCondition(prev, degraded)
		if old == nil || old.Status != metav1.ConditionTrue || old.Reason != c.Reason {
			p.record(corev1.EventTypeWarning, c.Reason, "Observe", "%s", c.Message)
		}
	}
}
