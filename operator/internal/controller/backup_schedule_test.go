package controller

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

func TestParseSchedule(t *testing.T) {
	for _, s := range []string{"0 3 * * *", "*/15 * * * *", "0 0 1 * MON-FRI", "30 2 * * 0"} {
		if _, err := parseSchedule(s); err != nil {
			t.Errorf("parseSchedule(%q) = %v, want ok", s, err)
		}
	}
	for _, s := range []string{"", "daily", "0 3 * *", "0 0 3 * * *", "61 * * * *", "@daily", "TZ=Europe/Paris 0 3 * * *", "CRON_TZ=UTC 0 3 * * *"} {
		if _, err := parseSchedule(s); err == nil {
			t.Errorf("parseSchedule(%q) succeeded, want an error", s)
		}
	}
}

func TestLastDue(t *testing.T) {
	sched, err := parseSchedule("0 3 * * *")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name, since, now, want string
	}{
		{"not due yet", "2026-11-27T03:00:00Z", "2026-11-28T02:59:59Z", ""},
		{"due exactly at the time", "2026-11-27T03:00:00Z", "2026-11-28T03:00:00Z", "2026-11-28T03:00:00Z"},
		{"only the latest missed run", "2026-11-20T03:00:00Z", "2026-11-27T10:00:00Z", "2026-11-27T03:00:00Z"},
		{"from creation", "2026-11-27T02:00:00Z", "2026-11-27T03:00:01Z", "2026-11-27T03:00:00Z"},
		{"in UTC whatever the zone of since", "2026-11-27T05:00:00+02:00", "2026-11-28T03:00:00Z", "2026-11-28T03:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lastDue(sched, at(tc.since), at(tc.now))
			var want time.Time
			if tc.want != "" {
				want = at(tc.want)
			}
			if !got.Equal(want) {
				t.Errorf("lastDue() = %v, want %v", got, want)
			}
		})
	}
	if got := scheduledBackupName("acme", at("2026-11-27T05:04:03+02:00")); got != "acme-20261127030403" {
		t.Errorf("scheduledBackupName() = %q, want the UTC time", got)
	}
	if got := schedulePeriod(sched, at("2026-11-27T03:05:00Z")); got != 24*time.Hour {
		t.Errorf("schedulePeriod() = %v, want 24h", got)
	}
}

func TestBackupHealth(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	daily, err := parseSchedule("0 3 * * *")
	if err != nil {
		t.Fatal(err)
	}
	backup := func(name string, phase pbv1alpha1.BackupPhase, ago time.Duration) pbv1alpha1.PocketBaseBackup {
		b := pbv1alpha1.PocketBaseBackup{ObjectMeta: metav1.ObjectMeta{Name: name}}
		b.Status.Phase = phase
		b.Status.Message = "boom"
		b.Status.Location = "s3://b/" + name + ".zip"
		if phase == pbv1alpha1.BackupCompleted || phase == pbv1alpha1.BackupFailed {
			b.Status.CompletedAt = &metav1.Time{Time: now.Add(-ago)}
		}
		return b
	}
	pbi := &pbv1alpha1.PocketBaseInstance{Spec: pbv1alpha1.PocketBaseInstanceSpec{Backup: &pbv1alpha1.BackupSpec{Schedule: "0 3 * * *"}}}
	hibernated := pbi.DeepCopy()
	hibernated.Spec.Hibernation = &pbv1alpha1.HibernationSpec{Hibernated: true}

	tests := []struct {
		name       string
		pbi        *pbv1alpha1.PocketBaseInstance
		backups    []pbv1alpha1.PocketBaseBackup
		wantReason string
		wantIn     string
		wantCheck  bool
	}{
		{"none finished", pbi, []pbv1alpha1.PocketBaseBackup{backup("r", pbv1alpha1.BackupRunning, 0)}, pbv1alpha1.ReasonNoBackupYet, "No backup", false},
		{"newest failed", pbi, []pbv1alpha1.PocketBaseBackup{backup("ok", pbv1alpha1.BackupCompleted, 9*time.Hour), backup("bad", pbv1alpha1.BackupFailed, time.Hour)},
			pbv1alpha1.ReasonBackupFailed, "bad, failed: boom", false},
		{"newest succeeded", pbi, []pbv1alpha1.PocketBaseBackup{backup("bad", pbv1alpha1.BackupFailed, 30*time.Hour), backup("ok", pbv1alpha1.BackupCompleted, 9*time.Hour)},
			pbv1alpha1.ReasonBackupSucceeded, "s3://b/ok.zip", true},
		{"older than two periods", pbi, []pbv1alpha1.PocketBaseBackup{backup("old", pbv1alpha1.BackupCompleted, 49*time.Hour)},
			pbv1alpha1.ReasonBackupOverdue, "more than two schedule periods (48h0m0s)", false},
		{"a hibernated instance is never overdue", hibernated, []pbv1alpha1.PocketBaseBackup{backup("old", pbv1alpha1.BackupCompleted, 90*time.Hour)},
			pbv1alpha1.ReasonBackupSucceeded, "old", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := summarizeBackups(tc.backups)
			cond, recheck := backupHealth(tc.pbi, daily, tc.backups, st, now)
			if cond.Reason != tc.wantReason || !strings.Contains(cond.Message, tc.wantIn) {
				t.Errorf("condition = %s %q, want %s containing %q", cond.Reason, cond.Message, tc.wantReason, tc.wantIn)
			}
			wantStatus := metav1.ConditionFalse
			if tc.wantReason == pbv1alpha1.ReasonBackupSucceeded {
				wantStatus = metav1.ConditionTrue
			}
			if cond.Status != wantStatus {
				t.Errorf("status = %s, want %s", cond.Status, wantStatus)
			}
			if (recheck > 0) != tc.wantCheck {
				t.Errorf("recheck = %v, want a recheck: %v", recheck, tc.wantCheck)
			}
		})
	}
}
