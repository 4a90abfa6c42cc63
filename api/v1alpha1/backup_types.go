package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BackupSpec configures the backups of an instance: where they go, when they are taken
// and how many are kept. On-demand backups are PocketBaseBackup objects naming the
// instance; the schedule creates those objects itself.
type BackupSpec struct {
	// destination is where the backups are stored.
	// +required
	Destination BackupDestination `json:"destination"`

	// schedule is a five-field cron expression, in UTC, for example "0 3 * * *". When
	// empty, backups are taken only on demand.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Schedule string `json:"schedule,omitempty"`

	// retention prunes old backups (the objects in the bucket and their PocketBaseBackup
	// objects) after every successful backup. When empty, every backup is kept. The newest
	// successful backup is never pruned.
	// +optional
	Retention BackupRetention `json:"retention,omitzero"`

	// suspend stops the schedule from starting new backups; on-demand backups still run.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// BackupDestination is where backups are stored.
type BackupDestination struct {
	// s3 is an S3-compatible bucket.
	// +required
	S3 S3Destination `json:"s3"`
}

// S3Destination is an S3-compatible bucket and a key prefix in it.
type S3Destination struct {
	// endpoint is the service URL, for example "https://s3.eu-west-1.amazonaws.com" or
	// "http://minio.storage.svc:9000".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^/?#\s]+(/[^?#\s]*)?$`
	Endpoint string `json:"endpoint"`

	// bucket is the bucket name.
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`
	Bucket string `json:"bucket"`

	// prefix is prepended to the object names. Defaults to "<namespace>/<instance>/", so
	// tenants sharing a bucket never see each other's backups.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^([^/\s][^\s]*/)?$`
	Prefix *string `json:"prefix,omitempty"`

	// region is the signing region. Defaults to "us-east-1".
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Region string `json:"region,omitempty"`

	// forcePathStyle puts the bucket in the URL path instead of the host name, as MinIO,
	// SeaweedFS and most self-hosted servers need.
	// +optional
	ForcePathStyle bool `json:"forcePathStyle,omitempty"`

	// credentialsSecretRef names a Secret in the instance's namespace with the keys
	// "accessKeyId" and "secretAccessKey". Only the backup and restore Jobs mount it; the
	// operator checks that the keys exist but never reads their values.
	// +required
	CredentialsSecretRef SecretReference `json:"credentialsSecretRef"`
}

// SecretReference names a Secret in the same namespace.
type SecretReference struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// BackupRetention says which backups are kept. A backup is pruned when either rule
// drops it.
type BackupRetention struct {
	// keepLast keeps this many of the newest successful backups.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	KeepLast *int32 `json:"keepLast,omitempty"`

	// maxAge prunes backups older than this duration, for example "720h" (30 days).
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="retention.maxAge must be a duration of at least 1m, such as 720h"
	MaxAge *string `json:"maxAge,omitempty"`
}

// BackupStatus reports the backups of an instance.
type BackupStatus struct {
	// lastSuccessfulTime is when the newest successful backup completed.
	// +optional
	LastSuccessfulTime *metav1.Time `json:"lastSuccessfulTime,omitempty"`

	// lastSuccessfulBackup names the PocketBaseBackup of the newest successful backup.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	LastSuccessfulBackup string `json:"lastSuccessfulBackup,omitempty"`

	// lastFailureTime is when the newest failed backup ended.
	// +optional
	LastFailureTime *metav1.Time `json:"lastFailureTime,omitempty"`

	// lastScheduleTime is the schedule time of the newest backup the schedule started.
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`

	// nextScheduleTime is when the schedule starts the next backup.
	// +optional
	NextScheduleTime *metav1.Time `json:"nextScheduleTime,omitempty"`
}

// BootstrapSpec seeds the data volume of a new instance. It is read only while the
// volume holds no database, so a restarted or rescheduled pod never restores again.
//
// +kubebuilder:validation:XValidation:rule="has(self.fromBackup) != has(self.fromS3)",message="bootstrap needs exactly one of fromBackup and fromS3"
type BootstrapSpec struct {
	// fromBackup restores a PocketBaseBackup of the same namespace: a copy of another
	// tenant, or of a deleted one whose backups were kept.
	// +optional
	FromBackup *LocalBackupReference `json:"fromBackup,omitempty"`

	// fromS3 restores a backup object named directly, for example one taken in another
	// namespace: the credentials Secret must then live in this instance's namespace, so
	// reading another team's backups needs that team's credentials.
	// +optional
	FromS3 *S3BackupSource `json:"fromS3,omitempty"`
}

// LocalBackupReference names a PocketBaseBackup in the same namespace.
type LocalBackupReference struct {
	// name of the PocketBaseBackup. It must have completed.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// S3BackupSource is one backup object in an S3-compatible bucket.
type S3BackupSource struct {
	// s3 is the bucket; its prefix is ignored, key is the whole object key.
	// +required
	S3 S3Destination `json:"s3"`

	// key is the object key of the backup zip, for example "team-a/acme/acme-20261127t030000z.zip".
	// +required
	// +kubebuilder:validation:MinLength=5
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^[^/\s][^\s]*\.zip$`
	Key string `json:"key"`
}

// BackupPhase is where a PocketBaseBackup or PocketBaseRestore is in its life.
// +kubebuilder:validation:Enum=Pending;Running;Completed;Failed
type BackupPhase string

// Phases of a backup or a restore. Completed and Failed are final.
const (
	// BackupPending: accepted, waiting for the instance or for its Job to start.
	BackupPending BackupPhase = "Pending"
	// BackupRunning: the Job runs.
	BackupRunning BackupPhase = "Running"
	// BackupCompleted: done; for a backup, the object is in the bucket.
	BackupCompleted BackupPhase = "Completed"
	// BackupFailed: it failed, status.message says why; nothing was changed.
	BackupFailed BackupPhase = "Failed"
)

// PocketBaseBackupSpec names the instance to back up.
//
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a PocketBaseBackup's spec is immutable"
type PocketBaseBackupSpec struct {
	// instanceName names the PocketBaseInstance, in the same namespace, to back up. Its
	// spec.backup.destination says where the backup goes.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	InstanceName string `json:"instanceName"`
}

// PocketBaseBackupStatus is the observed state of a backup.
type PocketBaseBackupStatus struct {
	// phase is Pending, Running, Completed or Failed.
	// +optional
	Phase BackupPhase `json:"phase,omitempty"`

	// message says why the backup failed or what it waits for.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Message string `json:"message,omitempty"`

	// startedAt is when the backup Job was created.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`

	// completedAt is when the backup completed or failed.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`

	// jobName names the Job that takes the backup.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	JobName string `json:"jobName,omitempty"`

	// destination is the bucket the backup was written to, with the prefix resolved, as
	// it was when the backup started: a restore reads it from here even after the
	// instance's spec changed or the instance was deleted.
	// +optional
	Destination *S3Destination `json:"destination,omitempty"`

	// key is the object key of the backup zip.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Key string `json:"key,omitempty"`

	// location is the backup's URL, s3://bucket/key.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Location string `json:"location,omitempty"`

	// sizeBytes is the size of the backup zip.
	// +optional
	SizeBytes int64 `json:"sizeBytes,omitempty"`

	// sha256 is the hex SHA-256 of the backup zip, verified by every restore.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	SHA256 string `json:"sha256,omitempty"`
}

// PocketBaseBackup is one backup of a PocketBaseInstance's database and files to
// S3-compatible storage, taken on demand or by the instance's schedule. Deleting it
// forgets the backup but leaves the object in the bucket, as retention is what prunes.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pbb,categories=pocketfleet
// +kubebuilder:selectablefield:JSONPath=`.spec.instanceName`
// +kubebuilder:printcolumn:name="Instance",type=string,JSONPath=`.spec.instanceName`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Size",type=integer,JSONPath=`.status.sizeBytes`
// +kubebuilder:printcolumn:name="Location",type=string,JSONPath=`.status.location`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type PocketBaseBackup struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec names the instance to back up.
	// +required
	Spec PocketBaseBackupSpec `json:"spec"`

	// status is the observed state of the backup.
	// +optional
	Status PocketBaseBackupStatus `json:"status,omitzero"`
}

// PocketBaseBackupList is a list of PocketBaseBackup.
//
// +kubebuilder:object:root=true
type PocketBaseBackupList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitzero"`
	// items are the backups.
	Items []PocketBaseBackup `json:"items"`
}

// PocketBaseRestoreSpec names the instance to restore in place and the backup to restore.
//
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a PocketBaseRestore's spec is immutable"
type PocketBaseRestoreSpec struct {
	// instanceName names the PocketBaseInstance, in the same namespace, whose data is
	// replaced. Its pod is stopped during the restore and started again afterwards.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	InstanceName string `json:"instanceName"`

	// backupName names a completed PocketBaseBackup in the same namespace, of this
	// instance or of another one.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	BackupName string `json:"backupName"`
}

// PocketBaseRestoreStatus is the observed state of an in-place restore.
type PocketBaseRestoreStatus struct {
	// phase is Pending, Running, Completed or Failed. A failed restore leaves the
	// instance's data as it was and starts the instance again.
	// +optional
	Phase BackupPhase `json:"phase,omitempty"`

	// message says why the restore failed or what it waits for.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Message string `json:"message,omitempty"`

	// startedAt is when the instance was stopped for the restore.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`

	// completedAt is when the restore completed or failed.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`

	// jobName names the Job that restores the data.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	JobName string `json:"jobName,omitempty"`
}

// PocketBaseRestore replaces an instance's data, in place, with a backup: the operator
// stops the pod, a Job downloads and verifies the backup and swaps it in, and the pod
// starts again on the restored data.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pbr,categories=pocketfleet
// +kubebuilder:printcolumn:name="Instance",type=string,JSONPath=`.spec.instanceName`
// +kubebuilder:printcolumn:name="Backup",type=string,JSONPath=`.spec.backupName`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type PocketBaseRestore struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec names the instance and the backup.
	// +required
	Spec PocketBaseRestoreSpec `json:"spec"`

	// status is the observed state of the restore.
	// +optional
	Status PocketBaseRestoreStatus `json:"status,omitzero"`
}

// PocketBaseRestoreList is a list of PocketBaseRestore.
//
// +kubebuilder:object:root=true
type PocketBaseRestoreList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitzero"`
	// items are the restores.
	Items []PocketBaseRestore `json:"items"`
}
