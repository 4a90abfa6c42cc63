package httpapi_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
)

// bigMultipart returns a multipart body with a "label" value and a file part of size
// bytes, and its Content-Type.
func bigMultipart(t *testing.T, size int) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("label", "big"); err != nil {
		t.Fatal(err)
	}
	part, err := w.CreateFormFile("file", "big.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := part.Write(bytes.Repeat([]byte("x"), size)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	return buf.Bytes(), w.FormDataContentType()
}

// TestRecordMultipartBodyLimit checks that a multipart record body over the
// collection's body limit (32 MiB for tags, which has no file, editor or json field)
// is PocketBase's 413, whether its length is declared or only found while reading it,
// and that a multipart body under the limit still binds.
func TestRecordMultipartBodyLimit(t *testing.T) {
	tok := newTokens(t)
	over, overType := bigMultipart(t, 32<<20)
	under, underType := bigMultipart(t, 1<<10)
	headers := func(contentType string) map[string]string {
		return map[string]string{"Content-Type": contentType, "Authorization": tok.admin}
	}

	scenarios := []apitest.ApiScenario{
		{
			Name:   "declared length over the limit",
			Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: bytes.NewReader(over), Headers: headers(overType),
			ExpectedStatus: 413,
			ExpectedBody:   rwErr(413, "Request entity too large.", "{}"),
		},
		{
			Name:   "undeclared length over the limit",
			Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: io.MultiReader(bytes.NewReader(over)), Headers: headers(overType),
			ExpectedStatus: 413,
			ExpectedBody:   rwErr(413, "Request entity too large.", "{}"),
		},
		{
			Name:   "update over the limit",
			Method: http.MethodPatch, URL: "/api/collections/tags/records/unknownid00001",
			Body: io.MultiReader(bytes.NewReader(over)), Headers: headers(overType),
			ExpectedStatus: 413,
			ExpectedBody:   rwErr(413, "Request entity too large.", "{}"),
		},
		{
			Name:   "under the limit binds",
			Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: bytes.NewReader(under), Headers: headers(underType),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"label":"big"`},
		},
	}
	for _, s := range scenarios {
		s.TestAppFactory = fixtureApp
		s.Test(t)
	}
}
