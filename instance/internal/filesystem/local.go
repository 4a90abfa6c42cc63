package filesystem

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // PocketBase's sidecars record an MD5 digest; it is not used for security
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"time"
)

// Local is a Store on a local folder (PocketBase's fileblob driver): each file is
// written to a temporary name beside it and renamed into place, with its attributes
// in a "<name>.attrs" JSON sidecar. All access goes through an os.Root, so no key
// reaches outside the folder, symlinks included.
type Local struct {
	root *os.Root
}

var _ Store = (*Local)(nil)

// OpenLocal opens (creating it when missing) the folder dir as a Store.
func OpenLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating storage folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening storage folder: %w", err)
	}

	return &Local{root: root}, nil
}

// Close implements Store.
func (l *Local) Close() error { return l.root.Close() }

// Upload implements Store.
func (l *Local) Upload(_ context.Context, key string, r io.Reader, contentType string, metadata map[string]string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := l.root.MkdirAll(path.Dir(key), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", path.Dir(key), err)
	}

	digest := md5.New() //nolint:gosec // see the import
	if err := l.writeAtomic(key, io.TeeReader(r, digest)); err != nil {
		return err
	}

	attrs, err := encodeAttrs(xattrs{ContentType: contentType, Metadata: metadata, MD5: digest.Sum(nil)})
	if err == nil {
		err = l.writeAtomic(key+attrsExt, bytes.NewReader(attrs))
	}
	if err != nil {
		_ = l.root.Remove(key)
		return err
	}

	return nil
}

// writeAtomic writes r to a temporary file beside name, then renames it to name.
func (l *Local) writeAtomic(name string, r io.Reader) error {
	tmp := name + "." + strconv.FormatInt(time.Now().UnixNano(), 16) + ".tmp"
	f, err := l.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}

	_, err = io.Copy(f, r)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = l.root.Rename(tmp, name)
	}
	if err != nil {
		_ = l.root.Remove(tmp)
		return fmt.Errorf("writing %s: %w", name, err)
	}

	return nil
}

// Open implements Store.
func (l *Local) Open(_ context.Context, key string) (*Reader, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}

	f, err := l.root.Open(key)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err == nil && info.IsDir() {
		err = ErrNotFound
	}
	var xa xattrs
	if err == nil {
		xa, err = readAttrs(l.root, key)
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}

	return &Reader{ReadSeekCloser: f, Attributes: Attributes{
		ContentType: xa.ContentType,
		Metadata:    xa.Metadata,
		MD5:         xa.MD5,
		Size:        info.Size(),
		ModTime:     info.ModTime(),
	}}, nil
}

// Exists implements Store.
func (l *Local) Exists(_ context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	info, err := l.root.Stat(key)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}

	return !info.IsDir(), nil
}

// Delete implements Store.
func (l *Local) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := l.root.Remove(key); err != nil {
		return err
	}
	if err := l.root.Remove(key + attrsExt); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}

	return nil
}

// DeleteDir implements Store.
func (l *Local) DeleteDir(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}

	return l.root.RemoveAll(key)
}

// IsEmptyDir implements Store: a missing folder is empty.
func (l *Local) IsEmptyDir(_ context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	entries, err := fs.ReadDir(l.root.FS(), key)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}

	return len(entries) == 0, nil
}
