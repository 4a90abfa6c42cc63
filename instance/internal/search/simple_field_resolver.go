package search

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// NullFallbackPreference tells the = and != builders how to treat NULL and the empty
// string for an operand.
type NullFallbackPreference int

const (
	// NullFallbackAuto lets the builder treat NULL and the empty string as equal, using COALESCE or an
	// explicit "IS NULL" branch only when an operand may be empty (the default).
	NullFallbackAuto NullFallbackPreference = iota
	// NullFallbackDisabled compares the operands as they are with IS / IS NOT (e.g. JSON
	// values, where NULL and the empty string differ). It is PocketBase's "no coalesce".
	NullFallbackDisabled
	// NullFallbackEnforced keeps the NULL/empty-string normalization even when the other operand is
	// a known non-empty value (e.g. strftime(), which yields NULL for invalid dates).
	NullFallbackEnforced
)

// ResolverResult is what a [FieldResolver] returns for one identifier.
type ResolverResult struct {
	// Identifier is the SQL for the operand: a quoted column, an SQL expression, NULL, or a
	// ":name" placeholder whose value is in Params.
	Identifier string

	// NullFallback tells how NULL and the empty string are compared for this operand (default auto).
	NullFallback NullFallbackPreference

	// Params holds the values of the placeholders used in Identifier.
	Params Params

	// MultiMatchSubQuery, when set, marks the operand as multi-valued (a :each, a
	// multiple relation, a back-relation, @collection…): a comparison without a "?"
	// operator must then hold for every value, which is checked with a NOT EXISTS over
	// this subquery.
	MultiMatchSubQuery *MultiMatchSubquery

	// AfterBuild, when set, is called with the built comparison and returns the
	// expression to use instead (e.g. to AND an extra condition or to substitute a
	// placeholder identifier).
	AfterBuild func(expr Expr) Expr
}

// FieldResolver resolves filter and sort identifiers to SQL.
type FieldResolver interface {
	// UpdateQuery adds to query what the resolved identifiers need (joins, DISTINCT…).
	// [Provider] calls it after the filters and the sort have been resolved.
	UpdateQuery(query *SelectQuery) error

	// Resolve returns the SQL operand for field, or an error when the field is unknown or
	// not allowed.
	Resolve(field string) (*ResolverResult, error)
}

// SimpleFieldResolver resolves only allow-listed fields to plain columns of the queried
// table. A dotted field ("data.a.0") resolves to JSON_EXTRACT on its first segment, and a
// ":lower" suffix wraps the operand in LOWER().
//
// It is meant for tests and simple tables; records use core's resolver.
type SimpleFieldResolver struct {
	exact    map[string]struct{}
	patterns []*regexp.Regexp
}

var _ FieldResolver = (*SimpleFieldResolver)(nil)

// NewSimpleFieldResolver returns a resolver that accepts the given fields. An entry that
// starts with '^' and ends with '$' is a regular expression (e.g. `^\w+$`); any other
// entry must match exactly. Invalid patterns are ignored, and an empty list allows
// nothing.
func NewSimpleFieldResolver(allowedFields ...string) *SimpleFieldResolver {
	r := &SimpleFieldResolver{exact: make(map[string]struct{}, len(allowedFields))}

	for _, f := range allowedFields {
		if strings.HasPrefix(f, "^") && strings.HasSuffix(f, "$") {
			if re, err := regexp.Compile(f); err == nil {
				r.patterns = append(r.patterns, re)
			}
			continue
		}
		r.exact[f] = struct{}{}
	}

	return r
}

// UpdateQuery implements [FieldResolver]; a simple resolver needs no joins.
func (r *SimpleFieldResolver) UpdateQuery(*SelectQuery) error {
	return nil
}

// Resolve implements [FieldResolver].
func (r *SimpleFieldResolver) Resolve(field string) (*ResolverResult, error) {
	if !r.allowed(field) {
		return nil, fmt.Errorf("resolving %q: %w", field, ErrUnknownField)
	}

	path, modifier, hasModifier := strings.Cut(field, ":")
	if hasModifier && modifier != "lower" {
		return nil, fmt.Errorf("resolving %q: unsupported modifier %q", field, modifier)
	}

	parts := strings.Split(path, ".")

	column := Columnify(parts[0])
	if column == "" {
		return nil, fmt.Errorf("resolving %q: %w", field, ErrUnknownField)
	}

	result := &ResolverResult{Identifier: QuoteIdent(column)}

	// a dotted path addresses a JSON value inside the column
	if len(parts) > 1 {
		var jsonPath strings.Builder
		jsonPath.WriteString("$")
		for _, part := range parts[1:] {
			part = Columnify(part)
			if _, err := strconv.Atoi(part); err == nil {
				jsonPath.WriteString("[" + part + "]")
			} else {
				jsonPath.WriteString("." + part)
			}
		}

		result.NullFallback = NullFallbackDisabled
		result.Identifier = fmt.Sprintf("JSON_EXTRACT(%s, '%s')", result.Identifier, jsonPath.String())
	}

	if hasModifier {
		result.Identifier = "LOWER(" + result.Identifier + ")"
	}

	return result, nil
}

func (r *SimpleFieldResolver) allowed(field string) bool {
	if _, ok := r.exact[field]; ok {
		return true
	}

	for _, re := range r.patterns {
		if re.MatchString(field) {
			return true
		}
	}

	return false
}

// Columnify strips every character that is not an ASCII letter, digit or one of
// "_.*-@#" from s, the way PocketBase sanitizes column and table names.
func Columnify(s string) string {
	var b strings.Builder
	b.Grow(len(s))

	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '_', c == '.', c == '*', c == '-', c == '@', c == '#':
			b.WriteByte(c)
		}
	}

	return b.String()
}
