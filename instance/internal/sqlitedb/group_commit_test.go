package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func openGroupTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "g.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Write().ExecContext(t.Context(), "CREATE TABLE t (v TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	return db
}

func storedValues(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.Read().QueryContext(t.Context(), "SELECT v FROM t ORDER BY v")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func insert(v string) func(tx *sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), "INSERT INTO t (v) VALUES (?)", v)
		return err
	}
}

func newCall(ctx context.Context, fn func(tx *sql.Tx) error) *txCall {
	return &txCall{ctx: ctx, fn: fn, done: make(chan error, 1)}
}

func TestGroupCommitIsolatesEachCall(t *testing.T) {
	db := openGroupTestDB(t)
	errBoom := errors.New("boom")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	var seen int
	calls := []*txCall{
		newCall(t.Context(), insert("a")),
		newCall(t.Context(), func(tx *sql.Tx) error {
			if err := insert("b")(tx); err != nil {
				return err
			}
			return errBoom // b is rolled back
		}),
		newCall(t.Context(), insert("a")), // a unique violation, after a's insert
		newCall(t.Context(), func(tx *sql.Tx) error {
			if err := insert("c")(tx); err != nil {
				return err
			}
			panic("kaboom") // c is rolled back
		}),
		newCall(cancelled, insert("d")), // never run
		newCall(t.Context(), func(tx *sql.Tx) error {
			// the earlier calls' changes are visible, as after their commits
			if err := tx.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM t").Scan(&seen); err != nil {
				return err
			}
			return insert("e")(tx)
		}),
	}
	db.group.run(calls)

	results := make([]error, len(calls))
	for i, c := range calls {
		results[i] = <-c.done
	}
	if results[0] != nil || results[5] != nil {
		t.Errorf("successful calls returned %v, %v", results[0], results[5])
	}
	if !errors.Is(results[1], errBoom) {
		t.Errorf("failing call returned %v, want boom", results[1])
	}
	if !IsConstraint(results[2]) {
		t.Errorf("duplicate insert returned %v, want a constraint error", results[2])
	}
	var p panicError
	if !errors.As(results[3], &p) || p.value != "kaboom" {
		t.Errorf("panicking call returned %v, want its panic", results[3])
	}
	if !errors.Is(results[4], context.Canceled) {
		t.Errorf("cancelled call returned %v", results[4])
	}
	if seen != 1 {
		t.Errorf("the last call saw %d rows, want 1 (a)", seen)
	}
	if got := storedValues(t, db); !slices.Equal(got, []string{"a", "e"}) {
		t.Errorf("stored %v, want [a e]", got)
	}
}

func TestGroupCommitRerunsCallsWhenTheTransactionEnds(t *testing.T) {
	db := openGroupTestDB(t)
	calls := []*txCall{
		newCall(t.Context(), insert("a")),
		newCall(t.Context(), func(tx *sql.Tx) error {
			// ends the group's transaction behind database/sql's back
			_, err := tx.ExecContext(context.Background(), "ROLLBACK")
			return err
		}),
		newCall(t.Context(), insert("b")),
	}
	db.group.run(calls)
	if err := <-calls[0].done; err != nil {
		t.Errorf("first call: %v", err)
	}
	if err := <-calls[1].done; err == nil {
		t.Error("the call that rolled back its own transaction succeeded")
	}
	if err := <-calls[2].done; err != nil {
		t.Errorf("last call: %v", err)
	}
	if got := storedValues(t, db); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("stored %v, want [a b] once each", got)
	}
}

func TestTxConcurrentCallsCommitTogether(t *testing.T) {
	db := openGroupTestDB(t)
	const n = 64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = db.Tx(t.Context(), func(tx *sql.Tx) error {
				if err := insert(fmt.Sprintf("v%02d", i))(tx); err != nil {
					return err
				}
				if i%4 == 3 {
					return fmt.Errorf("call %d fails", i)
				}
				return nil
			})
		})
	}
	wg.Wait()

	var want []string
	for i := range n {
		if i%4 == 3 {
			if errs[i] == nil {
				t.Errorf("call %d succeeded", i)
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("call %d: %v", i, errs[i])
		}
		want = append(want, fmt.Sprintf("v%02d", i))
	}
	if got := storedValues(t, db); !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
}

func TestTxPanicReachesItsCaller(t *testing.T) {
	db := openGroupTestDB(t)
	defer func() {
		if p := recover(); p != "kaboom" {
			t.Fatalf("recovered %v, want kaboom", p)
		}
		if got := storedValues(t, db); len(got) != 0 {
			t.Errorf("stored %v after the panic", got)
		}
	}()
	_ = db.Tx(t.Context(), func(tx *sql.Tx) error {
		_ = insert("a")(tx)
		panic("kaboom")
	})
}
