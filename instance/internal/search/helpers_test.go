package search_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

var (
	paramRe = regexp.MustCompile(`:p[a-z0-9]{12}\b`)
	aliasRe = regexp.MustCompile("`__(sm|ml|mr)[a-z0-9]{8}`")
)

// normalizeSQL replaces the random placeholder names with ":P" and the random multi-match
// aliases with `__sm`, `__ml` and `__mr`, so that built SQL can be compared exactly.
func normalizeSQL(sql string) string {
	sql = paramRe.ReplaceAllString(sql, ":P")
	return aliasRe.ReplaceAllString(sql, "`__$1`")
}

// sortedValues returns the parameter values as sorted strings, for order-free comparison.
func sortedValues(p search.Params) []string {
	values := make([]string, 0, len(p))
	for _, v := range p {
		values = append(values, fmt.Sprintf("%T:%v", v, v))
	}
	slices.Sort(values)
	return values
}

// assertParamsReferenced fails when a placeholder of the SQL has no value.
func assertParamsReferenced(t testing.TB, e search.Expr) {
	t.Helper()
	for _, m := range paramRe.FindAllString(e.SQL, -1) {
		if _, ok := e.Params[strings.TrimPrefix(m, ":")]; !ok {
			t.Fatalf("placeholder %s has no value in %v\nSQL: %s", m, e.Params, e.SQL)
		}
	}
}

// sqlKeywords is everything, besides quoted identifiers, placeholders and numbers, that the
// builders of this package may write into SQL.
var sqlKeywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "IS": true, "NULL": true, "LIKE": true, "ESCAPE": true,
	"COALESCE": true, "EXISTS": true, "SELECT": true, "FROM": true, "WHERE": true, "LEFT": true,
	"JOIN": true, "AS": true, "ON": true, "DISTINCT": true, "ORDER": true, "BY": true, "ASC": true,
	"DESC": true, "LIMIT": true, "OFFSET": true, "COUNT": true, "RANDOM": true, "JSON_EXTRACT": true,
	"LOWER": true, "acos": true, "min": true, "max": true, "cos": true, "sin": true, "radians": true,
	"strftime": true,
}

// allowedLiteralRe matches the only single-quoted SQL literals the builders write: ”, '%',
// '\' and the JSON paths of SimpleFieldResolver (made of columnified characters).
var allowedLiteralRe = regexp.MustCompile(`^'(|%|\\|\$[\w.\[\]*@#-]*)'$`)

// assertSafeSQL fails unless the SQL consists only of backtick-quoted identifiers,
// placeholders, numbers, the allowed literals, keywords and operators: no value written
// in a filter can reach the SQL text.
func assertSafeSQL(t testing.TB, sql string) {
	t.Helper()

	rest := sql
	for rest != "" {
		c := rest[0]
		switch {
		case c == '`':
			end := strings.IndexByte(rest[1:], '`')
			if end < 0 {
				t.Fatalf("unterminated identifier in SQL: %s", sql)
			}
			rest = rest[end+2:]
		case c == '\'':
			end := strings.IndexByte(rest[1:], '\'')
			if end < 0 {
				t.Fatalf("unterminated literal in SQL: %s", sql)
			}
			lit := rest[:end+2]
			if !allowedLiteralRe.MatchString(lit) {
				t.Fatalf("unexpected literal %s in SQL: %s", lit, sql)
			}
			rest = rest[end+2:]
		case c == ':':
			m := paramRe.FindStringIndex(rest)
			if m == nil || m[0] != 0 {
				t.Fatalf("unexpected ':' in SQL: %s", sql)
			}
			rest = rest[m[1]:]
		case c >= '0' && c <= '9':
			i := 0
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			rest = rest[i:]
		case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			i := 0
			for i < len(rest) && (rest[i] == '_' || (rest[i] >= 'a' && rest[i] <= 'z') || (rest[i] >= 'A' && rest[i] <= 'Z') || (rest[i] >= '0' && rest[i] <= '9')) {
				i++
			}
			if word := rest[:i]; !sqlKeywords[word] {
				t.Fatalf("unexpected word %q in SQL: %s", word, sql)
			}
			rest = rest[i:]
		case strings.IndexByte(" ().,=<>|*-+", c) >= 0:
			rest = rest[1:]
		default:
			t.Fatalf("unexpected character %q in SQL: %s", c, sql)
		}
	}
}
