package httpapi_test

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
)

const validateFailedPrefix = `{"data":{`

// withBackup is a BeforeTestFunc that creates the named backup.
func withBackup(name string) func(t testing.TB, app *core.App) {
	return func(t testing.TB, app *core.App) {
		t.Helper()
		if _, err := app.CreateBackup(t.Context(), name); err != nil {
			t.Fatal(err)
		}
	}
}

// multipartBody returns a multipart body with one file part, and its Content-Type.
func backupMultipart(t *testing.T, field, filename string, content []byte) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if field != "" {
		part, err := w.CreateFormFile(field, filename)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := part.Write(content); err != nil {
			t.Fatal(err)
		}
	} else if err := w.WriteField("other", "x"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, w.FormDataContentType()
}

func backupZipBytes(t *testing.T) []byte {
	return zipOf(t, "data.db")
}

// zipOf returns a zip holding the named entries, each with the content "x".
func zipOf(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("x"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func backupExists(t testing.TB, app *core.App, key string, want bool) {
	t.Helper()
	_, err := app.BackupPath(key)
	if (err == nil) != want {
		t.Errorf("backup %q exists = %v, want %v", key, err == nil, want)
	}
}

func TestBackupsListAndCreate(t *testing.T) {
	suJSON := map[string]string{"Content-Type": "application/json"}
	factory, su, user := opsApp(suJSON)

	scenarios := []apitest.ApiScenario{
		{Name: "list as guest", Method: http.MethodGet, URL: "/api/backups", TestAppFactory: factory,
			ExpectedStatus: 401, ExpectedBody: opsRequiresAuthBody},
		{Name: "list as user", Method: http.MethodGet, URL: "/api/backups", TestAppFactory: factory, Headers: user,
			ExpectedStatus: 403, ExpectedBody: notAllowedBody},
		{Name: "list empty", Method: http.MethodGet, URL: "/api/backups", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 200, ExpectedBody: `[]`},
		{Name: "list", Method: http.MethodGet, URL: "/api/backups", TestAppFactory: factory, Headers: su,
			BeforeTestFunc: withBackup("b.zip"), ExpectedStatus: 200,
			ExpectedContent: []string{`[{"modified":"`, `","key":"b.zip","size":`}, NotExpectedContent: []string{".attrs"}},
		{Name: "create as guest", Method: http.MethodPost, URL: "/api/backups", TestAppFactory: factory,
			ExpectedStatus: 401, ExpectedBody: opsRequiresAuthBody},
		{Name: "create as user", Method: http.MethodPost, URL: "/api/backups", TestAppFactory: factory, Headers: user,
			ExpectedStatus: 403, ExpectedBody: notAllowedBody},
		{
			Name: "create with a name", Method: http.MethodPost, URL: "/api/backups", TestAppFactory: factory, Headers: suJSON,
			Body: strings.NewReader(`{"name":"my_backup-1.zip"}`), ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				backupExists(t, app, "my_backup-1.zip", true)
			},
		},
		{
			Name: "create without a body", Method: http.MethodPost, URL: "/api/backups", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				list, err := app.ListBackups(t.Context())
				if err != nil || len(list) != 1 || !strings.HasPrefix(list[0].Key, "pb_backup_acme_") {
					t.Errorf("backups = %+v, %v", list, err)
				}
			},
		},
		{
			Name: "create with an invalid name", Method: http.MethodPost, URL: "/api/backups", TestAppFactory: factory, Headers: suJSON,
			Body:           strings.NewReader(`{"name":"../Bad.zip"}`),
			ExpectedStatus: 400,
			ExpectedBody:   `{"data":{"name":{"code":"validation_match_invalid","message":"Must be in a valid format."}},"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name: "create with a used name", Method: http.MethodPost, URL: "/api/backups", TestAppFactory: factory, Headers: suJSON,
			Body: strings.NewReader(`{"name":"b.zip"}`), BeforeTestFunc: withBackup("b.zip"),
			ExpectedStatus: 400,
			ExpectedBody:   `{"data":{"name":{"code":"validation_backup_name_exists","message":"The backup file name is invalid or already exists."}},"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name: "create with a too long name", Method: http.MethodPost, URL: "/api/backups", TestAppFactory: factory, Headers: suJSON,
			Body:            strings.NewReader(`{"name":"` + strings.Repeat("a", 148) + `.zip"}`),
			ExpectedStatus:  400,
			ExpectedContent: []string{validateFailedPrefix + `"name":{"code":"validation_length_out_of_range","message":"The length must be between 1 and 150.","params":{"max":150,"min":1}}}`},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestBackupsUpload(t *testing.T) {
	okBody, okType := backupMultipart(t, "file", "uploaded.zip", backupZipBytes(t))
	dupBody, dupType := backupMultipart(t, "file", "b.zip", backupZipBytes(t))
	txtBody, txtType := backupMultipart(t, "file", "notzip.zip", []byte("plain text"))
	noneBody, noneType := backupMultipart(t, "", "", nil)
	slipBody, slipType := backupMultipart(t, "file", ".hidden.zip", backupZipBytes(t))
	// a Word document is a zip that mimetype (and so PocketBase) detects as docx
	docxBody, docxType := backupMultipart(t, "file", "report.zip", zipOf(t, "[Content_Types].xml", "word/document.xml"))

	ct := func(v string) map[string]string { return map[string]string{"Content-Type": v} }
	okSU, dupSU, txtSU, noneSU, slipSU, docxSU := ct(okType), ct(dupType), ct(txtType), ct(noneType), ct(slipType), ct(docxType)
	factory, _, user := opsApp(okSU, dupSU, txtSU, noneSU, slipSU, docxSU)

	scenarios := []apitest.ApiScenario{
		{Name: "as guest", Method: http.MethodPost, URL: "/api/backups/upload", TestAppFactory: factory, Headers: ct(okType),
			Body: bytes.NewReader(okBody.Bytes()), ExpectedStatus: 401, ExpectedBody: opsRequiresAuthBody},
		{Name: "as user", Method: http.MethodPost, URL: "/api/backups/upload", TestAppFactory: factory, Headers: user,
			ExpectedStatus: 403, ExpectedBody: notAllowedBody},
		{
			Name: "a zip", Method: http.MethodPost, URL: "/api/backups/upload", TestAppFactory: factory, Headers: okSU,
			Body: bytes.NewReader(okBody.Bytes()), ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				backupExists(t, app, "uploaded.zip", true)
			},
		},
		{
			Name: "not a zip", Method: http.MethodPost, URL: "/api/backups/upload", TestAppFactory: factory, Headers: txtSU,
			Body: bytes.NewReader(txtBody.Bytes()), ExpectedStatus: 400,
			// the file is named by its normalized name, as PocketBase's validator does
			ExpectedContent: []string{
				`{"data":{"file":{"code":"validation_invalid_mime_type","message":"\"notzip_`,
				`.zip\" mime type must be one of: application/zip."}},"message":"An error occurred while validating the submitted data.","status":400}`,
			},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				backupExists(t, app, "notzip.zip", false)
			},
		},
		{
			Name: "a zip detected as another type", Method: http.MethodPost, URL: "/api/backups/upload", TestAppFactory: factory, Headers: docxSU,
			Body: bytes.NewReader(docxBody.Bytes()), ExpectedStatus: 400,
			ExpectedContent: []string{`"code":"validation_invalid_mime_type","message":"\"report_`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				backupExists(t, app, "report.zip", false)
			},
		},
		{
			Name: "no file", Method: http.MethodPost, URL: "/api/backups/upload", TestAppFactory: factory, Headers: noneSU,
			Body: bytes.NewReader(noneBody.Bytes()), ExpectedStatus: 400,
			ExpectedBody: `{"data":{"file":{"code":"validation_required","message":"Cannot be blank."}},"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name: "a used name", Method: http.MethodPost, URL: "/api/backups/upload", TestAppFactory: factory, Headers: dupSU,
			Body: bytes.NewReader(dupBody.Bytes()), BeforeTestFunc: withBackup("b.zip"),
			ExpectedStatus: 400,
			ExpectedBody:   `{"data":{"file":{"code":"validation_backup_name_exists","message":"Backup file with the specified name already exists."}},"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name: "an unsafe name", Method: http.MethodPost, URL: "/api/backups/upload", TestAppFactory: factory, Headers: slipSU,
			Body: bytes.NewReader(slipBody.Bytes()), ExpectedStatus: 400,
			ExpectedContent: []string{`"file":{"code":"validation_invalid_value"`},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestBackupsDownload(t *testing.T) {
	factory, su, user := opsApp()
	app := factory(t)
	if _, err := app.CreateBackup(t.Context(), "d.zip"); err != nil {
		t.Fatal(err)
	}
	var suID string
	if err := app.DB().Read().QueryRowContext(t.Context(), "SELECT id FROM _superusers").Scan(&suID); err != nil {
		t.Fatal(err)
	}
	token := func(collection, id string, file bool) string {
		rec, err := app.FindRecordByID(t.Context(), collection, id)
		if err != nil {
			t.Fatal(err)
		}
		var tok string
		if file {
			tok, err = core.NewFileToken(rec)
		} else {
			tok, err = core.NewAuthToken(rec)
		}
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	suFile := token(core.CollectionNameSuperusers, suID, true)
	userFile := token(core.CollectionNameUsers, "user00000000001", true)
	suAuth := token(core.CollectionNameSuperusers, suID, false)
	same := func(testing.TB) *core.App { return app }
	forbidden := `{"data":{},"message":"Insufficient permissions to access the resource.","status":403}`
	generic400 := `{"data":{},"message":"Something went wrong while processing your request.","status":400}`
	path, _ := app.BackupPath("d.zip")
	want, _ := os.ReadFile(path)

	scenarios := []apitest.ApiScenario{
		{Name: "no token", Method: http.MethodGet, URL: "/api/backups/d.zip", TestAppFactory: same, Headers: su,
			ExpectedStatus: 403, ExpectedBody: forbidden},
		{Name: "user file token", Method: http.MethodGet, URL: "/api/backups/d.zip?token=" + userFile, TestAppFactory: same, Headers: user,
			ExpectedStatus: 403, ExpectedBody: forbidden},
		{Name: "superuser auth token", Method: http.MethodGet, URL: "/api/backups/d.zip?token=" + suAuth, TestAppFactory: same,
			ExpectedStatus: 403, ExpectedBody: forbidden},
		{
			Name: "superuser file token", Method: http.MethodGet, URL: "/api/backups/d.zip?token=" + suFile, TestAppFactory: same,
			ExpectedStatus: 200, ExpectedBody: string(want),
			ExpectedHeaders: map[string]string{
				"Content-Disposition": `attachment; filename="d.zip"`,
				"Content-Type":        "application/zip",
				"Accept-Ranges":       "bytes",
			},
		},
		{Name: "missing backup", Method: http.MethodGet, URL: "/api/backups/nope.zip?token=" + suFile, TestAppFactory: same,
			ExpectedStatus: 400, ExpectedBody: generic400},
		{Name: "traversal key", Method: http.MethodGet, URL: "/api/backups/..%2Fdata.db?token=" + suFile, TestAppFactory: same,
			ExpectedStatus: 400, ExpectedBody: generic400},
	}
	for _, s := range scenarios {
		s.Test(t)
	}

	// a superuser file token from an IP outside settings.superuserIPs is refused
	// (apis/backup.go backupDownload)
	listed := withSettings(t, func(s *core.Settings) {
		s.SuperuserIPs = []string{"10.0.0.0/8"}
		s.TrustedProxy.Headers = []string{"X-Forwarded-For"}
	})
	ipApp := listed(t)
	if _, err := ipApp.CreateBackup(t.Context(), "d.zip"); err != nil {
		t.Fatal(err)
	}
	ipSame := func(testing.TB) *core.App { return ipApp }
	var ipSUID string
	if err := ipApp.DB().Read().QueryRowContext(t.Context(), "SELECT id FROM _superusers").Scan(&ipSUID); err != nil {
		t.Fatal(err)
	}
	ipSU, err := ipApp.FindRecordByID(t.Context(), core.CollectionNameSuperusers, ipSUID)
	if err != nil {
		t.Fatal(err)
	}
	ipFile, err := core.NewFileToken(ipSU)
	if err != nil {
		t.Fatal(err)
	}
	runSeq(t,
		apitest.ApiScenario{
			Name: "superuser file token from an unlisted IP", Method: http.MethodGet, URL: "/api/backups/d.zip?token=" + ipFile, TestAppFactory: ipSame,
			ExpectedStatus: 403, ExpectedBody: forbidden,
		},
		apitest.ApiScenario{
			Name: "superuser file token from a listed IP", Method: http.MethodGet, URL: "/api/backups/d.zip?token=" + ipFile, TestAppFactory: ipSame,
			Headers:        map[string]string{"X-Forwarded-For": "10.1.2.3"},
			ExpectedStatus: 200, ExpectedContent: []string{"PK\x03\x04"}, ExpectedHeaders: map[string]string{"Content-Type": "application/zip"},
		},
	)
}

func TestBackupsDeleteAndRestore(t *testing.T) {
	factory, su, user := opsApp()
	defer httpapi.SetRestoreDelay(0)()

	withNotes := func(t testing.TB, app *core.App) {
		t.Helper()
		for _, q := range []string{"CREATE TABLE notes (id INTEGER PRIMARY KEY)", "INSERT INTO notes DEFAULT VALUES"} {
			if _, err := app.DB().Write().ExecContext(t.Context(), q); err != nil {
				t.Fatal(err)
			}
		}
		withBackup("snap.zip")(t, app)
		if _, err := app.DB().Write().ExecContext(t.Context(), "INSERT INTO notes DEFAULT VALUES"); err != nil {
			t.Fatal(err)
		}
	}

	scenarios := []apitest.ApiScenario{
		{Name: "delete as guest", Method: http.MethodDelete, URL: "/api/backups/b.zip", TestAppFactory: factory,
			ExpectedStatus: 401, ExpectedBody: opsRequiresAuthBody},
		{Name: "delete as user", Method: http.MethodDelete, URL: "/api/backups/b.zip", TestAppFactory: factory, Headers: user,
			ExpectedStatus: 403, ExpectedBody: notAllowedBody},
		{
			Name: "delete", Method: http.MethodDelete, URL: "/api/backups/b.zip", TestAppFactory: factory, Headers: su,
			BeforeTestFunc: withBackup("b.zip"), ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				backupExists(t, app, "b.zip", false)
				if _, err := os.Stat(filepath.Join(app.DataDir(), core.BackupsDir, "b.zip.attrs")); err == nil {
					t.Error("attributes sidecar left behind")
				}
			},
		},
		{Name: "delete missing", Method: http.MethodDelete, URL: "/api/backups/nope.zip", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 400, ExpectedContent: []string{`"message":"Invalid or already deleted backup file. Raw error: \nmissing or invalid backup file: file does not exist."`}},
		{
			Name: "delete outside the backups dir", Method: http.MethodDelete, URL: "/api/backups/..%2Fdata.db", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 400, ExpectedContent: []string{`Invalid or already deleted backup file.`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if _, err := os.Stat(filepath.Join(app.DataDir(), "data.db")); err != nil {
					t.Fatal(err)
				}
			},
		},
		{Name: "restore as guest", Method: http.MethodPost, URL: "/api/backups/snap.zip/restore", TestAppFactory: factory,
			ExpectedStatus: 401, ExpectedBody: opsRequiresAuthBody},
		{Name: "restore as user", Method: http.MethodPost, URL: "/api/backups/snap.zip/restore", TestAppFactory: factory, Headers: user,
			ExpectedStatus: 403, ExpectedBody: notAllowedBody},
		{Name: "restore missing", Method: http.MethodPost, URL: "/api/backups/nope.zip/restore", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 400, ExpectedBody: `{"data":{},"message":"Missing or invalid backup file.","status":400}`},
		{
			Name: "restore", Method: http.MethodPost, URL: "/api/backups/snap.zip/restore", TestAppFactory: factory, Headers: su,
			BeforeTestFunc: withNotes, ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				deadline := time.Now().Add(5 * time.Second)
				for {
					release := app.HoldData()
					var n int
					err := app.DB().Read().QueryRowContext(t.Context(), "SELECT count(*) FROM notes").Scan(&n)
					release()
					if err == nil && n == 1 {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("notes = %d, %v after the restore, want 1", n, err)
					}
					time.Sleep(20 * time.Millisecond)
				}
			},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestFileToken(t *testing.T) {
	factory, su, user := opsApp()

	scenarios := []apitest.ApiScenario{
		{Name: "guest", Method: http.MethodPost, URL: "/api/files/token", TestAppFactory: factory,
			ExpectedStatus: 401, ExpectedBody: opsRequiresAuthBody},
		{Name: "user", Method: http.MethodPost, URL: "/api/files/token", TestAppFactory: factory, Headers: user,
			ExpectedStatus: 200, ExpectedContent: []string{`{"token":"eyJ`}},
		{
			Name: "superuser token downloads backups", Method: http.MethodPost, URL: "/api/files/token", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 200, ExpectedContent: []string{`{"token":"eyJ`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
				tok := strings.TrimSuffix(strings.TrimPrefix(string(body), `{"token":"`), `"}`)
				rec, err := app.FindAuthRecordByToken(t.Context(), tok, core.TokenTypeFile)
				if err != nil || !rec.IsSuperuser() {
					t.Errorf("file token record = %v, %v", rec, err)
				}
			},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

// TestBackupsOutliveTheWriteTimeout creates and downloads a backup larger than the
// socket buffers through a server whose WriteTimeout passes first: the creation has no
// write deadline and the download's own one grows with the size, so both complete.
func TestBackupsOutliveTheWriteTimeout(t *testing.T) {
	factory, suHeaders, _ := opsApp()
	app := factory(t)
	big := make([]byte, 32<<20)
	_, _ = rand.Read(big) // incompressible
	if err := os.MkdirAll(filepath.Join(app.DataDir(), core.StorageDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app.DataDir(), core.StorageDir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	su, err := app.FindSuperuserByEmail(t.Context(), "root@example.com")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := app.FindRecordByID(t.Context(), core.CollectionNameSuperusers, su.ID)
	if err != nil {
		t.Fatal(err)
	}
	token, err := core.NewFileToken(rec)
	if err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewUnstartedServer(httpapi.NewRouter(app))
	srv.Config.WriteTimeout = 20 * time.Millisecond
	srv.Start()
	defer srv.Close()

	// archiving 32 MiB takes longer than the WriteTimeout
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/backups", strings.NewReader(`{"name":"big.zip"}`))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range suHeaders {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /api/backups: %v, %v", res, err)
	}
	_ = res.Body.Close()
	path, err := app.BackupPath("big.zip")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	res, err = http.Get(srv.URL + "/api/backups/big.zip?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	// the client stalls past the server's WriteTimeout before reading
	time.Sleep(10 * srv.Config.WriteTimeout)
	n, err := io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK || err != nil || n != st.Size() {
		t.Fatalf("download: status %d, %d of %d bytes, err %v", res.StatusCode, n, st.Size(), err)
	}
}
