package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

const systemCronsJSON = `{"id":"__pbDBOptimize__","expression":"0 0 * * *"},` +
	`{"id":"__pbMFACleanup__","expression":"0 * * * *"},` +
	`{"id":"__pbOTPCleanup__","expression":"0 * * * *"},` +
	`{"id":"__pbLogsCleanup__","expression":"0 */6 * * *"}`

func TestCronRoutes(t *testing.T) {
	factory, su, user := opsApp()

	withBackupCron := func(t testing.TB, app *core.App) {
		s := app.Settings()
		s.Backups.Cron = "0 3 * * *"
		if err := app.SaveSettings(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}

	scenarios := []apitest.ApiScenario{
		{Name: "list as guest", Method: http.MethodGet, URL: "/api/crons", TestAppFactory: factory,
			ExpectedStatus: 401, ExpectedBody: opsRequiresAuthBody},
		{Name: "list as user", Method: http.MethodGet, URL: "/api/crons", TestAppFactory: factory, Headers: user,
			ExpectedStatus: 403, ExpectedBody: notAllowedBody},
		{Name: "list as superuser", Method: http.MethodGet, URL: "/api/crons", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 200, ExpectedBody: `[` + systemCronsJSON + `]`},
		{Name: "list with the auto backup job", Method: http.MethodGet, URL: "/api/crons", TestAppFactory: factory, Headers: su,
			BeforeTestFunc: withBackupCron, ExpectedStatus: 200,
			ExpectedBody: `[` + systemCronsJSON + `,{"id":"__pbAutoBackup__","expression":"0 3 * * *"}]`},
		{Name: "run as guest", Method: http.MethodPost, URL: "/api/crons/__pbLogsCleanup__", TestAppFactory: factory,
			ExpectedStatus: 401, ExpectedBody: opsRequiresAuthBody},
		{Name: "run as user", Method: http.MethodPost, URL: "/api/crons/__pbLogsCleanup__", TestAppFactory: factory, Headers: user,
			ExpectedStatus: 403, ExpectedBody: notAllowedBody},
		{Name: "run unknown", Method: http.MethodPost, URL: "/api/crons/missing", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 404, ExpectedBody: `{"data":{},"message":"Missing or invalid cron job.","status":404}`},
		{Name: "run auto backup when not configured", Method: http.MethodPost, URL: "/api/crons/__pbAutoBackup__", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 404, ExpectedBody: `{"data":{},"message":"Missing or invalid cron job.","status":404}`},
		{
			Name: "run logs cleanup", Method: http.MethodPost, URL: "/api/crons/__pbLogsCleanup__", TestAppFactory: factory, Headers: su,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				_, err := app.AuxDB().Write().ExecContext(t.Context(),
					"INSERT INTO _logs (id, level, message, data, created) VALUES ('oldlog000000001', 0, 'old', '{}', '2020-01-01 00:00:00.000Z')")
				if err != nil {
					t.Fatal(err)
				}
			},
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				deadline := time.Now().Add(2 * time.Second)
				for {
					if _, err := app.FindLogByID(t.Context(), "oldlog000000001"); err != nil {
						return
					}
					if time.Now().After(deadline) {
						t.Fatal("the old log was not deleted")
					}
					time.Sleep(10 * time.Millisecond)
				}
			},
		},
		{
			Name: "run auto backup", Method: http.MethodPost, URL: "/api/crons/__pbAutoBackup__", TestAppFactory: factory, Headers: su,
			BeforeTestFunc: withBackupCron, ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				deadline := time.Now().Add(5 * time.Second)
				for {
					list, err := app.ListBackups(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					if len(list) == 1 && len(list[0].Key) > len("@auto_pb_backup_") && list[0].Key[:16] == "@auto_pb_backup_" {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("backups = %+v, want one automatic backup", list)
					}
					time.Sleep(20 * time.Millisecond)
				}
			},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}
