package picker

import (
	"fmt"
	"strings"
)

// trimCutset are the whitespace characters trimmed around tokens (PocketBase's tokenizer).
const trimCutset = "\t\n\v\f\r \u0085\u00a0"

// splitTokens splits s at the separator characters that are outside quotes ('"`) and,
// unless parensAreSeparators, outside parentheses. A backslash escapes the next quote or
// parenthesis. Tokens are trimmed of whitespace that is not a separator and empty tokens
// are dropped. Unbalanced quotes or parentheses are an error.
//
// note: PocketBase's tokenizer reads NUL as its end-of-input marker: a NUL ends the
// current token, and a NUL where a token would start ends the input. Kept for identical
// results with "%00" in query strings.
func splitTokens(s string, separators string, parensAreSeparators bool) ([]string, error) {
	cutset := trimCutset
	for _, sep := range separators {
		cutset = strings.ReplaceAll(cutset, string(sep), "")
	}

	runes := []rune(s)
	tokens := []string{}

	for pos := 0; pos < len(runes) && runes[pos] != 0; {
		var (
			buf    strings.Builder
			parens int
			quote  rune
			prev   rune
		)

		for pos < len(runes) {
			ch := runes[pos]
			pos++

			if ch == 0 {
				break
			}

			if prev != '\\' {
				switch {
				case !parensAreSeparators && ch == '(' && quote == 0:
					parens++
				case !parensAreSeparators && ch == ')' && parens > 0 && quote == 0:
					parens--
				case ch == '\'' || ch == '"' || ch == '`':
					switch quote {
					case ch:
						quote = 0
					case 0:
						quote = ch
					}
				}
			}

			if strings.ContainsRune(separators, ch) && parens == 0 && quote == 0 {
				break
			}

			prev = ch
			buf.WriteRune(ch)
		}

		if parens > 0 || quote != 0 {
			return nil, fmt.Errorf("unbalanced parenthesis or quoted expression: %q", buf.String())
		}

		if token := strings.Trim(buf.String(), cutset); token != "" {
			tokens = append(tokens, token)
		}
	}

	return tokens, nil
}
