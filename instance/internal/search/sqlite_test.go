package search_test

import (
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// postsResolver is a small stand-in for core's record resolver over the posts table: plain
// columns qualified with the table, a multi-valued "tags:each" (json_each join plus
// multi-match subquery), "tags:length", a JSON path, a static "@request.auth.id" and a
// "secret" field with an AfterBuild hook.
type postsResolver struct {
	joins []search.Join
}

var _ search.FieldResolver = (*postsResolver)(nil)

func (r *postsResolver) UpdateQuery(q *search.SelectQuery) error {
	if len(r.joins) == 0 {
		return nil
	}
	q.Distinct = true
	for _, j := range r.joins {
		if !q.HasJoin(j.Alias) {
			q.Joins = append(q.Joins, j)
		}
	}
	return nil
}

func (r *postsResolver) Resolve(field string) (*search.ResolverResult, error) {
	switch field {
	case "id", "title", "count", "flag", "created", "tags", "lon", "lat":
		return &search.ResolverResult{Identifier: search.QuoteIdent("posts", field)}, nil
	case "title:lower":
		return &search.ResolverResult{Identifier: "LOWER(" + search.QuoteIdent("posts", "title") + ")"}, nil
	case "data.a":
		return &search.ResolverResult{
			Identifier:   "JSON_EXTRACT(" + search.QuoteIdent("posts", "data") + ", '$.a')",
			NullFallback: search.NullFallbackDisabled,
		}, nil
	case "tags:each":
		r.joins = append(r.joins, search.Join{Table: "json_each(" + search.QuoteIdent("posts", "tags") + ")", Alias: "__je_tags"})
		return &search.ResolverResult{
			Identifier: search.QuoteIdent("__je_tags", "value"),
			MultiMatchSubQuery: &search.MultiMatchSubquery{
				TargetTableAlias: "posts",
				FromTableName:    "posts",
				FromTableAlias:   "__mm_posts",
				ValueIdentifier:  search.QuoteIdent("__mm_je_tags", "value"),
				Joins: []search.Join{{
					Table: "json_each(" + search.QuoteIdent("__mm_posts", "tags") + ")",
					Alias: "__mm_je_tags",
				}},
			},
		}, nil
	case "tags:length":
		return &search.ResolverResult{Identifier: "json_array_length(" + search.QuoteIdent("posts", "tags") + ")"}, nil
	case "@request.auth.id":
		name := search.NewParamName()
		return &search.ResolverResult{Identifier: ":" + name, Params: search.Params{name: "a2"}}, nil
	case "secret":
		return &search.ResolverResult{
			Identifier: search.QuoteIdent("posts", "title"),
			AfterBuild: func(e search.Expr) search.Expr {
				return search.And(e, search.NewExpr(search.QuoteIdent("posts", "flag")+" = 1", nil))
			},
		}, nil
	}
	return nil, fmt.Errorf("resolving %q: %w", field, search.ErrUnknownField)
}

type post struct {
	id       string
	title    any
	count    any
	flag     int
	tags     string
	data     any
	created  string
	lon, lat any
}

var seedPosts = []post{
	{id: "a1", title: "Hello World", count: 1, flag: 1, tags: `["a","b"]`, data: `{"a":1}`, created: "2024-01-15 10:00:00.000Z", lon: 23.23033854945808, lat: 42.713146090563384},
	{id: "a2", title: "hello abc", count: 5, tags: `["a"]`, data: `{"a":"x"}`, created: "2023-06-01 08:30:00.000Z"},
	{id: "a3", title: "", count: 10, tags: `[]`, data: `{"a":null}`, created: "2023-02-03 00:00:00.000Z"},
	{id: "a4", title: nil, count: nil, tags: `["c"]`, data: nil, created: ""},
	{id: "a5", title: "50% off_sale", count: 2, tags: `["b","c"]`, data: `{}`, created: "2024-03-01 00:00:00.000Z"},
	{id: "a6", title: "x'; DROP TABLE posts; --", count: 3, tags: `["a"]`, data: `{"a":[1]}`, created: "2022-12-31 23:59:59.999Z"},
}

func openTestDB(t testing.TB) *sql.DB {
	t.Helper()

	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one connection: one in-memory database
	t.Cleanup(func() { _ = db.Close() })

	_, err = db.Exec("CREATE TABLE posts (id TEXT PRIMARY KEY, title TEXT, count REAL, flag INTEGER NOT NULL DEFAULT 0, tags JSON NOT NULL DEFAULT '[]', data JSON, created TEXT NOT NULL DEFAULT '', lon REAL, lat REAL)")
	if err != nil {
		t.Fatal(err)
	}

	for _, p := range seedPosts {
		_, err := db.Exec("INSERT INTO posts (id, title, count, flag, tags, data, created, lon, lat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			p.id, p.title, p.count, p.flag, p.tags, p.data, p.created, p.lon, p.lat)
		if err != nil {
			t.Fatal(err)
		}
	}

	return db
}

// queryIDs runs the filter against the posts table and returns the matching ids in order.
func queryIDs(t *testing.T, db *sql.DB, filter search.FilterData, now time.Time) []string {
	t.Helper()

	resolver := &postsResolver{}
	expr, err := filter.BuildExprWithOptions(resolver, search.BuildOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("building %q: %v", filter, err)
	}
	assertParamsReferenced(t, expr)

	q := search.NewSelectQuery("posts")
	q.Selects = []string{search.QuoteIdent("posts", "id")}
	q.AndWhere(expr)
	q.AndOrderBy(search.QuoteIdent("posts", "id") + " ASC")
	if err := resolver.UpdateQuery(q); err != nil {
		t.Fatal(err)
	}

	built := q.Build()
	rows, err := db.Query(built.SQL, built.Args()...)
	if err != nil {
		t.Fatalf("running %q:\n%s\n%v", filter, built.SQL, err)
	}
	defer func() { _ = rows.Close() }()

	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	return ids
}

func TestFilterSemanticsOnSQLite(t *testing.T) {
	db := openTestDB(t)
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

	tests := []struct {
		filter search.FilterData
		want   []string
	}{
		// LIKE is a case-insensitive "contains"
		{"title ~ 'HELLO'", []string{"a1", "a2"}},
		{"title ~ 'abc'", []string{"a2"}},
		{"title ?~ 'world'", []string{"a1"}},
		{"title !~ 'hello'", []string{"a3", "a5", "a6"}}, // NULL NOT LIKE is NULL
		{"'hello abc, and more' ~ title", []string{"a2", "a3"}},
		// an explicit % is kept, an escaped one and _ match literally
		{"title ~ '50%'", []string{"a5"}},
		{"title ~ 'hello%'", []string{"a1", "a2"}},
		{`title ~ '50\\% off'`, []string{"a5"}},
		{"title ~ 'f_s'", []string{"a5"}},
		{"title ~ 'o_f'", []string{}}, // "_" is not a wildcard: "off" does not match
		// null and "" are equal for = and !=
		{"title = ''", []string{"a3", "a4"}},
		{"title = null", []string{"a3", "a4"}},
		{"null = title", []string{"a3", "a4"}},
		{"title != ''", []string{"a1", "a2", "a5", "a6"}},
		{"title != 'hello abc'", []string{"a1", "a3", "a4", "a5", "a6"}}, // NULL IS NOT 'x' is true
		{"count = null", []string{"a4"}},
		{"title = id", []string{}},
		{"title:lower = 'hello world'", []string{"a1"}},
		// SQL metacharacters are values
		{`title = "x'; DROP TABLE posts; --"`, []string{"a6"}},
		{`title = "' OR 1=1 --"`, []string{}},
		{`title ~ "%' OR '1'='1"`, []string{}},
		// numbers and booleans
		{"count > 1 && count <= 5", []string{"a2", "a5", "a6"}},
		{"count >= 10 || count < 2", []string{"a1", "a3"}},
		{"flag = true", []string{"a1"}},
		{"flag != true", []string{"a2", "a3", "a4", "a5", "a6"}},
		// JSON values are compared without the null fallback
		{"data.a = 1", []string{"a1"}},
		{"data.a = null", []string{"a3", "a4", "a5"}},
		{"data.a != null", []string{"a1", "a2", "a6"}},
		// multi-valued operand: all values by default, any value with "?"
		{"tags:each ?= 'a'", []string{"a1", "a2", "a6"}},
		{"tags:each = 'a'", []string{"a2", "a6"}},
		{"tags:each != 'a'", []string{"a3", "a4", "a5"}}, // no "a" at all; [] joins one NULL value
		{"tags:each ?!= 'a'", []string{"a1", "a3", "a4", "a5"}},
		{"tags:each ~ 'c'", []string{"a4"}},
		{"tags:each ?~ 'c'", []string{"a4", "a5"}},
		{"'a' = tags:each", []string{"a2", "a6"}},
		{"tags:each = tags:each", []string{"a2", "a3", "a4", "a6"}},
		{"tags:length > 1", []string{"a1", "a5"}},
		{"tags:length = 0", []string{"a3"}},
		{"tags ~ 'c'", []string{"a4", "a5"}}, // LIKE on the JSON text
		{"tags = 'a'", []string{}},           // the JSON text is not an item
		// resolver parameters and hooks
		{"id = @request.auth.id", []string{"a2"}},
		{"secret ~ 'hello'", []string{"a1"}},
		{"secret ~ 'hello' || id = 'a3'", []string{"a1", "a3"}},
		// datetime macros with an injected clock (2024-03-01 12:00 UTC)
		{"created >= @yearStart", []string{"a1", "a5"}},
		{"created >= @todayStart && created <= @todayEnd", []string{"a5"}},
		{"created < @monthStart && created != ''", []string{"a1", "a2", "a3", "a6"}},
		{"created > @yesterday", []string{"a5"}},
		{"strftime('%Y', created) = '2023'", []string{"a2", "a3"}},
		{"strftime('%Y', created) = ''", []string{"a4"}},
		{"strftime('%Y-%m', created) = strftime('%Y-%m', @now)", []string{"a5"}},
		// geoDistance in km
		{"geoDistance(lon, lat, 23.44920680886216, 42.7078484153991) < 20", []string{"a1"}},
		{"geoDistance(lon, lat, 23.44920680886216, 42.7078484153991) < 17", []string{}},
		{"geoDistance(0, 45, 0, 45) < 0.001 && id = 'a1'", []string{"a1"}},
	}

	for _, tc := range tests {
		t.Run(string(tc.filter), func(t *testing.T) {
			got := queryIDs(t, db, tc.filter, now)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ids mismatch (-want +got):\n%s", diff)
			}
		})
	}

	// the injection attempts above did not run
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM posts").Scan(&n); err != nil || n != len(seedPosts) {
		t.Fatalf("posts table damaged: n=%d err=%v", n, err)
	}
}

func TestGeoDistanceValueOnSQLite(t *testing.T) {
	db := openTestDB(t)

	tests := []struct {
		coords string
		want   string
	}{
		{"23.23033854945808, 42.713146090563384, 23.44920680886216, 42.7078484153991", "17.89"},
		{"0, 8, 0, 8", "0.00"},   // rounding would give acos(>1) without the clamp
		{"0, 45, 0, 45", "0.00"}, // same
	}

	for _, tc := range tests {
		t.Run(tc.coords, func(t *testing.T) {
			expr, err := search.FilterData("geoDistance(" + tc.coords + ") >= 0").BuildExpr(newTestResolver())
			if err != nil {
				t.Fatal(err)
			}

			// run only the function operand
			operand := expr.SQL[:len(expr.SQL)-len(" >= :p123456789012")]
			var d float64
			if err := db.QueryRow("SELECT "+operand, expr.Args()...).Scan(&d); err != nil {
				t.Fatalf("%s: %v", operand, err)
			}
			if got := fmt.Sprintf("%.2f", d); got != tc.want {
				t.Fatalf("distance %s, want %s", got, tc.want)
			}
		})
	}
}

func TestProviderOnSQLite(t *testing.T) {
	db := openTestDB(t)

	run := func(t *testing.T, p *search.Provider) *search.Result {
		t.Helper()

		plan, err := p.Build()
		if err != nil {
			t.Fatal(err)
		}

		rows, err := db.Query(plan.Items.SQL, plan.Items.Args()...)
		if err != nil {
			t.Fatalf("%s: %v", plan.Items.SQL, err)
		}
		defer func() { _ = rows.Close() }()

		ids := []string{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}

		total := 0
		if !plan.SkipTotal {
			if err := db.QueryRow(plan.Count.SQL, plan.Count.Args()...).Scan(&total); err != nil {
				t.Fatalf("%s: %v", plan.Count.SQL, err)
			}
		}

		return plan.Result(ids, total)
	}

	base := search.NewSelectQuery("posts")
	base.Selects = []string{search.QuoteIdent("posts", "id")}

	tests := []struct {
		name  string
		query string
		want  *search.Result
	}{
		{
			name:  "filter, sort and the second page",
			query: "filter=count>1&sort=-count&page=2&perPage=2",
			want:  &search.Result{Items: []string{"a6", "a5"}, Page: 2, PerPage: 2, TotalItems: 4, TotalPages: 2},
		},
		{
			name:  "multi-valued filter counts distinct rows",
			query: "filter=" + "tags:each ?!= 'z'" + "&sort=id",
			want:  &search.Result{Items: []string{"a1", "a2", "a3", "a4", "a5", "a6"}, Page: 1, PerPage: 30, TotalItems: 6, TotalPages: 1},
		},
		{
			name:  "skipTotal",
			query: "sort=-@rowid&perPage=2&skipTotal=true",
			want:  &search.Result{Items: []string{"a6", "a5"}, Page: 1, PerPage: 2, TotalItems: -1, TotalPages: -1},
		},
		{
			name:  "nothing matches",
			query: "filter=id='nope'",
			want:  &search.Result{Items: []string{}, Page: 1, PerPage: 30, TotalItems: 0, TotalPages: 0},
		},
		{
			name:  "page past the end",
			query: "page=9&perPage=1000000&sort=title",
			want:  &search.Result{Items: []string{}, Page: 9, PerPage: 1000, TotalItems: 6, TotalPages: 1},
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := search.NewProvider(&postsResolver{}).Query(base)
			if err := p.Parse(tc.query); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, run(t, p)); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("random order returns every row", func(t *testing.T) {
		p := search.NewProvider(&postsResolver{}).Query(base).Sort(search.ParseSortFromString("@random"))
		got := run(t, p)
		ids := got.Items.([]string)
		slices.Sort(ids)
		if diff := cmp.Diff([]string{"a1", "a2", "a3", "a4", "a5", "a6"}, ids); diff != "" {
			t.Errorf("ids mismatch (-want +got):\n%s", diff)
		}
	})
}
