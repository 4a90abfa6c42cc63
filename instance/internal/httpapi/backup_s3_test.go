package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
)

// TestBackupsOnS3 runs the whole backups API with settings.backups.s3 pointing at a
// real S3-compatible server (versitygw) on loopback: the settings test of the backups
// bucket, create, list, download (whole and ranged), upload, the auto backup with its
// cronMaxKeep pruning, restore from the bucket, and delete. Nothing may touch the local
// backups directory.
func TestBackupsOnS3(t *testing.T) {
	srv := apitest.StartS3Server(t)
	defer httpapi.SetRestoreDelay(0)()

	factory, su, _ := opsApp()
	app := factory(t)
	saveSettings(func(s *core.Settings) {
		s.Backups.S3 = core.S3Config{Enabled: true, Endpoint: srv.Endpoint, Bucket: srv.Bucket, Region: "us-east-1",
			AccessKey: srv.AccessKey, Secret: srv.Secret, ForcePathStyle: true}
		s.Backups.Cron = "0 3 * * *"
		s.Backups.CronMaxKeep = 2
	})(t, app)
	api := httptest.NewServer(httpapi.NewRouter(app))
	defer api.Close()

	do := func(method, url, contentType string, body io.Reader, header map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, api.URL+url, body)
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for k, v := range su {
			req.Header.Set(k, v)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	inBucket := func(key string) []byte {
		b, _ := os.ReadFile(filepath.Join(srv.Root, srv.Bucket, key))
		return b
	}
	localBackups := filepath.Join(app.DataDir(), core.BackupsDir)

	// the settings test of the backups bucket
	if res, body := do(http.MethodPost, "/api/settings/test/s3", "application/json", strings.NewReader(`{"filesystem":"backups"}`), nil); res.StatusCode != 204 {
		t.Fatalf("settings test: %d %s", res.StatusCode, body)
	}

	// create: the zip is in the bucket, not in pb_data/backups
	if _, err := app.DB().Write().ExecContext(t.Context(), "CREATE TABLE notes (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB().Write().ExecContext(t.Context(), "INSERT INTO notes DEFAULT VALUES"); err != nil {
		t.Fatal(err)
	}
	if res, body := do(http.MethodPost, "/api/backups", "application/json", strings.NewReader(`{"name":"s3_snap.zip"}`), nil); res.StatusCode != 204 {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	snap := inBucket("s3_snap.zip")
	if !bytes.HasPrefix(snap, []byte("PK")) {
		t.Fatalf("the backup is not in the bucket (%d bytes)", len(snap))
	}
	if entries, _ := os.ReadDir(localBackups); len(entries) != 0 {
		t.Errorf("local backups dir holds %d entries", len(entries))
	}
	// the backup-age metric reads the bucket
	if latest, ok := app.LatestBackupTime(); !ok || time.Since(latest) > time.Minute {
		t.Errorf("LatestBackupTime = %v, %v; want the bucket's new backup", latest, ok)
	}
	res, body := do(http.MethodPost, "/api/backups", "application/json", strings.NewReader(`{"name":"s3_snap.zip"}`), nil)
	if res.StatusCode != 400 || !strings.Contains(string(body), `"code":"validation_backup_name_exists"`) {
		t.Errorf("create with a used name: %d %s", res.StatusCode, body)
	}

	// list
	res, body = do(http.MethodGet, "/api/backups", "", nil, nil)
	var list []core.BackupFileInfo
	if err := json.Unmarshal(body, &list); err != nil || res.StatusCode != 200 {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}
	if len(list) != 1 || list[0].Key != "s3_snap.zip" || list[0].Size != int64(len(snap)) || list[0].Modified == "" {
		t.Errorf("list = %+v", list)
	}

	// download, whole and ranged
	var suID string
	if err := app.DB().Read().QueryRowContext(t.Context(), "SELECT id FROM _superusers").Scan(&suID); err != nil {
		t.Fatal(err)
	}
	suRecord, err := app.FindRecordByID(t.Context(), core.CollectionNameSuperusers, suID)
	if err != nil {
		t.Fatal(err)
	}
	fileToken, err := core.NewFileToken(suRecord)
	if err != nil {
		t.Fatal(err)
	}
	res, body = do(http.MethodGet, "/api/backups/s3_snap.zip?token="+fileToken, "", nil, nil)
	if res.StatusCode != 200 || !bytes.Equal(body, snap) || res.Header.Get("Content-Disposition") != `attachment; filename="s3_snap.zip"` {
		t.Errorf("download: %d, %d bytes, %q", res.StatusCode, len(body), res.Header.Get("Content-Disposition"))
	}
	res, body = do(http.MethodGet, "/api/backups/s3_snap.zip?token="+fileToken, "", nil, map[string]string{"Range": "bytes=4-13"})
	if res.StatusCode != http.StatusPartialContent || !bytes.Equal(body, snap[4:14]) {
		t.Errorf("ranged download: %d %q", res.StatusCode, body)
	}
	if res, _ := do(http.MethodGet, "/api/backups/missing.zip?token="+fileToken, "", nil, nil); res.StatusCode != 400 {
		t.Errorf("download of a missing backup: %d", res.StatusCode)
	}

	// upload
	upload, ct := backupMultipart(t, "file", "uploaded.zip", backupZipBytes(t))
	if res, body := do(http.MethodPost, "/api/backups/upload", ct, upload, nil); res.StatusCode != 204 {
		t.Fatalf("upload: %d %s", res.StatusCode, body)
	}
	if !bytes.Equal(inBucket("uploaded.zip"), backupZipBytes(t)) {
		t.Error("the uploaded backup is not in the bucket")
	}
	upload, ct = backupMultipart(t, "file", "uploaded.zip", backupZipBytes(t))
	if res, body := do(http.MethodPost, "/api/backups/upload", ct, upload, nil); res.StatusCode != 400 || !strings.Contains(string(body), "validation_backup_name_exists") {
		t.Errorf("second upload: %d %s", res.StatusCode, body)
	}

	// the auto backup goes to the bucket and keeps the cronMaxKeep (2) newest automatic ones
	bucket, err := filesystem.NewS3(filesystem.S3Config{Endpoint: srv.Endpoint, Bucket: srv.Bucket, AccessKey: srv.AccessKey, Secret: srv.Secret, ForcePathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range []string{"@auto_pb_backup_a_20200101000000.zip", "@auto_pb_backup_a_20200102000000.zip"} {
		if err := bucket.Upload(t.Context(), old, bytes.NewReader(backupZipBytes(t)), "application/zip", nil); err != nil {
			t.Fatal(err)
		}
	}
	if res, body := do(http.MethodPost, "/api/crons/__pbAutoBackup__", "", nil, nil); res.StatusCode != 204 {
		t.Fatalf("run auto backup: %d %s", res.StatusCode, body)
	}
	waitFor(t, "auto backup and pruning", func() bool {
		list, err := app.ListBackups(t.Context())
		if err != nil || len(list) != 4 {
			return false
		}
		keys := []string{list[0].Key, list[1].Key, list[2].Key, list[3].Key}
		return keys[0] == "@auto_pb_backup_a_20200102000000.zip" && strings.HasPrefix(keys[1], "@auto_pb_backup_") &&
			keys[2] == "s3_snap.zip" && keys[3] == "uploaded.zip"
	})
	if entries, _ := os.ReadDir(localBackups); len(entries) != 0 {
		t.Errorf("local backups dir holds %d entries", len(entries))
	}

	// restore from the bucket: the row added after the backup goes
	if _, err := app.DB().Write().ExecContext(t.Context(), "INSERT INTO notes DEFAULT VALUES"); err != nil {
		t.Fatal(err)
	}
	if res, body := do(http.MethodPost, "/api/backups/missing.zip/restore", "", nil, nil); res.StatusCode != 400 {
		t.Errorf("restore of a missing backup: %d %s", res.StatusCode, body)
	}
	if res, body := do(http.MethodPost, "/api/backups/s3_snap.zip/restore", "", nil, nil); res.StatusCode != 204 {
		t.Fatalf("restore: %d %s", res.StatusCode, body)
	}
	waitFor(t, "restore", func() bool {
		release := app.HoldData()
		defer release()
		var n int
		err := app.DB().Read().QueryRowContext(t.Context(), "SELECT count(*) FROM notes").Scan(&n)
		return err == nil && n == 1
	})

	// delete
	if res, body := do(http.MethodDelete, "/api/backups/uploaded.zip", "", nil, nil); res.StatusCode != 204 {
		t.Fatalf("delete: %d %s", res.StatusCode, body)
	}
	if inBucket("uploaded.zip") != nil {
		t.Error("the deleted backup is still in the bucket")
	}
	res, body = do(http.MethodDelete, "/api/backups/uploaded.zip", "", nil, nil)
	if res.StatusCode != 400 || !strings.Contains(string(body), "Invalid or already deleted backup file.") {
		t.Errorf("second delete: %d %s", res.StatusCode, body)
	}
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
