package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	metav1apply "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	pbapply "github.com/pocketfleet/pocketfleet/api/v1alpha1/applyconfiguration/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// SchedulerFieldManager is the field manager of status.backup and the BackupHealthy
// condition of instances. It differs from FieldManager so the instance reconciler's
// status applies and the scheduler's never remove each other's fields.
const SchedulerFieldManager = "pocketfleet-backup-scheduler"

// ScheduleControllerName names the backup schedule controller in logs and metrics.
const ScheduleControllerName = "backupschedule"

// scheduleTimeFormat names scheduled backups "<instance>-<yyyymmddhhmmss>" (UTC): the
// name follows from the schedule time, so a retried pass never creates a second one.
const scheduleTimeFormat = "20060102150405"

// configRecheck is how soon an instance whose backup configuration is invalid (a
// missing credentials Secret, which is not watched) is looked at again.
const configRecheck = time.Minute

// cronParser parses standard five-field cron expressions.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// BackupScheduleReconciler starts the scheduled PocketBaseBackups of instances and
// reports status.backup and the BackupHealthy condition. Scheduled backups are not owned
// by the instance: they outlive it, so a deleted tenant can still be cloned or restored.
type BackupScheduleReconciler struct {
	client.Client
	// APIReader reads users' S3 credentials Secrets (key presence only).
	APIReader client.Reader
	// Recorder emits events on the instance.
	Recorder events.EventRecorder
	// MaxConcurrentReconciles bounds parallel passes; 0 means controller-runtime's default.
	MaxConcurrentReconciles int
	// Now is the clock; nil is time.Now. Tests move it.
	Now func() time.Time
}

func (r *BackupScheduleReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbaseinstances,verbs=get;list;watch
// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbaseinstances/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbasebackups,verbs=get;list;watch;create

// Reconcile starts the instance's due scheduled backup, if any, and writes its backup
// status; it comes back at the next schedule time.
func (r *BackupScheduleReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pbi := &pbv1alpha1.PocketBaseInstance{}
	if err := r.Get(ctx, req.NamespacedName, pbi); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("pocketbaseinstance", klog.KObj(pbi)))
	if !pbi.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	if pbi.Spec.Backup == nil {
		return ctrl.Result{}, r.clearStatus(ctx, pbi)
	}
	spec := pbi.Spec.Backup
	now := r.now()
	list := &pbv1alpha1.PocketBaseBackupList{}
	if err := r.List(ctx, list, client.InNamespace(pbi.Namespace), client.MatchingFields{backupInstanceIndex: pbi.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing backups: %w", err)
	}
	st := summarizeBackups(list.Items)
	if prev := pbi.Status.Backup; prev != nil {
		st.LastScheduleTime = prev.LastScheduleTime
	}

	var sched cron.Schedule
	var schedErr error
	if spec.Schedule != "" {
		sched, schedErr = parseSchedule(spec.Schedule)
	}
	credMsg, err := credentialsProblem(ctx, r.APIReader, pbi.Namespace, spec.Destination.S3)
	if err != nil {
		return ctrl.Result{}, err
	}

	var res ctrl.Result
	var created string
	var cond metav1.Condition
	switch {
	case schedErr != nil:
		cond = backupCondition(metav1.ConditionFalse, pbv1alpha1.ReasonBackupConfigInvalid,
			fmt.Sprintf("spec.backup.schedule %q is not a five-field cron expression: %v", spec.Schedule, schedErr))
	case credMsg != "":
		cond = backupCondition(metav1.ConditionFalse, pbv1alpha1.ReasonBackupConfigInvalid, credMsg)
		res.RequeueAfter = configRecheck
	default:
		if sched != nil {
			if created, err = r.runSchedule(ctx, pbi, sched, list.Items, &st, now); err != nil {
				return ctrl.Result{}, err
			}
			if !spec.Suspend {
				next := sched.Next(now)
				if !next.IsZero() {
					st.NextScheduleTime = &metav1.Time{Time: next}
					res.RequeueAfter = next.Sub(now)
				}
			}
		}
		var recheck time.Duration
		cond, recheck = backupHealth(pbi, sched, list.Items, st, now)
		if recheck > 0 && (res.RequeueAfter == 0 || recheck < res.RequeueAfter) {
			res.RequeueAfter = recheck
		}
	}
	cond.ObservedGeneration = pbi.Generation

	prev := meta.FindStatusCondition(pbi.Status.Conditions, string(pbv1alpha1.ConditionBackupHealthy))
	if err := r.writeStatus(ctx, pbi, st, cond); err != nil {
		return ctrl.Result{}, err
	}
	if created != "" {
		r.Recorder.Eventf(pbi, nil, corev1.EventTypeNormal, "BackupScheduled", "Schedule", "Created scheduled backup %s.", created)
	}
	if cond.Status == metav1.ConditionFalse && cond.Reason != pbv1alpha1.ReasonNoBackupYet &&
		(prev == nil || prev.Status != cond.Status || prev.Reason != cond.Reason) {
		r.Recorder.Eventf(pbi, nil, corev1.EventTypeWarning, cond.Reason, "Schedule", "%s", truncate(cond.Message, maxEventNote))
	}
	return res, nil
}

// runSchedule creates the backup of the latest schedule time missed since the last one,
// unless the schedule is suspended, the instance is hibernated (its data does not
// change) or one of its backups is still pending or running. It returns the name of the
// backup it created, if any.
func (r *BackupScheduleReconciler) runSchedule(ctx context.Context, pbi *pbv1alpha1.PocketBaseInstance, sched cron.Schedule,
	backups []pbv1alpha1.PocketBaseBackup, st *pbv1alpha1.BackupStatus, now time.Time) (string, error) {
	if pbi.Spec.Backup.Suspend {
		return "", nil
	}
	since := pbi.CreationTimestamp.Time
	if st.LastScheduleTime != nil {
		since = st.LastScheduleTime.Time
	}
	due := lastDue(sched, since, now)
	if due.IsZero() {
		return "", nil
	}
	st.LastScheduleTime = &metav1.Time{Time: due}
	log := ctrl.LoggerFrom(ctx)
	if pbi.Hibernated() {
		log.V(1).Info("Skipped scheduled backup of a hibernated instance", "scheduleTime", due)
		return "", nil
	}
	for _, b := range backups {
		if b.Status.Phase == "" || b.Status.Phase == pbv1alpha1.BackupPending || b.Status.Phase == pbv1alpha1.BackupRunning {
			log.Info("Skipped scheduled backup: another backup of the instance has not finished", "scheduleTime", due, "pocketbasebackup", b.Name)
			return "", nil
		}
	}
	b := &pbv1alpha1.PocketBaseBackup{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: pbi.Namespace,
			Name:      scheduledBackupName(pbi.Name, due),
			Labels: map[string]string{
				specs.LabelInstance:      pbi.Name,
				specs.LabelBackupTrigger: specs.TriggerScheduled,
				specs.LabelManagedBy:     specs.ManagedBy,
			},
		},
		Spec: pbv1alpha1.PocketBaseBackupSpec{InstanceName: pbi.Name},
	}
	switch err := r.Create(ctx, b); {
	case apierrors.IsAlreadyExists(err):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("creating scheduled backup: %w", err)
	}
	log.Info("Created scheduled backup", "pocketbasebackup", klog.KObj(b), "scheduleTime", due)
	return b.Name, nil
}

// scheduledBackupName is the name of the backup the schedule starts at t.
func scheduledBackupName(instance string, t time.Time) string {
	return instance + "-" + t.UTC().Format(scheduleTimeFormat)
}

// parseSchedule parses a five-field cron expression evaluated in UTC.
func parseSchedule(s string) (cron.Schedule, error) {
	if strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
		return nil, errors.New("time zones are not supported: the schedule is in UTC")
	}
	sched, err := cronParser.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parsing schedule: %w", err)
	}
	return sched, nil
}

// lastDue returns the latest schedule time after since and not after now, or the zero
// time when none is. Missed runs are not replayed: only the latest one is due.
func lastDue(sched cron.Schedule, since, now time.Time) time.Time {
	var due time.Time
	for t := sched.Next(since.UTC()); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		due = t
	}
	return due
}

// schedulePeriod is the gap between the two schedule times that follow t.
func schedulePeriod(sched cron.Schedule, t time.Time) time.Duration {
	t1 := sched.Next(t.UTC())
	t2 := sched.Next(t1)
	if t1.IsZero() || t2.IsZero() {
		return 0
	}
	return t2.Sub(t1)
}

// summarizeBackups finds the newest successful and failed backups of an instance.
func summarizeBackups(backups []pbv1alpha1.PocketBaseBackup) pbv1alpha1.BackupStatus {
	var st pbv1alpha1.BackupStatus
	var newest *pbv1alpha1.PocketBaseBackup
	for i := range backups {
		b := &backups[i]
		at := b.Status.CompletedAt
		if at == nil {
			continue
		}
		switch b.Status.Phase {
		case pbv1alpha1.BackupCompleted:
			if newest == nil || compareFinished(b, newest) > 0 {
				newest = b
				st.LastSuccessfulTime = at.DeepCopy()
				st.LastSuccessfulBackup = b.Name
			}
		case pbv1alpha1.BackupFailed:
			if st.LastFailureTime == nil || at.After(st.LastFailureTime.Time) {
				st.LastFailureTime = at.DeepCopy()
			}
		}
	}
	return st
}

// backupHealth is the BackupHealthy condition of an instance with a valid backup
// configuration, and how soon it turns overdue (0 when it cannot).
func backupHealth(pbi *pbv1alpha1.PocketBaseInstance, sched cron.Schedule, backups []pbv1alpha1.PocketBaseBackup,
	st pbv1alpha1.BackupStatus, now time.Time) (metav1.Condition, time.Duration) {
	finished := slices.DeleteFunc(slices.Clone(backups), func(b pbv1alpha1.PocketBaseBackup) bool {
		return b.Status.CompletedAt == nil ||
			(b.Status.Phase != pbv1alpha1.BackupCompleted && b.Status.Phase != pbv1alpha1.BackupFailed)
	})
	if len(finished) == 0 {
		return backupCondition(metav1.ConditionFalse, pbv1alpha1.ReasonNoBackupYet, "No backup of this instance has finished yet."), 0
	}
	newest := slices.MaxFunc(finished, func(a, b pbv1alpha1.PocketBaseBackup) int { return compareFinished(&a, &b) })
	if newest.Status.Phase == pbv1alpha1.BackupFailed {
		return backupCondition(metav1.ConditionFalse, pbv1alpha1.ReasonBackupFailed,
			fmt.Sprintf("The newest backup, %s, failed: %s", newest.Name, newest.Status.Message)), 0
	}
	ok := backupCondition(metav1.ConditionTrue, pbv1alpha1.ReasonBackupSucceeded,
		fmt.Sprintf("The newest backup, %s, completed at %s: %s.", newest.Name, newest.Status.CompletedAt.UTC().Format(time.RFC3339), newest.Status.Location))
	if sched == nil || pbi.Spec.Backup.Suspend || pbi.Hibernated() || st.LastSuccessfulTime == nil {
		return ok, 0
	}
	period := schedulePeriod(sched, st.LastSuccessfulTime.Time)
	if period == 0 {
		return ok, 0
	}
	deadline := st.LastSuccessfulTime.Add(2 * period)
	if now.After(deadline) {
		return backupCondition(metav1.ConditionFalse, pbv1alpha1.ReasonBackupOverdue,
			fmt.Sprintf("The newest successful backup, %s, completed at %s: more than two schedule periods (%s) ago.",
				st.LastSuccessfulBackup, st.LastSuccessfulTime.UTC().Format(time.RFC3339), 2*period)), 0
	}
	return ok, deadline.Sub(now) + time.Second
}

func backupCondition(s metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: string(pbv1alpha1.ConditionBackupHealthy), Status: s, Reason: reason, Message: msg}
}

// writeStatus applies status.backup and the BackupHealthy condition under the
// scheduler's field manager when they changed.
func (r *BackupScheduleReconciler) writeStatus(ctx context.Context, pbi *pbv1alpha1.PocketBaseInstance, st pbv1alpha1.BackupStatus, cond metav1.Condition) error {
	conds := slices.Clone(pbi.Status.Conditions)
	cond.LastTransitionTime = metav1.NewTime(r.now().Truncate(time.Second))
	meta.SetStatusCondition(&conds, cond)
	next := *meta.FindStatusCondition(conds, cond.Type)
	prev := meta.FindStatusCondition(pbi.Status.Conditions, cond.Type)
	if prev != nil && equality.Semantic.DeepEqual(*prev, next) && equality.Semantic.DeepEqual(pbi.Status.Backup, &st) {
		return nil
	}
	bs := &pbapply.BackupStatusApplyConfiguration{}
	if err := convert(st, bs); err != nil {
		return err
	}
	ac := pbapply.PocketBaseInstance(pbi.Name, pbi.Namespace).WithStatus(pbapply.PocketBaseInstanceStatus().
		WithBackup(bs).
		WithConditions(metav1apply.Condition().
			WithType(next.Type).WithStatus(next.Status).WithReason(next.Reason).WithMessage(next.Message).
			WithObservedGeneration(next.ObservedGeneration).WithLastTransitionTime(next.LastTransitionTime)))
	if err := r.Status().Apply(ctx, ac, client.FieldOwner(SchedulerFieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("writing backup status: %w", err)
	}
	return nil
}

// clearStatus removes status.backup and the BackupHealthy condition of an instance
// without spec.backup: applying nothing drops the fields this manager owned.
func (r *BackupScheduleReconciler) clearStatus(ctx context.Context, pbi *pbv1alpha1.PocketBaseInstance) error {
	if pbi.Status.Backup == nil && meta.FindStatusCondition(pbi.Status.Conditions, string(pbv1alpha1.ConditionBackupHealthy)) == nil {
		return nil
	}
	ac := pbapply.PocketBaseInstance(pbi.Name, pbi.Namespace).WithStatus(pbapply.PocketBaseInstanceStatus())
	if err := r.Status().Apply(ctx, ac, client.FieldOwner(SchedulerFieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("clearing backup status: %w", err)
	}
	return nil
}

// setupWithManager registers the controller and its watches; SetupBackupControllers
// calls it after indexing backups by instance.
func (r *BackupScheduleReconciler) setupWithManager(mgr ctrl.Manager) error {
	byInstanceName := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		b, ok := o.(*pbv1alpha1.PocketBaseBackup)
		if !ok {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: b.Namespace, Name: b.Spec.InstanceName}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&pbv1alpha1.PocketBaseInstance{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&pbv1alpha1.PocketBaseBackup{}, byInstanceName).
		Named(ScheduleControllerName).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}
