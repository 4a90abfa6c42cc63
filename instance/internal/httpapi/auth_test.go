package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// guardTestServer serves the real engine on an empty data directory with a superuser
// and a users record, plus routes behind the auth guards; it returns their tokens.
func guardTestServer(t *testing.T) (srv *httptest.Server, suToken, userToken string) {
	t.Helper()

	app, err := core.New(t.Context(), core.Config{
		DataDir: filepath.Join(t.TempDir(), "pb_data"),
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })

	su, err := app.UpsertSuperuser(t.Context(), "root@example.com", "root-pass-123")
	if err != nil {
		t.Fatal(err)
	}
	_, err = app.DB().Write().ExecContext(t.Context(),
		"INSERT INTO users (id, email, password, tokenKey, created, updated) VALUES ('user00000000001', 'u@example.com', 'x', 'user-token-key-0123456789abcdefghijklmnop', '', '')")
	if err != nil {
		t.Fatal(err)
	}
	token := func(collection, id string) string {
		rec, err := app.FindRecordByID(t.Context(), collection, id)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := core.NewAuthToken(rec)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	e := newEngine(app)
	ok := func(c *gin.Context) error { return writeJSON(c, http.StatusOK, map[string]bool{"ok": true}) }
	r := routes{group: e.Group("/test")}
	r.GET("/superuser", func(c *gin.Context) error {
		if err := requireSuperuserAuth()(c); err != nil {
			return err
		}
		return ok(c)
	})
	r.GET("/users", func(c *gin.Context) error {
		if err := requireAuth(core.CollectionNameUsers)(c); err != nil {
			return err
		}
		return ok(c)
	})
	r.GET("/any", func(c *gin.Context) error {
		if err := requireAuth()(c); err != nil {
			return err
		}
		return ok(c)
	})

	srv = httptest.NewServer(e)
	t.Cleanup(srv.Close)

	return srv, token(core.CollectionNameSuperusers, su.ID), token(core.CollectionNameUsers, "user00000000001")
}

func TestAuthGuards(t *testing.T) {
	srv, suToken, userToken := guardTestServer(t)

	const (
		okBody    = `{"ok":true}`
		needsAuth = `{"data":{},"message":"The request requires valid record authorization token.","status":401}`
		notAllow  = `{"data":{},"message":"The authorized record is not allowed to perform this action.","status":403}`
	)
	tests := []struct {
		name, path, auth string
		wantStatus       int
		wantBody         string
	}{
		{"superuser route, guest", "/test/superuser", "", 401, needsAuth},
		{"superuser route, invalid token is a guest", "/test/superuser", "Bearer nope", 401, needsAuth},
		{"superuser route, user", "/test/superuser", userToken, 403, notAllow},
		{"superuser route, superuser", "/test/superuser", suToken, 200, okBody},
		{"superuser route, superuser with Bearer", "/test/superuser", "Bearer " + suToken, 200, okBody},
		{"users route, superuser", "/test/users", suToken, 403, notAllow},
		{"users route, user", "/test/users", userToken, 200, okBody},
		{"any auth route, guest", "/test/any", "", 401, needsAuth},
		{"any auth route, user", "/test/any", userToken, 200, okBody},
		{"any auth route, superuser", "/test/any", suToken, 200, okBody},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
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
				t.Fatalf("got %d %s, want %d %s", res.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

func TestTokenFromRequest(t *testing.T) {
	tests := []struct {
		header, want string
	}{
		{"", ""},
		{"abc.def.ghi", "abc.def.ghi"},
		{"Bearer abc.def.ghi", "abc.def.ghi"},
		{"bearer abc.def.ghi", "abc.def.ghi"},
		{"BEARER abc.def.ghi", "abc.def.ghi"},
		{"Bearer ", ""},
		{"Bearer", "Bearer"},
		{"Bearerabc", "Bearerabc"},
		{"Basic dXNlcjpwYXNz", "Basic dXNlcjpwYXNz"},
	}
	for _, tc := range tests {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.header != "" {
			c.Request.Header.Set("Authorization", tc.header)
		}
		if got := tokenFromRequest(c); got != tc.want {
			t.Errorf("tokenFromRequest(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}
