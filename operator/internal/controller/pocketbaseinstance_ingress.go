package controller

import (
	"context"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	corev1 "k8s.io/api/core/v1"

	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// reconcileIngress applies the Ingress when the spec asks for one and removes the one
// this operator made when it no longer does.
func (r *PocketBaseInstanceReconciler) reconcileIngress(ctx context.Context, p *pass) error {
	ing := &networkingv1.Ingress{}
	if desired := specs.Ingress(p.pbi); desired != nil {
		created, changed, err := r.applyChild(ctx, desired, ing)
		if err != nil {
			return fmt.Errorf("applying ingress: %w", err)
		}
		p.recordApplied("Ingress", ing.Name, created, changed)
		return nil
	}

	err := r.Get(ctx, client.ObjectKey{Namespace: p.pbi.Namespace, Name: p.pbi.ChildName()}, ing)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting ingress: %w", err)
	}
	if !metav1.IsControlledBy(ing, p.pbi) {
		return nil
	}
	if err := r.Delete(ctx, ing, client.Preconditions{UID: &ing.UID}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting ingress: %w", err)
	}
	p.record(corev1.EventTypeNormal, "Deleted", "Delete", "Deleted Ingress %s: spec.ingress was removed.", ing.Name)
	return nil
}
