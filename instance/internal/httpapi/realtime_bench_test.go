package httpapi_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
)

// rtMemInUse is the heap in use plus goroutine stacks, after a full GC.
func rtMemInUse() uint64 {
	heap, stack := rtMemParts()
	return heap + stack
}

func rtMemParts() (heap, stack uint64) {
	// note: several cycles, as the GC shrinks an idle goroutine's stack by half per cycle.
	for range 5 {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse
}

// dialRealtime opens a raw SSE connection to addr and returns the conn, a reader over the
// (de-chunked) event stream and the client id of its PB_CONNECT.
func dialRealtime(tb testing.TB, addr string, bufSize int) (net.Conn, *bufio.Reader, string) {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.Write([]byte("GET /api/realtime HTTP/1.1\r\nHost: bench\r\n\r\n")); err != nil {
		tb.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReaderSize(conn, bufSize), nil)
	if err != nil {
		tb.Fatal(err)
	}
	r := bufio.NewReaderSize(res.Body, bufSize)
	frame, err := rtReadFrame(r)
	if err != nil {
		tb.Fatal(err)
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(frame, "id:"), "\n")

	return conn, r, id
}

// rtReadFrame reads one SSE frame (up to the blank line).
func rtReadFrame(r *bufio.Reader) (string, error) {
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

// BenchmarkIdleClients opens 1000 real SSE connections over loopback and reports the
// memory (heap + stacks, both ends of the connection, after GC) per idle connection, and
// the same for 1000 bare loopback TCP pairs for comparison; run it with -benchtime=1x.
func BenchmarkIdleClients(b *testing.B) {
	const n = 1000

	for b.Loop() {
		// Baseline: bare TCP pairs, both ends held.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		accepted := make(chan net.Conn, n)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- c
			}
		}()
		before := rtMemInUse()
		pairs := make([]net.Conn, 0, 2*n)
		for range n {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			pairs = append(pairs, c, <-accepted)
		}
		tcpPerConn := float64(rtMemInUse()-before) / n
		for _, c := range pairs {
			_ = c.Close()
		}
		_ = ln.Close()

		// SSE connections.
		app := apitest.NewTestApp(b, "")
		srv := httptest.NewServer(httpapi.NewRouter(app))
		addr := srv.Listener.Addr().String()
		warm, _, _ := dialRealtime(b, addr, 512) // pools and lazily built state
		broker := httpapi.RealtimeBroker(app)

		heap0, stack0 := rtMemParts()
		goroutines0 := runtime.NumGoroutine()
		conns := make([]net.Conn, 0, n)
		for range n {
			c, _, _ := dialRealtime(b, addr, 512)
			conns = append(conns, c)
		}
		if got := broker.TotalClients(); got != n+1 {
			b.Fatalf("TotalClients = %d, want %d", got, n+1)
		}
		heap1, stack1 := rtMemParts()
		b.ReportMetric(float64(runtime.NumGoroutine()-goroutines0)/n, "goroutines/sse-conn")
		ssePerConn := float64(heap1+stack1-heap0-stack0) / n
		b.ReportMetric(float64(heap1-heap0)/n, "B-heap/sse-conn")
		b.ReportMetric(float64(stack1-stack0)/n, "B-stack/sse-conn")

		b.ReportMetric(ssePerConn, "B/sse-conn")
		b.ReportMetric(tcpPerConn, "B/tcp-pair")
		b.ReportMetric(ssePerConn-tcpPerConn, "B/sse-over-tcp")

		app.Terminate()
		_ = warm.Close()
		for _, c := range conns {
			_ = c.Close()
		}
		srv.Close()
	}
}

// BenchmarkBroadcastLatency measures the time from PublishRecordEvent to the event's
// arrival on each of 1000 SSE subscribers over loopback, and reports p50 and p99.
func BenchmarkBroadcastLatency(b *testing.B) {
	const n = 1000

	app := apitest.NewTestApp(b, apitest.CopyFixture(b))
	srv := httptest.NewServer(httpapi.NewRouter(app))
	defer srv.Close()
	defer app.Terminate()
	addr := srv.Listener.Addr().String()

	for _, tc := range []struct{ name, collection, where string }{
		{"public rule", "tags", "1=1"},
		{"rule query", "posts", "published = 1"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			arrivals := make(chan time.Time, n)
			var readers sync.WaitGroup
			conns := make([]net.Conn, 0, n)
			for range n {
				conn, r, id := dialRealtime(b, addr, 4096)
				conns = append(conns, conn)
				postSubscriptions(b, srv.URL, id, "", tc.collection+"/*")
				readers.Go(func() {
					for {
						if _, err := rtReadFrame(r); err != nil {
							return
						}
						arrivals <- time.Now()
					}
				})
			}
			defer func() {
				for _, c := range conns {
					_ = c.Close()
				}
				readers.Wait()
			}()

			record := rtFindRecord(b, app, tc.collection, rtFirstRecordID(b, app, tc.collection, tc.where))
			var lat []time.Duration
			var publish time.Duration
			for b.Loop() {
				start := time.Now()
				app.PublishRecordEvent(b.Context(), core.RecordEvent{Action: core.RecordActionUpdate, Record: record})
				publish += time.Since(start)
				for range n {
					select {
					case at := <-arrivals:
						lat = append(lat, at.Sub(start))
					case <-time.After(10 * time.Second):
						b.Fatal("an event did not arrive within 10s")
					}
				}
			}
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
			b.ReportMetric(float64(publish.Microseconds())/1000/float64(b.N), "publish-ms")
			b.Logf("%s: %d deliveries, p50 %.2f ms, p99 %.2f ms", tc.name, len(lat), pct(0.50), pct(0.99))
		})
	}
}
