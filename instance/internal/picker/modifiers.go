package picker

import (
	"fmt"
	"strconv"
)

// Modifier transforms the value of a picked field, e.g. :excerpt(200, true).
type Modifier interface {
	// Modify returns the new value. Values the modifier does not apply to are returned
	// unchanged.
	Modify(value any) (any, error)
}

// modifierFactory builds a Modifier from its raw arguments.
type modifierFactory func(args ...string) (Modifier, error)

var modifiers = map[string]modifierFactory{
	"excerpt": func(args ...string) (Modifier, error) { return newExcerptModifier(args...) },
}

// parseModifier parses "name(arg1, arg2)" (parentheses, commas and spaces all separate).
func parseModifier(raw string) (Modifier, error) {
	parts, err := splitTokens(raw, "(), ", true)
	if err != nil {
		return nil, fmt.Errorf("parsing modifier %q: %w", raw, err)
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("invalid or empty modifier expression %q", raw)
	}

	factory, ok := modifiers[parts[0]]
	if !ok {
		return nil, fmt.Errorf("missing or invalid modifier %q", parts[0])
	}

	return factory(parts[1:]...)
}

// toInt parses an integer argument like PocketBase's cast.ToInt: base prefixes are
// honoured ("0x10"), a zero decimal part is ignored ("10.0"), anything else is 0.
func toInt(s string) int {
	n, err := strconv.ParseInt(trimZeroDecimal(s), 0, 0)
	if err != nil {
		return 0
	}
	return int(n)
}

// trimZeroDecimal drops a trailing ".0…" from s.
func trimZeroDecimal(s string) string {
	foundZero := false
	for i := len(s); i > 0; i-- {
		switch s[i-1] {
		case '.':
			if foundZero {
				return s[:i-1]
			}
		case '0':
			foundZero = true
		default:
			return s
		}
	}
	return s
}

// toBool parses a boolean argument like strconv.ParseBool; anything else is false.
func toBool(s string) bool {
	b, err := strconv.ParseBool(s)
	return err == nil && b
}
