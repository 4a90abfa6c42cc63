package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	pbapply "github.com/pocketfleet/pocketfleet/api/v1alpha1/applyconfiguration/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/operator/internal/metrics"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
	"github.com/pocketfleet/pocketfleet/operator/internal/status"
)

// BackupControllerName names the PocketBaseBackup controller in logs, metrics and events.
const BackupControllerName = "pocketbasebackup"

// backupInstanceIndex indexes PocketBaseBackups by spec.instanceName in the cache.
const backupInstanceIndex = "spec.instanceName"

// defaultBackupTimeout bounds a backup Job when BackupTimeout is zero.
const defaultBackupTimeout = 2 * time.Hour

// backupWaitRecheck is how soon a backup that waits (for its instance to become Ready,
// or for another backup of it) looks again besides the watches that wake it.
const backupWaitRecheck = 30 * time.Second

// maxMessageLength bounds the failure messages copied from a Job's log tail into the
// status (the CRD allows 4096 bytes).
const maxMessageLength = 1024

// PocketBaseBackupReconciler takes one backup per PocketBaseBackup: it checks the
// instance and its destination, runs the push Job, and records the Job's outcome. It never
// talks to S3 and never reads the S3 credentials.
type PocketBaseBackupReconciler struct {
	client.Client
	// APIReader reads what the cache does not hold or may not hold yet: users' Secrets,
	// the backup Job's pods, the backups of an instance before one starts.
	APIReader client.Reader
	// Recorder emits events on the backup and its instance.
	Recorder events.EventRecorder
	// DefaultImage is the instance image used when the instance reports none.
	DefaultImage string
	// BackupTimeout bounds a backup Job's run time; 0 means two hours.
	BackupTimeout time.Duration
	// Metrics counts finished backups; nil records none.
	Metrics *metrics.Backups
	// MaxConcurrentReconciles bounds parallel passes; 0 means controller-runtime's default.
	MaxConcurrentReconciles int
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	// starting serialises the start of backups per instance, so two Pending backups of
	// one instance never both start.
	starting sync.Map
}

func (r *PocketBaseBackupReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbasebackups,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbasebackups/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbasebackups/finalizers,verbs=update
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;patch;delete

// Reconcile moves one PocketBaseBackup through its phases. Completed and Failed are
// final: later passes only apply the instance's retention.
func (r *PocketBaseBackupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	b := &pbv1alpha1.PocketBaseBackup{}
	if err := r.Get(ctx, req.NamespacedName, b); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("pocketbasebackup", klog.KObj(b)))
	if !b.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	var res ctrl.Result
	var err error
	switch b.Status.Phase {
	case pbv1alpha1.BackupCompleted:
		err = r.applyRetention(ctx, b)
	case pbv1alpha1.BackupFailed:
	case pbv1alpha1.BackupRunning:
		err = r.observeJob(ctx, b)
	default:
		res, err = r.start(ctx, b)
	}
	if apierrors.IsConflict(err) {
		// The backup changed since it was read; its update event brings a new pass.
		return ctrl.Result{}, nil
	}
	return res, err
}

// start checks a Pending backup and creates its Job, or fails it, or lets it wait.
func (r *PocketBaseBackupReconciler) start(ctx context.Context, b *pbv1alpha1.PocketBaseBackup) (ctrl.Result, error) {
	lock, _ := r.starting.LoadOrStore(b.Namespace+"/"+b.Spec.InstanceName, &sync.Mutex{})
	lock.(*sync.Mutex).Lock()
	defer lock.(*sync.Mutex).Unlock()

	// note: read live, not from the cache: a refusal is final, and a backup created right
	// after its instance (or its spec.backup) may reach here before the informer has it.
	pbi := &pbv1alpha1.PocketBaseInstance{}
	switch err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: b.Namespace, Name: b.Spec.InstanceName}, pbi); {
	case apierrors.IsNotFound(err):
		return ctrl.Result{}, r.fail(ctx, b, nil, fmt.Sprintf("PocketBaseInstance %s does not exist.", b.Spec.InstanceName))
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("getting instance: %w", err)
	}
	if pbi.Spec.Backup == nil {
		return ctrl.Result{}, r.fail(ctx, b, pbi, fmt.Sprintf("PocketBaseInstance %s has no spec.backup: set its destination to take backups.", pbi.Name))
	}
	dest := pbi.Spec.Backup.Destination.S3
	if msg, err := r.checkCredentials(ctx, pbi.Namespace, dest); err != nil {
		return ctrl.Result{}, err
	} else if msg != "" {
		return ctrl.Result{}, r.fail(ctx, b, pbi, msg)
	}
	if pbi.Hibernated() {
		return ctrl.Result{}, r.fail(ctx, b, pbi, fmt.Sprintf("PocketBaseInstance %s is hibernated; its newest backup is current.", pbi.Name))
	}
	if running, err := r.runningBackup(ctx, b); err != nil {
		return ctrl.Result{}, err
	} else if running != "" {
		return r.wait(ctx, b, fmt.Sprintf("Waiting for backup %s of PocketBaseInstance %s to finish: an instance runs one backup at a time.", running, pbi.Name))
	}
	if !status.IsReady(pbi.Status.Conditions) {
		return r.wait(ctx, b, fmt.Sprintf("Waiting for PocketBaseInstance %s to be Ready.", pbi.Name))
	}
	email, msg, err := r.superuserEmail(ctx, pbi)
	if err != nil {
		return ctrl.Result{}, err
	}
	if msg != "" {
		return ctrl.Result{}, r.fail(ctx, b, pbi, msg)
	}

	prefix := specs.BackupPrefix(pbi, dest)
	recorded := dest.DeepCopy()
	recorded.Prefix = &prefix
	name := backupJobName(b)
	image := pbi.Status.Image
	if image == "" {
		image = specs.Image(pbi, r.DefaultImage)
	}
	ret := pbi.Spec.Backup.Retention
	keepLast, maxAge := 0, ""
	if ret.KeepLast != nil {
		keepLast = int(*ret.KeepLast)
	}
	if ret.MaxAge != nil {
		maxAge = *ret.MaxAge
	}
	timeout := r.BackupTimeout
	if timeout == 0 {
		timeout = defaultBackupTimeout
	}
	job := specs.Job(pbi, specs.JobInputs{
		Name:      name,
		Component: specs.ComponentBackup,
		Owner:     specs.ControllerReference("PocketBaseBackup", b.Name, b.UID),
		Image:     image,
		Args: contract.BackupPushArgs(fmt.Sprintf("http://%s.%s.svc:%d", pbi.ChildName(), pbi.Namespace, contract.HTTPPort),
			b.Name+".zip", keepLast, maxAge),
		S3:                    dest,
		Prefix:                prefix,
		Superuser:             &email,
		ActiveDeadlineSeconds: int64(timeout / time.Second),
	})
	// note: the Job is created before the status says Running, so a failed status write
	// only repeats an idempotent apply; the reverse order could leave a Running backup
	// without a Job.
	if err := r.Apply(ctx, job, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return ctrl.Result{}, fmt.Errorf("applying backup job: %w", err)
	}
	st := pbv1alpha1.PocketBaseBackupStatus{
		Phase:       pbv1alpha1.BackupRunning,
		Message:     fmt.Sprintf("Backup Job %s is running.", name),
		StartedAt:   &metav1.Time{Time: r.now().Truncate(time.Second)},
		JobName:     name,
		Destination: recorded,
		Key:         prefix + b.Name + ".zip",
	}
	if err := r.writeStatus(ctx, b, st); err != nil {
		return ctrl.Result{}, err
	}
	ctrl.LoggerFrom(ctx).Info("Started backup Job", "job", klog.KRef(b.Namespace, name))
	r.Recorder.Eventf(b, pbi, corev1.EventTypeNormal, "BackupStarted", "Backup", "Backup Job %s started for PocketBaseInstance %s.", name, pbi.Name)
	return ctrl.Result{}, nil
}

// checkCredentials says what is wrong with the destination's credentials Secret, or ""
// when it holds both keys. It looks at the keys only, never at their values.
func (r *PocketBaseBackupReconciler) checkCredentials(ctx context.Context, ns string, dest pbv1alpha1.S3Destination) (string, error) {
	return credentialsProblem(ctx, r.APIReader, ns, dest)
}

// credentialsProblem says what is wrong with dest's credentials Secret in ns, or "".
func credentialsProblem(ctx context.Context, reader client.Reader, ns string, dest pbv1alpha1.S3Destination) (string, error) {
	name := dest.CredentialsSecretRef.Name
	secret := &corev1.Secret{}
	switch err := reader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, secret); {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("S3 credentials Secret %s named in spec.backup.destination.s3.credentialsSecretRef does not exist.", name), nil
	case err != nil:
		return "", fmt.Errorf("getting S3 credentials secret: %w", err)
	}
	for _, k := range []string{contract.SecretKeyS3AccessKeyID, contract.SecretKeyS3SecretAccessKey} {
		if len(secret.Data[k]) == 0 {
			return fmt.Sprintf("S3 credentials Secret %s has no %q key (it needs %q and %q).",
				name, k, contract.SecretKeyS3AccessKeyID, contract.SecretKeyS3SecretAccessKey), nil
		}
	}
	return "", nil
}

// superuserEmail says where the push Job reads the superuser's email, as the instance
// pod does: from the superuser Secret when it has the key, else the spec's literal.
func (r *PocketBaseBackupReconciler) superuserEmail(ctx context.Context, pbi *pbv1alpha1.PocketBaseInstance) (specs.SuperuserEmail, string, error) {
	if pbi.GeneratesSuperuserSecret() {
		return specs.SuperuserEmail{FromSecret: true}, "", nil
	}
	secret := &corev1.Secret{}
	switch err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: pbi.Namespace, Name: pbi.SuperuserSecretName()}, secret); {
	case apierrors.IsNotFound(err):
		return specs.SuperuserEmail{}, fmt.Sprintf("Superuser Secret %s of PocketBaseInstance %s does not exist.", pbi.SuperuserSecretName(), pbi.Name), nil
	case err != nil:
		return specs.SuperuserEmail{}, "", fmt.Errorf("getting superuser secret: %w", err)
	}
	if len(secret.Data[contract.SecretKeyEmail]) > 0 {
		return specs.SuperuserEmail{FromSecret: true}, "", nil
	}
	return specs.SuperuserEmail{Value: pbi.Spec.Superuser.Email}, "", nil
}

// runningBackup names another Running backup of b's instance, read from the API server
// so a backup that just started is never missed; "" when none runs.
func (r *PocketBaseBackupReconciler) runningBackup(ctx context.Context, b *pbv1alpha1.PocketBaseBackup) (string, error) {
	list := &pbv1alpha1.PocketBaseBackupList{}
	// note: spec.instanceName is a selectable field of the CRD, so the API server sends
	// only this instance's backups, not the namespace's.
	if err := r.APIReader.List(ctx, list, client.InNamespace(b.Namespace),
		client.MatchingFields{backupInstanceIndex: b.Spec.InstanceName}); err != nil {
		return "", fmt.Errorf("listing backups: %w", err)
	}
	for _, o := range list.Items {
		if o.Name != b.Name && o.Spec.InstanceName == b.Spec.InstanceName && o.Status.Phase == pbv1alpha1.BackupRunning {
			return o.Name, nil
		}
	}
	return "", nil
}

// wait keeps b Pending with a message and looks again later.
func (r *PocketBaseBackupReconciler) wait(ctx context.Context, b *pbv1alpha1.PocketBaseBackup, msg string) (ctrl.Result, error) {
	st := pbv1alpha1.PocketBaseBackupStatus{Phase: pbv1alpha1.BackupPending, Message: msg}
	return ctrl.Result{RequeueAfter: backupWaitRecheck}, r.writeStatus(ctx, b, st)
}

// fail ends b as Failed before it ran, with events on it and on its instance (when there
// is one).
func (r *PocketBaseBackupReconciler) fail(ctx context.Context, b *pbv1alpha1.PocketBaseBackup, pbi *pbv1alpha1.PocketBaseInstance, msg string) error {
	st := pbv1alpha1.PocketBaseBackupStatus{
		Phase: pbv1alpha1.BackupFailed, Message: msg,
		CompletedAt: &metav1.Time{Time: r.now().Truncate(time.Second)},
	}
	return r.finish(ctx, b, pbi, st)
}

// finish writes a final status, then records events and metrics: after the write, so a
// retried pass does not count the same backup twice.
func (r *PocketBaseBackupReconciler) finish(ctx context.Context, b *pbv1alpha1.PocketBaseBackup, pbi *pbv1alpha1.PocketBaseInstance, st pbv1alpha1.PocketBaseBackupStatus) error {
	if err := r.writeStatus(ctx, b, st); err != nil {
		return err
	}
	var duration time.Duration
	if st.StartedAt != nil && st.CompletedAt != nil {
		duration = st.CompletedAt.Sub(st.StartedAt.Time)
	}
	var instance client.Object
	if pbi != nil {
		instance = pbi
	}
	if st.Phase == pbv1alpha1.BackupCompleted {
		ctrl.LoggerFrom(ctx).Info("Backup completed", "location", st.Location, "sizeBytes", st.SizeBytes)
		note := fmt.Sprintf("Backup %s completed: %s (%d bytes).", b.Name, st.Location, st.SizeBytes)
		r.Recorder.Eventf(b, instance, corev1.EventTypeNormal, "BackupCompleted", "Backup", "%s", truncate(note, maxEventNote))
		if pbi != nil {
			r.Recorder.Eventf(pbi, b, corev1.EventTypeNormal, "BackupCompleted", "Backup", "%s", truncate(note, maxEventNote))
		}
		if st.Message != "" {
			r.Recorder.Eventf(b, instance, corev1.EventTypeWarning, "BackupCleanupFailed", "Backup", "%s", truncate(st.Message, maxEventNote))
			if pbi != nil {
				r.Recorder.Eventf(pbi, b, corev1.EventTypeWarning, "BackupCleanupFailed", "Backup", "%s", truncate(st.Message, maxEventNote))
			}
		}
		r.Metrics.Completed(duration, st.SizeBytes)
		return nil
	}
	ctrl.LoggerFrom(ctx).Info("Backup failed", "message", st.Message)
	note := fmt.Sprintf("Backup %s failed: %s", b.Name, st.Message)
	r.Recorder.Eventf(b, instance, corev1.EventTypeWarning, "BackupFailed", "Backup", "%s", truncate(note, maxEventNote))
	if pbi != nil {
		r.Recorder.Eventf(pbi, b, corev1.EventTypeWarning, "BackupFailed", "Backup", "%s", truncate(note, maxEventNote))
	}
	r.Metrics.Failed(duration)
	return nil
}

// observeJob records the outcome of a Running backup's Job once it finished.
func (r *PocketBaseBackupReconciler) observeJob(ctx context.Context, b *pbv1alpha1.PocketBaseBackup) error {
	pbi := &pbv1alpha1.PocketBaseInstance{}
	switch err := r.Get(ctx, types.NamespacedName{Namespace: b.Namespace, Name: b.Spec.InstanceName}, pbi); {
	case apierrors.IsNotFound(err):
		pbi = nil
	case err != nil:
		return fmt.Errorf("getting instance: %w", err)
	}
	st := *b.Status.DeepCopy()
	st.CompletedAt = &metav1.Time{Time: r.now().Truncate(time.Second)}
	st.Phase = pbv1alpha1.BackupFailed

	job := &batchv1.Job{}
	jobKey := types.NamespacedName{Namespace: b.Namespace, Name: b.Status.JobName}
	err := r.Get(ctx, jobKey, job)
	if apierrors.IsNotFound(err) {
		// note: the cache may not have seen a Job created a moment ago.
		err = r.APIReader.Get(ctx, jobKey, job)
	}
	switch {
	case apierrors.IsNotFound(err):
		st.Message = fmt.Sprintf("Backup Job %s disappeared before its outcome was read.", b.Status.JobName)
		return r.finish(ctx, b, pbi, st)
	case err != nil:
		return fmt.Errorf("getting backup job: %w", err)
	}
	finished, cond := jobFinished(job)
	if finished == "" {
		return nil
	}
	result, raw, err := r.jobResult(ctx, job)
	if err != nil {
		return err
	}
	if result != nil && result.CompletedAt != "" {
		if t, err := time.Parse(time.RFC3339, result.CompletedAt); err == nil {
			st.CompletedAt = &metav1.Time{Time: t.UTC().Truncate(time.Second)}
		}
	} else if cond != nil && !cond.LastTransitionTime.IsZero() {
		st.CompletedAt = &metav1.Time{Time: cond.LastTransitionTime.UTC()}
	}
	switch {
	// note: a push whose backup was stored but whose retention (or the removal of the
	// instance's local copy) failed exits 1 with the stored backup in its result: the
	// backup is there and verifiable, so it is Completed, with the error as message.
	case result != nil && result.Location != "" && result.Key != "" && result.SHA256 != "" &&
		(finished == batchv1.JobComplete || result.Error != ""):
		st.Phase = pbv1alpha1.BackupCompleted
		st.Message = ""
		if result.Error != "" {
			st.Message = "The backup is stored, but the Job then failed: " + logTail(result.Error)
		}
		st.Location = result.Location
		st.Key = result.Key
		st.SizeBytes = result.SizeBytes
		st.SHA256 = result.SHA256
	case result != nil && result.Error != "":
		st.Message = logTail(result.Error)
	case raw != "":
		st.Message = fmt.Sprintf("Backup Job %s failed: %s", job.Name, logTail(raw))
	case finished == batchv1.JobComplete:
		st.Message = fmt.Sprintf("Backup Job %s completed without writing a result.", job.Name)
	default:
		st.Message = fmt.Sprintf("Backup Job %s failed: %s: %s", job.Name, cond.Reason, cond.Message)
	}
	if err := r.finish(ctx, b, pbi, st); err != nil {
		return err
	}
	if st.Phase == pbv1alpha1.BackupCompleted {
		b.Status = st
		return r.applyRetention(ctx, b)
	}
	return nil
}

// jobFinished says whether the Job finished (JobComplete or JobFailed, "" while it runs)
// and returns that condition.
func jobFinished(job *batchv1.Job) (batchv1.JobConditionType, *batchv1.JobCondition) {
	for i := range job.Status.Conditions {
		c := &job.Status.Conditions[i]
		if c.Status == corev1.ConditionTrue && (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) {
			return c.Type, c
		}
	}
	return "", nil
}

// jobResult reads the BackupResult the Job's container left in its termination message.
// With FallbackToLogsOnError a container that died without writing one leaves the tail
// of its log instead, returned as raw. Both are empty when no pod terminated.
func (r *PocketBaseBackupReconciler) jobResult(ctx context.Context, job *batchv1.Job) (*contract.BackupResult, string, error) {
	pods := &corev1.PodList{}
	// note: read from the API server: the pod cache may lag behind the Job's status.
	if err := r.APIReader.List(ctx, pods, client.InNamespace(job.Namespace),
		client.MatchingLabels{batchv1.ControllerUidLabel: string(job.UID)}); err != nil {
		return nil, "", fmt.Errorf("listing backup job pods: %w", err)
	}
	slices.SortFunc(pods.Items, func(a, b corev1.Pod) int {
		return b.CreationTimestamp.Compare(a.CreationTimestamp.Time)
	})
	for _, pod := range pods.Items {
		for _, cs := range pod.Status.ContainerStatuses {
			t := cs.State.Terminated
			if cs.Name != specs.JobContainerName || t == nil || t.Message == "" {
				continue
			}
			res, err := parseBackupResult(t.Message)
			if err != nil {
				return nil, t.Message, nil
			}
			return res, "", nil
		}
	}
	return nil, "", nil
}

// logTail keeps the end of a long message, where a log says what went wrong.
func logTail(s string) string {
	if len(s) <= maxMessageLength {
		return s
	}
	return "…" + strings.ToValidUTF8(s[len(s)-maxMessageLength:], "")
}

// writeStatus applies b's status when it differs from next.
func (r *PocketBaseBackupReconciler) writeStatus(ctx context.Context, b *pbv1alpha1.PocketBaseBackup, next pbv1alpha1.PocketBaseBackupStatus) error {
	if equality.Semantic.DeepEqual(b.Status, next) {
		return nil
	}
	st := &pbapply.PocketBaseBackupStatusApplyConfiguration{}
	if err := convert(next, st); err != nil {
		return err
	}
	// note: the resourceVersion makes the apply conditional, so a pass that read a stale
	// backup (from a lagging cache, say) cannot undo a newer status or record its events
	// and metrics twice; it gets a conflict, and the newer version's event brings a pass.
	ac := pbapply.PocketBaseBackup(b.Name, b.Namespace).WithResourceVersion(b.ResourceVersion).WithStatus(st)
	if err := r.Status().Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("writing backup status: %w", err)
	}
	b.Status = next
	if ac.ResourceVersion != nil {
		b.ResourceVersion = *ac.ResourceVersion
	}
	return nil
}

// applyRetention deletes the PocketBaseBackups of b's instance that its retention drops.
func (r *PocketBaseBackupReconciler) applyRetention(ctx context.Context, b *pbv1alpha1.PocketBaseBackup) error {
	pbi := &pbv1alpha1.PocketBaseInstance{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: b.Namespace, Name: b.Spec.InstanceName}, pbi); err != nil {
		// note: a deleted instance's backups are all kept, to clone or restore it later.
		return client.IgnoreNotFound(err)
	}
	if pbi.Spec.Backup == nil {
		return nil
	}
	list := &pbv1alpha1.PocketBaseBackupList{}
	if err := r.List(ctx, list, client.InNamespace(b.Namespace), client.MatchingFields{backupInstanceIndex: pbi.Name}); err != nil {
		return fmt.Errorf("listing backups: %w", err)
	}
	dest := pbi.Spec.Backup.Destination.S3
	prefix := specs.BackupPrefix(pbi, dest)
	dest.Prefix = &prefix
	drop, err := prunedBackups(list.Items, pbi.Spec.Backup.Retention, dest)
	if err != nil {
		return err
	}
	var names []string
	for _, o := range drop {
		if err := r.Delete(ctx, o, client.Preconditions{UID: &o.UID}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting backup %s: %w", o.Name, err)
		}
		names = append(names, o.Name)
	}
	if len(names) > 0 {
		ctrl.LoggerFrom(ctx).Info("Pruned backups by retention", "pocketbaseinstance", klog.KObj(pbi), "backups", names)
		r.Recorder.Eventf(pbi, nil, corev1.EventTypeNormal, "BackupsPruned", "Prune", "%s",
			truncate(fmt.Sprintf("Retention deleted %d PocketBaseBackups: %v.", len(names), names), maxEventNote))
	}
	return nil
}

// backupJobName is the name of b's Job: "<backup>-backup", or, when that is longer than
// the 63 characters the Job controller's pod labels allow, the backup's name cut short
// and followed by a hash of the whole name, so distinct backups keep distinct Jobs.
func backupJobName(b *pbv1alpha1.PocketBaseBackup) string {
	const suffix, limit = "-backup", 63
	if len(b.Name)+len(suffix) <= limit {
		return b.Name + suffix
	}
	sum := sha256.Sum256([]byte(b.Name))
	hash := hex.EncodeToString(sum[:])[:8]
	cut := strings.TrimRight(b.Name[:limit-len(suffix)-len(hash)-1], "-.")
	return cut + "-" + hash + suffix
}

// setupWithManager registers the controller and its watches; SetupBackupControllers
// calls it after indexing backups by instance.
func (r *PocketBaseBackupReconciler) setupWithManager(mgr ctrl.Manager) error {
	// A Pending backup waits for its instance to become Ready and for the other backups
	// of the instance to finish: both wake it.
	pendingOfInstance := func(ctx context.Context, ns, instance, except string) []reconcile.Request {
		list := &pbv1alpha1.PocketBaseBackupList{}
		if err := r.List(ctx, list, client.InNamespace(ns), client.MatchingFields{backupInstanceIndex: instance}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Failed to list backups of an instance", "pocketbaseinstance", klog.KRef(ns, instance))
			return nil
		}
		var reqs []reconcile.Request
		for _, o := range list.Items {
			if o.Name != except && (o.Status.Phase == "" || o.Status.Phase == pbv1alpha1.BackupPending) {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&o)})
			}
		}
		return reqs
	}
	byInstance := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		return pendingOfInstance(ctx, o.GetNamespace(), o.GetName(), "")
	})
	bySibling := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		b, ok := o.(*pbv1alpha1.PocketBaseBackup)
		if !ok || (b.Status.Phase != pbv1alpha1.BackupCompleted && b.Status.Phase != pbv1alpha1.BackupFailed) {
			return nil
		}
		return pendingOfInstance(ctx, b.Namespace, b.Spec.InstanceName, b.Name)
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&pbv1alpha1.PocketBaseBackup{}).
		Owns(&batchv1.Job{}).
		Watches(&pbv1alpha1.PocketBaseInstance{}, byInstance).
		Watches(&pbv1alpha1.PocketBaseBackup{}, bySibling).
		Named(BackupControllerName).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

// SetupBackupControllers indexes PocketBaseBackups by instance in the cache, which both
// controllers use, and registers the PocketBaseBackup controller and the backup schedule.
func SetupBackupControllers(mgr ctrl.Manager, backups *PocketBaseBackupReconciler, schedule *BackupScheduleReconciler) error {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), &pbv1alpha1.PocketBaseBackup{}, backupInstanceIndex,
		func(o client.Object) []string {
			return []string{o.(*pbv1alpha1.PocketBaseBackup).Spec.InstanceName}
		})
	if err != nil {
		return fmt.Errorf("indexing backups by instance: %w", err)
	}
	if err := backups.setupWithManager(mgr); err != nil {
		return err
	}
	return schedule.setupWithManager(mgr)
}

// parseBackupResult decodes a termination message written by the push command.
func parseBackupResult(msg string) (*contract.BackupResult, error) {
	res := &contract.BackupResult{}
	dec := json.NewDecoder(strings.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(res); err != nil {
		return nil, fmt.Errorf("decoding backup result: %w", err)
	}
	return res, nil
}
