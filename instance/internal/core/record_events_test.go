package core_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func newEventsApp(t *testing.T) *core.App {
	t.Helper()
	app, err := core.New(t.Context(), core.Config{DataDir: filepath.Join(t.TempDir(), "pb_data"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })
	return app
}

// someRecord returns a record of the _superusers collection, which every app has.
func someRecord(t *testing.T, app *core.App) *core.Record {
	t.Helper()
	c, err := app.FindCollectionByNameOrID(t.Context(), core.CollectionNameSuperusers)
	if err != nil {
		t.Fatal(err)
	}
	return core.NewRecordFromRow(c, map[string]any{"id": "r1"})
}

func TestRecordEvents(t *testing.T) {
	app := newEventsApp(t)
	r := someRecord(t, app)
	ctx := t.Context()

	var got []string
	off1 := app.OnRecordChange(func(_ context.Context, e core.RecordEvent) {
		got = append(got, "h1:"+e.Action+":"+e.Record.ID())
	})
	app.OnRecordChange(func(_ context.Context, e core.RecordEvent) {
		if e.Action == core.RecordActionUpdate {
			panic("boom") // logged, never propagated
		}
		got = append(got, "h2:"+e.Action)
	})
	app.OnRecordDeletePrepare(func(_ context.Context, e core.RecordEvent) func(context.Context) {
		got = append(got, "prepare:"+e.Record.ID())
		return func(context.Context) { got = append(got, "after-commit") }
	})

	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionCreate, Record: r})
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionUpdate, Record: r})
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionCreate}) // no record: ignored

	p := app.PrepareRecordDelete(ctx, r)
	got = append(got, "commit")
	p.Publish(ctx)
	p.Publish(ctx) // once only

	app.PrepareRecordDelete(ctx, r) // rolled back: never published

	off1()
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionDelete, Record: r})

	want := []string{
		"h1:create:r1", "h2:create",
		"h1:update:r1",
		"prepare:r1", "commit", "after-commit", "h1:delete:r1", "h2:delete",
		"prepare:r1",
		"h2:delete",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestRecordEventPrepared(t *testing.T) {
	app := newEventsApp(t)
	r := someRecord(t, app)

	var prepared []bool
	app.OnRecordChange(func(_ context.Context, e core.RecordEvent) { prepared = append(prepared, e.Prepared()) })
	app.PublishRecordEvent(t.Context(), core.RecordEvent{Action: core.RecordActionDelete, Record: r})
	app.PrepareRecordDelete(t.Context(), r).Publish(t.Context())

	if diff := cmp.Diff([]bool{false, true}, prepared); diff != "" {
		t.Errorf("Prepared() (-want +got):\n%s", diff)
	}
}

func TestAppTerminate(t *testing.T) {
	app, err := core.New(t.Context(), core.Config{DataDir: filepath.Join(t.TempDir(), "pb_data"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}

	var got []string
	app.OnTerminate(func() { got = append(got, "first") })
	off := app.OnTerminate(func() { got = append(got, "removed") })
	app.OnTerminate(func() { got = append(got, "second") })
	off()

	if err := app.Close(); err != nil { // Close terminates
		t.Fatal(err)
	}
	app.Terminate() // once only
	app.OnTerminate(func() { got = append(got, "late") })

	if diff := cmp.Diff([]string{"second", "first", "late"}, got); diff != "" {
		t.Errorf("terminate hooks (-want +got):\n%s", diff)
	}
}

func TestRecordFresh(t *testing.T) {
	app := newEventsApp(t)
	r := someRecord(t, app)
	f := r.Fresh()
	if f == r || f.ID() != "r1" || f.Collection() != r.Collection() || f.Expand() != nil {
		t.Errorf("Fresh() = %+v", f)
	}
}
