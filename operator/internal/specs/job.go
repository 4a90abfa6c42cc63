package specs

import (
	"maps"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	batchapplyv1 "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	metav1apply "k8s.io/client-go/applyconfigurations/meta/v1"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
)

// Components of the backup and restore Jobs and their pods.
const (
	// ComponentBackup is the component of a backup Job.
	ComponentBackup = "backup"
	// ComponentRestore is the component of a restore Job (in place or bootstrap).
	ComponentRestore = "restore"
)

// JobContainerName is the name of the container of backup and restore Jobs.
const JobContainerName = "backup"

// jobTTL is how long a finished Job and its pod stay, so `kubectl logs` still works
// after the operator recorded the outcome in the PocketBaseBackup or PocketBaseRestore.
const jobTTL = int32(24 * 3600)

// Compute resources of a backup or restore container: streaming needs little memory.
var (
	jobCPURequest    = resource.MustParse("50m")
	jobMemoryRequest = resource.MustParse("32Mi")
	jobMemoryLimit   = resource.MustParse("256Mi")
)

// JobInputs describe one backup or restore Job of an instance.
type JobInputs struct {
	// Name is the Job's name.
	Name string
	// Component is ComponentBackup or ComponentRestore.
	Component string
	// Owner controls the Job (a PocketBaseBackup, a PocketBaseRestore or the instance), so
	// the Job is garbage-collected with it and its changes wake that owner's reconciler.
	Owner *metav1apply.OwnerReferenceApplyConfiguration
	// Image is the instance image; the Job runs the same binary as the tenant.
	Image string
	// Args are the container arguments (contract.BackupPushArgs or BackupRestoreArgs).
	Args []string
	// S3 is the bucket; its credentials Secret must be in the instance's namespace.
	S3 pbv1alpha1.S3Destination
	// Prefix is the resolved key prefix of the instance's backups.
	Prefix string
	// Superuser, when set, gives the container the superuser's credentials (a push logs
	// in to the running instance with them).
	Superuser *SuperuserEmail
	// MountData mounts the instance's data volume at contract.DataDir (a restore, with
	// the instance's pod stopped).
	MountData bool
	// ActiveDeadlineSeconds bounds the Job's run time.
	ActiveDeadlineSeconds int64
}

// Job is a one-attempt Job running the instance binary's backup subcommand for pbi. Its
// container writes a contract.BackupResult to its termination message; logs stand in
// when it dies without writing one.
func Job(pbi *pbv1alpha1.PocketBaseInstance, in JobInputs) *batchapplyv1.JobApplyConfiguration {
	labels := Labels(pbi, in.Component)

	env := []*corev1apply.EnvVarApplyConfiguration{
		corev1apply.EnvVar().WithName(contract.EnvS3Endpoint).WithValue(in.S3.Endpoint),
		corev1apply.EnvVar().WithName(contract.EnvS3Bucket).WithValue(in.S3.Bucket),
		corev1apply.EnvVar().WithName(contract.EnvS3Region).WithValue(in.S3.Region),
		corev1apply.EnvVar().WithName(contract.EnvS3Prefix).WithValue(in.Prefix),
		corev1apply.EnvVar().WithName(contract.EnvS3ForcePathStyle).WithValue(strconv.FormatBool(in.S3.ForcePathStyle)),
		secretEnv(contract.EnvS3AccessKeyID, in.S3.CredentialsSecretRef.Name, contract.SecretKeyS3AccessKeyID),
		secretEnv(contract.EnvS3SecretAccessKey, in.S3.CredentialsSecretRef.Name, contract.SecretKeyS3SecretAccessKey),
	}
	if in.Superuser != nil {
		env = append(env, superuserEnv(pbi, *in.Superuser)...)
	}

	mounts := []*corev1apply.VolumeMountApplyConfiguration{
		corev1apply.VolumeMount().WithName(tmpVolumeName).WithMountPath(tmpMountPath),
	}
	volumes := []*corev1apply.VolumeApplyConfiguration{
		corev1apply.Volume().WithName(tmpVolumeName).WithEmptyDir(corev1apply.EmptyDirVolumeSource()),
	}
	if in.MountData {
		mounts = append(mounts, corev1apply.VolumeMount().WithName(dataVolumeName).WithMountPath(contract.DataDir))
		volumes = append(volumes, corev1apply.Volume().WithName(dataVolumeName).
			WithPersistentVolumeClaim(corev1apply.PersistentVolumeClaimVolumeSource().
				WithClaimName(pbi.DataVolumeClaimName())))
	}

	c := corev1apply.Container().
		WithName(JobContainerName).
		WithImage(in.Image).
		WithCommand(contract.BinaryPath).
		WithArgs(in.Args...).
		WithEnv(env...).
		WithResources(corev1apply.ResourceRequirements().
			WithRequests(corev1.ResourceList{corev1.ResourceCPU: jobCPURequest, corev1.ResourceMemory: jobMemoryRequest}).
			WithLimits(corev1.ResourceList{corev1.ResourceMemory: jobMemoryLimit})).
		WithVolumeMounts(mounts...).
		WithTerminationMessagePath(contract.TerminationMessagePath).
		WithTerminationMessagePolicy(corev1.TerminationMessageFallbackToLogsOnError).
		WithSecurityContext(containerSecurityContext())
	if pbi.Spec.ImagePullPolicy != nil {
		c.WithImagePullPolicy(*pbi.Spec.ImagePullPolicy)
	}

	pod := corev1apply.PodSpec().
		WithRestartPolicy(corev1.RestartPolicyNever).
		WithAutomountServiceAccountToken(false).
		WithEnableServiceLinks(false).
		WithSecurityContext(podSecurityContext()).
		WithContainers(c).
		WithVolumes(volumes...)
	placement(pod, pbi)
	if pbi.Spec.PriorityClassName != nil {
		pod.WithPriorityClassName(*pbi.Spec.PriorityClassName)
	}

	podLabels := maps.Clone(labels)
	return batchapplyv1.Job(in.Name, pbi.Namespace).
		WithLabels(labels).
		WithOwnerReferences(in.Owner).
		WithSpec(batchapplyv1.JobSpec().
			// One attempt: a failed backup is reported and the schedule tries again; a
			// failed restore must be looked at, not repeated.
			WithBackoffLimit(0).
			WithActiveDeadlineSeconds(in.ActiveDeadlineSeconds).
			WithTTLSecondsAfterFinished(jobTTL).
			WithPodReplacementPolicy(batchv1.Failed).
			WithTemplate(corev1apply.PodTemplateSpec().
				WithLabels(podLabels).
				WithSpec(pod)))
}

// secretEnv is an environment variable read from a key of a Secret.
func secretEnv(name, secret, key string) *corev1apply.EnvVarApplyConfiguration {
	return corev1apply.EnvVar().WithName(name).
		WithValueFrom(corev1apply.EnvVarSource().WithSecretKeyRef(corev1apply.SecretKeySelector().
			WithName(secret).WithKey(key)))
}

// ControllerReference makes obj (a PocketBaseBackup or PocketBaseRestore) the controller
// of a Job.
func ControllerReference(kind, name string, uid types.UID) *metav1apply.OwnerReferenceApplyConfiguration {
	return metav1apply.OwnerReference().
		WithAPIVersion(pbv1alpha1.GroupVersion.String()).
		WithKind(kind).
		WithName(name).
		WithUID(uid).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// BackupPrefix is the key prefix of pbi's backups in its bucket: the one in the spec, or
// "<namespace>/<name>/" so tenants sharing a bucket never see each other's backups.
func BackupPrefix(pbi *pbv1alpha1.PocketBaseInstance, dest pbv1alpha1.S3Destination) string {
	if dest.Prefix != nil {
		return *dest.Prefix
	}
	return pbi.Namespace + "/" + pbi.Name + "/"
}
