package search_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

func TestSelectQueryReverseScan(t *testing.T) {
	q := search.NewSelectQuery("posts")
	q.Selects = []string{"`posts`.*"}
	q.AndWhere(search.NewExpr("`posts`.`flag` = :f", search.Params{"f": 1}))
	q.AndOrderBy("`posts`.`created` DESC", "`posts`.`id` ASC")
	q.Limit, q.Offset = 10, 20
	q.ReverseScan = true

	want := "SELECT `posts`.* FROM `posts` WHERE `posts`.`_rowid_` IN (" +
		"SELECT `posts`.`_rowid_` FROM (" +
		"SELECT `posts`.`_rowid_` AS `_rowid_`, `posts`.`created`, `posts`.`id` FROM `posts` WHERE `posts`.`flag` = :f " +
		"ORDER BY `posts`.`_rowid_` DESC LIMIT -1) AS `posts` " +
		"ORDER BY `posts`.`created` DESC, `posts`.`id` ASC LIMIT 10 OFFSET 20) " +
		"ORDER BY `posts`.`created` DESC, `posts`.`id` ASC"
	if diff := cmp.Diff(want, q.Build().SQL); diff != "" {
		t.Errorf("SQL mismatch (-want +got):\n%s", diff)
	}

	// a sort on an expression reads whole rows
	wide := q.Clone()
	wide.OrderBy = []string{"LOWER(`posts`.`title`) DESC", "`posts`.`id` ASC"}
	want = "SELECT `posts`.* FROM (SELECT * FROM `posts` WHERE `posts`.`flag` = :f " +
		"ORDER BY `posts`.`_rowid_` DESC LIMIT -1) AS `posts` " +
		"ORDER BY LOWER(`posts`.`title`) DESC, `posts`.`id` ASC LIMIT 10 OFFSET 20"
	if diff := cmp.Diff(want, wide.Build().SQL); diff != "" {
		t.Errorf("SQL mismatch (-want +got):\n%s", diff)
	}

	// ignored where it cannot apply
	for name, change := range map[string]func(q *search.SelectQuery){
		"no limit":    func(q *search.SelectQuery) { q.Limit = 0 },
		"no order by": func(q *search.SelectQuery) { q.OrderBy = nil },
		"distinct":    func(q *search.SelectQuery) { q.Distinct = true },
		"join":        func(q *search.SelectQuery) { q.LeftJoin("`tags`", "t", search.Expr{}) },
	} {
		c := q.Clone()
		change(c)
		plain := c.Clone()
		plain.ReverseScan = false
		if got, want := c.Build().SQL, plain.Build().SQL; got != want {
			t.Errorf("%s: got %s, want %s", name, got, want)
		}
	}
}

func TestProviderReverseScan(t *testing.T) {
	tests := []struct {
		sort      string
		uniqueKey string
		want      bool
	}{
		{"-created,id", "id", true},
		{"-created,-title,-id", "id", true},
		{"-id", "id", false},
		{"-id,id", "id", false},
		{"-created,id", "", false},
		{"created,id", "id", false},
		{"-created", "id", false},
		{"-created,id,title", "id", false},
		{"-@rowid,id", "id", false},
		{"-created,@random,id", "id", false},
		{"", "id", false},
	}
	for _, tc := range tests {
		t.Run(tc.sort+"/"+tc.uniqueKey, func(t *testing.T) {
			p := search.NewProvider(search.NewSimpleFieldResolver("id", "created", "title")).
				Query(search.NewSelectQuery("test")).
				UniqueKey(tc.uniqueKey)
			if err := p.Parse("sort=" + tc.sort); err != nil {
				t.Fatal(err)
			}
			plan, err := p.Build()
			if err != nil {
				t.Fatal(err)
			}
			if got := plan.Items.SQL != "" && strings.Contains(plan.Items.SQL, "DESC LIMIT -1)"); got != tc.want {
				t.Errorf("reverse scan = %v, want %v: %s", got, tc.want, plan.Items.SQL)
			}
		})
	}

	// the joins of a multi-valued field disable it
	plan, err := search.NewProvider(&postsResolver{}).Query(search.NewSelectQuery("posts")).UniqueKey("id").
		AddFilter("tags:each ?= 'a'").
		Sort(search.ParseSortFromString("-created,id")).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plan.Items.SQL, "DESC LIMIT -1)") {
		t.Errorf("reverse scan with joins: %s", plan.Items.SQL)
	}
}

// TestReverseScanSameRows checks on SQLite that reading the rows newest first returns the
// same pages as the plain query, with many ties on the leading sort terms, filters and
// pages past the end.
func TestReverseScanSameRows(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Exec("CREATE TABLE posts (id TEXT PRIMARY KEY, title TEXT, count REAL, flag INTEGER NOT NULL DEFAULT 0, tags JSON NOT NULL DEFAULT '[]', data JSON, created TEXT NOT NULL DEFAULT '', lon REAL, lat REAL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE INDEX idx_count ON posts (count)"); err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		// ids not in insertion order; created ascending with ties, some out of order
		_, err := db.Exec("INSERT INTO posts (id, title, count, flag, created) VALUES (?, ?, ?, ?, ?)",
			fmt.Sprintf("r%03d", (i*37)%500), fmt.Sprintf("t%d", i%7), i%11, i%2,
			fmt.Sprintf("2024-01-01 00:00:%02d.000Z", (i/9+(i%5)*3)%60))
		if err != nil {
			t.Fatal(err)
		}
	}

	run := func(reverse bool, filter, sort string, page int) []string {
		p := search.NewProvider(&postsResolver{}).Query(search.NewSelectQuery("posts")).PerPage(13).Page(page)
		if reverse {
			p.UniqueKey("id")
		}
		p.AddFilter(search.FilterData(filter)).Sort(search.ParseSortFromString(sort))
		plan, err := p.Build()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(plan.Items.SQL, "DESC LIMIT -1)"); got != (reverse && sort != "-id") {
			t.Fatalf("reverse scan = %v: %s", got, plan.Items.SQL)
		}
		rows, err := db.Query(plan.Items.SQL, plan.Items.Args()...)
		if err != nil {
			t.Fatalf("%s: %v", plan.Items.SQL, err)
		}
		defer func() { _ = rows.Close() }()
		ids := []string{}
		for rows.Next() {
			var id string
			var rest [8]any
			if err := rows.Scan(&id, &rest[0], &rest[1], &rest[2], &rest[3], &rest[4], &rest[5], &rest[6], &rest[7]); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return ids
	}

	for _, filter := range []string{"", "flag = 1", "count >= 5 && title != 't3'", "count = 4"} {
		for _, sort := range []string{"-created,id", "-created,-id", "-title,created,-id", "-count,id", "-id", "-title:lower,created,id", "-created,created,id"} {
			for _, page := range []int{1, 2, 7, 40} {
				want, got := run(false, filter, sort, page), run(true, filter, sort, page)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("filter %q sort %q page %d (-plain +reverse):\n%s", filter, sort, page, diff)
				}
			}
		}
	}
}

func TestProviderRowidCount(t *testing.T) {
	build := func(filter string) string {
		plan, err := search.NewProvider(&postsResolver{}).Query(search.NewSelectQuery("posts")).
			CountCol(search.RowidColumn).AddFilter(search.FilterData(filter)).Build()
		if err != nil {
			t.Fatal(err)
		}
		return normalizeSQL(plan.Count.SQL)
	}

	if got, want := build("count > 1"), "SELECT COUNT(*) FROM `posts` WHERE `posts`.`count` > :P"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// joins may repeat a row: keep the distinct count
	want := "SELECT COUNT(DISTINCT `posts`.`_rowid_`) FROM `posts` LEFT JOIN json_each(`posts`.`tags`) `__je_tags` WHERE "
	if got := build("tags:each ?= 'a'"); !strings.HasPrefix(got, want) {
		t.Errorf("got %s, want %s", got, want)
	}

	// same totals on SQLite
	db := openTestDB(t)
	for _, filter := range []string{"", "count > 1", "tags:each ?= 'a'", "title ~ 'o' || flag = 1"} {
		p := search.NewProvider(&postsResolver{}).Query(search.NewSelectQuery("posts")).AddFilter(search.FilterData(filter))
		var rowid, distinct int
		plan, err := p.CountCol(search.RowidColumn).Build()
		if err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(plan.Count.SQL, plan.Count.Args()...).Scan(&rowid); err != nil {
			t.Fatal(err)
		}
		plan, err = p.CountCol("id").Build()
		if err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(plan.Count.SQL, plan.Count.Args()...).Scan(&distinct); err != nil {
			t.Fatal(err)
		}
		if rowid != distinct {
			t.Errorf("filter %q: rowid count %d, distinct id count %d", filter, rowid, distinct)
		}
	}
}
