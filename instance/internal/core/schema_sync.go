package core

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// This file keeps a collection's records table in step with its fields and indexes,
// with the statements PocketBase v0.40 runs (core/collection_record_table_sync.go), so
// that sqlite_master ends up with the same text.

// CreateTableSQL returns the CREATE TABLE statement PocketBase runs for a collection:
// one column per field, sorted by name (dbx CreateTable).
func CreateTableSQL(c *Collection) string {
	cols := make(map[string]string, len(c.Fields))
	for _, f := range c.Fields {
		cols[f.GetName()] = f.ColumnType()
	}

	names := make([]string, 0, len(cols))
	for name := range cols {
		names = append(names, name)
	}
	slices.Sort(names)

	defs := make([]string, len(names))
	for i, name := range names {
		defs[i] = quoteIdent(name) + " " + cols[name]
	}

	return "CREATE TABLE " + quoteIdent(c.Name) + " (" + strings.Join(defs, ", ") + ")"
}

func execAll(ctx context.Context, tx *sql.Tx, stmts ...string) error {
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}

	return nil
}

// syncRecordTable creates (oldC nil, or its table missing) or migrates the records
// table of a base or auth collection: rename, dropped, added and renamed columns,
// single/multiple value changes, and the indexes.
func syncRecordTable(ctx context.Context, tx *sql.Tx, newC, oldC *Collection) error {
	if newC.IsView() {
		return nil
	}

	if oldC == nil {
		return createRecordTable(ctx, tx, newC)
	}
	exists, err := sqlitedb.HasTable(ctx, tx, oldC.Name)
	if err != nil {
		return err
	}
	if !exists {
		return createRecordTable(ctx, tx, newC)
	}

	oldFields, newFields := oldC.Fields, newC.Fields
	needRename := !strings.EqualFold(oldC.Name, newC.Name)

	oldFieldsJSON, err := marshalJSON(oldFields)
	if err != nil {
		return err
	}
	newFieldsJSON, err := marshalJSON(newFields)
	if err != nil {
		return err
	}
	needIndexes := needRename || oldFieldsJSON != newFieldsJSON ||
		strings.Join(oldC.Indexes, "\x00") != strings.Join(newC.Indexes, "\x00")

	if needIndexes {
		if err := dropCollectionIndexes(ctx, tx, oldC); err != nil {
			return err
		}
	}

	if needRename {
		if err := execAll(ctx, tx, "ALTER TABLE "+quoteIdent(oldC.Name)+" RENAME TO "+quoteIdent(newC.Name)); err != nil {
			// note: unwrapped, as PocketBase: the error reaches the API's "Raw error"
			return err
		}
	}
	table := quoteIdent(newC.Name)

	for _, old := range oldFields {
		if newFields.GetByID(old.GetID()) != nil {
			continue
		}
		if err := execAll(ctx, tx, "ALTER TABLE "+table+" DROP COLUMN "+quoteIdent(old.GetName())); err != nil {
			return fmt.Errorf("failed to drop column %s - %w", old.GetName(), err)
		}
	}

	// note: new and renamed columns go through a temporary name so that swapped names
	// (name, title -> title, name) never collide.
	type rename struct{ temp, name string }
	var renames []rename
	for _, f := range newFields {
		old := oldFields.GetByID(f.GetID())
		if old != nil && old.GetName() == f.GetName() {
			continue
		}

		suffix, err := security.RandomString(5)
		if err != nil {
			return err
		}
		temp := f.GetName() + suffix
		renames = append(renames, rename{temp, f.GetName()})

		if old == nil {
			stmt := "ALTER TABLE " + table + " ADD COLUMN " + quoteIdent(temp) + " " + f.ColumnType()
			if err := execAll(ctx, tx, stmt); err != nil {
				return fmt.Errorf("failed to add column %s - %w", f.GetName(), err)
			}
		} else {
			stmt := "ALTER TABLE " + table + " RENAME COLUMN " + quoteIdent(old.GetName()) + " TO " + quoteIdent(temp)
			if err := execAll(ctx, tx, stmt); err != nil {
				return fmt.Errorf("failed to rename column %s - %w", old.GetName(), err)
			}
		}
	}
	for _, r := range renames {
		if err := execAll(ctx, tx, "ALTER TABLE "+table+" RENAME COLUMN "+quoteIdent(r.temp)+" TO "+quoteIdent(r.name)); err != nil {
			return err
		}
	}

	if err := normalizeSingleVsMultiple(ctx, tx, newC, oldC); err != nil {
		return err
	}

	if needIndexes {
		return createCollectionIndexes(ctx, tx, newC)
	}

	return nil
}

func createRecordTable(ctx context.Context, tx *sql.Tx, c *Collection) error {
	if err := execAll(ctx, tx, CreateTableSQL(c)); err != nil {
		// note: unwrapped, as PocketBase: the error reaches the API's "Raw error"
		return err
	}

	return createCollectionIndexes(ctx, tx, c)
}

func isMultiple(f Field) bool {
	mv, ok := f.(MultiValuer)
	return ok && mv.IsMultiple()
}

// viewDef is a view of sqlite_master.
type viewDef struct {
	name, sql string
}

func findAllViews(ctx context.Context, q sqlitedb.Querier) ([]viewDef, error) {
	rows, err := q.QueryContext(ctx, "SELECT `name`, `sql` FROM sqlite_master WHERE `sql` IS NOT NULL AND `type` = 'view'")
	if err != nil {
		return nil, fmt.Errorf("listing views: %w", err)
	}
	defer rows.Close()

	var views []viewDef
	for rows.Next() {
		var v viewDef
		if err := rows.Scan(&v.name, &v.sql); err != nil {
			return nil, err
		}
		views = append(views, v)
	}

	return views, rows.Err()
}

// normalizeSingleVsMultiple rebuilds the column of every field that changed between
// single and multiple values (their column types differ): the old values are turned
// into a JSON array, or into the last element of one.
func normalizeSingleVsMultiple(ctx context.Context, tx *sql.Tx, newC, oldC *Collection) error {
	for _, f := range newC.Fields {
		oldMultiple := false
		if old := oldC.Fields.GetByID(f.GetID()); old != nil {
			oldMultiple = isMultiple(old)
		}
		newMultiple := isMultiple(f)
		if oldMultiple == newMultiple {
			continue
		}

		// drop the views while the column is rebuilt (SQLite checks them on rename)
		views, err := findAllViews(ctx, tx)
		if err != nil {
			return err
		}
		for _, v := range views {
			if err := execAll(ctx, tx, "DROP VIEW IF EXISTS "+quoteIdent(v.name)); err != nil {
				return err
			}
		}

		suffix, err := security.RandomString(5)
		if err != nil {
			return err
		}
		table, col := quoteIdent(newC.Name), quoteIdent(f.GetName())
		temp := quoteIdent("_" + f.GetName() + suffix)

		var copyStmt string
		if newMultiple {
			copyStmt = fmt.Sprintf(`UPDATE %s set %s = (
					CASE
						WHEN COALESCE(%s, '') = ''
						THEN '[]'
						ELSE (
							CASE
								WHEN json_valid(%s) AND json_type(%s) == 'array'
								THEN %s
								ELSE json_array(%s)
							END
						)
					END
				)`, table, col, temp, temp, temp, temp, temp)
		} else {
			copyStmt = fmt.Sprintf(`UPDATE %s set %s = (
				CASE
					WHEN COALESCE(%s, '[]') = '[]'
					THEN ''
					ELSE (
						CASE
							WHEN json_valid(%s) AND json_type(%s) == 'array'
							THEN COALESCE(json_extract(%s, '$[#-1]'), '')
							ELSE %s
						END
					)
				END
			)`, table, col, temp, temp, temp, temp, temp)
		}

		err = execAll(ctx, tx,
			"ALTER TABLE "+table+" RENAME COLUMN "+col+" TO "+temp,
			"ALTER TABLE "+table+" ADD COLUMN "+col+" "+f.ColumnType(),
			copyStmt,
			"ALTER TABLE "+table+" DROP COLUMN "+temp,
		)
		if err != nil {
			return fmt.Errorf("changing column %s between single and multiple values: %w", f.GetName(), err)
		}

		for _, v := range views {
			if err := execAll(ctx, tx, v.sql); err != nil {
				return fmt.Errorf("restoring view %s: %w", v.name, err)
			}
		}
	}

	return nil
}

func dropCollectionIndexes(ctx context.Context, tx *sql.Tx, c *Collection) error {
	if c.IsView() {
		return nil
	}
	for _, raw := range c.Indexes {
		idx := ParseIndex(raw)
		if !idx.IsValid() {
			continue
		}
		if err := execAll(ctx, tx, "DROP INDEX IF EXISTS "+quoteIdent(idx.IndexName)); err != nil {
			return fmt.Errorf("dropping index %s: %w", idx.IndexName, err)
		}
	}

	return nil
}

// createCollectionIndexes creates the collection's indexes in their canonical form,
// always on the collection's table. Failures are validation errors under "indexes",
// as PocketBase reports them.
func createCollectionIndexes(ctx context.Context, tx *sql.Tx, c *Collection) error {
	if c.IsView() {
		return nil
	}

	errs := NestedErrors{}
	for i, raw := range c.Indexes {
		idx := ParseIndex(raw)
		idx.TableName = c.Name
		if !idx.IsValid() {
			errs[strconv.Itoa(i)] = newValidationError("validation_invalid_index_expression", "Invalid CREATE INDEX expression.", nil)
			continue
		}
		if err := execAll(ctx, tx, idx.Build()); err != nil {
			errs[strconv.Itoa(i)] = newValidationError("validation_invalid_index_expression",
				fmt.Sprintf("Failed to create index %s - %v.", idx.IndexName, err.Error()), nil)
		}
	}
	if len(errs) > 0 {
		return NestedErrors{"indexes": errs}
	}

	return nil
}
