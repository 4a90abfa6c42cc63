package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

func noEnv(string) string { return "" }

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// runCLI runs the command line and returns the exit code and outputs.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr, noEnv)
	return code, stdout.String(), stderr.String()
}

func TestRunTopLevel(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "version", args: []string{"--version"}, wantStdout: "instance version dev\n"},
		{name: "short version", args: []string{"-v"}, wantStdout: "instance version dev\n"},
		{name: "no arguments print usage", args: nil, wantStdout: "instance serve [--http 127.0.0.1:8090]"},
		{name: "help", args: []string{"--help"}, wantStdout: "instance superuser upsert EMAIL PASS"},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 1, wantStderr: `Error: unknown command "frobnicate" for "instance"`},
		{name: "serve help", args: []string{"serve", "-h"}, wantStderr: "-metrics-http"},
		{name: "serve with an unknown flag", args: []string{"serve", "--nope"}, wantCode: 1, wantStderr: "flag provided but not defined: -nope"},
		{name: "serve with arguments", args: []string{"serve", "example.com"}, wantCode: 1, wantStderr: "serve takes no domain arguments"},
		{name: "superuser without action", args: []string{"superuser"}, wantCode: 1, wantStderr: "missing superuser action"},
		{name: "superuser help", args: []string{"superuser", "--help"}, wantStderr: "Usage: instance superuser upsert|create|update"},
		{name: "superuser unknown action", args: []string{"superuser", "nope", "a@example.com"}, wantCode: 1, wantStderr: `unknown superuser action "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, tc.wantCode, stderr)
			}
			if !strings.Contains(stdout, tc.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout, tc.wantStdout)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.wantStderr)
			}
		})
	}
}

func TestSuperuserCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")

	// One data directory, commands in sequence, like an operator at a terminal.
	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "create", args: []string{"superuser", "create", "admin@example.com", "first-pass-1", "--dir", dir}, wantStdout: `Successfully created new superuser "admin@example.com"!`},
		{name: "create again", args: []string{"superuser", "create", "admin@example.com", "first-pass-1", "--dir", dir}, wantCode: 1, wantStderr: "email: Value must be unique"},
		{name: "flags first", args: []string{"superuser", "--dir=" + dir, "upsert", "admin@example.com", "second-pass-2"}, wantStdout: `Successfully saved superuser "admin@example.com"!`},
		{name: "upsert a new one", args: []string{"superuser", "upsert", "ops@example.com", "ops-pass-123", "--dir", dir}, wantStdout: `Successfully saved superuser "ops@example.com"!`},
		{name: "password after --", args: []string{"superuser", "update", "--dir", dir, "ops@example.com", "--", "-dash-pass-1"}, wantStdout: `Successfully changed superuser "ops@example.com" password!`},
		{name: "update missing", args: []string{"superuser", "update", "missing@example.com", "some-pass-1", "--dir", dir}, wantCode: 1, wantStderr: `superuser with email "missing@example.com" doesn't exist`},
		{name: "short password", args: []string{"superuser", "upsert", "x@example.com", "short", "--dir", dir}, wantCode: 1, wantStderr: "password: Must be at least 8 character(s)"},
		{name: "invalid email", args: []string{"superuser", "upsert", "not-an-email", "long-enough-1", "--dir", dir}, wantCode: 1, wantStderr: "missing or invalid email address"},
		{name: "missing password", args: []string{"superuser", "upsert", "x@example.com", "--dir", dir}, wantCode: 1, wantStderr: "missing email and password arguments"},
		{name: "delete", args: []string{"superuser", "delete", "ops@example.com", "--dir", dir}, wantStdout: `Successfully deleted superuser "ops@example.com"!`},
		{name: "delete missing", args: []string{"superuser", "delete", "ops@example.com", "--dir", dir}, wantStdout: `superuser "ops@example.com" is missing or already deleted`},
		{name: "delete the last", args: []string{"superuser", "delete", "admin@example.com", "--dir", dir}, wantCode: 1, wantStderr: "you can't delete the only existing superuser"},
		{name: "delete without email", args: []string{"superuser", "delete", "--dir", dir}, wantCode: 1, wantStderr: "invalid or missing email address"},
	}
	for _, s := range steps {
		code, stdout, stderr := runCLI(t, s.args...)
		if code != s.wantCode || !strings.Contains(stdout, s.wantStdout) || !strings.Contains(stderr, s.wantStderr) {
			t.Fatalf("step %q: exit %d, stdout %q, stderr %q; want exit %d, stdout ~%q, stderr ~%q",
				s.name, code, stdout, stderr, s.wantCode, s.wantStdout, s.wantStderr)
		}
	}

	app, err := core.New(t.Context(), core.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()

	var hash string
	if err := app.DB().Read().QueryRowContext(t.Context(), "SELECT password FROM _superusers WHERE email = 'admin@example.com'").Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !security.ComparePassword(hash, "second-pass-2") {
		t.Error("admin password is not the upserted one")
	}
	if n, err := app.CountSuperusers(t.Context()); err != nil || n != 1 {
		t.Errorf("CountSuperusers() = %d, %v; want 1", n, err)
	}
}

// TestSuperuserOTPAndIPs covers `superuser otp` (a code for a superuser, printed, not
// mailed) and `superuser ips` (the allow-list, set and cleared), as PocketBase's CLI.
func TestSuperuserOTPAndIPs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	openDir := func() *core.App {
		t.Helper()
		app, err := core.New(t.Context(), core.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return app
	}
	expect := func(wantCode int, want string, args ...string) string {
		t.Helper()
		code, stdout, stderr := runCLI(t, append(args, "--dir", dir)...)
		if code != wantCode || !strings.Contains(stdout+stderr, want) {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", args, code, stdout, stderr, wantCode, want)
		}
		return stdout
	}

	expect(0, "Successfully created", "superuser", "create", "admin@example.com", "first-pass-1")
	expect(1, "OTP auth is not enabled for the _superusers collection", "superuser", "otp", "admin@example.com")
	expect(1, `superuser with email "nobody@example.com" doesn't exist`, "superuser", "otp", "nobody@example.com")
	expect(1, "invalid or missing email address", "superuser", "otp", "not-an-email")

	app := openDir()
	coll, err := app.FindCachedCollectionByNameOrID(t.Context(), core.CollectionNameSuperusers)
	if err != nil {
		t.Fatal(err)
	}
	coll.Auth.OTP.Enabled = true
	if err := app.SaveCollection(t.Context(), coll); err != nil {
		t.Fatal(err)
	}
	app.Close()

	out := expect(0, `Successfully created OTP for superuser "admin@example.com":`, "superuser", "otp", "admin@example.com")
	m := regexp.MustCompile(`Id:\s+(\w+)\n├─ Pass:\s+(\d+)\n└─ Valid: 180s`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no id, pass and validity in %q", out)
	}
	app = openDir()
	otp, _, err := app.FindOTPForAuth(t.Context(), coll, m[1])
	if err != nil || !otp.ValidatePassword(m[2]) || otp.ValidatePassword(m[2]+"0") {
		t.Errorf("the printed OTP %s/%s does not log in: %v", m[1], m[2], err)
	}
	app.Close()

	expect(0, "Successfully updated SuperuserIPs setting:\n├─ 10.0.0.0/8\n└─ 127.0.0.1\n", "superuser", "ips", "10.0.0.0/8", "127.0.0.1")
	app = openDir()
	if got := app.Settings().SuperuserIPs; len(got) != 2 || got[0] != "10.0.0.0/8" || got[1] != "127.0.0.1" {
		t.Errorf("superuserIPs = %v", got)
	}
	app.Close()
	expect(1, "invalid IP or CIDR subnet", "superuser", "ips", "nope")
	expect(0, "Successfully cleared SuperuserIPs setting!", "superuser", "ips")
	app = openDir()
	defer app.Close()
	if got := app.Settings().SuperuserIPs; len(got) != 0 {
		t.Errorf("superuserIPs = %v after clearing", got)
	}
}

var restAPIRe = regexp.MustCompile(`REST API:\s+(http://\S+)/api/`)
var metricsRe = regexp.MustCompile(`Metrics:\s+(http://\S+)`)

// startServe runs `instance serve` in the background and returns its outputs, the
// base URL it printed and a stop function returning the exit code.
func startServe(t *testing.T, env map[string]string, args ...string) (stdout, stderr *apitest.SyncBuffer, baseURL string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	stdout, stderr = &apitest.SyncBuffer{}, &apitest.SyncBuffer{}

	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), stdout, stderr, envOf(env))
	}()

	deadline := time.Now().Add(15 * time.Second)
	for {
		if m := restAPIRe.FindStringSubmatch(stdout.String()); m != nil {
			baseURL = m[1]
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited early with %d; stderr: %s", code, stderr)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start; stdout: %s; stderr: %s", stdout, stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}

	stop = func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop after cancellation")
			return -1
		}
	}
	t.Cleanup(func() { cancel() })

	return stdout, stderr, baseURL, stop
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

func TestServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	env := map[string]string{
		contract.EnvSuperuserEmail:    "boot@example.com",
		contract.EnvSuperuserPassword: "boot-secret-pass-1",
	}

	stdout, stderr, baseURL, stop := startServe(t, env,
		"--http", "127.0.0.1:0", "--dir", dir, "--metrics-http", "127.0.0.1:0")

	if !strings.HasPrefix(stdout.String(), "Server started at "+baseURL+"\n") {
		t.Errorf("banner = %q", stdout)
	}

	code, body := get(t, baseURL+contract.HealthPath)
	if code != http.StatusOK || body != `{"message":"API is healthy.","code":200,"data":{}}` {
		t.Errorf("GET %s = %d %s", contract.HealthPath, code, body)
	}

	m := metricsRe.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no metrics URL in %q", stdout)
	}
	if !strings.HasSuffix(m[1], contract.MetricsPath) {
		t.Errorf("metrics URL %q does not end in %s", m[1], contract.MetricsPath)
	}
	if code, body := get(t, m[1]); code != http.StatusOK || !strings.Contains(body, "go_goroutines") ||
		!strings.Contains(body, `pocketfleet_http_requests_total{method="GET",route="/api/health",status="200"} 1`) {
		t.Errorf("GET metrics = %d, %.200s", code, body)
	}
	if code, _ := get(t, baseURL+contract.MetricsPath); code != http.StatusNotFound {
		t.Errorf("GET %s on the API listener = %d, want 404", contract.MetricsPath, code)
	}
	if !strings.HasPrefix(m[1], "http://127.0.0.1:") || strings.HasPrefix(m[1], baseURL+"/") {
		t.Errorf("metrics URL %q, API %q: want a separate listener", m[1], baseURL)
	}

	if exit := stop(); exit != 0 {
		t.Fatalf("serve exit code = %d; stderr: %s", exit, stderr)
	}

	logs := stderr.String()
	if !strings.Contains(logs, `"email":"boot@example.com"`) {
		t.Errorf("bootstrap superuser email not logged:\n%s", logs)
	}
	if strings.Contains(logs, "boot-secret-pass-1") {
		t.Errorf("the password was logged:\n%s", logs)
	}
	if strings.Contains(logs, "No superuser exists yet") {
		t.Errorf("installer hint printed although a superuser was bootstrapped:\n%s", logs)
	}

	// The databases were closed: no WAL files are left behind.
	for _, f := range []string{"data.db-wal", "auxiliary.db-wal"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s left behind after shutdown (err %v)", f, err)
		}
	}

	app, err := core.New(t.Context(), core.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if _, err := app.FindSuperuserByEmail(t.Context(), "boot@example.com"); err != nil {
		t.Errorf("bootstrap superuser not stored: %v", err)
	}
}

func TestServeWithoutSuperuserPrintsHowToCreateOne(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	_, stderr, baseURL, stop := startServe(t, map[string]string{
		// Only one of the pair: ignored with a warning.
		contract.EnvSuperuserEmail: "half@example.com",
	}, "--http", "127.0.0.1:0", "--dir", dir)

	if code, _ := get(t, baseURL+"/api/health"); code != http.StatusOK {
		t.Errorf("health = %d", code)
	}
	if exit := stop(); exit != 0 {
		t.Fatalf("exit code = %d", exit)
	}

	logs := stderr.String()
	for _, want := range []string{
		"No superuser exists yet. Create one with:\n  instance superuser upsert EMAIL PASS --dir " + dir + "\n",
		"ignoring the bootstrap superuser",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, logs)
		}
	}
}

func TestServeOnAFixtureCopyKeepsItsSuperuser(t *testing.T) {
	dir := apitest.CopyFixture(t)
	_, stderr, baseURL, stop := startServe(t, nil, "--http", "127.0.0.1:0", "--dir", dir)

	if code, _ := get(t, baseURL+"/api/health"); code != http.StatusOK {
		t.Errorf("health = %d", code)
	}
	if exit := stop(); exit != 0 {
		t.Fatalf("exit code = %d", exit)
	}
	if strings.Contains(stderr.String(), "No superuser exists yet") {
		t.Errorf("installer hint printed for the fixture:\n%s", stderr)
	}
}

func TestServeFailsOnABusyPort(t *testing.T) {
	_, _, baseURL, stop := startServe(t, nil, "--http", "127.0.0.1:0", "--dir", filepath.Join(t.TempDir(), "a"))
	defer stop()

	addr := strings.TrimPrefix(baseURL, "http://")
	code, _, stderr := runCLI(t, "serve", "--http", addr, "--dir", filepath.Join(t.TempDir(), "b"))
	if code != 1 || !strings.Contains(stderr, "Error: listening on "+addr) {
		t.Fatalf("second serve on %s: exit %d, stderr %q", addr, code, stderr)
	}
}

func TestServeRefusesAnUnsupportedDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Not an SQLite file.
	if err := os.WriteFile(filepath.Join(dir, contract.DataDBFile), []byte("definitely not sqlite, just text padding the header"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, _, stderr := runCLI(t, "serve", "--http", "127.0.0.1:0", "--dir", dir)
	if code != 1 || !strings.Contains(stderr, "Error: opening data directory") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestUntilBootstrappedHoldsAllButAGuestHealthCheck(t *testing.T) {
	bootstrapped := make(chan struct{})
	var served sync.Map
	h := untilBootstrapped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Store(r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"), true)
		w.WriteHeader(http.StatusNoContent)
	}), bootstrapped)
	srv := httptest.NewServer(h)
	defer srv.Close()

	do := func(method, path, auth string) <-chan int {
		done := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest(method, srv.URL+path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- 0
				return
			}
			_ = res.Body.Close()
			done <- res.StatusCode
		}()
		return done
	}

	// a guest's health check is answered right away, during the bootstrap
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		if code := <-do(method, contract.HealthPath, ""); code != http.StatusNoContent {
			t.Fatalf("%s health during the bootstrap = %d", method, code)
		}
	}
	held := []<-chan int{
		do(http.MethodGet, contract.HealthPath, "token"),
		do(http.MethodPost, contract.HealthPath, ""),
		do(http.MethodGet, "/api/collections", ""),
	}
	// the others wait: give them time to arrive and check that none was served
	time.Sleep(100 * time.Millisecond)
	for _, key := range []string{"GET /api/health token", "POST /api/health ", "GET /api/collections "} {
		if _, ok := served.Load(key); ok {
			t.Fatalf("%q was served before the bootstrap ended", key)
		}
	}
	close(bootstrapped)
	for i, done := range held {
		if code := <-done; code != http.StatusNoContent {
			t.Errorf("held request %d = %d after the bootstrap", i, code)
		}
	}
}

// TestServeAcceptsPocketBaseFlags runs serve with a PocketBase command line: --origins
// limits CORS, --encryptionEnv names the key that encrypts the stored settings, flags of
// features this instance does not have are accepted with a warning, and --https or
// domain arguments (automatic TLS) are refused with the reason.
func TestServeAcceptsPocketBaseFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	key := "0123456789abcdef0123456789abcdef"
	_, stderr, baseURL, stop := startServe(t, map[string]string{"MY_PB_KEY": key},
		"--http", "127.0.0.1:0", "--dir", dir, "--origins", "https://app.example.com, https://*.admin.example.com",
		"--encryptionEnv", "MY_PB_KEY", "--dev", "--automigrate=false", "--publicDir", "./pb_public", "--queryTimeout", "10")

	allowed := func(origin string) string {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, baseURL+"/api/health", nil)
		req.Header.Set("Origin", origin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		return res.Header.Get("Access-Control-Allow-Origin")
	}
	if got := allowed("https://app.example.com"); got != "https://app.example.com" {
		t.Errorf("listed origin: Access-Control-Allow-Origin %q", got)
	}
	if got := allowed("https://x.admin.example.com"); got != "https://x.admin.example.com" {
		t.Errorf("wildcard origin: Access-Control-Allow-Origin %q", got)
	}
	if got := allowed("https://evil.example.com"); got != "" {
		t.Errorf("other origin: Access-Control-Allow-Origin %q, want none", got)
	}
	if !strings.Contains(stderr.String(), `"flag":"--publicDir"`) || !strings.Contains(stderr.String(), `"flag":"--dev"`) {
		t.Errorf("no warning for the flags without effect: %s", stderr)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exited with %d", code)
	}

	// the settings were stored encrypted with the named key: the database alone does not
	// open them, the key does
	db, err := sql.Open("sqlite", filepath.Join(dir, "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var value string
	if err := db.QueryRowContext(t.Context(), "SELECT CAST(value AS TEXT) FROM _params WHERE id = 'settings'").Scan(&value); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(value, "appName") {
		t.Errorf("settings stored in clear: %.80s", value)
	}

	for _, args := range [][]string{
		{"--https", "127.0.0.1:8443"},
		{"example.com"},
	} {
		code, _, stderr := runCLI(t, append([]string{"serve", "--dir", dir}, args...)...)
		if code != 1 || !strings.Contains(stderr, "terminate TLS in front") {
			t.Errorf("serve %v: exit %d, stderr %q", args, code, stderr)
		}
	}
	code, _, stderr2 := runCLI(t, "serve", "--dir", dir, "--http", "127.0.0.1:0", "--encryptionEnv", "UNSET_VAR")
	if code != 1 || !strings.Contains(stderr2, "UNSET_VAR") {
		t.Errorf("serve with an unset --encryptionEnv: exit %d, stderr %q", code, stderr2)
	}
}
