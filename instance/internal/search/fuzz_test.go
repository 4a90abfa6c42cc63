package search_test

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

func newFuzzResolver() *search.SimpleFieldResolver {
	return search.NewSimpleFieldResolver(`^\w+$`, `^\w+\.[\w\.]*\w$`, `^\w+:lower$`)
}

// literalShape uses the same placeholder in every position a text can take.
const literalShape = "title = {:v} || title != {:v} || title ~ {:v} || title ?!~ {:v} || " +
	"count > {:v} || strftime({:v}, created, {:v}) = {:v} || {:v} = null || data.a = {:v}"

// FuzzFilter checks that no filter panics, that a built filter holds no user text outside
// backtick-quoted identifiers, and that the SQL of a filter does not depend on the
// content of its literals (only on whether they are empty).
func FuzzFilter(f *testing.F) {
	for _, seed := range []struct{ filter, literal string }{
		{"title = 'abc' && count > 1", "abc"},
		{`title ~ "'; DROP TABLE x; --" || (id != null && flag = true)`, "'; DROP TABLE x; --"},
		{"geoDistance(lon, lat, 1.5, -2) < 10 && created >= @todayStart", "%_\\"},
		{"strftime('%Y', created, 'start of month') = '2024' // comment", "` OR 1=1 --"},
		{"data.a.0 ?= 'x' || tags:lower ?!~ '%a\\%'", "\x00\xff"},
		{"((a=1)||(b=2))&&c!~d", ""},
		{"a = 'unterminated", "{:v}"},
	} {
		f.Add(seed.filter, seed.literal)
	}

	resolver := newFuzzResolver()

	f.Fuzz(func(t *testing.T, filter, literal string) {
		if expr, err := search.FilterData(filter).BuildExpr(resolver); err == nil {
			assertSafeSQL(t, expr.SQL)
			assertParamsReferenced(t, expr)
		}

		got, err := search.FilterData(literalShape).BuildExpr(resolver, search.Params{"v": literal})
		if err != nil {
			t.Fatalf("literal %q: %v", literal, err)
		}
		assertSafeSQL(t, got.SQL)
		assertParamsReferenced(t, got)

		reference := "x"
		if literal == "" {
			reference = ""
		}
		want, err := search.FilterData(literalShape).BuildExpr(resolver, search.Params{"v": reference})
		if err != nil {
			t.Fatal(err)
		}
		if normalizeSQL(got.SQL) != normalizeSQL(want.SQL) {
			t.Fatalf("the SQL depends on the literal %q:\n%s\n%s", literal, got.SQL, want.SQL)
		}

		// the SQL does not depend on the literal (above): it travels as a bound value
		// (placeholder names are random, so searching the SQL text for it would be wrong)
		// (plain text only: control characters, invalid UTF-8, quotes and backslashes are
		// escaped on the way, as PocketBase's placeholder substitution quotes the value)
		if literal != "" && strconv.Quote(literal) == `"`+literal+`"` &&
			!slices.ContainsFunc(slices.Collect(maps.Values(got.Params)), func(v any) bool { return v == any(literal) }) {
			t.Fatalf("literal %q is not among the bound values %v", literal, got.Params)
		}
	})
}

// FuzzSort checks that no sort expression panics and that the built ORDER BY holds no user
// text outside backtick-quoted identifiers.
func FuzzSort(f *testing.F) {
	for _, seed := range []string{
		"-created,title",
		"@random,-@rowid",
		"+data.a.0,-name:lower",
		"title; DROP TABLE x",
		" , ,--x,+-y",
		"`a`,'b',\"c\"",
	} {
		f.Add(seed)
	}

	resolver := newFuzzResolver()

	f.Fuzz(func(t *testing.T, raw string) {
		fields := search.ParseSortFromString(raw)

		for _, field := range fields {
			if field.Direction != search.SortAsc && field.Direction != search.SortDesc {
				t.Fatalf("unexpected direction %q", field.Direction)
			}
			if term, err := field.BuildExpr(resolver); err == nil {
				assertSafeSQL(t, term)
			}
		}

		plan, err := search.NewProvider(resolver).Query(search.NewSelectQuery("posts")).Sort(fields).Build()
		if err == nil {
			assertSafeSQL(t, plan.Items.SQL)
			assertSafeSQL(t, plan.Count.SQL)
		}
	})
}

// FuzzPositional checks that renumbering placeholders never panics, leaves text without
// placeholders alone and replaces every placeholder of a built filter.
func FuzzPositional(f *testing.F) {
	for _, seed := range []string{
		"title = 'a:pa' && count > 1",
		"title ~ \":x\" || `:y` = 1",
		"a = ':pa",
		"[:pa] = :pa",
	} {
		f.Add(seed)
	}
	resolver := newFuzzResolver()

	f.Fuzz(func(t *testing.T, text string) {
		raw := search.NewExpr(text, search.Params{"pa": 1, "pb": 2})
		sqlText, args := raw.Positional()
		if len(args) > 2 {
			t.Fatalf("%q: %d args for 2 params", text, len(args))
		}
		if !strings.Contains(text, ":") && sqlText != text {
			t.Fatalf("%q without placeholders became %q", text, sqlText)
		}

		expr, err := search.FilterData(text).BuildExpr(resolver)
		if err != nil {
			return
		}
		sqlText, args = expr.Positional()
		if len(args) != len(expr.Params) {
			t.Fatalf("%q: %d args for %d params in %s", text, len(args), len(expr.Params), expr.SQL)
		}
		for name := range expr.Params {
			if strings.Contains(sqlText, ":"+name) {
				t.Fatalf("%q: placeholder %s left in %s", text, name, sqlText)
			}
		}
	})
}
