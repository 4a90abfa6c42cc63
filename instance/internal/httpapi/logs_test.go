package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

const (
	opsRequiresAuthBody = `{"data":{},"message":"The request requires valid record authorization token.","status":401}`
	seededLogID         = "log000000000001"
)

// opsApp returns a factory of an empty data directory with a superuser and a user, and
// the headers that authenticate as each (filled when the app is opened). Each of the
// suExtra maps gets the superuser's Authorization too, beside its own headers.
func opsApp(suExtra ...map[string]string) (factory func(t testing.TB) *core.App, su, user map[string]string) {
	su, user = map[string]string{}, map[string]string{}
	factory = func(t testing.TB) *core.App {
		t.Helper()
		app := apitest.NewTestApp(t, "")
		s, err := app.UpsertSuperuser(t.Context(), "root@example.com", "root-pass-123")
		if err != nil {
			t.Fatal(err)
		}
		_, err = app.DB().Write().ExecContext(t.Context(),
			"INSERT INTO users (id, email, password, tokenKey, created, updated) VALUES ('user00000000001', 'u@example.com', 'x', 'user-token-key-0123456789abcdefghijklmnop', '', '')")
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range []struct {
			collection, id string
			headers        map[string]string
		}{{core.CollectionNameSuperusers, s.ID, su}, {core.CollectionNameUsers, "user00000000001", user}} {
			record, err := app.FindRecordByID(t.Context(), x.collection, x.id)
			if err != nil {
				t.Fatal(err)
			}
			token, err := core.NewAuthToken(record)
			if err != nil {
				t.Fatal(err)
			}
			x.headers["Authorization"] = token
		}
		for _, h := range suExtra {
			h["Authorization"] = su["Authorization"]
		}
		return app
	}
	return factory, su, user
}

// seedLogs stores two logs with known ids.
func seedLogs(t testing.TB, app *core.App) {
	t.Helper()
	_, err := app.AuxDB().Write().ExecContext(t.Context(),
		"INSERT INTO _logs (id, level, message, data, created) VALUES "+
			"(?, 0, 'GET /api/x', '{\"type\":\"request\",\"status\":200}', '2026-11-27 02:10:00.000Z'), "+
			"('log000000000002', 8, 'GET /api/y', '{\"type\":\"request\",\"status\":404}', '2026-11-27 03:20:00.000Z')",
		seededLogID)
	if err != nil {
		t.Fatal(err)
	}
}

// storedLogs flushes the queued logs and returns them, oldest first. The activity log
// of a request is queued right after its response, so it is waited for a little.
func storedLogs(t testing.TB, app *core.App, atLeast int) []*core.Log {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if err := app.FlushLogs(t.Context()); err != nil {
			t.Fatal(err)
		}
		res, err := app.ListLogs(t.Context(), map[string][]string{"sort": {"created"}})
		if err != nil {
			t.Fatal(err)
		}
		logs := res.Items.([]*core.Log)
		if len(logs) >= atLeast || time.Now().After(deadline) {
			return logs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func logData(t testing.TB, l *core.Log) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(l.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLogsRoutes(t *testing.T) {
	factory, su, user := opsApp()

	scenarios := []apitest.ApiScenario{
		{Name: "list as guest", Method: http.MethodGet, URL: "/api/logs", TestAppFactory: factory,
			ExpectedStatus: 401, ExpectedBody: opsRequiresAuthBody},
		{Name: "list as user", Method: http.MethodGet, URL: "/api/logs", TestAppFactory: factory, Headers: user,
			ExpectedStatus: 403, ExpectedBody: notAllowedBody},
		{
			Name: "list as superuser", Method: http.MethodGet, URL: "/api/logs?sort=-created", TestAppFactory: factory, Headers: su,
			BeforeTestFunc: seedLogs, ExpectedStatus: 200,
			ExpectedBody: `{"items":[` +
				`{"id":"log000000000002","created":"2026-11-27 03:20:00.000Z","data":{"status":404,"type":"request"},"message":"GET /api/y","level":8},` +
				`{"id":"log000000000001","created":"2026-11-27 02:10:00.000Z","data":{"status":200,"type":"request"},"message":"GET /api/x","level":0}` +
				`],"page":1,"perPage":30,"totalItems":2,"totalPages":1}`,
		},
		{
			Name: "list filtered on data.*", Method: http.MethodGet, URL: "/api/logs?filter=data.status%3E%3D400&sort=@rowid", TestAppFactory: factory, Headers: su,
			BeforeTestFunc: seedLogs, ExpectedStatus: 200,
			ExpectedContent: []string{`"totalItems":1`, `"id":"log000000000002"`}, NotExpectedContent: []string{seededLogID},
		},
		{Name: "list with an invalid filter", Method: http.MethodGet, URL: "/api/logs?filter=secret%3D1", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 400, ExpectedBody: `{"data":{},"message":"Something went wrong while processing your request.","status":400}`},
		{
			Name: "stats", Method: http.MethodGet, URL: "/api/logs/stats", TestAppFactory: factory, Headers: su,
			BeforeTestFunc: seedLogs, ExpectedStatus: 200,
			ExpectedBody: `[{"date":"2026-11-27 02:00:00.000Z","total":1},{"date":"2026-11-27 03:00:00.000Z","total":1}]`,
		},
		{
			Name: "stats filtered", Method: http.MethodGet, URL: "/api/logs/stats?filter=level%3E0", TestAppFactory: factory, Headers: su,
			BeforeTestFunc: seedLogs, ExpectedStatus: 200,
			ExpectedBody: `[{"date":"2026-11-27 03:00:00.000Z","total":1}]`,
		},
		{Name: "stats with an invalid filter", Method: http.MethodGet, URL: "/api/logs/stats?filter=(((", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 400, ExpectedBody: `{"data":{},"message":"Invalid filter format.","status":400}`},
		{Name: "stats as guest", Method: http.MethodGet, URL: "/api/logs/stats", TestAppFactory: factory,
			ExpectedStatus: 401, ExpectedBody: opsRequiresAuthBody},
		{
			Name: "view", Method: http.MethodGet, URL: "/api/logs/" + seededLogID, TestAppFactory: factory, Headers: su,
			BeforeTestFunc: seedLogs, ExpectedStatus: 200,
			ExpectedBody: `{"id":"log000000000001","created":"2026-11-27 02:10:00.000Z","data":{"status":200,"type":"request"},"message":"GET /api/x","level":0}`,
		},
		{Name: "view missing", Method: http.MethodGet, URL: "/api/logs/missing", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 404, ExpectedBody: `{"data":{},"message":"The requested resource wasn't found.","status":404}`},
		{Name: "view as user", Method: http.MethodGet, URL: "/api/logs/" + seededLogID, TestAppFactory: factory, Headers: user,
			ExpectedStatus: 403, ExpectedBody: notAllowedBody},
		{Name: "delete as guest", Method: http.MethodDelete, URL: "/api/logs", TestAppFactory: factory,
			ExpectedStatus: 401, ExpectedBody: opsRequiresAuthBody},
		{Name: "delete as user", Method: http.MethodDelete, URL: "/api/logs", TestAppFactory: factory, Headers: user,
			ExpectedStatus: 403, ExpectedBody: notAllowedBody},
		{
			Name: "delete all", Method: http.MethodDelete, URL: "/api/logs", TestAppFactory: factory, Headers: su,
			BeforeTestFunc: seedLogs, ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if logs := storedLogs(t, app, 0); len(logs) != 0 {
					t.Errorf("%d logs left after DELETE /api/logs", len(logs))
				}
			},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestActivityLogger(t *testing.T) {
	factory, su, user := opsApp()

	scenarios := []apitest.ApiScenario{
		{
			Name: "success as guest", Method: http.MethodGet, URL: "/api/health?x=%2Fy", TestAppFactory: factory,
			Headers: map[string]string{"User-Agent": "agent/1", "Referer": "http://ref.example/"}, ExpectedStatus: 200,
			ExpectedContent: []string{`"API is healthy."`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				logs := storedLogs(t, app, 1)
				if len(logs) != 1 {
					t.Fatalf("%d logs, want 1", len(logs))
				}
				l := logs[0]
				if l.Level != 0 || l.Message != "GET /api/health?x=/y" {
					t.Errorf("log = %+v", l)
				}
				d := logData(t, l)
				want := map[string]any{
					"type": "request", "url": "/api/health?x=%2Fy", "method": "GET", "status": float64(200),
					"auth": "", "referer": "http://ref.example/", "userAgent": "agent/1",
					"userIP": "127.0.0.1", "remoteIP": "127.0.0.1",
				}
				for k, v := range want {
					if d[k] != v {
						t.Errorf("data.%s = %v, want %v", k, d[k], v)
					}
				}
				if _, ok := d["execTime"].(float64); !ok {
					t.Errorf("data.execTime = %v", d["execTime"])
				}
				for _, k := range []string{"authId", "error", "details"} {
					if _, ok := d[k]; ok {
						t.Errorf("data has %s", k)
					}
				}
			},
		},
		{
			Name: "failure as user with logAuthId and without logIP", Method: http.MethodGet, URL: "/api/logs", TestAppFactory: factory, Headers: user,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				s := app.Settings()
				s.Logs.LogIP = false
				s.Logs.LogAuthID = true
				if err := app.SaveSettings(t.Context(), s); err != nil {
					t.Fatal(err)
				}
			},
			ExpectedStatus: 403, ExpectedBody: notAllowedBody,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				logs := storedLogs(t, app, 1)
				if len(logs) != 1 {
					t.Fatalf("%d logs, want 1", len(logs))
				}
				d := logData(t, logs[0])
				if logs[0].Level != 8 || d["status"] != float64(403) || d["auth"] != "users" || d["authId"] != "user00000000001" ||
					d["error"] != "The authorized record is not allowed to perform this action." {
					t.Errorf("log = %+v, data %v", logs[0], d)
				}
				if _, ok := d["details"]; !ok {
					t.Error("data.details missing")
				}
				if _, ok := d["userIP"]; ok {
					t.Error("data.userIP logged with logIP off")
				}
			},
		},
		{
			Name: "unknown route is an error log", Method: http.MethodDelete, URL: "/api/health", TestAppFactory: factory,
			ExpectedStatus: 404, ExpectedContent: []string{`"status":404`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				logs := storedLogs(t, app, 1)
				if len(logs) != 1 || logs[0].Level != 8 || logs[0].Message != "DELETE /api/health" {
					t.Fatalf("logs = %+v", logs)
				}
				if d := logData(t, logs[0]); d["error"] != "The requested resource wasn't found." || d["status"] != float64(404) {
					t.Errorf("data = %v", d)
				}
			},
		},
		{
			Name: "successful logs API calls are not logged", Method: http.MethodGet, URL: "/api/logs", TestAppFactory: factory, Headers: su,
			ExpectedStatus: 200, ExpectedContent: []string{`"items":[]`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				time.Sleep(50 * time.Millisecond)
				if logs := storedLogs(t, app, 0); len(logs) != 0 {
					t.Errorf("logs = %+v, want none", logs)
				}
			},
		},
		{
			Name: "maxDays 0 logs nothing", Method: http.MethodGet, URL: "/api/health", TestAppFactory: factory,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				s := app.Settings()
				s.Logs.MaxDays = 0
				if err := app.SaveSettings(t.Context(), s); err != nil {
					t.Fatal(err)
				}
			},
			ExpectedStatus: 200, ExpectedContent: []string{`"API is healthy."`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				time.Sleep(50 * time.Millisecond)
				if logs := storedLogs(t, app, 0); len(logs) != 0 {
					t.Errorf("logs = %+v, want none", logs)
				}
			},
		},
		{
			Name: "minLevel above info keeps only failures", Method: http.MethodGet, URL: "/api/health", TestAppFactory: factory, Headers: su,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				s := app.Settings()
				s.Logs.MinLevel = 4
				if err := app.SaveSettings(t.Context(), s); err != nil {
					t.Fatal(err)
				}
			},
			ExpectedStatus: 200, ExpectedContent: []string{`"canBackup"`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				time.Sleep(50 * time.Millisecond)
				if logs := storedLogs(t, app, 0); len(logs) != 0 {
					t.Errorf("logs = %+v, want none", logs)
				}
			},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}

}
