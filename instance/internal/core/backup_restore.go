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
// RestoreDir is the same without a running App.
func (a *App) Restore(ctx context.Context, key string) error {
	if err := a.CheckBackup(ctx, key); err != nil {
		return err
	}
	if err := a.beginBackupOp(key); err != nil {
		return err
	}
	defer a.endBackupOp()

	var zipPath string
	if a.Settings().Backups.S3.Enabled {
		// a backup of the bucket is downloaded first, as PocketBase does
		f, err := CreateTempFile(a.dataDir)
		if err != nil {
			return err
		}
		zipPath = f.Name()
		_ = f.Close()
		defer os.Remove(zipPath)
		if err := a.downloadBackup(ctx, key, zipPath); err != nil {
			return err
		}
	} else {
		p, err := a.BackupPath(key)
		if err != nil {
			return err
		}
		zipPath = p
	}

	rs, err := prepareRestore(ctx, a.dataDir, zipPath)
	if err != nil {
		return err
	}
	defer rs.cleanup()

	a.maint.gate.Lock()
	defer a.maint.gate.Unlock()

	if err := a.closeDatabases(); err != nil {
		a.logger.Warn("closing the databases before a restore", slog.String("error", err.Error()))
	}
	if err := rs.apply(ctx, a.openDatabases, a.closeDatabases); err != nil {
		return fmt.Errorf("restoring backup %s: %w", key, err)
	}
	a.logger.Info("restored backup", slog.String("key", key))

	return nil
}

// RestoreDir replaces the content of the data directory dir with the backup archive at
// zipPath, as Restore does but with no App on dir (the instance is stopped: see
// DataDirInUse). dir is created when missing and is never renamed; zipPath may lie in
// its temp directory, which the restore leaves alone. Any failure leaves dir as it was.
func RestoreDir(ctx context.Context, dir, zipPath string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	rs, err := prepareRestore(ctx, dir, zipPath)
	if err != nil {
		return err
	}
	defer rs.cleanup()

	return rs.apply(ctx, nil, nil)
}

// CreateTempFile creates a "pb_restore_*.zip" file in the temp directory of the data
// directory dir (the volume with room) for a backup download that a restore then reads.
// An App opening dir removes the ones an interrupted restore left (cleanTempDir).
func CreateTempFile(dir string) (*os.File, error) {
	tempDir := filepath.Join(dir, TempDir)
	if err := os.MkdirAll(tempDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating temp dir: %w", err)
	}
	f, err := os.CreateTemp(tempDir, "pb_restore_*.zip")
	if err != nil {
		return nil, fmt.Errorf("creating temp file: %w", err)
	}

	return f, nil
}

// restoreSwap is a validated backup extracted into the temp directory of dataDir, ready
// to be swapped in.
type restoreSwap struct {
	dataDir   string
	extracted string // the backup's entries
	old       string // where the current entries go
}

// prepareRestore extracts the zip into the temp directory of dataDir and validates it
// (steps 1 and 2 of Restore); dataDir is not touched. The caller calls cleanup.
func prepareRestore(ctx context.Context, dataDir, zipPath string) (*restoreSwap, error) {
	suffix, err := security.RandomStringWithAlphabet(8, security.AlphabetLowerAlphanumeric)
	if err != nil {
		return nil, err
	}
	tempDir := filepath.Join(dataDir, TempDir)
	rs := &restoreSwap{
		dataDir:   dataDir,
		extracted: filepath.Join(tempDir, "pb_restore_"+suffix),
		old:       filepath.Join(tempDir, "old_pb_data_"+suffix),
	}
	if err := ExtractBackup(zipPath, rs.extracted); err != nil {
		rs.cleanup()
		return nil, err
	}
	if err := validateRestoredDir(ctx, rs.extracted); err != nil {
		rs.cleanup()
		return nil, err
	}

	return rs, nil
}

// cleanup removes the extracted entries that were not swapped in.
func (rs *restoreSwap) cleanup() {
	_ = os.RemoveAll(rs.extracted)
}

// apply moves the current entries of the data directory aside and the extracted ones in
// (step 4 of Restore), then calls reopen, when set, on the new content. On failure the
// old entries move back (after closeDBs, when set) and reopen is called on them; if even
// that fails, the old entries stay in the temp directory and the error says where.
func (rs *restoreSwap) apply(ctx context.Context, reopen func(context.Context) error, closeDBs func() error) error {
	if err := os.MkdirAll(rs.old, 0o755); err != nil {
		return fmt.Errorf("creating temp dir: %w", err)
	}
	swapErr := func() error {
		if err := moveDirContent(rs.dataDir, rs.old); err != nil {
			return fmt.Errorf("moving the current data aside: %w", err)
		}
		if err := moveDirContent(rs.extracted, rs.dataDir); err != nil {
			return fmt.Errorf("moving the restored data in: %w", err)
		}
		if reopen != nil {
			return reopen(ctx)
		}
		return nil
	}()
	if swapErr == nil {
		_ = os.RemoveAll(rs.old)
		return nil
	}

	// revert: put the old entries back and reopen them
	if closeDBs != nil {
		_ = closeDBs()
	}
	revertErr := errors.Join(moveDirContent(rs.dataDir, rs.extracted), moveDirContent(rs.old, rs.dataDir))
	if revertErr == nil && reopen != nil {
		revertErr = reopen(context.WithoutCancel(ctx))
	}
	if revertErr != nil {
		return errors.Join(swapErr,
			fmt.Errorf("reverting the data directory (old data kept in %s): %w", rs.old, revertErr))
	}
	_ = os.RemoveAll(rs.old)

	return swapErr
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
