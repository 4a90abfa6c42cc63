package core_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// TestQueryRecordsSeesEveryCommit checks that cached records and counts never outlive a
// change of the data, whoever makes it, and that callers get records of their own.
func TestQueryRecordsSeesEveryCommit(t *testing.T) {
	ctx := t.Context()
	dir := apitest.CopyFixture(t)
	app := apitest.NewTestApp(t, dir)
	tags, err := app.FindCachedCollectionByNameOrID(ctx, "tags")
	if err != nil {
		t.Fatal(err)
	}
	list := core.RecordQuery(tags)
	list.AndOrderBy(search.QuoteIdent("tags", "label") + " ASC")
	count := core.RecordQuery(tags)
	count.Selects = []string{"COUNT(*)"}

	labels := func(step string) []string {
		t.Helper()
		records, err := app.QueryRecords(ctx, tags, list.Build())
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		n, err := app.CountRecords(ctx, count.Build())
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		out := make([]string, len(records))
		for i, r := range records {
			out[i] = r.GetString("label")
		}
		if n != len(out) {
			t.Fatalf("%s: count %d for %d records", step, n, len(out))
		}
		return out
	}
	expect := func(step string, want ...string) {
		t.Helper()
		got := labels(step)
		if len(got) != len(want) {
			t.Fatalf("%s: labels %v, want %v", step, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: labels %v, want %v", step, got, want)
			}
		}
	}

	expect("first", "go", "kubernetes", "sqlite")
	expect("again (cached)", "go", "kubernetes", "sqlite")

	// every caller gets records of its own (enrichment changes them)
	a, errA := app.QueryRecords(ctx, tags, list.Build())
	b, errB := app.QueryRecords(ctx, tags, list.Build())
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if a[0] == b[0] {
		t.Fatal("two calls share a record")
	}

	if _, err := app.DB().Write().ExecContext(ctx, "UPDATE tags SET label = 'zig' WHERE label = 'go'"); err != nil {
		t.Fatal(err)
	}
	expect("after this process's commit", "kubernetes", "sqlite", "zig")

	// another process (another connection to the file)
	other, err := sql.Open("sqlite", dir+"/data.db")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(context.Background(), "DELETE FROM tags WHERE label = 'zig'"); err != nil {
		t.Fatal(err)
	}
	expect("after another connection's commit", "kubernetes", "sqlite")
}

// TestQueryRecordsRandomSortIsNotCached checks that @random orders are drawn again.
func TestQueryRecordsRandomSortIsNotCached(t *testing.T) {
	ctx := t.Context()
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	comments, err := app.FindCachedCollectionByNameOrID(ctx, "comments")
	if err != nil {
		t.Fatal(err)
	}
	q := core.RecordQuery(comments)
	q.AndOrderBy("RANDOM()")
	first := ""
	for range 20 {
		records, err := app.QueryRecords(ctx, comments, q.Build())
		if err != nil {
			t.Fatal(err)
		}
		order := ""
		for _, r := range records {
			order += r.GetString("id")
		}
		if first == "" {
			first = order
		} else if order != first {
			return
		}
	}
	t.Fatal("20 random orders of 20 comments were all the same: the order was cached")
}
