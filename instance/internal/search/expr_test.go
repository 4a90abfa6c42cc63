package search_test

import (
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

func TestExprHelpers(t *testing.T) {
	a := search.NewExpr("a = :a", search.Params{"a": 1})
	b := search.NewExpr("b = :b", search.Params{"b": 2})

	tests := []struct {
		name string
		got  search.Expr
		want search.Expr
	}{
		{"and", search.And(a, search.Expr{}, b), search.Expr{SQL: "(a = :a) AND (b = :b)", Params: search.Params{"a": 1, "b": 2}}},
		{"or", search.Or(a, b), search.Expr{SQL: "(a = :a) OR (b = :b)", Params: search.Params{"a": 1, "b": 2}}},
		{"and of one", search.And(search.Expr{SQL: " "}, a), a},
		{"and of none", search.And(), search.Expr{}},
		{"not", search.Not(a), search.Expr{SQL: "NOT (a = :a)", Params: search.Params{"a": 1}}},
		{"not empty", search.Not(search.Expr{}), search.Expr{}},
		{"enclose", search.Enclose(b), search.Expr{SQL: "(b = :b)", Params: search.Params{"b": 2}}},
		{
			"replace all",
			search.NewExpr("@ph = 1 OR @ph IS NULL", search.Params{"x": 0}).ReplaceAll("@ph", search.Enclose(a)),
			search.Expr{SQL: "(a = :a) = 1 OR (a = :a) IS NULL", Params: search.Params{"a": 1, "x": 0}},
		},
		{"replace missing", a.ReplaceAll("@ph", b), a},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("args are named and sorted", func(t *testing.T) {
		got := search.And(b, a).Args()
		want := []any{sql.Named("a", 1), sql.Named("b", 2)}
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	})
}

func TestQuoteIdent(t *testing.T) {
	tests := map[string]string{
		search.QuoteIdent("posts"):          "`posts`",
		search.QuoteIdent("posts", "id"):    "`posts`.`id`",
		search.QuoteIdent("we`ird"):         "`we``ird`",
		search.QuoteIdent("a.b"):            "`a.b`",
		search.QuoteIdent("x`; DROP--", ""): "`x``; DROP--`.``",
	}
	for got, want := range tests {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestNewParamName(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		name := search.NewParamName()
		if !paramRe.MatchString(":" + name) {
			t.Fatalf("unexpected name %q", name)
		}
		if seen[name] {
			t.Fatalf("duplicate name %q", name)
		}
		seen[name] = true
	}
}

func TestSelectQueryBuild(t *testing.T) {
	tests := []struct {
		name  string
		query *search.SelectQuery
		want  search.Expr
	}{
		{
			name:  "plain",
			query: search.NewSelectQuery("posts"),
			want:  search.Expr{SQL: "SELECT * FROM `posts`", Params: search.Params{}},
		},
		{
			name: "everything",
			query: func() *search.SelectQuery {
				q := &search.SelectQuery{From: "posts", Alias: "p", Selects: []string{"`p`.`id`", "`p`.`title`"}, Distinct: true}
				q.LeftJoin("`users`", "u", search.NewExpr("`u`.`id` = `p`.`author` AND `u`.`x` = :j", search.Params{"j": "J"}))
				q.AndWhere(search.NewExpr("`p`.`a` = :a", search.Params{"a": 1}))
				q.AndWhere(search.Expr{})
				q.AndWhere(search.NewExpr("`p`.`b` = :b", search.Params{"b": 2}))
				q.AndOrderBy("`p`.`title` ASC", "RANDOM()")
				q.Limit, q.Offset = 5, 10
				return q
			}(),
			want: search.Expr{
				SQL: "SELECT DISTINCT `p`.`id`, `p`.`title` FROM `posts` `p` LEFT JOIN `users` `u` ON `u`.`id` = `p`.`author` AND `u`.`x` = :j " +
					"WHERE (`p`.`a` = :a) AND (`p`.`b` = :b) ORDER BY `p`.`title` ASC, RANDOM() LIMIT 5 OFFSET 10",
				Params: search.Params{"a": 1, "b": 2, "j": "J"},
			},
		},
		{
			name:  "offset without limit",
			query: &search.SelectQuery{From: "posts", Offset: 3},
			want:  search.Expr{SQL: "SELECT * FROM `posts` LIMIT -1 OFFSET 3", Params: search.Params{}},
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.query.Build()); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("clone is independent", func(t *testing.T) {
		q := search.NewSelectQuery("posts")
		q.AndWhere(search.NewExpr("1", nil))
		c := q.Clone()
		c.AndWhere(search.NewExpr("2", nil)).LeftJoin("`x`", "x", search.Expr{}).AndOrderBy("1")
		if len(q.Where) != 1 || len(q.Joins) != 0 || len(q.OrderBy) != 0 {
			t.Fatalf("original modified: %+v", q)
		}
		if !c.HasJoin("x") || q.HasJoin("x") {
			t.Fatal("HasJoin mismatch")
		}
	})
}
