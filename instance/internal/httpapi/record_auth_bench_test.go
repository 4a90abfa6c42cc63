package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
)

// benchServer serves a copy of the fixture over loopback.
func benchServer(b *testing.B) (*httptest.Server, *core.App) {
	b.Helper()
	app := fixtureApp(b)
	srv := httptest.NewServer(httpapi.NewRouter(app))
	b.Cleanup(srv.Close)
	return srv, app
}

func benchPost(b *testing.B, client *http.Client, url, body string, headers map[string]string, wantStatus int) {
	b.Helper()
	req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != wantStatus {
		b.Fatalf("status = %d, want %d", res.StatusCode, wantStatus)
	}
}

// BenchmarkAuthWithPassword measures a whole login over HTTP; bcrypt dominates. The
// failure cases should cost about as much as a success: an unknown identity runs a dummy
// bcrypt comparison so that it cannot be told from a wrong password by its timing.
// Compare the ratios; there is no timed assertion.
func BenchmarkAuthWithPassword(b *testing.B) {
	srv, _ := benchServer(b)
	url := srv.URL + "/api/collections/users/auth-with-password"

	cases := []struct {
		name, body string
		status     int
	}{
		{"success", `{"identity":"alice@example.com","password":"alice-pass-123"}`, http.StatusOK},
		{"wrong-password", `{"identity":"alice@example.com","password":"wrong-pass-123"}`, http.StatusBadRequest},
		{"unknown-identity", `{"identity":"mallory@example.com","password":"alice-pass-123"}`, http.StatusBadRequest},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				benchPost(b, srv.Client(), url, tc.body, jsonHeaders, tc.status)
			}
		})
	}
}

// BenchmarkAuthRefresh measures a token refresh over HTTP: the auth loader's lookup and
// HS256 verification, then a new token. No bcrypt is involved.
func BenchmarkAuthRefresh(b *testing.B) {
	srv, app := benchServer(b)
	alice, err := app.FindRecordByID(b.Context(), "users", aliceID)
	if err != nil {
		b.Fatal(err)
	}
	token, err := core.NewAuthToken(alice)
	if err != nil {
		b.Fatal(err)
	}
	headers := map[string]string{"Authorization": token}
	url := srv.URL + "/api/collections/users/auth-refresh"

	for b.Loop() {
		benchPost(b, srv.Client(), url, "", headers, http.StatusOK)
	}
}
