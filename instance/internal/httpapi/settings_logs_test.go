package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// TestSettingsSaveCleansLogs checks that saving settings.logs applies it to the stored
// logs at once, as PocketBase's settings reload does: older than maxDays or below
// minLevel are deleted.
func TestSettingsSaveCleansLogs(t *testing.T) {
	tok := newTokens(t)
	insertLog := func(t testing.TB, app *core.App, message string, level int, age time.Duration) {
		t.Helper()
		_, err := app.AuxDB().Write().ExecContext(t.Context(),
			"INSERT INTO _logs (level, message, created) VALUES (?, ?, ?)",
			level, message, core.FormatDateTime(time.Now().Add(-age)))
		if err != nil {
			t.Fatal(err)
		}
	}
	messages := func(t testing.TB, app *core.App) string {
		t.Helper()
		rows, err := app.AuxDB().Read().QueryContext(t.Context(), "SELECT message FROM _logs WHERE message LIKE 'old%' OR message LIKE 'new%' ORDER BY message")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var m string
			if err := rows.Scan(&m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		return strings.Join(out, ",")
	}

	s := apitest.ApiScenario{
		Method: http.MethodPatch, URL: "/api/settings",
		Body:    strings.NewReader(`{"logs":{"maxDays":2,"minLevel":0}}`),
		Headers: map[string]string{"Authorization": tok.admin, "Content-Type": "application/json"},
		TestAppFactory: func(t testing.TB) *core.App {
			app := fixtureApp(t)
			insertLog(t, app, "old-3-days", 0, 72*time.Hour)
			insertLog(t, app, "new-1-day", 0, 24*time.Hour)
			insertLog(t, app, "new-debug", -4, time.Minute)
			return app
		},
		ExpectedStatus:  http.StatusOK,
		ExpectedContent: []string{`"logs":{"maxDataSize":0,"maxDays":2,"minLevel":0`},
		AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
			if got := messages(t, app); got != "new-1-day" {
				t.Errorf("logs right after the save = %q, want new-1-day", got)
			}
		},
	}
	s.Test(t)
}
