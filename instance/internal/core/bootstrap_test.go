package core_test

import (
	"crypto/sha256"
	"database/sql"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// quiet discards the app logs of the tests.
var quiet = slog.New(slog.DiscardHandler)

// systemTables are the tables a fresh PocketBase v0.40.4 creates in data.db.
var systemTables = []string{
	"_migrations", "_params", "_collections",
	"_mfas", "_otps", "_externalAuths", "_authOrigins", "_superusers", "users",
}

// systemCollectionNames are the `_collections` rows of a fresh install, in rowid order.
var systemCollectionNames = []string{"_mfas", "_otps", "_externalAuths", "_authOrigins", "_superusers", "users"}

// openRaw opens a database file read-only, outside of sqlitedb, for inspection.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(sqlitedb.DriverName, "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

type masterRow struct {
	Type, Name, TblName, SQL string
}

// schema returns sqlite_master keyed by object name, restricted to the given tables
// (all when nil).
func schema(t *testing.T, db *sql.DB, tables []string) map[string]masterRow {
	t.Helper()
	rows, err := db.Query("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]masterRow{}
	for rows.Next() {
		var r masterRow
		if err := rows.Scan(&r.Type, &r.Name, &r.TblName, &r.SQL); err != nil {
			t.Fatal(err)
		}
		if tables == nil || slices.Contains(tables, r.TblName) {
			out[r.Name] = r
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func migrationFiles(t *testing.T, db *sql.DB) []string {
	t.Helper()
	files, err := sqlitedb.AppliedMigrations(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

type collectionRow struct {
	RowID                                                  int64
	ID, Type, Name, Fields, Indexes, Options               string
	System                                                 int64
	ListRule, ViewRule, CreateRule, UpdateRule, DeleteRule sql.NullString
	Created, Updated                                       string
}

var (
	secretRe   = regexp.MustCompile(`"secret":"[a-zA-Z0-9]{50}"`)
	datetimeRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$`)
)

// collections returns the system collection rows with what legitimately differs
// between two installs normalized: the random token secrets and the timestamps (checked
// for format, and updated >= created, before they are blanked).
func collections(t *testing.T, db *sql.DB) []collectionRow {
	t.Helper()
	rows, err := db.Query("SELECT rowid, id, system, type, name, fields, indexes, listRule, viewRule, createRule, " +
		"updateRule, deleteRule, options, created, updated FROM _collections ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()

	var out []collectionRow
	for rows.Next() {
		var r collectionRow
		if err := rows.Scan(&r.RowID, &r.ID, &r.System, &r.Type, &r.Name, &r.Fields, &r.Indexes, &r.ListRule, &r.ViewRule,
			&r.CreateRule, &r.UpdateRule, &r.DeleteRule, &r.Options, &r.Created, &r.Updated); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(systemCollectionNames, r.Name) {
			continue
		}
		if !datetimeRe.MatchString(r.Created) || !datetimeRe.MatchString(r.Updated) || r.Updated < r.Created {
			t.Errorf("collection %s: created %q, updated %q", r.Name, r.Created, r.Updated)
		}
		if r.Type == core.CollectionTypeAuth {
			if n := len(secretRe.FindAllString(r.Options, -1)); n != 5 {
				t.Errorf("collection %s: %d token secrets, want 5", r.Name, n)
			}
		}
		r.Options = secretRe.ReplaceAllString(r.Options, `"secret":"<random>"`)
		r.Created, r.Updated = "", ""
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// freshDir bootstraps an empty data directory and closes it.
func freshDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pb_data")
	app, err := core.New(t.Context(), core.Config{DataDir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBootstrapMatchesPocketBaseFixture(t *testing.T) {
	fresh := freshDir(t)
	fixture := apitest.CopyFixture(t)

	ours := openRaw(t, filepath.Join(fresh, "data.db"))
	theirs := openRaw(t, filepath.Join(fixture, "data.db"))
	oursAux := openRaw(t, filepath.Join(fresh, "auxiliary.db"))
	theirsAux := openRaw(t, filepath.Join(fixture, "auxiliary.db"))

	t.Run("data.db schema of the system tables", func(t *testing.T) {
		got, want := schema(t, ours, systemTables), schema(t, theirs, systemTables)
		if len(want) < len(systemTables) {
			t.Fatalf("fixture schema has %d objects, want at least %d", len(want), len(systemTables))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("sqlite_master mismatch (-fixture +ours):\n%s", diff)
		}
	})

	t.Run("data.db holds nothing else", func(t *testing.T) {
		got := slices.Sorted(maps.Keys(schema(t, ours, nil)))
		want := slices.Sorted(maps.Keys(schema(t, theirs, systemTables)))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("objects (-want +got):\n%s", diff)
		}
	})

	t.Run("auxiliary.db schema", func(t *testing.T) {
		if diff := cmp.Diff(schema(t, theirsAux, nil), schema(t, oursAux, nil)); diff != "" {
			t.Errorf("auxiliary sqlite_master mismatch (-fixture +ours):\n%s", diff)
		}
	})

	t.Run("_migrations rows", func(t *testing.T) {
		got, want := migrationFiles(t, ours), migrationFiles(t, theirs)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("migrations (-fixture +ours):\n%s", diff)
		}
		if diff := cmp.Diff(core.SystemMigrationFiles(), got); diff != "" {
			t.Errorf("SystemMigrationFiles() (-ours +recorded):\n%s", diff)
		}
	})

	t.Run("_collections rows of the system collections", func(t *testing.T) {
		got, want := collections(t, ours), collections(t, theirs)
		if len(want) != len(systemCollectionNames) {
			t.Fatalf("fixture has %d system collections, want %d", len(want), len(systemCollectionNames))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("_collections mismatch (-fixture +ours):\n%s", diff)
		}
	})

	t.Run("journal mode", func(t *testing.T) {
		for _, db := range []*sql.DB{ours, oursAux} {
			var mode string
			if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if mode != "wal" {
				t.Errorf("journal_mode = %q, want wal", mode)
			}
		}
	})
}

func TestBootstrapStampsRowsWithTheClock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	clock := time.Date(2026, 11, 27, 2, 58, 53, 187_000_000, time.UTC)
	app, err := core.New(t.Context(), core.Config{DataDir: dir, Now: func() time.Time { return clock }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	db := openRaw(t, filepath.Join(dir, "data.db"))
	var created, updated string
	if err := db.QueryRow("SELECT created, updated FROM _collections WHERE name = '_superusers'").Scan(&created, &updated); err != nil {
		t.Fatal(err)
	}
	if created != "2026-11-27 02:58:53.187Z" || updated != created {
		t.Errorf("created, updated = %q, %q", created, updated)
	}
	var applied int64
	if err := db.QueryRow("SELECT applied FROM _migrations WHERE file = '1640988000_init.go'").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != clock.UnixMicro() {
		t.Errorf("applied = %d, want %d", applied, clock.UnixMicro())
	}
}

// dirSums hashes every file of a data directory (the -wal and -shm files must be gone
// once the databases are closed).
func dirSums(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	sums := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		sums[rel] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestOpeningAnUpToDateDirectoryChangesNothing(t *testing.T) {
	tests := []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{name: "copy of the PocketBase v0.40.4 fixture", dir: func(t *testing.T) string { return apitest.CopyFixture(t) }},
		{name: "directory bootstrapped by us", dir: freshDir},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			before := dirSums(t, dir)

			app, err := core.New(t.Context(), core.Config{DataDir: dir, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			// Reads only: what `serve` does at start without PB_SUPERUSER_* set.
			if _, err := app.NeedsSuperuser(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := app.CountSuperusers(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := app.Close(); err != nil {
				t.Fatal(err)
			}

			after := dirSums(t, dir)
			if diff := cmp.Diff(slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after))); diff != "" {
				t.Errorf("files (-before +after):\n%s", diff)
			}
			for name, sum := range before {
				if after[name] != sum {
					t.Errorf("%s changed", name)
				}
			}
		})
	}
}

func TestOpeningAnOlderDirectoryIsRefusedUntouched(t *testing.T) {
	tests := []struct {
		name    string
		missing string
	}{
		{name: "before normalize_indexes", missing: "1778828400_normalize_indexes.go"},
		{name: "before the v0.23 upgrade", missing: "1717233556_v0.23_migrate.go"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := apitest.CopyFixture(t)
			func() {
				db, err := sql.Open(sqlitedb.DriverName, filepath.Join(dir, "data.db"))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.Exec("DELETE FROM _migrations WHERE file = ?", tc.missing); err != nil {
					t.Fatal(err)
				}
			}()
			before := dirSums(t, dir)

			_, err := core.New(t.Context(), core.Config{DataDir: dir, Logger: quiet})
			if !errors.Is(err, core.ErrUnsupportedDataDir) {
				t.Fatalf("New() error = %v, want ErrUnsupportedDataDir", err)
			}
			if !strings.Contains(err.Error(), tc.missing) {
				t.Errorf("error %q does not name %s", err, tc.missing)
			}

			after := dirSums(t, dir)
			for name, sum := range before {
				if after[name] != sum {
					t.Errorf("%s changed", name)
				}
			}
		})
	}
}

func TestMissingAuxiliaryDatabaseIsRecreated(t *testing.T) {
	dir := apitest.CopyFixture(t)
	if err := os.Remove(filepath.Join(dir, "auxiliary.db")); err != nil {
		t.Fatal(err)
	}

	app, err := core.New(t.Context(), core.Config{DataDir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	fixtureAux := openRaw(t, filepath.Join(apitest.CopyFixture(t), "auxiliary.db"))
	aux := openRaw(t, filepath.Join(dir, "auxiliary.db"))
	if diff := cmp.Diff(schema(t, fixtureAux, nil), schema(t, aux, nil)); diff != "" {
		t.Errorf("recreated auxiliary schema (-fixture +ours):\n%s", diff)
	}

	// PocketBase's reapply condition re-records the aux migration.
	data := openRaw(t, filepath.Join(dir, "data.db"))
	var applied int64
	if err := data.QueryRow("SELECT applied FROM _migrations WHERE file = '1640988000_aux_init.go'").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied == 1795748333186099 {
		t.Error("1640988000_aux_init.go keeps the fixture's applied time, want it re-recorded")
	}
}
