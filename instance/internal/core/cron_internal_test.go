package core

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

func TestCronScheduleIsDue(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		expr string
		t    string
		due  bool
	}{
		{"0 */6 * * *", "2026-11-27 06:00", true},
		{"0 */6 * * *", "2026-11-27 07:00", false},
		{"0 */6 * * *", "2026-11-27 06:01", false},
		{"0 0 * * *", "2026-11-27 00:00", true},
		{"0 * * * *", "2026-11-27 13:00", true},
		{"*/15 9-17 * * 1-5", "2026-11-27 09:45", true},  // a Friday
		{"*/15 9-17 * * 1-5", "2026-11-28 09:45", false}, // Saturday
		{"@daily", "2026-11-27 00:00", true},
		{"@weekly", "2026-11-29 00:00", true}, // Sunday
		{"30 2 27 11 *", "2026-11-27 02:30", true},
		{"30 2 27 12 *", "2026-11-27 02:30", false},
		// PocketBase ANDs day of month and day of week
		{"0 0 27 * 0", "2026-11-27 00:00", false},
	}
	for _, tc := range tests {
		s, err := parseCronSchedule(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got := s.IsDue(at(tc.t)); got != tc.due {
			t.Errorf("%q at %s: due = %v, want %v", tc.expr, tc.t, got, tc.due)
		}
	}

	for _, bad := range []string{"", "* * * *", "60 * * * *", "* * * * * *", "*/0 * * * *", "a * * * *"} {
		if _, err := parseCronSchedule(bad); err == nil {
			t.Errorf("parseCronSchedule(%q) succeeded", bad)
		}
	}
}

func TestCronJobsAndDueRuns(t *testing.T) {
	now := time.Date(2026, 11, 27, 5, 59, 0, 0, time.UTC)
	app, err := New(t.Context(), Config{
		DataDir: filepath.Join(t.TempDir(), "pb_data"),
		Logger:  slog.New(slog.DiscardHandler),
		Now:     func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()

	ids := func() []string {
		var out []string
		for _, j := range app.CronJobs() {
			out = append(out, j.ID+" "+j.Expression)
		}
		return out
	}
	want := []string{"__pbDBOptimize__ 0 0 * * *", "__pbMFACleanup__ 0 * * * *", "__pbOTPCleanup__ 0 * * * *", "__pbLogsCleanup__ 0 */6 * * *"}
	if got := ids(); len(got) != 4 || got[0] != want[0] || got[3] != want[3] {
		t.Fatalf("jobs = %q, want %q", got, want)
	}

	s := app.Settings()
	s.Backups.Cron = "*/5 * * * *"
	s.Backups.CronMaxKeep = 2
	if err := app.SaveSettings(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	if got := ids(); len(got) != 5 || got[4] != "__pbAutoBackup__ */5 * * * *" {
		t.Fatalf("jobs with backups.cron = %q", got)
	}
	if err := app.RunCronJob("nope"); err == nil {
		t.Error("RunCronJob(nope) succeeded")
	}

	// a log older than maxDays (5) and a recent one
	app.AddLog(LogEntry{Time: now.AddDate(0, 0, -6), Message: "old"})
	app.AddLog(LogEntry{Time: now.Add(-time.Hour), Message: "recent"})
	if err := app.FlushLogs(t.Context()); err != nil {
		t.Fatal(err)
	}

	// 06:00 is due for the logs cleanup, the MFA/OTP cleanups and the auto backup
	wait := func() { app.maint.bg.Wait() }
	app.runDueCronJobs(now.Add(time.Minute))
	wait()
	logs, err := app.queryLogs(context.Background(), "SELECT "+logColumns+" FROM _logs")
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 1 || logs[0].Message != "recent" {
		t.Errorf("logs after the 06:00 cleanup = %+v", logs)
	}

	// auto backups are pruned to cronMaxKeep
	for i := range 3 {
		now = now.Add(time.Duration(i+1) * time.Second)
		if err := app.RunCronJob(CronJobAutoBackup); err != nil {
			t.Fatal(err)
		}
		wait()
	}
	list, err := app.ListBackups(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("auto backups kept = %+v, want 2", list)
	}
	for _, b := range list {
		if b.Key[:len(autoBackupPrefix)] != autoBackupPrefix {
			t.Errorf("auto backup name %q", b.Key)
		}
	}
}

func TestSyncLogSettings(t *testing.T) {
	now := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	app, err := New(t.Context(), Config{
		DataDir: filepath.Join(t.TempDir(), "pb_data"),
		Logger:  slog.New(slog.DiscardHandler),
		Now:     func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()

	app.AddLog(LogEntry{Time: now.AddDate(0, 0, -3), Level: LogLevelError, Message: "3 days old"})
	app.AddLog(LogEntry{Time: now, Level: LogLevelInfo, Message: "info"})
	app.AddLog(LogEntry{Time: now, Level: LogLevelError, Message: "error"})
	if err := app.FlushLogs(t.Context()); err != nil {
		t.Fatal(err)
	}
	messages := func() []string {
		logs, err := app.queryLogs(t.Context(), "SELECT "+logColumns+" FROM _logs ORDER BY message")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range logs {
			out = append(out, l.Message)
		}
		return out
	}

	// saving unchanged settings (maxDays 5, every level) keeps them all
	if err := app.SaveSettings(t.Context(), app.Settings()); err != nil {
		t.Fatal(err)
	}
	if got := messages(); len(got) != 3 {
		t.Fatalf("logs = %q", got)
	}

	s := app.Settings()
	s.Logs.MaxDays = 2
	s.Logs.MinLevel = 4
	if err := app.SaveSettings(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	if got := messages(); len(got) != 1 || got[0] != "error" {
		t.Fatalf("logs after maxDays=2, minLevel=4: %q", got)
	}

	s.Logs.MaxDays = 0
	if err := app.SaveSettings(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	if got := messages(); len(got) != 0 {
		t.Fatalf("logs after maxDays=0: %q", got)
	}
}
