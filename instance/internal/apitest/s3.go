package apitest

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// S3ServerEnv names an environment variable that may hold the path of a versitygw
// binary; without it hack/s3-server.sh (found above the working directory) builds one
// from the module proxy, once per machine.
const S3ServerEnv = "POCKETFLEET_S3_SERVER"

// S3Server is a real S3-compatible server (versitygw, POSIX backend) on loopback.
type S3Server struct {
	// Endpoint is its URL, e.g. "http://127.0.0.1:40123"; address buckets path-style.
	Endpoint string
	// Bucket is an empty bucket made for the test.
	Bucket string
	// AccessKey and Secret are the root credentials.
	AccessKey, Secret string
	// Root is the folder holding the buckets.
	Root string
}

// StartS3Server starts a versitygw server on a free loopback port, with one empty
// bucket, and stops it when the test ends.
func StartS3Server(t testing.TB) *S3Server {
	t.Helper()

	bin := os.Getenv(S3ServerEnv)
	if bin == "" {
		bin = buildS3Server(t)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()

	dir := t.TempDir()
	srv := &S3Server{Endpoint: "http://" + addr, Bucket: "pocketfleet-test", AccessKey: "test-access", Secret: "test-secret-key", Root: filepath.Join(dir, "root")}
	for _, d := range []string{filepath.Join(srv.Root, srv.Bucket), filepath.Join(dir, "meta")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	var out bytes.Buffer
	cmd := exec.Command(bin, "--access", srv.AccessKey, "--secret", srv.Secret, "--port", addr, "--quiet",
		"posix", "--sidecar", filepath.Join(dir, "meta"), srv.Root)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting versitygw: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
			return srv
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// buildS3Server runs hack/s3-server.sh and returns the binary it prints.
func buildS3Server(t testing.TB) string {
	t.Helper()

	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		script := filepath.Join(dir, "hack", "s3-server.sh")
		if _, err := os.Stat(script); err == nil {
			out, err := exec.Command(script).Output()
			if err != nil {
				t.Fatalf("%s: %v", script, err)
			}
			return strings.TrimSpace(string(out))
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("hack/s3-server.sh not found above %s; set %s", wd, S3ServerEnv)
		}
	}
}
