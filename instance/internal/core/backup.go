package core

import (
	"cmp"
	"context"
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

// IsValidBackupName reports whether POST /api/backups accepts name as the name of a new
// backup (ValidateBackupName without the check that it is unused).
func IsValidBackupName(name string) bool {
	return len(name) <= MaxBackupNameLength && backupNameRegex.MatchString(name)
}

// ValidateBackupName checks a name for POST /api/backups: `^[a-z0-9_-]+\.zip$`, 1..150
// characters, not already used. The error is ValidationErrors for the "name" field.
func (a *App) ValidateBackupName(ctx context.Context, name string) error {
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
	case a.backupExists(ctx, name):
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

// backupsBucket returns the settings.backups.s3 bucket when it is enabled (ok false
// when the backups are local). As PocketBase, the backups are then kept at the root
// of that bucket, and the local backups directory is not used.
func (a *App) backupsBucket() (store *filesystem.S3, ok bool, err error) {
	cfg := a.Settings().Backups.S3
	if !cfg.Enabled {
		return nil, false, nil
	}
	store, err = newS3Store(cfg)
	if err != nil {
		return nil, true, fmt.Errorf("failed to initialize the backups S3 filesystem: %w", err)
	}

	return store, true, nil
}

// BackupPath returns the path of the local backup key, or ErrInvalidBackupKey /
// ErrBackupNotFound. It knows nothing of the S3 backups (see OpenBackup).
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

// OpenBackup returns a reader of the backup key, local or in the backups bucket, or
// ErrInvalidBackupKey / ErrBackupNotFound. An S3 backup is streamed (its reader seeks
// with ranged GETs).
func (a *App) OpenBackup(ctx context.Context, key string) (*filesystem.Reader, error) {
	if err := checkBackupKey(key); err != nil {
		return nil, err
	}
	bucket, ok, err := a.backupsBucket()
	if ok {
		if err != nil {
			return nil, err
		}
		r, err := bucket.Open(ctx, key)
		if errors.Is(err, filesystem.ErrNotFound) {
			return nil, ErrBackupNotFound
		}
		return r, err
	}

	path, err := a.BackupPath(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, ErrBackupNotFound
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, ErrBackupNotFound
	}

	return &filesystem.Reader{ReadSeekCloser: f, Attributes: filesystem.Attributes{
		ContentType: "application/zip", Size: st.Size(), ModTime: st.ModTime(),
	}}, nil
}

// CheckBackup returns nil when the backup key exists, local or in the backups bucket,
// or else ErrInvalidBackupKey / ErrBackupNotFound (or the bucket's error).
func (a *App) CheckBackup(ctx context.Context, key string) error {
	if err := checkBackupKey(key); err != nil {
		return err
	}
	bucket, ok, err := a.backupsBucket()
	if !ok {
		_, err := a.BackupPath(key)
		return err
	}
	if err != nil {
		return err
	}
	exists, err := bucket.Exists(ctx, key)
	if err != nil {
		return err
	}
	if !exists {
		return ErrBackupNotFound
	}

	return nil
}

func (a *App) backupExists(ctx context.Context, key string) bool {
	return a.CheckBackup(ctx, key) == nil
}

// ListBackups returns the backups, local or in the backups bucket, sorted by key as
// PocketBase's blob listing is.
func (a *App) ListBackups(ctx context.Context) ([]BackupFileInfo, error) {
	return a.listBackups(ctx, "")
}

func (a *App) listBackups(ctx context.Context, prefix string) ([]BackupFileInfo, error) {
	bucket, ok, err := a.backupsBucket()
	if ok {
		if err != nil {
			return nil, err
		}
		return listBucketBackups(ctx, bucket, prefix)
	}

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

// listBucketBackups lists the backups at the root of the bucket. Objects whose key is
// not a plain backup file name (nested keys, the ".attrs" suffix) are left out: they
// could be neither downloaded nor deleted through the API.
func listBucketBackups(ctx context.Context, bucket *filesystem.S3, prefix string) ([]BackupFileInfo, error) {
	objects, err := bucket.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing backups: %w", err)
	}

	list := []BackupFileInfo{}
	for _, o := range objects {
		if checkBackupKey(o.Key) != nil {
			continue
		}
		list = append(list, BackupFileInfo{Modified: FormatDateTime(o.ModTime), Key: o.Key, Size: o.Size})
	}
	slices.SortFunc(list, func(x, y BackupFileInfo) int { return cmp.Compare(x.Key, y.Key) })

	return list, nil
}

// DeleteBackup deletes a backup, local (with its attributes sidecar) or in the backups
// bucket. The backup being created or restored is ErrBackupInUse.
func (a *App) DeleteBackup(ctx context.Context, key string) error {
	if key != "" && a.activeBackupName() == key {
		return ErrBackupInUse
	}
	if err := checkBackupKey(key); err != nil {
		return err
	}
	bucket, ok, err := a.backupsBucket()
	if ok {
		if err != nil {
			return err
		}
		err := bucket.Delete(ctx, key)
		if errors.Is(err, filesystem.ErrNotFound) {
			return ErrBackupNotFound
		}
		if err != nil {
			return fmt.Errorf("deleting backup %s: %w", key, err)
		}
		return nil
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

// SaveUploadedBackup stores r as the backup key (POST /api/backups/upload), locally or
// in the backups bucket. The key must be a plain file name that is not used yet.
func (a *App) SaveUploadedBackup(ctx context.Context, key string, r io.Reader) error {
	if err := checkBackupKey(key); err != nil {
		return err
	}
	if a.backupExists(ctx, key) {
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

	return a.storeBackupFile(ctx, tmp.Name(), key)
}

// storeBackupFile stores the finished zip at src as the backup key: uploaded to the
// backups bucket when it is enabled (src is left for the caller to remove), else moved
// into the backups directory with the attributes sidecar PocketBase's local blob
// storage writes.
func (a *App) storeBackupFile(ctx context.Context, src, key string) error {
	bucket, ok, err := a.backupsBucket()
	if ok {
		if err != nil {
			return err
		}
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := bucket.Upload(ctx, key, f, "application/zip", map[string]string{metadataOriginalName: key}); err != nil {
			return fmt.Errorf("uploading backup %s: %w", key, err)
		}
		return nil
	}

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
