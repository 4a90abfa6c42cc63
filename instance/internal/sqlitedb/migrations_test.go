package sqlitedb_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

type dirDBs struct {
	dir       string
	data, aux *sqlitedb.DB
}

func openDir(t *testing.T, dir string) *dirDBs {
	t.Helper()
	ctx := t.Context()
	data, err := sqlitedb.Open(ctx, filepath.Join(dir, "data.db"), sqlitedb.DataOptions)
	if err != nil {
		t.Fatal(err)
	}
	aux, err := sqlitedb.Open(ctx, filepath.Join(dir, "auxiliary.db"), sqlitedb.AuxOptions)
	if err != nil {
		t.Fatal(err)
	}
	return &dirDBs{dir: dir, data: data, aux: aux}
}

func (d *dirDBs) close(t *testing.T) {
	t.Helper()
	if err := errors.Join(d.data.Close(), d.aux.Close()); err != nil {
		t.Fatal(err)
	}
}

func execUp(dataSQL, auxSQL string) func(context.Context, sqlitedb.MigrationTx) error {
	return func(ctx context.Context, tx sqlitedb.MigrationTx) error {
		if dataSQL != "" {
			if _, err := tx.Data.ExecContext(ctx, dataSQL); err != nil {
				return err
			}
		}
		if auxSQL != "" {
			if _, err := tx.Aux.ExecContext(ctx, auxSQL); err != nil {
				return err
			}
		}
		return nil
	}
}

var fixedNow = func() time.Time { return time.UnixMicro(1795748333186099) }

func TestRunMigrations(t *testing.T) {
	errBoom := errors.New("boom")

	base := []sqlitedb.Migration{
		// Deliberately out of order: the runner sorts by file name.
		{File: "2_b.go", Up: execUp("CREATE TABLE b (v TEXT)", "")},
		{File: "1_a.go", Up: execUp("CREATE TABLE a (v TEXT)", "CREATE TABLE logs (v TEXT)")},
	}

	tests := []struct {
		name        string
		first       []sqlitedb.Migration
		second      []sqlitedb.Migration
		wantFirst   []string
		wantSecond  []string
		wantErr     error
		wantTables  []string
		wantApplied []string
	}{
		{
			name:        "fresh database applies all in order",
			first:       base,
			wantFirst:   []string{"1_a.go", "2_b.go"},
			wantTables:  []string{"_migrations", "a", "b"},
			wantApplied: []string{"1_a.go", "2_b.go"},
		},
		{
			name:        "second run applies only new migrations",
			first:       base,
			second:      append(slices.Clone(base), sqlitedb.Migration{File: "3_c.go", Up: execUp("CREATE TABLE c (v TEXT)", "")}),
			wantFirst:   []string{"1_a.go", "2_b.go"},
			wantSecond:  []string{"3_c.go"},
			wantTables:  []string{"_migrations", "a", "b", "c"},
			wantApplied: []string{"1_a.go", "2_b.go", "3_c.go"},
		},
		{
			name: "failure rolls back every migration of the run",
			first: append(slices.Clone(base), sqlitedb.Migration{File: "3_fail.go", Up: func(context.Context, sqlitedb.MigrationTx) error {
				return errBoom
			}}),
			wantErr:     errBoom,
			wantTables:  nil,
			wantApplied: nil,
		},
		{
			name:  "reapply condition reruns an applied migration",
			first: base,
			second: []sqlitedb.Migration{
				base[0],
				{
					File: "1_a.go",
					Up:   execUp("", "CREATE TABLE IF NOT EXISTS logs (v TEXT)"),
					Reapply: func(ctx context.Context, data, aux sqlitedb.Querier) (bool, error) {
						return true, nil
					},
				},
			},
			wantFirst:   []string{"1_a.go", "2_b.go"},
			wantSecond:  []string{"1_a.go"},
			wantTables:  []string{"_migrations", "a", "b"},
			wantApplied: []string{"1_a.go", "2_b.go"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			d := openDir(t, t.TempDir())
			defer d.close(t)

			got, err := sqlitedb.RunMigrations(ctx, d.data, d.aux, tc.first, fixedNow)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("first RunMigrations() error = %v, want %v", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.wantFirst) {
				t.Fatalf("first RunMigrations() = %q, want %q", got, tc.wantFirst)
			}
			if tc.second != nil {
				got, err := sqlitedb.RunMigrations(ctx, d.data, d.aux, tc.second, fixedNow)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tc.wantSecond) {
					t.Fatalf("second RunMigrations() = %q, want %q", got, tc.wantSecond)
				}
			}

			tables := tableNames(t, d.data)
			if !slices.Equal(tables, tc.wantTables) {
				t.Errorf("data tables = %q, want %q", tables, tc.wantTables)
			}
			applied, err := sqlitedb.AppliedMigrations(ctx, d.data.Read())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(applied, tc.wantApplied) {
				t.Errorf("applied = %q, want %q", applied, tc.wantApplied)
			}
			if tc.wantErr != nil {
				if auxTables := tableNames(t, d.aux); len(auxTables) != 0 {
					t.Errorf("aux tables after failure = %q, want none", auxTables)
				}
			}
		})
	}
}

func TestRunMigrationsTellsWhatRanBefore(t *testing.T) {
	ctx := t.Context()
	d := openDir(t, t.TempDir())
	defer d.close(t)

	seen := map[string][]string{}
	record := func(file string) func(context.Context, sqlitedb.MigrationTx) error {
		return func(_ context.Context, tx sqlitedb.MigrationTx) error {
			seen[file] = tx.AppliedBefore
			return nil
		}
	}
	list := []sqlitedb.Migration{{File: "1_a.go", Up: record("1_a.go")}, {File: "2_b.go", Up: record("2_b.go")}}
	if _, err := sqlitedb.RunMigrations(ctx, d.data, d.aux, list[:1], fixedNow); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlitedb.RunMigrations(ctx, d.data, d.aux, list, fixedNow); err != nil {
		t.Fatal(err)
	}

	if got := seen["1_a.go"]; len(got) != 0 {
		t.Errorf("1_a.go saw %q before it, want nothing", got)
	}
	// 1_a.go ran in an earlier run, so it is not part of 2_b.go's batch.
	if got := seen["2_b.go"]; len(got) != 0 {
		t.Errorf("2_b.go saw %q before it, want nothing", got)
	}

	d2 := openDir(t, t.TempDir())
	defer d2.close(t)
	if _, err := sqlitedb.RunMigrations(ctx, d2.data, d2.aux, list, fixedNow); err != nil {
		t.Fatal(err)
	}
	if got := seen["2_b.go"]; !slices.Equal(got, []string{"1_a.go"}) {
		t.Errorf("2_b.go saw %q before it in one run, want [1_a.go]", got)
	}
}

func TestRunMigrationsRecordsPocketBaseShape(t *testing.T) {
	ctx := t.Context()
	d := openDir(t, t.TempDir())
	defer d.close(t)

	if _, err := sqlitedb.RunMigrations(ctx, d.data, d.aux, []sqlitedb.Migration{{File: "1_a.go"}}, fixedNow); err != nil {
		t.Fatal(err)
	}

	var ddl string
	if err := d.data.Read().QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE name = '_migrations'").Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	const wantDDL = "CREATE TABLE `_migrations` (file VARCHAR(255) PRIMARY KEY NOT NULL, applied INTEGER NOT NULL)"
	if ddl != wantDDL {
		t.Errorf("_migrations DDL = %q, want %q", ddl, wantDDL)
	}

	var applied int64
	var typ string
	if err := d.data.Read().QueryRowContext(ctx, "SELECT applied, typeof(applied) FROM _migrations").Scan(&applied, &typ); err != nil {
		t.Fatal(err)
	}
	if applied != 1795748333186099 || typ != "integer" {
		t.Errorf("applied = %d (%s), want 1795748333186099 (integer, Unix microseconds)", applied, typ)
	}
}

func TestRunMigrationsWritesNothingWhenUpToDate(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	list := []sqlitedb.Migration{
		{File: "1_a.go", Up: execUp("CREATE TABLE a (v TEXT)", "CREATE TABLE logs (v TEXT)")},
		{
			File: "2_b.go",
			Up:   execUp("CREATE TABLE b (v TEXT)", ""),
			Reapply: func(ctx context.Context, data, aux sqlitedb.Querier) (bool, error) {
				ok, err := sqlitedb.HasTable(ctx, data, "b")
				return !ok, err
			},
		},
	}

	d := openDir(t, dir)
	if _, err := sqlitedb.RunMigrations(ctx, d.data, d.aux, list, fixedNow); err != nil {
		t.Fatal(err)
	}
	d.close(t)
	before := fileSums(t, dir)

	d = openDir(t, dir)
	got, err := sqlitedb.RunMigrations(ctx, d.data, d.aux, list, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	d.close(t)
	if len(got) != 0 {
		t.Fatalf("RunMigrations() on an up-to-date directory applied %q", got)
	}

	after := fileSums(t, dir)
	for name, sum := range before {
		if after[name] != sum {
			t.Errorf("%s changed on an up-to-date run", name)
		}
	}
}

func tableNames(t *testing.T, db *sqlitedb.DB) []string {
	t.Helper()
	rows, err := db.Read().QueryContext(t.Context(), "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

func fileSums(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	sums := map[string][32]byte{}
	for _, name := range []string{"data.db", "auxiliary.db"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sums[name] = sha256.Sum256(b)
	}
	return sums
}

// syncSettings reads synchronous and wal_autocheckpoint through q.
func syncSettings(ctx context.Context, q sqlitedb.Querier) (sync, autocheckpoint int, err error) {
	if err := q.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return 0, 0, err
	}
	err = q.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&autocheckpoint)
	return sync, autocheckpoint, err
}

func TestRunMigrationsRelaxesSyncOnlyForBootstrap(t *testing.T) {
	ctx := t.Context()
	d := openDir(t, t.TempDir())
	defer d.close(t)

	type seen struct{ dataSync, dataCkpt, auxSync, auxCkpt int }
	record := func(into *seen) func(context.Context, sqlitedb.MigrationTx) error {
		return func(ctx context.Context, tx sqlitedb.MigrationTx) error {
			var err1, err2 error
			into.dataSync, into.dataCkpt, err1 = syncSettings(ctx, tx.Data)
			into.auxSync, into.auxCkpt, err2 = syncSettings(ctx, tx.Aux)
			if err := errors.Join(err1, err2); err != nil {
				return err
			}
			_, err := tx.Data.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS t (x)")
			return err
		}
	}

	// the bootstrap of a new directory: relaxed inside, restored afterwards
	var first, second seen
	if _, err := sqlitedb.RunMigrations(ctx, d.data, d.aux, []sqlitedb.Migration{{File: "1_a.go", Up: record(&first)}}, fixedNow); err != nil {
		t.Fatal(err)
	}
	if first != (seen{0, 0, 0, 0}) {
		t.Fatalf("bootstrap ran with %+v, want synchronous=OFF and no autocheckpoint on both", first)
	}
	for _, db := range []*sqlitedb.DB{d.data, d.aux} {
		s, c, err := syncSettings(ctx, db.Write())
		if err != nil {
			t.Fatal(err)
		}
		if s != 1 || c != 1000 {
			t.Fatalf("%s after bootstrap: synchronous=%d wal_autocheckpoint=%d, want 1 (NORMAL) and 1000", db.Path(), s, c)
		}
	}

	// a later migration of an existing directory runs with the usual settings
	list := []sqlitedb.Migration{{File: "1_a.go", Up: record(&first)}, {File: "2_b.go", Up: record(&second)}}
	if _, err := sqlitedb.RunMigrations(ctx, d.data, d.aux, list, fixedNow); err != nil {
		t.Fatal(err)
	}
	if second != (seen{1, 1000, 1, 1000}) {
		t.Fatalf("upgrade ran with %+v, want synchronous=NORMAL and autocheckpoint 1000 on both", second)
	}
}
