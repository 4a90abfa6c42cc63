package controller

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
	"github.com/pocketfleet/pocketfleet/operator/internal/status"
)

// bootstrapJobSuffix names the bootstrap restore Job of an instance: "<name>-bootstrap".
const bootstrapJobSuffix = "-bootstrap"

// hold keeps the instance's pod stopped for this pass, reporting Restoring.
func (p *pass) hold(format string, args ...any) {
	if p.held == nil {
		p.held = &status.Problem{Reason: pbv1alpha1.ReasonRestoring, Message: fmt.Sprintf(format, args...)}
	}
}

// observeRestores stops the instance while something restores into its data volume.
//
// note: the PocketBaseRestore objects themselves are the record of a running restore:
// the restore reconciler moves a restore to Running before it waits for the pod to stop,
// and this reconciler, watching restores and listing them through a cache index on
// spec.instanceName, holds the StatefulSet at zero for as long as one is Running. No
// annotation on the user's instance is written, so the two reconcilers never contend
// for one object, and a restore that is deleted stops holding the instance by itself.
// A restore pod still running after its restore or Job went away (deleted mid-flight)
// keeps holding it too, so the instance never starts next to a second writer.
func (r *PocketBaseInstanceReconciler) observeRestores(ctx context.Context, p *pass) error {
	pbi := p.pbi
	list := &pbv1alpha1.PocketBaseRestoreList{}
	if err := r.List(ctx, list, client.InNamespace(pbi.Namespace), client.MatchingFields{restoreInstanceField: pbi.Name}); err != nil {
		return fmt.Errorf("listing restores: %w", err)
	}
	var newest *pbv1alpha1.PocketBaseRestore
	for i := range list.Items {
		rs := &list.Items[i]
		switch rs.Status.Phase {
		case pbv1alpha1.BackupRunning:
			if rs.DeletionTimestamp.IsZero() {
				p.hold("Restore %s is running: the pod is stopped while backup %s is restored into data volume claim %s.",
					rs.Name, rs.Spec.BackupName, pbi.DataVolumeClaimName())
			}
		case pbv1alpha1.BackupCompleted, pbv1alpha1.BackupFailed:
			// note: a restore refused before it started never touched the instance.
			if rs.Status.StartedAt != nil && rs.Status.CompletedAt != nil &&
				(newest == nil || rs.Status.CompletedAt.After(newest.Status.CompletedAt.Time)) {
				newest = rs
			}
		}
	}
	if newest != nil && newest.Status.Phase == pbv1alpha1.BackupFailed {
		if left := newest.Status.CompletedAt.Add(restoreFailureWindow).Sub(r.now()); left > 0 {
			p.notice = &status.Problem{Reason: pbv1alpha1.ReasonRestoreFailed, Message: fmt.Sprintf(
				"Restore %s failed at %s: %s", newest.Name, newest.Status.CompletedAt.UTC().Format("2006-01-02T15:04:05Z"), newest.Status.Message)}
			p.requeue(left)
		}
	}

	pods := &corev1.PodList{}
	if err := r.List(ctx, pods, client.InNamespace(pbi.Namespace), client.MatchingLabels(specs.Labels(pbi, specs.ComponentRestore))); err != nil {
		return fmt.Errorf("listing restore pods: %w", err)
	}
	for _, pod := range pods.Items {
		if pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
			p.hold("Waiting for restore pod %s to finish before the instance starts.", pod.Name)
		}
	}
	return nil
}

// reconcileBootstrap seeds the data volume of a new instance from spec.bootstrap before
// its first start: the StatefulSet stays at zero replicas while a restore Job (with
// --if-empty, so a volume holding a database is never overwritten) runs on the claim,
// and status.bootstrapped, once set, ends the bootstrap for good.
//
// A source that cannot be restored keeps the instance stopped with Degraded reason
// BootstrapSourceInvalid: an empty tenant started by mistake would take writes that the
// clone would then have to clobber. A failed Job keeps it stopped with Degraded reason
// RestoreFailed; deleting the Job retries, and so does the Job's TTL (a day) by itself,
// so an unattended bootstrap retries at most once a day.
func (r *PocketBaseInstanceReconciler) reconcileBootstrap(ctx context.Context, p *pass) error {
	pbi := p.pbi
	if pbi.Spec.Bootstrap == nil || pbi.Status.Bootstrapped {
		return nil
	}
	// note: a hold found by observeRestores (a restore pod still running) outlives a
	// bootstrap that succeeds in this pass.
	prior := p.held
	p.hold("Restoring the bootstrap backup into data volume claim %s before the first start.", pbi.DataVolumeClaimName())
	src, invalid, err := r.bootstrapSource(ctx, pbi)
	if err != nil {
		return err
	}
	if invalid != "" {
		p.fail(pbv1alpha1.ReasonBootstrapSourceInvalid, "spec.bootstrap cannot be restored: %s The instance is not started until it can.", invalid)
		return nil
	}

	name := jobName(pbi.Name, bootstrapJobSuffix, pbi.UID)
	job := &batchv1.Job{}
	switch err := r.Get(ctx, client.ObjectKey{Namespace: pbi.Namespace, Name: name}, job); {
	case apierrors.IsNotFound(err):
		stopped, wait, err := instanceStopped(ctx, r.APIReader, pbi)
		if err != nil {
			return err
		}
		if !stopped {
			if prior == nil {
				p.held.Message = wait
			}
			p.requeue(recheckAfter)
			return nil
		}
		owner := specs.ControllerReference("PocketBaseInstance", pbi.Name, pbi.UID)
		if err := r.Apply(ctx, restoreJob(pbi, name, p.image, src, true, owner), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying bootstrap job: %w", err)
		}
		p.record(corev1.EventTypeNormal, "BootstrapStarted", "Restore", "Restoring %s into data volume claim %s with Job %s.",
			src.what, pbi.DataVolumeClaimName(), name)
		return nil
	case err != nil:
		return fmt.Errorf("getting bootstrap job: %w", err)
	}

	out, err := readJobOutcome(ctx, r.APIReader, job)
	switch {
	case err != nil:
		return err
	case !out.finished:
		return nil
	case !out.succeeded:
		p.fail(pbv1alpha1.ReasonRestoreFailed,
			"Bootstrap Job %s failed: %s The instance stays stopped; delete the Job to try again.", name, out.message)
		return nil
	}
	p.held = prior
	p.bootstrapped = true
	if out.result.Skipped {
		p.record(corev1.EventTypeNormal, "Bootstrapped", "Restore",
			"Data volume claim %s already holds a database, so %s was not restored.", pbi.DataVolumeClaimName(), src.what)
	} else {
		p.record(corev1.EventTypeNormal, "Bootstrapped", "Restore", "Restored %s into data volume claim %s%s.",
			src.what, pbi.DataVolumeClaimName(), out.describe())
	}
	return nil
}

// bootstrapSource resolves spec.bootstrap and checks its credentials Secret.
func (r *PocketBaseInstanceReconciler) bootstrapSource(ctx context.Context, pbi *pbv1alpha1.PocketBaseInstance) (*restoreSource, string, error) {
	b := pbi.Spec.Bootstrap
	var src *restoreSource
	switch {
	case b.FromBackup != nil:
		s, invalid, err := backupSource(ctx, r.APIReader, pbi.Namespace, b.FromBackup.Name)
		if err != nil || invalid != "" {
			return nil, invalid, err
		}
		src = s
	case b.FromS3 != nil:
		src = &restoreSource{dest: b.FromS3.S3, key: b.FromS3.Key,
			what: fmt.Sprintf("backup s3://%s/%s", b.FromS3.S3.Bucket, b.FromS3.Key)}
	default:
		return nil, "it names neither fromBackup nor fromS3.", nil
	}
	invalid, err := checkCredentials(ctx, r.APIReader, pbi.Namespace, src.dest)
	return src, invalid, err
}
