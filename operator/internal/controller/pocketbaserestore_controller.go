package controller

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	pbapply "github.com/pocketfleet/pocketfleet/api/v1alpha1/applyconfiguration/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// RestoreControllerName names the restore controller in logs, metrics and events.
const RestoreControllerName = "pocketbaserestore"

// restoreJobSuffix names the Job of a restore: "<restore>-restore".
const restoreJobSuffix = "-restore"

// waitRecheck is how often a restore that waits for the instance's pod to stop looks
// again, besides the pod and StatefulSet events that wake it.
const waitRecheck = 10 * time.Second

// PocketBaseRestoreReconciler restores a backup into an instance's data volume in
// place: it validates the restore, marks it Running (which makes the instance
// reconciler stop the pod), runs the restore Job once no pod of the instance exists,
// and records the Job's outcome. The instance reconciler starts the pod again once the
// restore is no longer Running. Completed and Failed are final.
type PocketBaseRestoreReconciler struct {
	client.Client
	// APIReader reads what must be fresh (the instance's StatefulSet and pod before the
	// Job starts, the Job's pod) and what the cache does not hold (users' Secrets).
	APIReader client.Reader
	// Scheme is the manager's scheme.
	Scheme *runtime.Scheme
	// Recorder emits events on the restore and the instance.
	Recorder events.EventRecorder
	// DefaultImage is the instance image used when the instance's spec names none.
	DefaultImage string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// restoreEvent is an event on the restore, repeated on its instance when instance is set.
type restoreEvent struct {
	eventType, reason, note string
	instance                *pbv1alpha1.PocketBaseInstance
}

// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbaserestores,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbaserestores/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbasebackups,verbs=get;list;watch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;update;patch;delete

// Reconcile moves one PocketBaseRestore through Pending, Running and a final phase.
func (r *PocketBaseRestoreReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rs := &pbv1alpha1.PocketBaseRestore{}
	if err := r.Get(ctx, req.NamespacedName, rs); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// note: a restore deleted while Running takes its Job with it (owner reference);
	// the instance reconciler waits for the Job's pod to stop before it starts the
	// instance, whose data is then the old or the restored one, never a mix: the
	// restore command swaps the data in only after it verified the backup.
	if !rs.DeletionTimestamp.IsZero() || rs.Status.Phase == pbv1alpha1.BackupCompleted || rs.Status.Phase == pbv1alpha1.BackupFailed {
		return ctrl.Result{}, nil
	}
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("pocketbaserestore", klog.KObj(rs)))

	// note: a Pending restore reads its instance live: a refusal is final, and a restore
	// created right after its instance may reach here before the informer has it.
	reader := client.Reader(r.Client)
	if rs.Status.Phase != pbv1alpha1.BackupRunning {
		reader = r.APIReader
	}
	pbi := &pbv1alpha1.PocketBaseInstance{}
	switch err := reader.Get(ctx, client.ObjectKey{Namespace: rs.Namespace, Name: rs.Spec.InstanceName}, pbi); {
	case apierrors.IsNotFound(err):
		pbi = nil
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("getting instance: %w", err)
	case !pbi.DeletionTimestamp.IsZero():
		pbi = nil
	}
	if rs.Status.Phase == pbv1alpha1.BackupRunning {
		return r.run(ctx, rs, pbi)
	}
	return ctrl.Result{}, r.start(ctx, rs, pbi)
}

// start validates a new restore and moves it to Running, or to Failed when it cannot
// run; a refused restore leaves the instance untouched.
func (r *PocketBaseRestoreReconciler) start(ctx context.Context, rs *pbv1alpha1.PocketBaseRestore, pbi *pbv1alpha1.PocketBaseInstance) error {
	invalid, err := r.validate(ctx, rs, pbi)
	if err != nil {
		return err
	}
	next := rs.Status.DeepCopy()
	if invalid != "" {
		next.Phase, next.Message, next.CompletedAt = pbv1alpha1.BackupFailed, invalid, r.now()
		return r.writeStatus(ctx, rs, next, restoreEvent{corev1.EventTypeWarning, "RestoreRejected", invalid, pbi})
	}
	next.Phase, next.StartedAt = pbv1alpha1.BackupRunning, r.now()
	next.Message = fmt.Sprintf("Stopping instance %s to restore backup %s.", pbi.Name, rs.Spec.BackupName)
	return r.writeStatus(ctx, rs, next, restoreEvent{corev1.EventTypeNormal, "RestoreStarted",
		fmt.Sprintf("Restore %s started: instance %s is stopped while backup %s is restored into it.", rs.Name, pbi.Name, rs.Spec.BackupName), pbi})
}

// validate says why the restore cannot run, or "" when it can.
func (r *PocketBaseRestoreReconciler) validate(ctx context.Context, rs *pbv1alpha1.PocketBaseRestore, pbi *pbv1alpha1.PocketBaseInstance) (string, error) {
	if pbi == nil {
		return fmt.Sprintf("PocketBaseInstance %q does not exist in namespace %s.", rs.Spec.InstanceName, rs.Namespace), nil
	}
	if pbi.Spec.Bootstrap != nil && !pbi.Status.Bootstrapped {
		return fmt.Sprintf("PocketBaseInstance %s is still being bootstrapped from spec.bootstrap; restore it once it has started.", pbi.Name), nil
	}
	src, invalid, err := backupSource(ctx, r.APIReader, rs.Namespace, rs.Spec.BackupName)
	if err != nil || invalid != "" {
		return invalid, err
	}
	if invalid, err := checkCredentials(ctx, r.APIReader, rs.Namespace, src.dest); err != nil || invalid != "" {
		return invalid, err
	}
	// note: read from the API server, so a restore that just went Running is seen even
	// before the cache has it; restores are reconciled one at a time.
	all := &pbv1alpha1.PocketBaseRestoreList{}
	if err := r.APIReader.List(ctx, all, client.InNamespace(rs.Namespace)); err != nil {
		return "", fmt.Errorf("listing restores: %w", err)
	}
	for _, o := range all.Items {
		if o.Name != rs.Name && o.Spec.InstanceName == rs.Spec.InstanceName && o.Status.Phase == pbv1alpha1.BackupRunning {
			return fmt.Sprintf("Restore %s of instance %s is running; restores of one instance run one at a time.", o.Name, pbi.Name), nil
		}
	}
	return "", nil
}

// run drives a Running restore: wait for the pod to stop, run the Job, read its outcome.
func (r *PocketBaseRestoreReconciler) run(ctx context.Context, rs *pbv1alpha1.PocketBaseRestore, pbi *pbv1alpha1.PocketBaseInstance) (ctrl.Result, error) {
	next := rs.Status.DeepCopy()
	if pbi == nil {
		next.Phase, next.CompletedAt = pbv1alpha1.BackupFailed, r.now()
		next.Message = fmt.Sprintf("PocketBaseInstance %q was deleted during the restore.", rs.Spec.InstanceName)
		return ctrl.Result{}, r.writeStatus(ctx, rs, next, restoreEvent{corev1.EventTypeWarning, pbv1alpha1.ReasonRestoreFailed, next.Message, nil})
	}
	name := jobName(rs.Name, restoreJobSuffix, rs.UID)
	if rs.Status.JobName == "" {
		return r.startJob(ctx, rs, pbi, name)
	}

	job := &batchv1.Job{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: rs.Namespace, Name: name}, job); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("getting restore job: %w", err)
		}
		// note: the cache may not have the Job it just created; ask the API server.
		if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: rs.Namespace, Name: name}, job); !apierrors.IsNotFound(err) {
			return ctrl.Result{RequeueAfter: waitRecheck}, client.IgnoreNotFound(err)
		}
		next.Phase, next.CompletedAt = pbv1alpha1.BackupFailed, r.now()
		next.Message = fmt.Sprintf("Restore Job %s was deleted before it reported; the instance starts on the data its volume holds, the old or the restored (the restore swaps it in all at once).", name)
		return ctrl.Result{}, r.writeStatus(ctx, rs, next, restoreEvent{corev1.EventTypeWarning, pbv1alpha1.ReasonRestoreFailed, next.Message, pbi})
	}
	out, err := readJobOutcome(ctx, r.APIReader, job)
	if err != nil || !out.finished {
		return ctrl.Result{}, err
	}
	next.CompletedAt = r.now()
	if !out.succeeded {
		next.Phase = pbv1alpha1.BackupFailed
		next.Message = fmt.Sprintf("Restore Job %s failed: %s The instance's data was not changed; it starts again on it.", name, out.message)
		return ctrl.Result{}, r.writeStatus(ctx, rs, next, restoreEvent{corev1.EventTypeWarning, pbv1alpha1.ReasonRestoreFailed, next.Message, pbi})
	}
	next.Phase = pbv1alpha1.BackupCompleted
	next.Message = fmt.Sprintf("Restored backup %s into instance %s%s.", rs.Spec.BackupName, pbi.Name, out.describe())
	return ctrl.Result{}, r.writeStatus(ctx, rs, next, restoreEvent{corev1.EventTypeNormal, "RestoreCompleted", next.Message, pbi})
}

// startJob creates the restore Job once no pod of the instance exists.
func (r *PocketBaseRestoreReconciler) startJob(ctx context.Context, rs *pbv1alpha1.PocketBaseRestore, pbi *pbv1alpha1.PocketBaseInstance, name string) (ctrl.Result, error) {
	next := rs.Status.DeepCopy()
	stopped, wait, err := instanceStopped(ctx, r.APIReader, pbi)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !stopped {
		next.Message = wait
		return ctrl.Result{RequeueAfter: waitRecheck}, r.writeStatus(ctx, rs, next, restoreEvent{})
	}
	// note: the backup was checked when the restore started; it is read again in case
	// it was deleted while the pod stopped.
	src, invalid, err := backupSource(ctx, r.APIReader, rs.Namespace, rs.Spec.BackupName)
	if err != nil {
		return ctrl.Result{}, err
	}
	if invalid != "" {
		next.Phase, next.Message, next.CompletedAt = pbv1alpha1.BackupFailed, invalid, r.now()
		return ctrl.Result{}, r.writeStatus(ctx, rs, next, restoreEvent{corev1.EventTypeWarning, pbv1alpha1.ReasonRestoreFailed, invalid, pbi})
	}
	owner := specs.ControllerReference("PocketBaseRestore", rs.Name, rs.UID)
	job := restoreJob(pbi, name, specs.Image(pbi, r.DefaultImage), src, false, owner)
	if err := r.Apply(ctx, job, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return ctrl.Result{}, fmt.Errorf("applying restore job: %w", err)
	}
	log.FromContext(ctx).Info("Created restore Job", "job", klog.KRef(rs.Namespace, name))
	next.JobName = name
	next.Message = fmt.Sprintf("Job %s restores %s into data volume claim %s.", name, src.what, pbi.DataVolumeClaimName())
	return ctrl.Result{}, r.writeStatus(ctx, rs, next, restoreEvent{})
}

// writeStatus applies next when it differs from the restore's status, then records ev.
func (r *PocketBaseRestoreReconciler) writeStatus(ctx context.Context, rs *pbv1alpha1.PocketBaseRestore, next *pbv1alpha1.PocketBaseRestoreStatus, ev restoreEvent) error {
	next.Message = truncate(next.Message, maxStatusMessage)
	if equality.Semantic.DeepEqual(&rs.Status, next) {
		return nil
	}
	st := pbapply.PocketBaseRestoreStatus().WithPhase(next.Phase)
	if next.Message != "" {
		st.WithMessage(next.Message)
	}
	if next.StartedAt != nil {
		st.WithStartedAt(*next.StartedAt)
	}
	if next.CompletedAt != nil {
		st.WithCompletedAt(*next.CompletedAt)
	}
	if next.JobName != "" {
		st.WithJobName(next.JobName)
	}
	ac := pbapply.PocketBaseRestore(rs.Name, rs.Namespace).WithStatus(st)
	if err := r.Status().Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("writing restore status: %w", err)
	}
	if ev.reason == "" {
		return nil
	}
	ev.note = truncate(ev.note, maxEventNote)
	if ev.instance == nil {
		r.Recorder.Eventf(rs, nil, ev.eventType, ev.reason, "Restore", "%s", ev.note)
		return nil
	}
	r.Recorder.Eventf(rs, ev.instance, ev.eventType, ev.reason, "Restore", "%s", ev.note)
	r.Recorder.Eventf(ev.instance, rs, ev.eventType, ev.reason, "Restore", "%s", ev.note)
	return nil
}

// maxStatusMessage is the schema's bound on status.message.
const maxStatusMessage = 4096

// maxEventNote is the API server's bound on an event's note.
const maxEventNote = 1024

// truncate shortens s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func (r *PocketBaseRestoreReconciler) now() *metav1.Time {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	t := metav1.NewTime(now.Truncate(time.Second))
	return &t
}

// SetupWithManager registers the controller and its watches. SetupIndexes must have
// registered the restore index.
func (r *PocketBaseRestoreReconciler) SetupWithManager(mgr ctrl.Manager) error {
	// A restore waiting for the instance's pods (its own and other restores') to stop is
	// woken by those pods and by the StatefulSet of its instance.
	byInstance := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		name, ok := o.GetLabels()[specs.LabelInstance]
		if !ok || o.GetLabels()[specs.LabelManagedBy] != specs.ManagedBy {
			return nil
		}
		list := &pbv1alpha1.PocketBaseRestoreList{}
		if err := r.List(ctx, list, client.InNamespace(o.GetNamespace()), client.MatchingFields{restoreInstanceField: name}); err != nil {
			return nil
		}
		var reqs []reconcile.Request
		for _, rs := range list.Items {
			if rs.Status.Phase == pbv1alpha1.BackupRunning {
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: rs.Namespace, Name: rs.Name}})
			}
		}
		return reqs
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&pbv1alpha1.PocketBaseRestore{}).
		Owns(&batchv1.Job{}).
		Watches(&corev1.Pod{}, byInstance).
		Watches(&appsv1.StatefulSet{}, byInstance).
		Named(RestoreControllerName).
		Complete(r)
}
