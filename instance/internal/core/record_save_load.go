package core

import (
	"context"
	"fmt"

	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// loadRecordValues reads the record of c with the given id through q and returns its
// prepared field values (Field.PrepareValue of each column), or ErrRecordNotFound.
func loadRecordValues(ctx context.Context, q sqlitedb.Querier, c *Collection, id string) (map[string]any, error) {
	rows, err := q.QueryContext(ctx, "SELECT * FROM "+quoteIdent(c.Name)+" WHERE `id` = ? LIMIT 1", id)
	if err != nil {
		return nil, fmt.Errorf("querying %s: %w", c.Name, err)
	}
	defer rows.Close()

	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("querying %s: %w", c.Name, err)
		}
		return nil, ErrRecordNotFound
	}

	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("reading columns of %s: %w", c.Name, err)
	}
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("scanning %s: %w", c.Name, err)
	}

	byColumn := make(map[string]any, len(cols))
	for i, col := range cols {
		byColumn[col] = raw[i]
	}

	values := make(map[string]any, len(c.Fields))
	for _, f := range c.Fields {
		values[f.GetName()] = f.PrepareValue(byColumn[f.GetName()])
	}

	return values, rows.Err()
}
