package sqlitedb

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

func openCacheTestDB(t *testing.T, size int) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), Options{MaxOpenConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	db.stmts = newStmtCache(db.read, size)
	if _, err := db.Write().ExecContext(t.Context(), "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := db.Write().ExecContext(t.Context(), "INSERT INTO t (v) VALUES (?)", fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func countAbove(ctx context.Context, t *testing.T, db *DB, query string, arg int) int {
	t.Helper()
	var n int
	if err := db.QueryRow(ctx, query, arg).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestStmtCacheEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := t.Context()
	db := openCacheTestDB(t, 2)
	queries := []string{
		"SELECT COUNT(*) FROM t WHERE id > ?1",
		"SELECT COUNT(*) FROM t WHERE id > ?1 AND 1",
		"SELECT COUNT(*) FROM t WHERE id > ?1 AND 2",
	}
	for round := range 3 {
		for i, q := range queries {
			if got := countAbove(ctx, t, db, q, i); got != 5-i {
				t.Fatalf("round %d: %s = %d, want %d", round, q, got, 5-i)
			}
		}
	}
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	if len(db.stmts.entries) != 2 || db.stmts.recent.Len() != 2 {
		t.Fatalf("cache holds %d entries (%d in order), want 2", len(db.stmts.entries), db.stmts.recent.Len())
	}
	for _, q := range queries[1:] {
		if _, ok := db.stmts.entries[q]; !ok {
			t.Errorf("the most recent query %q is not cached", q)
		}
	}
}

func TestStmtCacheSeesSchemaChanges(t *testing.T) {
	ctx := t.Context()
	db := openCacheTestDB(t, 4)
	columns := func() []string {
		rows, err := db.Query(ctx, "SELECT * FROM t WHERE id = ?1", 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		return cols
	}
	if got := columns(); len(got) != 2 {
		t.Fatalf("columns = %v, want id, v", got)
	}
	if _, err := db.Write().ExecContext(ctx, "ALTER TABLE t ADD COLUMN w TEXT"); err != nil {
		t.Fatal(err)
	}
	if got := columns(); len(got) != 3 || got[2] != "w" {
		t.Fatalf("columns after ALTER TABLE = %v, want id, v, w", got)
	}
	if _, err := db.Write().ExecContext(ctx, "DROP TABLE t"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(ctx, "SELECT * FROM t WHERE id = ?1", 1); err == nil {
		t.Fatal("querying a dropped table succeeded")
	}
}

func TestStmtCacheConcurrentUseAndEviction(t *testing.T) {
	ctx := t.Context()
	db := openCacheTestDB(t, 3)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Go(func() {
			for i := range 200 {
				k := (w + i) % 6
				rows, err := db.Query(ctx, fmt.Sprintf("SELECT v FROM t WHERE id > ?1 AND %d = %d ORDER BY id", k, k), 2)
				if err != nil {
					errs <- err
					return
				}
				n := 0
				for rows.Next() {
					n++
				}
				_ = rows.Close()
				if n != 3 {
					errs <- fmt.Errorf("query %d read %d rows, want 3", k, n)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestStmtCacheAfterClose(t *testing.T) {
	db := openCacheTestDB(t, 2)
	ctx := t.Context()
	if got := countAbove(ctx, t, db, "SELECT COUNT(*) FROM t WHERE id > ?1", 0); got != 5 {
		t.Fatalf("count = %d, want 5", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(ctx, "SELECT COUNT(*) FROM t WHERE id > ?1", 0); err == nil {
		t.Fatal("Query after Close succeeded")
	}
}

func TestQueryReportsBadSQL(t *testing.T) {
	db := openCacheTestDB(t, 2)
	ctx := t.Context()
	if _, err := db.Query(ctx, "SELECT nope FROM t"); err == nil {
		t.Error("Query of a missing column succeeded")
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT nope FROM t").Scan(&n); err == nil {
		t.Error("QueryRow of a missing column succeeded")
	}
}
