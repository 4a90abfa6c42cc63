package search

import (
	"strconv"
	"strings"
)

// Positional returns e's SQL with every ":name" placeholder of e.Params replaced by a
// numbered one ("?1", "?2"… in order of first appearance) and the matching values in
// that order.
//
// The placeholder names of resolvers are random (see [NewParamName]), so the same query
// built twice has two SQL texts; its positional form is the same text each time, which
// lets a connection reuse the statement it prepared for it.
//
// Placeholders are only looked for outside string literals and quoted identifiers; a
// ":name" that e.Params does not hold is left as it is.
func (e Expr) Positional() (string, []any) {
	if len(e.Params) == 0 {
		return e.SQL, nil
	}

	sqlText := e.SQL
	var b strings.Builder
	b.Grow(len(sqlText))
	args := make([]any, 0, len(e.Params))
	index := make(map[string]int, len(e.Params))
	last := 0
	for i := 0; i < len(sqlText); i++ {
		switch c := sqlText[i]; c {
		case '\'', '"', '`':
			i = skipQuoted(sqlText, i, c)
		case '[':
			i = skipQuoted(sqlText, i, ']')
		case ':':
			end := i + 1
			for end < len(sqlText) && isParamNameChar(sqlText[end]) {
				end++
			}
			name := sqlText[i+1 : end]
			value, ok := e.Params[name]
			if !ok {
				continue
			}
			n, seen := index[name]
			if !seen {
				args = append(args, value)
				n = len(args)
				index[name] = n
			}
			b.WriteString(sqlText[last:i])
			b.WriteByte('?')
			b.WriteString(strconv.Itoa(n))
			last = end
			i = end - 1
		}
	}
	b.WriteString(sqlText[last:])

	return b.String(), args
}

// skipQuoted returns the index of the quote that closes the one opened at sqlText[start]
// (a doubled closing quote is an escaped one), or the last index when it is unclosed.
func skipQuoted(sqlText string, start int, closing byte) int {
	for i := start + 1; i < len(sqlText); i++ {
		if sqlText[i] != closing {
			continue
		}
		if closing != ']' && i+1 < len(sqlText) && sqlText[i+1] == closing {
			i++
			continue
		}
		return i
	}
	return len(sqlText) - 1
}

// isParamNameChar reports whether c can be part of a placeholder name (SQLite's
// identifier characters, ASCII only: the names are generated).
func isParamNameChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
