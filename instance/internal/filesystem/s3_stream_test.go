package filesystem_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

// failingReader yields its data, then err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, f.err
	}
	return n, err
}

func TestS3UploadStream(t *testing.T) {
	srv, store := startS3Store(t)
	ctx := t.Context()
	const partSize = 5 << 20

	tests := []struct {
		name string
		size int
	}{
		{name: "empty", size: 0},
		{name: "shorter than a part: one PUT", size: 1000},
		{name: "exactly one part", size: partSize},
		{name: "three parts, the last short", size: 2*partSize + 12345},
		{name: "two full parts", size: 2 * partSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			content := make([]byte, tc.size)
			_, _ = rand.Read(content)
			key := "stream/" + filepath.Base(t.Name()) + ".bin"

			// a plain reader (not a ReadSeeker): UploadStream must not need to seek
			if err := store.UploadStream(ctx, key, io.MultiReader(bytes.NewReader(content)), "application/zip",
				map[string]string{"original-filename": "x.zip"}, partSize); err != nil {
				t.Fatalf("UploadStream: %v", err)
			}
			got, err := os.ReadFile(filepath.Join(srv.Root, srv.Bucket, filepath.FromSlash(key)))
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("object on disk: %d bytes (err %v), want the %d uploaded", len(got), err, len(content))
			}
			r, err := store.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Attributes.ContentType != "application/zip" || r.Attributes.Metadata["original-filename"] != "x.zip" {
				t.Errorf("attributes = %+v", r.Attributes)
			}
		})
	}

	t.Run("a failing reader stores nothing", func(t *testing.T) {
		for _, size := range []int{100, 2*partSize + 7} {
			key := "stream/failing.bin"
			boom := errors.New("source broke")
			err := store.UploadStream(ctx, key, &failingReader{r: io.LimitReader(rand.Reader, int64(size)), err: boom},
				"application/zip", nil, partSize)
			if !errors.Is(err, boom) {
				t.Fatalf("size %d: UploadStream = %v, want the reader's error", size, err)
			}
			// the aborted upload left no parts behind (versitygw keeps them under .sgwtmp)
			if pending, _ := os.ReadDir(filepath.Join(srv.Root, srv.Bucket, ".sgwtmp", "multipart")); len(pending) != 0 {
				t.Fatalf("size %d: %d multipart uploads left pending", size, len(pending))
			}
			if ok, err := store.Exists(ctx, key); err != nil || ok {
				t.Fatalf("size %d: object exists = %v, %v after a failed upload", size, ok, err)
			}
		}
	})

	t.Run("an invalid key", func(t *testing.T) {
		if err := store.UploadStream(ctx, "../x", bytes.NewReader(nil), "", nil, partSize); !errors.Is(err, filesystem.ErrInvalidKey) {
			t.Fatalf("UploadStream(../x) = %v, want ErrInvalidKey", err)
		}
	})
}
