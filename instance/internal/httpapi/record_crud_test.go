package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

const (
	missingCollectionBody = `{"data":{},"message":"Missing collection context.","status":404}`
	superusersOnlyBody    = `{"data":{},"message":"Only superusers can perform this action.","status":403}`
	badRequestBody        = `{"data":{},"message":"Something went wrong while processing your request.","status":400}`

	// fixture posts: post 3 is alice's and unpublished, post 1 is alice's and published
	post1ID = "hxjy4dmsjikjbj4"
	post3ID = "l6ul61ucsisx6po"
	post6ID = "pboh9no5gjbjtkf" // bob's, unpublished
)

// expectList checks a list response's totals and item ids (in order).
func expectList(totalItems int, ids ...string) func(testing.TB, *core.App, *http.Response, []byte) {
	return func(t testing.TB, _ *core.App, _ *http.Response, body []byte) {
		t.Helper()
		var res struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			TotalItems int `json:"totalItems"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatalf("decoding %s: %v", body, err)
		}
		if res.TotalItems != totalItems {
			t.Errorf("totalItems = %d, want %d", res.TotalItems, totalItems)
		}
		got := make([]string, len(res.Items))
		for i, it := range res.Items {
			got[i] = it.ID
		}
		if ids != nil && strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Errorf("ids = %v, want %v", got, ids)
		}
	}
}

func TestRecordsList(t *testing.T) {
	tok := newTokens(t)
	auth := func(token string) map[string]string { return map[string]string{"Authorization": token} }

	scenarios := []apitest.ApiScenario{
		{Name: "missing collection", Method: http.MethodGet, URL: "/api/collections/missing/records",
			ExpectedStatus: 404, ExpectedBody: missingCollectionBody},
		{Name: "null listRule, guest", Method: http.MethodGet, URL: "/api/collections/_superusers/records",
			ExpectedStatus: 403, ExpectedBody: superusersOnlyBody},
		{Name: "null listRule, user", Method: http.MethodGet, URL: "/api/collections/_superusers/records",
			Headers: auth(tok.alice), ExpectedStatus: 403, ExpectedBody: superusersOnlyBody},
		{Name: "null listRule, superuser", Method: http.MethodGet, URL: "/api/collections/_superusers/records",
			Headers: auth(tok.admin), ExpectedStatus: 200, AfterTestFunc: expectList(1, adminID),
			ExpectedContent: []string{`"email":"admin@example.com"`}},
		{Name: "collection by id, any case of name", Method: http.MethodGet, URL: "/api/collections/PBC_1219621782/records",
			ExpectedStatus: 404, ExpectedBody: missingCollectionBody},
		{Name: "collection name is case-insensitive", Method: http.MethodGet, URL: "/api/collections/TAGS/records?sort=label",
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(3, "s2cej12938cf3n3", "1f4pvfozmqdkis3", "4mc6mb7m44flme3")},
		{Name: "rule expression filters rows for guests", Method: http.MethodGet, URL: "/api/collections/posts/records?perPage=1",
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(8)},
		{Name: "rule expression filters rows for the owner", Method: http.MethodGet, URL: "/api/collections/posts/records?perPage=1",
			Headers: auth(tok.alice), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(10)},
		{Name: "superusers bypass the rule", Method: http.MethodGet, URL: "/api/collections/posts/records?perPage=1",
			Headers: auth(tok.admin), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(12)},
		{Name: "guest filter by @request", Method: http.MethodGet, URL: "/api/collections/posts/records?filter=@request.auth.id=''",
			ExpectedStatus: 403, ExpectedBody: `{"data":{},"message":"Only superusers can filter by @request.","status":403}`},
		{Name: "user sort by @collection", Method: http.MethodGet, URL: "/api/collections/posts/records?sort=@collection.tags.label",
			Headers: auth(tok.alice), ExpectedStatus: 403, ExpectedBody: `{"data":{},"message":"Only superusers can filter by @collection.","status":403}`},
		{Name: "superuser filter by @collection", Method: http.MethodGet,
			URL:     "/api/collections/posts/records?filter=" + urlQuery("@collection.tags.label ?= 'sqlite' && @collection.tags.id ?= tags:each && views > 100"),
			Headers: auth(tok.admin), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(1, "h28jupnlezhvpn6")},
		{Name: "invalid filter", Method: http.MethodGet, URL: "/api/collections/posts/records?filter=" + urlQuery("title ="),
			ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "unknown filter field", Method: http.MethodGet, URL: "/api/collections/posts/records?filter=nope=1",
			ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "unknown sort field", Method: http.MethodGet, URL: "/api/collections/posts/records?sort=nope",
			ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "bad page", Method: http.MethodGet, URL: "/api/collections/posts/records?page=abc",
			ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "bad skipTotal", Method: http.MethodGet, URL: "/api/collections/posts/records?skipTotal=bad",
			ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "perPage clamped, page 0 is 1", Method: http.MethodGet, URL: "/api/collections/tags/records?perPage=5000&page=0&fields=id",
			ExpectedStatus: 200, ExpectedContent: []string{`"page":1,"perPage":1000,"totalItems":3,"totalPages":1`}},
		{Name: "skipTotal", Method: http.MethodGet, URL: "/api/collections/tags/records?skipTotal=1",
			ExpectedStatus: 200, ExpectedContent: []string{`"totalItems":-1,"totalPages":-1`}},
		{Name: "hidden field filter by a user", Method: http.MethodGet, URL: "/api/collections/users/records?filter=" + urlQuery("tokenKey != ''"),
			Headers: auth(tok.alice), ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "hidden field filter by a superuser", Method: http.MethodGet, URL: "/api/collections/users/records?filter=" + urlQuery("tokenKey != ''"),
			Headers: auth(tok.admin), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(2)},
		{Name: "relation filter joins only the records the user may list", Method: http.MethodGet,
			URL:     "/api/collections/posts/records?filter=" + urlQuery("author.name = 'Bob'"),
			Headers: auth(tok.alice), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(0)},
		{Name: "relation filter, superuser", Method: http.MethodGet,
			URL:     "/api/collections/posts/records?filter=" + urlQuery("author.name = 'Bob'"),
			Headers: auth(tok.admin), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(6)},
		{Name: "hidden email is not matched", Method: http.MethodGet,
			URL:     "/api/collections/users/records?filter=" + urlQuery("email ~ 'example.com'"),
			Headers: auth(tok.bob), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(0)},
		{Name: "multi relation any-match and back-relation", Method: http.MethodGet,
			URL:            "/api/collections/posts/records?sort=views&filter=" + urlQuery("tags.label ?= 'sqlite' && comments_via_post.text ?~ 'Comment 1'"),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(2, "lkfm1e29gmk6gfe", "6c01v2p3z1xzw2y")},
		{Name: "modifiers :length, :each and :lower", Method: http.MethodGet,
			URL:            "/api/collections/posts/records?sort=views&filter=" + urlQuery("tags:length = 3 && channels:each ?= 'web' && title:lower ~ 'post number 1'"),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(1, "h28jupnlezhvpn6")},
		{Name: "json path and geoPoint", Method: http.MethodGet,
			URL:            "/api/collections/posts/records?sort=views&filter=" + urlQuery("meta.nested.even = true && location.lon > 10.5"),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(2, "wb0pypocxde64b4", "qtb81lm075pd3no")},
		{Name: "fields picker on items", Method: http.MethodGet, URL: "/api/collections/tags/records?sort=label&fields=label",
			ExpectedStatus: 200, ExpectedBody: `{"items":[{"label":"go"},{"label":"kubernetes"},{"label":"sqlite"}],"page":1,"perPage":30,"totalItems":3,"totalPages":1}`},
		{Name: "invalid fields modifier", Method: http.MethodGet, URL: "/api/collections/tags/records?fields=label:nope(1)",
			ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "expand unknown path is ignored", Method: http.MethodGet, URL: "/api/collections/tags/records?sort=label&perPage=1&expand=nope",
			ExpectedStatus: 200, NotExpectedContent: []string{`"expand"`}},
		{Name: "expand of a relation the guest may not view", Method: http.MethodGet,
			URL:            "/api/collections/posts/records?sort=views&perPage=1&expand=author&fields=id,expand",
			ExpectedStatus: 200, ExpectedContent: []string{`"items":[{"expand":{},"id":"hxjy4dmsjikjbj4"}]`}},
		{Name: "HEAD", Method: http.MethodHead, URL: "/api/collections/tags/records", ExpectedStatus: 200},
	}
	for _, s := range scenarios {
		s.TestAppFactory = fixtureApp
		s.Test(t)
	}
}

func TestRecordView(t *testing.T) {
	tok := newTokens(t)
	auth := func(token string) map[string]string { return map[string]string{"Authorization": token} }

	scenarios := []apitest.ApiScenario{
		{Name: "missing collection", Method: http.MethodGet, URL: "/api/collections/missing/records/" + post1ID,
			ExpectedStatus: 404, ExpectedBody: missingCollectionBody},
		{Name: "null viewRule, guest", Method: http.MethodGet, URL: "/api/collections/_superusers/records/" + adminID,
			ExpectedStatus: 403, ExpectedBody: superusersOnlyBody},
		{Name: "null viewRule, superuser", Method: http.MethodGet, URL: "/api/collections/_superusers/records/" + adminID,
			Headers: auth(tok.admin), ExpectedStatus: 200, ExpectedBody: adminRecordJSON},
		{Name: "missing record", Method: http.MethodGet, URL: "/api/collections/posts/records/missing",
			ExpectedStatus: 404, ExpectedBody: notFoundBody},
		{Name: "rule fails: 404", Method: http.MethodGet, URL: "/api/collections/posts/records/" + post3ID,
			ExpectedStatus: 404, ExpectedBody: notFoundBody},
		{Name: "rule passes for the owner", Method: http.MethodGet, URL: "/api/collections/posts/records/" + post3ID,
			Headers: auth(tok.alice), ExpectedStatus: 200, ExpectedContent: []string{`"id":"` + post3ID + `"`, `"published":false`}},
		{Name: "another user's unpublished post", Method: http.MethodGet, URL: "/api/collections/posts/records/" + post6ID,
			Headers: auth(tok.alice), ExpectedStatus: 404, ExpectedBody: notFoundBody},
		{Name: "own user record shows the email", Method: http.MethodGet, URL: "/api/collections/users/records/" + bobID,
			Headers: auth(tok.bob), ExpectedStatus: 200, ExpectedBody: bobRecordJSON},
		{Name: "another user record", Method: http.MethodGet, URL: "/api/collections/users/records/" + bobID,
			Headers: auth(tok.alice), ExpectedStatus: 404, ExpectedBody: notFoundBody},
		{Name: "superuser sees hidden emails", Method: http.MethodGet, URL: "/api/collections/users/records/" + bobID,
			Headers: auth(tok.admin), ExpectedStatus: 200, ExpectedBody: bobRecordJSON},
		{Name: "view collection record", Method: http.MethodGet, URL: "/api/collections/post_stats/records/" + post1ID,
			ExpectedStatus: 200, ExpectedBody: `{"collectionId":"pbc_240029401","collectionName":"post_stats","comments":3,"id":"hxjy4dmsjikjbj4","title":"Post number 1"}`},
		{Name: "nested expand with back-relation", Method: http.MethodGet,
			URL:     "/api/collections/posts/records/" + post1ID + "?expand=comments_via_post.author,tags&fields=id,expand.comments_via_post.text,expand.comments_via_post.expand.author.name,expand.tags.label",
			Headers: auth(tok.admin), ExpectedStatus: 200,
			ExpectedBody: `{"expand":{"comments_via_post":[{"expand":{"author":{"name":"Bob"}},"text":"Comment 0"},{"expand":{"author":{"name":"Alice"}},"text":"Comment 7"},{"expand":{"author":{"name":"Bob"}},"text":"Comment 14"}],"tags":[{"label":"go"},{"label":"kubernetes"}]},"id":"hxjy4dmsjikjbj4"}`},
		{Name: "excerpt modifier", Method: http.MethodGet, URL: "/api/collections/posts/records/" + post1ID + "?fields=body:excerpt(7,true)",
			ExpectedStatus: 200, ExpectedBody: `{"body":"Body of..."}`},
		{Name: "auth response with fields", Method: http.MethodPost, URL: "/api/collections/users/auth-with-password?fields=record.email",
			Body: strings.NewReader(`{"identity":"alice@example.com","password":"alice-pass-123"}`), Headers: map[string]string{"Content-Type": "application/json"},
			ExpectedStatus: 200, ExpectedBody: `{"record":{"email":"alice@example.com"}}`},
		{Name: "auth response with expand, as the authenticated record", Method: http.MethodPost,
			URL:  "/api/collections/users/auth-with-password?expand=posts_via_author&fields=record.expand.posts_via_author.title",
			Body: strings.NewReader(`{"identity":"alice@example.com","password":"alice-pass-123"}`), Headers: map[string]string{"Content-Type": "application/json"},
			ExpectedStatus: 200,
			ExpectedBody: `{"record":{"expand":{"posts_via_author":[{"title":"Post number 1"},{"title":"Post number 3"},{"title":"Post number 5"},` +
				`{"title":"Post number 7"},{"title":"Post number 9"},{"title":"Post number 11"}]}}}`},
		{Name: "auth refresh with expand", Method: http.MethodPost, URL: "/api/collections/users/auth-refresh?expand=posts_via_author&fields=record.expand.posts_via_author.views",
			Headers: auth(tok.bob), ExpectedStatus: 200,
			ExpectedBody: `{"record":{"expand":{"posts_via_author":[{"views":20},{"views":40},{"views":60},{"views":80},{"views":100},{"views":120}]}}}`},
	}
	for _, s := range scenarios {
		s.TestAppFactory = fixtureApp
		s.Test(t)
	}
}

func urlQuery(s string) string { return url.QueryEscape(s) }
