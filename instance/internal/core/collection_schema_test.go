package core_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// fixtureItem returns the expected JSON of one fixture collection.
func fixtureItem(t *testing.T, name string) map[string]any {
	t.Helper()
	for _, raw := range collectionsExpectedItems(t) {
		var item map[string]any
		if err := json.Unmarshal(raw, &item); err != nil {
			t.Fatal(err)
		}
		if item["name"] == name {
			return item
		}
	}
	t.Fatalf("no fixture collection %s", name)

	return nil
}

// createFromJSON creates a collection from a request-like JSON body, as the create
// handler does.
func createFromJSON(t *testing.T, app *core.App, body map[string]any) (*core.Collection, error) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	c := &core.Collection{}
	if err := json.Unmarshal(raw, c); err != nil {
		t.Fatal(err)
	}

	return c, app.SaveCollection(t.Context(), c)
}

// masterSQL returns sqlite_master's sql of the named table, view or index.
func masterSQL(t *testing.T, db interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, name string) string {
	t.Helper()
	var s sql.NullString
	err := db.QueryRowContext(t.Context(), "SELECT sql FROM sqlite_master WHERE name = ?", name).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}

	return s.String
}

// withoutKeys returns a copy of m without the given top-level keys.
func withoutKeys(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}

	return out
}

var cloneIDRegex = regexp.MustCompile(`"_clone_[A-Za-z0-9]{4}"`)

// TestCreateCollectionsLikeFixture re-creates the fixture's tags, posts (every field
// type), comments and post_stats (view) collections on a fresh data directory from
// their API JSON, and compares the DDL SQLite keeps and the collection JSON with what
// PocketBase v0.40.4 produced.
func TestCreateCollectionsLikeFixture(t *testing.T) {
	fixture := apitest.NewTestApp(t, apitest.CopyFixture(t))
	app := apitest.NewTestApp(t, "")

	for _, name := range []string{"tags", "posts", "comments", "post_stats"} {
		want := fixtureItem(t, name)
		body := withoutKeys(want, "id", "created", "updated")

		c, err := createFromJSON(t, app, body)
		if err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
		if c.ID != want["id"] {
			t.Errorf("%s: id = %s, want %s", name, c.ID, want["id"])
		}

		gotJSON, err := json.Marshal(withoutKeys(mustMap(t, c), "created", "updated"))
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, err := json.Marshal(withoutKeys(want, "created", "updated"))
		if err != nil {
			t.Fatal(err)
		}
		got, wantS := string(gotJSON), string(wantJSON)
		if name == "post_stats" {
			got, wantS = cloneIDRegex.ReplaceAllString(got, `"_clone_"`), cloneIDRegex.ReplaceAllString(wantS, `"_clone_"`)
		}
		if got != wantS {
			t.Errorf("%s JSON:\n got: %s\nwant: %s", name, got, wantS)
		}

		if got, want := masterSQL(t, app.DB().Read(), name), masterSQL(t, fixture.DB().Read(), name); got != want {
			t.Errorf("%s DDL:\n got: %s\nwant: %s", name, got, want)
		}
	}

	if got, want := masterSQL(t, app.DB().Read(), "idx_tags_label"), masterSQL(t, fixture.DB().Read(), "idx_tags_label"); got != want || got == "" {
		t.Errorf("tags index DDL:\n got: %s\nwant: %s", got, want)
	}
}

func mustMap(t *testing.T, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}

	return m
}

// newFixtureLikeApp returns a fresh app with the fixture's tags, posts and comments
// collections (created from their JSON) and a few rows.
func newFixtureLikeApp(t *testing.T, withView bool) *core.App {
	t.Helper()
	app := apitest.NewTestApp(t, "")
	names := []string{"tags", "posts", "comments"}
	if withView {
		names = append(names, "post_stats")
	}
	for _, name := range names {
		if _, err := createFromJSON(t, app, withoutKeys(fixtureItem(t, name), "id", "created", "updated")); err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
	}

	exec(t, app,
		"INSERT INTO tags (id, label) VALUES ('tag000000000001', 'go'), ('tag000000000002', 'db')",
		`INSERT INTO posts (id, title, slug, views, status, channels, tags, website, meta, location)
		 VALUES ('post00000000001', 'First', 'first', 10, 'draft', '["web","email"]', '["tag000000000001","tag000000000002"]', 'https://a.example', '{"a":1}', '{"lon":1,"lat":2}'),
		        ('post00000000002', 'Second', 'second', 0, '', '[]', '[]', '', NULL, '{"lon":0,"lat":0}')`,
		"INSERT INTO comments (id, post, text) VALUES ('comm00000000001', 'post00000000001', 'c1'), ('comm00000000002', 'post00000000002', 'c2')",
	)

	return app
}

func exec(t *testing.T, app *core.App, stmts ...string) {
	t.Helper()
	for _, stmt := range stmts {
		if _, err := app.DB().Write().ExecContext(t.Context(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// queryRow returns one row of the query as strings (NULL as "NULL").
func queryRow(t *testing.T, app *core.App, query string) []string {
	t.Helper()
	rows, err := app.DB().Read().QueryContext(t.Context(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatalf("%s: no rows", query)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(cols))
	for i, v := range vals {
		out[i] = "NULL"
		if v.Valid {
			out[i] = v.String
		}
	}

	return out
}

func columns(t *testing.T, app *core.App, table string) []string {
	t.Helper()
	rows, err := app.DB().Read().QueryContext(t.Context(), "SELECT name FROM pragma_table_info(?) ORDER BY cid", table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}

	return names
}

// patchPosts applies a JSON body to the stored posts collection and saves it, as
// PATCH does.
func patchPosts(t *testing.T, app *core.App, body string) error {
	t.Helper()
	c, err := app.FindCollectionByNameOrID(t.Context(), "posts")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(body), c); err != nil {
		t.Fatal(err)
	}

	return app.SaveCollection(t.Context(), c)
}

// fieldsJSONWith returns the collection's fields JSON after edit changed the decoded
// list.
func fieldsJSONWith(t *testing.T, app *core.App, name string, edit func(fields []map[string]any) []map[string]any) string {
	t.Helper()
	c, err := app.FindCollectionByNameOrID(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	var fields []map[string]any
	if err := json.Unmarshal(mustJSON(t, c.Fields), &fields); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(map[string]any{"fields": edit(fields)})
	if err != nil {
		t.Fatal(err)
	}

	return string(raw)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}

	return raw
}

func findField(fields []map[string]any, name string) map[string]any {
	for _, f := range fields {
		if f["name"] == name {
			return f
		}
	}

	return nil
}

// TestSchemaMigrationsKeepData changes the posts collection in every way that
// touches its table and checks that the rows survive.
func TestSchemaMigrationsKeepData(t *testing.T) {
	app := newFixtureLikeApp(t, false)

	// add a field; rename one; drop one; single -> multiple and multiple -> single
	body := fieldsJSONWith(t, app, "posts", func(fields []map[string]any) []map[string]any {
		findField(fields, "slug")["name"] = "permalink"
		findField(fields, "status")["maxSelect"] = 2
		findField(fields, "channels")["maxSelect"] = 1
		out := fields[:0]
		for _, f := range fields {
			if f["name"] != "website" {
				out = append(out, f)
			}
		}
		return append(out, map[string]any{"name": "subtitle", "type": "text"})
	})
	if err := patchPosts(t, app, body); err != nil {
		t.Fatalf("updating posts: %v", err)
	}

	cols := strings.Join(columns(t, app, "posts"), ",")
	for _, want := range []string{"permalink", "subtitle", "status", "channels"} {
		if !strings.Contains(cols, want) {
			t.Errorf("columns %s lack %s", cols, want)
		}
	}
	for _, gone := range []string{"slug", "website"} {
		if strings.Contains(","+cols+",", ","+gone+",") {
			t.Errorf("columns %s still have %s", cols, gone)
		}
	}

	got := queryRow(t, app, "SELECT title, permalink, subtitle, status, channels, views, tags, meta FROM posts WHERE id = 'post00000000001'")
	want := []string{"First", "first", "", `["draft"]`, "email", "10", `["tag000000000001","tag000000000002"]`, `{"a":1}`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("row 1 = %q, want %q", got, want)
	}
	got = queryRow(t, app, "SELECT status, channels FROM posts WHERE id = 'post00000000002'")
	if strings.Join(got, "|") != "[]|" {
		t.Errorf("row 2 = %q, want [[] ]", got)
	}

	ddl := masterSQL(t, app.DB().Read(), "posts")
	if !strings.Contains(ddl, "`status` JSON DEFAULT '[]' NOT NULL") || !strings.Contains(ddl, "`channels` TEXT DEFAULT '' NOT NULL") {
		t.Errorf("posts DDL after the single/multiple change: %s", ddl)
	}

	// swap two names: data follows the field ids
	body = fieldsJSONWith(t, app, "posts", func(fields []map[string]any) []map[string]any {
		findField(fields, "title")["name"] = "tmpname"
		findField(fields, "permalink")["name"] = "title"
		findField(fields, "tmpname")["name"] = "permalink"
		findField(fields, "title")["min"] = 0
		findField(fields, "permalink")["pattern"] = ""
		return fields
	})
	if err := patchPosts(t, app, body); err != nil {
		t.Fatalf("swapping names: %v", err)
	}
	if got := queryRow(t, app, "SELECT title, permalink FROM posts WHERE id = 'post00000000001'"); strings.Join(got, "|") != "first|First" {
		t.Errorf("after swap = %q, want first|First", got)
	}

	// indexes: add, rename, remove
	if err := patchPosts(t, app, `{"indexes":["CREATE INDEX idx_views ON posts (views, title DESC)"]}`); err != nil {
		t.Fatalf("adding index: %v", err)
	}
	if got := masterSQL(t, app.DB().Read(), "idx_views"); got != "CREATE INDEX `idx_views` ON `posts` (\n  `views`,\n  `title` DESC\n)" {
		t.Errorf("index DDL = %q", got)
	}
	if err := patchPosts(t, app, `{"indexes":["CREATE UNIQUE INDEX idx_title ON anything (title)"]}`); err != nil {
		t.Fatalf("replacing index: %v", err)
	}
	if masterSQL(t, app.DB().Read(), "idx_views") != "" || masterSQL(t, app.DB().Read(), "idx_title") != "CREATE UNIQUE INDEX `idx_title` ON `posts` (`title`)" {
		t.Errorf("indexes not replaced: %q", masterSQL(t, app.DB().Read(), "idx_title"))
	}

	// rename the collection: table and index follow
	if err := patchPosts(t, app, `{"name":"articles"}`); err != nil {
		t.Fatalf("renaming: %v", err)
	}
	if got := queryRow(t, app, "SELECT count(*) FROM articles"); got[0] != "2" {
		t.Errorf("articles rows = %s", got[0])
	}
	if masterSQL(t, app.DB().Read(), "posts") != "" || masterSQL(t, app.DB().Read(), "idx_title") != "CREATE UNIQUE INDEX `idx_title` ON `articles` (`title`)" {
		t.Errorf("rename left %q / %q", masterSQL(t, app.DB().Read(), "posts"), masterSQL(t, app.DB().Read(), "idx_title"))
	}
	// the stored definitions follow too, in the canonical form (PocketBase's onCollectionSave)
	articles, err := app.FindCollectionByNameOrID(t.Context(), "articles")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"CREATE UNIQUE INDEX `idx_title` ON `articles` (`title`)"}; !slices.Equal(articles.Indexes, want) {
		t.Errorf("stored indexes = %q, want %q", articles.Indexes, want)
	}
}

// TestSchemaFailureLeavesNothing checks that a failing save rolls everything back.
func TestSchemaFailureLeavesNothing(t *testing.T) {
	app := newFixtureLikeApp(t, false)
	before := masterSQL(t, app.DB().Read(), "posts")

	// the new unique index fails on duplicate data after the columns changed
	exec(t, app, "UPDATE posts SET title = 'Same'")
	body := fieldsJSONWith(t, app, "posts", func(fields []map[string]any) []map[string]any {
		return append(fields, map[string]any{"name": "extra", "type": "number"})
	})
	body = strings.TrimSuffix(body, "}") + `,"indexes":["CREATE UNIQUE INDEX idx_same ON posts (title)"]}`
	err := patchPosts(t, app, body)
	var verrs core.NestedErrors
	if !errors.As(err, &verrs) || verrs["indexes"] == nil {
		t.Fatalf("err = %v, want indexes validation error", err)
	}
	if after := masterSQL(t, app.DB().Read(), "posts"); after != before {
		t.Errorf("table changed after a failed save:\n%s\n%s", before, after)
	}
	c, err := app.FindCollectionByNameOrID(t.Context(), "posts")
	if err != nil {
		t.Fatal(err)
	}
	if c.Fields.GetByName("extra") != nil || len(c.Indexes) != 0 {
		t.Errorf("collection row changed after a failed save")
	}
}

// TestDeleteCollection checks the delete refusals and a successful delete.
func TestDeleteCollection(t *testing.T) {
	app := newFixtureLikeApp(t, true)
	ctx := t.Context()

	get := func(name string) *core.Collection {
		c, err := app.FindCollectionByNameOrID(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	if err := app.DeleteCollection(ctx, get("_superusers")); !errors.Is(err, core.ErrSystemCollection) {
		t.Errorf("deleting _superusers: %v", err)
	}
	if err := app.DeleteCollection(ctx, get("tags")); !errors.Is(err, core.ErrCollectionReferenced) || !strings.Contains(err.Error(), "posts") {
		t.Errorf("deleting referenced tags: %v", err)
	}
	// comments only depend on posts through the post_stats view
	if err := app.DeleteCollection(ctx, get("comments")); !errors.Is(err, core.ErrViewDependency) {
		t.Errorf("deleting comments used by a view: %v", err)
	}
	if masterSQL(t, app.DB().Read(), "comments") == "" {
		t.Fatal("comments table dropped by a failed delete")
	}

	if err := app.DeleteCollection(ctx, get("post_stats")); err != nil {
		t.Fatalf("deleting the view: %v", err)
	}
	if err := app.DeleteCollection(ctx, get("comments")); err != nil {
		t.Fatalf("deleting comments: %v", err)
	}
	if masterSQL(t, app.DB().Read(), "comments") != "" {
		t.Error("comments table still there")
	}
	if _, err := app.FindCachedCollectionByNameOrID(ctx, "comments"); !errors.Is(err, core.ErrCollectionNotFound) {
		t.Errorf("cache still has comments: %v", err)
	}
}

// TestTruncateCollection checks cascades, relation cleanup and the view refusal.
func TestTruncateCollection(t *testing.T) {
	app := newFixtureLikeApp(t, true)
	ctx := t.Context()

	view, err := app.FindCollectionByNameOrID(ctx, "post_stats")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.TruncateCollection(ctx, view); !errors.Is(err, core.ErrTruncateView) {
		t.Errorf("truncating a view: %v", err)
	}

	tags, err := app.FindCollectionByNameOrID(ctx, "tags")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.TruncateCollection(ctx, tags); err != nil {
		t.Fatalf("truncating tags: %v", err)
	}
	if got := queryRow(t, app, "SELECT tags, updated != '' FROM posts WHERE id = 'post00000000001'"); got[0] != "[]" || got[1] != "1" {
		t.Errorf("post tags after truncating tags = %q", got)
	}

	posts, err := app.FindCollectionByNameOrID(ctx, "posts")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.TruncateCollection(ctx, posts); err != nil {
		t.Fatalf("truncating posts: %v", err)
	}
	// comments.post is a required cascade relation: the comments go too
	if got := queryRow(t, app, "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM comments)"); strings.Join(got, ",") != "0,0" {
		t.Errorf("counts after truncate = %q", got)
	}
}
