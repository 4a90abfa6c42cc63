package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	benchEmail    = "bench@example.com"
	benchPassword = "bench-password-123"
	seedRecords   = 10_000
	connections   = 32
)

// scenarioDuration is how long each load scenario runs (BENCH_DURATION, default 5s).
func scenarioDuration() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("BENCH_DURATION")); err == nil && d > 0 {
		return d
	}
	return 5 * time.Second
}

// instanceBin is the built instance binary: INSTANCE_BIN, or bin/instance of the repo.
func instanceBin(tb testing.TB) string {
	if p := os.Getenv("INSTANCE_BIN"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", "bin", "instance")
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("instance binary %s not found: run `make build-instance` (make bench does) or set INSTANCE_BIN", p)
	}
	return p
}

type server struct {
	url string
	cmd *exec.Cmd
}

func freeAddr(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer starts the instance on a fresh data directory with the bench superuser and
// returns once it answers /api/health.
//
// The superuser comes from the PB_SUPERUSER_* environment, which only our instance reads.
// With BENCH_SUPERUSER_CLI=1 it is created by `superuser upsert` before `serve` instead,
// which stock PocketBase understands too: INSTANCE_BIN=path/to/pocketbase then runs the
// same scenarios against PocketBase, side by side on the same machine.
func startServer(tb testing.TB, bin string) *server {
	dir := filepath.Join(tb.TempDir(), "pb_data")
	if os.Getenv("BENCH_SUPERUSER_CLI") == "1" {
		out, err := exec.Command(bin, "superuser", "upsert", benchEmail, benchPassword, "--dir", dir).CombinedOutput()
		if err != nil {
			tb.Fatalf("superuser upsert: %v: %s", err, out)
		}
	}
	s, _ := serve(tb, bin, dir)
	return s
}

// serve runs `bin serve` on dir and returns once it answers /api/health, with the time
// that took.
func serve(tb testing.TB, bin, dir string) (*server, time.Duration) {
	addr := freeAddr(tb)
	cmd := exec.Command(bin, "serve", "--http", addr, "--dir", dir)
	cmd.Env = append(os.Environ(), "PB_SUPERUSER_EMAIL="+benchEmail, "PB_SUPERUSER_PASSWORD="+benchPassword)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	s := &server{url: "http://" + addr, cmd: cmd}
	client := &http.Client{Timeout: time.Second}
	for deadline := start.Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		resp, err := client.Get(s.url + "/api/health")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, time.Since(start)
			}
		}
	}
	tb.Fatalf("instance did not become healthy within 15s")
	return nil, 0
}

// rssKiB reads the server process's resident set size.
func (s *server) rssKiB(tb testing.TB) float64 { return s.statusKiB(tb, "VmRSS") }

// statusKiB reads a kB figure of the server process's /proc status, e.g. "RssAnon".
func (s *server) statusKiB(tb testing.TB, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return v
		}
	}
	tb.Fatalf("%s not found", field)
	return 0
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat (100 on Linux).
const clockTicks = 100

// cpuTime reads the CPU time (user + system) the server process has used so far.
func (s *server) cpuTime(tb testing.TB) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		tb.Fatal(err)
	}
	// the fields after the command name, which is in parentheses and may hold spaces
	_, rest, ok := strings.Cut(string(raw), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		tb.Fatalf("unexpected /proc stat line %q", raw)
	}
	// utime and stime are fields 14 and 15 of the line, 12 and 13 after the name
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// post sends one JSON POST request and decodes the answer into out.
func (s *server) post(tb testing.TB, path, token string, body, out any) {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(http.MethodPost, s.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		tb.Fatalf("POST %s: %d %s", path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.Fatalf("POST %s: %v", path, err)
		}
	}
}

// profile fetches a CPU profile of the server for the next d into
// $BENCH_PROFILE_DIR/name.pprof when the server is a build with -tags pprof serving
// net/http/pprof on $INSTANCE_PPROF_ADDR (both set); the returned func waits for it.
func profile(tb testing.TB, name string, d time.Duration) (wait func()) {
	addr, dir := os.Getenv("INSTANCE_PPROF_ADDR"), os.Getenv("BENCH_PROFILE_DIR")
	if addr == "" || dir == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		secs := max(int(d.Seconds())-1, 1)
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs))
		if err != nil {
			tb.Logf("profiling %s: %v", name, err)
			return
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if err := os.WriteFile(filepath.Join(dir, name+".pprof"), raw, 0o600); err != nil {
			tb.Logf("profiling %s: %v", name, err)
		}
		// the heap right after the load, for the memory figures
		if resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/heap", addr)); err == nil {
			raw, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			_ = os.WriteFile(filepath.Join(dir, name+".heap"), raw, 0o600)
		}
	}()
	return func() { <-done }
}

// seed creates the public "bench" collection and seedRecords records, returning their ids.
func seed(tb testing.TB, s *server) []string {
	var auth struct{ Token string }
	s.post(tb, "/api/collections/_superusers/auth-with-password", "",
		map[string]string{"identity": benchEmail, "password": benchPassword}, &auth)
	public := ""
	s.post(tb, "/api/collections", auth.Token, map[string]any{
		"name": "bench", "type": "base",
		"listRule": public, "viewRule": public, "createRule": public,
		"fields": []map[string]any{
			{"name": "title", "type": "text", "max": 200},
			{"name": "n", "type": "number"},
			{"name": "done", "type": "bool"},
			{"name": "created", "type": "autodate", "onCreate": true},
			{"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true},
		},
	}, nil)

	ids := make([]string, seedRecords)
	var wg sync.WaitGroup
	for w := range connections {
		wg.Go(func() {
			for i := w; i < seedRecords; i += connections {
				var rec struct{ ID string }
				s.post(tb, "/api/collections/bench/records", "", record(i), &rec)
				ids[i] = rec.ID
			}
		})
	}
	wg.Wait()
	return ids
}

// trickleEvery is the pause between the creates of a trickle.
const trickleEvery = 5 * time.Millisecond

// trickle creates one record every trickleEvery on a connection of its own until the
// returned func is called, which returns how many were created.
func (s *server) trickle(tb testing.TB, seq *atomic.Int64) (stop func() int64) {
	done := make(chan struct{})
	var created int64
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(trickleEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			raw, _ := json.Marshal(record(2*seedRecords + int(seq.Add(1))))
			resp, err := http.Post(s.url+"/api/collections/bench/records", "application/json", bytes.NewReader(raw))
			if err != nil {
				tb.Errorf("trickle: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				tb.Errorf("trickle: status %d", resp.StatusCode)
				return
			}
			created++
		}
	})
	return func() int64 {
		close(done)
		wg.Wait()
		return created
	}
}

func record(i int) map[string]any {
	return map[string]any{"title": fmt.Sprintf("record %05d about %s", i, []string{"apples", "pears", "plums"}[i%3]), "n": i, "done": i%2 == 0}
}

// BenchmarkInstance reports, for the built binary on loopback with 32 connections and
// 10,000 seeded records: time to first healthy answer, idle RSS, and requests per second
// for viewing a record, listing a sorted page of 20, listing with a filter, and creating.
func BenchmarkInstance(b *testing.B) {
	bin := instanceBin(b)

	var starts []time.Duration
	for range 5 {
		s, d := serve(b, bin, filepath.Join(b.TempDir(), "pb_data"))
		starts = append(starts, d)
		_ = s.cmd.Process.Signal(os.Interrupt)
		_ = s.cmd.Wait()
	}
	slices.Sort(starts)
	s := startServer(b, bin)
	time.Sleep(500 * time.Millisecond)
	idle := s.rssKiB(b)
	ids := seed(b, s)
	d := scenarioDuration()
	ctx := context.Background()
	get := func(path string) (*http.Request, error) { return http.NewRequest(http.MethodGet, s.url+path, nil) }

	// unique numbers the never-repeating scenarios (and the trickle) draw from
	var seq atomic.Int64
	sorted := func(page int, filter string) (*http.Request, error) {
		return get(fmt.Sprintf("/api/collections/bench/records?page=%d&perPage=20&sort=-created,id%s", page, filter))
	}
	filtered := func(from, not int) (*http.Request, error) {
		f := url.QueryEscape(fmt.Sprintf("title ~ 'pears' && n >= %d && n != %d", from, not))
		return get("/api/collections/bench/records?perPage=20&filter=" + f)
	}
	// note: the "-fresh" scenarios never send the same query twice, so no answer can
	// come from the result cache: each excludes a different (absent) n.
	freshSorted := func(int, int) (*http.Request, error) {
		k := int(seq.Add(1))
		return sorted(1+k%50, "&filter="+url.QueryEscape(fmt.Sprintf("n != %d", -k)))
	}
	freshFiltered := func(int, int) (*http.Request, error) {
		k := int(seq.Add(1))
		return filtered(k%seedRecords, -k)
	}

	scenarios := []struct {
		name string
		want int
		next RequestFunc
		// trickle runs one create every trickleEvery next to the load, so every
		// cached answer is dropped within a few milliseconds
		trickle bool
	}{
		{"view", http.StatusOK, func(w, n int) (*http.Request, error) {
			return get("/api/collections/bench/records/" + ids[(w*7919+n*104729)%len(ids)])
		}, false},
		{"list-sorted", http.StatusOK, func(w, n int) (*http.Request, error) {
			return sorted(1+(w+n)%50, "")
		}, false},
		{"list-sorted-trickle", http.StatusOK, func(w, n int) (*http.Request, error) {
			return sorted(1+(w+n)%50, "")
		}, true},
		{"list-sorted-fresh", http.StatusOK, freshSorted, false},
		{"list-filtered", http.StatusOK, func(w, n int) (*http.Request, error) {
			return filtered((w*31+n)%seedRecords, -1)
		}, false},
		{"list-filtered-trickle", http.StatusOK, func(w, n int) (*http.Request, error) {
			return filtered((w*31+n)%seedRecords, -1)
		}, true},
		{"list-filtered-fresh", http.StatusOK, freshFiltered, false},
		{"create", http.StatusOK, func(w, n int) (*http.Request, error) {
			raw, _ := json.Marshal(record(seedRecords + w*1_000_000 + n))
			req, err := http.NewRequest(http.MethodPost, s.url+"/api/collections/bench/records", bytes.NewReader(raw))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
			return req, err
		}, false},
	}
	b.ResetTimer()
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			stop := profile(b, sc.name, d)
			cpu0 := s.cpuTime(b)
			stopTrickle := func() int64 { return 0 }
			if sc.trickle {
				stopTrickle = s.trickle(b, &seq)
			}
			res := Run(ctx, connections, d, sc.want, sc.next)
			trickled := stopTrickle()
			cpu := s.cpuTime(b) - cpu0
			stop()
			if res.Errors > 0 {
				b.Errorf("%s: %d failed requests", sc.name, res.Errors)
			}
			b.ReportMetric(res.PerSecond(), "req/s")
			b.ReportMetric(float64(res.Percentile(50).Microseconds()), "p50-µs")
			b.ReportMetric(float64(res.Percentile(99).Microseconds()), "p99-µs")
			if res.Requests > 0 {
				// note: the server's CPU time per answer hardly depends on what else
				// the machine runs, unlike req/s: compare this one between runs
				// note: with a trickle, its creates' CPU is counted in too
				b.ReportMetric(float64(cpu.Microseconds())/float64(res.Requests), "server-cpu-µs/req")
			}
			if sc.trickle {
				b.ReportMetric(float64(trickled)/res.Elapsed.Seconds(), "trickle-creates/s")
			}
		})
	}
	// note: a benchmark with sub-benchmarks prints no metrics of its own, so the
	// process figures get sub-benchmarks too.
	b.Run("startup", func(b *testing.B) {
		b.ReportMetric(float64(starts[len(starts)/2].Microseconds())/1000, "ms-to-healthy")
		b.ReportMetric(idle/1024, "idle-rss-MiB")
	})
	b.Run("memory-after-load", func(b *testing.B) {
		b.ReportMetric(s.rssKiB(b)/1024, "rss-MiB")
		// note: RSS counts a file page once per mapping: the readers' mmaps of data.db
		// and the WAL index show up in rss-file and rss-shmem, the heap in rss-anon.
		b.ReportMetric(s.statusKiB(b, "RssAnon")/1024, "rss-anon-MiB")
		b.ReportMetric(s.statusKiB(b, "RssFile")/1024, "rss-file-MiB")
		b.ReportMetric(s.statusKiB(b, "RssShmem")/1024, "rss-shmem-MiB")
		if dir := os.Getenv("BENCH_PROFILE_DIR"); dir != "" {
			status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
			_ = os.WriteFile(filepath.Join(dir, "status.txt"), status, 0o600)
			smaps, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", s.cmd.Process.Pid))
			_ = os.WriteFile(filepath.Join(dir, "smaps.txt"), smaps, 0o600)
			if addr := os.Getenv("INSTANCE_PPROF_ADDR"); addr != "" {
				if resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/heap?debug=1", addr)); err == nil {
					raw, _ := io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					_ = os.WriteFile(filepath.Join(dir, "memstats.txt"), raw, 0o600)
				}
			}
		}
	})
}
