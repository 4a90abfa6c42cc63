package search

import (
	"slices"
	"strconv"
	"strings"
)

// SelectQuery is a minimal SELECT builder: the base query of a [Provider], which
// [FieldResolver.UpdateQuery] may extend with joins or DISTINCT.
type SelectQuery struct {
	// Selects are the SQL result columns; empty means "*".
	Selects []string
	// From is the plain name of the queried table.
	From string
	// Alias is the optional plain alias of From.
	Alias string
	// Distinct adds DISTINCT (set by resolvers that join multi-valued relations).
	Distinct bool
	// Joins are the LEFT JOIN clauses, in order.
	Joins []Join
	// Where holds the conditions, combined with AND.
	Where []Expr
	// OrderBy holds the SQL ORDER BY terms, in order.
	OrderBy []string
	// Limit is the LIMIT; a value <= 0 means no limit.
	Limit int64
	// Offset is the OFFSET; a value <= 0 means none.
	Offset int64
	// ReverseScan reads the rows of From newest first (descending rowid) before they
	// are sorted, through a subquery aliased as the main table. It is ignored without
	// ORDER BY or LIMIT and with joins or DISTINCT.
	//
	// SQLite keeps the best LIMIT+OFFSET rows of a sort in a b-tree and skips the rows
	// that cannot enter it with one comparison. Rows read oldest first enter it one by
	// one when the sort is descending on a column that grows with them (created), which
	// costs a b-tree insert and delete per row of the table. Read newest first, almost
	// all of them are skipped. Set it only when ORDER BY is a total order (it ends with
	// a unique column): rows that tie on every term would otherwise come in another
	// order.
	ReverseScan bool
}

// NewSelectQuery returns a "SELECT * FROM `table`" query.
func NewSelectQuery(table string) *SelectQuery {
	return &SelectQuery{From: table}
}

// Clone returns a copy of q that shares no slice with it.
func (q *SelectQuery) Clone() *SelectQuery {
	clone := *q
	clone.Selects = append([]string(nil), q.Selects...)
	clone.Joins = append([]Join(nil), q.Joins...)
	clone.Where = append([]Expr(nil), q.Where...)
	clone.OrderBy = append([]string(nil), q.OrderBy...)
	return &clone
}

// TableAlias returns the name the columns of the main table are qualified with: Alias,
// or From when there is no alias.
func (q *SelectQuery) TableAlias() string {
	if q.Alias != "" {
		return q.Alias
	}
	return q.From
}

// AndWhere adds a condition; empty expressions are ignored.
func (q *SelectQuery) AndWhere(e Expr) *SelectQuery {
	if !e.IsEmpty() {
		q.Where = append(q.Where, e)
	}
	return q
}

// LeftJoin adds a LEFT JOIN of table (SQL) as alias (plain name).
func (q *SelectQuery) LeftJoin(table, alias string, on Expr) *SelectQuery {
	q.Joins = append(q.Joins, Join{Table: table, Alias: alias, On: on})
	return q
}

// HasJoin reports whether a join with the given alias was already added.
func (q *SelectQuery) HasJoin(alias string) bool {
	for _, j := range q.Joins {
		if j.Alias == alias {
			return true
		}
	}
	return false
}

// AndOrderBy appends ORDER BY terms (SQL, e.g. "`title` DESC").
func (q *SelectQuery) AndOrderBy(terms ...string) *SelectQuery {
	q.OrderBy = append(q.OrderBy, terms...)
	return q
}

// Build renders the query.
func (q *SelectQuery) Build() Expr {
	var b strings.Builder
	params := []Params{}

	b.WriteString("SELECT ")
	if q.Distinct {
		b.WriteString("DISTINCT ")
	}
	if len(q.Selects) == 0 {
		b.WriteString("*")
	} else {
		b.WriteString(strings.Join(q.Selects, ", "))
	}

	b.WriteString(" FROM ")
	reverse := q.ReverseScan && len(q.OrderBy) > 0 && q.Limit > 0 && len(q.Joins) == 0 && !q.Distinct
	if reverse {
		if cols, ok := q.sortColumns(); ok {
			return q.buildNarrowReverse(cols)
		}
		// note: a subquery with a LIMIT is not flattened into an outer query that has
		// one (SQLite's flattening rule 13): it runs as a co-routine that hands its rows
		// to the outer sort in its order. The WHERE goes inside, where it can use indexes;
		// it sees the same names since the subquery is aliased as the table.
		b.WriteString("(SELECT * FROM ")
	}
	b.WriteString(QuoteIdent(q.From))
	if q.Alias != "" {
		b.WriteString(" ")
		b.WriteString(QuoteIdent(q.Alias))
	}

	for _, j := range q.Joins {
		sql, p := j.build()
		b.WriteString(" ")
		b.WriteString(sql)
		params = append(params, p)
	}

	if where := And(q.Where...); !where.IsEmpty() {
		b.WriteString(" WHERE ")
		b.WriteString(where.SQL)
		params = append(params, where.Params)
	}

	if reverse {
		b.WriteString(" ORDER BY ")
		b.WriteString(QuoteIdent(q.TableAlias(), "_rowid_"))
		b.WriteString(" DESC LIMIT -1) AS ")
		b.WriteString(QuoteIdent(q.TableAlias()))
	}

	if len(q.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		b.WriteString(strings.Join(q.OrderBy, ", "))
	}
	q.writeLimit(&b)

	return Expr{SQL: b.String(), Params: mergeParams(params...)}
}

// writeLimit writes the LIMIT and OFFSET clauses.
func (q *SelectQuery) writeLimit(b *strings.Builder) {
	switch {
	case q.Limit > 0:
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.FormatInt(q.Limit, 10))
	case q.Offset > 0:
		// note: SQLite accepts OFFSET only after a LIMIT; -1 means no limit.
		b.WriteString(" LIMIT -1")
	}
	if q.Offset > 0 {
		b.WriteString(" OFFSET ")
		b.WriteString(strconv.FormatInt(q.Offset, 10))
	}
}

// sortColumns returns the columns of the main table that the ORDER BY terms are, when
// each term is a plain "`alias`.`column` ASC|DESC".
func (q *SelectQuery) sortColumns() ([]string, bool) {
	prefix := QuoteIdent(q.TableAlias()) + ".`"
	cols := make([]string, 0, len(q.OrderBy))
	for _, term := range q.OrderBy {
		ident, ok := strings.CutSuffix(term, " "+SortDesc)
		if !ok {
			ident, ok = strings.CutSuffix(term, " "+SortAsc)
		}
		if !ok {
			return nil, false
		}
		col, ok := strings.CutPrefix(ident, prefix)
		if !ok {
			return nil, false
		}
		col, ok = strings.CutSuffix(col, "`")
		if !ok || col == "" || strings.Contains(col, "`") {
			return nil, false
		}
		if !slices.Contains(cols, col) {
			cols = append(cols, col)
		}
	}

	return cols, true
}

// buildNarrowReverse renders a [SelectQuery.ReverseScan] whose ORDER BY terms are the
// columns cols: the sort reads only the rowid and those columns, newest first, and the
// page's rows are then fetched by rowid and put in the same (total) order.
func (q *SelectQuery) buildNarrowReverse(cols []string) Expr {
	alias := q.TableAlias()
	rowid := QuoteIdent(alias, "_rowid_")
	from := QuoteIdent(q.From)
	if q.Alias != "" {
		from += " " + QuoteIdent(q.Alias)
	}
	orderBy := strings.Join(q.OrderBy, ", ")

	var b strings.Builder
	b.WriteString("SELECT ")
	if len(q.Selects) == 0 {
		b.WriteString("*")
	} else {
		b.WriteString(strings.Join(q.Selects, ", "))
	}
	b.WriteString(" FROM " + from + " WHERE " + rowid + " IN (")

	// the page's rowids, sorted from a subquery named as the table
	b.WriteString("SELECT " + rowid + " FROM (")

	// the rows newest first, narrowed to the rowid and the sorted columns
	b.WriteString("SELECT " + rowid + " AS " + QuoteIdent("_rowid_"))
	for _, col := range cols {
		b.WriteString(", " + QuoteIdent(alias, col))
	}
	b.WriteString(" FROM " + from)
	where := And(q.Where...)
	if !where.IsEmpty() {
		b.WriteString(" WHERE " + where.SQL)
	}
	b.WriteString(" ORDER BY " + rowid + " DESC LIMIT -1) AS " + QuoteIdent(alias))

	b.WriteString(" ORDER BY " + orderBy)
	q.writeLimit(&b)
	b.WriteString(") ORDER BY " + orderBy)

	return Expr{SQL: b.String(), Params: where.Params}
}
