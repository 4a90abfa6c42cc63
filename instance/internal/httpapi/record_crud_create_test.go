package httpapi_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
)

// Fixture ids used by the record write tests.
const (
	rwAlicePost = "hxjy4dmsjikjbj4" // alice's, with comments
	rwBobPost   = "lkfm1e29gmk6gfe"
	rwTagGo     = "s2cej12938cf3n3"
	rwTagK8s    = "1f4pvfozmqdkis3"
)

// rwHeaders are the JSON headers of a request authenticated with token ("" for a guest).
func rwHeaders(token string) map[string]string {
	h := map[string]string{"Content-Type": "application/json"}
	if token != "" {
		h["Authorization"] = token
	}
	return h
}

// rwErr is PocketBase's error body.
func rwErr(status int, message, data string) string {
	code := map[int]string{400: "400", 403: "403", 404: "404", 413: "413"}[status]
	return `{"data":` + data + `,"message":"` + message + `","status":` + code + `}`
}

// rwCount returns the number of rows of table matching where.
func rwCount(t testing.TB, app *core.App, table, where string, args ...any) int {
	t.Helper()
	var n int
	err := app.DB().Read().QueryRowContext(t.Context(), "SELECT count(*) FROM `"+table+"` WHERE "+where, args...).Scan(&n)
	if err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

// rwColumn returns one column of one row as text.
func rwColumn(t testing.TB, app *core.App, table, column, id string) string {
	t.Helper()
	var v sql.NullString
	err := app.DB().Read().QueryRowContext(t.Context(), "SELECT CAST(`"+column+"` AS TEXT) FROM `"+table+"` WHERE id = ?", id).Scan(&v)
	if err != nil {
		t.Fatalf("reading %s.%s of %s: %v", table, column, id, err)
	}
	return v.String
}

// rwRecord decodes a record response.
func rwRecord(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return rec
}

// rwMultipart builds a multipart body from fields (each a list of values) and files
// (part name → file name).
func rwMultipart(t testing.TB, fields map[string][]string, files map[string]string) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vals := range fields {
		for _, v := range vals {
			if err := w.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	for k, name := range files {
		part, err := w.CreateFormFile(k, name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = part.Write([]byte("hello"))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, w.FormDataContentType()
}

func TestRecordCreate(t *testing.T) {
	tok := newTokens(t)
	const postsURL = "/api/collections/posts/records"

	multipartPost, multipartType := rwMultipart(t, map[string][]string{
		"title":        {"From a form"},
		"published":    {"true"},
		"views":        {"42"},
		"slug":         {"0001"},
		"@jsonPayload": {`{"channels":["web","email"],"meta":{"a":1}}`},
	}, nil)
	multipartQueried, multipartQueriedType := rwMultipart(t, map[string][]string{"slug": {"from-a-form"}, "channels": {"web"}}, nil)

	scenarios := []apitest.ApiScenario{
		{
			Name:   "missing collection",
			Method: http.MethodPost, URL: "/api/collections/missing/records",
			Body: strings.NewReader(`{}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 404,
			ExpectedBody:   rwErr(404, "Missing or invalid collection context.", "{}"),
		},
		{
			Name:   "view collection",
			Method: http.MethodPost, URL: "/api/collections/post_stats/records",
			Body: strings.NewReader(`{}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Unsupported collection type.", "{}"),
		},
		{
			Name:   "null createRule, guest",
			Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: strings.NewReader(`{"label":"new"}`), Headers: rwHeaders(""),
			ExpectedStatus: 403,
			ExpectedBody:   rwErr(403, "Only superusers can perform this action.", "{}"),
		},
		{
			Name:   "null createRule, user",
			Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: strings.NewReader(`{"label":"new"}`), Headers: rwHeaders(tok.alice),
			ExpectedStatus: 403,
			ExpectedBody:   rwErr(403, "Only superusers can perform this action.", "{}"),
		},
		{
			Name:   "null createRule, superuser",
			Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: strings.NewReader(`{"label":"new","unknown":"ignored"}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus:     200,
			ExpectedContent:    []string{`{"collectionId":"pbc_1219621782","collectionName":"tags","id":"`, `","label":"new"}`},
			NotExpectedContent: []string{"unknown"},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
				id, _ := rwRecord(t, body)["id"].(string)
				if len(id) != 15 || rwColumn(t, app, "tags", "label", id) != "new" {
					t.Errorf("stored record %q not found", id)
				}
			},
		},
		{
			Name:   "unique index violation",
			Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: strings.NewReader(`{"label":"go"}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to create record.",
				`{"label":{"code":"validation_not_unique","message":"Value must be unique."}}`),
		},
		{
			Name:   "createRule expression, guest fails with 400 and empty data",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`{"title":"Guest post"}`), Headers: rwHeaders(""),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Failed to create record.", "{}"),
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := rwCount(t, app, "posts", "title = ?", "Guest post"); n != 0 {
					t.Errorf("%d posts created", n)
				}
			},
		},
		{
			Name:   "createRule expression, user posting as another author",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`{"title":"Forged","author":"` + bobID + `"}`), Headers: rwHeaders(tok.alice),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Failed to create record.", "{}"),
		},
		{
			Name:   "createRule expression, user posting as herself",
			Method: http.MethodPost, URL: postsURL + "?unused=1",
			Body: strings.NewReader(`{"title":"Alice writes","author":"` + aliceID + `","channels":["web","web","email"],` +
				`"status":"live","meta":{"b":[1,2],"a":null},"location":{"lon":12.5,"lat":-3},"publishAt":"2026-01-02 03:04:05Z",` +
				`"created":"2000-01-01 00:00:00.000Z","tags":"` + rwTagGo + `"}`),
			Headers:        rwHeaders(tok.alice),
			ExpectedStatus: 200,
			ExpectedContent: []string{
				`{"attachments":[],"author":"` + aliceID + `","body":"","channels":["web","email"],"collectionId":"pbc_1125843985","collectionName":"posts","contact":"","cover":"","created":"2`,
				`"location":{"lon":12.5,"lat":-3},"meta":{"a":null,"b":[1,2]},"publishAt":"2026-01-02 03:04:05.000Z","published":false,"rating":0,"slug":"","status":"live","tags":["` + rwTagGo + `"],"title":"Alice writes","updated":"`,
				`"views":0,"website":""}`,
			},
			NotExpectedContent: []string{`"created":"2000-01-01`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
				rec := rwRecord(t, body)
				if rec["created"] != rec["updated"] || rec["created"] == "" {
					t.Errorf("created %v, updated %v: want the same server stamp", rec["created"], rec["updated"])
				}
				id, _ := rec["id"].(string)
				if got := rwColumn(t, app, "posts", "channels", id); got != `["web","email"]` {
					t.Errorf("stored channels %s", got)
				}
			},
		},
		{
			Name:   "superuser sees every validation error at once",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`{"id":"short","title":"ab","slug":"Not A Slug","views":1.5,"rating":6,"contact":"nope",` +
				`"website":"not a url","status":"bad","channels":["web","fax"],"author":"missingmissingm","location":{"lon":200,"lat":0},` +
				`"cover":"unknown.png"}`),
			Headers:        rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to create record.", `{`+
				`"author":{"code":"validation_missing_rel_records","message":"Failed to find all relation records with the provided ids."},`+
				`"channels":{"code":"validation_invalid_value","message":"Invalid value fax.","params":{"value":"fax"}},`+
				`"contact":{"code":"validation_is_email","message":"Must be a valid email address."},`+
				`"cover":{"code":"validation_invalid_file","message":"Invalid new files: [unknown.png].","params":{"invalidFiles":["unknown.png"]}},`+
				`"id":{"code":"validation_min_text_constraint","message":"Must be at least 15 character(s).","params":{"min":15}},`+
				`"location":{"code":"validation_invalid_longitude","message":"Longitude must be between -180 and 180 degrees."},`+
				`"rating":{"code":"validation_max_number_constraint","message":"Must be less or equal than 5.","params":{"max":5}},`+
				`"slug":{"code":"validation_invalid_format","message":"Invalid value format."},`+
				`"status":{"code":"validation_invalid_value","message":"Invalid value bad.","params":{"value":"bad"}},`+
				`"title":{"code":"validation_min_text_constraint","message":"Must be at least 3 character(s).","params":{"min":3}},`+
				`"views":{"code":"validation_only_int_constraint","message":"Decimal numbers are not allowed."},`+
				`"website":{"code":"validation_invalid_url","message":"Must be a valid url."}}`),
		},
		{
			Name:   "required field",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`{}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Failed to create record.", `{"title":{"code":"validation_required","message":"Cannot be blank."}}`),
		},
		{
			Name:   "client id is kept",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`{"id":"abcdefghij12345","title":"Own id"}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"id":"abcdefghij12345"`},
		},
		{
			Name:   "client id must match the id pattern",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`{"id":"ABCDEFGHIJ12345","title":"Bad id"}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Failed to create record.", `{"id":{"code":"validation_invalid_format","message":"Invalid value format."}}`),
		},
		{
			Name:   "client id already used",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`{"id":"` + rwBobPost + `","title":"Dup id"}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Failed to create record.", `{"id":{"code":"validation_not_unique","message":"Value must be unique."}}`),
		},
		{
			Name:   "auth id used by another auth collection",
			Method: http.MethodPost, URL: "/api/collections/users/records",
			Body:    strings.NewReader(`{"id":"` + adminID + `","email":"new@example.com","password":"new-pass-123","passwordConfirm":"new-pass-123"}`),
			Headers: rwHeaders(""), ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to create record.", `{"id":{"code":"validation_invalid_auth_id","message":"Invalid or duplicated auth record id."}}`),
		},
		{
			Name:   "modifiers",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`{"title":"Mods","channels":["email"],"channels+":["web"],"+tags":["` + rwTagK8s + `"],"tags+":"` + rwTagGo +
				`","views":10,"views+":5,"views-":2,"slug:autogenerate":"pre-"}`),
			Headers: rwHeaders(tok.admin), ExpectedStatus: 200,
			ExpectedContent: []string{`"channels":["email","web"]`, `"slug":"pre-"`, `"tags":["` + rwTagK8s + `","` + rwTagGo + `"]`, `"views":13`},
		},
		{
			Name:   "multipart body with inferred values and @jsonPayload",
			Method: http.MethodPost, URL: postsURL,
			Body: multipartPost, Headers: map[string]string{"Authorization": tok.admin, "Content-Type": multipartType},
			ExpectedStatus: 200,
			ExpectedContent: []string{`"channels":["web","email"]`, `"meta":{"a":1}`, `"published":true`, `"slug":"0001"`,
				`"title":"From a form"`, `"views":42`},
		},
		{
			Name:   "urlencoded body",
			Method: http.MethodPost, URL: postsURL,
			Body:            strings.NewReader(url.Values{"title": {"Encoded"}, "channels": {"web", "mobile"}, "rating": {"2.5"}}.Encode()),
			Headers:         map[string]string{"Authorization": tok.admin, "Content-Type": "application/x-www-form-urlencoded"},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"channels":["web","mobile"]`, `"rating":2.5`, `"title":"Encoded"`},
		},
		{
			Name:   "urlencoded body with query values, as PocketBase binds the request's Form",
			Method: http.MethodPost, URL: postsURL + "?title=From%20the%20query&channels=email",
			Body:            strings.NewReader(url.Values{"channels": {"web"}}.Encode()),
			Headers:         map[string]string{"Authorization": tok.admin, "Content-Type": "application/x-www-form-urlencoded"},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"channels":["web","email"]`, `"title":"From the query"`},
		},
		{
			Name:   "multipart body after the query values",
			Method: http.MethodPost, URL: postsURL + "?channels=email&title=From%20the%20query",
			Body: multipartQueried, Headers: map[string]string{"Authorization": tok.admin, "Content-Type": multipartQueriedType},
			ExpectedStatus:  200,
			ExpectedContent: []string{`"channels":["email","web"]`, `"slug":"from-a-form"`, `"title":"From the query"`},
		},
		{
			Name:   "the Content-Type prefix is case-sensitive",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`{"title":"Upper"}`), Headers: map[string]string{"Authorization": tok.admin, "Content-Type": "APPLICATION/JSON"},
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Unsupported Content-Type.", "{}"),
		},
		{
			Name:   "only the first json value counts",
			Method: http.MethodPost, URL: postsURL + "?fields=title",
			Body: strings.NewReader(`{"title":"First value"} {"title":"ignored"`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 200,
			ExpectedBody:   `{"title":"First value"}`,
		},
		{
			Name:   "a repeated json name",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`{"title":"One","meta":{"a":1,"\u0061":2}}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Something went wrong while processing your request.", "{}"),
		},
		{
			Name:   "invalid utf-8 in json",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader("{\"title\":\"a\xffb\"}"), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Something went wrong while processing your request.", "{}"),
		},
		{
			Name:   "unsupported content type",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`title=x`), Headers: map[string]string{"Authorization": tok.admin, "Content-Type": "text/plain"},
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Unsupported Content-Type.", "{}"),
		},
		{
			Name:   "malformed json",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`{"title":`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Something went wrong while processing your request.", "{}"),
		},
		{
			Name:   "the limit grows with the collection's file, editor and json fields",
			Method: http.MethodPost, URL: postsURL,
			Body: strings.NewReader(`{"title":"Big","body":"` + strings.Repeat("x", 33<<20) + `"}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to create record.",
				`{"body":{"code":"validation_content_size_limit","message":"The maximum allowed content size is 5242880 bytes.","params":{"maxSize":5242880}}}`),
		},
		{
			Name:   "body over the collection limit",
			Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: strings.NewReader(`{"label":"` + strings.Repeat("x", 32<<20) + `"}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 413,
			ExpectedBody:   rwErr(413, "Request entity too large.", "{}"),
		},
	}

	for _, s := range scenarios {
		s.TestAppFactory = fixtureApp
		s.Test(t)
	}
}

func TestRecordCreateAuth(t *testing.T) {
	tok := newTokens(t)
	const usersURL = "/api/collections/users/records"

	scenarios := []apitest.ApiScenario{
		{
			Name:   "guest signs up; the password is hashed and the email stays hidden",
			Method: http.MethodPost, URL: usersURL,
			Body:    strings.NewReader(`{"email":"carol@example.com","password":"carol-pass-123","passwordConfirm":"carol-pass-123","name":"Carol","tokenKey":"mine"}`),
			Headers: rwHeaders(""), ExpectedStatus: 200,
			ExpectedContent:    []string{`"collectionName":"users"`, `"emailVisibility":false`, `"name":"Carol"`, `"verified":false}`},
			NotExpectedContent: []string{"carol@example.com", "password", "tokenKey"},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
				id, _ := rwRecord(t, body)["id"].(string)
				users, err := app.FindCachedCollectionByNameOrID(t.Context(), "users")
				if err != nil {
					t.Fatal(err)
				}
				rec, err := app.AuthWithPassword(t.Context(), users, "carol@example.com", "carol-pass-123", "")
				if err != nil || rec.ID() != id {
					t.Fatalf("login as the new user: %v, %v", rec, err)
				}
				if key := rec.TokenKey(); len(key) != 50 {
					t.Errorf("tokenKey %q: want a generated 50-character key", key)
				}
				if hash := rwColumn(t, app, "users", "password", id); !strings.HasPrefix(hash, "$2a$10$") {
					t.Errorf("password hash %q: want bcrypt cost 10", hash)
				}
			},
		},
		{
			// PocketBase exports the would-be record for the create rule (even an empty one)
			// before validating it, and the export fails on a password bcrypt cannot hash
			Name:   "a guest's password over 72 bytes fails before validation",
			Method: http.MethodPost, URL: usersURL,
			Body: strings.NewReader(`{"email":"carol@example.com","password":"` + strings.Repeat("é", 40) + `","passwordConfirm":"` +
				strings.Repeat("é", 40) + `"}`),
			Headers: rwHeaders(""), ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to create record.", `{}`),
		},
		{
			Name:   "a superuser's password over 72 bytes is an invalid value",
			Method: http.MethodPost, URL: usersURL,
			Body: strings.NewReader(`{"email":"carol@example.com","password":"` + strings.Repeat("é", 40) + `","passwordConfirm":"` +
				strings.Repeat("é", 40) + `"}`),
			Headers: rwHeaders(tok.admin), ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to create record.", `{"password":{"code":"validation_invalid_value","message":"Invalid value."}}`),
		},
		{
			Name:   "guest cannot create a verified user",
			Method: http.MethodPost, URL: usersURL,
			Body:    strings.NewReader(`{"email":"carol@example.com","password":"carol-pass-123","passwordConfirm":"carol-pass-123","verified":true}`),
			Headers: rwHeaders(""), ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to create record.", `{"verified":{"code":"validation_values_mismatch","message":"Values don't match."}}`),
		},
		{
			Name:   "superuser creates a verified user and sees the email",
			Method: http.MethodPost, URL: usersURL,
			Body:    strings.NewReader(`{"email":"carol@example.com","password":"carol-pass-123","passwordConfirm":"carol-pass-123","verified":true}`),
			Headers: rwHeaders(tok.admin), ExpectedStatus: 200,
			ExpectedContent: []string{`"email":"carol@example.com"`, `"verified":true}`},
		},
		{
			Name:   "password and passwordConfirm are required",
			Method: http.MethodPost, URL: usersURL,
			Body:    strings.NewReader(`{"email":"carol@example.com"}`),
			Headers: rwHeaders(""), ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to create record.",
				`{"password":{"code":"validation_required","message":"Cannot be blank."},"passwordConfirm":{"code":"validation_required","message":"Cannot be blank."}}`),
		},
		{
			Name:   "passwordConfirm must match",
			Method: http.MethodPost, URL: usersURL,
			Body:    strings.NewReader(`{"email":"carol@example.com","password":"carol-pass-123","passwordConfirm":"other-pass-123"}`),
			Headers: rwHeaders(""), ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to create record.", `{"passwordConfirm":{"code":"validation_values_mismatch","message":"Values don't match."}}`),
		},
		{
			Name:   "field errors after the form: short password, bad email",
			Method: http.MethodPost, URL: usersURL,
			Body:    strings.NewReader(`{"email":"nope","password":"short","passwordConfirm":"short"}`),
			Headers: rwHeaders(""), ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to create record.",
				`{"email":{"code":"validation_is_email","message":"Must be a valid email address."},"password":{"code":"validation_min_text_constraint","message":"Must be at least 8 character(s)."}}`),
		},
		{
			Name:   "email must be unique",
			Method: http.MethodPost, URL: usersURL,
			Body:    strings.NewReader(`{"email":"alice@example.com","password":"carol-pass-123","passwordConfirm":"carol-pass-123"}`),
			Headers: rwHeaders(""), ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to create record.", `{"email":{"code":"validation_not_unique","message":"Value must be unique."}}`),
		},
		{
			Name:   "superuser creates a superuser, always verified",
			Method: http.MethodPost, URL: "/api/collections/_superusers/records",
			Body:    strings.NewReader(`{"email":"root2@example.com","password":"root2-pass-123","passwordConfirm":"root2-pass-123"}`),
			Headers: rwHeaders(tok.admin), ExpectedStatus: 200,
			ExpectedContent: []string{`"email":"root2@example.com"`, `"verified":true}`},
		},
	}

	for _, s := range scenarios {
		s.TestAppFactory = fixtureApp
		s.Test(t)
	}
}

// TestRecordCreateManageRule checks that a manageRule grants the auth field rights of a
// manager (here: setting verified) to matching requesters only.
func TestRecordCreateManageRule(t *testing.T) {
	tok := newTokens(t)

	withManageRule := func(t testing.TB) *core.App {
		app := fixtureApp(t)
		users, err := app.FindCollectionByNameOrID(t.Context(), "users")
		if err != nil {
			t.Fatal(err)
		}
		rule := `@request.auth.email = "alice@example.com"`
		users.Auth.ManageRule = &rule
		if err := app.SaveCollection(t.Context(), users); err != nil {
			t.Fatal(err)
		}
		return app
	}
	body := `{"email":"dave@example.com","password":"dave-pass-1234","passwordConfirm":"dave-pass-1234","verified":true}`

	scenarios := []apitest.ApiScenario{
		{
			Name:   "manager",
			Method: http.MethodPost, URL: "/api/collections/users/records",
			Body: strings.NewReader(body), Headers: rwHeaders(tok.alice),
			TestAppFactory:  withManageRule,
			ExpectedStatus:  200,
			ExpectedContent: []string{`"email":"dave@example.com"`, `"verified":true}`},
		},
		{
			Name:   "not a manager",
			Method: http.MethodPost, URL: "/api/collections/users/records",
			Body: strings.NewReader(body), Headers: rwHeaders(tok.bob),
			TestAppFactory: withManageRule,
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Failed to create record.", `{"verified":{"code":"validation_values_mismatch","message":"Values don't match."}}`),
		},
	}

	for _, s := range scenarios {
		s.Test(t)
	}
}

// TestRecordCreateRuleSeesBody checks @request.body in a create rule: it holds the
// modifier-resolved values.
func TestRecordCreateRuleSeesBody(t *testing.T) {
	tok := newTokens(t)

	withRule := func(t testing.TB) *core.App {
		app := fixtureApp(t)
		tags, err := app.FindCollectionByNameOrID(t.Context(), "tags")
		if err != nil {
			t.Fatal(err)
		}
		rule := `@request.body.label ~ "ok" && label != "nope-ok"`
		tags.CreateRule = &rule
		if err := app.SaveCollection(t.Context(), tags); err != nil {
			t.Fatal(err)
		}
		return app
	}

	scenarios := []apitest.ApiScenario{
		{
			Name: "matching body", Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: strings.NewReader(`{"label":"is-ok"}`), Headers: rwHeaders(tok.bob), TestAppFactory: withRule,
			ExpectedStatus: 200, ExpectedContent: []string{`"label":"is-ok"`},
		},
		{
			Name: "body fails the rule", Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: strings.NewReader(`{"label":"bad"}`), Headers: rwHeaders(""), TestAppFactory: withRule,
			ExpectedStatus: 400, ExpectedBody: rwErr(400, "Failed to create record.", "{}"),
		},
		{
			Name: "would-be record fails the rule", Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: strings.NewReader(`{"label":"nope-ok"}`), Headers: rwHeaders(""), TestAppFactory: withRule,
			ExpectedStatus: 400, ExpectedBody: rwErr(400, "Failed to create record.", "{}"),
		},
	}

	for _, s := range scenarios {
		s.Test(t)
	}
}

// TestRecordCreateConcurrentUnique races creates of the same unique value: exactly one
// wins, every other one gets validation_not_unique, and nothing is half written.
func TestRecordCreateConcurrentUnique(t *testing.T) {
	tok := newTokens(t)
	app := fixtureApp(t)
	srv := httptest.NewServer(httpapi.NewRouter(app))
	defer srv.Close()

	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api/collections/tags/records",
				strings.NewReader(`{"label":"race"}`))
			if err != nil {
				t.Error(err)
				return
			}
			for k, v := range rwHeaders(tok.admin) {
				req.Header.Set(k, v)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusBadRequest && !strings.Contains(string(body), `"label":{"code":"validation_not_unique"`) {
				t.Errorf("unexpected 400: %s", body)
			}
			statuses <- res.StatusCode
		})
	}
	wg.Wait()
	close(statuses)

	ok := 0
	for s := range statuses {
		if s == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d creates succeeded, want 1", ok)
	}
	if got := rwCount(t, app, "tags", "label = ?", "race"); got != 1 {
		t.Errorf("%d rows stored, want 1", got)
	}
}

// TestRecordCreateCustomIDPattern checks the primary key rules of an id field with a
// custom pattern: ids that differ only in case from an existing one are refused, and
// so are ids with path separators.
func TestRecordCreateCustomIDPattern(t *testing.T) {
	tok := newTokens(t)

	withPattern := func(t testing.TB) *core.App {
		app := fixtureApp(t)
		tags, err := app.FindCollectionByNameOrID(t.Context(), "tags")
		if err != nil {
			t.Fatal(err)
		}
		id := tags.Fields.GetByName("id").(*core.TextField)
		id.Pattern = `^[A-Za-z0-9/]+$`
		if err := app.SaveCollection(t.Context(), tags); err != nil {
			t.Fatal(err)
		}
		return app
	}

	scenarios := []apitest.ApiScenario{
		{
			Name: "an id differing only in case", Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: strings.NewReader(`{"id":"S2CEJ12938CF3N3","label":"case"}`), Headers: rwHeaders(tok.admin), TestAppFactory: withPattern,
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Failed to create record.", `{"id":{"code":"validation_pk_invalid","message":"The record primary key is invalid or already exists."}}`),
		},
		{
			Name: "a path separator", Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: strings.NewReader(`{"id":"abcdefg/hijklmn","label":"slash"}`), Headers: rwHeaders(tok.admin), TestAppFactory: withPattern,
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Failed to create record.", `{"id":{"code":"validation_pk_forbidden","message":"The record primary key contains forbidden characters.","params":{"forbidden":"/"}}}`),
		},
		{
			Name: "a new mixed-case id", Method: http.MethodPost, URL: "/api/collections/tags/records",
			Body: strings.NewReader(`{"id":"MixedCaseId0001","label":"mixed"}`), Headers: rwHeaders(tok.admin), TestAppFactory: withPattern,
			ExpectedStatus: 200, ExpectedContent: []string{`"id":"MixedCaseId0001"`},
		},
	}

	for _, s := range scenarios {
		s.Test(t)
	}
}
