package core_test

import (
	"archive/zip"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

func newBackupTestApp(t *testing.T) *core.App {
	t.Helper()
	app, err := core.New(t.Context(), core.Config{
		DataDir: filepath.Join(t.TempDir(), "pb_data"),
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := app.Close(); err != nil {
			t.Errorf("closing app: %v", err)
		}
	})
	return app
}

func mustExec(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

// zipEntries lists the entry names of a zip file.
func zipEntries(t *testing.T, path string) []string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	return names
}

func TestCreateBackupWhileWriting(t *testing.T) {
	app := newBackupTestApp(t)
	ctx := t.Context()
	mustExec(t, app.DB().Write(), "CREATE TABLE seq (n INTEGER PRIMARY KEY, pad TEXT)")

	// a storage file and an excluded one
	storage := filepath.Join(app.DataDir(), core.StorageDir, "col", "rec")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(storage, "a.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}

	var (
		stop     atomic.Bool
		inserted atomic.Int64
		wg       sync.WaitGroup
		writeErr error
		failed   atomic.Bool
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := int64(1); !stop.Load(); n++ {
			err := app.DB().Tx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO seq (n, pad) VALUES (?, randomblob(64))", n)
				return err
			})
			if err != nil {
				writeErr = err
				failed.Store(true)
				return
			}
			inserted.Store(n)
		}
	}()

	// let the writer get going, then back up while it runs
	for inserted.Load() < 50 && !failed.Load() {
		time.Sleep(time.Millisecond)
	}
	name, err := app.CreateBackup(ctx, "live.zip")
	if err != nil {
		t.Fatal(err)
	}
	afterBackup := inserted.Load()
	for inserted.Load() < afterBackup+20 && !failed.Load() {
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("writer failed during the backup: %v", writeErr)
	}

	zipPath, err := app.BackupPath(name)
	if err != nil {
		t.Fatal(err)
	}
	entries := zipEntries(t, zipPath)
	for _, want := range []string{"data.db", "auxiliary.db", "storage/col/rec/a.txt"} {
		if !slices.Contains(entries, want) {
			t.Errorf("zip entries %q lack %q", entries, want)
		}
	}
	for _, e := range entries {
		if e == "backups/live.zip" || filepath.Base(e) == "data.db-wal" || filepath.Dir(e) == core.TempDir {
			t.Errorf("zip has excluded entry %q", e)
		}
	}

	dir := t.TempDir()
	if err := core.ExtractBackup(zipPath, dir); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(sqlitedb.DriverName, filepath.Join(dir, "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var count, maxN int64
	if err := db.QueryRowContext(ctx, "SELECT count(*), coalesce(max(n), 0) FROM seq").Scan(&count, &maxN); err != nil {
		t.Fatal(err)
	}
	if count != maxN || count == 0 {
		t.Fatalf("snapshot has %d rows up to %d: not a consistent prefix", count, maxN)
	}
	if total := inserted.Load(); count >= total {
		t.Fatalf("snapshot has %d rows, the writer inserted %d: the writes did not go on during the backup", count, total)
	}
}

func TestBackupNamesAndList(t *testing.T) {
	app := newBackupTestApp(t)
	ctx := t.Context()

	name, err := app.CreateBackup(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := filepath.Match("pb_backup_acme_[0-9]*.zip", name); !ok || len(name) != len("pb_backup_acme_20261127020000.zip") {
		t.Errorf("generated name = %q", name)
	}

	list, err := app.ListBackups(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Key != name || list[0].Size <= 0 || list[0].Modified == "" {
		t.Fatalf("list = %+v", list)
	}

	tests := []struct {
		name, code string
	}{
		{"ok_name-1.zip", ""},
		{"", ""},
		{"Upper.zip", "validation_match_invalid"},
		{"../x.zip", "validation_match_invalid"},
		{"x.tar", "validation_match_invalid"},
		{string(make([]byte, 151)), "validation_length_out_of_range"},
		{name, "validation_backup_name_exists"},
	}
	for _, tc := range tests {
		err := app.ValidateBackupName(t.Context(), tc.name)
		var verrs core.ValidationErrors
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("ValidateBackupName(%q) = %v, want nil", tc.name, err)
		case tc.code != "" && (!errors.As(err, &verrs) || verrs["name"] == nil || verrs["name"].Code != tc.code):
			t.Errorf("ValidateBackupName(%q) = %v, want code %s", tc.name, err, tc.code)
		}
	}

	for _, key := range []string{"../data.db", "..", ".hidden", "a/b.zip", `a\b.zip`, "missing.zip", ""} {
		if _, err := app.BackupPath(key); err == nil {
			t.Errorf("BackupPath(%q) succeeded", key)
		}
		if err := app.DeleteBackup(t.Context(), key); err == nil {
			t.Errorf("DeleteBackup(%q) succeeded", key)
		}
	}

	if err := app.DeleteBackup(t.Context(), name); err != nil {
		t.Fatal(err)
	}
	if list, _ := app.ListBackups(t.Context()); len(list) != 0 {
		t.Fatalf("list after delete = %+v", list)
	}
}

func TestBackupOneAtATime(t *testing.T) {
	app := newBackupTestApp(t)
	zipPath := filepath.Join(app.DataDir(), core.BackupsDir, "slow.zip")
	if _, err := app.CreateBackup(t.Context(), "slow.zip"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(zipPath); err != nil {
		t.Fatal(err)
	}

	// Many concurrent calls: at most one at a time gets in, the others are refused.
	var wg sync.WaitGroup
	var refused atomic.Int32
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := app.CreateBackup(t.Context(), "c"+string(rune('0'+i))+".zip")
			if errors.Is(err, core.ErrBackupInProgress) {
				refused.Add(1)
			} else if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	list, _ := app.ListBackups(t.Context())
	if got := int32(len(list)-1) + refused.Load(); got != 4 {
		t.Fatalf("%d created + %d refused, want 4 in all", len(list)-1, refused.Load())
	}
}

func TestRestoreRoundTrip(t *testing.T) {
	app := newBackupTestApp(t)
	ctx := t.Context()
	file := seedNotesAndFile(t, app)
	s := app.Settings()
	s.Meta.AppName = "Before"
	if err := app.SaveSettings(ctx, s); err != nil {
		t.Fatal(err)
	}

	name, err := app.CreateBackup(ctx, "snap.zip")
	if err != nil {
		t.Fatal(err)
	}

	// change everything after the backup
	mustExec(t, app.DB().Write(), "INSERT INTO notes (body) VALUES ('three')")
	if err := os.WriteFile(file, []byte("v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(app.DataDir(), core.StorageDir, "new.txt")
	if err := os.WriteFile(extra, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = app.Settings()
	s.Meta.AppName = "After"
	if err := app.SaveSettings(ctx, s); err != nil {
		t.Fatal(err)
	}

	dirBefore, err := os.Stat(app.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Restore(ctx, name); err != nil {
		t.Fatal(err)
	}
	// the data directory itself is never replaced (it may be a mount point)
	if dirAfter, err := os.Stat(app.DataDir()); err != nil || !os.SameFile(dirBefore, dirAfter) {
		t.Errorf("the data directory was replaced by the restore (%v)", err)
	}

	if n := countRows(t, app.DB().Read(), "notes"); n != 2 {
		t.Errorf("notes rows after restore = %d, want 2", n)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "v1" {
		t.Errorf("storage file after restore = %q, %v", b, err)
	}
	if _, err := os.Stat(extra); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file created after the backup survived the restore: %v", err)
	}
	if got := app.Settings().Meta.AppName; got != "Before" {
		t.Errorf("settings after restore: appName = %q, want Before", got)
	}
	// the backups are kept and the reopened databases take writes
	if _, err := app.BackupPath(name); err != nil {
		t.Errorf("backup gone after restore: %v", err)
	}
	mustExec(t, app.DB().Write(), "INSERT INTO notes (body) VALUES ('four')")
	if n := countRows(t, app.AuxDB().Read(), core.LogsTable); n < 0 {
		t.Error("aux unusable")
	}
	if _, err := app.FindCachedCollectionByNameOrID(ctx, core.CollectionNameUsers); err != nil {
		t.Errorf("collections after restore: %v", err)
	}
	leftovers, _ := os.ReadDir(filepath.Join(app.DataDir(), core.TempDir))
	if len(leftovers) != 0 {
		t.Errorf("temp dir keeps %d entries after the restore", len(leftovers))
	}
}

// seedNotesAndFile creates a notes table with the rows "one" and "two" and the storage
// file c/r/f.txt holding "v1", whose path it returns.
func seedNotesAndFile(t *testing.T, app *core.App) string {
	t.Helper()
	mustExec(t, app.DB().Write(), "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
	mustExec(t, app.DB().Write(), "INSERT INTO notes (body) VALUES ('one'), ('two')")
	file := filepath.Join(app.DataDir(), core.StorageDir, "c", "r", "f.txt")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// writeZip writes a zip with the given entries (name → content).
func writeZip(t *testing.T, path string, entries [][2]string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		w, err := zw.Create(e[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRestoreFailureKeepsData(t *testing.T) {
	app := newBackupTestApp(t)
	ctx := t.Context()
	mustExec(t, app.DB().Write(), "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
	mustExec(t, app.DB().Write(), "INSERT INTO notes (body) VALUES ('keep')")
	backups := filepath.Join(app.DataDir(), core.BackupsDir)

	if err := os.MkdirAll(backups, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(backups, "corrupt.zip"), []byte("PK\x03\x04 this is not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeZip(t, filepath.Join(backups, "nodb.zip"), [][2]string{{"storage/x.txt", "x"}})
	writeZip(t, filepath.Join(backups, "baddb.zip"), [][2]string{{"data.db", "garbage garbage garbage"}})
	writeZip(t, filepath.Join(backups, "slip.zip"), [][2]string{{"data.db", "x"}, {"../escaped.txt", "evil"}})
	writeZip(t, filepath.Join(backups, "abs.zip"), [][2]string{{"/abs.txt", "evil"}})

	for _, key := range []string{"corrupt.zip", "nodb.zip", "baddb.zip", "slip.zip", "abs.zip", "missing.zip", "../data.db"} {
		err := app.Restore(ctx, key)
		if err == nil {
			t.Errorf("Restore(%s) succeeded", key)
			continue
		}
		if n := countRows(t, app.DB().Read(), "notes"); n != 1 {
			t.Fatalf("after Restore(%s): notes rows = %d, want 1", key, n)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(app.DataDir()), "escaped.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("zip slip entry was written outside the data dir: %v", err)
	}
	mustExec(t, app.DB().Write(), "INSERT INTO notes (body) VALUES ('still writable')")
}

func TestExtractBackupRefusesUnsafeEntries(t *testing.T) {
	for _, name := range []string{"../evil", "a/../../evil", "/etc/evil", `..\evil`, "a/\x00b"} {
		dir := t.TempDir()
		zipPath := filepath.Join(dir, "z.zip")
		writeZip(t, zipPath, [][2]string{{name, "evil"}})
		out := filepath.Join(dir, "out")
		err := core.ExtractBackup(zipPath, out)
		if !errors.Is(err, core.ErrInvalidBackupArchive) {
			t.Errorf("ExtractBackup(%q) = %v, want ErrInvalidBackupArchive", name, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "evil")); err == nil {
			t.Errorf("entry %q escaped the extraction dir", name)
		}
	}

	// a safe nested entry extracts
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "ok.zip")
	writeZip(t, zipPath, [][2]string{{"storage/a/b.txt", "b"}, {"./c.txt", "c"}})
	if err := core.ExtractBackup(zipPath, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "out", "storage", "a", "b.txt")); err != nil || string(b) != "b" {
		t.Fatalf("extracted = %q, %v", b, err)
	}
}

func TestRestoreWhileRequestsRun(t *testing.T) {
	app := newBackupTestApp(t)
	ctx := t.Context()
	mustExec(t, app.DB().Write(), "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
	mustExec(t, app.DB().Write(), "INSERT INTO notes (body) VALUES ('snap')")
	name, err := app.CreateBackup(ctx, "snap.zip")
	if err != nil {
		t.Fatal(err)
	}

	// "requests": each holds the data directory while it writes a numbered row and reads
	var (
		stop   atomic.Bool
		seq    atomic.Int64
		writes atomic.Int64
		wg     sync.WaitGroup
		failed atomic.Value
	)
	for range 3 {
		wg.Go(func() {
			for !stop.Load() {
				release := app.HoldData()
				_, err := app.DB().Write().ExecContext(ctx, "INSERT INTO notes (body) VALUES (?)", strconv.FormatInt(seq.Add(1), 10))
				if err == nil {
					var n int
					err = app.DB().Read().QueryRowContext(ctx, "SELECT count(*) FROM notes").Scan(&n)
				}
				release()
				if err != nil {
					failed.Store(err)
					return
				}
				writes.Add(1)
			}
		})
	}

	for writes.Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	// every row numbered up to here was committed before the restore began (the three
	// writers may each have one more in flight)
	begun := seq.Load() - 3
	if err := app.Restore(ctx, name); err != nil {
		t.Fatal(err)
	}
	before := writes.Load()
	for writes.Load() < before+20 && failed.Load() == nil {
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("a request failed around the restore: %v", err)
	}

	// the backup's row is back, the rows written before the restore are gone, and the
	// requests went on writing into the restored database
	var snap, old, since int
	if err := app.DB().Read().QueryRowContext(ctx,
		`SELECT count(*) FILTER (WHERE body = 'snap'),
			count(*) FILTER (WHERE body != 'snap' AND CAST(body AS INTEGER) <= ?),
			count(*) FILTER (WHERE body != 'snap' AND CAST(body AS INTEGER) > ?) FROM notes`,
		begun, begun).Scan(&snap, &old, &since); err != nil {
		t.Fatal(err)
	}
	if snap != 1 || old != 0 || since < 20 {
		t.Fatalf("after the restore: %d snap rows, %d rows from before it, %d written since (want 1, 0, >= 20)", snap, old, since)
	}
}
