package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	batchapplyv1 "k8s.io/client-go/applyconfigurations/batch/v1"
	metav1apply "k8s.io/client-go/applyconfigurations/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// restoreInstanceField indexes PocketBaseRestores by spec.instanceName in the cache, so
// the instance reconciler finds the restores of one instance without a namespace scan.
const restoreInstanceField = ".spec.instanceName"

// restoreJobDeadline bounds a restore Job, and so the tenant's downtime, when the
// bucket is unreachable or the download hangs.
const restoreJobDeadline = int64(3 * 3600)

// restoreFailureWindow is how long a failed in-place restore keeps the instance
// Degraded with reason RestoreFailed, unless a later restore completes first. The
// instance itself runs again at once, on its previous data.
const restoreFailureWindow = time.Hour

// SetupIndexes registers the cache indexes the reconcilers list by. Call it once per
// manager, before setting up the reconcilers.
func SetupIndexes(ctx context.Context, mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &pbv1alpha1.PocketBaseRestore{}, restoreInstanceField, restoreInstanceName); err != nil {
		return fmt.Errorf("indexing restores by instance: %w", err)
	}
	return nil
}

func restoreInstanceName(o client.Object) []string {
	return []string{o.(*pbv1alpha1.PocketBaseRestore).Spec.InstanceName}
}

// restoreSource is a backup resolved to the bucket and object a restore Job reads.
type restoreSource struct {
	dest pbv1alpha1.S3Destination
	key  string
	// what names the source in messages.
	what string
}

// backupSource resolves a PocketBaseBackup of the namespace. invalid says, for a person,
// why it cannot be restored; it is empty when it can.
func backupSource(ctx context.Context, reader client.Reader, ns, name string) (src *restoreSource, invalid string, err error) {
	b := &pbv1alpha1.PocketBaseBackup{}
	switch err := reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, b); {
	case apierrors.IsNotFound(err):
		return nil, fmt.Sprintf("PocketBaseBackup %q does not exist in namespace %s.", name, ns), nil
	case err != nil:
		return nil, "", fmt.Errorf("getting backup %s: %w", name, err)
	}
	if b.Status.Phase != pbv1alpha1.BackupCompleted || b.Status.Destination == nil || b.Status.Key == "" {
		phase := b.Status.Phase
		if phase == "" {
			phase = pbv1alpha1.BackupPending
		}
		return nil, fmt.Sprintf("PocketBaseBackup %q has not completed (phase %s); only a completed backup can be restored.", name, phase), nil
	}
	return &restoreSource{dest: *b.Status.Destination, key: b.Status.Key, what: fmt.Sprintf("PocketBaseBackup %s (%s)", name, b.Status.Location)}, "", nil
}

// checkCredentials makes sure the destination's credentials Secret exists in ns with
// both keys. It looks at the key names only; the values are never used or logged.
func checkCredentials(ctx context.Context, reader client.Reader, ns string, dest pbv1alpha1.S3Destination) (invalid string, err error) {
	name := dest.CredentialsSecretRef.Name
	s := &corev1.Secret{}
	switch err := reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("The S3 credentials Secret %q does not exist in namespace %s.", name, ns), nil
	case err != nil:
		return "", fmt.Errorf("getting credentials secret %s: %w", name, err)
	}
	var missing []string
	for _, k := range []string{contract.SecretKeyS3AccessKeyID, contract.SecretKeyS3SecretAccessKey} {
		if _, ok := s.Data[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("The S3 credentials Secret %q lacks the key(s) %s.", name, strings.Join(missing, ", ")), nil
	}
	return "", nil
}

// instanceStopped reports whether nothing else writes to the data volume, so a restore
// Job may: the StatefulSet asks for zero replicas and its controller has seen that (so
// it creates no pod), pod <name>-0 is gone, and no other restore pod of the instance (a
// bootstrap, or one of a restore deleted mid-flight) still runs. All are read from the
// API server, not the cache: a stale cache must never let two writers share the volume.
// wait says what is still awaited.
func instanceStopped(ctx context.Context, reader client.Reader, pbi *pbv1alpha1.PocketBaseInstance) (stopped bool, wait string, err error) {
	sts := &appsv1.StatefulSet{}
	switch err := reader.Get(ctx, client.ObjectKey{Namespace: pbi.Namespace, Name: pbi.ChildName()}, sts); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return false, "", fmt.Errorf("getting statefulset: %w", err)
	case sts.Spec.Replicas == nil || *sts.Spec.Replicas != 0:
		return false, fmt.Sprintf("Waiting for StatefulSet %s to scale to zero.", sts.Name), nil
	case sts.Status.ObservedGeneration < sts.Generation:
		return false, fmt.Sprintf("Waiting for the StatefulSet controller to observe the scale-down of %s.", sts.Name), nil
	}
	pod := pbi.ChildName() + "-0"
	switch err := reader.Get(ctx, client.ObjectKey{Namespace: pbi.Namespace, Name: pod}, &corev1.Pod{}); {
	case err == nil:
		return false, fmt.Sprintf("Waiting for pod %s to stop.", pod), nil
	case !apierrors.IsNotFound(err):
		return false, "", fmt.Errorf("getting pod %s: %w", pod, err)
	}
	pods := &corev1.PodList{}
	if err := reader.List(ctx, pods, client.InNamespace(pbi.Namespace), client.MatchingLabels(specs.Labels(pbi, specs.ComponentRestore))); err != nil {
		return false, "", fmt.Errorf("listing restore pods: %w", err)
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			return false, fmt.Sprintf("Waiting for restore pod %s to finish.", p.Name), nil
		}
	}
	return true, "", nil
}

// restoreJob is the Job restoring src into pbi's data volume, controlled by owner.
// ifEmpty makes it a bootstrap that leaves a volume holding a database alone.
func restoreJob(pbi *pbv1alpha1.PocketBaseInstance, name, image string, src *restoreSource, ifEmpty bool,
	owner *metav1apply.OwnerReferenceApplyConfiguration) *batchapplyv1.JobApplyConfiguration {
	// note: the key is the whole object key, so the destination's prefix plays no part.
	return specs.Job(pbi, specs.JobInputs{
		Name:                  name,
		Component:             specs.ComponentRestore,
		Owner:                 owner,
		Image:                 image,
		Args:                  contract.BackupRestoreArgs(contract.DataDir, src.key, ifEmpty),
		S3:                    src.dest,
		MountData:             true,
		ActiveDeadlineSeconds: restoreJobDeadline,
	})
}

// jobOutcome is how a restore Job ended.
type jobOutcome struct {
	// finished is true once the Job is Complete or Failed (its pods have stopped).
	finished bool
	// succeeded is true when it completed and its result reports no error.
	succeeded bool
	// result is what the container wrote to its termination message.
	result contract.BackupResult
	// message says why it failed.
	message string
}

// describe is " (<size> bytes, sha256 <hex>)" when the result says so, else "".
func (o jobOutcome) describe() string {
	if o.result.SHA256 == "" {
		return ""
	}
	return fmt.Sprintf(" (%d bytes, sha256 %s)", o.result.SizeBytes, o.result.SHA256)
}

// maxLogTail bounds the log tail quoted from a container that died without a result.
const maxLogTail = 1024

// readJobOutcome reads a finished Job's result from its pod's terminated container:
// the contract.BackupResult JSON, or, when the container died without writing one, the
// tail of its log that FallbackToLogsOnError put there. The pods are read from the API
// server, since the Job's final condition may reach the cache before its pod does.
func readJobOutcome(ctx context.Context, reader client.Reader, job *batchv1.Job) (jobOutcome, error) {
	var out jobOutcome
	var cond *batchv1.JobCondition
	for i, c := range job.Status.Conditions {
		if c.Status == corev1.ConditionTrue && (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) {
			cond = &job.Status.Conditions[i]
		}
	}
	if cond == nil {
		return out, nil
	}
	out.finished = true
	pods := &corev1.PodList{}
	if err := reader.List(ctx, pods, client.InNamespace(job.Namespace), client.MatchingLabels{batchv1.JobNameLabel: job.Name}); err != nil {
		return out, fmt.Errorf("listing pods of job %s: %w", job.Name, err)
	}
	var last *corev1.ContainerStateTerminated
	for i := range pods.Items {
		if pods.Items[i].Labels[batchv1.ControllerUidLabel] != "" && types.UID(pods.Items[i].Labels[batchv1.ControllerUidLabel]) != job.UID {
			continue
		}
		for _, cs := range pods.Items[i].Status.ContainerStatuses {
			if t := cs.State.Terminated; cs.Name == specs.JobContainerName && t != nil &&
				(last == nil || t.FinishedAt.After(last.FinishedAt.Time)) {
				last = t
			}
		}
	}
	msg := ""
	if last != nil {
		msg = strings.TrimSpace(last.Message)
	}
	parsed := msg != "" && json.Unmarshal([]byte(msg), &out.result) == nil
	// note: the command exits 0 only when it succeeded, so a completed Job succeeded
	// even when its result is gone (the pod was deleted); the result adds the details.
	if cond.Type == batchv1.JobComplete && (!parsed || out.result.Error == "") {
		out.succeeded = true
		return out, nil
	}
	switch {
	case parsed && out.result.Error != "":
		out.message = out.result.Error
	case msg != "":
		if len(msg) > maxLogTail {
			start := len(msg) - maxLogTail
			for start < len(msg) && !utf8.RuneStart(msg[start]) {
				start++
			}
			msg = "…" + msg[start:]
		}
		out.message = "the container wrote no result; its log ends with: " + msg
	case last != nil:
		out.message = fmt.Sprintf("the container exited with code %d (%s) without a result", last.ExitCode, last.Reason)
	default:
		out.message = fmt.Sprintf("the Job failed (%s): %s", cond.Reason, cond.Message)
	}
	return out, nil
}

// jobName is base+suffix, shortened with uid to fit the 63 characters a Job's name may
// have (it becomes a label value on its pods).
func jobName(base, suffix string, uid types.UID) string {
	if n := base + suffix; len(n) <= 63 {
		return n
	}
	u := strings.ReplaceAll(string(uid), "-", "")
	if len(u) > 8 {
		u = u[:8]
	}
	return strings.TrimRight(base[:63-len(suffix)-len(u)-1], "-.") + "-" + u + suffix
}
