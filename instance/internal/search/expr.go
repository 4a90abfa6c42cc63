package search

import (
	"database/sql"
	"math/rand/v2"
	"slices"
	"strings"
)

// Params maps placeholder names (without the leading ':') to the values bound to them.
type Params map[string]any

// Expr is a SQL fragment plus the named parameters it references as ":name".
//
// The zero Expr is empty and is skipped by [And] and [Or].
type Expr struct {
	// SQL is the fragment text. Values never appear in it, only ":name" placeholders.
	SQL string
	// Params holds the values of the placeholders used in SQL.
	Params Params
}

// NewExpr returns an Expr with the given SQL and parameters.
func NewExpr(sql string, params Params) Expr {
	return Expr{SQL: sql, Params: params}
}

// IsEmpty reports whether e has no SQL.
func (e Expr) IsEmpty() bool {
	return strings.TrimSpace(e.SQL) == ""
}

// Args returns the parameters as [database/sql.NamedArg] values sorted by name, ready to
// be passed to db.Query(e.SQL, e.Args()...). modernc.org/sqlite ignores named arguments
// that the statement does not reference.
func (e Expr) Args() []any {
	names := make([]string, 0, len(e.Params))
	for name := range e.Params {
		names = append(names, name)
	}
	slices.Sort(names)

	args := make([]any, 0, len(names))
	for _, name := range names {
		args = append(args, sql.Named(name, e.Params[name]))
	}

	return args
}

// And joins the non-empty expressions with AND, each enclosed in parentheses.
// A single non-empty expression is returned unchanged.
func And(exprs ...Expr) Expr {
	return join("AND", exprs)
}

// Or joins the non-empty expressions with OR, each enclosed in parentheses.
// A single non-empty expression is returned unchanged.
func Or(exprs ...Expr) Expr {
	return join("OR", exprs)
}

func join(op string, exprs []Expr) Expr {
	parts := make([]Expr, 0, len(exprs))
	for _, e := range exprs {
		if !e.IsEmpty() {
			parts = append(parts, e)
		}
	}

	switch len(parts) {
	case 0:
		return Expr{}
	case 1:
		return parts[0]
	}

	sqls := make([]string, len(parts))
	params := make([]Params, len(parts))
	for i, p := range parts {
		sqls[i] = "(" + p.SQL + ")"
		params[i] = p.Params
	}

	return Expr{SQL: strings.Join(sqls, " "+op+" "), Params: mergeParams(params...)}
}

// Not negates e as "NOT (e)". An empty e stays empty.
func Not(e Expr) Expr {
	if e.IsEmpty() {
		return e
	}
	return Expr{SQL: "NOT (" + e.SQL + ")", Params: e.Params}
}

// Enclose wraps e in parentheses. An empty e stays empty.
func Enclose(e Expr) Expr {
	if e.IsEmpty() {
		return e
	}
	return Expr{SQL: "(" + e.SQL + ")", Params: e.Params}
}

// ReplaceAll returns e with every occurrence of placeholder in its SQL replaced by the SQL
// of with, and with's parameters added. Resolvers use it from an AfterBuild hook to
// substitute a whole sub-expression for a placeholder identifier (e.g. for the
// ":changed" modifier).
func (e Expr) ReplaceAll(placeholder string, with Expr) Expr {
	if placeholder == "" || !strings.Contains(e.SQL, placeholder) {
		return e
	}
	return Expr{
		SQL:    strings.ReplaceAll(e.SQL, placeholder, with.SQL),
		Params: mergeParams(e.Params, with.Params),
	}
}

// mergeParams returns a new Params with the entries of every p; later entries win.
func mergeParams(ps ...Params) Params {
	size := 0
	for _, p := range ps {
		size += len(p)
	}

	result := make(Params, size)
	for _, p := range ps {
		for k, v := range p {
			result[k] = v
		}
	}

	return result
}

const paramNameAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// paramNameLength is the number of random characters after the prefix; 36^12 names make
// collisions between independently built expressions negligible.
const paramNameLength = 12

// NewParamName returns a fresh random placeholder name ("p" followed by 12 lowercase
// letters or digits). Resolvers use it for the values they bind so that expressions built
// independently (an API rule and a client filter) can be merged without clashes.
func NewParamName() string {
	var b strings.Builder
	b.Grow(1 + paramNameLength)
	b.WriteByte('p')
	for range paramNameLength {
		b.WriteByte(paramNameAlphabet[rand.IntN(len(paramNameAlphabet))])
	}
	return b.String()
}

// newParam returns a placeholder identifier (":name") bound to value.
func newParam(value any) (string, Params) {
	name := NewParamName()
	return ":" + name, Params{name: value}
}

// QuoteIdent quotes each part as an SQLite identifier with backticks (doubling any
// backtick inside) and joins the parts with '.', e.g. QuoteIdent("posts", "id") is
// "`posts`.`id`".
func QuoteIdent(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteByte('`')
		b.WriteString(strings.ReplaceAll(p, "`", "``"))
		b.WriteByte('`')
	}
	return b.String()
}
