package specs

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

// DefaultStorageSize is the size of the data volume when the spec names none.
const DefaultStorageSize = "1Gi"

// DataVolumeClaim is the PersistentVolumeClaim that holds the data directory.
//
// note: the claim is a standalone object referenced by the pod template, not a
// StatefulSet volumeClaimTemplate. Templates are immutable once the StatefulSet exists,
// so growing the volume would mean orphan-deleting and recreating the StatefulSet; a
// standalone claim is patched in place. It also lets the reclaim policy be a plain owner
// reference: with Delete the claim is garbage-collected with the instance, with Retain it
// carries no owner and outlives it. One writer is still guaranteed: the StatefulSet has
// exactly one replica and replaces its pod only after the old one has terminated.
//
// size is the request to apply: StorageSize(pbi) normally, the claim's current request
// when the volume cannot grow to it.
func DataVolumeClaim(pbi *pbv1alpha1.PocketBaseInstance, q resource.Quantity) *corev1apply.PersistentVolumeClaimApplyConfiguration {
	spec := corev1apply.PersistentVolumeClaimSpec().
		WithAccessModes(corev1.ReadWriteOnce).
		WithResources(corev1apply.VolumeResourceRequirements().
			WithRequests(corev1.ResourceList{corev1.ResourceStorage: q}))
	if pbi.Spec.Storage.StorageClassName != nil {
		spec.WithStorageClassName(*pbi.Spec.Storage.StorageClassName)
	}
	pvc := corev1apply.PersistentVolumeClaim(pbi.DataVolumeClaimName(), pbi.Namespace).
		WithLabels(Labels(pbi, ComponentData)).
		WithSpec(spec)
	if pbi.StorageReclaimPolicy() == pbv1alpha1.PersistentVolumeClaimDelete {
		pvc.WithOwnerReferences(ownerReference(pbi))
	}
	return pvc
}

// StorageSize is the data volume size the spec asks for.
func StorageSize(pbi *pbv1alpha1.PocketBaseInstance) (resource.Quantity, error) {
	size := pbi.Spec.Storage.Size
	if size == "" {
		size = DefaultStorageSize
	}
	return resource.ParseQuantity(size)
}
