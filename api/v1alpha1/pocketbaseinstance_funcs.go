package v1alpha1

// Name suffixes of the objects owned by a PocketBaseInstance.
const (
	superuserSecretSuffix = "-superuser"
	dataVolumeClaimSuffix = "-data"
)

// ChildName is the name of the StatefulSet, Service and Ingress of the instance: the
// instance's own name, so the pod is "<name>-0" and the Service DNS name is "<name>".
func (in *PocketBaseInstance) ChildName() string {
	return in.Name
}

// DataVolumeClaimName is the name of the PersistentVolumeClaim that holds the data
// directory.
func (in *PocketBaseInstance) DataVolumeClaimName() string {
	return in.Name + dataVolumeClaimSuffix
}

// SuperuserSecretName is the name of the Secret the instance reads its superuser from:
// the one named in the spec, or the one the operator generates.
func (in *PocketBaseInstance) SuperuserSecretName() string {
	if in.Spec.Superuser.SecretName != nil {
		return *in.Spec.Superuser.SecretName
	}
	return in.Name + superuserSecretSuffix
}

// GeneratesSuperuserSecret reports whether the operator owns the superuser Secret.
func (in *PocketBaseInstance) GeneratesSuperuserSecret() bool {
	return in.Spec.Superuser.SecretName == nil
}

// StorageReclaimPolicy is the effective reclaim policy of the data volume.
func (in *PocketBaseInstance) StorageReclaimPolicy() PersistentVolumeClaimPolicy {
	if in.Spec.Storage.ReclaimPolicy == "" {
		return PersistentVolumeClaimRetain
	}
	return in.Spec.Storage.ReclaimPolicy
}

// Hibernated reports whether the spec asks for the instance to be stopped.
func (in *PocketBaseInstance) Hibernated() bool {
	return in.Spec.Hibernation != nil && in.Spec.Hibernation.Hibernated
}

// DefaultProgressDeadlineSeconds is the rollout deadline when the spec names none.
const DefaultProgressDeadlineSeconds = 600

// ProgressDeadlineSeconds is the effective rollout deadline in seconds.
func (in *PocketBaseInstance) ProgressDeadlineSeconds() int32 {
	if in.Spec.ProgressDeadlineSeconds == nil {
		return DefaultProgressDeadlineSeconds
	}
	return *in.Spec.ProgressDeadlineSeconds
}
