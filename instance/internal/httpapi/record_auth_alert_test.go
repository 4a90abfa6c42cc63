package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func TestAuthAlertAndOrigins(t *testing.T) {
	smtpSrv := startSMTPServer(t, "", "")
	app := fixtureApp(t)
	smtpSrv.enableSMTP(t, app, "")

	login := func(name, userAgent string, check func(testing.TB, *core.App)) apitest.ApiScenario {
		return apitest.ApiScenario{
			Name: name, Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body:           jsonBody(`{"identity":"alice@example.com","password":"alice-pass-123"}`),
			Headers:        map[string]string{"Content-Type": "application/json", "User-Agent": userAgent},
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"token":"`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) { check(t, app) },
		}
	}
	origins := func(t testing.TB, app *core.App) []string {
		t.Helper()
		rows, err := app.DB().Read().QueryContext(t.Context(), "SELECT fingerprint FROM _authOrigins WHERE recordRef = ? ORDER BY created DESC, rowid DESC", aliceID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var fp string
			if err := rows.Scan(&fp); err != nil {
				t.Fatal(err)
			}
			out = append(out, fp)
		}
		return out
	}

	runSeq(t,
		login("the first login records the device, no alert", "device-A", func(t testing.TB, app *core.App) {
			if got := origins(t, app); len(got) != 1 || got[0] != core.AuthOriginFingerprint("127.0.0.1", "device-A") {
				t.Errorf("origins = %v", got)
			}
			smtpSrv.expectNone(t)
		}),
		login("a known device sends nothing", "device-A", func(t testing.TB, app *core.App) {
			if got := origins(t, app); len(got) != 1 {
				t.Errorf("origins = %v", got)
			}
			smtpSrv.expectNone(t)
		}),
		login("a new device is alerted", "device-B", func(t testing.TB, app *core.App) {
			m := smtpSrv.next(t)
			if m.Subject != "Login from a new location" || len(m.To) != 1 || m.To[0] != "alice@example.com" {
				t.Errorf("mail %q to %v", m.Subject, m.To)
			}
			if !strings.Contains(m.HTML, " - 127.0.0.1 device-B</em>") {
				t.Errorf("alert info missing:\n%s", m.HTML)
			}
			if got := origins(t, app); len(got) != 2 || got[0] != core.AuthOriginFingerprint("127.0.0.1", "device-B") {
				t.Errorf("origins = %v", got)
			}
		}),
	)
	for _, ua := range []string{"device-C", "device-D", "device-E"} {
		runSeq(t, login("another device "+ua, ua, func(t testing.TB, _ *core.App) { smtpSrv.next(t) }))
	}
	// device-A is used again, yet it is the first recorded: PocketBase drops origins by
	// their creation, not their last use
	runSeq(t, login("the first device again", "device-A", func(t testing.TB, _ *core.App) { smtpSrv.expectNone(t) }))
	runSeq(t, login("a sixth device", "device-F", func(t testing.TB, _ *core.App) { smtpSrv.next(t) }))
	got := origins(t, app)
	if len(got) != 5 || got[0] != core.AuthOriginFingerprint("127.0.0.1", "device-F") {
		t.Fatalf("origins = %v, want the 5 most recent", got)
	}
	for _, fp := range got {
		if fp == core.AuthOriginFingerprint("127.0.0.1", "device-A") {
			t.Errorf("the first recorded device was kept")
		}
	}

	// the User-Agent is cut at 200 bytes and HTML-escaped in the mail
	longUA := "<b>x</b>" + strings.Repeat("y", 300)
	runSeq(t, login("a user agent with markup", longUA, func(t testing.TB, _ *core.App) {
		m := smtpSrv.next(t)
		want := " - 127.0.0.1 &lt;b&gt;x&lt;/b&gt;" + strings.Repeat("y", 192) + "...</em>"
		if !strings.Contains(m.HTML, want) {
			t.Errorf("alert info not cut and escaped, want %q in:\n%s", want, m.HTML)
		}
	}))

	// with authAlert off, nothing is recorded
	execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.authAlert.enabled', json('false')) WHERE name = 'users'`)
	// a change under the app's feet: requests read the cached collections, as PocketBase's
	if _, err := app.ReloadCachedCollections(t.Context()); err != nil {
		t.Fatal(err)
	}
	execSQL(t, app, `DELETE FROM _authOrigins`)
	runSeq(t, login("authAlert disabled", "device-Z", func(t testing.TB, app *core.App) {
		if got := origins(t, app); len(got) != 0 {
			t.Errorf("origins = %v", got)
		}
		smtpSrv.expectNone(t)
	}))
}

// TestAuthAlertUnsentKeepsNoOrigin: as PocketBase, an origin whose alert mail could not
// be sent (here: no mail server configured, the fixture's settings) is not recorded, so
// the next login from it alerts again; the login itself succeeds.
func TestAuthAlertUnsentKeepsNoOrigin(t *testing.T) {
	app := fixtureApp(t)
	count := func(t testing.TB, app *core.App) int {
		t.Helper()
		var n int
		if err := app.DB().Read().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM _authOrigins WHERE recordRef = ?", aliceID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	login := func(name, userAgent string, want int) apitest.ApiScenario {
		return apitest.ApiScenario{
			Name: name, Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body:           jsonBody(`{"identity":"alice@example.com","password":"alice-pass-123"}`),
			Headers:        map[string]string{"Content-Type": "application/json", "User-Agent": userAgent},
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"token":"`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if got := count(t, app); got != want {
					t.Errorf("alice has %d origins, want %d", got, want)
				}
			},
		}
	}
	execSQL(t, app, `DELETE FROM _authOrigins`)
	runSeq(t,
		login("the first login is recorded without a mail", "device-A", 1),
		login("a new device whose alert cannot be sent is not", "device-B", 1),
		login("nor on the next try", "device-B", 1),
		login("a known device is still touched", "device-A", 1),
	)
}

// TestAuthOriginFingerprintMatchesPocketBase compares the fingerprint with the row
// PocketBase v0.40 stored in the fixture when the admin logged in from Node on loopback.
func TestAuthOriginFingerprintMatchesPocketBase(t *testing.T) {
	app := fixtureApp(t)
	var fp string
	err := app.DB().Read().QueryRowContext(t.Context(), "SELECT fingerprint FROM _authOrigins WHERE recordRef = ?", adminID).Scan(&fp)
	if err != nil {
		t.Fatal(err)
	}
	if got := core.AuthOriginFingerprint("127.0.0.1", "node"); got != fp {
		t.Errorf("fingerprint = %s, PocketBase stored %s", got, fp)
	}
}
