package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// collectionsApp returns an app factory (on a copy of the fixture, or an empty directory
// with a new superuser) and the headers that authenticate as its superuser, or as the
// fixture's alice (users) when asUser is set. The headers are filled when the app is
// opened.
func collectionsApp(fixture, asUser bool) (func(t testing.TB) *core.App, map[string]string) {
	headers := map[string]string{}
	factory := func(t testing.TB) *core.App {
		t.Helper()
		dir := ""
		if fixture {
			dir = apitest.CopyFixture(t)
		}
		app := apitest.NewTestApp(t, dir)

		collection, email := core.CollectionNameSuperusers, "admin@example.com"
		if !fixture {
			email = "root@example.com"
			if _, err := app.UpsertSuperuser(t.Context(), email, "root-pass-123"); err != nil {
				t.Fatal(err)
			}
		}
		if asUser {
			collection, email = core.CollectionNameUsers, "alice@example.com"
		}

		var id string
		err := app.DB().Read().QueryRowContext(t.Context(),
			"SELECT id FROM `"+collection+"` WHERE email = ?", email).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		record, err := app.FindRecordByID(t.Context(), collection, id)
		if err != nil {
			t.Fatal(err)
		}
		token, err := core.NewAuthToken(record)
		if err != nil {
			t.Fatal(err)
		}
		headers["Authorization"] = token

		return app
	}

	return factory, headers
}

// collectionsFixtureBody reads an expected response body of the fixture.
func collectionsFixtureBody(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(apitest.ExpectedDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func collectionBody(s string) *strings.Reader { return strings.NewReader(s) }

var collectionJSONHeaders = map[string]string{"Content-Type": "application/json"}

func withJSONType(h map[string]string) map[string]string {
	// note: the factory fills h later, so the JSON header is added to the same map.
	h["Content-Type"] = "application/json"
	return h
}

func TestCollectionsAuth(t *testing.T) {
	userApp, userHeaders := collectionsApp(true, true)
	scenarios := []apitest.ApiScenario{
		{
			Name: "guest", Method: http.MethodGet, URL: "/api/collections",
			TestAppFactory: func(t testing.TB) *core.App { return apitest.NewTestApp(t, apitest.CopyFixture(t)) },
			ExpectedStatus: http.StatusUnauthorized,
			ExpectedBody:   `{"data":{},"message":"The request requires valid record authorization token.","status":401}`,
		},
		{
			Name: "users record", Method: http.MethodGet, URL: "/api/collections/meta/scaffolds",
			TestAppFactory: userApp, Headers: userHeaders,
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The authorized record is not allowed to perform this action.","status":403}`,
		},
		{
			Name: "guest import", Method: http.MethodPut, URL: "/api/collections/import", Body: collectionBody(`{}`),
			Headers:         collectionJSONHeaders,
			ExpectedStatus:  http.StatusUnauthorized,
			ExpectedContent: []string{`"status":401`},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestCollectionsList(t *testing.T) {
	app := func() (func(t testing.TB) *core.App, map[string]string) { return collectionsApp(true, false) }

	a1, h1 := app()
	a2, h2 := app()
	a3, h3 := app()
	a4, h4 := app()
	a5, h5 := app()
	a6, h6 := app()
	a7, h7 := app()
	a8, h8 := app()
	scenarios := []apitest.ApiScenario{
		{
			Name: "the fixture's list, byte for byte", Method: http.MethodGet,
			URL:            "/api/collections?sort=name&perPage=100",
			TestAppFactory: a1, Headers: h1,
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   collectionsFixtureBody(t, "collections-list.body"),
		},
		{
			Name: "paging, descending sort, skipTotal", Method: http.MethodGet,
			URL:            "/api/collections?sort=-name&perPage=2&page=2&skipTotal=1",
			TestAppFactory: a2, Headers: h2,
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				`"name":"post_stats"`, `"name":"comments"`,
				`"page":2,"perPage":2,"totalItems":-1,"totalPages":-1}`,
			},
			NotExpectedContent: []string{`"name":"users"`},
		},
		{
			Name: "default page size and storage order", Method: http.MethodGet, URL: "/api/collections?page=0&perPage=0",
			TestAppFactory: a3, Headers: h3,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"items":[{"id":"pbc_2279338944",`, `"page":1,"perPage":30,"totalItems":10,"totalPages":1}`},
		},
		{
			Name: "unknown sort field", Method: http.MethodGet, URL: "/api/collections?sort=fields",
			TestAppFactory: a4, Headers: h4,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Something went wrong while processing your request.","status":400}`,
		},
		{
			Name: "bad page", Method: http.MethodGet, URL: "/api/collections?page=abc",
			TestAppFactory: a5, Headers: h5,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"status":400`},
		},
		{
			Name: "filter", Method: http.MethodGet,
			URL:            "/api/collections?filter=" + url.QueryEscape(`system = false && (type = "auth" || name ~ "post")`) + "&sort=-created",
			TestAppFactory: a6, Headers: h6,
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				`{"items":[{"id":"pbc_240029401",`, `"page":1,"perPage":30,"totalItems":3,"totalPages":1}`,
			},
			NotExpectedContent: []string{`"name":"_superusers"`, `"id":"pbc_1219621782"`},
		},
		{
			Name: "filter on a field that is not allowed", Method: http.MethodGet,
			URL:            "/api/collections?filter=" + url.QueryEscape(`fields ~ "x"`),
			TestAppFactory: a7, Headers: h7,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Something went wrong while processing your request.","status":400}`,
		},
		{
			// the picker applies to each item of the list, as for records
			Name: "fields", Method: http.MethodGet, URL: "/api/collections?sort=name&perPage=2&fields=" + url.QueryEscape("name,type"),
			TestAppFactory: a8, Headers: h8,
			ExpectedStatus: http.StatusOK,
			ExpectedBody: `{"items":[{"name":"_authOrigins","type":"base"},{"name":"_externalAuths","type":"base"}],` +
				`"page":1,"perPage":2,"totalItems":10,"totalPages":5}`,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

// fixtureItemJSON returns the expected JSON of one collection of the fixture list.
func fixtureItemJSON(t *testing.T, name string) string {
	t.Helper()
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(collectionsFixtureBody(t, "collections-list.body")), &list); err != nil {
		t.Fatal(err)
	}
	for _, item := range list.Items {
		var head struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(item, &head); err != nil {
			t.Fatal(err)
		}
		if head.Name == name {
			return string(item)
		}
	}
	t.Fatalf("no collection %s in the fixture", name)

	return ""
}

func TestCollectionView(t *testing.T) {
	a1, h1 := collectionsApp(true, false)
	a2, h2 := collectionsApp(true, false)
	a3, h3 := collectionsApp(true, false)
	scenarios := []apitest.ApiScenario{
		{
			Name: "by name in another case", Method: http.MethodGet, URL: "/api/collections/POSTS",
			TestAppFactory: a1, Headers: h1,
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   fixtureItemJSON(t, "posts"),
		},
		{
			Name: "by id, an auth collection without secrets", Method: http.MethodGet, URL: "/api/collections/_pb_users_auth_",
			TestAppFactory: a2, Headers: h2,
			ExpectedStatus:     http.StatusOK,
			ExpectedBody:       fixtureItemJSON(t, "users"),
			NotExpectedContent: []string{`"secret"`},
		},
		{
			Name: "missing", Method: http.MethodGet, URL: "/api/collections/missing",
			TestAppFactory: a3, Headers: h3,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"The requested resource wasn't found.","status":404}`,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestCollectionCreate(t *testing.T) {
	type tc struct {
		name, body string
		status     int
		body200    []string
		exact      string
	}
	cases := []tc{
		{
			name: "base collection with fields", status: http.StatusOK,
			body: `{"name":"notes","listRule":"","fields":[{"name":"title","type":"text","required":true},{"name":"n","type":"number"}]}`,
			body200: []string{
				`{"id":"pbc_`, `"listRule":"","viewRule":null,`, `"name":"notes","type":"base","fields":[{"autogeneratePattern":"[a-z0-9]{15}"`,
				`"id":"text724990059","max":0,"min":0,"name":"title"`, `"id":"number2013832146"`, `"indexes":[],"created":"`,
			},
		},
		{
			name: "auth collection gets its system fields, indexes and options", status: http.StatusOK,
			body: `{"name":"members","type":"auth","fields":[{"name":"nick","type":"text"}]}`,
			body200: []string{
				`"name":"members","type":"auth","fields":[{"autogeneratePattern":"[a-z0-9]{15}"`,
				`"name":"nick"`, `"name":"password"`, `"name":"verified"`,
				"CREATE UNIQUE INDEX `idx_tokenKey_pbc_", "ON `members` (`tokenKey`)",
				`"authToken":{"duration":432000}`, `"passwordAuth":{"enabled":true,"identityFields":["email"]}`,
			},
		},
		{
			name: "view collection", status: http.StatusOK,
			body: `{"name":"user_emails","type":"view","viewQuery":"SELECT id, email FROM users","listRule":""}`,
			body200: []string{
				`"type":"view","fields":[{"autogeneratePattern":"","help":"","hidden":false,"id":"text3208210256"`,
				`"name":"email","onlyDomains":[]`, `"viewQuery":"SELECT id, email FROM users"`,
			},
		},
		{
			name: "name taken (case-insensitive)", status: http.StatusBadRequest,
			body:  `{"name":"USERS"}`,
			exact: `{"data":{"name":{"code":"validation_collection_name_exists","message":"Collection name must be unique (case insensitive)."}},"message":"Failed to create collection.","status":400}`,
		},
		{
			name: "invalid name", status: http.StatusBadRequest,
			body:  `{"name":"bad name"}`,
			exact: `{"data":{"name":{"code":"validation_match_invalid","message":"Must be in a valid format."}},"message":"Failed to create collection.","status":400}`,
		},
		{
			name: "field option errors", status: http.StatusBadRequest,
			body: `{"name":"x","fields":[{"name":"s","type":"select"},{"name":"r","type":"relation","collectionId":"nope"},{"name":"expand","type":"text"}]}`,
			exact: `{"data":{"fields":{"1":{"values":{"code":"validation_required","message":"Cannot be blank."}},` +
				`"2":{"collectionId":{"code":"validation_field_relation_missing_collection","message":"The relation collection doesn't exist."}},` +
				`"3":{"name":{"code":"validation_not_in_invalid","message":"Must not be in list."}}}},"message":"Failed to create collection.","status":400}`,
		},
		{
			name: "duplicated field name", status: http.StatusBadRequest,
			body:  `{"name":"x","fields":[{"name":"a","type":"text","id":"a1"},{"name":"A","type":"bool","id":"a2"}]}`,
			exact: `{"data":{"fields":{"2":{"name":{"code":"validation_duplicated_field_name","message":"Duplicated or invalid field name A.","params":{"fieldName":"A"}}}}},"message":"Failed to create collection.","status":400}`,
		},
		{
			name: "view without id column", status: http.StatusBadRequest,
			body:    `{"name":"v","type":"view","viewQuery":"SELECT email FROM users"}`,
			body200: []string{`"viewQuery":{"code":"validation_invalid_view_query","message":"Invalid query - missing required id column`},
		},
		{
			name: "view with a wildcard", status: http.StatusBadRequest,
			body:    `{"name":"v","type":"view","viewQuery":"SELECT u.* FROM users u"}`,
			body200: []string{`"viewQuery":{"code":"validation_invalid_view_query","message":"Invalid query - wildcard columns (*) are not supported - manually type the collection field names you want the view query to have."}`},
		},
		{
			name: "view with a duplicated column", status: http.StatusBadRequest,
			body:    `{"name":"v","type":"view","viewQuery":"SELECT id, email, email FROM users"}`,
			body200: []string{`"viewQuery":{"code":"validation_invalid_view_query","message":"Invalid query - invalid field \"email:1\" (2): name: must be in a valid format."}`},
		},
		{
			name: "view with non-unique ids", status: http.StatusBadRequest,
			body:    `{"name":"v","type":"view","viewQuery":"SELECT 'a' AS id FROM (SELECT 1 UNION ALL SELECT 2)"}`,
			body200: []string{`"viewQuery":{"code":"validation_invalid_view_query","message":"Invalid query - the query could return records with non-unique ids."}`},
		},
		{
			name: "view rules must stay null", status: http.StatusBadRequest,
			body:    `{"name":"v","type":"view","viewQuery":"SELECT id FROM users","createRule":""}`,
			body200: []string{`"createRule":{"code":"validation_nil","message":"Must be blank."}`},
		},
		{
			name: "unknown field type", status: http.StatusBadRequest,
			body:  `{"name":"x","fields":[{"name":"a","type":"nope"}]}`,
			exact: `{"data":{},"message":"Failed to load the submitted data due to invalid formatting.","status":400}`,
		},
		{
			name: "broken JSON", status: http.StatusBadRequest,
			body:  `{"name":`,
			exact: `{"data":{},"message":"Failed to load the collection type data due to invalid formatting.","status":400}`,
		},
		{
			name: "reserved table name", status: http.StatusBadRequest,
			body:  `{"name":"sqlite_master"}`,
			exact: `{"data":{},"message":"Failed to create collection. Raw error: \nSQL logic error: object name reserved for internal use: sqlite_master (1).","status":400}`,
		},
		{
			name: "bad index", status: http.StatusBadRequest,
			body:  `{"name":"x","indexes":["CREATE INDEX"]}`,
			exact: `{"data":{"indexes":{"0":{"code":"validation_invalid_index_expression","message":"Invalid CREATE INDEX expression."}}},"message":"Failed to create collection.","status":400}`,
		},
	}

	var scenarios []apitest.ApiScenario
	for _, c := range cases {
		factory, headers := collectionsApp(false, false)
		s := apitest.ApiScenario{
			Name: c.name, Method: http.MethodPost, URL: "/api/collections", Body: collectionBody(c.body),
			TestAppFactory: factory, Headers: withJSONType(headers),
			ExpectedStatus: c.status, ExpectedBody: c.exact, ExpectedContent: c.body200,
		}
		scenarios = append(scenarios, s)
	}
	// as PocketBase's form binder, which allocates the nil rule pointers: a form body
	// leaves no rule null (and an auth collection's "" manageRule is refused)
	formBase, formBaseHeaders := collectionsApp(false, false)
	formBaseHeaders["Content-Type"] = "application/x-www-form-urlencoded"
	formAuth, formAuthHeaders := collectionsApp(false, false)
	formAuthHeaders["Content-Type"] = "application/x-www-form-urlencoded"
	scenarios = append(scenarios,
		apitest.ApiScenario{
			Name: "base collection from a form", Method: http.MethodPost, URL: "/api/collections", Body: collectionBody("name=formed&deleteRule=id%3D%27a%27"),
			TestAppFactory: formBase, Headers: formBaseHeaders,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"listRule":"","viewRule":"","createRule":"","updateRule":"","deleteRule":"id='a'","name":"formed"`},
		},
		apitest.ApiScenario{
			Name: "auth collection from a form", Method: http.MethodPost, URL: "/api/collections", Body: collectionBody("name=formed&type=auth"),
			TestAppFactory: formAuth, Headers: formAuthHeaders,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"manageRule":{"code":"validation_nil_or_not_empty_required","message":"Cannot be blank."}},"message":"Failed to create collection.","status":400}`,
		},
	)
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestCollectionUpdate(t *testing.T) {
	a1, h1 := collectionsApp(true, false)
	a2, h2 := collectionsApp(true, false)
	a3, h3 := collectionsApp(true, false)
	a4, h4 := collectionsApp(true, false)
	a5, h5 := collectionsApp(true, false)
	a6, h6 := collectionsApp(true, false)
	scenarios := []apitest.ApiScenario{
		{
			Name: "id changed to no collection's", Method: http.MethodPatch, URL: "/api/collections/tags",
			Body: collectionBody(`{"id":"otherid","name":"x y"}`), TestAppFactory: a5, Headers: withJSONType(h5),
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"The requested resource wasn't found.","status":404}`,
		},
		{
			Name: "id changed to another collection's", Method: http.MethodPatch, URL: "/api/collections/tags",
			Body: collectionBody(`{"id":"posts"}`), TestAppFactory: a6, Headers: withJSONType(h6),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"id":{"code":"validation_values_mismatch","message":"Values don't match."}},"message":"Failed to update collection.","status":400}`,
		},
		{
			Name: "rules and name", Method: http.MethodPatch, URL: "/api/collections/tags",
			Body:           collectionBody(`{"name":"labels","createRule":"@request.auth.id != ''"}`),
			TestAppFactory: a1, Headers: withJSONType(h1),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"id":"pbc_1219621782"`, `"createRule":"@request.auth.id != ''"`, `"name":"labels"`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				var n int
				if err := app.DB().Read().QueryRowContext(t.Context(), "SELECT count(*) FROM labels").Scan(&n); err != nil || n != 3 {
					t.Errorf("labels rows = %d, %v; want 3", n, err)
				}
			},
		},
		{
			Name: "system collection name", Method: http.MethodPatch, URL: "/api/collections/_superusers",
			Body: collectionBody(`{"name":"admins"}`), TestAppFactory: a2, Headers: withJSONType(h2),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"name":{"code":"validation_collection_system_name_change","message":"System collection name cannot be changed."}},"message":"Failed to update collection.","status":400}`,
		},
		{
			Name: "system fields cannot be renamed", Method: http.MethodPatch, URL: "/api/collections/users",
			Body:           collectionBody(`{"fields":[{"name":"checked","type":"bool","id":"bool256245529","system":true}]}`),
			TestAppFactory: a3, Headers: withJSONType(h3),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"fields":{"code":"validation_system_field_change","message":"System fields cannot be deleted or renamed."}},"message":"Failed to update collection.","status":400}`,
		},
		{
			Name: "missing", Method: http.MethodPatch, URL: "/api/collections/missing",
			Body: collectionBody(`{}`), TestAppFactory: a4, Headers: withJSONType(h4),
			ExpectedStatus:  http.StatusNotFound,
			ExpectedContent: []string{`"status":404`},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestCollectionDeleteAndTruncate(t *testing.T) {
	apps := make([]struct {
		f func(t testing.TB) *core.App
		h map[string]string
	}, 7)
	for i := range apps {
		apps[i].f, apps[i].h = collectionsApp(true, false)
	}
	scenarios := []apitest.ApiScenario{
		{
			Name: "referenced", Method: http.MethodDelete, URL: "/api/collections/posts",
			TestAppFactory: apps[0].f, Headers: apps[0].h,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Failed to delete collection probably due to existing reference in comments.","status":400}`,
		},
		{
			Name: "system", Method: http.MethodDelete, URL: "/api/collections/_mfas",
			TestAppFactory: apps[1].f, Headers: apps[1].h,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Failed to delete collection.","status":400}`,
		},
		{
			Name: "a view", Method: http.MethodDelete, URL: "/api/collections/post_stats",
			TestAppFactory: apps[2].f, Headers: apps[2].h,
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if _, err := app.FindCachedCollectionByNameOrID(t.Context(), "post_stats"); err == nil {
					t.Error("post_stats still cached")
				}
			},
		},
		{
			Name: "truncate a view", Method: http.MethodDelete, URL: "/api/collections/post_stats/truncate",
			TestAppFactory: apps[3].f, Headers: apps[3].h,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"View collections cannot be truncated since they don't store their own records.","status":400}`,
		},
		{
			Name: "truncate posts cascades to comments and removes files", Method: http.MethodDelete, URL: "/api/collections/posts/truncate",
			TestAppFactory: apps[4].f, Headers: apps[4].h,
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				var posts, comments int
				err := app.DB().Read().QueryRowContext(t.Context(),
					"SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM comments)").Scan(&posts, &comments)
				if err != nil || posts != 0 || comments != 0 {
					t.Errorf("posts=%d comments=%d err=%v", posts, comments, err)
				}
				entries, _ := os.ReadDir(filepath.Join(app.DataDir(), "storage", "pbc_1125843985"))
				if len(entries) != 0 {
					t.Errorf("storage still has %d record folders", len(entries))
				}
			},
		},
		{
			Name: "truncate users", Method: http.MethodDelete, URL: "/api/collections/users/truncate",
			TestAppFactory: apps[5].f, Headers: apps[5].h,
			ExpectedStatus: http.StatusNoContent,
		},
		{
			Name: "missing", Method: http.MethodDelete, URL: "/api/collections/nope/truncate",
			TestAppFactory: apps[6].f, Headers: apps[6].h,
			ExpectedStatus:  http.StatusNotFound,
			ExpectedContent: []string{`"status":404`},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestCollectionsImportAndScaffolds(t *testing.T) {
	apps := make([]struct {
		f func(t testing.TB) *core.App
		h map[string]string
	}, 6)
	for i := range apps {
		apps[i].f, apps[i].h = collectionsApp(true, false)
	}
	scenarios := []apitest.ApiScenario{
		{
			Name: "unknown field type", Method: http.MethodPut, URL: "/api/collections/import",
			Body:           collectionBody(`{"collections":[{"name":"x","fields":[{"name":"b","type":"bool"},{"name":"a","type":"nope"}]}]}`),
			TestAppFactory: apps[5].f, Headers: withJSONType(apps[5].h),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"collections":{"code":"validation_collections_import_failure","message":"Failed to import the collections configuration. Raw error:\n` +
				`json: cannot unmarshal JSON object into Go core.fieldWithType within \"/fields/1\": missing or unknown field type in {\"name\":\"a\",\"type\":\"nope\"}."}},"message":"Failed to import collections.","status":400}`,
		},
		{
			Name: "empty import", Method: http.MethodPut, URL: "/api/collections/import",
			Body: collectionBody(`{"collections":[]}`), TestAppFactory: apps[0].f, Headers: withJSONType(apps[0].h),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"collections":{"code":"validation_required","message":"Cannot be blank."}},"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name: "import a new collection and change another", Method: http.MethodPut, URL: "/api/collections/import",
			Body:           collectionBody(`{"collections":[{"name":"extra","fields":[{"name":"title","type":"text"}]},{"id":"pbc_1219621782","name":"tags","listRule":null}]}`),
			TestAppFactory: apps[1].f, Headers: withJSONType(apps[1].h),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				tags, err := app.FindCollectionByNameOrID(t.Context(), "tags")
				if err != nil || tags.ListRule != nil || tags.Fields.GetByName("label") == nil {
					t.Errorf("tags after import: %+v, %v", tags, err)
				}
				if _, err := app.FindCollectionByNameOrID(t.Context(), "extra"); err != nil {
					t.Errorf("extra not imported: %v", err)
				}
			},
		},
		{
			Name: "invalid import rolls back", Method: http.MethodPut, URL: "/api/collections/import",
			Body:           collectionBody(`{"collections":[{"name":"extra"},{"name":"bad name"}]}`),
			TestAppFactory: apps[2].f, Headers: withJSONType(apps[2].h),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`{"data":{"collections":{"code":"validation_collections_import_failure","message":"Data validations failed for collection \"bad name\"`, `"message":"Failed to import collections.","status":400}`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if _, err := app.FindCollectionByNameOrID(t.Context(), "extra"); err == nil {
					t.Error("extra was imported by a failed import")
				}
			},
		},
		{
			Name: "deleteMissing keeps system collections only", Method: http.MethodPut, URL: "/api/collections/import",
			Body:           collectionBody(`{"deleteMissing":true,"collections":[{"name":"only","fields":[{"name":"title","type":"text"}]}]}`),
			TestAppFactory: apps[3].f, Headers: withJSONType(apps[3].h),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				list, err := app.CachedCollections(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, c := range list {
					names = append(names, c.Name)
				}
				if got := strings.Join(names, ","); got != "_mfas,_otps,_externalAuths,_authOrigins,_superusers,only" {
					t.Errorf("collections after deleteMissing = %s", got)
				}
			},
		},
		{
			Name: "scaffolds", Method: http.MethodGet, URL: "/api/collections/meta/scaffolds",
			TestAppFactory: apps[4].f, Headers: apps[4].h,
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				`{"auth":{"id":"","listRule":null,"viewRule":null,"createRule":null,"updateRule":null,"deleteRule":null,"name":"","type":"auth","fields":[`,
				"\"indexes\":[\"CREATE UNIQUE INDEX `idx_tokenKey_", "` ON `` (`tokenKey`)\"",
				`"authRule":"","manageRule":null,"authAlert":{"enabled":true,`,
				`"base":{"id":"","listRule":null,"viewRule":null,"createRule":null,"updateRule":null,"deleteRule":null,"name":"","type":"base","fields":[{"autogeneratePattern":"[a-z0-9]{15}","help":"","hidden":false,"id":"text3208210256","max":15,"min":15,"name":"id","pattern":"^[a-z0-9]+$","presentable":false,"primaryKey":true,"required":true,"system":true,"type":"text"}],"indexes":[],"created":"","updated":"","system":false}`,
				`"view":{"id":"","listRule":null,"viewRule":null,"createRule":null,"updateRule":null,"deleteRule":null,"name":"","type":"view","fields":[],"indexes":[],"created":"","updated":"","system":false,"viewQuery":""}}`,
			},
			NotExpectedContent: []string{`"secret"`},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}
