package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
)

// TestRecordsListThrottlesEmptyFilteredLists checks PocketBase's randomized throttle: a
// non-superuser's fourth empty filtered list of a collection with a list rule expression
// within 3 seconds is answered after a random pause of less than 500 ms.
func TestRecordsListThrottlesEmptyFilteredLists(t *testing.T) {
	tok := newTokens(t)
	var mu sync.Mutex
	var pauses []time.Duration
	restore := httpapi.SetListThrottleSleep(func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		pauses = append(pauses, d)
	})
	t.Cleanup(restore)

	const (
		emptyPosts = "/api/collections/posts/records?filter=title%3D%27no+such+post%27"
		somePosts  = "/api/collections/posts/records?filter=title%21%3D%27no+such+post%27"
		emptyTags  = "/api/collections/tags/records?filter=label%3D%27nope%27" // listRule ""
	)
	tests := []struct {
		name       string
		url        string
		token      string
		requests   int
		wantPauses int
	}{
		{name: "guest, empty results: the 4th and later are throttled", url: emptyPosts, requests: 5, wantPauses: 2},
		{name: "user, empty results", url: emptyPosts, token: tok.alice, requests: 4, wantPauses: 1},
		{name: "superuser, empty results", url: emptyPosts, token: tok.admin, requests: 5},
		{name: "results found", url: somePosts, requests: 5},
		{name: "no filter", url: "/api/collections/posts/records?page=99", requests: 5},
		{name: "empty list rule", url: emptyTags, requests: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(httpapi.NewRouter(fixtureApp(t)))
			defer srv.Close()
			mu.Lock()
			pauses = nil
			mu.Unlock()

			for i := range tt.requests {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.url, nil)
				if tt.token != "" {
					req.Header.Set("Authorization", tt.token)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Fatalf("request %d: status %d %s", i+1, res.StatusCode, body)
				}
			}

			mu.Lock()
			defer mu.Unlock()
			if len(pauses) != tt.wantPauses {
				t.Fatalf("%d throttled answers, want %d", len(pauses), tt.wantPauses)
			}
			for _, d := range pauses {
				if d < 0 || d >= 500*time.Millisecond {
					t.Errorf("pause %s, want within [0, 500ms)", d)
				}
			}
		})
	}
}
