package filesystem_test

import (
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

// FuzzParseThumbSize checks that any ?thumb= value parses without panicking, and that
// an accepted size is well formed and matches the thumb format.
func FuzzParseThumbSize(f *testing.F) {
	for _, s := range []string{"100x100", "0x50", "50x0", "10x20t", "10x20b", "10x20f", "0x0", "1x1x1", "99999999999999999999x1", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		size, err := filesystem.ParseThumbSize(s)
		if err != nil {
			if size != (filesystem.ThumbSize{}) {
				t.Fatalf("error with a size: %+v", size)
			}
			return
		}
		if !filesystem.ThumbSizeRegex.MatchString(s) {
			t.Fatalf("%q accepted but does not match the format", s)
		}
		if size.Width < 0 || size.Height < 0 || (size.Width == 0 && size.Height == 0) {
			t.Fatalf("%q gave %+v", s, size)
		}
		if !strings.Contains("tbf", size.Mode) || len(size.Mode) > 1 {
			t.Fatalf("%q gave mode %q", s, size.Mode)
		}
	})
}

// FuzzNormalizeName checks that any uploaded name becomes a plain stored name.
func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"hello.txt", "", "../../etc/passwd", `..\a.b`, "a.tar.gz", "Привет.png", ".htaccess", "a\x00b.txt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		file, err := filesystem.NewFileFromBytes([]byte("content"), name)
		if err != nil {
			t.Fatal(err)
		}
		n := file.Name
		if n == "" || strings.ContainsAny(n, "/\\\x00") || strings.HasPrefix(n, ".") || len(n) > 150 {
			t.Fatalf("%q became %q", name, n)
		}
	})
}
