package controller

import (
	"context"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

var backupTestNow = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

func newBackupReconciler(t *testing.T, objs ...client.Object) (*PocketBaseBackupReconciler, *events.FakeRecorder) {
	t.Helper()
	b, _ := fakeClient(objs...)
	c := b.WithStatusSubresource(&pbv1alpha1.PocketBaseBackup{}, &pbv1alpha1.PocketBaseInstance{}, &batchv1.Job{}, &corev1.Pod{}).
		WithIndex(&pbv1alpha1.PocketBaseBackup{}, backupInstanceIndex, func(o client.Object) []string {
			return []string{o.(*pbv1alpha1.PocketBaseBackup).Spec.InstanceName}
		}).
		Build()
	rec := events.NewFakeRecorder(100)
	return &PocketBaseBackupReconciler{
		Client: c, APIReader: c, Recorder: rec, DefaultImage: "reg/instance:v1",
		Now: func() time.Time { return backupTestNow },
	}, rec
}

func backupFixtures() (*pbv1alpha1.PocketBaseInstance, *corev1.Secret, *pbv1alpha1.PocketBaseBackup) {
	pbi := &pbv1alpha1.PocketBaseInstance{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "acme", UID: "u1"},
		Spec:       pbv1alpha1.PocketBaseInstanceSpec{Backup: &pbv1alpha1.BackupSpec{Destination: pbv1alpha1.BackupDestination{S3: s3Fixture()}}},
		Status: pbv1alpha1.PocketBaseInstanceStatus{
			Image:      "reg/instance:v2",
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Available", LastTransitionTime: metav1.Now()}},
		},
	}
	b := &pbv1alpha1.PocketBaseBackup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "nightly", UID: "b1"},
		Spec:       pbv1alpha1.PocketBaseBackupSpec{InstanceName: "acme"},
	}
	return pbi, credsFixture(), b
}

func reconcileBackup(t *testing.T, r *PocketBaseBackupReconciler) *pbv1alpha1.PocketBaseBackup {
	t.Helper()
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "nightly"}}); err != nil {
		t.Fatalf("Reconcile() error = %v", err)
	}
	got := &pbv1alpha1.PocketBaseBackup{}
	if err := r.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "nightly"}, got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestBackupRefusalIsFinalAndIdle(t *testing.T) {
	pbi, _, b := backupFixtures()
	r, rec := newBackupReconciler(t, pbi, b)

	got := reconcileBackup(t, r)
	want := "S3 credentials Secret creds named in spec.backup.destination.s3.credentialsSecretRef does not exist."
	if got.Status.Phase != pbv1alpha1.BackupFailed || got.Status.Message != want || got.Status.CompletedAt == nil || got.Status.JobName != "" {
		t.Fatalf("status = %+v, want Failed: %s", got.Status, want)
	}
	evs := drain(rec)
	if len(evs) != 2 || !strings.HasPrefix(evs[0], "Warning BackupFailed Backup nightly failed: S3 credentials") || evs[0] != evs[1] {
		t.Errorf("events = %q, want BackupFailed on the backup and on the instance", evs)
	}
	again := reconcileBackup(t, r)
	if again.ResourceVersion != got.ResourceVersion {
		t.Errorf("a final backup was written again: resourceVersion %s -> %s", got.ResourceVersion, again.ResourceVersion)
	}
	if evs := drain(rec); len(evs) != 0 {
		t.Errorf("events on an idle pass = %q", evs)
	}
}

func TestBackupRunsItsJobAndReadsTheResult(t *testing.T) {
	pbi, creds, b := backupFixtures()
	r, rec := newBackupReconciler(t, pbi, creds, b)
	ctx := context.Background()

	running := reconcileBackup(t, r)
	if running.Status.Phase != pbv1alpha1.BackupRunning || running.Status.JobName != "nightly-backup" ||
		running.Status.Key != "ns/acme/nightly.zip" || !running.Status.StartedAt.Time.Equal(backupTestNow) {
		t.Fatalf("status = %+v, want Running with the Job and key", running.Status)
	}
	job := &batchv1.Job{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "nightly-backup"}, job); err != nil {
		t.Fatalf("getting the Job: %v", err)
	}
	if img := job.Spec.Template.Spec.Containers[0].Image; img != "reg/instance:v2" {
		t.Errorf("image = %q, want the instance's current image from its status", img)
	}
	if again := reconcileBackup(t, r); again.ResourceVersion != running.ResourceVersion {
		t.Error("a pass while the Job runs wrote the backup")
	}

	// note: the fake client gives applied objects no UID; envtest checks the real
	// controller-uid label.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "nightly-backup-abcde",
		Labels: map[string]string{batchv1.ControllerUidLabel: string(job.UID)}}}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "backup", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		Message: `{"location":"s3://bkt/ns/acme/nightly.zip","key":"ns/acme/nightly.zip","sizeBytes":42,"sha256":"abc","completedAt":"2026-11-27T03:01:30Z"}`,
	}}}}
	if err := r.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	job.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	if err := r.Status().Update(ctx, job); err != nil {
		t.Fatal(err)
	}
	drain(rec)

	done := reconcileBackup(t, r)
	if done.Status.Phase != pbv1alpha1.BackupCompleted || done.Status.SizeBytes != 42 || done.Status.SHA256 != "abc" ||
		!done.Status.CompletedAt.Time.Equal(time.Date(2026, 11, 27, 3, 1, 30, 0, time.UTC)) || done.Status.Message != "" {
		t.Fatalf("status = %+v, want Completed from the termination message", done.Status)
	}
	if evs := drain(rec); len(evs) != 2 || !strings.HasPrefix(evs[0], "Normal BackupCompleted") {
		t.Errorf("events = %q, want BackupCompleted on the backup and the instance", evs)
	}
	if again := reconcileBackup(t, r); again.ResourceVersion != done.ResourceVersion {
		t.Error("a completed backup was written again")
	}
}
