package core_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// TestRecordWriteEvents checks the after-commit events of the write path: one per
// saved record, and one prepared delete per deleted record, cascades included.
func TestRecordWriteEvents(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))

	var (
		mu     sync.Mutex
		events []string
	)
	app.OnRecordChange(func(_ context.Context, e core.RecordEvent) {
		mu.Lock()
		defer mu.Unlock()
		prepared := ""
		if e.Prepared() {
			prepared = " prepared"
		}
		events = append(events, e.Action+" "+e.Record.Collection().Name+prepared)
	})

	tags, err := app.FindCachedCollectionByNameOrID(t.Context(), "tags")
	if err != nil {
		t.Fatal(err)
	}
	form := core.NewRecordCreate(tags)
	form.SetAccess(core.RecordAccessSuperuser)
	form.Load(form.ResolveBody(map[string]any{"label": "events"}))
	created, err := app.SaveRecord(t.Context(), form)
	if err != nil {
		t.Fatal(err)
	}

	update, err := app.NewRecordUpdate(t.Context(), tags, created.ID())
	if err != nil {
		t.Fatal(err)
	}
	update.Load(update.ResolveBody(map[string]any{"label": "events2"}))
	if _, err := app.SaveRecord(t.Context(), update); err != nil {
		t.Fatal(err)
	}

	// a failed save publishes nothing
	dup := core.NewRecordCreate(tags)
	dup.Load(dup.ResolveBody(map[string]any{"label": "go"}))
	if _, err := app.SaveRecord(t.Context(), dup); err == nil {
		t.Fatal("duplicate label saved")
	}

	posts, err := app.FindCachedCollectionByNameOrID(t.Context(), "posts")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.DeleteRecord(t.Context(), posts, "hxjy4dmsjikjbj4"); err != nil {
		t.Fatal(err)
	}

	if err := app.DeleteRecord(t.Context(), tags, "4mc6mb7m44flme3"); err != nil {
		t.Fatal(err)
	}

	want := []string{"create tags", "update tags", "delete posts prepared"}
	for range 3 { // the post's three comments, cascaded
		want = append(want, "delete comments prepared")
	}
	want = append(want, "delete tags prepared")
	for range 4 { // the posts that lose the tag
		want = append(want, "update posts")
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(events, want) {
		t.Errorf("events = %q, want %q", events, want)
	}
}
