package bench

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// subscriberCount is how many SSE subscribers BenchmarkRealtimeSubscribers opens
// (BENCH_SUBSCRIBERS, default 10,000: the goal for one instance).
func subscriberCount() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_SUBSCRIBERS")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

// subscriber is one raw SSE connection to the server.
type subscriber struct {
	conn net.Conn
	r    *bufio.Reader
	id   string
}

// dialSubscriber opens GET /api/realtime over a raw TCP connection and reads PB_CONNECT.
func dialSubscriber(addr string) (*subscriber, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write([]byte("GET /api/realtime HTTP/1.1\r\nHost: bench\r\n\r\n")); err != nil {
		_ = conn.Close()
		return nil, err
	}
	// small buffers: the client side must not be what runs out of memory
	r := bufio.NewReaderSize(conn, 512)
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		_ = conn.Close()
		return nil, fmt.Errorf("GET /api/realtime: %s", res.Status)
	}
	body := bufio.NewReaderSize(res.Body, 512)
	frame, err := readSSEFrame(body)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(frame, "id:"), "\n")

	return &subscriber{conn: conn, r: body, id: id}, nil
}

// readSSEFrame reads one SSE frame, up to its blank line.
func readSSEFrame(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return b.String(), err
		}
		if line == "\n" {
			return b.String(), nil
		}
		b.WriteString(line)
	}
}

// BenchmarkRealtimeSubscribers opens BENCH_SUBSCRIBERS (10,000) SSE subscribers on the
// built binary over loopback, each subscribed to a public collection, and reports the
// server's RSS growth per idle subscriber and the p50/p99 delivery latency of one
// created record to all of them. The server runs in its own process, so its memory
// figure is the server's alone and the file descriptors of both ends are not counted
// against one process's limit.
func BenchmarkRealtimeSubscribers(b *testing.B) {
	n := subscriberCount()
	s := startServer(b, instanceBin(b))
	addr := strings.TrimPrefix(s.url, "http://")

	var auth struct{ Token string }
	s.post(b, "/api/collections/_superusers/auth-with-password", "",
		map[string]string{"identity": benchEmail, "password": benchPassword}, &auth)
	public := ""
	s.post(b, "/api/collections", auth.Token, map[string]any{
		"name": "feed", "type": "base", "listRule": public, "viewRule": public, "createRule": public,
		"fields": []map[string]any{{"name": "title", "type": "text"}},
	}, nil)

	time.Sleep(300 * time.Millisecond)
	before := s.rssKiB(b)

	subs := make([]*subscriber, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	const dialers = 16
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: dialers}}
	for w := range dialers {
		wg.Go(func() {
			for i := w; i < n; i += dialers {
				sub, err := dialSubscriber(addr)
				if err == nil {
					err = subscribe(client, s.url, sub.id, "feed")
				}
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, fmt.Errorf("subscriber %d: %w", i, err))
					mu.Unlock()
					return
				}
				subs[i] = sub
			}
		})
	}
	wg.Wait()
	b.Cleanup(func() {
		for _, sub := range subs {
			if sub != nil {
				_ = sub.conn.Close()
			}
		}
	})
	if firstErr != nil {
		b.Fatal(firstErr)
	}

	time.Sleep(time.Second)
	after := s.rssKiB(b)

	// one create, delivered to every subscriber
	arrivals := make([]time.Duration, n)
	var readers sync.WaitGroup
	start := make(chan time.Time, 1)
	var t0 time.Time
	var once sync.Once
	for i, sub := range subs {
		readers.Go(func() {
			_ = sub.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
			frame, err := readSSEFrame(sub.r)
			once.Do(func() { t0 = <-start })
			if err != nil || !strings.Contains(frame, `"action":"create"`) {
				arrivals[i] = -1
				return
			}
			arrivals[i] = time.Since(t0)
		})
	}
	begin := time.Now()
	start <- begin
	s.post(b, "/api/collections/feed/records", "", map[string]any{"title": "hello"}, nil)
	readers.Wait()

	lost := 0
	got := arrivals[:0]
	for _, d := range arrivals {
		if d < 0 {
			lost++
			continue
		}
		got = append(got, d)
	}
	if lost > 0 {
		b.Fatalf("%d of %d subscribers got no create event", lost, n)
	}
	slices.Sort(got)
	pct := func(p float64) float64 {
		return float64(got[int(p*float64(len(got)-1))].Microseconds()) / 1000
	}

	b.ReportMetric(float64(n), "subscribers")
	b.ReportMetric((after-before)*1024/float64(n), "server-B/idle-sub")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.Logf("%d subscribers: server RSS %.1f -> %.1f MiB (%.0f B per idle subscriber), delivery p50 %.1f ms, p99 %.1f ms",
		n, before/1024, after/1024, (after-before)*1024/float64(n), pct(0.5), pct(0.99))
}

// subscribe sets the client's subscriptions (POST /api/realtime).
func subscribe(client *http.Client, base, clientID, topic string) error {
	body := strings.NewReader(`{"clientId":"` + clientID + `","subscriptions":["` + topic + `"]}`)
	resp, err := client.Post(base+"/api/realtime", "application/json", body)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("POST /api/realtime: %s", resp.Status)
	}
	return nil
}

// cmpErr keeps the first error.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
