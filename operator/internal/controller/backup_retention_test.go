package controller

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

func TestPrunedBackups(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	dest := pbv1alpha1.S3Destination{Endpoint: "http://s3", Bucket: "b", Prefix: ptr.To("ns/acme/")}
	other := pbv1alpha1.S3Destination{Endpoint: "http://s3", Bucket: "b", Prefix: ptr.To("old/")}
	backup := func(name string, phase pbv1alpha1.BackupPhase, daysAgo int, d pbv1alpha1.S3Destination) pbv1alpha1.PocketBaseBackup {
		b := pbv1alpha1.PocketBaseBackup{ObjectMeta: metav1.ObjectMeta{Name: name}}
		b.Status.Phase = phase
		b.Status.CompletedAt = &metav1.Time{Time: t0.AddDate(0, 0, -daysAgo)}
		b.Status.Destination = &d
		return b
	}
	daily := func(n int) []pbv1alpha1.PocketBaseBackup {
		var out []pbv1alpha1.PocketBaseBackup
		for i := range n {
			out = append(out, backup("d"+string(rune('a'+i)), pbv1alpha1.BackupCompleted, i, dest))
		}
		return out
	}
	running := pbv1alpha1.PocketBaseBackup{ObjectMeta: metav1.ObjectMeta{Name: "running"}}
	running.Status.Phase = pbv1alpha1.BackupRunning

	tests := []struct {
		name    string
		backups []pbv1alpha1.PocketBaseBackup
		ret     pbv1alpha1.BackupRetention
		want    []string
	}{
		{name: "no retention keeps all", backups: daily(5), want: nil},
		{name: "keepLast drops the oldest", backups: daily(5), ret: pbv1alpha1.BackupRetention{KeepLast: ptr.To[int32](3)}, want: []string{"dd", "de"}},
		{name: "maxAge is measured from the newest backup", backups: daily(5), ret: pbv1alpha1.BackupRetention{MaxAge: ptr.To("60h")}, want: []string{"dd", "de"}},
		{name: "either rule drops", backups: daily(5), ret: pbv1alpha1.BackupRetention{KeepLast: ptr.To[int32](4), MaxAge: ptr.To("48h")}, want: []string{"dd", "de"}},
		{name: "the newest is kept even when older than maxAge",
			backups: []pbv1alpha1.PocketBaseBackup{backup("only", pbv1alpha1.BackupCompleted, 100, dest)},
			ret:     pbv1alpha1.BackupRetention{MaxAge: ptr.To("1m"), KeepLast: ptr.To[int32](1)}, want: nil},
		{name: "backups in another destination are never pruned",
			backups: append(daily(2), backup("elsewhere", pbv1alpha1.BackupCompleted, 9, other)),
			ret:     pbv1alpha1.BackupRetention{KeepLast: ptr.To[int32](1)}, want: []string{"db"}},
		{name: "running and pending backups are left alone",
			backups: append(daily(2), running), ret: pbv1alpha1.BackupRetention{KeepLast: ptr.To[int32](1)}, want: []string{"db"}},
		{name: "failed backups beyond three older than the newest success",
			backups: append(daily(1),
				backup("f1", pbv1alpha1.BackupFailed, 1, dest), backup("f2", pbv1alpha1.BackupFailed, 2, dest),
				backup("f3", pbv1alpha1.BackupFailed, 3, dest), backup("f4", pbv1alpha1.BackupFailed, 4, dest),
				backup("f5", pbv1alpha1.BackupFailed, 5, dest)),
			want: []string{"f4", "f5"}},
		{name: "failed backups newer than the newest success are kept",
			backups: []pbv1alpha1.PocketBaseBackup{
				backup("ok", pbv1alpha1.BackupCompleted, 10, dest),
				backup("f1", pbv1alpha1.BackupFailed, 1, dest), backup("f2", pbv1alpha1.BackupFailed, 2, dest),
				backup("f3", pbv1alpha1.BackupFailed, 3, dest), backup("f4", pbv1alpha1.BackupFailed, 4, dest)},
			want: nil},
		{name: "without a success nothing is pruned",
			backups: []pbv1alpha1.PocketBaseBackup{
				backup("f1", pbv1alpha1.BackupFailed, 1, dest), backup("f2", pbv1alpha1.BackupFailed, 2, dest),
				backup("f3", pbv1alpha1.BackupFailed, 3, dest), backup("f4", pbv1alpha1.BackupFailed, 4, dest)},
			ret: pbv1alpha1.BackupRetention{KeepLast: ptr.To[int32](1)}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Order must not matter.
			in := slices.Clone(tc.backups)
			slices.Reverse(in)
			drop, err := prunedBackups(in, tc.ret, dest)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range drop {
				got = append(got, b.Name)
			}
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("pruned (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBackupJobName(t *testing.T) {
	named := func(n string) *pbv1alpha1.PocketBaseBackup {
		return &pbv1alpha1.PocketBaseBackup{ObjectMeta: metav1.ObjectMeta{Name: n}}
	}
	if got := backupJobName(named("acme-20261127030000")); got != "acme-20261127030000-backup" {
		t.Errorf("short name = %q", got)
	}
	long := "a-very-long-instance-name-that-goes-on-and-on-20261127030000"
	a, b := backupJobName(named(long)), backupJobName(named(long+"x"))
	if len(a) > 63 || len(b) > 63 || a == b {
		t.Errorf("long names = %q, %q: want distinct names of at most 63 characters", a, b)
	}
}

func TestParseBackupResult(t *testing.T) {
	res, err := parseBackupResult(`{"location":"s3://b/k.zip","key":"k.zip","sizeBytes":12,"sha256":"ab","completedAt":"2026-11-27T03:00:05Z"}`)
	if err != nil || res.Location != "s3://b/k.zip" || res.SizeBytes != 12 {
		t.Fatalf("parseBackupResult() = %+v, %v", res, err)
	}
	if _, err := parseBackupResult("panic: runtime error\ngoroutine 1 [running]:"); err == nil {
		t.Fatal("a log tail must not parse as a result")
	}
}
