package search

import (
	"fmt"
	"strings"
)

// Special sort names.
const (
	// RandomSortKey sorts in random order (RANDOM()); its direction is ignored.
	RandomSortKey = "@random"
	// RowidSortKey sorts by SQLite's internal rowid (storage order).
	RowidSortKey = "@rowid"
)

// Sort directions.
const (
	// SortAsc is the ascending direction (no prefix or a '+' prefix).
	SortAsc = "ASC"
	// SortDesc is the descending direction (a '-' prefix).
	SortDesc = "DESC"
)

// SortField is one term of the sort list.
type SortField struct {
	// Name is the field path, or [RandomSortKey] or [RowidSortKey].
	Name string `json:"name"`
	// Direction is [SortAsc] or [SortDesc].
	Direction string `json:"direction"`
}

// BuildExpr returns the ORDER BY term for s, e.g. "`title` DESC". The field must resolve
// to an identifier without parameters (not a literal, not NULL). @rowid is not qualified
// with a table here; [Provider] qualifies it.
func (s SortField) BuildExpr(resolver FieldResolver) (string, error) {
	if s.Direction != SortAsc && s.Direction != SortDesc {
		return "", fmt.Errorf("%w %q: direction %q", ErrInvalidSortField, s.Name, s.Direction)
	}

	switch s.Name {
	case RandomSortKey:
		return "RANDOM()", nil
	case RowidSortKey:
		return QuoteIdent("_rowid_") + " " + s.Direction, nil
	}

	if resolver == nil {
		return "", fmt.Errorf("%w %q: missing field resolver", ErrInvalidSortField, s.Name)
	}

	result, err := resolver.Resolve(s.Name)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrInvalidSortField, s.Name, err)
	}
	if result == nil || len(result.Params) > 0 || result.Identifier == "" || strings.EqualFold(result.Identifier, "null") {
		return "", fmt.Errorf("%w %q", ErrInvalidSortField, s.Name)
	}

	return result.Identifier + " " + s.Direction, nil
}

// ParseSortFromString splits a sort expression such as "-created,+title,@random" into
// fields: a '-' prefix means descending, a '+' prefix or none ascending. Spaces around
// the names are trimmed; empty names are kept (they fail in BuildExpr, as in PocketBase).
func ParseSortFromString(str string) []SortField {
	parts := strings.Split(str, ",")
	fields := make([]SortField, 0, len(parts))

	for _, part := range parts {
		part = strings.TrimSpace(part)
		if name, ok := strings.CutPrefix(part, "-"); ok {
			fields = append(fields, SortField{Name: name, Direction: SortDesc})
		} else {
			fields = append(fields, SortField{Name: strings.TrimPrefix(part, "+"), Direction: SortAsc})
		}
	}

	return fields
}
