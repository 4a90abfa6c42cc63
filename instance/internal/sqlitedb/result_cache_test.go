package sqlitedb

import (
	"context"
	"database/sql"
	"testing"
)

// cachedCount counts t's rows through the result cache and reports whether it loaded.
func cachedCount(ctx context.Context, t *testing.T, db *DB, size int) (n int, loaded bool) {
	t.Helper()
	v, err := db.Cached(ctx, "count", func() (any, int, error) {
		loaded = true
		var n int
		err := db.QueryRow(ctx, "SELECT COUNT(*) FROM t").Scan(&n)
		return n, size, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v.(int), loaded
}

func TestCachedUntilACommit(t *testing.T) {
	ctx := t.Context()
	db := openCacheTestDB(t, 4)
	expect := func(step string, wantN int, wantLoaded bool) {
		t.Helper()
		n, loaded := cachedCount(ctx, t, db, 8)
		if n != wantN || loaded != wantLoaded {
			t.Fatalf("%s: count %d (loaded %v), want %d (loaded %v)", step, n, loaded, wantN, wantLoaded)
		}
	}
	expect("first", 5, true)
	expect("again", 5, false)

	if _, err := db.Write().ExecContext(ctx, "INSERT INTO t (v) VALUES ('x')"); err != nil {
		t.Fatal(err)
	}
	expect("after the writer's commit", 6, true)
	expect("again", 6, false)

	// a rolled back transaction changes nothing
	tx, err := db.Write().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t (v) VALUES ('y')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	expect("after a rollback", 6, false)

	// another process's connection
	other, err := sql.Open(DriverName, db.Path()+"?"+Pragmas)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, "DELETE FROM t WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	expect("after another connection's commit", 5, true)

	// a new watcher connection (epoch) never matches the old numbers
	db.version.close()
	expect("after the watcher was replaced", 5, true)
	expect("again", 5, false)
}

func TestCachedSkipsLargeValues(t *testing.T) {
	ctx := t.Context()
	db := openCacheTestDB(t, 4)
	for i := range 2 {
		if _, loaded := cachedCount(ctx, t, db, resultCacheMaxEntry+1); !loaded {
			t.Fatalf("call %d: a value above the entry limit was cached", i+1)
		}
	}
}

func TestResultCacheEvictsToItsBudget(t *testing.T) {
	c := newResultCache()
	const size = resultCacheMaxEntry - 16
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r"}
	for _, k := range keys {
		c.put(1, k, k, size)
	}
	if c.bytes > resultCacheBytes {
		t.Fatalf("cache holds %d bytes, over its %d budget", c.bytes, resultCacheBytes)
	}
	if _, ok := c.get(1, "r"); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := c.get(1, "a"); ok {
		t.Error("the oldest entry was kept")
	}
	c.put(0, "old", "old", 1)
	if _, ok := c.get(1, "old"); ok {
		t.Error("a value loaded at an older version was cached")
	}
	if _, ok := c.get(2, "r"); ok {
		t.Error("an entry survived a new version")
	}
	if c.bytes != 0 || len(c.entries) != 0 {
		t.Errorf("a new version left %d entries, %d bytes", len(c.entries), c.bytes)
	}
}
