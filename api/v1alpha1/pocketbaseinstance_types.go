package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PocketBaseInstanceSpec is the desired state of one tenant backend.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.image) && has(self.version))",message="image and version are mutually exclusive: set image to a full reference, or version to a tag of the operator's default image"
// +kubebuilder:validation:XValidation:rule="has(self.bootstrap) == has(oldSelf.bootstrap) && (!has(self.bootstrap) || self.bootstrap == oldSelf.bootstrap)",message="bootstrap is immutable: it only seeds the volume of a new instance; use a PocketBaseRestore to restore in place"
type PocketBaseInstanceSpec struct {
	// image is the full container image reference of the instance, for example
	// "registry.example.com/pocketfleet/instance:v0.2.0". When neither image nor version is
	// set, the operator's default image is used.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Image *string `json:"image,omitempty"`

	// version is a tag of the operator's default instance image repository, for example
	// "v0.2.0". It is the short way to pin or upgrade a tenant without naming a registry.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`
	Version *string `json:"version,omitempty"`

	// imagePullPolicy is the pull policy of the instance container. Defaults to the
	// Kubernetes default for the image's tag.
	// +optional
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	ImagePullPolicy *corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// resources are the compute resources of the instance container. When unset, the
	// operator requests 50m CPU and 64Mi of memory and limits memory to 512Mi.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// storage describes the volume that holds the tenant's data directory.
	// +optional
	// +kubebuilder:default={}
	Storage StorageSpec `json:"storage,omitzero"`

	// superuser configures the first superuser of the instance.
	// +optional
	// +kubebuilder:default={}
	Superuser SuperuserSpec `json:"superuser,omitzero"`

	// ingress exposes the instance on a host name through an Ingress. When unset, the
	// instance is reachable only through its Service inside the cluster.
	// +optional
	Ingress *IngressSpec `json:"ingress,omitempty"`

	// env holds extra environment variables for the instance container. Variables that
	// the operator sets itself (the PB_SUPERUSER_ ones) cannot be overridden here.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(e, !e.name.startsWith('PB_SUPERUSER_'))",message="env names starting with PB_SUPERUSER_ are reserved for the operator; use spec.superuser instead"
	Env []corev1.EnvVar `json:"env,omitempty"`

	// nodeSelector constrains the instance pod to nodes with these labels.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// tolerations of the instance pod.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// affinity of the instance pod.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// podAnnotations are added to the instance pod, for example for a service mesh or a
	// metrics scraper.
	// +optional
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`

	// podLabels are added to the instance pod. The operator's own labels win on conflict.
	// +optional
	PodLabels map[string]string `json:"podLabels,omitempty"`

	// serviceAccountName is the ServiceAccount the instance pod runs as. The instance
	// never talks to the Kubernetes API, so its token is not mounted either way.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ServiceAccountName *string `json:"serviceAccountName,omitempty"`

	// priorityClassName of the instance pod.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	PriorityClassName *string `json:"priorityClassName,omitempty"`

	// hibernation stops the instance without losing it: the pod is removed, the data
	// volume, the superuser Secret, the Service and the Ingress stay, and clearing
	// hibernated brings the same volume back.
	// +optional
	Hibernation *HibernationSpec `json:"hibernation,omitempty"`

	// progressDeadlineSeconds is how long a rollout (a new version, image or pod template)
	// may take before the instance is reported Degraded with reason RolloutStuck. The
	// deadline counts from the spec change that started the rollout. Defaults to 600.
	// +optional
	// +kubebuilder:default=600
	// +kubebuilder:validation:Minimum=30
	// +kubebuilder:validation:Maximum=86400
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`

	// backup configures backups of the database and files to S3-compatible storage:
	// the destination, an optional schedule and the retention.
	// +optional
	Backup *BackupSpec `json:"backup,omitempty"`

	// bootstrap seeds the data volume of a new instance from a backup, before its pod
	// first starts. It cannot be changed after creation.
	// +optional
	Bootstrap *BootstrapSpec `json:"bootstrap,omitempty"`
}

// HibernationSpec turns an instance off and on again.
type HibernationSpec struct {
	// hibernated scales the instance to zero pods while keeping its data volume. Clients
	// get 503 from the ingress controller (or a refused connection on the Service) until
	// it is cleared.
	// +required
	Hibernated bool `json:"hibernated"`
}

// PersistentVolumeClaimPolicy says what happens to the data volume when its
// PocketBaseInstance is deleted.
// +kubebuilder:validation:Enum=Retain;Delete
type PersistentVolumeClaimPolicy string

const (
	// PersistentVolumeClaimRetain keeps the data volume after the instance is deleted, so a
	// tenant deleted by mistake can be recreated with its data.
	PersistentVolumeClaimRetain PersistentVolumeClaimPolicy = "Retain"
	// PersistentVolumeClaimDelete garbage-collects the data volume with the instance.
	PersistentVolumeClaimDelete PersistentVolumeClaimPolicy = "Delete"
)

// StorageSpec describes the tenant's data volume.
//
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.size) || quantity(self.size).compareTo(quantity(oldSelf.size)) >= 0",message="storage.size cannot be decreased: a volume can grow but never shrink"
// +kubebuilder:validation:XValidation:rule="has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)",message="storage.storageClassName is immutable"
type StorageSpec struct {
	// size of the data volume, as a Kubernetes quantity such as "1Gi". It can be raised
	// later where the StorageClass allows expansion, never lowered.
	// +optional
	// +kubebuilder:default="1Gi"
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))",message="storage.size must be a positive quantity such as 1Gi"
	Size string `json:"size,omitempty"`

	// storageClassName of the data volume. When unset, the cluster's default
	// StorageClass is used.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	StorageClassName *string `json:"storageClassName,omitempty"`

	// reclaimPolicy says what happens to the data volume when the PocketBaseInstance is
	// deleted: Retain (the default) keeps it, Delete removes it with the instance.
	// +optional
	// +kubebuilder:default=Retain
	ReclaimPolicy PersistentVolumeClaimPolicy `json:"reclaimPolicy,omitempty"`
}

// SuperuserSpec configures the first superuser of the instance.
type SuperuserSpec struct {
	// email of the superuser. Ignored when secretName names a Secret with an "email" key.
	// +optional
	// +kubebuilder:default="admin@pocketfleet.local"
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:Pattern=`^[^@\s]+@[^@\s]+$`
	Email string `json:"email,omitempty"`

	// secretName names an existing Secret in the same namespace with the keys "password"
	// (required) and "email" (optional). When unset, the operator generates a Secret named
	// "<instance>-superuser" with a random password, once, and never rewrites it.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	SecretName *string `json:"secretName,omitempty"`
}

// IngressSpec exposes the instance through an Ingress.
type IngressSpec struct {
	// host is the DNS name the tenant is served on, for example "acme.api.example.com".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Host string `json:"host"`

	// className is the IngressClass to use. When unset, the cluster's default class is used.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ClassName *string `json:"className,omitempty"`

	// annotations are added to the Ingress. The operator already sets the annotations
	// that keep realtime (SSE) streams unbuffered on common controllers; these win on
	// conflict.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// tlsSecretName names a Secret of type kubernetes.io/tls for the host. When set, the
	// Ingress terminates TLS and the status URL uses https.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	TLSSecretName *string `json:"tlsSecretName,omitempty"`

	// path under which the instance is served. Defaults to "/".
	// +optional
	// +kubebuilder:default="/"
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^/`
	Path string `json:"path,omitempty"`
}

// PocketBaseInstanceStatus is the observed state of a PocketBaseInstance.
type PocketBaseInstanceStatus struct {
	// conditions describe the instance: Ready, Progressing and Degraded. A hibernated
	// instance is Ready=False with reason Hibernated and not Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// url is where clients reach the tenant: the Ingress host when one is configured,
	// otherwise the in-cluster Service address.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url,omitempty"`

	// superuserSecretName names the Secret that holds the superuser's email and password.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	SuperuserSecretName string `json:"superuserSecretName,omitempty"`

	// readyReplicas is the number of ready instance pods: 0 or 1.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// image is the instance image the running pod was created from.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`

	// rolloutStartTime is when the rollout under way started: the first pass that saw
	// the current generation of the spec not yet running. Unset once the pod is ready or
	// the instance is hibernated. spec.progressDeadlineSeconds counts from it.
	// +optional
	RolloutStartTime *metav1.Time `json:"rolloutStartTime,omitempty"`

	// storage reports the data volume: its capacity and any resize under way.
	// +optional
	Storage *StorageStatus `json:"storage,omitempty"`

	// backup reports the newest backups and the schedule.
	// +optional
	Backup *BackupStatus `json:"backup,omitempty"`

	// bootstrapped is true once spec.bootstrap has been restored into the data volume
	// (or found it already holding a database).
	// +optional
	Bootstrapped bool `json:"bootstrapped,omitempty"`
}

// StorageStatus is the observed state of the data volume.
type StorageStatus struct {
	// requested is the size the data volume claim asks for.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Requested string `json:"requested,omitempty"`

	// capacity is the size the volume has, as its claim reports it.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Capacity string `json:"capacity,omitempty"`

	// resize says how a growth of the volume is going: empty when none is under way,
	// otherwise Resizing (the storage system grows the volume) or FileSystemResizePending
	// (the node grows the file system, usually when the pod next starts).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Resize string `json:"resize,omitempty"`
}

// PocketBaseInstance is one tenant: a PocketBase-compatible backend with its own data
// volume, superuser, Service and optional Ingress.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pbi,categories=pocketfleet
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Hibernated",type=boolean,JSONPath=`.spec.hibernation.hibernated`,priority=1
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.url`
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.status.image`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type PocketBaseInstance struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is the desired state of the instance. Every field has a default, so an empty
	// spec gives a working tenant.
	// +optional
	// +kubebuilder:default={}
	Spec PocketBaseInstanceSpec `json:"spec,omitzero"`

	// status is the observed state of the instance.
	// +optional
	Status PocketBaseInstanceStatus `json:"status,omitzero"`
}

// PocketBaseInstanceList is a list of PocketBaseInstance.
//
// +kubebuilder:object:root=true
type PocketBaseInstanceList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitzero"`
	// items are the instances.
	Items []PocketBaseInstance `json:"items"`
}
