package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
	"github.com/pocketfleet/pocketfleet/operator/internal/status"
)

// reconcileDataVolumeClaim applies the data volume claim, grows it when the spec asks
// for more and its StorageClass allows it, and checks that it can bind.
func (r *PocketBaseInstanceReconciler) reconcileDataVolumeClaim(ctx context.Context, p *pass) error {
	want, err := specs.StorageSize(p.pbi)
	if err != nil {
		p.fail(pbv1alpha1.ReasonReconcileError, "Invalid spec.storage.size: %v", err)
		return errBlocked
	}
	size := want
	existing := &corev1.PersistentVolumeClaim{}
	switch err := r.Get(ctx, client.ObjectKey{Namespace: p.pbi.Namespace, Name: p.pbi.DataVolumeClaimName()}, existing); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("getting data volume claim: %w", err)
	default:
		cur := existing.Spec.Resources.Requests[corev1.ResourceStorage]
		switch want.Cmp(cur) {
		case 1:
			grow, err := r.canGrow(ctx, p, existing, want)
			if err != nil {
				return err
			}
			if !grow {
				size = cur
			} else {
				p.record(corev1.EventTypeNormal, "VolumeExpansionRequested", "Resize",
					"Growing data volume claim %s from %s to %s.", existing.Name, cur.String(), want.String())
			}
		case -1:
			// note: the schema refuses a smaller spec.storage.size, but a claim grown by
			// hand is bigger than the spec; a claim never shrinks.
			size = cur
		}
	}

	pvc := &corev1.PersistentVolumeClaim{}
	created, changed, err := r.applyChild(ctx, specs.DataVolumeClaim(p.pbi, size), pvc)
	if err != nil {
		if q := status.QuotaProblem("data volume claim", err.Error()); q != nil {
			p.fail(q.Reason, "%s", q.Message)
			return errBlocked
		}
		return fmt.Errorf("applying data volume claim: %w", err)
	}
	p.pvc = pvc
	p.recordApplied("PersistentVolumeClaim", pvc.Name, created, changed)
	p.observeResize(pvc)

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

// canGrow reports whether the claim may be grown to want now. When it may not, it
// records why: a StorageClass without allowVolumeExpansion is a problem (Degraded), a
// claim not bound yet is a wait. Either way the claim keeps its size and nothing is lost.
func (r *PocketBaseInstanceReconciler) canGrow(ctx context.Context, p *pass, pvc *corev1.PersistentVolumeClaim, want resource.Quantity) (bool, error) {
	cur := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	notSupported := func(why string) (bool, error) {
		p.fail(pbv1alpha1.ReasonStorageExpansionNotSupported,
			"spec.storage.size asks for %s but data volume claim %s cannot grow from %s: %s. The volume keeps its size and data; allow expansion on the StorageClass to proceed.",
			want.String(), pvc.Name, cur.String(), why)
		return false, nil
	}
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName == "" {
		return notSupported("it has no StorageClass")
	}
	class := *pvc.Spec.StorageClassName
	sc := &storagev1.StorageClass{}
	switch err := r.APIReader.Get(ctx, client.ObjectKey{Name: class}, sc); {
	case apierrors.IsNotFound(err):
		return notSupported(fmt.Sprintf("StorageClass %q does not exist", class))
	case err != nil:
		return false, fmt.Errorf("getting storage class: %w", err)
	case sc.AllowVolumeExpansion == nil || !*sc.AllowVolumeExpansion:
		return notSupported(fmt.Sprintf("StorageClass %q does not set allowVolumeExpansion", class))
	}
	if pvc.Status.Phase != corev1.ClaimBound {
		p.pending = &status.Problem{Reason: pbv1alpha1.ReasonVolumeResizing,
			Message: fmt.Sprintf("Data volume claim %s grows to %s once it is bound.", pvc.Name, want.String())}
		p.requeue(recheckAfter)
		return false, nil
	}
	return true, nil
}

// observeResize reports the claim's size and any resize under way. A resize the storage
// system or the node gave up on is a problem; one still going is a wait.
func (p *pass) observeResize(pvc *corev1.PersistentVolumeClaim) {
	st := &pbv1alpha1.StorageStatus{}
	if q, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		st.Requested = q.String()
	}
	if q, ok := pvc.Status.Capacity[corev1.ResourceStorage]; ok {
		st.Capacity = q.String()
	}
	for _, c := range pvc.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case corev1.PersistentVolumeClaimResizing, corev1.PersistentVolumeClaimFileSystemResizePending:
			st.Resize = string(c.Type)
		case corev1.PersistentVolumeClaimControllerResizeError, corev1.PersistentVolumeClaimNodeResizeError:
			p.fail(pbv1alpha1.ReasonVolumeResizeFailed, "Growing data volume claim %s failed (%s): %s", pvc.Name, c.Type, c.Message)
		}
	}
	switch s := pvc.Status.AllocatedResourceStatuses[corev1.ResourceStorage]; s {
	case corev1.PersistentVolumeClaimControllerResizeInfeasible, corev1.PersistentVolumeClaimNodeResizeInfeasible:
		p.fail(pbv1alpha1.ReasonVolumeResizeFailed, "Growing data volume claim %s is infeasible (%s).", pvc.Name, s)
	case corev1.PersistentVolumeClaimControllerResizeInProgress, corev1.PersistentVolumeClaimNodeResizeInProgress:
		if st.Resize == "" {
			st.Resize = string(corev1.PersistentVolumeClaimResizing)
		}
	case corev1.PersistentVolumeClaimNodeResizePending:
		if st.Resize == "" {
			st.Resize = string(corev1.PersistentVolumeClaimFileSystemResizePending)
		}
	}
	if st.Resize != "" && p.pending == nil {
		p.pending = &status.Problem{Reason: pbv1alpha1.ReasonVolumeResizing,
			Message: fmt.Sprintf("Data volume claim %s is growing to %s (%s); capacity is %s.", pvc.Name, st.Requested, st.Resize, st.Capacity)}
	}
	// A claim whose request exceeds its capacity with no resize under way waits for a
	// resizer: the external one of a CSI driver may not have picked it up yet, or none runs
	// (Kubernetes then only records an ExternalExpanding event). It has not grown.
	requested, capacity := pvc.Spec.Resources.Requests[corev1.ResourceStorage], pvc.Status.Capacity[corev1.ResourceStorage]
	if st.Resize == "" && st.Capacity != "" && requested.Cmp(capacity) > 0 && p.pending == nil {
		p.pending = &status.Problem{Reason: pbv1alpha1.ReasonVolumeResizing,
			Message: fmt.Sprintf("Data volume claim %s asks for %s and has %s; no resize has started yet, waiting for the storage system's resizer.", pvc.Name, st.Requested, st.Capacity)}
	}
	p.storage = st
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
