package search_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

func TestExprPositional(t *testing.T) {
	tests := []struct {
		name     string
		expr     search.Expr
		wantSQL  string
		wantArgs []any
	}{
		{"no params", search.NewExpr("SELECT 1", nil), "SELECT 1", nil},
		{
			"numbered by first appearance, repeats share a number",
			search.NewExpr("a = :pb AND b = :pa AND c = :pb", search.Params{"pa": 1, "pb": "x"}),
			"a = ?1 AND b = ?2 AND c = ?1", []any{"x", 1},
		},
		{
			"literals and quoted identifiers are left alone",
			search.NewExpr("`:pa` = ':pa' AND \"x:pa\" = [:pa] AND 'it''s :pa' = :pa", search.Params{"pa": 7}),
			"`:pa` = ':pa' AND \"x:pa\" = [:pa] AND 'it''s :pa' = ?1", []any{7},
		},
		{
			"unknown names and a name's prefix are not placeholders",
			search.NewExpr(":other = :pa AND :pab = 1", search.Params{"pa": 1}),
			":other = ?1 AND :pab = 1", []any{1},
		},
		{"unclosed literal", search.NewExpr(":pa = 'abc", search.Params{"pa": 1}), "?1 = 'abc", []any{1}},
		{"placeholder at the end", search.NewExpr("x = :pa", search.Params{"pa": nil}), "x = ?1", []any{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotSQL, gotArgs := tt.expr.Positional()
			if gotSQL != tt.wantSQL {
				t.Errorf("SQL = %q, want %q", gotSQL, tt.wantSQL)
			}
			if !slices.Equal(gotArgs, tt.wantArgs) {
				t.Errorf("args = %v, want %v", gotArgs, tt.wantArgs)
			}
		})
	}
}

// TestExprPositionalSameResults runs built filters both ways on real SQLite.
func TestExprPositionalSameResults(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	for _, filter := range []string{
		"title ~ 'a' && count >= 2",
		"title = 'it\\'s' || count = 3 || title ~ ':p%'",
		"count > 1 && count > 1 && title != ''",
	} {
		expr, err := search.FilterData(filter).BuildExpr(search.NewSimpleFieldResolver("title", "count"))
		if err != nil {
			t.Fatal(err)
		}
		named := countWhere(ctx, t, db, expr.SQL, expr.Args())
		posSQL, posArgs := expr.Positional()
		positional := countWhere(ctx, t, db, posSQL, posArgs)
		if named != positional {
			t.Errorf("%s: %d rows with named params, %d positional (%s)", filter, named, positional, posSQL)
		}
		again, _ := search.FilterData(filter).BuildExpr(search.NewSimpleFieldResolver("title", "count"))
		if againSQL, _ := again.Positional(); againSQL != posSQL {
			t.Errorf("%s: positional SQL differs between builds: %q and %q", filter, posSQL, againSQL)
		}
	}
}

func countWhere(ctx context.Context, t *testing.T, db *sql.DB, where string, args []any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM posts WHERE "+where, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return n
}
