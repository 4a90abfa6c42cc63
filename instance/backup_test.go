package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

const (
	testSuperuser = "root@example.com"
	testPassword  = "root-secret-pass-1"
	testPrefix    = "team-acme/acme/"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// instanceBinary builds the real instance binary once per test run.
func instanceBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "instance-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "instance")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// s3Env is the backup Jobs' environment for srv, with testPrefix.
func s3Env(srv *apitest.S3Server) map[string]string {
	return map[string]string{
		contract.EnvS3Endpoint:        srv.Endpoint,
		contract.EnvS3Bucket:          srv.Bucket,
		contract.EnvS3Prefix:          testPrefix,
		contract.EnvS3ForcePathStyle:  "true",
		contract.EnvS3AccessKeyID:     srv.AccessKey,
		contract.EnvS3SecretAccessKey: srv.Secret,
		contract.EnvSuperuserEmail:    testSuperuser,
		contract.EnvSuperuserPassword: testPassword,
	}
}

func environ(env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// instanceProc is a running `instance serve` process.
type instanceProc struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{}
	out  *apitest.SyncBuffer
}

// startInstance runs the binary serving dir on a free loopback port with the test
// superuser, and waits until it answers as that superuser.
func startInstance(t *testing.T, dir string) *instanceProc {
	t.Helper()
	stdout, stderr := &apitest.SyncBuffer{}, &apitest.SyncBuffer{}
	cmd := exec.Command(instanceBinary(t), "serve", "--http", "127.0.0.1:0", "--dir", dir)
	cmd.Env = environ(map[string]string{contract.EnvSuperuserEmail: testSuperuser, contract.EnvSuperuserPassword: testPassword})
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &instanceProc{cmd: cmd, done: make(chan struct{}), out: stderr}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)

	deadline := time.Now().Add(30 * time.Second)
	for p.url == "" {
		if m := restAPIRe.FindStringSubmatch(stdout.String()); m != nil {
			p.url = m[1]
			break
		}
		select {
		case <-p.done:
			t.Fatalf("serve exited: %s", stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", stderr)
		}
	}
	login(t, p.url) // waits for the bootstrap superuser

	return p
}

// stop ends the process with SIGTERM and waits for it.
func (p *instanceProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// apiCall sends a JSON (or multipart, with contentType) request and decodes the 2xx
// answer into out; any other status fails the test.
func apiCall(t *testing.T, method, url, token, contentType string, body io.Reader, out any) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	req.Header.Set("Content-Type", cmpOr(contentType, "application/json"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s = %d %s", method, url, res.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, raw)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func login(t *testing.T, base string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	apiCall(t, http.MethodPost, base+"/api/collections/_superusers/auth-with-password", "", "",
		strings.NewReader(`{"identity":"`+testSuperuser+`","password":"`+testPassword+`"}`), &out)
	return out.Token
}

// seed creates a "notes" collection with a file field, n records and one file; it
// returns the id of the record holding the file and the stored file name.
func seed(t *testing.T, base, token string, n int, fileContent []byte) (string, string) {
	t.Helper()
	apiCall(t, http.MethodPost, base+"/api/collections", token, "", strings.NewReader(`{"name":"notes","type":"base",
		"fields":[{"name":"body","type":"text"},{"name":"doc","type":"file","maxSelect":1,"maxSize":20000000}]}`), &map[string]any{})
	for i := range n {
		apiCall(t, http.MethodPost, base+"/api/collections/notes/records", token, "",
			strings.NewReader(fmt.Sprintf(`{"body":"note %d"}`, i)), &map[string]any{})
	}

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("body", "with a file")
	fw, _ := mw.CreateFormFile("doc", "report.bin")
	_, _ = fw.Write(fileContent)
	_ = mw.Close()
	var rec struct {
		ID  string `json:"id"`
		Doc string `json:"doc"`
	}
	apiCall(t, http.MethodPost, base+"/api/collections/notes/records", token, mw.FormDataContentType(), &buf, &rec)

	return rec.ID, rec.Doc
}

// countNotes returns the number of records of "notes".
func countNotes(t *testing.T, base, token string) int {
	t.Helper()
	var out struct {
		TotalItems int `json:"totalItems"`
	}
	apiCall(t, http.MethodGet, base+"/api/collections/notes/records?perPage=1", token, "", nil, &out)
	return out.TotalItems
}

// runBackup runs `instance <args>` (the real binary) with env and returns the exit
// code, the result parsed from the last stdout line, and the outputs.
func runBackup(t *testing.T, env map[string]string, args ...string) (int, contract.BackupResult, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(instanceBinary(t), args...)
	cmd.Env = environ(env)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res contract.BackupResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last stdout line is not a result: %q (%v); stderr: %s", stdout.String(), err, stderr.String())
	}
	return code, res, stdout.String(), stderr.String()
}

// bucketKeys lists the object keys under prefix, as the bucket holds them on disk.
func bucketKeys(t *testing.T, srv *apitest.S3Server, prefix string) []string {
	t.Helper()
	root := filepath.Join(srv.Root, srv.Bucket)
	var keys []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && strings.HasPrefix(rel, ".sgwtmp") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasPrefix(rel, prefix) {
			keys = append(keys, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

func objectBytes(t *testing.T, srv *apitest.S3Server, key string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(srv.Root, srv.Bucket, filepath.FromSlash(key)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// dataDigest is the SHA-256 of every regular file of dir but the temp directory.
func dataDigest(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".pb_temp_to_delete" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			out[rel] = sha256Hex(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBackupPushAndRestore(t *testing.T) {
	srv := apitest.StartS3Server(t)
	env := s3Env(srv)
	dirA := filepath.Join(t.TempDir(), "pb_data")
	a := startInstance(t, dirA)
	token := login(t, a.url)
	// larger than a part: the upload is a real multipart one
	fileContent := make([]byte, filesystem.DefaultPartSize+4321)
	_, _ = rand.Read(fileContent) // incompressible
	recID, fileName := seed(t, a.url, token, 20, fileContent)

	// objects retention must leave alone: not a zip, and a zip of a nested "folder"
	s3 := openBucket(t, srv)
	for _, k := range []string{testPrefix + "notes.txt", testPrefix + "nested/old.zip"} {
		if err := s3.Upload(t.Context(), k, strings.NewReader("x"), "", nil); err != nil {
			t.Fatal(err)
		}
	}

	// writes go on while the backups are taken
	var writes atomic.Int64
	ctx, stopWriting := context.WithCancel(t.Context())
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.url+"/api/collections/notes/records",
				strings.NewReader(`{"body":"during the backup"}`))
			req.Header.Set("Authorization", token)
			req.Header.Set("Content-Type", "application/json")
			if res, err := http.DefaultClient.Do(req); err == nil {
				if res.StatusCode == http.StatusOK {
					writes.Add(1)
				}
				_ = res.Body.Close()
			}
		}
	}()

	resultFile := filepath.Join(t.TempDir(), "result.json")
	names := []string{"b1.zip", "b2.zip", "b3.zip"}
	var last contract.BackupResult
	for i, name := range names {
		code, res, stdout, stderr := runBackup(t, env, "backup", "push", "--url", a.url, "--name", name,
			"--keep-last", "2", "--result-file", resultFile)
		if code != 0 || res.Error != "" {
			t.Fatalf("push %s: exit %d, result %+v; stderr: %s", name, code, res, stderr)
		}
		key := testPrefix + name
		zipBytes := objectBytes(t, srv, key)
		if res.Key != key || res.Location != "s3://"+srv.Bucket+"/"+key || res.SizeBytes != int64(len(zipBytes)) ||
			res.SHA256 != sha256Hex(zipBytes) || res.CompletedAt == "" {
			t.Errorf("push %s: result %+v; object %d bytes, sha256 %s", name, res, len(zipBytes), sha256Hex(zipBytes))
		}
		var m contract.BackupManifest
		if err := json.Unmarshal(objectBytes(t, srv, key+contract.BackupManifestSuffix), &m); err != nil {
			t.Fatal(err)
		}
		if m.Name != name || m.SizeBytes != res.SizeBytes || m.SHA256 != res.SHA256 || m.Format != contract.BackupFormat {
			t.Errorf("manifest %+v, result %+v", m, res)
		}
		if _, err := time.Parse(time.RFC3339, m.CreatedAt); err != nil {
			t.Errorf("manifest createdAt %q: %v", m.CreatedAt, err)
		}
		// the result file holds the same JSON as the last stdout line
		if b, err := os.ReadFile(resultFile); err != nil || strings.TrimSpace(stdout) != string(b) && !strings.HasSuffix(strings.TrimSpace(stdout), "\n"+string(b)) {
			t.Errorf("result file %q (%v), stdout %q", b, err, stdout)
		}
		// the instance keeps no local copy
		if entries, _ := os.ReadDir(filepath.Join(dirA, contract.BackupsDir)); len(entries) != 0 {
			t.Errorf("push %s: the instance's backups dir keeps %d entries", name, len(entries))
		}
		if wantPruned := max(0, i-1); res.Pruned != wantPruned {
			t.Errorf("push %s: pruned %d, want %d", name, res.Pruned, wantPruned)
		}
		if res.SizeBytes <= filesystem.DefaultPartSize {
			t.Errorf("push %s: %d bytes, want more than a part", name, res.SizeBytes)
		}
		last = res
	}
	stopWriting()
	<-writerDone
	if writes.Load() == 0 {
		t.Fatal("no write succeeded while the backups ran")
	}
	want := []string{
		testPrefix + "b2.zip", testPrefix + "b2.zip.json", testPrefix + "b3.zip", testPrefix + "b3.zip.json",
		testPrefix + "nested/old.zip", testPrefix + "notes.txt",
	}
	if got := bucketKeys(t, srv, testPrefix); !slices.Equal(got, want) {
		t.Errorf("bucket after 3 pushes with --keep-last 2:\n got %q\nwant %q", got, want)
	}

	// restore the last one into a fresh directory and serve it
	dirB := filepath.Join(t.TempDir(), "restored")
	code, res, _, stderr := runBackup(t, env, "backup", "restore", "--dir", dirB, "--key", last.Key, "--result-file", resultFile)
	if code != 0 || res.Error != "" || res.Key != last.Key || res.SHA256 != last.SHA256 || res.SizeBytes != last.SizeBytes || res.Skipped {
		t.Fatalf("restore: exit %d, result %+v; stderr: %s", code, res, stderr)
	}
	if leftovers, _ := os.ReadDir(filepath.Join(dirB, ".pb_temp_to_delete")); len(leftovers) != 0 {
		t.Errorf("restore left %d entries in the temp dir", len(leftovers))
	}
	b := startInstance(t, dirB)
	tokenB := login(t, b.url)
	if n := countNotes(t, b.url, tokenB); n < 21 {
		t.Errorf("restored notes = %d, want the 21 seeded and more", n)
	}
	var fileTok struct {
		Token string `json:"token"`
	}
	apiCall(t, http.MethodPost, b.url+"/api/files/token", tokenB, "", nil, &fileTok)
	code2, body := get(t, b.url+"/api/files/notes/"+recID+"/"+fileName+"?token="+fileTok.Token)
	if code2 != http.StatusOK || body != string(fileContent) {
		t.Errorf("restored file: status %d, %d bytes, want %d", code2, len(body), len(fileContent))
	}

	// a restore into a directory in use is refused
	code, res, _, _ = runBackup(t, env, "backup", "restore", "--dir", dirB, "--key", last.Key)
	if code != 1 || !strings.Contains(res.Error, "in use") {
		t.Errorf("restore into a served dir: exit %d, result %+v", code, res)
	}
	// --if-empty on a directory with a database does nothing
	code, res, _, _ = runBackup(t, env, "backup", "restore", "--dir", dirB, "--key", last.Key, "--if-empty")
	if code != 0 || !res.Skipped || res.Error != "" {
		t.Errorf("restore --if-empty: exit %d, result %+v", code, res)
	}

	// a tampered object is refused and the data directory stays as it was
	b.stop()
	before := dataDigest(t, dirB)
	zipFile := filepath.Join(srv.Root, srv.Bucket, filepath.FromSlash(last.Key))
	tampered := objectBytes(t, srv, last.Key)
	tampered[len(tampered)/2] ^= 0xff
	if err := os.WriteFile(zipFile, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	code, res, _, _ = runBackup(t, env, "backup", "restore", "--dir", dirB, "--key", last.Key, "--result-file", resultFile)
	if code != 1 || !strings.Contains(res.Error, "does not match its manifest: sha256") {
		t.Errorf("restore of a tampered zip: exit %d, result %+v", code, res)
	}
	if raw, err := os.ReadFile(resultFile); err != nil || !strings.Contains(string(raw), `"error":"`) {
		t.Errorf("result file after a failure: %q, %v", raw, err)
	}
	after := dataDigest(t, dirB)
	if len(after) != len(before) {
		t.Errorf("files after the failed restore: %d, want %d", len(after), len(before))
	}
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed by the failed restore", k)
		}
	}
	if leftovers, _ := os.ReadDir(filepath.Join(dirB, ".pb_temp_to_delete")); len(leftovers) != 0 {
		t.Errorf("failed restore left %d entries in the temp dir", len(leftovers))
	}
	b2 := startInstance(t, dirB)
	if n := countNotes(t, b2.url, login(t, b2.url)); n < 21 {
		t.Errorf("notes after the failed restore = %d", n)
	}

	// an offline push of a served directory is refused
	code, res, _, _ = runBackup(t, env, "backup", "push", "--dir", dirA, "--name", "offline.zip")
	if code != 1 || !strings.Contains(res.Error, "is in use by another process") {
		t.Errorf("offline push of a served dir: exit %d, result %+v", code, res)
	}

	// a failed upload (no such bucket) still removes the instance's local copy
	noBucket := s3Env(srv)
	noBucket[contract.EnvS3Bucket] = "no-such-bucket"
	code, res, _, _ = runBackup(t, noBucket, "backup", "push", "--url", a.url, "--name", "nobucket.zip")
	if code != 1 || !strings.Contains(res.Error, "uploading s3://no-such-bucket/"+testPrefix+"nobucket.zip") || res.Key != "" {
		t.Errorf("push to a missing bucket: exit %d, result %+v", code, res)
	}
	if entries, _ := os.ReadDir(filepath.Join(dirA, contract.BackupsDir)); len(entries) != 0 {
		t.Errorf("the failed push left %d entries in the instance's backups dir", len(entries))
	}

	// a wrong password fails without leaking it
	badEnv := s3Env(srv)
	badEnv[contract.EnvSuperuserPassword] = "wrong-password-42"
	code, res, stdout, stderr := runBackup(t, badEnv, "backup", "push", "--url", a.url, "--name", "b4.zip")
	if code != 1 || !strings.Contains(res.Error, "logging in as superuser") {
		t.Errorf("push with a wrong password: exit %d, result %+v", code, res)
	}
	for _, secret := range []string{"wrong-password-42", srv.Secret} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("a secret leaked into the output: %s %s", stdout, stderr)
		}
	}
}

func openBucket(t *testing.T, srv *apitest.S3Server) *filesystem.S3 {
	t.Helper()
	s3, err := filesystem.NewS3(filesystem.S3Config{
		Endpoint: srv.Endpoint, Bucket: srv.Bucket, AccessKey: srv.AccessKey, Secret: srv.Secret, ForcePathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s3
}

func TestBackupPushFromDirWithMaxAge(t *testing.T) {
	srv := apitest.StartS3Server(t)
	env := s3Env(srv)
	delete(env, contract.EnvSuperuserPassword) // not needed offline
	ctx := t.Context()

	// a stopped instance's data directory
	dir := filepath.Join(t.TempDir(), "pb_data")
	app, err := core.New(ctx, core.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mustExecSQL(t, app, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)", "INSERT INTO notes (body) VALUES ('a'), ('b'), ('c')")
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	// backups of controlled ages: by manifest, and one without a manifest (LastModified: now)
	s3 := openBucket(t, srv)
	for name, age := range map[string]time.Duration{"old.zip": 48 * time.Hour, "recent.zip": time.Hour} {
		m, _ := json.Marshal(contract.BackupManifest{Name: name, CreatedAt: time.Now().Add(-age).UTC().Format(time.RFC3339),
			SizeBytes: 1, SHA256: strings.Repeat("0", 64), Format: contract.BackupFormat})
		if err := s3.Upload(ctx, testPrefix+name, strings.NewReader("z"), "", nil); err != nil {
			t.Fatal(err)
		}
		if err := s3.Upload(ctx, testPrefix+name+contract.BackupManifestSuffix, bytes.NewReader(m), "", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s3.Upload(ctx, testPrefix+"nomanifest.zip", strings.NewReader("z"), "", nil); err != nil {
		t.Fatal(err)
	}

	code, res, _, stderr := runBackup(t, env, "backup", "push", "--dir", dir, "--name", "offline.zip", "--max-age", "24h")
	if code != 0 || res.Error != "" || res.Pruned != 1 {
		t.Fatalf("offline push: exit %d, result %+v; stderr: %s", code, res, stderr)
	}
	if zipBytes := objectBytes(t, srv, res.Key); res.SHA256 != sha256Hex(zipBytes) || res.SizeBytes != int64(len(zipBytes)) {
		t.Errorf("result %+v does not describe the object (%d bytes)", res, len(zipBytes))
	}
	want := []string{
		testPrefix + "nomanifest.zip", testPrefix + "offline.zip", testPrefix + "offline.zip.json",
		testPrefix + "recent.zip", testPrefix + "recent.zip.json",
	}
	if got := bucketKeys(t, srv, testPrefix); !slices.Equal(got, want) {
		t.Errorf("bucket after --max-age 24h:\n got %q\nwant %q", got, want)
	}
	// the data directory keeps no archive nor scratch files
	for _, sub := range []string{contract.BackupsDir, ".pb_temp_to_delete"} {
		if entries, _ := os.ReadDir(filepath.Join(dir, sub)); len(entries) != 0 {
			t.Errorf("%s keeps %d entries after the offline push", sub, len(entries))
		}
	}

	// the offline backup restores
	restored := filepath.Join(t.TempDir(), "restored")
	code, res, _, stderr = runBackup(t, env, "backup", "restore", "--dir", restored, "--key", res.Key)
	if code != 0 || res.Error != "" {
		t.Fatalf("restore: exit %d, result %+v; stderr: %s", code, res, stderr)
	}
	app, err = core.New(ctx, core.Config{DataDir: restored, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	var n int
	if err := app.DB().Read().QueryRowContext(ctx, "SELECT count(*) FROM notes").Scan(&n); err != nil || n != 3 {
		t.Errorf("restored notes = %d, %v; want 3", n, err)
	}

	// a key with no backup
	code, res, _, _ = runBackup(t, env, "backup", "restore", "--dir", filepath.Join(t.TempDir(), "x"), "--key", testPrefix+"missing.zip")
	if code != 1 || !strings.Contains(res.Error, "no manifest "+testPrefix+"missing.zip.json") {
		t.Errorf("restore of a missing key: exit %d, result %+v", code, res)
	}
}

func mustExecSQL(t *testing.T, app *core.App, queries ...string) {
	t.Helper()
	for _, q := range queries {
		if _, err := app.DB().Write().ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestBackupCommandErrors(t *testing.T) {
	env := map[string]string{
		contract.EnvS3Endpoint: "http://127.0.0.1:1", contract.EnvS3Bucket: "b",
		contract.EnvS3AccessKeyID: "id", contract.EnvS3SecretAccessKey: "secret-key-never-shown",
		contract.EnvSuperuserEmail: testSuperuser, contract.EnvSuperuserPassword: testPassword,
	}
	with := func(k, v string) map[string]string {
		m := maps.Clone(env)
		m[k] = v
		return m
	}
	push := []string{"backup", "push", "--url", "http://acme:8090", "--name", "b.zip"}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		want     string
		noResult bool
	}{
		{name: "no action", env: env, args: []string{"backup"}, want: "missing backup action: push or restore", noResult: true},
		{name: "unknown action", env: env, args: []string{"backup", "pull"}, want: `unknown backup action "pull"`, noResult: true},
		{name: "push without source", env: env, args: []string{"backup", "push", "--name", "b.zip"}, want: "missing --url (a running instance) or --dir"},
		{name: "push with both sources", env: env, args: append(slices.Clone(push), "--dir", "/x"), want: "--url and --dir exclude each other"},
		{name: "push with a bad URL", env: env, args: []string{"backup", "push", "--url", "ftp://acme", "--name", "b.zip"}, want: `invalid --url "ftp://acme"`},
		{name: "push without name", env: env, args: []string{"backup", "push", "--url", "http://acme:8090"}, want: "missing --name"},
		{name: "push with a slash in the name", env: env, args: []string{"backup", "push", "--url", "http://acme:8090", "--name", "a/b.zip"}, want: `invalid --name "a/b.zip"`},
		{name: "push with a name not ending in .zip", env: env, args: []string{"backup", "push", "--url", "http://acme:8090", "--name", "b.tar"}, want: `invalid --name "b.tar"`},
		{name: "negative keep-last", env: env, args: append(slices.Clone(push), "--keep-last", "-1"), want: "invalid --keep-last -1"},
		{name: "bad max-age", env: env, args: append(slices.Clone(push), "--max-age", "a week"), want: `invalid --max-age "a week"`},
		{name: "push with an argument", env: env, args: append(slices.Clone(push), "extra"), want: `backup push takes no arguments, got ["extra"]`},
		{name: "unknown flag", env: env, args: append(slices.Clone(push), "--keep", "2"), want: "flag provided but not defined: -keep"},
		{name: "missing environment", env: map[string]string{}, args: push, want: "missing environment variables: PF_S3_ENDPOINT, PF_S3_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, PB_SUPERUSER_EMAIL, PB_SUPERUSER_PASSWORD"},
		{name: "missing password", env: with(contract.EnvSuperuserPassword, ""), args: push, want: "missing environment variables: PB_SUPERUSER_PASSWORD"},
		{name: "bad path style", env: with(contract.EnvS3ForcePathStyle, "yes please"), args: push, want: `PF_S3_FORCE_PATH_STYLE must be true or false, got "yes please"`},
		{name: "bad prefix", env: with(contract.EnvS3Prefix, "/abs"), args: push, want: `PF_S3_PREFIX must be a relative key prefix ending in "/", got "/abs"`},
		{name: "bad endpoint", env: with(contract.EnvS3Endpoint, "s3.example.com"), args: push, want: `invalid S3 endpoint "s3.example.com"`},
		{name: "restore without dir", env: env, args: []string{"backup", "restore", "--key", "a/b.zip"}, want: "missing --dir"},
		{name: "restore without key", env: env, args: []string{"backup", "restore", "--dir", "/x"}, want: "missing --key"},
		{name: "restore of a manifest key", env: env, args: []string{"backup", "restore", "--dir", "/x", "--key", "a/b.zip.json"}, want: `invalid --key "a/b.zip.json"`},
		{name: "restore without environment", env: map[string]string{}, args: []string{"backup", "restore", "--dir", "/x", "--key", "a/b.zip"}, want: "missing environment variables: PF_S3_ENDPOINT, PF_S3_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"},
		{name: "push to an unreachable instance", env: env, args: []string{"backup", "push", "--url", "http://127.0.0.1:1", "--name", "b.zip"},
			want: "logging in as superuser root@example.com: POST /api/collections/_superusers/auth-with-password: dial tcp 127.0.0.1:1: connect: connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resultFile := filepath.Join(t.TempDir(), "result")
			var stdout, stderr bytes.Buffer
			args := slices.Clone(tc.args)
			if !tc.noResult {
				args = append(args, "--result-file", resultFile)
			}
			code := run(t.Context(), args, &stdout, &stderr, envOf(tc.env))
			if code != 1 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, stderr.String(), tc.want)
			}
			if strings.Contains(stdout.String()+stderr.String(), env[contract.EnvS3SecretAccessKey]) ||
				strings.Contains(stdout.String()+stderr.String(), testPassword) {
				t.Fatalf("a secret leaked: %s %s", stdout.String(), stderr.String())
			}
			if tc.noResult {
				return
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			var res contract.BackupResult
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil || !strings.Contains(res.Error, tc.want) || res.CompletedAt == "" {
				t.Fatalf("result %q (%v), want an error with %q", lines[len(lines)-1], err, tc.want)
			}
			if raw, err := os.ReadFile(resultFile); err != nil || string(raw) != lines[len(lines)-1] || len(raw) >= 1024 {
				t.Fatalf("result file %q (%v), want the stdout result under 1 KB", raw, err)
			}
		})
	}
}
