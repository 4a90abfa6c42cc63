package filesystem

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
)

// ErrNotFound is returned for a key that names no stored file.
var ErrNotFound = fs.ErrNotExist

// ErrInvalidKey is returned for a key that is not a clean relative path of plain names
// or that ends with the reserved ".attrs" suffix.
var ErrInvalidKey = errors.New("invalid file key")

// Store is where record files live: the local storage folder, or an S3 bucket.
// Keys are "/"-separated relative paths such as "<collectionId>/<recordId>/<name>".
type Store interface {
	// Upload stores what r holds under key with its content type and metadata,
	// replacing any file there. A reader sees either the old or the new file.
	Upload(ctx context.Context, key string, r io.Reader, contentType string, metadata map[string]string) error
	// Open returns a reader of the file at key with its attributes, or ErrNotFound.
	Open(ctx context.Context, key string) (*Reader, error)
	// Exists reports whether a file is stored at key.
	Exists(ctx context.Context, key string) (bool, error)
	// Delete removes the file at key and its attributes; ErrNotFound when there is none.
	Delete(ctx context.Context, key string) error
	// DeleteDir removes everything stored under the "directory" key (key + "/...").
	DeleteDir(ctx context.Context, key string) error
	// IsEmptyDir reports whether nothing is stored under the "directory" key.
	IsEmptyDir(ctx context.Context, key string) (bool, error)
	// Close releases the store.
	Close() error
}

// Reader reads a stored file; it seeks, so range requests can be served from it.
type Reader struct {
	io.ReadSeekCloser
	// Attributes describe the file.
	Attributes Attributes
}

// checkKey rejects keys that are not clean relative paths of plain names: empty, with
// an empty, "." or ".." segment, a backslash or a NUL, or ending with ".attrs".
func checkKey(key string) error {
	if key == "" || strings.HasSuffix(key, attrsExt) || strings.ContainsAny(key, "\\\x00") {
		return ErrInvalidKey
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return ErrInvalidKey
		}
	}

	return nil
}
