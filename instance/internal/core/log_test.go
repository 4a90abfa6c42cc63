package core_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newLogsTestApp(t *testing.T, c *clock) *core.App {
	t.Helper()
	app, err := core.New(t.Context(), core.Config{
		DataDir: filepath.Join(t.TempDir(), "pb_data"),
		Logger:  slog.New(slog.DiscardHandler),
		Now:     c.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })
	return app
}

func changeLogSettings(t *testing.T, app *core.App, change func(*core.LogsConfig)) {
	t.Helper()
	s := app.Settings()
	change(&s.Logs)
	if err := app.SaveSettings(t.Context(), s); err != nil {
		t.Fatal(err)
	}
}

func listLogs(t *testing.T, app *core.App, query string) []*core.Log {
	t.Helper()
	if err := app.FlushLogs(t.Context()); err != nil {
		t.Fatal(err)
	}
	q, _ := url.ParseQuery(query)
	res, err := app.ListLogs(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	return res.Items.([]*core.Log)
}

func TestLogsWriteAndQuery(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 27, 2, 30, 0, 0, time.UTC)}
	app := newLogsTestApp(t, c)

	app.AddLog(core.LogEntry{Level: core.LogLevelInfo, Message: "GET /a", Data: map[string]any{"type": "request", "status": 200}})
	app.AddLog(core.LogEntry{Level: core.LogLevelError, Message: "GET /b", Data: map[string]any{"type": "request", "status": 404}})
	app.AddLog(core.LogEntry{Level: core.LogLevelDebug, Message: "debug", Data: nil}) // below minLevel 0

	logs := listLogs(t, app, "sort=-level")
	if len(logs) != 2 {
		t.Fatalf("stored %d logs, want 2 (debug is below minLevel)", len(logs))
	}
	if logs[0].Message != "GET /b" || logs[0].Level != 8 || logs[0].Created != "2026-11-27 02:30:00.000Z" || len(logs[0].ID) != 15 {
		t.Errorf("first log = %+v", logs[0])
	}
	raw, _ := json.Marshal(logs[0])
	if want := `{"id":"` + logs[0].ID + `","created":"2026-11-27 02:30:00.000Z","data":{"status":404,"type":"request"},"message":"GET /b","level":8}`; string(raw) != want {
		t.Errorf("log JSON = %s\nwant %s", raw, want)
	}

	if got := listLogs(t, app, "filter=data.status>=400"); len(got) != 1 || got[0].Message != "GET /b" {
		t.Errorf("filter on data.status = %+v", got)
	}
	q, _ := url.ParseQuery("filter=nope=1")
	if _, err := app.ListLogs(t.Context(), q); err == nil {
		t.Error("filter on an unknown field succeeded")
	}

	one, err := app.FindLogByID(t.Context(), logs[1].ID)
	if err != nil || one.Message != "GET /a" {
		t.Errorf("FindLogByID = %+v, %v", one, err)
	}
	if _, err := app.FindLogByID(t.Context(), "missing"); err == nil {
		t.Error("FindLogByID(missing) succeeded")
	}

	c.t = c.t.Add(time.Hour)
	app.AddLog(core.LogEntry{Message: "later"})
	_ = app.FlushLogs(t.Context())
	stats, err := app.LogsStats(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	statsJSON, _ := json.Marshal(stats)
	if want := `[{"date":"2026-11-27 02:00:00.000Z","total":2},{"date":"2026-11-27 03:00:00.000Z","total":1}]`; string(statsJSON) != want {
		t.Errorf("stats = %s, want %s", statsJSON, want)
	}
	stats, err = app.LogsStats(t.Context(), "level=8")
	if err != nil || len(stats) != 1 || stats[0].Total != 1 {
		t.Errorf("filtered stats = %+v, %v", stats, err)
	}
	if _, err := app.LogsStats(t.Context(), "bad filter ((("); err == nil {
		t.Error("invalid stats filter succeeded")
	}

	// old logs cleanup, then truncate
	if err := app.DeleteOldLogs(t.Context(), c.t.Add(-30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := listLogs(t, app, ""); len(got) != 1 || got[0].Message != "later" {
		t.Errorf("after DeleteOldLogs: %+v", got)
	}
	if err := app.DeleteAllLogs(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := listLogs(t, app, ""); len(got) != 0 {
		t.Errorf("after DeleteAllLogs: %d logs", len(got))
	}
}

func TestLogsHonourSettings(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 27, 2, 30, 0, 0, time.UTC)}
	app := newLogsTestApp(t, c)

	changeLogSettings(t, app, func(l *core.LogsConfig) { l.MaxDays = 0 })
	app.AddLog(core.LogEntry{Level: core.LogLevelError, Message: "dropped"})
	if got := listLogs(t, app, ""); len(got) != 0 {
		t.Errorf("maxDays=0 stored %d logs", len(got))
	}

	changeLogSettings(t, app, func(l *core.LogsConfig) { l.MaxDays = 1; l.MinLevel = 4 })
	app.AddLog(core.LogEntry{Level: core.LogLevelInfo, Message: "info"})
	app.AddLog(core.LogEntry{Level: core.LogLevelWarn, Message: "warn"})
	if got := listLogs(t, app, ""); len(got) != 1 || got[0].Message != "warn" {
		t.Errorf("minLevel=4 stored %+v", got)
	}

	// data and message truncation (v0.40 maxDataSize, 8000 bytes messages)
	changeLogSettings(t, app, func(l *core.LogsConfig) { l.MinLevel = 0; l.MaxDataSize = 2 << 10 })
	app.AddLog(core.LogEntry{Message: strings.Repeat("m", 9000), Data: map[string]any{
		"a": "test1", "b": "test2", "c": strings.Repeat("a", (2<<10)-32) + "x",
	}})
	got := listLogs(t, app, "filter=message~'mmm'")
	if len(got) != 1 {
		t.Fatalf("truncated log missing: %+v", got)
	}
	if len(got[0].Message) != 8000 {
		t.Errorf("message length = %d, want 8000", len(got[0].Message))
	}
	want := `{"__pb_truncated__":true,"a":"test1","b":"test2","c":"` + strings.Repeat("a", (2<<10)-32) + `x"}`
	if string(got[0].Data) != want {
		t.Errorf("truncated data = %.80s…", got[0].Data)
	}
}

func TestLogsBatchedWrite(t *testing.T) {
	c := &clock{t: time.Now()}
	app := newLogsTestApp(t, c)
	const total = 1250
	for i := range total {
		app.AddLog(core.LogEntry{Message: "m", Data: map[string]any{"i": i}})
	}
	// a full batch (1000, several INSERT statements) is written by the background writer
	// without an explicit flush, before the periodic flush (3s) is due
	count := func() int {
		var n int
		if err := app.AuxDB().Read().QueryRowContext(t.Context(), "SELECT count(*) FROM _logs").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(2500 * time.Millisecond)
	for count() < 1000 {
		if time.Now().After(deadline) {
			t.Fatalf("background writer stored %d logs, want >= 1000", count())
		}
		time.Sleep(10 * time.Millisecond)
	}

	// every log is stored once, with its own data and id
	if err := app.FlushLogs(t.Context()); err != nil {
		t.Fatal(err)
	}
	var n, ids, values, sum int
	err := app.AuxDB().Read().QueryRowContext(t.Context(),
		"SELECT count(*), count(DISTINCT id), count(DISTINCT json_extract(data, '$.i')), sum(json_extract(data, '$.i')) FROM _logs").
		Scan(&n, &ids, &values, &sum)
	if err != nil {
		t.Fatal(err)
	}
	if n != total || ids != total || values != total || sum != total*(total-1)/2 {
		t.Fatalf("stored %d logs, %d ids, %d values summing to %d; want %d of each summing to %d", n, ids, values, sum, total, total*(total-1)/2)
	}
}

func TestLogsFlushedOnClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	app, err := core.New(t.Context(), core.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	app.AddLog(core.LogEntry{Message: "last words"})
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	app, err = core.New(t.Context(), core.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if got := listLogs(t, app, ""); len(got) != 1 || got[0].Message != "last words" {
		t.Fatalf("logs after reopen = %+v", got)
	}
}

// TestAppLoggerStoresLogs: as PocketBase's, the app logger's records at or above
// settings.logs.minLevel are stored in `_logs`, their attributes as data (groups nested,
// errors as messages); ProcessLogger's are not.
func TestAppLoggerStoresLogs(t *testing.T) {
	app := newLogsTestApp(t, &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)})
	ctx := t.Context()

	app.Logger().Debug("below the minimum level")
	app.ProcessLogger().Error("process output only")
	app.Logger().With("job", "restore").WithGroup("backup").Error("Failed to restore backup",
		slog.String("key", "a.zip"), slog.Any("error", errors.New("not a zip")), slog.Group("empty"))
	app.Logger().Warn("invalid data", "error", core.ValidationErrors{"name": {Code: "validation_required", Message: "cannot be blank"}})
	if err := app.FlushLogs(ctx); err != nil {
		t.Fatal(err)
	}

	logs := listLogs(t, app, "sort=level")
	if len(logs) != 2 {
		t.Fatalf("stored %d logs, want 2: %+v", len(logs), logs)
	}
	if l := logs[0]; l.Level != core.LogLevelWarn || l.Message != "invalid data" ||
		string(l.Data) != `{"error":{"data":{"name":"cannot be blank"},"raw":"name: cannot be blank"}}` {
		t.Errorf("warn log = %+v, data %s", l, l.Data)
	}
	if l := logs[1]; l.Level != core.LogLevelError || l.Message != "Failed to restore backup" ||
		string(l.Data) != `{"backup":{"error":"not a zip","key":"a.zip"},"job":"restore"}` {
		t.Errorf("error log = %+v, data %s", l, l.Data)
	}

	// minLevel above warn keeps only the error; maxDays 0 stores nothing
	changeLogSettings(t, app, func(l *core.LogsConfig) { l.MinLevel = core.LogLevelError })
	app.Logger().Warn("dropped")
	app.Logger().Error("kept")
	changeLogSettings(t, app, func(l *core.LogsConfig) { l.MaxDays = 0 })
	app.Logger().Error("not stored either")
	changeLogSettings(t, app, func(l *core.LogsConfig) { l.MaxDays = 5 })
	if err := app.FlushLogs(ctx); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, l := range listLogs(t, app, "sort=created,message") {
		msgs = append(msgs, l.Message)
	}
	if got := strings.Join(msgs, "|"); got != "Failed to restore backup|kept" {
		t.Errorf("stored messages %q", got)
	}
}
