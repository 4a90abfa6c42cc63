package core

import (
	"context"
	"errors"
)

// maxViewFileDepth bounds the views a view file field is followed through.
const maxViewFileDepth = 5

// FindRecordByViewFile returns the record whose files a view collection's file field
// shows: the view query's column fieldName is followed to the collection field it
// copies (through nested views, at most 5 deep), and the first record of that
// collection holding filename in that field is returned (PocketBase's
// FindRecordByViewFile). ErrRecordNotFound when none holds it.
func (a *App) FindRecordByViewFile(ctx context.Context, view *Collection, fieldName, filename string) (*Record, error) {
	for range maxViewFileDepth {
		if !view.IsView() {
			return nil, errors.New("not a view collection")
		}
		parsed, err := parseViewQuery(ctx, a.data.Read(), view.ViewQuery)
		if err != nil {
			return nil, err
		}
		qf, ok := parsed[fieldName]
		if !ok || qf.collection == nil || qf.original == nil {
			return nil, errors.New("no query file field found")
		}
		if qf.collection.IsView() {
			view, fieldName = qf.collection, qf.original.GetName()
			continue
		}

		c, column := qf.collection, quoteIdent(qf.original.GetName())
		where := column + " = ?"
		if mv, ok := qf.original.(MultiValuer); ok && mv.IsMultiple() {
			where = "EXISTS (SELECT 1 FROM json_each(" + column + ") WHERE json_each.value = ?)"
		}
		records, err := queryRecords(ctx, a.data.Read(), c,
			"SELECT * FROM "+quoteIdent(c.Name)+" WHERE "+where+" LIMIT 1", filename)
		if err != nil {
			return nil, err
		}
		if len(records) == 0 {
			return nil, ErrRecordNotFound
		}

		return records[0], nil
	}

	return nil, errors.New("reached the max recursion level of view collection file field queries")
}
