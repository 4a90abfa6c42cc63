package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
)

// BenchmarkFileDownload measures GET /api/files over loopback for a public file, a
// kept thumb, a protected file with a file token, and a multipart upload.
func BenchmarkFileDownload(b *testing.B) {
	app := apitest.NewTestApp(b, apitest.CopyFixture(b))
	rec, err := app.FindRecordByID(b.Context(), "users", aliceID)
	if err != nil {
		b.Fatal(err)
	}
	fileToken, err := core.NewFileToken(rec)
	if err != nil {
		b.Fatal(err)
	}
	execSQL(b, app, "UPDATE posts SET published = 0 WHERE id = ?", rwAlicePost)
	if err := os.WriteFile(storagePath(app, fxPostsID, rwAlicePost, fxCover1), testPNG(b, 300, 200), 0o644); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.NewRouter(app))
	defer srv.Close()
	client := srv.Client()

	get := func(b *testing.B, url string) {
		res, err := client.Get(srv.URL + url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", url, res.StatusCode)
		}
	}
	base := "/api/files/posts/" + rwAlicePost + "/"

	b.Run("public", func(b *testing.B) {
		for b.Loop() {
			get(b, base+fxCover1)
		}
	})
	b.Run("thumb kept", func(b *testing.B) {
		get(b, base+fxCover1+"?thumb=100x100")
		for b.Loop() {
			get(b, base+fxCover1+"?thumb=100x100")
		}
	})
	b.Run("protected with token", func(b *testing.B) {
		for b.Loop() {
			get(b, base+fxNotes1+"?token="+fileToken)
		}
	})
}
