package core

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// ErrRecordCollectionNotFound is returned when no collection has the given id or name.
var ErrRecordCollectionNotFound = fmt.Errorf("collection not found: %w", sql.ErrNoRows)

// RecordCollection is one row of `_collections`, decoded: the model that records, tokens
// and the record JSON are driven by.
//
// note: it is deliberately small and separate from the collections API's model, which was
// being written at the same time; the two should be merged once that lands (the record
// JSON would then use each field type's own output value). It is read from the database on every lookup (no cache yet); the collections
// API will add a cache invalidated on collection saves, as PocketBase's
// FindCachedCollectionByNameOrId has.
type RecordCollection struct {
	// ID is the collection id, e.g. "_pb_users_auth_" or "pbc_3142635823".
	ID string
	// Name is the collection name, also its table name.
	Name string
	// Type is CollectionTypeBase, CollectionTypeAuth or CollectionTypeView.
	Type string
	// System marks PocketBase's own collections.
	System bool
	// Fields are the collection fields, in their stored order.
	Fields []RecordField
	// Indexes are the CREATE INDEX statements of the `indexes` column.
	Indexes []string
	// ListRule, ViewRule, CreateRule, UpdateRule and DeleteRule are the API rules: nil
	// means superusers only, "" everyone, anything else a filter expression.
	ListRule, ViewRule, CreateRule, UpdateRule, DeleteRule *string
	// Auth holds the options of an auth collection; nil for other types.
	Auth *AuthOptions
	// Created and Updated are the collection's stamps in DateTimeLayout.
	Created, Updated string
}

// IsAuth reports whether c is an auth collection.
func (c *RecordCollection) IsAuth() bool {
	return c.Type == CollectionTypeAuth
}

// Field returns the field with the given name, or nil.
func (c *RecordCollection) Field(name string) *RecordField {
	for i := range c.Fields {
		if c.Fields[i].Name == name {
			return &c.Fields[i]
		}
	}

	return nil
}

// RecordField is one entry of a collection's `fields` column: the options every field type
// shares, the few type options the record JSON needs, and the whole stored object.
type RecordField struct {
	// ID is the field id, e.g. "text3208210256".
	ID string `json:"id"`
	// Name is the field name, also its column name.
	Name string `json:"name"`
	// Type is the field type: text, number, bool, email, url, editor, date, autodate,
	// select, file, relation, json, password or geoPoint.
	Type string `json:"type"`
	// System marks fields that cannot be renamed or removed.
	System bool `json:"system"`
	// Hidden fields are left out of API responses, except for superusers.
	Hidden bool `json:"hidden"`
	// MaxSelect is the select, file and relation option; above 1 the value is a list.
	MaxSelect float64 `json:"maxSelect"`

	// Options is the stored field object, type options included.
	Options map[string]any `json:"-"`
}

// IsMultiple reports whether a select, file or relation field holds a list.
func (f *RecordField) IsMultiple() bool {
	return f.MaxSelect > 1
}

// TokenDuration returns a token config's lifetime.
func (t TokenConfig) TokenDuration() time.Duration {
	return time.Duration(t.Duration) * time.Second
}

const recordCollectionColumns = "`id`, `name`, `type`, `system`, `fields`, `indexes`, " +
	"`listRule`, `viewRule`, `createRule`, `updateRule`, `deleteRule`, `options`, `created`, `updated`"

// FindRecordCollection returns the collection whose id is exactly nameOrID or, failing
// that, whose name equals it ignoring case, as PocketBase resolves `{collection}` path
// values. A missing collection is ErrRecordCollectionNotFound.
func (a *App) FindRecordCollection(ctx context.Context, nameOrID string) (*RecordCollection, error) {
	return findRecordCollection(ctx, a.data.Read(), nameOrID)
}

func findRecordCollection(ctx context.Context, q sqlitedb.Querier, nameOrID string) (*RecordCollection, error) {
	if nameOrID == "" {
		return nil, ErrRecordCollectionNotFound
	}

	row := q.QueryRowContext(ctx,
		"SELECT "+recordCollectionColumns+" FROM `_collections` WHERE `id` = ? OR `name` = ? COLLATE NOCASE "+
			"ORDER BY (`id` = ?) DESC LIMIT 1",
		nameOrID, nameOrID, nameOrID,
	)

	c, err := scanRecordCollection(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrRecordCollectionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("finding collection %q: %w", nameOrID, err)
	}

	return c, nil
}

func scanRecordCollection(row *sql.Row) (*RecordCollection, error) {
	var (
		c                      RecordCollection
		fields, indexes, opts  string
		list, view, create     sql.NullString
		update, del            sql.NullString
		system                 bool
		created, updated, name string
	)
	err := row.Scan(&c.ID, &name, &c.Type, &system, &fields, &indexes,
		&list, &view, &create, &update, &del, &opts, &created, &updated)
	if err != nil {
		return nil, err
	}
	c.Name, c.System, c.Created, c.Updated = name, system, created, updated
	c.ListRule, c.ViewRule, c.CreateRule = rcNullPtr(list), rcNullPtr(view), rcNullPtr(create)
	c.UpdateRule, c.DeleteRule = rcNullPtr(update), rcNullPtr(del)

	if c.Fields, err = decodeRecordFields(fields); err != nil {
		return nil, fmt.Errorf("decoding fields of collection %s: %w", c.ID, err)
	}
	if indexes != "" {
		if err := json.Unmarshal([]byte(indexes), &c.Indexes); err != nil {
			return nil, fmt.Errorf("decoding indexes of collection %s: %w", c.ID, err)
		}
	}
	if c.IsAuth() {
		c.Auth = &AuthOptions{}
		if err := json.Unmarshal([]byte(opts), c.Auth); err != nil {
			return nil, fmt.Errorf("decoding options of collection %s: %w", c.ID, err)
		}
	}

	return &c, nil
}

func decodeRecordFields(raw string) ([]RecordField, error) {
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(raw), &items); err != nil {
		return nil, err
	}

	fields := make([]RecordField, len(items))
	for i, item := range items {
		if err := json.Unmarshal(item, &fields[i]); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(item, &fields[i].Options); err != nil {
			return nil, err
		}
	}

	return fields, nil
}

func rcNullPtr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	v := s.String
	return &v
}
