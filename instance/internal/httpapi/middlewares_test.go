package httpapi

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// syncBuffer is a bytes.Buffer safe for the server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestServer serves the real engine plus test-only routes.
func newTestServer(t *testing.T, logs io.Writer, extra func(r routes)) *httptest.Server {
	t.Helper()

	app, err := core.New(t.Context(), core.Config{
		DataDir: filepath.Join(t.TempDir(), "pb_data"),
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })

	e := newEngine(app)
	extra(routes{group: e.Group("/test")})

	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	return srv
}

func TestHandlerErrorsAndPanics(t *testing.T) {
	srv := newTestServer(t, io.Discard, func(r routes) {
		r.GET("/panic", func(c *gin.Context) error { panic("boom") })
		r.GET("/panic-error", func(c *gin.Context) error { panic(errors.New("boom")) })
		r.GET("/no-rows", func(c *gin.Context) error { return sql.ErrNoRows })
		r.GET("/plain", func(c *gin.Context) error { return errors.New("near SELEC: syntax error") })
		r.GET("/forbidden", func(c *gin.Context) error { return NewForbiddenError("only superusers can do that", nil) })
		r.GET("/partial", func(c *gin.Context) error {
			if err := writeJSON(c, http.StatusOK, map[string]string{"ok": "yes"}); err != nil {
				return err
			}
			return errors.New("late error")
		})
	})

	const internal = `{"data":{},"message":"Something went wrong while processing your request.","status":500}`
	const badRequest = `{"data":{},"message":"Something went wrong while processing your request.","status":400}`

	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantBody   string
	}{
		{"panic value", http.MethodGet, "/test/panic", 500, internal},
		{"panic error", http.MethodGet, "/test/panic-error", 500, internal},
		{"panic on HEAD has no body", http.MethodHead, "/test/panic", 500, ""},
		{"no rows is 404", http.MethodGet, "/test/no-rows", 404, `{"data":{},"message":"The requested resource wasn't found.","status":404}`},
		{"plain error is a generic 400", http.MethodGet, "/test/plain", 400, badRequest},
		{"api error keeps its message", http.MethodGet, "/test/forbidden", 403, `{"data":{},"message":"Only superusers can do that.","status":403}`},
		{"error after a written response is not written", http.MethodGet, "/test/partial", 200, `{"ok":"yes"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}

			if res.StatusCode != tc.wantStatus || string(body) != tc.wantBody {
				t.Fatalf("got %d %q, want %d %q", res.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if got := res.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if got := res.Header.Get("X-Frame-Options"); got != "SAMEORIGIN" {
				t.Errorf("X-Frame-Options = %q, want SAMEORIGIN (security headers survive a panic)", got)
			}
		})
	}
}

func TestAbortHandlerPanicAbortsTheConnection(t *testing.T) {
	srv := newTestServer(t, io.Discard, func(r routes) {
		r.GET("/abort", func(c *gin.Context) error { panic(http.ErrAbortHandler) })
	})
	// Keep the server's own log quiet about the aborted handler.
	srv.Config.ErrorLog = nil

	res, err := srv.Client().Get(srv.URL + "/test/abort")
	if err == nil {
		res.Body.Close()
		t.Fatalf("GET /test/abort = %d, want the connection aborted", res.StatusCode)
	}
}

func TestRequestLogger(t *testing.T) {
	var logs syncBuffer
	srv := newTestServer(t, &logs, func(r routes) {
		r.GET("/fail", func(c *gin.Context) error { return NewBadRequestError("", errors.New("secret cause detail")) })
	})

	for _, path := range []string{"/api/health?token=SECRET-TOKEN", "/test/fail"} {
		res, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}

	var lines []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("request log lines = %d, want 2:\n%s", len(lines), logs.String())
	}

	tests := []struct {
		name      string
		line      map[string]any
		wantLevel string
		wantPath  string
		wantCode  float64
		wantError string
	}{
		{"success", lines[0], "INFO", "/api/health", 200, ""},
		{"client error", lines[1], "WARN", "/test/fail", 400, "secret cause detail"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.line["level"] != tc.wantLevel || tc.line["path"] != tc.wantPath || tc.line["status"] != tc.wantCode || tc.line["method"] != "GET" {
				t.Errorf("log line = %v", tc.line)
			}
			if got, _ := tc.line["error"].(string); got != tc.wantError {
				t.Errorf("error attr = %q, want %q", got, tc.wantError)
			}
		})
	}
	if strings.Contains(logs.String(), "SECRET-TOKEN") {
		t.Errorf("the query string was logged:\n%s", logs.String())
	}
}
