package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
	return r.deleteOwned(ctx, p, ing, "Ingress", "spec.ingress was removed")
}

// reconcileNetworkPolicy applies the instance's NetworkPolicy when the operator is
// configured with one, and removes the one it made when it no longer is.
func (r *PocketBaseInstanceReconciler) reconcileNetworkPolicy(ctx context.Context, p *pass) error {
	np := &networkingv1.NetworkPolicy{}
	if r.NetworkPolicyPeers != nil {
		created, changed, err := r.applyChild(ctx, specs.NetworkPolicy(p.pbi, r.NetworkPolicyPeers), np)
		if err != nil {
			return fmt.Errorf("applying network policy: %w", err)
		}
		p.recordApplied("NetworkPolicy", np.Name, created, changed)
		return nil
	}
	return r.deleteOwned(ctx, p, np, "NetworkPolicy", "the operator no longer manages network policies")
}

// deleteOwned deletes the instance's child of obj's kind, named like the instance, when
// the instance controls it.
func (r *PocketBaseInstanceReconciler) deleteOwned(ctx context.Context, p *pass, obj client.Object, kind, why string) error {
	err := r.Get(ctx, client.ObjectKey{Namespace: p.pbi.Namespace, Name: p.pbi.ChildName()}, obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting %s: %w", kind, err)
	}
	if !metav1.IsControlledBy(obj, p.pbi) {
		return nil
	}
	uid := obj.GetUID()
	if err := r.Delete(ctx, obj, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting %s: %w", kind, err)
	}
	p.record(corev1.EventTypeNormal, "Deleted", "Delete", "Deleted %s %s: %s.", kind, obj.GetName(), why)
	return nil
}
