package filesystem

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// attrsExt is the suffix of the attributes sidecar of a stored file; keys may not end
// with it.
const attrsExt = ".attrs"

// defaultContentType is the content type of a stored file without a sidecar.
const defaultContentType = "application/octet-stream"

// xattrs is the JSON of a ".attrs" sidecar, in PocketBase's fileblob key order.
type xattrs struct {
	CacheControl       string            `json:"user.cache_control"`
	ContentDisposition string            `json:"user.content_disposition"`
	ContentEncoding    string            `json:"user.content_encoding"`
	ContentLanguage    string            `json:"user.content_language"`
	ContentType        string            `json:"user.content_type"`
	Metadata           map[string]string `json:"user.metadata"`
	MD5                []byte            `json:"md5"`
}

// encodeAttrs returns the sidecar bytes as PocketBase v0.40 writes them: compact JSON
// with no HTML escaping and no trailing newline, a missing metadata map as {} (the
// fixture's sidecars are the reference).
func encodeAttrs(xa xattrs) ([]byte, error) {
	if xa.Metadata == nil {
		xa.Metadata = map[string]string{}
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(xa); err != nil {
		return nil, fmt.Errorf("encoding file attributes: %w", err)
	}

	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Attributes describe a stored file.
type Attributes struct {
	// ContentType is the detected content type ("application/octet-stream" without a
	// sidecar).
	ContentType string
	// Metadata holds the user metadata ("original-filename" for uploads).
	Metadata map[string]string
	// MD5 is the content digest recorded at upload, nil when unknown.
	MD5 []byte
	// Size is the content length in bytes.
	Size int64
	// ModTime is the last modification time.
	ModTime time.Time
}

// readAttrs reads the sidecar of path within root; a missing sidecar gives the
// default content type, as fileblob does.
func readAttrs(root *os.Root, path string) (xattrs, error) {
	b, err := root.ReadFile(path + attrsExt)
	if errors.Is(err, fs.ErrNotExist) {
		return xattrs{ContentType: defaultContentType}, nil
	}
	if err != nil {
		return xattrs{}, err
	}

	var xa xattrs
	if err := json.Unmarshal(b, &xa); err != nil {
		return xattrs{}, fmt.Errorf("decoding %s%s: %w", path, attrsExt, err)
	}

	return xa, nil
}

// EncodeAttrs returns the ".attrs" sidecar of a file written by other means (backups)
// with its content type, metadata and MD5 digest.
func EncodeAttrs(contentType string, metadata map[string]string, md5 []byte) ([]byte, error) {
	return encodeAttrs(xattrs{ContentType: contentType, Metadata: metadata, MD5: md5})
}
