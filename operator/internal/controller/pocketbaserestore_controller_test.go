package controller

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

func newRestoreReconciler(t *testing.T, objs ...client.Object) (*PocketBaseRestoreReconciler, *events.FakeRecorder) {
	t.Helper()
	b, scheme := fakeClient(objs...)
	c := b.WithStatusSubresource(&pbv1alpha1.PocketBaseRestore{}, &pbv1alpha1.PocketBaseInstance{}).
		WithIndex(&pbv1alpha1.PocketBaseRestore{}, restoreInstanceField, restoreInstanceName).
		Build()
	rec := events.NewFakeRecorder(100)
	return &PocketBaseRestoreReconciler{Client: c, APIReader: c, Scheme: scheme, Recorder: rec, DefaultImage: "reg/instance:v1"}, rec
}

func restoreFixtures() (*pbv1alpha1.PocketBaseInstance, *pbv1alpha1.PocketBaseBackup, *corev1.Secret, *pbv1alpha1.PocketBaseRestore) {
	pbi := &pbv1alpha1.PocketBaseInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "acme", UID: "u1"}}
	backup := &pbv1alpha1.PocketBaseBackup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "b1"},
		Spec:       pbv1alpha1.PocketBaseBackupSpec{InstanceName: "acme"},
		Status: pbv1alpha1.PocketBaseBackupStatus{
			Phase: pbv1alpha1.BackupCompleted, Key: "ns/acme/b1.zip", Location: "s3://bkt/ns/acme/b1.zip",
			Destination: ptr.To(s3Fixture()),
		},
	}
	rs := &pbv1alpha1.PocketBaseRestore{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "undo", UID: "r1"},
		Spec:       pbv1alpha1.PocketBaseRestoreSpec{InstanceName: "acme", BackupName: "b1"},
	}
	return pbi, backup, credsFixture(), rs
}

func reconcileRestore(t *testing.T, r *PocketBaseRestoreReconciler) *pbv1alpha1.PocketBaseRestore {
	t.Helper()
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "undo"}}); err != nil {
		t.Fatalf("Reconcile() error = %v", err)
	}
	got := &pbv1alpha1.PocketBaseRestore{}
	if err := r.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "undo"}, got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRestoreRejectsAMissingBackupOnce(t *testing.T) {
	pbi, _, creds, rs := restoreFixtures()
	r, rec := newRestoreReconciler(t, pbi, creds, rs)

	got := reconcileRestore(t, r)
	if got.Status.Phase != pbv1alpha1.BackupFailed || got.Status.CompletedAt == nil || got.Status.StartedAt != nil ||
		got.Status.Message != `PocketBaseBackup "b1" does not exist in namespace ns.` {
		t.Errorf("status = %+v", got.Status)
	}
	if e := drain(rec); len(e) != 2 || !containsSubstring(e[:1], "Warning RestoreRejected") || !containsSubstring(e[1:], "Warning RestoreRejected") {
		t.Errorf("events = %q, want RestoreRejected on the restore and the instance", e)
	}
	again := reconcileRestore(t, r)
	if again.ResourceVersion != got.ResourceVersion {
		t.Errorf("a final restore was written again (resourceVersion %s -> %s)", got.ResourceVersion, again.ResourceVersion)
	}
	if e := drain(rec); len(e) != 0 {
		t.Errorf("idle pass emitted %q", e)
	}
}

func TestRestoreWaitsForThePodBeforeTheJob(t *testing.T) {
	pbi, backup, creds, rs := restoreFixtures()
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "acme", Generation: 2},
		Spec:       appsv1.StatefulSetSpec{Replicas: ptr.To(int32(1))},
		Status:     appsv1.StatefulSetStatus{ObservedGeneration: 2},
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "acme-0"}}
	r, rec := newRestoreReconciler(t, pbi, backup, creds, rs, sts, pod)
	ctx := context.Background()

	if got := reconcileRestore(t, r); got.Status.Phase != pbv1alpha1.BackupRunning || got.Status.StartedAt == nil {
		t.Fatalf("status after the first pass = %+v", got.Status)
	}
	if e := drain(rec); !containsSubstring(e, "Normal RestoreStarted") {
		t.Errorf("events = %q", e)
	}
	steps := []struct {
		change func()
		want   string
	}{
		{func() {}, "Waiting for StatefulSet acme to scale to zero."},
		{func() { sts.Spec.Replicas = ptr.To(int32(0)); sts.Generation = 3; mustUpdate(t, r, sts) },
			"Waiting for the StatefulSet controller to observe the scale-down of acme."},
		{func() {
			if err := r.Get(ctx, client.ObjectKeyFromObject(sts), sts); err != nil {
				t.Fatal(err)
			}
			sts.Status.ObservedGeneration = sts.Generation
			mustUpdate(t, r, sts)
		}, "Waiting for pod acme-0 to stop."},
	}
	for _, s := range steps {
		s.change()
		got := reconcileRestore(t, r)
		if got.Status.Message != s.want || got.Status.JobName != "" {
			t.Errorf("status = %+v, want message %q and no Job", got.Status, s.want)
		}
		if again := reconcileRestore(t, r); again.ResourceVersion != got.ResourceVersion {
			t.Errorf("an idle pass rewrote the restore while %q", s.want)
		}
		if err := r.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "undo-restore"}, &batchv1.Job{}); !apierrors.IsNotFound(err) {
			t.Fatalf("Job created while %q: %v", s.want, err)
		}
	}

	if err := r.Delete(ctx, pod); err != nil {
		t.Fatal(err)
	}
	got := reconcileRestore(t, r)
	if got.Status.JobName != "undo-restore" {
		t.Fatalf("status = %+v, want the Job", got.Status)
	}
	job := &batchv1.Job{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "undo-restore"}, job); err != nil {
		t.Fatal(err)
	}
	c := job.Spec.Template.Spec.Containers[0]
	if c.Image != "reg/instance:v1" || len(c.Args) < 6 || c.Args[5] != "ns/acme/b1.zip" {
		t.Errorf("job container = %+v", c)
	}
	if ref := metav1.GetControllerOf(job); ref == nil || ref.Kind != "PocketBaseRestore" || ref.UID != "r1" {
		t.Errorf("job controller = %+v", ref)
	}
}

// mustUpdate writes the StatefulSet's spec and then its status, as a user and the
// StatefulSet controller would.
func mustUpdate(t *testing.T, r *PocketBaseRestoreReconciler, sts *appsv1.StatefulSet) {
	t.Helper()
	cur := &appsv1.StatefulSet{}
	if err := r.Get(context.Background(), client.ObjectKeyFromObject(sts), cur); err != nil {
		t.Fatal(err)
	}
	sts.ResourceVersion = cur.ResourceVersion
	st := sts.Status
	if err := r.Update(context.Background(), sts); err != nil {
		t.Fatal(err)
	}
	sts.Status = st
	if err := r.Status().Update(context.Background(), sts); err != nil {
		t.Fatal(err)
	}
}
