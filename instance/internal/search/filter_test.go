package search_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ganigeorgiev/fexpr"
	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// testNow is the clock of the macro tests: Friday 2023-02-03 04:05:06 UTC.
var testNow = time.Date(2023, 2, 3, 4, 5, 6, 7, time.UTC)

func newTestResolver() *search.SimpleFieldResolver {
	return search.NewSimpleFieldResolver(
		"id", "title", "count", "flag", "created", "tags", "lon", "lat",
		"title:lower",
		`^test\w*$`,
		`^data\.[\w\.]*\w$`,
	)
}

func TestFilterDataBuildExpr(t *testing.T) {
	tests := []struct {
		name       string
		filter     search.FilterData
		wantSQL    string
		wantParams []string // sorted "type:value" of the bound parameters; nil skips the check
	}{
		// comparison operators
		{name: "equal text", filter: "title = 'abc'", wantSQL: "`title` = :P", wantParams: []string{"string:abc"}},
		{name: "not equal text", filter: "title != 'abc'", wantSQL: "`title` IS NOT :P", wantParams: []string{"string:abc"}},
		{name: "greater", filter: "count > 1", wantSQL: "`count` > :P", wantParams: []string{"float64:1"}},
		{name: "greater or equal", filter: "count >= -1.5", wantSQL: "`count` >= :P", wantParams: []string{"float64:-1.5"}},
		{name: "less", filter: "count < 10", wantSQL: "`count` < :P"},
		{name: "less or equal", filter: "count <= 10", wantSQL: "`count` <= :P"},
		{name: "like text", filter: "title ~ 'abc'", wantSQL: "`title` LIKE :P ESCAPE '\\'", wantParams: []string{"string:%abc%"}},
		{name: "not like text", filter: "title !~ 'abc'", wantSQL: "`title` NOT LIKE :P ESCAPE '\\'", wantParams: []string{"string:%abc%"}},
		{name: "like column", filter: "title ~ id", wantSQL: "`title` LIKE ('%' || `id` || '%') ESCAPE '\\'"},
		{name: "like text on the left", filter: "'abc' ~ title", wantSQL: ":P LIKE ('%' || `title` || '%') ESCAPE '\\'", wantParams: []string{"string:abc"}},
		{name: "not like column", filter: "title !~ id", wantSQL: "`title` NOT LIKE ('%' || `id` || '%') ESCAPE '\\'"},
		{name: "like with explicit wildcard", filter: "title ~ 'ab%'", wantSQL: "`title` LIKE :P ESCAPE '\\'", wantParams: []string{"string:ab%"}},
		{name: "like number", filter: "title ~ 12", wantSQL: "`title` LIKE :P ESCAPE '\\'", wantParams: []string{"string:%12%"}},
		{name: "like null", filter: "title ~ null", wantSQL: "`title` LIKE ('%' || NULL || '%') ESCAPE '\\'"},

		// the any-of operators give the same SQL for single-valued operands
		{name: "any equal", filter: "title ?= 'a'", wantSQL: "`title` = :P"},
		{name: "any not equal", filter: "title ?!= 'a'", wantSQL: "`title` IS NOT :P"},
		{name: "any greater", filter: "count ?> 1", wantSQL: "`count` > :P"},
		{name: "any greater or equal", filter: "count ?>= 1", wantSQL: "`count` >= :P"},
		{name: "any less", filter: "count ?< 1", wantSQL: "`count` < :P"},
		{name: "any less or equal", filter: "count ?<= 1", wantSQL: "`count` <= :P"},
		{name: "any like", filter: "title ?~ 'a'", wantSQL: "`title` LIKE :P ESCAPE '\\'"},
		{name: "any not like", filter: "title ?!~ 'a'", wantSQL: "`title` NOT LIKE :P ESCAPE '\\'"},

		// null and empty string (§6.4)
		{name: "equal empty text", filter: "title = ''", wantSQL: "(`title` = '' OR `title` IS NULL)", wantParams: []string{}},
		{name: "equal empty double quoted", filter: `title = ""`, wantSQL: "(`title` = '' OR `title` IS NULL)"},
		{name: "equal null", filter: "title = null", wantSQL: "(`title` = '' OR `title` IS NULL)"},
		{name: "equal NULL", filter: "title = NULL", wantSQL: "(`title` = '' OR `title` IS NULL)"},
		{name: "not equal empty", filter: "title != ''", wantSQL: "(`title` IS NOT '' AND `title` IS NOT NULL)"},
		{name: "not equal null", filter: "title != null", wantSQL: "(`title` IS NOT '' AND `title` IS NOT NULL)"},
		{name: "null on the left", filter: "null = title", wantSQL: "('' = `title` OR `title` IS NULL)"},
		{name: "empty vs null", filter: "'' = null && null != ''", wantSQL: "('' = '' AND '' IS NOT '')"},
		{name: "two columns coalesce", filter: "title = id", wantSQL: "COALESCE(`title`, '') = COALESCE(`id`, '')"},
		{name: "two columns not equal coalesce", filter: "title != id", wantSQL: "COALESCE(`title`, '') IS NOT COALESCE(`id`, '')"},
		{name: "zero is not empty", filter: "count = 0", wantSQL: "`count` = :P", wantParams: []string{"float64:0"}},
		{name: "true literal", filter: "flag = true", wantSQL: "`flag` = 1", wantParams: []string{}},
		{name: "false literal", filter: "flag != false", wantSQL: "`flag` IS NOT 0"},
		{name: "mixed case literals", filter: "flag = TRUE || flag = False", wantSQL: "(`flag` = 1 OR `flag` = 0)"},
		{name: "json path no coalesce", filter: "data.a = data.b || data.c != data.d", wantSQL: "(JSON_EXTRACT(`data`, '$.a') IS JSON_EXTRACT(`data`, '$.b') OR JSON_EXTRACT(`data`, '$.c') IS NOT JSON_EXTRACT(`data`, '$.d'))"},
		{name: "json path vs null", filter: "data.a.0 = null", wantSQL: "JSON_EXTRACT(`data`, '$.a[0]') IS NULL"},

		// grouping
		{
			name:   "groups and precedence",
			filter: "((test1 > 1) || (test2 != 2)) && test3 ~ '%%example' && test4 = null",
			// the terms of an AND run cheapest first: comparisons, groups, LIKE
			wantSQL: "((`test4` = '' OR `test4` IS NULL) AND (`test1` > :P OR `test2` IS NOT :P) AND `test3` LIKE :P ESCAPE '\\')",
		},
		{name: "like after comparisons", filter: "title ~ 'x' && count > 1", wantSQL: "(`count` > :P AND `title` LIKE :P ESCAPE '\\')"},
		{name: "order kept beside an or", filter: "title ~ 'x' && count > 1 || flag = true", wantSQL: "(`title` LIKE :P ESCAPE '\\' AND `count` > :P OR `flag` = 1)"},
		{name: "single nested group", filter: "(((title = 'a')))", wantSQL: "`title` = :P"},
		{name: "or of ands", filter: "title = 'a' && count > 1 || flag = true", wantSQL: "(`title` = :P AND `count` > :P OR `flag` = 1)"},
		{name: "comments and newlines", filter: "title = 'a' // first\n&& count > 1 // second", wantSQL: "(`title` = :P AND `count` > :P)"},

		// modifiers of the simple resolver
		{name: "lower modifier", filter: "title:lower = 'abc'", wantSQL: "LOWER(`title`) = :P"},

		// literals on both sides
		{name: "two numbers", filter: "2 < 5", wantSQL: ":P < :P", wantParams: []string{"float64:2", "float64:5"}},
		{name: "escaped quotes in text", filter: `title = 'it\'s "x"'`, wantSQL: "`title` = :P", wantParams: []string{`string:it's "x"`}},

		// SQL metacharacters stay parameters
		{
			name:       "sql injection attempt",
			filter:     `title = "'; DROP TABLE x; --" || title ~ "%' OR 1=1 --"`,
			wantSQL:    "(`title` = :P OR `title` LIKE :P ESCAPE '\\')",
			wantParams: []string{"string:%' OR 1=1 --", "string:'; DROP TABLE x; --"},
		},

		// functions
		{
			name:       "geoDistance numbers",
			filter:     "geoDistance(1,2,3,4) < 567",
			wantSQL:    "(6371 * acos(min(1, max(-1, cos(radians(:P)) * cos(radians(:P)) * cos(radians(:P) - radians(:P)) + sin(radians(:P)) * sin(radians(:P)))))) < :P",
			wantParams: []string{"float64:1", "float64:2", "float64:3", "float64:4", "float64:567"},
		},
		{
			name:    "geoDistance columns",
			filter:  "geoDistance(lon, lat, 23.4, 42.7) <= 20",
			wantSQL: "(6371 * acos(min(1, max(-1, cos(radians(`lat`)) * cos(radians(:P)) * cos(radians(:P) - radians(`lon`)) + sin(radians(`lat`)) * sin(radians(:P)))))) <= :P",
		},
		{name: "geoDistance equal is not coalesced", filter: "geoDistance(lon, lat, 1, 2) = 0", wantSQL: "(6371 * acos(min(1, max(-1, cos(radians(`lat`)) * cos(radians(:P)) * cos(radians(:P) - radians(`lon`)) + sin(radians(`lat`)) * sin(radians(:P)))))) IS :P"},
		{name: "strftime format only", filter: "strftime('%Y') = '2023'", wantSQL: "strftime(:P) = :P"},
		{name: "strftime with time value", filter: "strftime('%Y-%m', created) = '2023-02'", wantSQL: "strftime(:P,`created`) = :P"},
		{name: "strftime with modifiers", filter: "strftime('%Y', created, 'start of month', '+1 day') != ''", wantSQL: "(strftime(:P,`created`,:P,:P) IS NOT '' AND strftime(:P,`created`,:P,:P) IS NOT NULL)"},
		{name: "strftime vs column keeps coalesce", filter: "strftime('%Y', created) = title", wantSQL: "COALESCE(strftime(:P,`created`), '') = COALESCE(`title`, '')"},

		// datetime macros
		{name: "macro now", filter: "created > @now", wantSQL: "`created` > :P", wantParams: []string{"string:2023-02-03 04:05:06.000Z"}},
		{name: "macro todayStart", filter: "created >= @todayStart", wantParams: []string{"string:2023-02-03 00:00:00.000Z"}, wantSQL: "`created` >= :P"},
		{name: "macro weekday", filter: "count = @weekday", wantParams: []string{"int:5"}, wantSQL: "`count` = :P"},
	}

	resolver := newTestResolver()

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expr, err := tc.filter.BuildExprWithOptions(resolver, search.BuildOptions{Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}

			if diff := cmp.Diff(tc.wantSQL, normalizeSQL(expr.SQL)); diff != "" {
				t.Errorf("SQL mismatch (-want +got):\n%s", diff)
			}
			if tc.wantParams != nil {
				if diff := cmp.Diff(tc.wantParams, sortedValues(expr.Params)); diff != "" {
					t.Errorf("params mismatch (-want +got):\n%s", diff)
				}
			}

			assertParamsReferenced(t, expr)
			assertSafeSQL(t, expr.SQL)
		})
	}
}

func TestFilterDataBuildExprErrors(t *testing.T) {
	tests := []struct {
		name    string
		filter  search.FilterData
		wantErr error // checked with errors.Is, in addition to ErrInvalidFilter
	}{
		{name: "empty", filter: "", wantErr: fexpr.ErrEmpty},
		{name: "only whitespace", filter: "   \n ", wantErr: fexpr.ErrEmpty},
		{name: "only a comment", filter: "// nothing", wantErr: fexpr.ErrEmpty},
		{name: "empty group", filter: "()", wantErr: fexpr.ErrEmpty},
		{name: "empty group next to a comparison", filter: "() && title = 'a'", wantErr: fexpr.ErrEmpty},
		{name: "missing closing parenthesis", filter: "(title > 1"},
		{name: "unknown operator", filter: "title + 123"},
		{name: "double equal", filter: "title == 1"},
		{name: "missing right operand", filter: "title =", wantErr: fexpr.ErrIncomplete},
		{name: "missing join", filter: "title = 1 count = 2"},
		{name: "single ampersand", filter: "title = 1 & count = 2"},
		{name: "unterminated text", filter: "title = 'abc"},
		{name: "invalid number", filter: "count > 1."},
		{name: "invalid identifier", filter: "title. = 1"},
		{name: "unknown field", filter: "unknown > 1", wantErr: search.ErrUnknownField},
		{name: "unknown field after a valid one", filter: "title = 'example' && unknown > 1", wantErr: search.ErrUnknownField},
		{name: "unknown field on the right", filter: "title = unknown", wantErr: search.ErrUnknownField},
		{name: "unsupported modifier", filter: "test1:each = 1"},
		{name: "unknown function", filter: "foo(1) = 1"},
		{name: "geoDistance 3 arguments", filter: "geoDistance(1,2,3) < 1"},
		{name: "geoDistance text argument", filter: "geoDistance('a',2,3,4) < 1"},
		{name: "geoDistance unknown field argument", filter: "geoDistance(nope,2,3,4) < 1", wantErr: search.ErrUnknownField},
		{name: "strftime without arguments", filter: "strftime() = 1"},
		{name: "strftime number format", filter: "strftime(1) = 1"},
		{name: "strftime identifier modifier", filter: "strftime('%Y', created, title) = 1"},
		{name: "strftime too many arguments", filter: "strftime('%Y', created, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i') = 1"},
		{name: "nested functions too deep", filter: "a(b(c(d(1)))) = 1"},
		{name: "sql in an identifier position", filter: "title; DROP TABLE x = 1"},
	}

	resolver := newTestResolver()

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expr, err := tc.filter.BuildExpr(resolver)
			if err == nil {
				t.Fatalf("expected an error, got SQL %q", expr.SQL)
			}
			if !errors.Is(err, search.ErrInvalidFilter) {
				t.Errorf("error %q does not wrap ErrInvalidFilter", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %q does not wrap %q", err, tc.wantErr)
			}
			if err.Error() != strings.ToLower(err.Error()[:1])+err.Error()[1:] {
				t.Errorf("error %q is not lowercase", err)
			}
		})
	}
}

func TestFilterDataBuildExprLimit(t *testing.T) {
	resolver := search.NewSimpleFieldResolver(`^\w+$`)

	repeat := func(n int) search.FilterData {
		return search.FilterData(strings.TrimSuffix(strings.Repeat("a = 1 || ", n), " || "))
	}

	tests := []struct {
		name    string
		filter  search.FilterData
		limit   int
		wantErr bool
	}{
		{name: "default limit reached exactly", filter: repeat(search.DefaultFilterExprLimit)},
		{name: "default limit exceeded", filter: repeat(search.DefaultFilterExprLimit + 1), wantErr: true},
		{name: "custom limit", filter: "1 = 1 || 1 = 1", limit: 2},
		{name: "custom limit exceeded", filter: "1 = 1 || 1 = 1", limit: 1, wantErr: true},
		{name: "nested groups count leaves", filter: "(1=1 || 1=1) && (1=1 || (1=1 || 1=1)) && (1=1)", limit: 6},
		{name: "nested groups exceeded", filter: "(1=1 || 1=1) && (1=1 || (1=1 || 1=1)) && (1=1)", limit: 5, wantErr: true},
		{name: "negative limit rejects everything", filter: "1 = 1", limit: -1, wantErr: true},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.filter.BuildExprWithOptions(resolver, search.BuildOptions{MaxExpressions: tc.limit})
			if tc.wantErr {
				if !errors.Is(err, search.ErrFilterExprLimit) {
					t.Fatalf("expected ErrFilterExprLimit, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
		})
	}
}

type stringer struct{}

func (stringer) String() string { return "from-stringer" }

type brokenJSON struct{}

func (brokenJSON) MarshalJSON() ([]byte, error) { return nil, errors.New("broken") }

func TestFilterDataPlaceholders(t *testing.T) {
	resolver := search.NewSimpleFieldResolver(`^test\w+$`)

	filter := search.FilterData(`
		test1 = {:t1} || test2 = {:t2} || test3a = {:t3} || test3b = {:t3} ||
		test4 = {:t4} || test5 = {:t5} || test6 = {:t6} || test7 = {:t7} ||
		test8 = {:t8} || test9 = {:t9} || test10 = {:t10} || test11 = {:t11} ||
		test12 = {:t12} || test13 = {:t13} || test14 = {:missing}
	`)

	expr, err := filter.BuildExpr(resolver,
		search.Params{"t1": true, "t2": false, "t3": 123.456},
		search.Params{"t4": nil, "t5": "", "t6": "simple", "t7": `'single'`, "t8": `"double"`},
		search.Params{"t9": "'; DROP TABLE x; --", "t10": stringer{}, "t11": []string{"a", "'q", `"q`}},
		search.Params{"t12": map[string]any{"b": `q"`, "a": 1}, "t13": "a\nb<>&"},
		search.Params{"t1": "ignored: the first map wins"},
	)
	if err == nil {
		t.Fatalf("expected an error for the unreplaced {:missing}, got %q", expr.SQL)
	}

	filter = search.FilterData(strings.Replace(string(filter), "|| test14 = {:missing}", "", 1))
	expr, err = filter.BuildExpr(resolver,
		search.Params{"t1": true, "t2": false, "t3": 123.456},
		search.Params{"t4": nil, "t5": "", "t6": "simple", "t7": `'single'`, "t8": `"double"`},
		search.Params{"t9": "'; DROP TABLE x; --", "t10": stringer{}, "t11": []string{"a", "'q", `"q`}},
		search.Params{"t12": map[string]any{"b": `q"`, "a": 1}, "t13": "a\nb<>&"},
		search.Params{"t1": "ignored: the first map wins"},
	)
	if err != nil {
		t.Fatal(err)
	}

	wantSQL := "(`test1` = 1 OR `test2` = 0 OR `test3a` = :P OR `test3b` = :P OR " +
		"(`test4` = '' OR `test4` IS NULL) OR (`test5` = '' OR `test5` IS NULL) OR `test6` = :P OR `test7` = :P OR " +
		"`test8` = :P OR `test9` = :P OR `test10` = :P OR `test11` = :P OR `test12` = :P OR `test13` = :P)"
	if diff := cmp.Diff(wantSQL, normalizeSQL(expr.SQL)); diff != "" {
		t.Errorf("SQL mismatch (-want +got):\n%s", diff)
	}

	wantParams := []string{
		"float64:123.456", "float64:123.456",
		`string:"double"`, "string:'; DROP TABLE x; --", "string:'single'",
		`string:["a","'q","\"q"]`, "string:a\nb<>&",
		"string:from-stringer", "string:simple", `string:{"a":1,"b":"q\""}`,
	}
	if diff := cmp.Diff(wantParams, sortedValues(expr.Params)); diff != "" {
		t.Errorf("params mismatch (-want +got):\n%s", diff)
	}
	assertSafeSQL(t, expr.SQL)

	t.Run("unserializable value", func(t *testing.T) {
		_, err := search.FilterData("test1 = {:v}").BuildExpr(resolver, search.Params{"v": brokenJSON{}})
		if err == nil {
			t.Fatal("expected an error")
		}
	})

	t.Run("placeholder cannot inject operators", func(t *testing.T) {
		expr, err := search.FilterData("test1 = {:v}").BuildExpr(resolver, search.Params{"v": `x" || test2 != "y`})
		if err != nil {
			t.Fatal(err)
		}
		if got := normalizeSQL(expr.SQL); got != "`test1` = :P" {
			t.Fatalf("unexpected SQL %q", got)
		}
	})
}

func TestLikeParamsWrapping(t *testing.T) {
	tests := []struct {
		value string
		want  string
	}{
		{`abc`, `%abc%`},
		{`ab%c`, `ab%c`},
		{`ab\%c`, `%ab\%c%`},
		{`%ab\%c`, `%ab\%c`},
		{`ab\\%c`, `ab\\%c`},
		{`ab\\\%c`, `%ab\\\%c%`},
		{`ab_c`, `%ab\_c%`},
		{`ab\_c`, `%ab\_c%`},
		{`%ab_c`, `%ab_c`},
		{`ab\c`, `%ab\\c%`},
		{`_ab\c_`, `%\_ab\\c\_%`},
		{`ab\c%`, `ab\c%`},
		{"a\nb\\", "%a\nb\\\\%"},
		// note: PocketBase leaves the first of two adjacent wildcards unescaped
		{`__`, `%_\_%`},
		{`a__b`, `%a_\_b%`},
		{`___`, `%\__\_%`},
		{``, `%%`},
	}

	resolver := newTestResolver()

	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			expr, err := search.FilterData("title ~ {:v}").BuildExpr(resolver, search.Params{"v": tc.value})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"string:" + tc.want}, sortedValues(expr.Params)); diff != "" {
				t.Errorf("LIKE pattern mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilterDataMacros(t *testing.T) {
	tests := []struct {
		now   time.Time
		macro string
		want  any
	}{
		{testNow, "@now", "2023-02-03 04:05:06.000Z"},
		{testNow, "@yesterday", "2023-02-02 04:05:06.000Z"},
		{testNow, "@tomorrow", "2023-02-04 04:05:06.000Z"},
		{testNow, "@second", 6},
		{testNow, "@minute", 5},
		{testNow, "@hour", 4},
		{testNow, "@day", 3},
		{testNow, "@month", 2},
		{testNow, "@weekday", 5},
		{testNow, "@year", 2023},
		{testNow, "@todayStart", "2023-02-03 00:00:00.000Z"},
		{testNow, "@todayEnd", "2023-02-03 23:59:59.999Z"},
		{testNow, "@monthStart", "2023-02-01 00:00:00.000Z"},
		{testNow, "@monthEnd", "2023-02-28 23:59:59.999Z"},
		{testNow, "@yearStart", "2023-01-01 00:00:00.000Z"},
		{testNow, "@yearEnd", "2023-12-31 23:59:59.999Z"},
		// UTC: 23:30 on Dec 31 at UTC-5 is already the next year
		{time.Date(2024, 12, 31, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)), "@year", 2025},
		{time.Date(2024, 12, 31, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)), "@todayStart", "2025-01-01 00:00:00.000Z"},
		// leap year and 31-day months
		{time.Date(2024, 2, 10, 0, 0, 0, 0, time.UTC), "@monthEnd", "2024-02-29 23:59:59.999Z"},
		{time.Date(2024, 1, 31, 12, 0, 0, 0, time.UTC), "@monthEnd", "2024-01-31 23:59:59.999Z"},
		{time.Date(2024, 12, 5, 12, 0, 0, 0, time.UTC), "@monthEnd", "2024-12-31 23:59:59.999Z"},
		{time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), "@yesterday", "2024-02-29 00:00:00.000Z"},
	}

	resolver := newTestResolver()

	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %s", tc.macro, tc.now.Format(time.RFC3339)), func(t *testing.T) {
			now := tc.now
			expr, err := search.FilterData("created = "+tc.macro).BuildExprWithOptions(resolver, search.BuildOptions{
				Now: func() time.Time { return now },
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{fmt.Sprintf("%T:%v", tc.want, tc.want)}, sortedValues(expr.Params)); diff != "" {
				t.Errorf("macro value mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("unknown macro is a field", func(t *testing.T) {
		_, err := search.FilterData("created = @unknown").BuildExpr(resolver)
		if !errors.Is(err, search.ErrUnknownField) {
			t.Fatalf("expected ErrUnknownField, got %v", err)
		}
	})
}

func TestFilterDataDeepNesting(t *testing.T) {
	resolver := newTestResolver()
	depth := 1500
	filter := search.FilterData(strings.Repeat("(", depth) + "title = 'a'" + strings.Repeat(")", depth))

	expr, err := filter.BuildExpr(resolver)
	if err != nil {
		t.Fatal(err)
	}
	if got := normalizeSQL(expr.SQL); got != "`title` = :P" {
		t.Fatalf("unexpected SQL %q", got)
	}
}

func TestFilterDataConcurrentUse(t *testing.T) {
	resolver := newTestResolver()
	done := make(chan error)
	for i := range 8 {
		go func() {
			var err error
			for j := range 50 {
				_, e := search.FilterData(fmt.Sprintf("title = 'x%d' && count > %d", j%5, i)).BuildExpr(resolver)
				err = errors.Join(err, e)
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
