package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// viewCollectionApp is the fixture with post_comments, a view of the comments whose
// post relation is inferred from the query and whose rules go through it.
func viewCollectionApp(t testing.TB) *core.App {
	app := fixtureApp(t)
	rule := "post.published = true"
	err := app.ImportCollections(t.Context(), []map[string]any{{
		"name": "post_comments", "type": "view",
		"viewQuery": "SELECT c.id, c.post, c.text FROM comments c",
		"listRule":  rule, "viewRule": rule,
	}}, false)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// sqlCount counts with a plain query, independently of the list code.
func sqlCount(t testing.TB, app *core.App, query string) int {
	t.Helper()
	var n int
	if err := app.DB().Read().QueryRowContext(t.Context(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// expectSQLTotal checks a list's totalItems against a plain count query.
func expectSQLTotal(query string) func(testing.TB, *core.App, *http.Response, []byte) {
	return func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
		t.Helper()
		var res struct{ TotalItems int }
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		if want := sqlCount(t, app, query); res.TotalItems != want || want == 0 {
			t.Errorf("totalItems = %d, want %d (non-zero)", res.TotalItems, want)
		}
	}
}

func TestViewCollectionRecords(t *testing.T) {
	tok := newTokens(t)
	auth := func(token string) map[string]string { return map[string]string{"Authorization": token} }
	const (
		publishedComments = "SELECT COUNT(*) FROM comments c JOIN posts p ON p.id = c.post WHERE p.published"
		// a comment on post 3 (unpublished) and one on post 1 (published)
		hiddenComment  = "6w0r644yktwhhma"
		visibleComment = "avbbx3ggtt0y8ne"
	)

	scenarios := []apitest.ApiScenario{
		{Name: "list: the rule filters through the inferred relation", Method: http.MethodGet,
			URL: "/api/collections/post_comments/records?perPage=1", ExpectedStatus: 200,
			ExpectedContent: []string{`"perPage":1`}, AfterTestFunc: expectSQLTotal(publishedComments)},
		{Name: "list: superusers see every row", Method: http.MethodGet,
			URL: "/api/collections/post_comments/records?perPage=1", Headers: auth(tok.admin), ExpectedStatus: 200,
			ExpectedContent: []string{`"perPage":1`}, AfterTestFunc: expectSQLTotal("SELECT COUNT(*) FROM comments")},
		{Name: "list: skipTotal", Method: http.MethodGet,
			URL: "/api/collections/post_comments/records?skipTotal=true&perPage=2", ExpectedStatus: 200,
			ExpectedContent: []string{`"page":1,"perPage":2,"totalItems":-1,"totalPages":-1`}},
		{Name: "list: filter and sort on view columns", Method: http.MethodGet,
			URL:            "/api/collections/post_comments/records?sort=-text&filter=" + urlQuery("text = 'Comment 0' || text = 'Comment 1'") + "&fields=id,text",
			Headers:        auth(tok.admin),
			ExpectedStatus: 200,
			ExpectedBody:   `{"items":[{"id":"q33grpm6803cn2u","text":"Comment 1"},{"id":"avbbx3ggtt0y8ne","text":"Comment 0"}],"page":1,"perPage":30,"totalItems":2,"totalPages":1}`},
		{Name: "list: expand the inferred relation", Method: http.MethodGet,
			URL:            "/api/collections/post_comments/records?filter=" + urlQuery("id = '"+visibleComment+"'") + "&expand=post&fields=id,post,expand.post.id,expand.post.title",
			ExpectedStatus: 200,
			ExpectedBody:   `{"items":[{"expand":{"post":{"id":"hxjy4dmsjikjbj4","title":"Post number 1"}},"id":"avbbx3ggtt0y8ne","post":"hxjy4dmsjikjbj4"}],"page":1,"perPage":30,"totalItems":1,"totalPages":1}`},
		{Name: "view: a row the rule lets through", Method: http.MethodGet,
			URL: "/api/collections/post_comments/records/" + visibleComment + "?fields=id,post,text", ExpectedStatus: 200,
			ExpectedBody: `{"id":"avbbx3ggtt0y8ne","post":"hxjy4dmsjikjbj4","text":"Comment 0"}`},
		{Name: "view: a row the rule hides is 404", Method: http.MethodGet,
			URL: "/api/collections/post_comments/records/" + hiddenComment, ExpectedStatus: 404,
			ExpectedBody: `{"data":{},"message":"The requested resource wasn't found.","status":404}`},
		{Name: "view: the same row for a superuser", Method: http.MethodGet,
			URL: "/api/collections/post_comments/records/" + hiddenComment + "?fields=id", Headers: auth(tok.admin),
			ExpectedStatus: 200, ExpectedBody: `{"id":"6w0r644yktwhhma"}`},
		{Name: "view: an unknown id is 404", Method: http.MethodGet,
			URL: "/api/collections/post_comments/records/missing", Headers: auth(tok.admin), ExpectedStatus: 404,
			ExpectedBody: `{"data":{},"message":"The requested resource wasn't found.","status":404}`},
		{Name: "no create", Method: http.MethodPost, URL: "/api/collections/post_comments/records",
			Headers: rwHeaders(tok.admin), ExpectedStatus: 400, ExpectedBody: rwErr(400, "Unsupported collection type.", "{}")},
		{Name: "no update", Method: http.MethodPatch, URL: "/api/collections/post_comments/records/" + visibleComment,
			Headers: rwHeaders(tok.admin), ExpectedStatus: 400, ExpectedBody: rwErr(400, "Unsupported collection type.", "{}")},
		{Name: "no delete", Method: http.MethodDelete, URL: "/api/collections/post_comments/records/" + visibleComment,
			Headers: rwHeaders(tok.admin), ExpectedStatus: 400, ExpectedBody: rwErr(400, "Unsupported collection type.", "{}")},
	}
	for _, s := range scenarios {
		s.TestAppFactory = viewCollectionApp
		s.Test(t)
	}
}
