package filesystem_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

func TestSnakecase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"hello", "hello"},
		{"Hello World", "hello_world"},
		{"myTestDB", "my_test_db"},
		{"a-b.c__d", "a_b_c_d"},
		{"  --  ", ""},
		{"Привет мир", ""},
		{"héllo", "h_llo"},
		{"ABC", "abc"},
		{"test123Test", "test123_test"},
	}
	for _, tt := range tests {
		if got := filesystem.Snakecase(tt.in); got != tt.want {
			t.Errorf("Snakecase(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	pngBytes := encodePNG(t, 4, 4)
	tests := []struct {
		original string
		content  []byte
		pattern  string
	}{
		{"hello.txt", []byte("hi"), `^hello_[a-z0-9]{10}\.txt$`},
		{"My Photo.PNG", pngBytes, `^my_photo_[a-z0-9]{10}\.PNG$`},
		{"archive.tar.gz", []byte("x"), `^archive_[a-z0-9]{10}\.tar\.gz$`},
		{"a.txt", []byte("hi"), `^a[a-z0-9]{10}_[a-z0-9]{10}\.txt$`},
		{"", pngBytes, `^[a-z0-9]{10}_[a-z0-9]{10}\.png$`},
		{"noext", []byte("plain text"), `^noext_[a-z0-9]{10}\.txt$`},
		{"../../etc/passwd", []byte("root:x:0:0"), `^[a-z0-9]{10}_[a-z0-9]{10}\.etcpasswd$`},
		// an extension of dots only is no extension: the content tells (as in PocketBase)
		{"...", pngBytes, `^[a-z0-9]{10}_[a-z0-9]{10}\.png$`},
		{"name.", pngBytes, `^name_[a-z0-9]{10}\.png$`},
		{"x.." + strings.Repeat("e", 19), []byte("hi"), `^x[a-z0-9]{10}_[a-z0-9]{10}\.e{19}$`},
		// only the last 300 bytes of a name count
		{strings.Repeat("a", 200) + strings.Repeat("b", 200) + ".txt", []byte("hi"), `^a{96}b{4}_[a-z0-9]{10}\.txt$`},
		{`..\..\evil.sh`, []byte("#!/bin/sh"), `^[a-z0-9]{10}_[a-z0-9]{10}\.evil\.sh$`},
		{"x." + strings.Repeat("e", 30), []byte("hi"), `^x[a-z0-9]{10}_[a-z0-9]{10}\.e{20}$`},
		{strings.Repeat("long", 40) + ".txt", []byte("hi"), `^(long){25}_[a-z0-9]{10}\.txt$`},
		{"we<ir>d\"na'me.t<x>t", []byte("hi"), `^we_ir_d_na_me_[a-z0-9]{10}\.txt$`},
	}
	for _, tt := range tests {
		f, err := filesystem.NewFileFromBytes(tt.content, tt.original)
		if err != nil {
			t.Fatalf("NewFileFromBytes(%q): %v", tt.original, err)
		}
		if !regexp.MustCompile(tt.pattern).MatchString(f.Name) {
			t.Errorf("name of %q = %q, want /%s/", tt.original, f.Name, tt.pattern)
		}
		if strings.ContainsAny(f.Name, `/\`) {
			t.Errorf("name of %q = %q has a path separator", tt.original, f.Name)
		}
	}

	a, _ := filesystem.NewFileFromBytes([]byte("x"), "same.txt")
	b, _ := filesystem.NewFileFromBytes([]byte("x"), "same.txt")
	if a.Name == b.Name {
		t.Errorf("two uploads of same.txt got the same name %q", a.Name)
	}
	if _, err := filesystem.NewFileFromBytes(nil, "empty.txt"); err == nil {
		t.Error("an empty file was accepted")
	}
}

// fixtureStorage finds the fixture's storage folder (written by PocketBase v0.40.4).
func fixtureStorage(t *testing.T) string {
	t.Helper()
	wd, _ := os.Getwd()
	for dir := wd; ; dir = filepath.Dir(dir) {
		candidate := filepath.Join(dir, "shared/fixtures/pocketbase-v0.40/pb_data/storage")
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("fixture storage not found above %s", wd)
		}
	}
}

// TestUploadAttrsMatchPocketBase uploads the fixture's files again and compares the
// sidecars byte for byte with the ones PocketBase wrote.
func TestUploadAttrsMatchPocketBase(t *testing.T) {
	src := fixtureStorage(t)
	dir := t.TempDir()
	store, err := filesystem.OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	sidecars, _ := filepath.Glob(filepath.Join(src, "*", "*", "*.attrs"))
	if len(sidecars) == 0 {
		t.Fatal("no sidecars in the fixture")
	}
	re := regexp.MustCompile(`^(.*)_[a-z0-9]{10}(\..*)$`)
	for _, sidecar := range sidecars {
		filePath := strings.TrimSuffix(sidecar, ".attrs")
		content, err := os.ReadFile(filePath)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(filePath)
		m := re.FindStringSubmatch(name)
		original := m[1] + m[2]

		ct, err := filesystem.DetectContentType(bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		key := "c/r/" + name
		if err := store.Upload(t.Context(), key, bytes.NewReader(content), ct, map[string]string{"original-filename": original}); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}

		r, err := store.Open(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		_ = r.Close()
		want, _ := os.ReadFile(sidecar)
		got, err := os.ReadFile(filepath.Join(dir, key+".attrs"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s sidecar:\n got %s\nwant %s", name, got, want)
		}
		if r.Attributes.ContentType != ct || r.Attributes.Size != int64(len(content)) {
			t.Errorf("%s attributes = %+v", name, r.Attributes)
		}
	}
}

func TestLocalRejectsEscapingKeys(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "storage")
	store, err := filesystem.OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := os.WriteFile(filepath.Join(parent, "secret.txt"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(parent, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	for _, key := range []string{"", "../secret.txt", "a/../../secret.txt", "/etc/passwd", "a//b", "./a", `a\..\b`, "a/b.attrs", "link/secret.txt", "a\x00b"} {
		if r, err := store.Open(ctx, key); err == nil {
			_ = r.Close()
			t.Errorf("Open(%q) succeeded", key)
		}
		if err := store.Upload(ctx, key, strings.NewReader("x"), "text/plain", nil); err == nil {
			t.Errorf("Upload(%q) succeeded", key)
		}
		if err := store.Delete(ctx, key); err == nil {
			t.Errorf("Delete(%q) succeeded", key)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(parent, "secret.txt")); string(b) != "secret" {
		t.Errorf("secret.txt changed: %q", b)
	}

	// a normal round trip
	if err := store.Upload(ctx, "c/r/a.txt", strings.NewReader("hello"), "text/plain; charset=utf-8", nil); err != nil {
		t.Fatal(err)
	}
	if ok, _ := store.Exists(ctx, "c/r/a.txt"); !ok {
		t.Error("uploaded file does not exist")
	}
	if empty, _ := store.IsEmptyDir(ctx, "c/r"); empty {
		t.Error("c/r is empty after an upload")
	}
	if err := store.Delete(ctx, "c/r/a.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c/r/a.txt.attrs")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sidecar left after delete: %v", err)
	}
	if err := store.Delete(ctx, "c/r/a.txt"); !errors.Is(err, filesystem.ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
	if empty, _ := store.IsEmptyDir(ctx, "c/r"); !empty {
		t.Error("c/r is not empty after the delete")
	}
}

func encodePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			// top half red, bottom half blue: the crop modes keep different colours
			c := color.NRGBA{R: 255, A: 255}
			if y >= h/2 {
				c = color.NRGBA{B: 255, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCreateThumb(t *testing.T) {
	store, err := filesystem.OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := t.Context()
	// 200x100: a wide image, red on top, blue at the bottom
	if err := store.Upload(ctx, "c/r/img.png", bytes.NewReader(encodePNG(t, 200, 100)), "image/png", nil); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		size      string
		w, h      int
		topIsBlue bool
	}{
		{"50x50", 50, 50, false},
		{"50x50t", 50, 50, false},
		{"50x50f", 50, 25, false},
		{"0x20", 40, 20, false},
		{"40x0", 40, 20, false},
		{"100x10b", 100, 10, true},
		{"100x10t", 100, 10, false},
	}
	for _, tt := range tests {
		size, err := filesystem.ParseThumbSize(tt.size)
		if err != nil {
			t.Fatalf("ParseThumbSize(%q): %v", tt.size, err)
		}
		key := "c/r/thumbs_img.png/" + tt.size + "_img.png"
		if err := filesystem.CreateThumb(ctx, store, "c/r/img.png", key, size); err != nil {
			t.Fatalf("CreateThumb %s: %v", tt.size, err)
		}
		r, err := store.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(r)
		_ = r.Close()
		if err != nil {
			t.Fatalf("%s: thumb is not a png: %v", tt.size, err)
		}
		if b := img.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
			t.Errorf("%s: thumb is %dx%d, want %dx%d", tt.size, b.Dx(), b.Dy(), tt.w, tt.h)
		}
		if r.Attributes.ContentType != "image/png" {
			t.Errorf("%s: content type %q", tt.size, r.Attributes.ContentType)
		}
		_, _, blue, _ := img.At(tt.w/2, 0).RGBA()
		if (blue > 0x8000) != tt.topIsBlue {
			t.Errorf("%s: top row blue=%v, want %v", tt.size, blue > 0x8000, tt.topIsBlue)
		}
	}

	// not an image, and a too large size
	if err := store.Upload(ctx, "c/r/a.txt", strings.NewReader("text"), "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	if err := filesystem.CreateThumb(ctx, store, "c/r/a.txt", "c/r/thumbs_a.txt/10x10_a.txt", filesystem.ThumbSize{Width: 10, Height: 10}); err == nil {
		t.Error("a thumb of a text file was made")
	}
	if err := filesystem.CreateThumb(ctx, store, "c/r/img.png", "c/r/thumbs_img.png/x_img.png", filesystem.ThumbSize{Width: 100000, Height: 100000}); err == nil {
		t.Error("a 100000x100000 thumb was made")
	}
}

// TestCreateThumbFormats checks PocketBase's choice of the thumb's encoding: JPEG and
// GIF originals keep their format and content type, a WebP one becomes a PNG stored as
// image/png (testdata/thumb-source.webp is golang.org/x/image's blue-purple-pink.lossy.webp).
func TestCreateThumbFormats(t *testing.T) {
	store, err := filesystem.OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := t.Context()

	src := image.NewNRGBA(image.Rect(0, 0, 80, 40))
	var jpg, gf bytes.Buffer
	if err := jpeg.Encode(&jpg, src, nil); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gf, src, nil); err != nil {
		t.Fatal(err)
	}
	webp, err := os.ReadFile(filepath.Join("testdata", "thumb-source.webp"))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, storedType string
		content          []byte
		wantType         string
		wantFormat       string
	}{
		{"a.jpg", "image/jpeg", jpg.Bytes(), "image/jpeg", "jpeg"},
		{"a.gif", "image/gif", gf.Bytes(), "image/gif", "gif"},
		{"a.webp", "image/webp", webp, "image/png", "png"},
		{"a.png", "image/png", encodePNG(t, 80, 40), "image/png", "png"},
	}
	for _, tt := range tests {
		key := "c/r/" + tt.name
		if err := store.Upload(ctx, key, bytes.NewReader(tt.content), tt.storedType, nil); err != nil {
			t.Fatal(err)
		}
		thumbKey := "c/r/thumbs_" + tt.name + "/20x0_" + tt.name
		if err := filesystem.CreateThumb(ctx, store, key, thumbKey, filesystem.ThumbSize{Width: 20}); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		r, err := store.Open(ctx, thumbKey)
		if err != nil {
			t.Fatal(err)
		}
		cfg, format, err := image.DecodeConfig(r)
		_ = r.Close()
		if err != nil {
			t.Fatalf("%s: thumb does not decode: %v", tt.name, err)
		}
		if format != tt.wantFormat || r.Attributes.ContentType != tt.wantType {
			t.Errorf("%s: thumb is %s stored as %q, want %s as %q", tt.name, format, r.Attributes.ContentType, tt.wantFormat, tt.wantType)
		}
		if cfg.Width != 20 {
			t.Errorf("%s: thumb width %d, want 20", tt.name, cfg.Width)
		}
	}
}

func TestParseThumbSize(t *testing.T) {
	tests := []struct {
		in   string
		want filesystem.ThumbSize
		ok   bool
	}{
		{"100x100", filesystem.ThumbSize{Width: 100, Height: 100}, true},
		{"100x50t", filesystem.ThumbSize{Width: 100, Height: 50, Mode: "t"}, true},
		{"100x50b", filesystem.ThumbSize{Width: 100, Height: 50, Mode: "b"}, true},
		{"100x50f", filesystem.ThumbSize{Width: 100, Height: 50, Mode: "f"}, true},
		{"0x50", filesystem.ThumbSize{Height: 50}, true},
		{"50x0", filesystem.ThumbSize{Width: 50}, true},
		{"0x0", filesystem.ThumbSize{}, false},
		{"0x0f", filesystem.ThumbSize{}, false},
		{"", filesystem.ThumbSize{}, false},
		{"100", filesystem.ThumbSize{}, false},
		{"100x", filesystem.ThumbSize{}, false},
		{"x100", filesystem.ThumbSize{}, false},
		{"100x100z", filesystem.ThumbSize{}, false},
		{"-1x100", filesystem.ThumbSize{}, false},
		{"100X100", filesystem.ThumbSize{}, false},
		{" 100x100", filesystem.ThumbSize{}, false},
		{"99999999999999999999x1", filesystem.ThumbSize{}, false},
	}
	for _, tt := range tests {
		got, err := filesystem.ParseThumbSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseThumbSize(%q) = %+v, %v; want %+v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestServeHeaders(t *testing.T) {
	tests := []struct {
		stored, name string
		download     bool
		ct, cd       string
	}{
		{"image/png", "a_x.png", false, "image/png", `inline; filename="a_x.png"`},
		{"image/png", "a_x.png", true, "image/png", `attachment; filename="a_x.png"`},
		{"text/plain; charset=utf-8", "a_x.txt", false, "text/plain; charset=utf-8", `attachment; filename="a_x.txt"`},
		{"text/xml; charset=utf-8", "a_x.svg", false, "image/svg+xml", `attachment; filename="a_x.svg"`},
		{"text/plain; charset=utf-8", "a_x.js", false, "text/javascript", `attachment; filename="a_x.js"`},
		{"application/zip", "a_x.docx", false, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", `attachment; filename="a_x.docx"`},
		{"application/pdf", "a_x.pdf", false, "application/pdf", `inline; filename="a_x.pdf"`},
		{"video/mp4", "a_x.mp4", false, "video/mp4", `inline; filename="a_x.mp4"`},
		{"application/octet-stream", `we"ird.bin`, false, "application/octet-stream", `attachment; filename="we\"ird.bin"`},
		{"application/octet-stream", "a\x01b\n.bin", false, "application/octet-stream", `attachment; filename="a\x01b\n.bin"`},
	}
	for _, tt := range tests {
		ct, cd := filesystem.ServeHeaders(tt.stored, tt.name, tt.download)
		if ct != tt.ct || cd != tt.cd {
			t.Errorf("ServeHeaders(%q, %q, %v) = %q, %q; want %q, %q", tt.stored, tt.name, tt.download, ct, cd, tt.ct, tt.cd)
		}
	}
}
