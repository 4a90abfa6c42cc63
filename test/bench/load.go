package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what one load run measured.
type Result struct {
	// Requests is how many requests were answered with the expected status.
	Requests int64
	// Errors is how many failed or had another status.
	Errors int64
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
	// Latencies holds a sample of request latencies, sorted.
	Latencies []time.Duration
}

// PerSecond is the throughput of successful requests.
func (r Result) PerSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// Percentile returns the p-th percentile latency (0 < p <= 100) of the sample.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies)-1) * p / 100)
	return r.Latencies[i]
}

// RequestFunc builds the n-th request of worker w.
type RequestFunc func(w, n int) (*http.Request, error)

// Run drives conns concurrent closed-loop workers for d, each on its own keep-alive
// connection, and counts answers with status want.
func Run(ctx context.Context, conns int, d time.Duration, want int, next RequestFunc) Result {
	transport := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var sample []time.Duration
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			local := make([]time.Duration, 0, 1024)
			for n := 0; ctx.Err() == nil; n++ {
				req, err := next(w, n)
				if err != nil {
					failed.Add(1)
					continue
				}
				t0 := time.Now()
				resp, err := client.Do(req.WithContext(ctx))
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != want {
					failed.Add(1)
					continue
				}
				ok.Add(1)
				if n%8 == 0 {
					local = append(local, time.Since(t0))
				}
			}
			mu.Lock()
			sample = append(sample, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(sample)
	return Result{Requests: ok.Load(), Errors: failed.Load(), Elapsed: time.Since(start), Latencies: sample}
}

// String summarises a result for logs.
func (r Result) String() string {
	return fmt.Sprintf("%.0f req/s, %d errors, p50 %s, p99 %s", r.PerSecond(), r.Errors, r.Percentile(50), r.Percentile(99))
}
