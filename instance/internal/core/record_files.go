package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

// metadataOriginalName is the stored metadata key of an upload's original name.
const metadataOriginalName = "original-filename"

// maxOriginalNameLength bounds the original name kept in the metadata.
const maxOriginalNameLength = 255

// recordFiles are a form's new uploads and what of them is already stored.
type recordFiles struct {
	// uploads maps a file field name to its new files by stored name.
	uploads map[string]map[string]*filesystem.File
	// staged lists the storage keys written by stageFiles.
	staged []string
}

// OpenFileStore opens the store of record files: the S3 bucket of settings.s3 when
// it is enabled, else the data directory's storage/ folder. Close it when done.
func (a *App) OpenFileStore() (filesystem.Store, error) {
	if cfg := a.Settings().S3; cfg.Enabled {
		return newS3Store(cfg)
	}

	return filesystem.OpenLocal(filepath.Join(a.dataDir, storageDir))
}

// RecordFilesKey returns the storage key of a record's file (or of a folder under the
// record's, such as "thumbs_<name>").
func RecordFilesKey(c *Collection, recordID, name string) string {
	return path.Join(c.ID, recordID, name)
}

// AttachFiles adds new files for the file field that key targets ("field", "+field"
// or "field+", as multipart part names do) and returns the field's name and the files'
// stored names, which the body must then list under key for the files to be kept. ok
// is false when key targets no file field.
func (u *RecordUpsert) AttachFiles(key string, files []*filesystem.File) (field string, names []string, ok bool) {
	for _, f := range u.collection.Fields {
		ff, isFile := f.(*FileField)
		if !isFile || (key != ff.Name && key != modifierAppend+ff.Name && key != ff.Name+modifierAppend) {
			continue
		}
		if u.files.uploads == nil {
			u.files.uploads = map[string]map[string]*filesystem.File{}
		}
		if u.files.uploads[ff.Name] == nil {
			u.files.uploads[ff.Name] = map[string]*filesystem.File{}
		}
		for _, file := range files {
			u.files.uploads[ff.Name][file.Name] = file
			names = append(names, file.Name)
		}
		return ff.Name, names, true
	}

	return "", nil, false
}

// stageFiles stores the new files that the validated values keep, under the record's
// storage folder, before the row is written (PocketBase's FileField interceptor
// uploads before the database write too). On failure what was stored is removed again.
func (a *App) stageFiles(ctx context.Context, u *RecordUpsert) error {
	if len(u.files.uploads) == 0 {
		return nil
	}

	store, err := a.OpenFileStore()
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }()

	for _, f := range u.collection.Fields {
		uploads := u.files.uploads[f.GetName()]
		if len(uploads) == 0 {
			continue
		}
		for _, name := range toUniqueStringSlice(u.values[f.GetName()]) {
			file := uploads[name]
			if file == nil {
				continue
			}
			key := RecordFilesKey(u.collection, u.ID(), name)
			if err := uploadFile(ctx, store, key, file); err != nil {
				a.discardStagedFiles(u)
				return fmt.Errorf("uploading %q: %w", name, err)
			}
			u.files.staged = append(u.files.staged, key)
		}
	}

	return nil
}

// uploadFile stores file at key with its detected content type and original name.
func uploadFile(ctx context.Context, store filesystem.Store, key string, file *filesystem.File) error {
	r, err := file.Open()
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()

	contentType, err := filesystem.DetectContentType(r)
	if err != nil {
		return err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return err
	}

	original := file.OriginalName
	if len(original) > maxOriginalNameLength {
		original = original[:maxOriginalNameLength]
	}

	return store.Upload(ctx, key, r, contentType, map[string]string{metadataOriginalName: original})
}

// discardStagedFiles removes the files stageFiles stored, after a failed save, and on
// create the record's storage folder when nothing else is in it.
func (a *App) discardStagedFiles(u *RecordUpsert) {
	if len(u.files.staged) == 0 {
		return
	}
	a.withCleanupStore("deleting new files after a failed save", func(ctx context.Context, store filesystem.Store) {
		for _, key := range u.files.staged {
			if err := store.Delete(ctx, key); err != nil && !errors.Is(err, filesystem.ErrNotFound) {
				a.logger.Warn("deleting new file after a failed save", "key", key, "error", err)
			}
		}
		u.files.staged = nil

		if u.IsNew() {
			dir := path.Join(u.collection.ID, u.ID())
			if empty, err := store.IsEmptyDir(ctx, dir); err == nil && empty {
				_ = store.DeleteDir(ctx, dir)
			}
		}
	})
}

// ToStringList returns v as a list of unique non-empty strings, as file, select and
// relation values are read: a string (a JSON array text included), a list or nil.
func ToStringList(v any) []string { return toUniqueStringSlice(v) }

// deleteRecordFiles deletes files of a record by name, with their sidecars and
// thumbs, logging failures. Names that are not plain (empty, or with a path
// separator) are skipped, as PocketBase does.
func (a *App) deleteRecordFiles(c *Collection, recordID string, names []string) {
	if len(names) == 0 {
		return
	}
	a.withCleanupStore("deleting removed files", func(ctx context.Context, store filesystem.Store) {
		for _, name := range names {
			if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
				continue
			}
			key := RecordFilesKey(c, recordID, name)
			if err := store.Delete(ctx, key); err != nil && !errors.Is(err, filesystem.ErrNotFound) {
				a.logger.Warn("deleting a removed file", "key", key, "error", err)
			}
			if err := store.DeleteDir(ctx, RecordFilesKey(c, recordID, "thumbs_"+name)); err != nil {
				a.logger.Warn("deleting the thumbs of a removed file", "key", key, "error", err)
			}
		}
	})
}

// withCleanupStore runs fn with the file store for cleanup work that must run even
// when the request that caused it has gone (fn gets a background context); a store
// that cannot be opened is logged under what.
func (a *App) withCleanupStore(what string, fn func(ctx context.Context, store filesystem.Store)) {
	store, err := a.OpenFileStore()
	if err != nil {
		a.logger.Warn(what, "error", err)
		return
	}
	defer func() { _ = store.Close() }()

	fn(context.Background(), store)
}
