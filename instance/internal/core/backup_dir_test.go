package core_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// dirDigest maps every regular file below dir, but the temp directory, to its SHA-256.
func dirDigest(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && rel == core.TempDir {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = sha256.Sum256(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteBackupThenRestoreDir(t *testing.T) {
	app := newBackupTestApp(t)
	ctx := t.Context()
	seedNotesAndFile(t, app)

	// the archive streams to any writer; nothing lands in backups/
	var buf bytes.Buffer
	if err := app.WriteBackup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if list, err := app.ListBackups(ctx); err != nil || len(list) != 0 {
		t.Errorf("ListBackups after WriteBackup = %v, %v; want none", list, err)
	}
	zipPath := filepath.Join(t.TempDir(), "b.zip")
	if err := os.WriteFile(zipPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("into a missing dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "fresh")
		if err := core.RestoreDir(ctx, dir, zipPath); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, core.StorageDir, "c", "r", "f.txt")); err != nil || string(b) != "v1" {
			t.Errorf("restored file = %q, %v", b, err)
		}
		restored, err := core.New(ctx, core.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer restored.Close()
		if n := countRows(t, restored.DB().Read(), "notes"); n != 2 {
			t.Errorf("restored notes = %d, want 2", n)
		}
	})

	t.Run("over a data dir, which keeps its identity and its backups", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "pb_data")
		other, err := core.New(ctx, core.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.CreateBackup(ctx, "local.zip"); err != nil {
			t.Fatal(err)
		}
		if err := other.Close(); err != nil {
			t.Fatal(err)
		}
		if inUse, err := core.DataDirInUse(dir); err != nil || inUse {
			t.Fatalf("DataDirInUse(closed dir) = %v, %v", inUse, err)
		}
		before, _ := os.Stat(dir)

		if err := core.RestoreDir(ctx, dir, zipPath); err != nil {
			t.Fatal(err)
		}
		if after, err := os.Stat(dir); err != nil || !os.SameFile(before, after) {
			t.Errorf("the data directory was replaced (%v)", err)
		}
		if _, err := os.Stat(filepath.Join(dir, core.BackupsDir, "local.zip")); err != nil {
			t.Errorf("local backup lost: %v", err)
		}
		if leftovers, _ := os.ReadDir(filepath.Join(dir, core.TempDir)); len(leftovers) != 0 {
			t.Errorf("temp dir keeps %d entries", len(leftovers))
		}
		if _, err := os.Stat(filepath.Join(dir, core.StorageDir, "c", "r", "f.txt")); err != nil {
			t.Errorf("restored file: %v", err)
		}
	})

	t.Run("an invalid archive leaves the dir untouched", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "pb_data")
		if err := core.RestoreDir(ctx, dir, zipPath); err != nil {
			t.Fatal(err)
		}
		want := dirDigest(t, dir)
		bad := filepath.Join(t.TempDir(), "bad.zip")
		writeZip(t, bad, [][2]string{{"data.db", "garbage garbage garbage"}, {"storage/x.txt", "x"}})
		for _, p := range []string{bad, filepath.Join(t.TempDir(), "missing.zip")} {
			if err := core.RestoreDir(ctx, dir, p); !errors.Is(err, core.ErrInvalidBackupArchive) {
				t.Errorf("RestoreDir(%s) = %v, want ErrInvalidBackupArchive", filepath.Base(p), err)
			}
			got := dirDigest(t, dir)
			if len(got) != len(want) {
				t.Fatalf("after %s: %d files, want %d", filepath.Base(p), len(got), len(want))
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("after %s: %s changed", filepath.Base(p), k)
				}
			}
		}
	})
}
