package core

import (
	"archive/zip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// ErrInvalidBackupArchive wraps every reason a backup archive is refused before the
// data directory is touched.
var ErrInvalidBackupArchive = errors.New("invalid backup archive")

// Restore replaces the data directory content with the backup key and reopens the
// databases, without restarting the process (PocketBase restarts it instead).
//
// The data directory itself is never renamed, so it may be a mount point:
//
//  1. the zip is extracted into a temp directory inside pb_data (entries that would
//     land outside it, absolute paths and links are refused);
//  2. the extracted data.db (and auxiliary.db, when present) must open and pass
//     PRAGMA quick_check, and data.db must hold `_collections`;
//  3. the requests, jobs and log writes in flight are waited for and new ones wait
//     (HoldData), the databases are closed;
//  4. the current top-level entries (but backups/ and the temp directory) move into
//     the temp directory, the extracted ones move in;
//  5. the databases are reopened (migrations, settings, collections cache).
//
// Any failure up to step 2 leaves the data directory untouched; a failure in steps 4
// and 5 moves the old entries back and reopens them. Only one backup or restore runs at a
// time (ErrBackupInProgress). Restore must not be called while holding HoldData.
func (a *App) Restore(ctx context.Context, key string) error {
	if err := a.CheckBackup(ctx, key); err != nil {
		return err
	}
	if err := a.beginBackupOp(key); err != nil {
		return err
	}
	defer a.endBackupOp()

	tempDir := filepath.Join(a.dataDir, TempDir)
	if err := os.MkdirAll(tempDir, 0o755); err != nil {
		return fmt.Errorf("creating temp dir: %w", err)
	}
	suffix, err := security.RandomStringWithAlphabet(8, security.AlphabetLowerAlphanumeric)
	if err != nil {
		return err
	}
	extracted := filepath.Join(tempDir, "pb_restore_"+suffix)
	defer os.RemoveAll(extracted)

	var zipPath string
	if a.Settings().Backups.S3.Enabled {
		// a backup of the bucket is downloaded first, as PocketBase does
		zipPath = filepath.Join(tempDir, "pb_restore_"+suffix+".zip")
		defer os.Remove(zipPath)
		err = a.downloadBackup(ctx, key, zipPath)
	} else {
		zipPath, err = a.BackupPath(key)
	}
	if err != nil {
		return err
	}

	if err := ExtractBackup(zipPath, extracted); err != nil {
		return err
	}
	if err := validateRestoredDir(ctx, extracted); err != nil {
		return err
	}

	old := filepath.Join(tempDir, "old_pb_data_"+suffix)
	if err := os.MkdirAll(old, 0o755); err != nil {
		return fmt.Errorf("creating temp dir: %w", err)
	}

	a.maint.gate.Lock()
	defer a.maint.gate.Unlock()

	if err := a.closeDatabases(); err != nil {
		a.logger.Warn("closing the databases before a restore", slog.String("error", err.Error()))
	}

	swapErr := func() error {
		if err := moveDirContent(a.dataDir, old); err != nil {
			return fmt.Errorf("moving the current data aside: %w", err)
		}
		if err := moveDirContent(extracted, a.dataDir); err != nil {
			return fmt.Errorf("moving the restored data in: %w", err)
		}
		return a.openDatabases(ctx)
	}()
	if swapErr == nil {
		_ = os.RemoveAll(old)
		a.logger.Info("restored backup", slog.String("key", key))
		return nil
	}

	// revert: put the old entries back and reopen them
	_ = a.closeDatabases()
	revertErr := errors.Join(moveDirContent(a.dataDir, extracted), moveDirContent(old, a.dataDir))
	if revertErr == nil {
		revertErr = a.openDatabases(context.WithoutCancel(ctx))
	}
	if revertErr != nil {
		return errors.Join(fmt.Errorf("restoring backup %s: %w", key, swapErr),
			fmt.Errorf("reverting the data directory (old data kept in %s): %w", old, revertErr))
	}
	_ = os.RemoveAll(old)

	return fmt.Errorf("restoring backup %s: %w", key, swapErr)
}

// downloadBackup copies the backup key (of the backups bucket) to the file dst.
func (a *App) downloadBackup(ctx context.Context, key, dst string) error {
	r, err := a.OpenBackup(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()

	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return fmt.Errorf("downloading backup %s: %w", key, err)
	}

	return f.Close()
}

// closeDatabases closes data.db and auxiliary.db.
func (a *App) closeDatabases() error {
	var errs []error
	if a.data != nil {
		errs = append(errs, a.data.Close())
	}
	if a.aux != nil {
		errs = append(errs, a.aux.Close())
	}

	return errors.Join(errs...)
}

// moveDirContent renames every top-level entry of src, but the backup excludes, into
// dst. Entries are renamed, never copied: both directories are inside pb_data.
func moveDirContent(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}

	for _, e := range entries {
		if slices.Contains(backupExcludes, e.Name()) {
			continue
		}
		if err := os.Rename(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}

	return nil
}

// maxExtractedSize caps the total uncompressed size of a restored archive (zip bombs).
const maxExtractedSize = 1 << 40

// ExtractBackup extracts the zip at zipPath into dst, refusing (ErrInvalidBackupArchive)
// entries with absolute or escaping paths ("zip slip"), backslashes, links and other
// non-regular files.
func ExtractBackup(zipPath, dst string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBackupArchive, err)
	}
	defer zr.Close()

	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}

	var total uint64
	for _, f := range zr.File {
		rel, err := safeArchivePath(f.Name)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, filepath.FromSlash(rel))

		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		case !mode.IsRegular():
			return fmt.Errorf("%w: %q is not a regular file", ErrInvalidBackupArchive, f.Name)
		}

		total += f.UncompressedSize64
		if total > maxExtractedSize {
			return fmt.Errorf("%w: too large", ErrInvalidBackupArchive)
		}
		if err := extractZipFile(f, target); err != nil {
			return err
		}
	}

	return nil
}

// safeArchivePath returns the cleaned relative path of a zip entry, or an error when it
// could leave the extraction directory.
func safeArchivePath(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") ||
		filepath.IsAbs(name) || filepath.VolumeName(name) != "" {
		return "", fmt.Errorf("%w: unsafe entry %q", ErrInvalidBackupArchive, name)
	}
	clean := path.Clean(name)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%w: unsafe entry %q", ErrInvalidBackupArchive, name)
	}
	for _, part := range strings.Split(clean, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: unsafe entry %q", ErrInvalidBackupArchive, name)
		}
	}

	return clean, nil
}

func extractZipFile(f *zip.File, target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBackupArchive, err)
	}
	defer rc.Close()

	out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.LimitReader(rc, int64(min(f.UncompressedSize64, maxExtractedSize))+1)); err != nil {
		_ = out.Close()
		return fmt.Errorf("%w: %w", ErrInvalidBackupArchive, err)
	}

	return out.Close()
}

// validateRestoredDir checks that an extracted backup holds databases that open.
func validateRestoredDir(ctx context.Context, dir string) error {
	dataPath := filepath.Join(dir, dataDBFile)
	if st, err := os.Stat(dataPath); err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("%w: data.db file is missing or invalid", ErrInvalidBackupArchive)
	}
	if err := checkDatabaseFile(ctx, dataPath, "_collections"); err != nil {
		return err
	}

	auxPath := filepath.Join(dir, auxDBFile)
	if _, err := os.Stat(auxPath); err == nil {
		if err := checkDatabaseFile(ctx, auxPath, ""); err != nil {
			return err
		}
	}

	return nil
}

// checkDatabaseFile opens the SQLite file at p, runs PRAGMA quick_check and, when
// table is set, checks that it exists.
func checkDatabaseFile(ctx context.Context, p, table string) error {
	db, err := sql.Open(sqlitedb.DriverName, p+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBackupArchive, err)
	}
	defer db.Close()

	var result string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&result); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidBackupArchive, filepath.Base(p), err)
	}
	if result != "ok" {
		return fmt.Errorf("%w: %s: %s", ErrInvalidBackupArchive, filepath.Base(p), result)
	}
	if table != "" {
		ok, err := sqlitedb.HasTable(ctx, db, table)
		if err != nil || !ok {
			return fmt.Errorf("%w: %s has no %s table", ErrInvalidBackupArchive, filepath.Base(p), table)
		}
	}

	return nil
}

// openDatabases opens data.db and auxiliary.db of the data directory and loads them as
// New does: system migrations, settings, collections cache.
func (a *App) openDatabases(ctx context.Context) error {
	data, err := sqlitedb.Open(ctx, filepath.Join(a.dataDir, dataDBFile), a.dbOptions(sqlitedb.DataOptions, StatsDBData))
	if err != nil {
		return fmt.Errorf("opening data database: %w", err)
	}
	aux, err := sqlitedb.Open(ctx, filepath.Join(a.dataDir, auxDBFile), a.dbOptions(sqlitedb.AuxOptions, StatsDBAuxiliary))
	if err != nil {
		_ = data.Close()
		return fmt.Errorf("opening auxiliary database: %w", err)
	}
	a.data, a.aux = data, aux

	if _, err := sqlitedb.RunMigrations(ctx, data, aux, a.systemMigrations(), a.now); err != nil {
		return fmt.Errorf("migrating data directory: %w", err)
	}
	if err := a.loadSettings(ctx, a.settings.encryptionKey); err != nil {
		return fmt.Errorf("loading settings: %w", err)
	}
	a.invalidateCollections()

	return nil
}

// cleanTempDir removes what interrupted backups and restores left in the temp directory.
// Data moved aside by an interrupted restore (old_pb_data_*) is kept.
func (a *App) cleanTempDir() {
	tempDir := filepath.Join(a.dataDir, TempDir)
	entries, err := os.ReadDir(tempDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "pb_backup_") || strings.HasPrefix(e.Name(), "pb_restore_") {
			_ = os.RemoveAll(filepath.Join(tempDir, e.Name()))
		}
	}
}
