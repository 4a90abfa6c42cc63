package filesystem_test

import (
	"bytes"
	"errors"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

// startS3Store starts a versitygw server on loopback and returns it with a Store on its
// bucket.
func startS3Store(t *testing.T) (*apitest.S3Server, *filesystem.S3) {
	t.Helper()
	srv := apitest.StartS3Server(t)
	store, err := filesystem.NewS3(filesystem.S3Config{
		Endpoint: srv.Endpoint, Bucket: srv.Bucket, AccessKey: srv.AccessKey, Secret: srv.Secret, ForcePathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}

	return srv, store
}

// TestS3Store runs the Store contract against a real S3-compatible server (versitygw)
// on loopback.
func TestS3Store(t *testing.T) {
	srv, store := startS3Store(t)
	ctx := t.Context()

	const key = "col/rec/hello world_abc.txt"
	if err := store.Upload(ctx, key, strings.NewReader("hello s3"), "text/plain; charset=utf-8", map[string]string{"original-filename": "hello world.txt"}); err != nil {
		t.Fatalf("upload: %v", err)
	}
	// the object really is in the bucket
	if b, err := os.ReadFile(filepath.Join(srv.Root, srv.Bucket, "col", "rec", "hello world_abc.txt")); err != nil || string(b) != "hello s3" {
		t.Fatalf("object on disk = %q, %v", b, err)
	}

	r, err := store.Open(ctx, key)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	content, _ := io.ReadAll(r)
	if _, err := r.Seek(6, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(r)
	_ = r.Close()
	if string(content) != "hello s3" || string(tail) != "s3" {
		t.Errorf("content = %q, after seek %q", content, tail)
	}
	a := r.Attributes
	if a.ContentType != "text/plain; charset=utf-8" || a.Size != 8 || a.ModTime.IsZero() || a.Metadata["original-filename"] != "hello world.txt" {
		t.Errorf("attributes = %+v", a)
	}

	if ok, err := store.Exists(ctx, key); err != nil || !ok {
		t.Errorf("Exists = %v, %v", ok, err)
	}
	if ok, err := store.Exists(ctx, "col/rec/missing.txt"); err != nil || ok {
		t.Errorf("Exists(missing) = %v, %v", ok, err)
	}
	if _, err := store.Open(ctx, "col/rec/missing.txt"); !errors.Is(err, filesystem.ErrNotFound) {
		t.Errorf("Open(missing) = %v, want ErrNotFound", err)
	}
	if err := store.Delete(ctx, "col/rec/missing.txt"); !errors.Is(err, filesystem.ErrNotFound) {
		t.Errorf("Delete(missing) = %v, want ErrNotFound", err)
	}

	// thumbs work on any store
	if err := store.Upload(ctx, "col/rec/img.png", bytes.NewReader(encodePNG(t, 60, 40)), "image/png", nil); err != nil {
		t.Fatal(err)
	}
	size, _ := filesystem.ParseThumbSize("30x0")
	if err := filesystem.CreateThumb(ctx, store, "col/rec/img.png", "col/rec/thumbs_img.png/30x0_img.png", size); err != nil {
		t.Fatalf("thumb: %v", err)
	}
	tr, err := store.Open(ctx, "col/rec/thumbs_img.png/30x0_img.png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(tr)
	_ = tr.Close()
	if err != nil || img.Bounds().Dx() != 30 || img.Bounds().Dy() != 20 {
		t.Errorf("thumb: %v %v", img, err)
	}

	// DeleteDir and IsEmptyDir keep to their folder
	for i := range 3 {
		if err := store.Upload(ctx, "col/other/f"+string(rune('a'+i)), strings.NewReader("x"), "text/plain", nil); err != nil {
			t.Fatal(err)
		}
	}
	if empty, err := store.IsEmptyDir(ctx, "col/rec"); err != nil || empty {
		t.Errorf("IsEmptyDir(col/rec) = %v, %v", empty, err)
	}
	if err := store.DeleteDir(ctx, "col/rec"); err != nil {
		t.Fatalf("DeleteDir: %v", err)
	}
	if empty, err := store.IsEmptyDir(ctx, "col/rec"); err != nil || !empty {
		t.Errorf("IsEmptyDir after DeleteDir = %v, %v", empty, err)
	}
	if ok, _ := store.Exists(ctx, "col/other/fa"); !ok {
		t.Error("DeleteDir(col/rec) deleted col/other")
	}
	if err := store.Delete(ctx, "col/other/fb"); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if ok, _ := store.Exists(ctx, "col/other/fb"); ok {
		t.Error("deleted object still exists")
	}

	// wrong credentials are refused by the server
	bad, _ := filesystem.NewS3(filesystem.S3Config{Endpoint: srv.Endpoint, Bucket: srv.Bucket, AccessKey: srv.AccessKey, Secret: "wrong", ForcePathStyle: true})
	if err := bad.Upload(ctx, "x/y", strings.NewReader("x"), "text/plain", nil); err == nil || errors.Is(err, filesystem.ErrNotFound) {
		t.Errorf("upload with a wrong secret = %v", err)
	}
}

// TestS3StreamsObjects checks that S3 uploads from a seekable reader and downloads are
// streamed: a 16 MiB object is written from a file and read back in ranges while
// allocating a fraction of its size; the listing gives keys, sizes and times.
func TestS3StreamsObjects(t *testing.T) {
	_, store := startS3Store(t)
	ctx := t.Context()

	const size = 16 << 20
	content := make([]byte, size)
	for i := range content {
		content[i] = byte(i * 7 / 5)
	}
	src := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(src, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := store.Upload(ctx, "big.bin", f, "application/octet-stream", nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	r, err := store.Open(ctx, "big.bin")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	head := make([]byte, 1024)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	if end, err := r.Seek(0, io.SeekEnd); err != nil || end != size {
		t.Fatalf("seek end = %d, %v", end, err)
	}
	if _, err := r.Seek(size/2, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	mid := make([]byte, 1024)
	if _, err := io.ReadFull(r, mid); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Seek(-10, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	runtime.ReadMemStats(&after)

	if !bytes.Equal(head, content[:1024]) || !bytes.Equal(mid, content[size/2:size/2+1024]) || !bytes.Equal(tail, content[size-10:]) {
		t.Error("ranges read back differ from the uploaded content")
	}
	if r.Attributes.Size != size {
		t.Errorf("size = %d, want %d", r.Attributes.Size, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Errorf("upload and ranged reads allocated %d bytes for a %d-byte object: not streamed", alloc, size)
	}

	// a reader that cannot seek is still uploaded whole
	if err := store.Upload(ctx, "small.txt", io.MultiReader(strings.NewReader("abc")), "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	list, err := store.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Key != "big.bin" || list[0].Size != size || list[0].ModTime.IsZero() ||
		list[1].Key != "small.txt" || list[1].Size != 3 {
		t.Errorf("list = %+v", list)
	}
	if list, err := store.List(ctx, "sm"); err != nil || len(list) != 1 {
		t.Errorf("list(sm) = %+v, %v", list, err)
	}
}

// BenchmarkS3Download reads a 16 MiB object from versitygw on loopback; B/op shows
// whether the object is held in memory.
func BenchmarkS3Download(b *testing.B) {
	srv := apitest.StartS3Server(b)
	store, err := filesystem.NewS3(filesystem.S3Config{
		Endpoint: srv.Endpoint, Bucket: srv.Bucket, AccessKey: srv.AccessKey, Secret: srv.Secret, ForcePathStyle: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	const size = 16 << 20
	if err := store.Upload(b.Context(), "bench.bin", bytes.NewReader(make([]byte, size)), "application/octet-stream", nil); err != nil {
		b.Fatal(err)
	}

	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		r, err := store.Open(b.Context(), "bench.bin")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
		_ = r.Close()
	}
}
