package httpapi

import (
	"bytes"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

const fuzzBoundary = "fuzzboundary"

// fuzzCollection has a single and a multiple file field besides a text field.
func fuzzCollection(t testing.TB) *core.Collection {
	t.Helper()
	c, err := core.NewCollection(core.CollectionTypeBase, "fuzz")
	if err != nil {
		t.Fatal(err)
	}
	one, many, title := &core.FileField{}, &core.FileField{MaxSelect: 3}, &core.TextField{}
	one.SetName("one")
	many.SetName("many")
	title.SetName("title")
	c.Fields.Add(title, one, many)

	return c
}

// FuzzRecordMultipartBody parses any body as a multipart record body and attaches its
// files to a record form: nothing panics, and every name the form would store under a
// file field is a name the body sent or a plain stored name of an upload.
func FuzzRecordMultipartBody(f *testing.F) {
	for _, seed := range multipartSeeds(f) {
		f.Add(seed)
	}
	collection := fuzzCollection(f)

	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		out := &recordBody{Data: map[string]any{}}
		err := readMultipartBody(req, body, fuzzBoundary, 1<<20, out)
		if req.MultipartForm != nil {
			defer func() { _ = req.MultipartForm.RemoveAll() }()
		}
		if err != nil {
			return
		}

		form := core.NewRecordCreate(collection)
		if err := attachUploads(form, out); err != nil {
			return
		}
		data := form.ResolveBody(out.Data)
		form.Load(data)

		values := form.Values()
		for _, field := range []string{"one", "many"} {
			for _, name := range core.ToStringList(values[field]) {
				if strings.ContainsAny(name, "/\\") && !sentName(out, name) {
					t.Fatalf("%s holds %q, neither sent nor a plain name", field, name)
				}
			}
		}
	})
}

// sentName reports whether name appears among the body's own text values.
func sentName(out *recordBody, name string) bool {
	for _, v := range out.Data {
		for _, s := range core.ToStringList(v) {
			if s == name {
				return true
			}
		}
	}
	return false
}

func multipartSeeds(t testing.TB) [][]byte {
	t.Helper()
	build := func(parts func(w *multipart.Writer)) []byte {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		if err := w.SetBoundary(fuzzBoundary); err != nil {
			t.Fatal(err)
		}
		parts(w)
		_ = w.Close()
		return buf.Bytes()
	}
	file := func(w *multipart.Writer, field, name, content string) {
		p, _ := w.CreateFormFile(field, name)
		_, _ = p.Write([]byte(content))
	}

	return [][]byte{
		build(func(w *multipart.Writer) { _ = w.WriteField("title", "x") }),
		build(func(w *multipart.Writer) {
			_ = w.WriteField("title", "x")
			file(w, "one", "a.txt", "hello")
			file(w, "many", "../../b.png", "\x89PNG\r\n\x1a\n")
			file(w, "many+", "c", "")
			file(w, "+many", "d.tar.gz", "x")
		}),
		build(func(w *multipart.Writer) {
			_ = w.WriteField("many", "old.txt")
			_ = w.WriteField("@jsonPayload", `{"many-":["old.txt"],"one":"kept"}`)
			file(w, "many", "new.txt", "n")
		}),
		[]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"one\"; filename=\"x\\\\..\\\\y\"\r\n\r\nz\r\n--" + fuzzBoundary + "--\r\n"),
	}
}
