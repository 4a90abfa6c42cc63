package core

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// ErrCollectionNotFound is returned when no collection has the given id or name; it
// wraps sql.ErrNoRows, which the HTTP layer maps to 404.
var ErrCollectionNotFound = fmt.Errorf("collection not found: %w", sql.ErrNoRows)

// collectionColumns are the `_collections` columns, in scan order.
const collectionColumns = "`id`, `system`, `type`, `name`, `fields`, `indexes`, `listRule`, `viewRule`, " +
	"`createRule`, `updateRule`, `deleteRule`, `options`, `created`, `updated`"

// scanCollection reads one `_collections` row.
func scanCollection(scan func(dest ...any) error) (*Collection, error) {
	var (
		c                              Collection
		fields, indexes, options       string
		list, view, create, upd, delet sql.NullString
	)
	if err := scan(&c.ID, &c.System, &c.Type, &c.Name, &fields, &indexes,
		&list, &view, &create, &upd, &delet, &options, &c.Created, &c.Updated); err != nil {
		return nil, err
	}

	c.ListRule, c.ViewRule, c.CreateRule = nullToPtr(list), nullToPtr(view), nullToPtr(create)
	c.UpdateRule, c.DeleteRule = nullToPtr(upd), nullToPtr(delet)

	if err := json.Unmarshal([]byte(orDefault(fields, "[]")), &c.Fields); err != nil {
		return nil, fmt.Errorf("decoding fields of collection %s: %w", c.Name, err)
	}
	if err := json.Unmarshal([]byte(orDefault(indexes, "[]")), &c.Indexes); err != nil {
		return nil, fmt.Errorf("decoding indexes of collection %s: %w", c.Name, err)
	}
	c.Indexes = nonNil(c.Indexes)

	switch c.Type {
	case CollectionTypeAuth:
		if err := json.Unmarshal([]byte(orDefault(options, "{}")), &c.Auth); err != nil {
			return nil, fmt.Errorf("decoding options of collection %s: %w", c.Name, err)
		}
	case CollectionTypeView:
		var opts struct {
			ViewQuery string `json:"viewQuery"`
		}
		if err := json.Unmarshal([]byte(orDefault(options, "{}")), &opts); err != nil {
			return nil, fmt.Errorf("decoding options of collection %s: %w", c.Name, err)
		}
		c.ViewQuery = opts.ViewQuery
	}

	c.lastSavedID = c.ID

	return &c, nil
}

func nullToPtr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	v := s.String

	return &v
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}

	return s
}

// queryCollections runs a `_collections` query whose select list is collectionColumns.
func queryCollections(ctx context.Context, q sqlitedb.Querier, query string, args ...any) ([]*Collection, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("querying collections: %w", err)
	}
	defer rows.Close()

	var out []*Collection
	for rows.Next() {
		c, err := scanCollection(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("querying collections: %w", err)
	}

	return out, nil
}

// findAllCollections returns every collection in PocketBase's order (created, then
// insertion order).
func findAllCollections(ctx context.Context, q sqlitedb.Querier) ([]*Collection, error) {
	return queryCollections(ctx, q, "SELECT "+collectionColumns+" FROM `_collections` ORDER BY `created` ASC, `rowid` ASC")
}

// findCollection returns the collection whose id is nameOrID or whose name equals it
// case-insensitively, read through q, or ErrCollectionNotFound.
func findCollection(ctx context.Context, q sqlitedb.Querier, nameOrID string) (*Collection, error) {
	list, err := queryCollections(ctx, q,
		"SELECT "+collectionColumns+" FROM `_collections` WHERE `id` = ? OR LOWER(`name`) = ? LIMIT 1",
		nameOrID, strings.ToLower(nameOrID))
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrCollectionNotFound
	}

	return list[0], nil
}

// FindCollectionByNameOrID reads the collection with this id, or this name
// (case-insensitive), from the database; the result may be modified and saved.
func (a *App) FindCollectionByNameOrID(ctx context.Context, nameOrID string) (*Collection, error) {
	return findCollection(ctx, a.data.Read(), nameOrID)
}

// collectionsCache holds the loaded collections; a nil list means "not loaded".
type collectionsCache struct {
	mu   sync.RWMutex
	list []*Collection
}

// CachedCollections returns all collections from the cache (loading it if needed), in
// PocketBase's order. The collections are shared: treat them as read-only.
func (a *App) CachedCollections(ctx context.Context) ([]*Collection, error) {
	a.collections.mu.RLock()
	list := a.collections.list
	a.collections.mu.RUnlock()
	if list != nil {
		return list, nil
	}

	return a.ReloadCachedCollections(ctx)
}

// ReloadCachedCollections reloads the collections cache from the database.
func (a *App) ReloadCachedCollections(ctx context.Context) ([]*Collection, error) {
	list, err := findAllCollections(ctx, a.data.Read())
	if err != nil {
		return nil, err
	}
	list = nonNil(list)

	a.collections.mu.Lock()
	a.collections.list = list
	a.collections.mu.Unlock()

	return list, nil
}

// invalidateCollections drops the cache; the next read reloads it.
func (a *App) invalidateCollections() {
	a.collections.mu.Lock()
	a.collections.list = nil
	a.collections.mu.Unlock()
}

// FindCachedCollectionByNameOrID returns the cached collection with this id, or this
// name (case-insensitive), or ErrCollectionNotFound. It is shared: treat it as
// read-only, and use FindCollectionByNameOrID to change a collection.
func (a *App) FindCachedCollectionByNameOrID(ctx context.Context, nameOrID string) (*Collection, error) {
	list, err := a.CachedCollections(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		if c.ID == nameOrID || strings.EqualFold(c.Name, nameOrID) {
			return c, nil
		}
	}

	return nil, ErrCollectionNotFound
}

// CollectionReference is a relation field of another collection pointing at a
// collection.
type CollectionReference struct {
	// Collection holds the relation fields.
	Collection *Collection
	// Fields are the relation fields pointing at the referenced collection.
	Fields []*RelationField
}

// findCollectionReferences returns the collections with relation fields pointing at
// target, excluding the collections in excludeIDs, in collection order.
func findCollectionReferences(ctx context.Context, q sqlitedb.Querier, target *Collection, excludeIDs ...string) ([]CollectionReference, error) {
	all, err := findAllCollections(ctx, q)
	if err != nil {
		return nil, err
	}

	var refs []CollectionReference
	for _, c := range all {
		if slices.Contains(excludeIDs, c.ID) {
			continue
		}
		var fields []*RelationField
		for _, f := range c.Fields {
			if rel, ok := f.(*RelationField); ok && rel.CollectionID == target.ID {
				fields = append(fields, rel)
			}
		}
		if len(fields) > 0 {
			refs = append(refs, CollectionReference{Collection: c, Fields: fields})
		}
	}

	return refs, nil
}

// FindCollectionReferences returns the other collections whose relation fields point
// at c.
func (a *App) FindCollectionReferences(ctx context.Context, c *Collection) ([]CollectionReference, error) {
	return findCollectionReferences(ctx, a.data.Read(), c, c.ID)
}

// isCollectionNameUnique reports whether no collection other than excludeID is named
// name (case-insensitive).
func isCollectionNameUnique(ctx context.Context, q sqlitedb.Querier, name, excludeID string) (bool, error) {
	if name == "" {
		return false, nil
	}
	var n int
	err := q.QueryRowContext(ctx,
		"SELECT count(*) FROM `_collections` WHERE LOWER(`name`) = ? AND `id` != ?",
		strings.ToLower(name), excludeID,
	).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("checking collection name: %w", err)
	}

	return n == 0, nil
}

// CollectionSortField is one sort expression of ListCollections.
type CollectionSortField struct {
	// Name is one of id, created, updated, name, system, type, @rowid or @random.
	Name string
	// Desc sorts descending.
	Desc bool
}

// Pagination limits (tools/search/provider.go).
const (
	// DefaultPerPage is the page size when none (or ≤ 0) is given.
	DefaultPerPage = 30
	// MaxPerPage is the largest page size; larger values are clamped.
	MaxPerPage = 1000
)

// CollectionListOptions selects a page of collections.
type CollectionListOptions struct {
	// Page is the 1-based page; ≤ 0 means 1.
	Page int
	// PerPage is the page size; ≤ 0 means DefaultPerPage, above MaxPerPage is clamped.
	PerPage int
	// Sort are the sort expressions; none keeps the storage (rowid) order.
	Sort []CollectionSortField
	// SkipTotal skips the count (the result then has -1 totals).
	SkipTotal bool
	// Filter is a filter expression over the sortable columns; "" matches all.
	Filter string
}

// CollectionList is a page of collections with PocketBase's list result shape.
type CollectionList struct {
	// Items are the collections of the page.
	Items []*Collection `json:"items"`
	// Page is the returned page.
	Page int `json:"page"`
	// PerPage is the (clamped) page size.
	PerPage int `json:"perPage"`
	// TotalItems is the number of matching collections, -1 with SkipTotal.
	TotalItems int `json:"totalItems"`
	// TotalPages is the number of pages, -1 with SkipTotal.
	TotalPages int `json:"totalPages"`
}

// collectionSortColumns are the columns the collections list may sort by
// (apis/collection.go: id, created, updated, name, system, type).
var collectionSortColumns = []string{"id", "created", "updated", "name", "system", "type"}

// ErrInvalidSort is returned for a sort field that is not allowed.
var ErrInvalidSort = errors.New("invalid sort field")

// ListCollections returns a page of collections from the database. An invalid filter
// or sort is an error wrapping search.ErrInvalidFilter or ErrInvalidSort.
func (a *App) ListCollections(ctx context.Context, opts CollectionListOptions) (*CollectionList, error) {
	if opts.Page <= 0 {
		opts.Page = 1
	}
	if opts.PerPage <= 0 {
		opts.PerPage = DefaultPerPage
	}
	opts.PerPage = min(opts.PerPage, MaxPerPage)

	var order []string
	for _, s := range opts.Sort {
		dir := " ASC"
		if s.Desc {
			dir = " DESC"
		}
		switch {
		case s.Name == "@random":
			order = append(order, "RANDOM()")
		case s.Name == "@rowid":
			order = append(order, "`_collections`.`rowid`"+dir)
		case slices.Contains(collectionSortColumns, s.Name):
			order = append(order, "`_collections`."+quoteIdent(s.Name)+dir)
		default:
			return nil, fmt.Errorf("%w %q", ErrInvalidSort, s.Name)
		}
	}

	where, args, err := collectionsFilter(opts.Filter)
	if err != nil {
		return nil, err
	}

	query := "SELECT " + collectionColumns + " FROM `_collections`" + where
	if len(order) > 0 {
		query += " ORDER BY " + strings.Join(order, ", ")
	}
	query += " LIMIT :pf_limit OFFSET :pf_offset"

	pageArgs := append(slices.Clone(args), sql.Named("pf_limit", opts.PerPage), sql.Named("pf_offset", (opts.Page-1)*opts.PerPage))
	items, err := queryCollections(ctx, a.data.Read(), query, pageArgs...)
	if err != nil {
		return nil, err
	}

	result := &CollectionList{Items: nonNil(items), Page: opts.Page, PerPage: opts.PerPage, TotalItems: -1, TotalPages: -1}
	if !opts.SkipTotal {
		var total int
		if err := a.data.Read().QueryRowContext(ctx, "SELECT count(*) FROM `_collections`"+where, args...).Scan(&total); err != nil {
			return nil, fmt.Errorf("counting collections: %w", err)
		}
		result.TotalItems = total
		result.TotalPages = (total + opts.PerPage - 1) / opts.PerPage
	}

	return result, nil
}

// collectionsFilter builds the WHERE clause of a collections list filter, over the
// same columns the list sorts by (apis/collection.go's SimpleFieldResolver).
func collectionsFilter(filter string) (string, []any, error) {
	if filter == "" {
		return "", nil, nil
	}
	if len(filter) > search.MaxFilterLength {
		return "", nil, fmt.Errorf("%w: the filter is too long", search.ErrInvalidFilter)
	}

	expr, err := search.FilterData(filter).BuildExpr(search.NewSimpleFieldResolver(collectionSortColumns...))
	if err != nil {
		return "", nil, err
	}
	if expr.IsEmpty() {
		return "", nil, nil
	}

	return " WHERE " + expr.SQL, expr.Args(), nil
}
