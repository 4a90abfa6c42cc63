package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRunCountsOnlyExpectedAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	good := Run(context.Background(), 2, 200*time.Millisecond, http.StatusOK, func(_, _ int) (*http.Request, error) {
		return http.NewRequest(http.MethodGet, srv.URL+"/ok", nil)
	})
	if good.Requests == 0 || good.Errors != 0 || good.PerSecond() <= 0 || len(good.Latencies) == 0 {
		t.Fatalf("good run = %+v", good)
	}
	if good.Percentile(50) > good.Percentile(99) {
		t.Errorf("p50 %s > p99 %s", good.Percentile(50), good.Percentile(99))
	}
	bad := Run(context.Background(), 2, 100*time.Millisecond, http.StatusOK, func(_, _ int) (*http.Request, error) {
		return http.NewRequest(http.MethodGet, srv.URL+"/bad", nil)
	})
	if bad.Requests != 0 || bad.Errors == 0 {
		t.Fatalf("bad run = %+v", bad)
	}
}
