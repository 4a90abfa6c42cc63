package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
)

// TestRecordsListThrottlesEmptyFilteredLists checks PocketBase's randomized throttle: a
// non-superuser's fourth empty filtered list of a collection with a list rule expression
// within 3 seconds is answered after a random pause of less than 500 ms.
func TestRecordsListThrottlesEmptyFilteredLists(t *testing.T) {
	tok := newTokens(t)
	var mu sync.Mutex
	var pauses []time.Duration
	restore := httpapi.SetListThrottleSleep(func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		pauses = append(pauses, d)
	})
	t.Cleanup(restore)

	const (
		emptyPosts = "/api/collections/posts/records?filter=title%3D%27no+such+post%27"
		somePosts  = "/api/collections/posts/records?filter=title%21%3D%27no+such+post%27"
		emptyTags  = "/api/collections/tags/records?filter=label%3D%27nope%27" // listRule ""
	)
	tests := []struct {
		name       string
		url        string
		token      string
		requests   int
		wantPauses int
	}{
		{name: "guest, empty results: the 4th and later are throttled", url: emptyPosts, requests: 5, wantPauses: 2},
		{name: "user, empty results", url: emptyPosts, token: tok.alice, requests: 4, wantPauses: 1},
		{name: "superuser, empty results", url: emptyPosts, token: tok.admin, requests: 5},
		{name: "results found", url: somePosts, requests: 5},
		{name: "no filter", url: "/api/collections/posts/records?page=99", requests: 5},
		{name: "empty list rule", url: emptyTags, requests: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(httpapi.NewRouter(fixtureApp(t)))
			defer srv.Close()
			mu.Lock()
			pauses = nil
			mu.Unlock()

			for i := range tt.requests {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.url, nil)
				if tt.token != "" {
					req.Header.Set("Authorization", tt.token)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Fatalf("request %d: status %d %s", i+1, res.StatusCode, body)
				}
			}

			mu.Lock()
			defer mu.Unlock()
			if len(pauses) != tt.wantPauses {
				t.Fatalf("%d throttled answers, want %d", len(pauses), tt.wantPauses)
			}
			for _, d := range pauses {
				if d < 0 || d >= 500*time.Millisecond {
					t.Errorf("pause %s, want within [0, 500ms)", d)
				}
			}
		})
	}
}

// withListRules returns a BeforeTestFunc setting the listRule of collections (a nil value
// is a null rule: superusers only).
func withListRules(rules map[string]*string) func(testing.TB, *core.App) {
	return func(t testing.TB, app *core.App) {
		t.Helper()
		for name, rule := range rules {
			c, err := app.FindCollectionByNameOrID(t.Context(), name)
			if err != nil {
				t.Fatal(err)
			}
			c.ListRule = rule
			if err := app.SaveCollection(t.Context(), c); err != nil {
				t.Fatalf("setting the %s listRule: %v", name, err)
			}
		}
	}
}

// TestRecordsListJoinedListRules checks PocketBase's recordsList for a non-superuser
// whose filter or sort joins another collection (a relation, a back-relation): the
// joined collection's listRule restricts the whole list (the rule or an empty id, over the
// join, AND-ed at the top level), an empty rule restricts nothing, and a null rule fails
// the request. Superusers are not restricted. Paths that join no collection (rel.id of
// a single relation, :length, :each) are never restricted.
//
// Every status, total and id list below was compared with a stock PocketBase v0.40.4
// serving the same fixture with the same rules. Fixture rules: users
// "id = @request.auth.id", posts "published = true || author = @request.auth.id", tags and
// comments "".
func TestRecordsListJoinedListRules(t *testing.T) {
	tok := newTokens(t)
	auth := func(token string) map[string]string { return map[string]string{"Authorization": token} }
	posts := func(query string) string { return "/api/collections/posts/records?" + query }
	rule := func(s string) *string { return &s }
	var (
		nullUsers    = withListRules(map[string]*string{"users": nil})
		nullTags     = withListRules(map[string]*string{"tags": nil})
		nullComments = withListRules(map[string]*string{"comments": nil})
	)
	const (
		post5ID  = "6c01v2p3z1xzw2y"
		post7ID  = "ry8exni8h8h21d1"
		post9ID  = "uage0wuaaisb3bl"
		post11ID = "h28jupnlezhvpn6"
		post2ID  = "lkfm1e29gmk6gfe"
		post4ID  = "wq6rrv9q86wumve"
		post8ID  = "wb0pypocxde64b4"
		post10ID = "qtb81lm075pd3no"
		post12ID = "uqz02x6gkyrvukb"
		goTagID  = "s2cej12938cf3n3"
	)
	alicePosts := []string{post1ID, post3ID, post5ID, post7ID, post9ID, post11ID}
	bobPosts := []string{post2ID, post4ID, post6ID, post8ID, post10ID, post12ID}

	scenarios := []apitest.ApiScenario{
		// a relation to users ("id = @request.auth.id"): only the rows whose author the
		// requester may list are left
		{Name: "sort by a relation, guest", Method: http.MethodGet, URL: posts("sort=author.name"),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":[]`}, AfterTestFunc: expectList(0)},
		{Name: "sort by a relation, user", Method: http.MethodGet, URL: posts("sort=author.name"), Headers: auth(tok.alice),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(6, alicePosts...)},
		{Name: "sort by a relation, other user", Method: http.MethodGet, URL: posts("sort=author.name"), Headers: auth(tok.bob),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(6, bobPosts...)},
		{Name: "sort by a relation, superuser", Method: http.MethodGet, URL: posts("sort=author.name"), Headers: auth(tok.admin),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(12, append(alicePosts, bobPosts...)...)},
		{Name: "filter by a relation, guest", Method: http.MethodGet, URL: posts("filter=" + urlQuery("author.name ~ 'o'")),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":[]`}, AfterTestFunc: expectList(0)},
		{Name: "filter by a relation, user", Method: http.MethodGet, URL: posts("sort=views&filter=" + urlQuery("author.name ~ 'o'")), Headers: auth(tok.bob),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(6, bobPosts...)},
		{Name: "filter by a relation, superuser", Method: http.MethodGet, URL: posts("sort=views&filter=" + urlQuery("author.name ~ 'o'")), Headers: auth(tok.admin),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(6, bobPosts...)},
		// an OR with a joined record the user may not list: the whole row goes
		{Name: "or-ed relation filter, user", Method: http.MethodGet,
			URL: posts("filter=" + urlQuery("author.name = 'Bob' || title = 'Post number 1'")), Headers: auth(tok.alice),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(1, post1ID)},
		// a two-step path is restricted by both joined collections' rules: the comments
		// of bob's posts (published or not) for bob, nothing for a guest
		{Name: "nested relation sort, guest", Method: http.MethodGet, URL: "/api/collections/comments/records?sort=-post.author.name,id&perPage=3",
			ExpectedStatus: 200, ExpectedContent: []string{`"items":[]`}, AfterTestFunc: expectList(0)},
		{Name: "nested relation sort, user", Method: http.MethodGet, URL: "/api/collections/comments/records?sort=-post.author.name,id&perPage=3",
			Headers: auth(tok.bob), ExpectedStatus: 200, ExpectedContent: []string{`"items":`},
			AfterTestFunc: expectList(9, "50rdg4wwh2u5eoa", "8x1dzgd32h0gpxe", "dw18n531h0hjsyn")},
		// comments' post is restricted by the posts rule: the comments of unpublished posts go
		{Name: "relation to a rule expression, guest", Method: http.MethodGet, URL: "/api/collections/comments/records?sort=post.title&perPage=1",
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(14, "avbbx3ggtt0y8ne")},
		{Name: "relation to a rule expression, owner", Method: http.MethodGet, URL: "/api/collections/comments/records?sort=post.title&perPage=1",
			Headers: auth(tok.alice), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(17, "avbbx3ggtt0y8ne")},
		{Name: "relation to a rule expression, superuser", Method: http.MethodGet, URL: "/api/collections/comments/records?sort=post.title&perPage=1",
			Headers: auth(tok.admin), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(20, "avbbx3ggtt0y8ne")},

		// an empty rule ("") restricts nothing
		{Name: "multiple relation to an empty rule, guest", Method: http.MethodGet, URL: posts("perPage=1&filter=" + urlQuery("tags.label ?= 'go'")),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(8)},
		{Name: "back-relation to an empty rule, guest", Method: http.MethodGet, URL: posts("filter=" + urlQuery("comments_via_post.text != ''")),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(5)},
		{Name: "back-relation to an empty rule, superuser", Method: http.MethodGet, URL: posts("filter=" + urlQuery("comments_via_post.text != ''")),
			Headers: auth(tok.admin), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(7)},

		// back-relations to posts: only the posts the requester may list count
		{Name: "back-relation to a rule expression, guest", Method: http.MethodGet,
			URL:            "/api/collections/tags/records?filter=" + urlQuery("posts_via_tags.published ?= false"),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":[]`}, AfterTestFunc: expectList(0)},
		{Name: "back-relation to a rule expression, owner of an unpublished post", Method: http.MethodGet,
			URL:     "/api/collections/tags/records?filter=" + urlQuery("posts_via_tags.published ?= false"),
			Headers: auth(tok.alice), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(1, goTagID)},
		{Name: "back-relation path to users, user", Method: http.MethodGet, URL: "/api/collections/users/records?sort=comments_via_author.post.title",
			Headers: auth(tok.alice), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(1, aliceID)},

		// a null rule: superusers only, a non-superuser's join is a 400
		{Name: "sort by a relation to a null rule, guest", Method: http.MethodGet, URL: posts("sort=author.name"),
			BeforeTestFunc: nullUsers, ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "filter by a nested relation to a null rule, user", Method: http.MethodGet,
			URL:            "/api/collections/comments/records?filter=" + urlQuery("post.author.name = 'Bob'"),
			BeforeTestFunc: nullUsers, Headers: auth(tok.alice), ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "sort by a relation to a null rule, superuser", Method: http.MethodGet, URL: posts("sort=author.name"),
			BeforeTestFunc: nullUsers, Headers: auth(tok.admin), ExpectedStatus: 200, ExpectedContent: []string{`"items":`},
			AfterTestFunc: expectList(12, append(alicePosts, bobPosts...)...)},
		{Name: "single relation id joins nothing, null rule, guest", Method: http.MethodGet,
			URL:            posts("sort=views&filter=" + urlQuery("author.id = '"+aliceID+"'")),
			BeforeTestFunc: nullUsers, ExpectedStatus: 200, ExpectedContent: []string{`"items":`},
			AfterTestFunc: expectList(4, post1ID, post5ID, post7ID, post11ID)},
		{Name: "multiple relation to a null rule, user", Method: http.MethodGet, URL: posts("filter=" + urlQuery("tags.label ?= 'go'")),
			BeforeTestFunc: nullTags, Headers: auth(tok.alice), ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "multiple relation id still joins, null rule, guest", Method: http.MethodGet, URL: posts("filter=" + urlQuery("tags.id ?= '"+goTagID+"'")),
			BeforeTestFunc: nullTags, ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "multiple relation to a null rule, superuser", Method: http.MethodGet, URL: posts("perPage=1&filter=" + urlQuery("tags.label ?= 'go'")),
			BeforeTestFunc: nullTags, Headers: auth(tok.admin), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(12)},
		{Name: ":length and :each join no collection, null rule, guest", Method: http.MethodGet,
			URL:            posts("sort=views&filter=" + urlQuery("tags:length > 2 && tags:each ?= '"+goTagID+"'")),
			BeforeTestFunc: nullTags, ExpectedStatus: 200, ExpectedContent: []string{`"items":`},
			AfterTestFunc: expectList(4, post2ID, post5ID, post8ID, post11ID)},
		{Name: "back-relation to a null rule, guest", Method: http.MethodGet, URL: posts("filter=" + urlQuery("comments_via_post.text != ''")),
			BeforeTestFunc: nullComments, ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "back-relation sort to a null rule, user", Method: http.MethodGet, URL: posts("sort=-comments_via_post.created"),
			BeforeTestFunc: nullComments, Headers: auth(tok.alice), ExpectedStatus: 400, ExpectedBody: badRequestBody},
		{Name: "back-relation sort to a null rule, superuser", Method: http.MethodGet, URL: posts("sort=-comments_via_post.created&perPage=2"),
			BeforeTestFunc: nullComments, Headers: auth(tok.admin), ExpectedStatus: 200, ExpectedContent: []string{`"items":`},
			AfterTestFunc: expectList(12, post7ID, post6ID)},

		// joined rules with joins of their own, and a trailing comment
		{Name: "joined rules with joins, guest", Method: http.MethodGet, URL: posts("filter=" + urlQuery("comments_via_post.text ?~ 'e'")),
			BeforeTestFunc: withListRules(map[string]*string{"comments": rule("post.published = true && author.name != ''")}),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(5)},
		{Name: "joined rule with an auth join and a comment, guest", Method: http.MethodGet, URL: posts("sort=tags.label,-id"),
			BeforeTestFunc: withListRules(map[string]*string{"tags": rule("label != 'sqlite' && @request.auth.name != '' // users only")}),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":[]`}, AfterTestFunc: expectList(0)},
		{Name: "joined rule with an auth join and a comment, user", Method: http.MethodGet, URL: posts("filter=" + urlQuery("tags.label = 'go'")),
			BeforeTestFunc: withListRules(map[string]*string{"tags": rule("label != 'sqlite' && @request.auth.name != '' // users only")}),
			Headers:        auth(tok.bob), ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(2, post6ID, post12ID)},

		// the collection's own rule joins users without restriction; the client's sort
		// reuses that join, which then is restricted
		{Name: "rule join reused by the sort, guest", Method: http.MethodGet, URL: posts("sort=author.name"),
			BeforeTestFunc: withListRules(map[string]*string{"posts": rule("author.name != '' && (published = true || author = @request.auth.id)")}),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":[]`}, AfterTestFunc: expectList(0)},
		{Name: "rule join alone, guest", Method: http.MethodGet, URL: posts("sort=views&perPage=1"),
			BeforeTestFunc: withListRules(map[string]*string{"posts": rule("author.name != '' && (published = true || author = @request.auth.id)")}),
			ExpectedStatus: 200, ExpectedContent: []string{`"items":`}, AfterTestFunc: expectList(8, post1ID)},
	}

	for _, s := range scenarios {
		s.TestAppFactory = fixtureApp
		s.Test(t)
	}
}
