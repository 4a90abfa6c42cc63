package picker

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidModifierData wraps the errors of a modifier applied to a picked value. The
// HTTP layer ignores them and sends the unpicked data, as PocketBase does; parse errors of
// the fields expression are returned as they are (a 400).
var ErrInvalidModifierData = errors.New("applying the field modifiers failed")

// Fields is a parsed ?fields= expression.
type Fields struct {
	// paths maps each listed path ("a", "expand.rel.name", "*") to its optional modifier.
	paths map[string]Modifier
}

// ParseFields parses a comma-separated fields expression such as
// "id,expand.author.name,description:excerpt(200,true)". Commas inside quotes or
// parentheses do not separate fields. Unknown modifiers, bad modifier arguments and
// unbalanced quotes or parentheses are errors.
func ParseFields(raw string) (*Fields, error) {
	tokens, err := splitTokens(raw, ",", false)
	if err != nil {
		return nil, fmt.Errorf("parsing fields: %w", err)
	}

	f := &Fields{paths: make(map[string]Modifier, len(tokens))}
	for _, token := range tokens {
		path, rawModifier, hasModifier := strings.Cut(strings.TrimSpace(token), ":")
		if !hasModifier {
			f.paths[path] = nil
			continue
		}

		m, err := parseModifier(rawModifier)
		if err != nil {
			return nil, fmt.Errorf("parsing fields: %w", err)
		}
		f.paths[path] = m
	}

	return f, nil
}

// Pick returns data with only the listed fields. Maps are filtered key by key (nested
// paths descend into maps and into lists of maps), other values are returned unchanged.
// data is not modified; unchanged sub-values are shared with the result.
func (f *Fields) Pick(data any) (any, error) {
	if f == nil || len(f.paths) == 0 {
		return data, nil
	}

	picked, err := pickValue(data, f.paths)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModifierData, err)
	}

	return picked, nil
}

// PickResult applies Pick to each item of a list response (the "items" key of a map),
// keeping page, perPage, totalItems and totalPages. Any other value is picked as a whole.
func (f *Fields) PickResult(data any) (any, error) {
	result, ok := data.(map[string]any)
	if !ok {
		return f.Pick(data)
	}

	items, err := f.Pick(result["items"])
	if err != nil {
		return nil, err
	}

	clone := make(map[string]any, len(result))
	for k, v := range result {
		clone[k] = v
	}
	clone["items"] = items

	return clone, nil
}

// Pick parses rawFields and picks them from data; see [Fields.Pick].
func Pick(data any, rawFields string) (any, error) {
	f, err := ParseFields(rawFields)
	if err != nil {
		return nil, err
	}
	return f.Pick(data)
}

// PickResult parses rawFields and picks them from each item of a list response; see
// [Fields.PickResult].
func PickResult(data any, rawFields string) (any, error) {
	f, err := ParseFields(rawFields)
	if err != nil {
		return nil, err
	}
	return f.PickResult(data)
}

func pickValue(data any, paths map[string]Modifier) (any, error) {
	switch v := data.(type) {
	case map[string]any:
		return pickMap(v, paths)
	case []map[string]any:
		result := make([]map[string]any, len(v))
		for i, item := range v {
			picked, err := pickMap(item, paths)
			if err != nil {
				return nil, err
			}
			result[i] = picked
		}
		return result, nil
	case []any:
		// note: like PocketBase, only lists whose first item is an object are picked;
		// non-object items of such lists are kept as they are.
		if len(v) == 0 {
			return v, nil
		}
		if _, ok := v[0].(map[string]any); !ok {
			return v, nil
		}

		result := make([]any, len(v))
		for i, item := range v {
			m, ok := item.(map[string]any)
			if !ok {
				result[i] = item
				continue
			}
			picked, err := pickMap(m, paths)
			if err != nil {
				return nil, err
			}
			result[i] = picked
		}
		return result, nil
	}

	return data, nil
}

// matchesKey reports whether path addresses key itself or something below it.
func matchesKey(path, key string) bool {
	return path == key || strings.HasPrefix(path, key+".")
}

func pickMap(data map[string]any, paths map[string]Modifier) (map[string]any, error) {
	if len(paths) == 0 {
		return data, nil
	}

	// "*" adds every key of this level that no other path addresses
	if m, ok := paths["*"]; ok {
		expanded := make(map[string]Modifier, len(paths)+len(data))
		for p, pm := range paths {
			expanded[p] = pm
		}
		for key := range data {
			addressed := false
			for p := range paths {
				if matchesKey(p, key) {
					addressed = true
					break
				}
			}
			if !addressed {
				expanded[key] = m
			}
		}
		paths = expanded
	}

	result := make(map[string]any, len(data))

	// note: PocketBase strips the key from the matching paths in a map it is ranging
	// over, so a path that repeats a segment ("a.a.b") may lose a level at random; this
	// strips it exactly once, which is PocketBase's usual result.
	for key, value := range data {
		var (
			nested map[string]Modifier
			whole  bool
			m      Modifier
		)

		for p, pm := range paths {
			if !matchesKey(p, key) {
				continue
			}

			// note: as in PocketBase, trailing dots are ignored ("rel." is "rel")
			rest := strings.TrimSuffix(strings.TrimPrefix(p+".", key+"."), ".")
			if rest == "" {
				whole, m = true, pm
				continue
			}
			if nested == nil {
				nested = map[string]Modifier{}
			}
			nested[rest] = pm
		}

		switch {
		case whole:
			// the key itself is listed: keep all of it, even if subpaths are listed too
			if m != nil {
				modified, err := m.Modify(value)
				if err != nil {
					return nil, fmt.Errorf("field %q: %w", key, err)
				}
				value = modified
			}
			result[key] = value
		case nested != nil:
			picked, err := pickValue(value, nested)
			if err != nil {
				return nil, err
			}
			result[key] = picked
		}
	}

	return result, nil
}
