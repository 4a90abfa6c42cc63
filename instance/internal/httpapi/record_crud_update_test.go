package httpapi_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func TestRecordUpdate(t *testing.T) {
	tok := newTokens(t)
	post := func(id string) string { return "/api/collections/posts/records/" + id }

	scenarios := []apitest.ApiScenario{
		{
			Name:   "missing collection",
			Method: http.MethodPatch, URL: "/api/collections/missing/records/x",
			Body: strings.NewReader(`{}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 404, ExpectedBody: rwErr(404, "Missing or invalid collection context.", "{}"),
		},
		{
			Name:   "view collection",
			Method: http.MethodPatch, URL: "/api/collections/post_stats/records/" + rwAlicePost,
			Body: strings.NewReader(`{}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400, ExpectedBody: rwErr(400, "Unsupported collection type.", "{}"),
		},
		{
			Name:   "null updateRule, user",
			Method: http.MethodPatch, URL: "/api/collections/tags/records/" + rwTagGo,
			Body: strings.NewReader(`{"label":"golang"}`), Headers: rwHeaders(tok.alice),
			ExpectedStatus: 403, ExpectedBody: rwErr(403, "Only superusers can perform this action.", "{}"),
		},
		{
			Name:   "missing record",
			Method: http.MethodPatch, URL: post("missingmissingm"),
			Body: strings.NewReader(`{}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 404, ExpectedBody: rwErr(404, "The requested resource wasn't found.", "{}"),
		},
		{
			Name:   "rule expression false for a guest",
			Method: http.MethodPatch, URL: post(rwAlicePost),
			Body: strings.NewReader(`{"title":"Hijacked"}`), Headers: rwHeaders(""),
			ExpectedStatus: 404, ExpectedBody: rwErr(404, "The requested resource wasn't found.", "{}"),
		},
		{
			Name:   "rule expression false for another user",
			Method: http.MethodPatch, URL: post(rwAlicePost),
			Body: strings.NewReader(`{"title":"Hijacked"}`), Headers: rwHeaders(tok.bob),
			ExpectedStatus: 404, ExpectedBody: rwErr(404, "The requested resource wasn't found.", "{}"),
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if got := rwColumn(t, app, "posts", "title", rwAlicePost); got != "Post number 1" {
					t.Errorf("title changed to %q", got)
				}
			},
		},
		{
			Name:   "owner updates; only the sent keys change, updated is stamped",
			Method: http.MethodPatch, URL: post(rwAlicePost),
			Body:    strings.NewReader(`{"title":"Renamed","tags-":"` + rwTagGo + `","views+":5,"created":"2000-01-01 00:00:00.000Z","unknown":1}`),
			Headers: rwHeaders(tok.alice), ExpectedStatus: 200,
			ExpectedContent: []string{
				`"author":"` + aliceID + `"`, `"channels":["web","mobile"]`, `"id":"` + rwAlicePost + `"`,
				`"status":"review"`, `"tags":["` + rwTagK8s + `"]`, `"title":"Renamed"`, `"views":15`,
			},
			NotExpectedContent: []string{`"created":"2000`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
				rec := rwRecord(t, body)
				if rec["created"] == rec["updated"] {
					t.Errorf("updated was not stamped: %v", rec["updated"])
				}
				if got := rwColumn(t, app, "posts", "created", rwAlicePost); got != rec["created"] {
					t.Errorf("created changed to %q", got)
				}
			},
		},
		{
			Name:   "validation failure",
			Method: http.MethodPatch, URL: post(rwAlicePost),
			Body: strings.NewReader(`{"title":"","tags+":"missingmissingm","rating":-1}`), Headers: rwHeaders(tok.alice),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to update record.", `{`+
				`"rating":{"code":"validation_min_number_constraint","message":"Must be greater or equal than 0.","params":{"min":0}},`+
				`"tags":{"code":"validation_missing_rel_records","message":"Failed to find all relation records with the provided ids."},`+
				`"title":{"code":"validation_required","message":"Cannot be blank."}}`),
		},
		{
			Name:   "the id cannot change",
			Method: http.MethodPatch, URL: post(rwAlicePost),
			Body: strings.NewReader(`{"id":"abcdefghij12345"}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Failed to update record.", `{"id":{"code":"validation_pk_change","message":"The record primary key cannot be changed."}}`),
		},
		{
			Name:   "superuser bypasses the rule; dropped files are deleted, kept ones stay",
			Method: http.MethodPatch, URL: post(rwAlicePost),
			Body: strings.NewReader(`{"cover":"","attachments":["notes1_ww0dglkzj2.txt"],"published":false}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 200, ExpectedContent: []string{`"attachments":["notes1_ww0dglkzj2.txt"]`, `"cover":""`, `"published":false`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				dir := filepath.Join(app.DataDir(), "storage", "pbc_1125843985", rwAlicePost)
				for name, want := range map[string]bool{
					"cover1_92p15tvmg7.png": false, "cover1_92p15tvmg7.png.attrs": false,
					"notes1_ww0dglkzj2.txt": true, "notes1_ww0dglkzj2.txt.attrs": true,
				} {
					if _, err := os.Stat(filepath.Join(dir, name)); (err == nil) != want {
						t.Errorf("%s exists = %v, want %v", name, err == nil, want)
					}
				}
			},
		},
		{
			Name:   "unknown file names cannot be added",
			Method: http.MethodPatch, URL: post(rwAlicePost),
			Body: strings.NewReader(`{"attachments+":"other.txt"}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to update record.",
				`{"attachments":{"code":"validation_invalid_file","message":"Invalid new files: [other.txt].","params":{"invalidFiles":["other.txt"]}}}`),
		},
		{
			Name:   "a JSON null body changes nothing but the updated stamp",
			Method: http.MethodPatch, URL: post(rwAlicePost),
			Body: strings.NewReader(`null`), Headers: rwHeaders(tok.alice),
			ExpectedStatus: 200, ExpectedContent: []string{`"title":"Post number 1"`},
		},
		{
			Name:   "unique index violation",
			Method: http.MethodPatch, URL: "/api/collections/tags/records/" + rwTagGo,
			Body: strings.NewReader(`{"label":"kubernetes"}`), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Failed to update record.", `{"label":{"code":"validation_not_unique","message":"Value must be unique."}}`),
		},
	}

	for _, s := range scenarios {
		s.TestAppFactory = fixtureApp
		s.Test(t)
	}
}

func TestRecordUpdateAuth(t *testing.T) {
	tok := newTokens(t)
	alice := "/api/collections/users/records/" + aliceID
	bob := "/api/collections/users/records/" + bobID

	scenarios := []apitest.ApiScenario{
		{
			Name:   "another user's record is not found",
			Method: http.MethodPatch, URL: bob,
			Body: strings.NewReader(`{"name":"Mallory"}`), Headers: rwHeaders(tok.alice),
			ExpectedStatus: 404, ExpectedBody: rwErr(404, "The requested resource wasn't found.", "{}"),
		},
		{
			Name:   "own record; the email is shown to its owner",
			Method: http.MethodPatch, URL: bob,
			Body: strings.NewReader(`{"name":"Robert","tokenKey":"ignored-because-hidden-ignored-because-hidden"}`), Headers: rwHeaders(tok.bob),
			ExpectedStatus:     200,
			ExpectedContent:    []string{`"email":"bob@example.com"`, `"name":"Robert"`, `"verified":false`},
			NotExpectedContent: []string{"tokenKey"},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if got := rwColumn(t, app, "users", "tokenKey", bobID); strings.HasPrefix(got, "ignored") {
					t.Errorf("hidden tokenKey was set by a user")
				}
			},
		},
		{
			Name:   "password change needs oldPassword",
			Method: http.MethodPatch, URL: alice,
			Body: strings.NewReader(`{"password":"alice-new-pass","passwordConfirm":"alice-new-pass"}`), Headers: rwHeaders(tok.alice),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Failed to update record.", `{"oldPassword":{"code":"validation_required","message":"Cannot be blank."}}`),
		},
		{
			Name:   "wrong oldPassword",
			Method: http.MethodPatch, URL: alice,
			Body:    strings.NewReader(`{"password":"alice-new-pass","passwordConfirm":"alice-new-pass","oldPassword":"wrong-pass-123"}`),
			Headers: rwHeaders(tok.alice), ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to update record.", `{"oldPassword":{"code":"validation_invalid_old_password","message":"Missing or invalid old password."}}`),
		},
		{
			Name:   "password change with oldPassword renews the tokenKey",
			Method: http.MethodPatch, URL: alice,
			Body:    strings.NewReader(`{"password":"alice-new-pass","passwordConfirm":"alice-new-pass","oldPassword":"alice-pass-123"}`),
			Headers: rwHeaders(tok.alice), ExpectedStatus: 200,
			ExpectedContent: []string{`"id":"` + aliceID + `"`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				users, err := app.FindCachedCollectionByNameOrID(t.Context(), "users")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := app.AuthWithPassword(t.Context(), users, "alice@example.com", "alice-new-pass", ""); err != nil {
					t.Errorf("new password rejected: %v", err)
				}
				if _, err := app.FindAuthRecordByToken(t.Context(), tok.alice, core.TokenTypeAuth); err == nil {
					t.Errorf("the old token still authenticates")
				}
			},
		},
		{
			Name:   "users cannot change their email or verified flag directly",
			Method: http.MethodPatch, URL: alice,
			Body: strings.NewReader(`{"email":"alice2@example.com","verified":false}`), Headers: rwHeaders(tok.alice),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Failed to update record.",
				`{"email":{"code":"validation_values_mismatch","message":"Values don't match."},"verified":{"code":"validation_values_mismatch","message":"Values don't match."}}`),
		},
		{
			Name:   "superusers can, without oldPassword",
			Method: http.MethodPatch, URL: bob,
			Body:    strings.NewReader(`{"email":"robert@example.com","verified":true,"password":"bob-new-pass-1","passwordConfirm":"bob-new-pass-1"}`),
			Headers: rwHeaders(tok.admin), ExpectedStatus: 200,
			ExpectedContent: []string{`"email":"robert@example.com"`, `"verified":true`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if _, err := app.FindAuthRecordByToken(t.Context(), tok.bob, core.TokenTypeAuth); err == nil {
					t.Errorf("bob's old token still authenticates")
				}
			},
		},
		{
			Name:   "superuser password change drops the auth origins",
			Method: http.MethodPatch, URL: "/api/collections/_superusers/records/" + adminID,
			Body:    strings.NewReader(`{"password":"admin-new-pass","passwordConfirm":"admin-new-pass"}`),
			Headers: rwHeaders(tok.admin), ExpectedStatus: 200,
			ExpectedContent: []string{`"email":"admin@example.com"`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := rwCount(t, app, "_authOrigins", "recordRef = ?", adminID); n != 0 {
					t.Errorf("%d auth origins left", n)
				}
			},
		},
	}

	for _, s := range scenarios {
		s.TestAppFactory = fixtureApp
		s.Test(t)
	}
}
