package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/metrics"
)

func TestHandlerServesRuntimeMetrics(t *testing.T) {
	srv := httptest.NewServer(metrics.Handler(metrics.NewRegistry()))
	defer srv.Close()

	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}

	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", res.StatusCode)
	}
	for _, want := range []string{"go_goroutines", "process_start_time_seconds"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestRouteTemplate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", metrics.UnmatchedRoute},
		{"/api/health", "/api/health"},
		{"/api/collections/:collection/records/:id", "/api/collections/{collection}/records/{id}"},
		{"/api/files/:collection/:recordId/*filename", "/api/files/{collection}/{recordId}/{filename}"},
	}
	for _, tc := range tests {
		if got := metrics.RouteTemplate(tc.in); got != tc.want {
			t.Errorf("RouteTemplate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveRequest("GET", "/", 200, 0)
	m.RealtimeConnected()()
	m.RealtimeMessageSent()
	m.RecordWrite("posts", "create")
	m.ObserveWriteTx("data", 0, true)
	m.CollectDBPools(nil)
	m.CollectBackups(nil)
}
