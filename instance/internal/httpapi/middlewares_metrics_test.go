package httpapi_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
	"github.com/pocketfleet/pocketfleet/instance/internal/metrics"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// scrape reads the metrics listener and returns each series ("name{labels}") with its
// value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape status = %d", res.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func doRequest(t *testing.T, method, url, token, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestMetrics drives the API with real requests and checks that the metrics listener
// reports them, and that the tenant router never serves the metrics.
func TestMetrics(t *testing.T) {
	tok := newTokens(t)
	app := fixtureApp(t)
	m := metrics.New()
	api := httptest.NewServer(httpapi.NewRouter(app, httpapi.WithMetrics(m)))
	defer api.Close()
	ms := httptest.NewServer(m.Handler())
	defer ms.Close()

	const (
		listOK     = `pocketfleet_http_requests_total{method="GET",route="/api/collections/{collection}/records",status="200"}`
		listCount  = `pocketfleet_http_request_duration_seconds_count{method="GET",route="/api/collections/{collection}/records"}`
		unmatched  = `pocketfleet_http_requests_total{method="GET",route="unmatched",status="404"}`
		tagCreates = `pocketfleet_record_writes_total{action="create",collection="tags"}`
		commits    = `pocketfleet_db_write_transaction_duration_seconds_count{db="data",outcome="commit"}`
		rollbacks  = `pocketfleet_db_write_transaction_duration_seconds_count{db="data",outcome="rollback"}`
		conns      = `pocketfleet_realtime_connections`
		sent       = `pocketfleet_realtime_messages_sent_total`
		backupAge  = `pocketfleet_backup_age_seconds`
		backupLast = `pocketfleet_backup_last_success_timestamp_seconds`
	)

	before := scrape(t, ms.URL)
	for _, name := range []string{listOK, unmatched, tagCreates, backupAge, backupLast} {
		if v, ok := before[name]; ok {
			t.Errorf("%s = %v before any request", name, v)
		}
	}
	if got := before[`pocketfleet_db_max_open_connections{db="data",pool="read"}`]; got != float64(sqlitedb.DefaultReaders()) {
		t.Errorf("data read pool max = %v, want %d", got, sqlitedb.DefaultReaders())
	}
	if got := before[`pocketfleet_db_max_open_connections{db="data",pool="write"}`]; got != 1 {
		t.Errorf("data write pool max = %v, want 1", got)
	}
	if got, ok := before[`pocketfleet_backup_active`]; !ok || got != 0 {
		t.Errorf("backup_active = %v (present %v), want 0", got, ok)
	}

	for range 3 {
		if code := doRequest(t, http.MethodGet, api.URL+"/api/collections/tags/records", "", ""); code != 200 {
			t.Fatalf("list = %d", code)
		}
	}
	if code := doRequest(t, http.MethodGet, api.URL+"/api/nope", "", ""); code != 404 {
		t.Fatalf("unknown route = %d", code)
	}
	if code := doRequest(t, http.MethodPost, api.URL+"/api/collections/tags/records", tok.admin, `{"label":"metrics"}`); code != 200 {
		t.Fatalf("create = %d", code)
	}
	// a unique violation rolls its transaction back
	if code := doRequest(t, http.MethodPost, api.URL+"/api/collections/tags/records", tok.admin, `{"label":"metrics"}`); code != 400 {
		t.Fatalf("duplicate create = %d", code)
	}

	after := scrape(t, ms.URL)
	if got := after[listOK]; got != 3 {
		t.Errorf("%s = %v, want 3", listOK, got)
	}
	if got := after[listCount]; got != 3 {
		t.Errorf("%s = %v, want 3", listCount, got)
	}
	if got := after[unmatched]; got != 1 {
		t.Errorf("%s = %v, want 1", unmatched, got)
	}
	if got := after[tagCreates]; got != 1 {
		t.Errorf("%s = %v, want 1", tagCreates, got)
	}
	if after[commits] <= before[commits] {
		t.Errorf("%s = %v, was %v: no commit observed", commits, after[commits], before[commits])
	}
	if after[rollbacks] <= before[rollbacks] {
		t.Errorf("%s = %v, was %v: no rollback observed", rollbacks, after[rollbacks], before[rollbacks])
	}

	// a realtime connection is counted while open, with its PB_CONNECT message
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api.URL+"/api/realtime", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(res.Body).ReadString('\n'); err != nil || !strings.HasPrefix(line, "id:") {
		t.Fatalf("first SSE line %q, %v", line, err)
	}
	// note: the message is counted once its write returned, which may be just after the
	// client has read it
	open := scrape(t, ms.URL)
	for wait := time.Now().Add(5 * time.Second); open[sent] == 0 && time.Now().Before(wait); open = scrape(t, ms.URL) {
		time.Sleep(10 * time.Millisecond)
	}
	if open[conns] != 1 || open[sent] != 1 {
		t.Errorf("while connected: %s = %v, %s = %v; want 1 and 1", conns, open[conns], sent, open[sent])
	}
	cancel()
	res.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for scrape(t, ms.URL)[conns] != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s still counts the closed connection", conns)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if _, err := app.CreateBackup(t.Context(), "metrics.zip"); err != nil {
		t.Fatal(err)
	}
	backedUp := scrape(t, ms.URL)
	if last := backedUp[backupLast]; time.Since(time.Unix(int64(last), 0)) > time.Minute {
		t.Errorf("%s = %v, want about now", backupLast, last)
	}
	if age, ok := backedUp[backupAge]; !ok || age < 0 || age > 60 {
		t.Errorf("%s = %v (present %v), want a few seconds", backupAge, age, ok)
	}

	// the tenant API never serves the metrics
	if code := doRequest(t, http.MethodGet, api.URL+"/metrics", "", ""); code != 404 {
		t.Errorf("GET /metrics on the API = %d, want 404", code)
	}
}
