package search_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

func TestSimpleFieldResolverResolve(t *testing.T) {
	r := search.NewSimpleFieldResolver("test", `^test_regex\d+$`, "Test columnify!", `^data\.[\w\.]*\w$`, "name:lower", "a:each", `^[invalid$`)

	tests := []struct {
		field   string
		wantErr bool
		want    *search.ResolverResult
	}{
		{field: "", wantErr: true},
		{field: " ", wantErr: true},
		{field: "unknown", wantErr: true},
		{field: "test.sub", wantErr: true},
		{field: "test_regex", wantErr: true},
		{field: "[invalid", wantErr: true},
		{field: "test", want: &search.ResolverResult{Identifier: "`test`"}},
		{field: "test_regex1", want: &search.ResolverResult{Identifier: "`test_regex1`"}},
		{field: "Test columnify!", want: &search.ResolverResult{Identifier: "`Testcolumnify`"}},
		{field: "data.test", want: &search.ResolverResult{Identifier: "JSON_EXTRACT(`data`, '$.test')", NullFallback: search.NullFallbackDisabled}},
		{field: "data.a.0.b", want: &search.ResolverResult{Identifier: "JSON_EXTRACT(`data`, '$.a[0].b')", NullFallback: search.NullFallbackDisabled}},
		{field: "name:lower", want: &search.ResolverResult{Identifier: "LOWER(`name`)"}},
		{field: "a:each", wantErr: true}, // only :lower is supported
	}

	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			got, err := r.Resolve(tc.field)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("expected an error, got %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("unknown field sentinel", func(t *testing.T) {
		if _, err := r.Resolve("nope"); !errors.Is(err, search.ErrUnknownField) {
			t.Fatalf("expected ErrUnknownField, got %v", err)
		}
	})

	t.Run("empty allow-list allows nothing", func(t *testing.T) {
		if _, err := search.NewSimpleFieldResolver().Resolve("id"); err == nil {
			t.Fatal("expected an error")
		}
	})

	t.Run("UpdateQuery is a no-op", func(t *testing.T) {
		q := search.NewSelectQuery("test")
		if err := r.UpdateQuery(q); err != nil {
			t.Fatal(err)
		}
		if got := q.Build().SQL; got != "SELECT * FROM `test`" {
			t.Fatalf("query changed: %s", got)
		}
	})
}

func TestResolverEdgeCases(t *testing.T) {
	tests := []struct {
		name     string
		resolver fixedResolver
		filter   search.FilterData
		wantSQL  string
		wantErr  bool
	}{
		{name: "nil result without error", resolver: fixedResolver{}, filter: "x = 1", wantErr: true},
		{name: "empty identifier", resolver: fixedResolver{result: &search.ResolverResult{}}, filter: "x = 1", wantErr: true},
		{name: "resolver error", resolver: fixedResolver{err: errors.New("boom")}, filter: "x = 1", wantErr: true},
		{name: "null literal when the resolver fails", resolver: fixedResolver{}, filter: "null = 1", wantSQL: "'' = :P"},
		{name: "a field named like a literal wins", resolver: fixedResolver{result: &search.ResolverResult{Identifier: "`x`"}}, filter: "x = true", wantSQL: "`x` = 1"},
		{
			name:     "resolver NULL identifier",
			resolver: fixedResolver{result: &search.ResolverResult{Identifier: "NULL"}},
			filter:   "x = 'a'",
			wantSQL:  "'' = :P",
		},
		{
			name:     "enforced fallback keeps the null branch",
			resolver: fixedResolver{result: &search.ResolverResult{Identifier: "f(`x`)", NullFallback: search.NullFallbackEnforced}},
			filter:   "x = ''",
			wantSQL:  "(f(`x`) = '' OR f(`x`) IS NULL)",
		},
		{
			name:     "resolver parameters are merged",
			resolver: fixedResolver{result: &search.ResolverResult{Identifier: "LOWER(:abc)", Params: search.Params{"abc": "V"}}},
			filter:   "x = 'v'",
			wantSQL:  "LOWER(:abc) = :P",
		},
		{
			name:     "empty resolver parameter counts as empty",
			resolver: fixedResolver{result: &search.ResolverResult{Identifier: ":abc", Params: search.Params{"abc": ""}}},
			filter:   "x = null",
			wantSQL:  "'' = ''",
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expr, err := tc.filter.BuildExpr(tc.resolver)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("expected an error, got %q", expr.SQL)
				}
				return
			}
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
