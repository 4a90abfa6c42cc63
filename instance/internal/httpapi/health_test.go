package httpapi_test

import (
	"context"
	"database/sql"
	"net/http"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

const (
	healthBody   = `{"message":"API is healthy.","code":200,"data":{}}`
	notFoundBody = `{"data":{},"message":"The requested resource wasn't found.","status":404}`
)

// securityHeaders are the headers PocketBase adds to every routed response.
var securityHeaders = map[string]string{
	"X-XSS-Protection":           "1; mode=block",
	"X-Content-Type-Options":     "nosniff",
	"X-Frame-Options":            "SAMEORIGIN",
	"Cross-Origin-Opener-Policy": "same-origin",
}

func withSecurityHeaders(extra map[string]string) map[string]string {
	h := map[string]string{}
	for k, v := range securityHeaders {
		h[k] = v
	}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

func TestHealth(t *testing.T) {
	scenarios := []apitest.ApiScenario{
		{
			Name:           "GET on an empty data directory",
			Method:         http.MethodGet,
			URL:            "/api/health",
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   healthBody,
			ExpectedHeaders: withSecurityHeaders(map[string]string{
				"Content-Type":   "application/json",
				"Content-Length": "50",
				"Vary":           "Origin",
			}),
			NotExpectedHeaders: []string{"Access-Control-Allow-Origin"},
		},
		{
			Name:           "GET on a copy of the PocketBase fixture",
			Method:         http.MethodGet,
			URL:            "/api/health",
			TestAppFactory: func(t testing.TB) *core.App { return apitest.NewTestApp(t, apitest.CopyFixture(t)) },
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   healthBody,
		},
		{
			Name:           "GET with a query string",
			Method:         http.MethodGet,
			URL:            "/api/health?foo=bar",
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   healthBody,
		},
		{
			Name:           "HEAD has the GET headers and no body",
			Method:         http.MethodHead,
			URL:            "/api/health",
			ExpectedStatus: http.StatusOK,
			ExpectedHeaders: withSecurityHeaders(map[string]string{
				"Content-Type":   "application/json",
				"Content-Length": "50",
			}),
		},
		{
			Name:           "an invalid token is no error",
			Method:         http.MethodGet,
			URL:            "/api/health",
			Headers:        map[string]string{"Authorization": "Bearer not-a-token"},
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   healthBody,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

// TestHealthSuperuser checks the superuser data: the trusted-proxy settings resolve
// realIP and come first among the proxy headers, and canBackup is false while a
// backup runs.
func TestHealthSuperuser(t *testing.T) {
	tok := newTokens(t)

	proxied := apitest.ApiScenario{
		Name:   "trusted proxy header",
		Method: http.MethodGet, URL: "/api/health",
		Headers: map[string]string{"Authorization": tok.admin, "X-Real-IP": "10.1.2.3", "X-Forwarded-For": "192.0.2.1"},
		TestAppFactory: func(t testing.TB) *core.App {
			app := fixtureApp(t)
			s := app.Settings()
			s.TrustedProxy.Headers = []string{"X-Real-IP"}
			if err := app.SaveSettings(t.Context(), s); err != nil {
				t.Fatal(err)
			}
			return app
		},
		ExpectedStatus: http.StatusOK,
		ExpectedBody:   `{"message":"API is healthy.","code":200,"data":{"canBackup":true,"possibleProxyHeader":"X-Real-IP","realIP":"10.1.2.3"}}`,
	}
	proxied.Test(t)

	backupDone := make(chan error, 1)
	backingUp := apitest.ApiScenario{
		Name:   "a running backup",
		Method: http.MethodGet, URL: "/api/health",
		Headers: map[string]string{"Authorization": tok.admin},
		TestAppFactory: func(t testing.TB) *core.App {
			app := fixtureApp(t)
			// Holding every auxiliary.db reader stops the backup at its second
			// snapshot, with the backup slot taken, until they are released.
			var conns []*sql.Conn
			for range sqlitedb.AuxOptions.MaxOpenConns {
				conn, err := app.AuxDB().Read().Conn(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, conn)
			}
			go func() {
				_, err := app.CreateBackup(context.WithoutCancel(t.Context()), "busy.zip")
				backupDone <- err
			}()
			t.Cleanup(func() {
				for _, conn := range conns {
					_ = conn.Close()
				}
				if err := <-backupDone; err != nil {
					t.Errorf("backup: %v", err)
				}
			})
			for !app.IsBackupActive() {
				time.Sleep(time.Millisecond)
			}
			return app
		},
		ExpectedStatus: http.StatusOK,
		ExpectedBody:   `{"message":"API is healthy.","code":200,"data":{"canBackup":false,"possibleProxyHeader":"","realIP":"127.0.0.1"}}`,
	}
	backingUp.Test(t)
}
