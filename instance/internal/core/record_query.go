package core

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
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
// records in row order. Its statement is prepared once per reader connection.
func (a *App) QueryRecords(ctx context.Context, c *Collection, query search.Expr) ([]*Record, error) {
	sqlText, args := query.Positional()
	rows, err := a.data.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("querying %s: %w", c.Name, err)
	}

	return scanRecords(rows, c)
}

// CountRecords runs a query selecting a single count. Its statement is prepared once
// per reader connection.
func (a *App) CountRecords(ctx context.Context, query search.Expr) (int, error) {
	var n int
	sqlText, args := query.Positional()
	if err := a.data.QueryRow(ctx, sqlText, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting records: %w", err)
	}

	return n, nil
}

// scanRecords reads every row of a query over c's table into a record and closes rows.
func scanRecords(rows *sql.Rows, c *Collection) ([]*Record, error) {
	defer rows.Close()

	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("reading columns of %s: %w", c.Name, err)
	}

	records := []*Record{}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("scanning %s: %w", c.Name, err)
		}
		row := make(map[string]any, len(cols))
		for i, col := range cols {
			row[col] = vals[i]
		}
		records = append(records, NewRecordFromRow(c, row))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("querying %s: %w", c.Name, err)
	}

	return records, nil
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
