package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func sqlBody(query string) *strings.Reader {
	b, _ := json.Marshal(map[string]string{"query": query})
	return strings.NewReader(string(b))
}

// sqlTableCount returns the rows of table, or -1 when the table does not exist.
func sqlTableCount(t testing.TB, app *core.App, table string) int {
	t.Helper()
	ok, err := app.DB().HasTable(t.Context(), table)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return -1
	}
	var n int
	if err := app.DB().Read().QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSQLRun(t *testing.T) {
	factory, su, user := opsApp()
	su, user = withJSONType(su), withJSONType(user)
	const sqlFailed = `{"data":{},"message":"Failed to execute query. Raw error:\n`

	scenarios := []apitest.ApiScenario{
		{Name: "guest", Method: http.MethodPost, URL: "/api/sql", Body: sqlBody("select 1"),
			Headers: map[string]string{"Content-Type": "application/json"}, TestAppFactory: factory,
			ExpectedStatus: 401, ExpectedBody: opsRequiresAuthBody},
		{Name: "regular user", Method: http.MethodPost, URL: "/api/sql", Body: sqlBody("select 1"),
			Headers: user, TestAppFactory: factory,
			ExpectedStatus: 403, ExpectedBody: notAllowedBody},
		{Name: "superuser select", Method: http.MethodPost, URL: "/api/sql", Body: sqlBody("select 1"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 200,
			ExpectedContent: []string{`{"execTime":`, `"affectedRows":0,"columns":[{"name":"1","type":"","nullable":true}],"rows":[["1"]]}`}},
		{Name: "table columns and null cells", Method: http.MethodPost, URL: "/api/sql",
			Body:    sqlBody("SELECT id, email, NULL AS missing, 2.5 AS num FROM users ORDER BY id"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 200,
			ExpectedContent: []string{
				`"columns":[{"name":"id","type":"TEXT","nullable":true},{"name":"email","type":"TEXT","nullable":true},` +
					`{"name":"missing","type":"","nullable":true},{"name":"num","type":"","nullable":true}]`,
				`"rows":[["user00000000001","u@example.com",null,"2.5"]]}`,
			}},
		{Name: "empty query", Method: http.MethodPost, URL: "/api/sql", Body: sqlBody(""),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 400,
			ExpectedBody: `{"data":{"query":{"code":"validation_required","message":"Cannot be blank."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`},
		{Name: "missing query", Method: http.MethodPost, URL: "/api/sql", Body: strings.NewReader(`{}`),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 400,
			ExpectedContent: []string{`"data":{"query":{"code":"validation_required"`}},
		{Name: "blank query", Method: http.MethodPost, URL: "/api/sql", Body: sqlBody(" \n\t "),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 400,
			ExpectedBody: sqlFailed + `empty query.","status":400}`},
		{Name: "malformed body", Method: http.MethodPost, URL: "/api/sql", Body: strings.NewReader(`{"query":`),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 400,
			ExpectedBody: `{"data":{},"message":"An error occurred while loading the submitted data.","status":400}`},
		{Name: "query above the length limit", Method: http.MethodPost, URL: "/api/sql", Body: sqlBody(strings.Repeat("a", 5001)),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 400,
			ExpectedBody: `{"data":{"query":{"code":"validation_length_out_of_range","message":"The length must be between 0 and 5000.",` +
				`"params":{"max":5000,"min":0}}},"message":"An error occurred while validating the submitted data.","status":400}`},
		{Name: "query at the length limit", Method: http.MethodPost, URL: "/api/sql",
			Body:    sqlBody("select '" + strings.Repeat("é", 4985) + "' as id"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 200,
			ExpectedContent: []string{`"columns":[{"name":"id","type":"","nullable":true}]`, `"rows":[["éééé`}},
		{Name: "invalid query", Method: http.MethodPost, URL: "/api/sql", Body: sqlBody("invalid"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 400,
			ExpectedBody: sqlFailed + `SQL logic error: near \"invalid\": syntax error (1).","status":400}`},
		{Name: "single write query", Method: http.MethodPost, URL: "/api/sql",
			Body:    sqlBody("create table test_sql_table(id int primary key)"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 200,
			ExpectedContent: []string{`"affectedRows":0,"columns":[],"rows":[]}`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := sqlTableCount(t, app, "test_sql_table"); n != 0 {
					t.Fatalf("test_sql_table rows = %d, want an empty table", n)
				}
			}},
		{Name: "multiple write queries", Method: http.MethodPost, URL: "/api/sql",
			Body:    sqlBody("create table test_sql_table(id int primary key);insert into test_sql_table(id) values (1)"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 200,
			ExpectedContent: []string{`"affectedRows":1,"columns":[],"rows":[]}`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := sqlTableCount(t, app, "test_sql_table"); n != 1 {
					t.Fatalf("test_sql_table rows = %d, want 1", n)
				}
			}},
		{Name: "multiple write queries roll back together", Method: http.MethodPost, URL: "/api/sql",
			Body:    sqlBody("create table test_sql_table(id int primary key);insert into test_sql_table(id) values (1);invalid"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 400,
			ExpectedBody: sqlFailed + `SQL logic error: near \"invalid\": syntax error (1).","status":400}`,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := sqlTableCount(t, app, "test_sql_table"); n != -1 {
					t.Fatalf("test_sql_table exists with %d rows after a failed query", n)
				}
			}},
		{Name: "constraint error", Method: http.MethodPost, URL: "/api/sql",
			Body:    sqlBody("insert into users (id, email, password, tokenKey) values ('user00000000001', 'x@example.com', 'x', 'y')"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 400,
			ExpectedContent: []string{sqlFailed + `constraint failed: UNIQUE constraint failed: users.id`}},
		{Name: "update reports affected rows and is seen by the records API", Method: http.MethodPost, URL: "/api/sql",
			Body:    sqlBody("UPDATE users SET email = 'changed@example.com' WHERE id = 'user00000000001'"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 200,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				// read the record once so that a stale cached result would show
				if _, err := app.FindRecordByID(t.Context(), core.CollectionNameUsers, "user00000000001"); err != nil {
					t.Fatal(err)
				}
			},
			ExpectedContent: []string{`"affectedRows":1,"columns":[],"rows":[]}`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				r, err := app.FindRecordByID(t.Context(), core.CollectionNameUsers, "user00000000001")
				if err != nil {
					t.Fatal(err)
				}
				if got := r.GetString("email"); got != "changed@example.com" {
					t.Fatalf("email = %q after the update", got)
				}
			}},
		{Name: "affected rows of the last statement", Method: http.MethodPost, URL: "/api/sql",
			Body:    sqlBody("create table t(x int); insert into t values (1), (2), (3); update t set x = 0 where x > 1; create index t_x on t(x)"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 200,
			ExpectedContent: []string{`"affectedRows":2,"columns":[],"rows":[]}`}},
		{Name: "DDL after an earlier write reports no rows", Method: http.MethodPost, URL: "/api/sql",
			Body:    sqlBody("create table t(x int)"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 200,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				// leaves changes() at 1 on the writer connection
				if _, err := app.DB().Write().ExecContext(t.Context(), "UPDATE users SET name = name"); err != nil {
					t.Fatal(err)
				}
			},
			ExpectedContent: []string{`"affectedRows":0,"columns":[],"rows":[]}`}},
		{Name: "a write that does not look like one runs as a read, as in PocketBase", Method: http.MethodPost, URL: "/api/sql",
			Body:    sqlBody("WITH v AS (SELECT 'cte@example.com' AS e) UPDATE users SET email = (SELECT e FROM v)"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 200,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				if _, err := app.FindRecordByID(t.Context(), core.CollectionNameUsers, "user00000000001"); err != nil {
					t.Fatal(err)
				}
			},
			ExpectedContent: []string{`"affectedRows":0,"columns":[],"rows":[]}`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				r, err := app.FindRecordByID(t.Context(), core.CollectionNameUsers, "user00000000001")
				if err != nil {
					t.Fatal(err)
				}
				if got := r.GetString("email"); got != "cte@example.com" {
					t.Fatalf("email = %q after the update, want it seen past the result cache", got)
				}
			}},
		{Name: "multiple read queries return the last", Method: http.MethodPost, URL: "/api/sql", Body: sqlBody("select 1;select 2"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 200,
			ExpectedContent: []string{`"affectedRows":0,"columns":[{"name":"2","type":"","nullable":true}],"rows":[["2"]]}`}},
		{Name: "select is not run as a write", Method: http.MethodPost, URL: "/api/sql",
			Body:    sqlBody("SELECT count(*) AS n FROM users"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 200,
			ExpectedContent: []string{`"rows":[["1"]]}`}},
		{Name: "rows are capped at 1000", Method: http.MethodPost, URL: "/api/sql",
			Body:    sqlBody("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500) SELECT x FROM c"),
			Headers: su, TestAppFactory: factory, ExpectedStatus: 200,
			ExpectedContent: []string{`"columns":[{"name":"x","type":"","nullable":true}],"rows":[["1"],["2"],`},
			AfterTestFunc: func(t testing.TB, _ *core.App, _ *http.Response, body []byte) {
				var res core.SQLResult
				if err := json.Unmarshal(body, &res); err != nil {
					t.Fatal(err)
				}
				if len(res.Rows) != core.SQLConsoleMaxRows {
					t.Fatalf("rows = %d, want %d", len(res.Rows), core.SQLConsoleMaxRows)
				}
				for i, row := range res.Rows {
					if len(row) != 1 || row[0] == nil || *row[0] != strconv.Itoa(i+1) {
						t.Fatalf("row %d = %v", i, row)
					}
				}
			}},
	}

	for _, s := range scenarios {
		s.Test(t)
	}
}
