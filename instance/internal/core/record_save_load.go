package core

import (
	"context"

	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// loadRecordValues reads the record of c with the given id through q and returns its
// prepared field values (Field.PrepareValue of each column), or ErrRecordNotFound.
func loadRecordValues(ctx context.Context, q sqlitedb.Querier, c *Collection, id string) (map[string]any, error) {
	byColumn, err := queryRow(ctx, q, c, "`id` = ?", id)
	if err != nil {
		return nil, err
	}

	values := make(map[string]any, len(c.Fields))
	for _, f := range c.Fields {
		values[f.GetName()] = f.PrepareValue(byColumn[f.GetName()])
	}

	return values, nil
}
