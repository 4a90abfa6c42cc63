package core

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// ErrRecordNotFound is returned when a record lookup finds nothing.
var ErrRecordNotFound = fmt.Errorf("record not found: %w", sql.ErrNoRows)

// FindRecordByID returns the record with the given id of the collection with the given
// id or name, or ErrRecordNotFound / ErrCollectionNotFound. The record's collection is
// the cached one (read-only), as PocketBase's FindRecordById reads it.
func (a *App) FindRecordByID(ctx context.Context, collectionNameOrID, id string) (*Record, error) {
	c, err := a.FindCachedCollectionByNameOrID(ctx, collectionNameOrID)
	if err != nil {
		return nil, err
	}

	return findRecordWhere(ctx, a.reader(ctx), c, "`id` = ?", id)
}

// findRecordWhere returns the first record of c matching the SQL condition.
func findRecordWhere(ctx context.Context, q sqlitedb.Querier, c *Collection, where string, args ...any) (*Record, error) {
	row, err := queryRow(ctx, q, c, where, args...)
	if err != nil {
		return nil, err
	}
	return NewRecordFromRow(c, row), nil
}

// queryRow reads the first row of c's table matching the SQL condition as column name
// to raw driver value, or ErrRecordNotFound.
func queryRow(ctx context.Context, q sqlitedb.Querier, c *Collection, where string, args ...any) (map[string]any, error) {
	rows, err := q.QueryContext(ctx, "SELECT * FROM "+quoteIdent(c.Name)+" WHERE "+where+" LIMIT 1", args...)
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
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("scanning %s: %w", c.Name, err)
	}

	row := make(map[string]any, len(cols))
	for i, col := range cols {
		row[col] = vals[i]
	}
	return row, rows.Err()
}

// FindAuthRecordByIdentity returns the record of auth collection c whose identity field
// equals value (PocketBase's findRecordByIdentityField). The field must be one of
// passwordAuth.identityFields and have a single-column UNIQUE index; the comparison
// ignores case only when that index column is COLLATE NOCASE. No match is
// ErrRecordNotFound; any other error is a configuration or database problem.
func (a *App) FindAuthRecordByIdentity(ctx context.Context, c *Collection, field, value string) (*Record, error) {
	if !c.IsAuth() || !slices.Contains(c.Auth.PasswordAuth.IdentityFields, field) {
		return nil, fmt.Errorf("invalid identity field %q", field)
	}

	idx, ok := identityUniqueIndex(c.Indexes, field)
	if !ok {
		return nil, fmt.Errorf("missing %s unique index constraint", field)
	}

	where := quoteIdent(field) + " = ?"
	if strings.EqualFold(idx.collate, "nocase") {
		where += " COLLATE NOCASE"
	}

	return findRecordWhere(ctx, a.data.Read(), c, where, value)
}

// identityIndexColumn is one column of a parsed CREATE INDEX statement.
type identityIndexColumn struct {
	name, collate string
}

// identityIndexRe is PocketBase's dbutils index pattern.
var identityIndexRe = regexp.MustCompile(`(?im)create\s+(unique\s+)?\s*index\s*(if\s+not\s+exists\s+)?(\S*)\s+on\s+(\S*)\s*\(([\s\S]*)\)(?:\s*where\s+([\s\S]*))?`)

var identityCollateRe = regexp.MustCompile(`(?i)\s+collate\s+(\w+)`)

// identityUniqueIndex returns the column of the first UNIQUE index on exactly
// one column named column (case-insensitively), as dbutils.FindSingleColumnUniqueIndex.
func identityUniqueIndex(indexes []string, column string) (identityIndexColumn, bool) {
	for _, stmt := range indexes {
		m := identityIndexRe.FindStringSubmatch(stmt)
		if m == nil || strings.TrimSpace(m[1]) == "" {
			continue
		}
		cols := splitIdentityIndexColumns(m[5])
		if len(cols) == 1 && strings.EqualFold(cols[0].name, column) {
			return cols[0], true
		}
	}

	return identityIndexColumn{}, false
}

func splitIdentityIndexColumns(s string) []identityIndexColumn {
	var cols []identityIndexColumn
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var col identityIndexColumn
		if m := identityCollateRe.FindStringSubmatchIndex(part); m != nil {
			col.collate = part[m[2]:m[3]]
			part = part[:m[0]] + part[m[1]:]
		}
		fields := strings.Fields(part)
		if len(fields) == 0 {
			continue
		}
		col.name = strings.Trim(fields[0], "`\"'[]")
		cols = append(cols, col)
	}

	return cols
}
