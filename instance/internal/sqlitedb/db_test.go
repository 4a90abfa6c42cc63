package sqlitedb_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

func openTemp(t *testing.T) *sqlitedb.DB {
	t.Helper()
	db, err := sqlitedb.Open(t.Context(), filepath.Join(t.TempDir(), "data.db"), sqlitedb.Options{})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	})
	return db
}

func TestOpenAppliesPocketBasePragmas(t *testing.T) {
	db := openTemp(t)

	tests := []struct{ pragma, want string }{
		{"busy_timeout", "10000"},
		{"journal_mode", "wal"},
		{"journal_size_limit", "200000000"},
		{"synchronous", "1"}, // NORMAL
		{"foreign_keys", "1"},
		{"temp_store", "2"}, // MEMORY
	}
	pools := map[string]*sql.DB{"reader": db.Read(), "writer": db.Write()}
	// the readers trade PocketBase's private 32 MB page cache for a shared memory map
	own := map[string][]struct{ pragma, want string }{
		"reader": {{"cache_size", "-2000"}, {"mmap_size", "268435456"}},
		"writer": {{"cache_size", "-32000"}, {"mmap_size", "0"}},
	}
	for poolName, pool := range pools {
		for _, tc := range append(own[poolName], tests...) {
			t.Run(poolName+"/"+tc.pragma, func(t *testing.T) {
				var got string
				if err := pool.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Fatalf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
				}
			})
		}
	}
}

func TestOpenPoolSizes(t *testing.T) {
	tests := []struct {
		name       string
		opts       sqlitedb.Options
		wantReader int
	}{
		{name: "defaults are sized to the CPUs", opts: sqlitedb.Options{}, wantReader: sqlitedb.DefaultReaders()},
		{name: "data sizes", opts: sqlitedb.DataOptions, wantReader: sqlitedb.DefaultReaders()},
		{name: "aux sizes", opts: sqlitedb.AuxOptions, wantReader: 4},
		{name: "explicit", opts: sqlitedb.Options{MaxOpenConns: 7}, wantReader: 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sqlitedb.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()

			if got := db.Read().Stats().MaxOpenConnections; got != tc.wantReader {
				t.Errorf("reader MaxOpenConnections = %d, want %d", got, tc.wantReader)
			}
			if got := db.Write().Stats().MaxOpenConnections; got != 1 {
				t.Errorf("writer MaxOpenConnections = %d, want 1", got)
			}
		})
	}
}

func TestOpenFailsOnMissingDirectory(t *testing.T) {
	_, err := sqlitedb.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "data.db"), sqlitedb.Options{})
	if err == nil {
		t.Fatal("Open() in a missing directory succeeded, want error")
	}
}

func TestTx(t *testing.T) {
	errBoom := errors.New("boom")

	tests := []struct {
		name      string
		fn        func(tx *sql.Tx) error
		wantErr   error
		wantPanic bool
		wantRows  int
	}{
		{
			name:     "commit",
			fn:       func(tx *sql.Tx) error { _, err := tx.Exec("INSERT INTO t (v) VALUES ('a')"); return err },
			wantRows: 1,
		},
		{
			name: "rollback on error",
			fn: func(tx *sql.Tx) error {
				if _, err := tx.Exec("INSERT INTO t (v) VALUES ('a')"); err != nil {
					return err
				}
				return errBoom
			},
			wantErr: errBoom,
		},
		{
			name: "rollback on panic",
			fn: func(tx *sql.Tx) error {
				if _, err := tx.Exec("INSERT INTO t (v) VALUES ('a')"); err != nil {
					return err
				}
				panic("boom")
			},
			wantPanic: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openTemp(t)
			ctx := t.Context()
			if _, err := db.Write().ExecContext(ctx, "CREATE TABLE t (v TEXT)"); err != nil {
				t.Fatal(err)
			}

			func() {
				defer func() {
					if p := recover(); (p != nil) != tc.wantPanic {
						t.Fatalf("recover() = %v, want panic %v", p, tc.wantPanic)
					}
				}()
				err := db.Tx(ctx, tc.fn)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Tx() error = %v, want %v", err, tc.wantErr)
				}
			}()

			var n int
			if err := db.Read().QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tc.wantRows {
				t.Fatalf("rows after Tx = %d, want %d", n, tc.wantRows)
			}

			// The writer connection must be usable again (nothing left open).
			if err := db.Tx(ctx, func(tx *sql.Tx) error { _, err := tx.Exec("DELETE FROM t"); return err }); err != nil {
				t.Fatalf("Tx() after %s: %v", tc.name, err)
			}
		})
	}
}

func TestReadersSeeCommittedSnapshotDuringWrite(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()
	if _, err := db.Write().ExecContext(ctx, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('old')"); err != nil {
		t.Fatal(err)
	}

	inTx := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.Exec("UPDATE t SET v = 'new'"); err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
		if err != nil {
			t.Errorf("Tx() error = %v", err)
		}
	}()

	<-inTx
	// WAL: readers are not blocked by the open write transaction and see the last commit.
	var got string
	if err := db.Read().QueryRowContext(ctx, "SELECT v FROM t").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "old" {
		t.Fatalf("reader saw %q during the write, want old", got)
	}
	close(release)
	wg.Wait()

	if err := db.Read().QueryRowContext(ctx, "SELECT v FROM t").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "new" {
		t.Fatalf("reader saw %q after commit, want new", got)
	}
}

func TestIsLockedAndIsConstraint(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "data.db")
	db, err := sqlitedb.Open(ctx, path, sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Write().ExecContext(ctx, "CREATE TABLE t (v TEXT UNIQUE); INSERT INTO t VALUES ('a')"); err != nil {
		t.Fatal(err)
	}

	_, dupErr := db.Write().ExecContext(ctx, "INSERT INTO t VALUES ('a')")

	// A second, impatient handle on the same file while db holds the write lock.
	other, err := sql.Open(sqlitedb.DriverName, path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	var lockedErr error
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		_, lockedErr = other.ExecContext(ctx, "INSERT INTO t VALUES ('b')")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name           string
		err            error
		wantLocked     bool
		wantConstraint bool
	}{
		{name: "busy", err: lockedErr, wantLocked: true},
		{name: "unique", err: dupErr, wantConstraint: true},
		{name: "plain error", err: errors.New("database is locked")},
		{name: "nil", err: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sqlitedb.IsLocked(tc.err); got != tc.wantLocked {
				t.Errorf("IsLocked(%v) = %v, want %v", tc.err, got, tc.wantLocked)
			}
			if got := sqlitedb.IsConstraint(tc.err); got != tc.wantConstraint {
				t.Errorf("IsConstraint(%v) = %v, want %v", tc.err, got, tc.wantConstraint)
			}
		})
	}
}

func TestTxWaitsForAnotherProcessWriter(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "data.db")
	db, err := sqlitedb.Open(ctx, path, sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Write().ExecContext(ctx, "CREATE TABLE t (v TEXT)"); err != nil {
		t.Fatal(err)
	}

	other, err := sql.Open(sqlitedb.DriverName, path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE; INSERT INTO t VALUES ('other')"); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		done <- db.Tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec("INSERT INTO t VALUES ('ours')")
			return err
		})
	}()

	// Give the writer time to hit the lock, so that it has to wait on busy_timeout.
	time.Sleep(200 * time.Millisecond)
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Tx() while another connection wrote: %v", err)
	}

	var n int
	if err := db.Read().QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("rows = %d, want 2", n)
	}
}

func TestHasTable(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()
	if _, err := db.Write().ExecContext(ctx, "CREATE TABLE `Things` (v TEXT); CREATE VIEW v1 AS SELECT 1"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		want bool
	}{
		{"Things", true},
		{"things", true},
		{"v1", true},
		{"missing", false},
		{"sqlite_autoindex_x", false},
	}
	for _, tc := range tests {
		got, err := db.HasTable(ctx, tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("HasTable(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOpenWriterCacheSize(t *testing.T) {
	for name, tc := range map[string]struct {
		opts sqlitedb.Options
		want string
	}{
		"data keeps PocketBase's": {sqlitedb.DataOptions, "-32000"},
		"aux is small":            {sqlitedb.AuxOptions, "-2000"},
		"explicit":                {sqlitedb.Options{WriterCacheKiB: 500}, "-500"},
	} {
		t.Run(name, func(t *testing.T) {
			db, err := sqlitedb.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var got string
			if err := db.Write().QueryRowContext(t.Context(), "PRAGMA cache_size").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("writer cache_size = %s, want %s", got, tc.want)
			}
		})
	}
}
