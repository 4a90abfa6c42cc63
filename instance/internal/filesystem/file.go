package filesystem

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"regexp"
	"strings"
	"unicode"

	"github.com/gabriel-vasile/mimetype"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// File is a new file to store: the name it is stored under, the name it was sent with,
// its size and a way to read it.
type File struct {
	// Name is the sanitised stored name (NormalizeName).
	Name string
	// OriginalName is the name the client sent.
	OriginalName string
	// Size is the content length in bytes.
	Size int64
	// Open returns a new reader of the content.
	Open func() (io.ReadSeekCloser, error)
}

// NewFileFromMultipart returns the File of an uploaded multipart part, with a new
// stored name.
func NewFileFromMultipart(h *multipart.FileHeader) (*File, error) {
	open := func() (io.ReadSeekCloser, error) { return h.Open() }
	name, err := NormalizeName(h.Filename, open)
	if err != nil {
		return nil, err
	}

	return &File{Name: name, OriginalName: h.Filename, Size: h.Size, Open: open}, nil
}

// NewFileFromBytes returns a File holding b, with a new stored name made from name.
func NewFileFromBytes(b []byte, name string) (*File, error) {
	if len(b) == 0 {
		return nil, errors.New("cannot create an empty file")
	}
	open := func() (io.ReadSeekCloser, error) { return nopCloser{bytes.NewReader(b)}, nil }
	stored, err := NormalizeName(name, open)
	if err != nil {
		return nil, err
	}

	return &File{Name: stored, OriginalName: name, Size: int64(len(b)), Open: open}, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// Name parts (tools/filesystem/file.go normalizeName).
const (
	randomSuffixLength = 10
	minBaseLength      = 3
	maxBaseLength      = 100
	maxExtLength       = 20
	maxNameLength      = 300
)

var extInvalidChars = regexp.MustCompile(`[^\w\.\*\-\+\=\#]+`)

// NormalizeName returns the stored name of an upload called original, as PocketBase
// makes it: the snake_cased base (padded with 10 random characters when shorter than 3,
// cut at 100), "_", 10 random [a-z0-9] characters, then the extension (a double one such
// as ".tar.gz" is kept) with invalid characters removed, cut to its last 20 characters,
// or detected from the content when the name has none. The result never contains a
// path separator.
func NormalizeName(original string, open func() (io.ReadSeekCloser, error)) (string, error) {
	// like PocketBase, only the last 300 bytes of a longer name count
	if n := len(original); n > maxNameLength {
		original = original[n-maxNameLength:]
	}
	originalExt := extractExtension(original)
	ext := "." + strings.Trim(extInvalidChars.ReplaceAllString(originalExt, ""), ".")
	if ext == "." {
		// no extension, or only dots ("name." or "..."): the content tells
		ext = ""
		if open != nil {
			ext = detectExtension(open)
		}
	}
	if n := len(ext); n > maxExtLength {
		ext = "." + strings.Trim(ext[n-maxExtLength:], ".")
	}

	base := Snakecase(strings.TrimSuffix(original, originalExt))
	if n := len(base); n < minBaseLength {
		pad, err := randomLower(randomSuffixLength)
		if err != nil {
			return "", err
		}
		base += pad
	} else if n > maxBaseLength {
		base = base[:maxBaseLength]
	}

	suffix, err := randomLower(randomSuffixLength)
	if err != nil {
		return "", err
	}

	return base + "_" + suffix + ext, nil
}

func randomLower(n int) (string, error) {
	return security.RandomStringWithAlphabet(n, security.AlphabetLowerAlphanumeric)
}

// extractExtension returns the extension of name with its dot, including a double
// extension (".tar.gz"), or "".
func extractExtension(name string) string {
	primary := strings.LastIndex(name, ".")
	if primary == -1 {
		return ""
	}
	if secondary := strings.LastIndex(name[:primary], "."); secondary >= 0 {
		return name[secondary:]
	}

	return name[primary:]
}

// detectExtension returns the extension of the detected content type, or "".
func detectExtension(open func() (io.ReadSeekCloser, error)) string {
	r, err := open()
	if err != nil {
		return ""
	}
	defer func() { _ = r.Close() }()

	mt, err := mimetype.DetectReader(r)
	if err != nil {
		return ""
	}

	return mt.Extension()
}

var snakecaseSplit = regexp.MustCompile(`[\W_]+`)

// Snakecase splits s at every run of non-word characters and underscores, joins the
// words with "_", inserts "_" before an upper-case letter that follows a lower-case one
// (so "myTestDB" becomes "my_test_db") and lower-cases the result. Non-ASCII
// characters are separators, so the result is ASCII (PocketBase's inflector.Snakecase).
func Snakecase(s string) string {
	var b strings.Builder
	for _, word := range snakecaseSplit.Split(s, -1) {
		if word == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('_')
		}
		for i, c := range word {
			if unicode.IsUpper(c) && i > 0 && !unicode.IsUpper(rune(word[i-1])) {
				b.WriteByte('_')
			}
			b.WriteRune(c)
		}
	}

	return strings.ToLower(b.String())
}

// DetectContentType returns the content type of what r holds, detected from its first
// bytes as PocketBase does (gabriel-vasile/mimetype), e.g. "image/png" or
// "text/plain; charset=utf-8".
func DetectContentType(r io.Reader) (string, error) {
	mt, err := mimetype.DetectReader(r)
	if err != nil {
		return "", err
	}

	return mt.String(), nil
}

// MatchesMimeType reports whether the content r holds is of one of the given types
// (aliases included, as mimetype's Is).
func MatchesMimeType(r io.Reader, types []string) (bool, error) {
	mt, err := mimetype.DetectReader(r)
	if err != nil {
		return false, err
	}
	for _, t := range types {
		if mt.Is(t) {
			return true, nil
		}
	}

	return false, nil
}
