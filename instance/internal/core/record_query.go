package core

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// CollectionFinder returns a finder of cached collections for resolvers, bound to ctx.
func (a *App) CollectionFinder(ctx context.Context) CollectionFinder {
	return func(nameOrID string) (*Collection, error) {
		return a.FindCachedCollectionByNameOrID(ctx, nameOrID)
	}
}

// NewRecordFieldResolver returns a resolver over c's records whose other collections
// come from the app's collection cache.
func (a *App) NewRecordFieldResolver(ctx context.Context, c *Collection, info *RequestInfo, allowHidden bool) *RecordFieldResolver {
	return NewRecordFieldResolver(a.CollectionFinder(ctx), c, info, allowHidden)
}

// RecordQuery returns the base query of c's records: "SELECT `c`.* FROM `c`".
func RecordQuery(c *Collection) *search.SelectQuery {
	table := search.Columnify(c.Name)
	return &search.SelectQuery{Selects: []string{search.QuoteIdent(table) + ".*"}, From: table}
}

// QueryRecords runs a SELECT of c's rows (built from RecordQuery) and returns the
// records in row order. Its statement is prepared once per reader connection, and the
// rows are kept until the next commit when the query allows it (see cacheKey). Inside
// a joined transaction (RunInTransaction) it reads through that transaction, uncached.
func (a *App) QueryRecords(ctx context.Context, c *Collection, query search.Expr) ([]*Record, error) {
	if s := scopeOf(ctx); s != nil {
		return queryRecords(ctx, s.tx, c, query.SQL, query.Args()...)
	}

	sqlText, args := query.Positional()
	load := func() (any, int, error) {
		rows, err := a.data.Query(ctx, sqlText, args...)
		if err != nil {
			return nil, 0, fmt.Errorf("querying %s: %w", c.Name, err)
		}
		set, err := scanRows(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("querying %s: %w", c.Name, err)
		}
		return set, set.size, nil
	}

	value, err := a.cachedRead(ctx, "rows\x00"+sqlText, args, load)
	if err != nil {
		return nil, err
	}

	return value.(*rowSet).records(c), nil
}

// CountRecords runs a query selecting a single count. Its statement is prepared once
// per reader connection, and the count is kept until the next commit when the query
// allows it (see cacheKey). Inside a joined transaction it counts through that
// transaction, uncached.
func (a *App) CountRecords(ctx context.Context, query search.Expr) (int, error) {
	if s := scopeOf(ctx); s != nil {
		var n int
		if err := s.tx.QueryRowContext(ctx, query.SQL, query.Args()...).Scan(&n); err != nil {
			return 0, fmt.Errorf("counting records: %w", err)
		}
		return n, nil
	}

	sqlText, args := query.Positional()
	load := func() (any, int, error) {
		var n int
		if err := a.data.QueryRow(ctx, sqlText, args...).Scan(&n); err != nil {
			return nil, 0, fmt.Errorf("counting records: %w", err)
		}
		return n, 8, nil
	}

	value, err := a.cachedRead(ctx, "count\x00"+sqlText, args, load)
	if err != nil {
		return 0, err
	}

	return value.(int), nil
}

// queryRecords runs a query over c's table through q, uncached, and scans every row
// into a record.
func queryRecords(ctx context.Context, q sqlitedb.Querier, c *Collection, query string, args ...any) ([]*Record, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("querying %s: %w", c.Name, err)
	}
	set, err := scanRows(rows)
	if err != nil {
		return nil, fmt.Errorf("querying %s: %w", c.Name, err)
	}

	return set.records(c), nil
}

// cachedRead runs load through the result cache when the query (its kind-prefixed SQL
// and args) allows it, and directly otherwise.
func (a *App) cachedRead(ctx context.Context, sqlText string, args []any, load func() (any, int, error)) (any, error) {
	key, ok := a.cacheKey(ctx, sqlText, args)
	if !ok {
		value, _, err := load()
		return value, err
	}

	return a.data.Cached(ctx, key, load)
}

// volatileSQL are SQL functions whose result changes without the data changing.
var volatileSQL = []string{"random(", "strftime(", "date(", "time(", "julianday(", "unixepoch(", "current_", "changes(", "last_insert_rowid("}

// cacheKey returns the result cache key of a query, and false when its result must not
// be cached: it calls a volatile function, reads a view (whose SQL may do anything) or
// binds a value of another type than the filter builders'.
func (a *App) cacheKey(ctx context.Context, sqlText string, args []any) (string, bool) {
	lower := strings.ToLower(sqlText)
	for _, f := range volatileSQL {
		if strings.Contains(lower, f) {
			return "", false
		}
	}
	collections, err := a.CachedCollections(ctx)
	if err != nil {
		return "", false
	}
	for _, c := range collections {
		if c.IsView() && strings.Contains(lower, "`"+strings.ToLower(c.Name)+"`") {
			return "", false
		}
	}

	var b strings.Builder
	b.Grow(len(sqlText) + 16*len(args))
	b.WriteString(sqlText)
	for _, arg := range args {
		b.WriteByte(0)
		switch v := arg.(type) {
		case nil:
			b.WriteByte('n')
		case string:
			b.WriteByte('s')
			b.WriteString(strconv.Itoa(len(v)))
			b.WriteByte(':')
			b.WriteString(v)
		case int64:
			b.WriteByte('i')
			b.WriteString(strconv.FormatInt(v, 10))
		case int:
			b.WriteByte('i')
			b.WriteString(strconv.Itoa(v))
		case float64:
			b.WriteByte('f')
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		case bool:
			b.WriteByte('b')
			b.WriteString(strconv.FormatBool(v))
		default:
			return "", false
		}
	}

	return b.String(), true
}

// rowSet is the result of a query: shared by the callers of a cached one, so never
// modified.
type rowSet struct {
	cols []string
	rows [][]any
	size int // approximate bytes
}

// scanRows reads every row of rows and closes it.
func scanRows(rows *sql.Rows) (*rowSet, error) {
	defer rows.Close()

	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	set := &rowSet{cols: cols, size: 64}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for _, v := range vals {
			set.size += 16
			switch v := v.(type) {
			case string:
				set.size += len(v)
			case []byte:
				set.size += len(v)
			}
		}
		set.rows = append(set.rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	return set, nil
}

// records returns new records of c from the rows.
func (s *rowSet) records(c *Collection) []*Record {
	records := make([]*Record, 0, len(s.rows))
	for _, vals := range s.rows {
		row := make(map[string]any, len(s.cols))
		for i, col := range s.cols {
			if b, ok := vals[i].([]byte); ok {
				row[col] = bytes.Clone(b)
				continue
			}
			row[col] = vals[i]
		}
		records = append(records, NewRecordFromRow(c, row))
	}

	return records
}

// FindRecordByIDWithRule returns c's record id when rule lets the request see it
// (§3.3.2): a superuser always, "" everyone, an expression when the record matches it.
// A null rule for a non-superuser, a failing rule and a missing record are all
// ErrRecordNotFound; callers check a null rule first when it needs another answer.
func (a *App) FindRecordByIDWithRule(ctx context.Context, c *Collection, id string, rule *string, info *RequestInfo) (*Record, error) {
	if id == "" {
		return nil, ErrRecordNotFound
	}

	q := RecordQuery(c)
	table := q.TableAlias()
	name := search.NewParamName()
	q.AndWhere(search.NewExpr(search.QuoteIdent(table, FieldNameID)+" = :"+name, search.Params{name: id}))

	if !info.HasSuperuserAuth() {
		if rule == nil {
			return nil, ErrRecordNotFound
		}
		if *rule != "" {
			resolver := a.NewRecordFieldResolver(ctx, c, info, true)
			expr, err := search.FilterData(*rule).BuildExpr(resolver)
			if err != nil {
				return nil, fmt.Errorf("building the %s rule: %w", c.Name, err)
			}
			q.AndWhere(expr)
			if err := resolver.UpdateQuery(q); err != nil {
				return nil, err
			}
		}
	}
	q.Limit = 1

	records, err := a.QueryRecords(ctx, c, q.Build())
	if err != nil {
		return nil, err
	}
	if len(records) == 0 {
		return nil, ErrRecordNotFound
	}

	return records[0], nil
}

// findRecordsByIDs returns c's records with the given ids that match the optional
// filter expression rule for info (nil rule: no filter), in storage order.
func (a *App) findRecordsByIDs(ctx context.Context, c *Collection, ids []string, rule string, info *RequestInfo) ([]*Record, error) {
	if len(ids) == 0 {
		return []*Record{}, nil
	}

	q := RecordQuery(c)
	q.AndWhere(inIDs(q.TableAlias(), ids))
	if rule != "" {
		resolver := a.NewRecordFieldResolver(ctx, c, info, true)
		expr, err := search.FilterData(rule).BuildExpr(resolver)
		if err != nil {
			return nil, fmt.Errorf("building the %s rule: %w", c.Name, err)
		}
		q.AndWhere(expr)
		if err := resolver.UpdateQuery(q); err != nil {
			return nil, err
		}
	}

	return a.QueryRecords(ctx, c, q.Build())
}

// inIDs is "`alias`.`id` IN (:p1, :p2…)".
func inIDs(alias string, ids []string) search.Expr {
	params := make(search.Params, len(ids))
	sqlText := search.QuoteIdent(alias, FieldNameID) + " IN ("
	for i, id := range ids {
		name := search.NewParamName()
		params[name] = id
		if i > 0 {
			sqlText += ", "
		}
		sqlText += ":" + name
	}

	return search.NewExpr(sqlText+")", params)
}
