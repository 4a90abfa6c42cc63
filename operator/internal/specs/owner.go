package specs

import (
	metav1apply "k8s.io/client-go/applyconfigurations/meta/v1"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

// ownerReference makes the PocketBaseInstance the controller of a child, so the child is
// garbage-collected with it and its changes wake the reconciler.
func ownerReference(pbi *pbv1alpha1.PocketBaseInstance) *metav1apply.OwnerReferenceApplyConfiguration {
	return metav1apply.OwnerReference().
		WithAPIVersion(pbv1alpha1.GroupVersion.String()).
		WithKind("PocketBaseInstance").
		WithName(pbi.Name).
		WithUID(pbi.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}
