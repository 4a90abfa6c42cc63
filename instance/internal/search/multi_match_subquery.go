package search

import (
	"errors"
	"strings"
)

// Join is one LEFT JOIN clause.
type Join struct {
	// Table is the SQL of the joined table: a quoted name (see [QuoteIdent]) or a
	// table-valued function such as json_each(...).
	Table string
	// Alias is the plain alias of the joined table; it is quoted when built.
	Alias string
	// On is the optional join condition.
	On Expr
}

func (j Join) build() (string, Params) {
	sql := "LEFT JOIN " + j.Table + " " + QuoteIdent(j.Alias)
	if j.On.IsEmpty() {
		return sql, nil
	}
	return sql + " ON " + j.On.SQL, j.On.Params
}

// MultiMatchSubquery selects every value of a multi-valued operand for the current row of
// the outer query, as a single multiMatchValue column:
//
//	SELECT <ValueIdentifier> AS `multiMatchValue` FROM `<FromTableName>` `<FromTableAlias>`
//	LEFT JOIN ... WHERE `<FromTableAlias>`.`id` = `<TargetTableAlias>`.`id`
//
// The filter builder uses it to require that a comparison without "?" holds for all values.
type MultiMatchSubquery struct {
	// TargetTableAlias is the plain alias of the outer table the subquery correlates with.
	TargetTableAlias string
	// FromTableName is the plain name of the table the subquery starts from (the same
	// table as the outer one).
	FromTableName string
	// FromTableAlias is the plain alias of FromTableName inside the subquery.
	FromTableAlias string
	// ValueIdentifier is the SQL of the value, in terms of the subquery's aliases.
	ValueIdentifier string
	// Joins are the subquery's own joins.
	Joins []Join
	// Params holds the values of the placeholders used by ValueIdentifier and Joins.
	Params Params
}

var errIncompleteMultiMatch = errors.New("incomplete multi-match subquery")

// Clone returns a copy of m that shares no slice or map with it.
func (m *MultiMatchSubquery) Clone() *MultiMatchSubquery {
	if m == nil {
		return nil
	}

	clone := *m
	clone.Joins = append([]Join(nil), m.Joins...)
	clone.Params = mergeParams(m.Params)

	return &clone
}

// Build returns the subquery SQL and its parameters. It fails when the table names, the
// aliases or the value are missing.
func (m *MultiMatchSubquery) Build() (Expr, error) {
	if m == nil || m.TargetTableAlias == "" || m.FromTableName == "" || m.FromTableAlias == "" || m.ValueIdentifier == "" {
		return Expr{}, errIncompleteMultiMatch
	}

	params := []Params{m.Params}

	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(m.ValueIdentifier)
	b.WriteString(" AS `multiMatchValue` FROM ")
	b.WriteString(QuoteIdent(m.FromTableName))
	b.WriteString(" ")
	b.WriteString(QuoteIdent(m.FromTableAlias))
	for _, j := range m.Joins {
		sql, p := j.build()
		b.WriteString(" ")
		b.WriteString(sql)
		params = append(params, p)
	}
	b.WriteString(" WHERE ")
	b.WriteString(QuoteIdent(m.FromTableAlias, "id"))
	b.WriteString(" = ")
	b.WriteString(QuoteIdent(m.TargetTableAlias, "id"))

	return Expr{SQL: b.String(), Params: mergeParams(params...)}, nil
}
