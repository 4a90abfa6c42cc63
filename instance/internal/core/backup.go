package core

import (
	"cmp"
	"crypto/md5" //nolint:gosec // the blob attributes checksum PocketBase's fileblob writes, not security
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

// Data directory entries of PocketBase (core/base.go).
const (
	// BackupsDir is the directory of the local backups.
	BackupsDir = "backups"
	// StorageDir is the directory of the uploaded files.
	StorageDir = "storage"
	// TempDir is PocketBase's scratch directory inside pb_data, emptied on start.
	TempDir = ".pb_temp_to_delete"

	autocertCacheDir = ".autocert_cache"
	lostFoundDir     = "lost+found"

	// attrsSuffix names the sidecar file in which PocketBase's local blob storage keeps
	// a file's attributes.
	attrsSuffix = ".attrs"

	// autoBackupPrefix starts the names of the scheduled backups.
	autoBackupPrefix = "@auto_pb_backup_"
	// manualBackupPrefix starts the names of the backups created without a name.
	manualBackupPrefix = "pb_backup_"

	// MaxBackupNameLength is the longest name POST /api/backups accepts.
	MaxBackupNameLength = 150
)

// backupExcludes are the top-level pb_data entries never archived nor replaced by a
// restore.
var backupExcludes = []string{BackupsDir, TempDir, autocertCacheDir, lostFoundDir}

// Backup errors.
var (
	// ErrBackupInProgress is returned when another backup or restore is running.
	ErrBackupInProgress = errors.New("try again later - another backup/restore operation has already been started")
	// ErrBackupNotFound is returned for a missing backup file; it wraps fs.ErrNotExist.
	ErrBackupNotFound = fmt.Errorf("missing or invalid backup file: %w", fs.ErrNotExist)
	// ErrInvalidBackupKey is returned for a key that is not a plain file name.
	ErrInvalidBackupKey = errors.New("invalid backup key")
	// ErrBackupInUse is returned when deleting the backup being created or restored.
	ErrBackupInUse = errors.New("the backup is currently being used and cannot be deleted")
)

// backupNameRegex is the name rule of POST /api/backups (apis/backup_create.go).
var backupNameRegex = regexp.MustCompile(`^[a-z0-9_-]+\.zip$`)

// BackupFileInfo is one backup as GET /api/backups lists it; the field order is the key
// order (`modified, key, size`).
type BackupFileInfo struct {
	// Modified is the file modification time in PocketBase's datetime format.
	Modified string `json:"modified"`
	// Key is the backup file name.
	Key string `json:"key"`
	// Size is the file size in bytes.
	Size int64 `json:"size"`
}

// beginBackupOp takes the backup/restore slot for name, or returns ErrBackupInProgress.
func (a *App) beginBackupOp(name string) error {
	select {
	case a.maint.backupSlot <- struct{}{}:
		a.maint.backupMu.Lock()
		a.maint.backupName = name
		a.maint.backupMu.Unlock()
		return nil
	default:
		return ErrBackupInProgress
	}
}

func (a *App) endBackupOp() {
	a.maint.backupMu.Lock()
	a.maint.backupName = ""
	a.maint.backupMu.Unlock()
	<-a.maint.backupSlot
}

// IsBackupActive reports whether a backup or restore is running (health's canBackup is
// its negation).
func (a *App) IsBackupActive() bool {
	return len(a.maint.backupSlot) > 0
}

// activeBackupName returns the name of the running backup or restore, or "".
func (a *App) activeBackupName() string {
	a.maint.backupMu.Lock()
	defer a.maint.backupMu.Unlock()

	return a.maint.backupName
}

// ValidateBackupName checks a name for POST /api/backups: `^[a-z0-9_-]+\.zip$`, 1..150
// characters, not already used. The error is ValidationErrors for the "name" field.
func (a *App) ValidateBackupName(name string) error {
	var verr *ValidationError
	switch {
	case name == "":
		return nil
	case len(name) > MaxBackupNameLength:
		verr = &ValidationError{
			Code: "validation_length_out_of_range", Message: "the length must be between 1 and 150",
			Params: map[string]any{"min": 1, "max": MaxBackupNameLength},
		}
	case !backupNameRegex.MatchString(name):
		verr = &ValidationError{Code: "validation_match_invalid", Message: "must be in a valid format"}
	case a.backupExists(name):
		verr = &ValidationError{Code: "validation_backup_name_exists", Message: "The backup file name is invalid or already exists."}
	default:
		return nil
	}

	return ValidationErrors{"name": verr}
}

// checkBackupKey refuses a key that is not a plain file name of the backups directory.
func checkBackupKey(key string) error {
	if key == "" || key == "." || key == ".." || strings.HasPrefix(key, ".") ||
		strings.ContainsAny(key, "/\\\x00") || filepath.Base(key) != key ||
		strings.HasSuffix(key, attrsSuffix) {
		return fmt.Errorf("%w %q", ErrInvalidBackupKey, key)
	}

	return nil
}

// backupsDir returns the local backups directory.
func (a *App) backupsDir() string {
	return filepath.Join(a.dataDir, BackupsDir)
}

// BackupPath returns the path of the backup key, or ErrInvalidBackupKey /
// ErrBackupNotFound.
func (a *App) BackupPath(key string) (string, error) {
	if err := checkBackupKey(key); err != nil {
		return "", err
	}
	path := filepath.Join(a.backupsDir(), key)
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() {
		return "", ErrBackupNotFound
	}

	return path, nil
}

func (a *App) backupExists(key string) bool {
	_, err := a.BackupPath(key)
	return err == nil
}

// ListBackups returns the local backups, sorted by key as PocketBase's blob listing is.
func (a *App) ListBackups() ([]BackupFileInfo, error) {
	return a.listBackups("")
}

func (a *App) listBackups(prefix string) ([]BackupFileInfo, error) {
	entries, err := os.ReadDir(a.backupsDir())
	if errors.Is(err, fs.ErrNotExist) {
		return []BackupFileInfo{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing backups: %w", err)
	}

	list := []BackupFileInfo{}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || checkBackupKey(name) != nil || !strings.HasPrefix(name, prefix) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		list = append(list, BackupFileInfo{Modified: FormatDateTime(info.ModTime()), Key: name, Size: info.Size()})
	}
	slices.SortFunc(list, func(x, y BackupFileInfo) int { return cmp.Compare(x.Key, y.Key) })

	return list, nil
}

// DeleteBackup deletes a local backup (and its attributes sidecar). The backup being
// created or restored is ErrBackupInUse.
func (a *App) DeleteBackup(key string) error {
	if key != "" && a.activeBackupName() == key {
		return ErrBackupInUse
	}
	path, err := a.BackupPath(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("deleting backup %s: %w", key, err)
	}
	_ = os.Remove(path + attrsSuffix)

	return nil
}

// SaveUploadedBackup stores r as the backup key (POST /api/backups/upload). The key must
// be a plain file name that is not used yet.
func (a *App) SaveUploadedBackup(key string, r io.Reader) error {
	if err := checkBackupKey(key); err != nil {
		return err
	}
	if a.backupExists(key) {
		return ValidationErrors{"file": {Code: "validation_backup_name_exists", Message: "Backup file with the specified name already exists."}}
	}

	tmpDir := filepath.Join(a.dataDir, TempDir)
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return fmt.Errorf("creating temp dir: %w", err)
	}
	tmp, err := os.CreateTemp(tmpDir, "pb_backup_upload_")
	if err != nil {
		return fmt.Errorf("creating temp file: %w", err)
	}
	defer os.Remove(tmp.Name())

	if _, err := io.Copy(tmp, r); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing uploaded backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing uploaded backup: %w", err)
	}

	return a.storeBackupFile(tmp.Name(), key)
}

// storeBackupFile moves the finished zip at src into the backups directory as key, with
// the attributes sidecar PocketBase's local blob storage writes.
func (a *App) storeBackupFile(src, key string) error {
	if err := os.MkdirAll(a.backupsDir(), 0o755); err != nil {
		return fmt.Errorf("creating backups dir: %w", err)
	}
	dst := filepath.Join(a.backupsDir(), key)

	sum, err := fileMD5(src)
	if err != nil {
		return err
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("storing backup %s: %w", key, err)
	}

	attrs, err := filesystem.EncodeAttrs("application/zip", map[string]string{metadataOriginalName: key}, sum)
	if err == nil {
		_ = os.WriteFile(dst+attrsSuffix, attrs, 0o644)
	}

	return nil
}

func fileMD5(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	h := md5.New() //nolint:gosec // see the import
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}

	return h.Sum(nil), nil
}

// generateBackupName returns PocketBase's generated name: prefix + the snake-cased app
// name (at most 50 characters) + "_" + the UTC time as YYYYMMDDHHMMSS + ".zip".
func generateBackupName(appName, prefix string, now time.Time) string {
	name := filesystem.Snakecase(appName)
	if len(name) > 50 {
		name = name[:50]
	}

	return fmt.Sprintf("%s%s_%s.zip", prefix, name, now.UTC().Format("20060102150405"))
}
