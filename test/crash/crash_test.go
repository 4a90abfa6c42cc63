// Package crash kills the instance binary with SIGKILL in the middle of a write burst
// and checks, after a restart, that every write it acknowledged survived and that the
// databases are intact.
package crash

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, for PRAGMA integrity_check

	"github.com/pocketfleet/pocketfleet/instance/contract"
)

const (
	adminEmail    = "crash@example.com"
	adminPassword = "crash-test-pass-1"
	// writers is the number of concurrent clients of the burst.
	writers = 8
	// killAfter is how many acknowledged creates the burst reaches before the kill.
	killAfter = 300
)

// buildInstance builds the instance binary into dir.
func buildInstance(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "instance")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/pocketfleet/pocketfleet/instance")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the instance: %v\n%s", err, out)
	}
	return bin
}

var startedRe = regexp.MustCompile(`Server started at (http://\S+)`)

// server is a running instance process.
type server struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{}
	output *bytes.Buffer
	mu     *sync.Mutex
}

// start serves dataDir with bin on a free loopback port.
func start(t *testing.T, bin, dataDir string) *server {
	t.Helper()
	cmd := exec.Command(bin, contract.ServeCommand, contract.FlagHTTP, "127.0.0.1:0", contract.FlagDir, dataDir)
	cmd.Env = append(os.Environ(),
		contract.EnvSuperuserEmail+"="+adminEmail,
		contract.EnvSuperuserPassword+"="+adminPassword)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, exited: make(chan struct{}), output: &bytes.Buffer{}, mu: &sync.Mutex{}}
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.output.Write(p)
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exited
	})

	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := startedRe.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case s.url = <-urls:
	case <-s.exited:
		t.Fatalf("instance exited before serving:\n%s", s.logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("instance did not start:\n%s", s.logs())
	}

	return s
}

func (s *server) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.output.String()
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// call sends a JSON request and decodes a JSON response into out (when not nil).
func call(ctx context.Context, client *http.Client, method, url, token string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return res.StatusCode, fmt.Errorf("decoding %s: %w", data, err)
		}
	}
	return res.StatusCode, nil
}

func superuserToken(t *testing.T, url string) string {
	t.Helper()
	var auth struct {
		Token string `json:"token"`
	}
	code, err := call(t.Context(), http.DefaultClient, http.MethodPost, url+"/api/collections/_superusers/auth-with-password", "",
		map[string]string{"identity": adminEmail, "password": adminPassword}, &auth)
	if err != nil || code != http.StatusOK {
		t.Fatalf("superuser auth = %d, %v", code, err)
	}
	return auth.Token
}

// TestCrashKeepsAcknowledgedWrites runs a burst of record creates from concurrent
// clients, kills the instance with SIGKILL once killAfter of them were acknowledged
// (with writes still in flight), restarts it on the same data directory and checks
// that every acknowledged record is there and that both databases pass PRAGMA
// integrity_check.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	tmp := t.TempDir()
	bin := buildInstance(t, tmp)
	dataDir := filepath.Join(tmp, "pb_data")

	srv := start(t, bin, dataDir)
	token := superuserToken(t, srv.url)
	code, err := call(t.Context(), http.DefaultClient, http.MethodPost, srv.url+"/api/collections", token, map[string]any{
		"name": "burst", "type": "base", "createRule": "",
		"fields": []map[string]any{{"name": "title", "type": "text", "required": true}, {"name": "payload", "type": "json"}},
	}, nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("creating the collection = %d, %v", code, err)
	}

	var (
		mu    sync.Mutex
		acked = map[string]string{} // id → title
		count atomic.Int64
		wg    sync.WaitGroup
	)
	killed := make(chan struct{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: writers}, Timeout: 10 * time.Second}
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-killed:
					return
				default:
				}
				title := fmt.Sprintf("w%d-%d", w, i)
				var rec struct {
					ID    string `json:"id"`
					Title string `json:"title"`
				}
				body := map[string]any{"title": title, "payload": map[string]any{"writer": w, "n": i, "pad": strings.Repeat("x", 512)}}
				code, err := call(context.Background(), client, http.MethodPost, srv.url+"/api/collections/burst/records", "", body, &rec)
				if err != nil || code != http.StatusOK {
					continue // in flight at the kill, or refused after it: not acknowledged
				}
				mu.Lock()
				acked[rec.ID] = rec.Title
				mu.Unlock()
				count.Add(1)
			}
		})
	}

	deadline := time.Now().Add(20 * time.Second)
	for count.Load() < killAfter {
		if time.Now().After(deadline) {
			t.Fatalf("only %d creates acknowledged in 20s:\n%s", count.Load(), srv.logs())
		}
		time.Sleep(time.Millisecond)
	}
	if err := srv.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-srv.exited
	close(killed)
	wg.Wait()
	if state := srv.cmd.ProcessState; state == nil || state.Success() {
		t.Fatalf("the instance was not killed: %v", state)
	}
	t.Logf("%d creates acknowledged before the kill", len(acked))

	restarted := start(t, bin, dataDir)
	token = superuserToken(t, restarted.url)
	stored := map[string]string{}
	for page := 1; ; page++ {
		var list struct {
			Items []struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"items"`
			TotalPages int `json:"totalPages"`
		}
		url := fmt.Sprintf("%s/api/collections/burst/records?perPage=1000&page=%d&skipTotal=false", restarted.url, page)
		if code, err := call(t.Context(), http.DefaultClient, http.MethodGet, url, token, nil, &list); err != nil || code != http.StatusOK {
			t.Fatalf("listing page %d = %d, %v", page, code, err)
		}
		for _, it := range list.Items {
			stored[it.ID] = it.Title
		}
		if page >= list.TotalPages {
			break
		}
	}
	for id, title := range acked {
		if got, ok := stored[id]; !ok || got != title {
			t.Errorf("acknowledged record %s (%s) lost after the crash: stored %q, %v", id, title, got, ok)
		}
	}

	for _, name := range []string{contract.DataDBFile, contract.AuxiliaryDBFile} {
		checkIntegrity(t, filepath.Join(dataDir, name))
	}
}

// checkIntegrity runs PRAGMA integrity_check on the database at path.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), "PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("integrity_check of %s: %v", path, err)
	}
	defer rows.Close()
	var results []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0] != "ok" {
		t.Errorf("integrity_check of %s = %q", filepath.Base(path), results)
	}
}
