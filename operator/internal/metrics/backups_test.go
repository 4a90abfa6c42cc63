package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

func TestBackups(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	b, err := NewBackups(reg)
	if err != nil {
		t.Fatal(err)
	}
	b.Completed(90*time.Second, 3<<20)
	b.Completed(10*time.Second, 1<<10)
	b.Failed(0)
	b.Failed(time.Hour)
	var nilBackups *Backups
	nilBackups.Completed(time.Second, 1) // records nothing, does not panic

	want := `
# HELP pocketfleet_backups_total Number of finished PocketBaseBackups by result (completed, failed).
# TYPE pocketfleet_backups_total counter
pocketfleet_backups_total{result="completed"} 2
pocketfleet_backups_total{result="failed"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), BackupsTotalMetric); err != nil {
		t.Error(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	sums := map[string]float64{}
	for _, mf := range mfs {
		if h := mf.GetMetric()[0].GetHistogram(); h != nil {
			got[mf.GetName()] = h.GetSampleCount()
			sums[mf.GetName()] = h.GetSampleSum()
		}
	}
	// A failure before the Job started has no run time.
	if got[BackupDurationMetric] != 3 || sums[BackupDurationMetric] != 90+10+3600 {
		t.Errorf("duration histogram: %d samples summing to %v, want 3 summing to 3700", got[BackupDurationMetric], sums[BackupDurationMetric])
	}
	if got[BackupSizeMetric] != 2 || sums[BackupSizeMetric] != 3<<20+1<<10 {
		t.Errorf("size histogram: %d samples summing to %v, want the two completed backups", got[BackupSizeMetric], sums[BackupSizeMetric])
	}
}

func TestBackupHealthCollector(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := pbv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	inst := func(name string, backup bool, healthy metav1.ConditionStatus, lastSuccessAgo time.Duration) *pbv1alpha1.PocketBaseInstance {
		pbi := &pbv1alpha1.PocketBaseInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
		if backup {
			pbi.Spec.Backup = &pbv1alpha1.BackupSpec{}
		}
		if healthy != "" {
			pbi.Status.Conditions = []metav1.Condition{{Type: "BackupHealthy", Status: healthy, Reason: "X"}}
		}
		if lastSuccessAgo > 0 {
			pbi.Status.Backup = &pbv1alpha1.BackupStatus{LastSuccessfulTime: &metav1.Time{Time: now.Add(-lastSuccessAgo)}}
		}
		return pbi
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		inst("fresh", true, metav1.ConditionTrue, time.Hour),
		inst("overdue", true, metav1.ConditionFalse, 72*time.Hour),
		inst("never", true, metav1.ConditionFalse, 0),
		// Left over from before spec.backup was removed: not counted.
		inst("off", false, metav1.ConditionFalse, 900*time.Hour),
	).Build()
	want := `
# HELP pocketfleet_instances_backup_overdue Number of PocketBaseInstances whose BackupHealthy condition is False (failed, overdue, none yet, invalid configuration).
# TYPE pocketfleet_instances_backup_overdue gauge
pocketfleet_instances_backup_overdue 2
# HELP pocketfleet_backup_oldest_success_age_seconds Age in seconds of the oldest newest-successful-backup across the instances with backups configured; 0 when none has one.
# TYPE pocketfleet_backup_oldest_success_age_seconds gauge
pocketfleet_backup_oldest_success_age_seconds 259200
`
	collector := &BackupHealthCollector{Reader: c, Now: func() time.Time { return now }}
	if err := testutil.CollectAndCompare(collector, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
