package httpapi_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func TestRecordDelete(t *testing.T) {
	tok := newTokens(t)
	post := func(id string) string { return "/api/collections/posts/records/" + id }

	// nonCascadingComments makes comments.post a required relation without cascade.
	nonCascadingComments := func(t testing.TB) *core.App {
		app := fixtureApp(t)
		comments, err := app.FindCollectionByNameOrID(t.Context(), "comments")
		if err != nil {
			t.Fatal(err)
		}
		comments.Fields.GetByName("post").(*core.RelationField).CascadeDelete = false
		if err := app.SaveCollection(t.Context(), comments); err != nil {
			t.Fatal(err)
		}
		return app
	}

	scenarios := []apitest.ApiScenario{
		{
			Name:   "missing collection",
			Method: http.MethodDelete, URL: "/api/collections/missing/records/x", Headers: rwHeaders(tok.admin),
			ExpectedStatus: 404, ExpectedBody: rwErr(404, "Missing collection context.", "{}"),
		},
		{
			Name:   "view collection",
			Method: http.MethodDelete, URL: "/api/collections/post_stats/records/" + rwAlicePost, Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400, ExpectedBody: rwErr(400, "Unsupported collection type.", "{}"),
		},
		{
			Name:   "null deleteRule, user",
			Method: http.MethodDelete, URL: "/api/collections/comments/records/avbbx3ggtt0y8ne", Headers: rwHeaders(tok.bob),
			ExpectedStatus: 403, ExpectedBody: rwErr(403, "Only superusers can perform this action.", "{}"),
		},
		{
			Name:   "missing record",
			Method: http.MethodDelete, URL: post("missingmissingm"), Headers: rwHeaders(tok.admin),
			ExpectedStatus: 404, ExpectedBody: rwErr(404, "The requested resource wasn't found.", "{}"),
		},
		{
			Name:   "rule expression false for a guest",
			Method: http.MethodDelete, URL: post(rwAlicePost),
			ExpectedStatus: 404, ExpectedBody: rwErr(404, "The requested resource wasn't found.", "{}"),
		},
		{
			Name:   "rule expression false for another user",
			Method: http.MethodDelete, URL: post(rwAlicePost), Headers: rwHeaders(tok.bob),
			ExpectedStatus: 404, ExpectedBody: rwErr(404, "The requested resource wasn't found.", "{}"),
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := rwCount(t, app, "posts", "id = ?", rwAlicePost); n != 1 {
					t.Errorf("post deleted")
				}
			},
		},
		{
			Name:   "owner deletes; cascadeDelete comments go with the post, files too",
			Method: http.MethodDelete, URL: post(rwAlicePost), Headers: rwHeaders(tok.alice),
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				dir := filepath.Join(app.DataDir(), "storage", "pbc_1125843985", rwAlicePost)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			},
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := rwCount(t, app, "posts", "id = ?", rwAlicePost); n != 0 {
					t.Errorf("post not deleted")
				}
				if n := rwCount(t, app, "comments", "post = ?", rwAlicePost); n != 0 {
					t.Errorf("%d comments left", n)
				}
				if n := rwCount(t, app, "comments", "1 = 1"); n != 17 {
					t.Errorf("%d comments, want 17", n)
				}
				if _, err := os.Stat(filepath.Join(app.DataDir(), "storage", "pbc_1125843985", rwAlicePost)); !os.IsNotExist(err) {
					t.Errorf("storage folder left: %v", err)
				}
			},
		},
		{
			Name:   "required relation without cascade refuses the delete, changing nothing",
			Method: http.MethodDelete, URL: post(rwAlicePost), Headers: rwHeaders(tok.admin),
			TestAppFactory: nonCascadingComments,
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Failed to delete record. Make sure that the record is not part of a required relation reference.", "{}"),
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := rwCount(t, app, "posts", "id = ?", rwAlicePost); n != 1 {
					t.Errorf("post deleted")
				}
				if n := rwCount(t, app, "comments", "1 = 1"); n != 20 {
					t.Errorf("%d comments, want 20", n)
				}
			},
		},
		{
			Name:   "multi relation references lose the id",
			Method: http.MethodDelete, URL: "/api/collections/tags/records/" + rwTagGo, Headers: rwHeaders(tok.admin),
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if got := rwColumn(t, app, "posts", "tags", rwAlicePost); got != `["`+rwTagK8s+`"]` {
					t.Errorf("tags = %s", got)
				}
				if n := rwCount(t, app, "posts", "tags LIKE ?", "%"+rwTagGo+"%"); n != 0 {
					t.Errorf("%d posts still reference the tag", n)
				}
			},
		},
		{
			Name:   "single relation references are cleared",
			Method: http.MethodDelete, URL: "/api/collections/users/records/" + aliceID, Headers: rwHeaders(tok.admin),
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := rwCount(t, app, "posts", "author = ?", aliceID); n != 0 {
					t.Errorf("%d posts still authored by alice", n)
				}
				if got := rwColumn(t, app, "posts", "author", rwAlicePost); got != "" {
					t.Errorf("author = %q", got)
				}
			},
		},
		{
			Name:   "a user deletes herself",
			Method: http.MethodDelete, URL: "/api/collections/users/records/" + bobID, Headers: rwHeaders(tok.bob),
			ExpectedStatus: 204,
		},
		{
			Name:   "the only superuser cannot be deleted",
			Method: http.MethodDelete, URL: "/api/collections/_superusers/records/" + adminID, Headers: rwHeaders(tok.admin),
			ExpectedStatus: 400, ExpectedBody: rwErr(400, "You can't delete the only existing superuser.", "{}"),
		},
		{
			Name:   "a superuser with a second one; its external auths and origins go too",
			Method: http.MethodDelete, URL: "/api/collections/_superusers/records/" + adminID, Headers: rwHeaders(tok.admin),
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				if _, err := app.CreateSuperuser(t.Context(), "second@example.com", "second-pass-123"); err != nil {
					t.Fatal(err)
				}
			},
			ExpectedStatus: 204,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				for _, table := range []string{"_externalAuths", "_authOrigins"} {
					if n := rwCount(t, app, table, "recordRef = ?", adminID); n != 0 {
						t.Errorf("%d %s rows left", n, table)
					}
				}
			},
		},
	}

	for _, s := range scenarios {
		if s.TestAppFactory == nil {
			s.TestAppFactory = fixtureApp
		}
		s.Test(t)
	}
}
