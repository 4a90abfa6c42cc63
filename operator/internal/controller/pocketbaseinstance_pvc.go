package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
	"github.com/pocketfleet/pocketfleet/operator/internal/status"
)

// reconcileDataVolumeClaim applies the data volume claim and checks that it can bind.
func (r *PocketBaseInstanceReconciler) reconcileDataVolumeClaim(ctx context.Context, p *pass) error {
	desired, err := specs.DataVolumeClaim(p.pbi)
	if err != nil {
		p.fail(pbv1alpha1.ReasonReconcileError, "Invalid spec.storage.size: %v", err)
		return errBlocked
	}
	pvc := &corev1.PersistentVolumeClaim{}
	created, changed, err := r.applyChild(ctx, desired, pvc)
	if err != nil {
		if q := status.QuotaProblem("data volume claim", err.Error()); q != nil {
			p.fail(q.Reason, "%s", q.Message)
			return errBlocked
		}
		return fmt.Errorf("applying data volume claim: %w", err)
	}
	p.pvc = pvc
	p.recordApplied("PersistentVolumeClaim", pvc.Name, created, changed)

	if pvc.Status.Phase != corev1.ClaimPending || pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName == "" {
		return nil
	}
	class := *pvc.Spec.StorageClassName
	err = r.APIReader.Get(ctx, client.ObjectKey{Name: class}, &storagev1.StorageClass{})
	switch {
	case apierrors.IsNotFound(err):
		p.fail(pbv1alpha1.ReasonStorageClassNotFound,
			"StorageClass %q does not exist, so data volume claim %s cannot be provisioned.", class, pvc.Name)
	case err != nil:
		return fmt.Errorf("getting storage class: %w", err)
	}
	return nil
}

// recordApplied records an event for a child the pass created or changed.
func (p *pass) recordApplied(kind, name string, created, changed bool) {
	switch {
	case created:
		p.record(corev1.EventTypeNormal, "Created", "Create", "Created %s %s.", kind, name)
	case changed:
		p.record(corev1.EventTypeNormal, "Updated", "Update", "Updated %s %s to the desired state.", kind, name)
	}
}
