package search_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

func TestMultiMatchSubqueryBuild(t *testing.T) {
	mm := &search.MultiMatchSubquery{
		TargetTableAlias: "posts",
		FromTableName:    "posts",
		FromTableAlias:   "__mm_posts",
		ValueIdentifier:  "(:mm, :external)",
		Joins: []search.Join{
			{Table: search.QuoteIdent("users"), Alias: "__mm_author"},
			{Table: "json_each(`__mm_posts`.`tags`)", Alias: "__mm_je", On: search.NewExpr("123 = :join", search.Params{"join": "j"})},
		},
		Params: search.Params{"mm": "m"},
	}

	got, err := mm.Build()
	if err != nil {
		t.Fatal(err)
	}

	want := search.Expr{
		SQL: "SELECT (:mm, :external) AS `multiMatchValue` FROM `posts` `__mm_posts` LEFT JOIN `users` `__mm_author` " +
			"LEFT JOIN json_each(`__mm_posts`.`tags`) `__mm_je` ON 123 = :join WHERE `__mm_posts`.`id` = `posts`.`id`",
		Params: search.Params{"mm": "m", "join": "j"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}

	clone := mm.Clone()
	clone.Joins[0].Alias = "changed"
	clone.Params["mm"] = "changed"
	if mm.Joins[0].Alias != "__mm_author" || mm.Params["mm"] != "m" {
		t.Fatal("Clone shares state with the original")
	}

	for name, incomplete := range map[string]*search.MultiMatchSubquery{
		"nil":             nil,
		"no target alias": {FromTableName: "a", FromTableAlias: "b", ValueIdentifier: "c"},
		"no from table":   {TargetTableAlias: "a", FromTableAlias: "b", ValueIdentifier: "c"},
		"no from alias":   {TargetTableAlias: "a", FromTableName: "b", ValueIdentifier: "c"},
		"no value":        {TargetTableAlias: "a", FromTableName: "b", FromTableAlias: "c"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := incomplete.Build(); err == nil {
				t.Fatal("expected an error")
			}
			// an incomplete subquery fails the filter instead of producing broken SQL
			_, err := search.FilterData("x = 1").BuildExpr(fixedResolver{result: &search.ResolverResult{
				Identifier: "`x`", MultiMatchSubQuery: incomplete,
			}})
			if incomplete != nil && err == nil {
				t.Fatal("expected a filter error")
			}
		})
	}
}

// fixedResolver resolves "x" to a fixed result.
type fixedResolver struct {
	result *search.ResolverResult
	err    error
}

func (fixedResolver) UpdateQuery(*search.SelectQuery) error { return nil }

func (r fixedResolver) Resolve(field string) (*search.ResolverResult, error) {
	if field != "x" {
		return nil, search.ErrUnknownField
	}
	return r.result, r.err
}

func TestFilterMultiMatchSQL(t *testing.T) {
	const sub = "(SELECT `__mm_je_tags`.`value` AS `multiMatchValue` FROM `posts` `__mm_posts` " +
		"LEFT JOIN json_each(`__mm_posts`.`tags`) `__mm_je_tags` WHERE `__mm_posts`.`id` = `posts`.`id`)"

	tests := []struct {
		filter  search.FilterData
		wantSQL string
	}{
		{
			filter:  "tags:each = 'a'",
			wantSQL: "((`__je_tags`.`value` = :P) AND (NOT EXISTS (SELECT 1 FROM " + sub + " `__sm` WHERE NOT (`__sm`.`multiMatchValue` = :P))))",
		},
		{
			filter:  "tags:each ?= 'a'",
			wantSQL: "`__je_tags`.`value` = :P",
		},
		{
			filter:  "'a' != tags:each",
			wantSQL: "((:P IS NOT `__je_tags`.`value`) AND (NOT EXISTS (SELECT 1 FROM " + sub + " `__sm` WHERE NOT (:P IS NOT `__sm`.`multiMatchValue`))))",
		},
		{
			filter: "tags:each = ''",
			wantSQL: "(((`__je_tags`.`value` = '' OR `__je_tags`.`value` IS NULL)) AND (NOT EXISTS (SELECT 1 FROM " + sub +
				" `__sm` WHERE NOT ((`__sm`.`multiMatchValue` = '' OR `__sm`.`multiMatchValue` IS NULL)))))",
		},
		{
			filter: "tags:each ~ tags:each",
			wantSQL: "((`__je_tags`.`value` LIKE ('%' || `__je_tags`.`value` || '%') ESCAPE '\\') AND (NOT EXISTS (SELECT 1 FROM " + sub +
				" `__ml` LEFT JOIN " + sub + " `__mr` WHERE NOT (`__ml`.`multiMatchValue` LIKE ('%' || `__mr`.`multiMatchValue` || '%') ESCAPE '\\'))))",
		},
		{
			filter: "strftime('%Y', tags:each) = '2023'",
			wantSQL: "((strftime(:P,`__je_tags`.`value`) = :P) AND (NOT EXISTS (SELECT 1 FROM (SELECT strftime(:P,`__mm_je_tags`.`value`) AS `multiMatchValue` FROM `posts` `__mm_posts` " +
				"LEFT JOIN json_each(`__mm_posts`.`tags`) `__mm_je_tags` WHERE `__mm_posts`.`id` = `posts`.`id`) `__sm` WHERE NOT (`__sm`.`multiMatchValue` = :P))))",
		},
		{
			filter:  "secret = 'x' && id = 'y'",
			wantSQL: "(((`posts`.`title` = :P) AND (`posts`.`flag` = 1)) AND `posts`.`id` = :P)",
		},
	}

	for _, tc := range tests {
		t.Run(string(tc.filter), func(t *testing.T) {
			expr, err := tc.filter.BuildExpr(&postsResolver{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantSQL, normalizeSQL(expr.SQL)); diff != "" {
				t.Errorf("SQL mismatch (-want +got):\n%s", diff)
			}
			assertParamsReferenced(t, expr)
		})
	}
}
