package v1alpha1

// ConditionType is the type of a PocketBaseInstance status condition.
type ConditionType string

// Condition types of a PocketBaseInstance.
const (
	// ConditionReady is True when the instance pod is ready to serve and the status
	// describes the current generation of the spec.
	ConditionReady ConditionType = "Ready"
	// ConditionProgressing is True while the operator rolls out a change: a new pod is being
	// created, started or replaced.
	ConditionProgressing ConditionType = "Progressing"
	// ConditionDegraded is True when something prevents the instance from reaching or
	// keeping its desired state, with a reason saying what.
	ConditionDegraded ConditionType = "Degraded"
	// ConditionBackupHealthy is present when spec.backup is set: True while the newest
	// backup succeeded and, with a schedule, is not overdue; False with a reason otherwise.
	ConditionBackupHealthy ConditionType = "BackupHealthy"
)

// Condition reasons, CamelCase as Kubernetes conventions ask.
const (
	// ReasonAvailable: the instance pod is ready.
	ReasonAvailable = "Available"
	// ReasonReconciling: the operator is applying the desired state.
	ReasonReconciling = "Reconciling"
	// ReasonRollingOut: the StatefulSet has not yet brought the desired pod up.
	ReasonRollingOut = "RollingOut"
	// ReasonPodNotReady: the pod exists but does not pass its readiness probe yet.
	ReasonPodNotReady = "PodNotReady"
	// ReasonAsExpected: nothing is wrong.
	ReasonAsExpected = "AsExpected"
	// ReasonReconcileError: applying a child object failed.
	ReasonReconcileError = "ReconcileError"
	// ReasonSecretInvalid: the superuser Secret named in the spec is missing or lacks keys.
	ReasonSecretInvalid = "SuperuserSecretInvalid"
	// ReasonStorageClassNotFound: the requested StorageClass does not exist.
	ReasonStorageClassNotFound = "StorageClassNotFound"
	// ReasonVolumePending: the data volume claim is not bound.
	ReasonVolumePending = "VolumeClaimPending"
	// ReasonQuotaExceeded: a ResourceQuota refused the pod or the volume.
	ReasonQuotaExceeded = "QuotaExceeded"
	// ReasonCrashLoop: the instance container keeps crashing.
	ReasonCrashLoop = "CrashLoopBackOff"
	// ReasonImagePullFailed: the instance image cannot be pulled.
	ReasonImagePullFailed = "ImagePullFailed"
	// ReasonUnschedulable: the pod cannot be scheduled on any node.
	ReasonUnschedulable = "Unschedulable"
	// ReasonPodFailed: the pod cannot be created or failed for another reason.
	ReasonPodFailed = "PodFailed"
	// ReasonHibernated: spec.hibernation.hibernated is set and the pod is gone.
	ReasonHibernated = "Hibernated"
	// ReasonHibernating: spec.hibernation.hibernated is set and the pod is stopping.
	ReasonHibernating = "Hibernating"
	// ReasonRolloutStuck: the rollout did not finish within spec.progressDeadlineSeconds.
	ReasonRolloutStuck = "RolloutStuck"
	// ReasonUpgradeQueued: a new image waits for an upgrade slot or a maintenance window;
	// the instance keeps running its current image.
	ReasonUpgradeQueued = "UpgradeQueued"
	// ReasonStorageExpansionNotSupported: spec.storage.size grew but the volume's
	// StorageClass does not allow expansion; the volume keeps its size.
	ReasonStorageExpansionNotSupported = "StorageExpansionNotSupported"
	// ReasonVolumeResizeFailed: the storage system or the node failed to grow the volume.
	ReasonVolumeResizeFailed = "VolumeResizeFailed"
	// ReasonVolumeResizing: the data volume is growing.
	ReasonVolumeResizing = "VolumeResizing"

	// ReasonRestoring: the pod is stopped while a backup is restored into the data volume
	// (a PocketBaseRestore in place, or spec.bootstrap before the first start).
	ReasonRestoring = "Restoring"
	// ReasonRestoreFailed: the restore failed; the data is as it was before.
	ReasonRestoreFailed = "RestoreFailed"
	// ReasonBootstrapSourceInvalid: spec.bootstrap names a backup that does not exist, has
	// not completed, or whose credentials Secret is missing.
	ReasonBootstrapSourceInvalid = "BootstrapSourceInvalid"
	// ReasonBackupSucceeded: the newest backup completed.
	ReasonBackupSucceeded = "BackupSucceeded"
	// ReasonBackupFailed: the newest backup failed.
	ReasonBackupFailed = "BackupFailed"
	// ReasonBackupOverdue: the schedule's newest successful backup is older than two of
	// its periods.
	ReasonBackupOverdue = "BackupOverdue"
	// ReasonNoBackupYet: backups are configured but none has completed yet.
	ReasonNoBackupYet = "NoBackupYet"
	// ReasonBackupConfigInvalid: the schedule does not parse, or the credentials Secret is
	// missing or lacks a key.
	ReasonBackupConfigInvalid = "BackupConfigInvalid"
)
