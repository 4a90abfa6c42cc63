package core

import (
	"archive/zip"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// CreateBackup archives the data directory into backups/<name> and returns the name.
// An empty name is generated ("pb_backup_<app name>_<YYYYMMDDHHMMSS>.zip"); an existing
// backup of the same name is replaced, as PocketBase does. Only one backup or restore
// runs at a time (ErrBackupInProgress).
//
// The archive is PocketBase v0.40's: data.db and auxiliary.db at the root, then every
// other pb_data entry (storage/… and the like) except backups/, the temp directory and
// the database side files. The databases are copied with VACUUM INTO on a reader
// connection: a consistent snapshot that never blocks the writers, so writes go on
// while the backup runs (PocketBase v0.40 also stopped locking the database).
func (a *App) CreateBackup(ctx context.Context, name string) (string, error) {
	if name == "" {
		name = generateBackupName(a.Settings().Meta.AppName, manualBackupPrefix, a.now())
	}
	if err := checkBackupKey(name); err != nil {
		return "", err
	}
	if err := a.beginBackupOp(name); err != nil {
		return "", err
	}
	defer a.endBackupOp()

	start := time.Now()
	err := a.withBackupWorkDir(func(workDir string) error {
		zipPath := filepath.Join(workDir, "backup.zip")
		if err := a.writeBackupZipFile(ctx, workDir, zipPath); err != nil {
			return fmt.Errorf("creating backup %s: %w", name, err)
		}
		return a.storeBackupFile(ctx, zipPath, name)
	})
	if err != nil {
		return "", err
	}

	a.logger.Debug("["+name+"] zip archive completed",
		slog.Float64("execTime", float64(time.Since(start))/float64(time.Millisecond)))

	return name, nil
}

// WriteBackup writes the archive CreateBackup makes to w instead of the backups
// directory: a consistent snapshot streamed out (only the database snapshots touch the
// disk, in the temp directory of the data directory). It takes the backup slot
// (ErrBackupInProgress) like CreateBackup.
func (a *App) WriteBackup(ctx context.Context, w io.Writer) error {
	if err := a.beginBackupOp(""); err != nil {
		return err
	}
	defer a.endBackupOp()

	return a.withBackupWorkDir(func(workDir string) error {
		return a.writeBackupZip(ctx, workDir, w)
	})
}

// withBackupWorkDir runs fn with a new scratch directory in the temp directory, removed
// afterwards.
func (a *App) withBackupWorkDir(fn func(workDir string) error) error {
	tempDir := filepath.Join(a.dataDir, TempDir)
	if err := os.MkdirAll(tempDir, 0o755); err != nil {
		return fmt.Errorf("creating temp dir: %w", err)
	}
	suffix, err := security.RandomStringWithAlphabet(8, security.AlphabetLowerAlphanumeric)
	if err != nil {
		return err
	}
	workDir := filepath.Join(tempDir, "pb_backup_"+suffix)
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return fmt.Errorf("creating temp dir: %w", err)
	}
	defer os.RemoveAll(workDir)

	return fn(workDir)
}

// writeBackupZipFile writes the archive of a's data directory to the file zipPath.
func (a *App) writeBackupZipFile(ctx context.Context, workDir, zipPath string) (err error) {
	zf, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := zf.Close(); err == nil {
			err = cerr
		}
	}()

	return a.writeBackupZip(ctx, workDir, zf)
}

// writeBackupZip writes the archive of the data directory to w, using workDir for the
// database snapshots.
func (a *App) writeBackupZip(ctx context.Context, workDir string, w io.Writer) (err error) {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	defer func() {
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
	}()

	for _, db := range []struct {
		name string
		db   *sqlitedb.DB
	}{{dataDBFile, a.data}, {auxDBFile, a.aux}} {
		snapshot := filepath.Join(workDir, db.name)
		if err := SnapshotDB(ctx, db.db, snapshot); err != nil {
			return err
		}
		err := copyFileToZip(zw, snapshot, db.name)
		_ = os.Remove(snapshot)
		if err != nil {
			return err
		}
	}

	return copyDirToZip(ctx, zw, a.dataDir)
}

// SnapshotDB writes a consistent copy of db to dst (which must not exist) with
// VACUUM INTO, run on a reader connection so that writers are not blocked.
func SnapshotDB(ctx context.Context, db *sqlitedb.DB, dst string) error {
	if _, err := db.Read().ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("copying %s: %w", filepath.Base(db.Path()), err)
	}

	return nil
}

// isBackupExcluded reports whether the slash-separated pb_data relative path is left out
// of the archive: the excluded top-level entries and the live database files.
func isBackupExcluded(rel string) bool {
	top, _, _ := strings.Cut(rel, "/")
	if slices.Contains(backupExcludes, top) {
		return true
	}
	for _, db := range []string{dataDBFile, auxDBFile} {
		if top == db || top == db+"-wal" || top == db+"-shm" || top == db+"-journal" {
			return true
		}
	}

	return false
}

func copyFileToZip(zw *zip.Writer, localPath, zipPath string) error {
	info, err := os.Stat(localPath)
	if err != nil {
		return err
	}
	h, err := zip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	h.Name = zipPath
	h.Method = zip.Deflate

	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	f, err := os.Open(localPath)
	if err != nil {
		return err
	}
	defer f.Close()

	_, err = io.Copy(w, f)

	return err
}

// copyDirToZip adds every regular file of dir that isBackupExcluded keeps. Files that
// vanish while the walk runs (deleted uploads) are skipped; symlinks are never followed.
func copyDirToZip(ctx context.Context, zw *zip.Writer, dir string) error {
	fsys := os.DirFS(dir)

	return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if name == "." {
			return nil
		}
		if isBackupExcluded(name) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}

		err = copyFileToZip(zw, filepath.Join(dir, filepath.FromSlash(name)), path.Clean(name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}

		return err
	})
}

// autoBackup is the __pbAutoBackup__ job: create "@auto_pb_backup_<app>_<time>.zip",
// then keep only the settings.backups.cronMaxKeep most recent automatic backups.
func (a *App) autoBackup(ctx context.Context) {
	name := generateBackupName(a.Settings().Meta.AppName, autoBackupPrefix, a.now())
	if _, err := a.CreateBackup(ctx, name); err != nil {
		a.logger.Error("[Backup cron] Failed to create backup", slog.String("name", name), slog.String("error", err.Error()))
	}

	if err := a.pruneAutoBackups(ctx, a.Settings().Backups.CronMaxKeep); err != nil {
		a.logger.Error("[Backup cron] Failed to remove old autogenerated backups", slog.String("error", err.Error()))
	}
}

// pruneAutoBackups keeps the maxKeep most recent automatic backups (all when 0).
func (a *App) pruneAutoBackups(ctx context.Context, maxKeep int) error {
	if maxKeep <= 0 {
		return nil
	}
	list, err := a.listBackups(ctx, autoBackupPrefix)
	if err != nil {
		return err
	}
	if len(list) <= maxKeep {
		return nil
	}

	// most recent first; equal times fall back to the name, which embeds the time
	slices.SortFunc(list, func(x, y BackupFileInfo) int {
		if c := strings.Compare(y.Modified, x.Modified); c != 0 {
			return c
		}
		return strings.Compare(y.Key, x.Key)
	})

	var errs []error
	for _, b := range list[maxKeep:] {
		if err := a.DeleteBackup(ctx, b.Key); err != nil {
			errs = append(errs, err)
		}
	}

	return errors.Join(errs...)
}
