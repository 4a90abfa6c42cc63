package core

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// The DDL below is PocketBase v0.40.4's, byte for byte: SQLite keeps each statement's
// text in sqlite_master, and PocketBase compares and rewrites that text (e.g. in
// 1778828400_normalize_indexes.go), so even the tabs matter.
const (
	// migrations/1640988000_init.go createParamsTable.
	createParamsTableSQL = "CREATE TABLE `_params` (\n" +
		"\t\t\t`id`      TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,\n" +
		"\t\t\t`value`   JSON DEFAULT NULL,\n" +
		"\t\t\t`created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,\n" +
		"\t\t\t`updated` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL\n" +
		"\t\t)"

	// migrations/1640988000_init.go, the _collections table.
	createCollectionsTableSQL = "CREATE TABLE `_collections` (\n" +
		"\t\t\t\t`id`         TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,\n" +
		"\t\t\t\t`system`     BOOLEAN DEFAULT FALSE NOT NULL,\n" +
		"\t\t\t\t`type`       TEXT DEFAULT \"base\" NOT NULL,\n" +
		"\t\t\t\t`name`       TEXT UNIQUE NOT NULL,\n" +
		"\t\t\t\t`fields`     JSON DEFAULT \"[]\" NOT NULL,\n" +
		"\t\t\t\t`indexes`    JSON DEFAULT \"[]\" NOT NULL,\n" +
		"\t\t\t\t`listRule`   TEXT DEFAULT NULL,\n" +
		"\t\t\t\t`viewRule`   TEXT DEFAULT NULL,\n" +
		"\t\t\t\t`createRule` TEXT DEFAULT NULL,\n" +
		"\t\t\t\t`updateRule` TEXT DEFAULT NULL,\n" +
		"\t\t\t\t`deleteRule` TEXT DEFAULT NULL,\n" +
		"\t\t\t\t`options`    JSON DEFAULT \"{}\" NOT NULL,\n" +
		"\t\t\t\t`created`    TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,\n" +
		"\t\t\t\t`updated`    TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL\n" +
		"\t\t\t)"

	createCollectionsTypeIndexSQL = "CREATE INDEX IF NOT EXISTS idx__collections_type on `_collections` (`type`)"

	// migrations/1640988000_aux_init.go, in auxiliary.db.
	createLogsTableSQL = "CREATE TABLE IF NOT EXISTS `_logs` (\n" +
		"\t\t\t\t\t`id`      TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,\n" +
		"\t\t\t\t\t`level`   INTEGER DEFAULT 0 NOT NULL,\n" +
		"\t\t\t\t\t`message` TEXT DEFAULT \"\" NOT NULL,\n" +
		"\t\t\t\t\t`data`    JSON DEFAULT \"{}\" NOT NULL,\n" +
		"\t\t\t\t\t`created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL\n" +
		"\t\t\t\t)"
)

var createLogsIndexesSQL = []string{
	"CREATE INDEX IF NOT EXISTS idx_logs_level on `_logs` (`level`)",
	"CREATE INDEX IF NOT EXISTS idx_logs_message on `_logs` (`message`)",
	"CREATE INDEX IF NOT EXISTS idx_logs_created_hour on `_logs` (strftime('%Y-%m-%d %H:00:00', `created`))",
}

// System migration files, as PocketBase v0.40.4 records them in `_migrations`.
const (
	migrationAuxInit            = "1640988000_aux_init.go"
	migrationInit               = "1640988000_init.go"
	migrationV023               = "1717233556_v0.23_migrate.go"
	migrationV023b              = "1717233557_v0.23_migrate2.go"
	migrationV023c              = "1717233558_v0.23_migrate3.go"
	migrationV023d              = "1717233559_v0.23_migrate4.go"
	migrationAuthAlertTemplates = "1763020353_update_default_auth_alert_templates.go"
	migrationNormalizeIndexes   = "1778828400_normalize_indexes.go"
)

// SystemMigrationFiles returns the names of PocketBase v0.40.4's system migrations, in
// the order they apply. A data directory that records all of them is up to date.
func SystemMigrationFiles() []string {
	return []string{
		migrationAuxInit,
		migrationInit,
		migrationV023,
		migrationV023b,
		migrationV023c,
		migrationV023d,
		migrationAuthAlertTemplates,
		migrationNormalizeIndexes,
	}
}

// systemMigrations are PocketBase v0.40.4's system migrations. On an empty directory
// they produce exactly the schema and `_collections` rows a fresh PocketBase creates and
// record the same files, so PocketBase would open the directory without re-running any.
//
// note: only the fresh-install path of the upgrade migrations (v0.23 and later) is
// reproduced; they are no-ops there except for the users re-save. A directory that still
// needs one of them was written by a PocketBase older than v0.40 and is refused with
// ErrUnsupportedDataDir (nothing is written): open it once with PocketBase v0.40 first.
func (a *App) systemMigrations() []sqlitedb.Migration {
	// A directory is fresh when 1640988000_init.go ran earlier in this same run, i.e.
	// data.db was empty.
	requireFresh := func(file string) func(context.Context, sqlitedb.MigrationTx) error {
		return func(_ context.Context, tx sqlitedb.MigrationTx) error {
			if slices.Contains(tx.AppliedBefore, migrationInit) {
				return nil
			}
			return fmt.Errorf("%w: it still needs PocketBase migration %s; open it once with PocketBase v0.40 to upgrade it",
				ErrUnsupportedDataDir, file)
		}
	}

	return []sqlitedb.Migration{
		{
			File:    migrationAuxInit,
			Up:      createLogsTable,
			Reapply: logsTableMissing,
		},
		{
			File: migrationInit,
			Up: func(ctx context.Context, tx sqlitedb.MigrationTx) error {
				return a.createSystemSchema(ctx, tx.Data)
			},
		},
		{File: migrationV023, Up: requireFresh(migrationV023)},
		{File: migrationV023b, Up: requireFresh(migrationV023b)},
		{File: migrationV023c, Up: requireFresh(migrationV023c)},
		{File: migrationV023d, Up: requireFresh(migrationV023d)},
		{File: migrationAuthAlertTemplates, Up: requireFresh(migrationAuthAlertTemplates)},
		{
			File: migrationNormalizeIndexes,
			Up: func(ctx context.Context, tx sqlitedb.MigrationTx) error {
				if err := requireFresh(migrationNormalizeIndexes)(ctx, tx); err != nil {
					return err
				}
				// PocketBase re-saves every non-system, non-view collection to normalize its
				// indexes; on a fresh install that only bumps users' `updated`.
				_, err := tx.Data.ExecContext(ctx,
					"UPDATE `_collections` SET `updated` = ? WHERE `system` = FALSE AND `type` != ?",
					a.nowDateTime(), CollectionTypeView,
				)
				if err != nil {
					return fmt.Errorf("re-saving collections: %w", err)
				}
				return nil
			},
		},
	}
}

// createLogsTable creates the `_logs` table of auxiliary.db.
func createLogsTable(ctx context.Context, tx sqlitedb.MigrationTx) error {
	for _, stmt := range append([]string{createLogsTableSQL}, createLogsIndexesSQL...) {
		if _, err := tx.Aux.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("creating logs table: %w", err)
		}
	}

	return nil
}

// logsTableMissing is 1640988000_aux_init.go's reapply condition: recreate `_logs` when
// auxiliary.db lost it (e.g. the file was deleted).
func logsTableMissing(ctx context.Context, _, aux sqlitedb.Querier) (bool, error) {
	ok, err := sqlitedb.HasTable(ctx, aux, "_logs")
	return !ok, err
}

// createSystemSchema is 1640988000_init.go: the `_params` and `_collections` tables, then
// each system collection's row, records table and indexes.
func (a *App) createSystemSchema(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range []string{createParamsTableSQL, createCollectionsTableSQL, createCollectionsTypeIndexSQL} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("creating system tables: %w", err)
		}
	}

	for _, c := range systemCollections() {
		if err := a.insertCollection(ctx, tx, c); err != nil {
			return fmt.Errorf("creating collection %s: %w", c.name, err)
		}
	}

	return nil
}

// insertCollection writes c's `_collections` row and creates its records table.
func (a *App) insertCollection(ctx context.Context, tx *sql.Tx, c collectionDef) error {
	fields, err := marshalJSON(c.fields)
	if err != nil {
		return err
	}
	indexes, err := marshalJSON(c.indexes)
	if err != nil {
		return err
	}

	options := "{}"
	if c.typ == CollectionTypeAuth {
		opts, err := NewAuthOptions()
		if err != nil {
			return err
		}
		if c.authOptions != nil {
			c.authOptions(&opts)
		}
		if options, err = marshalJSON(opts); err != nil {
			return err
		}
	}

	now := a.nowDateTime()
	_, err = tx.ExecContext(ctx,
		"INSERT INTO `_collections` (`id`, `system`, `type`, `name`, `fields`, `indexes`, "+
			"`listRule`, `viewRule`, `createRule`, `updateRule`, `deleteRule`, `options`, `created`, `updated`) "+
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		c.id, c.system, c.typ, c.name, fields, indexes,
		c.listRule, c.viewRule, c.createRule, c.updateRule, c.deleteRule,
		options, now, now,
	)
	if err != nil {
		return fmt.Errorf("inserting collection row: %w", err)
	}

	for _, stmt := range append([]string{c.tableSQL}, c.indexSQL...) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("creating records table: %w", err)
		}
	}

	return nil
}
