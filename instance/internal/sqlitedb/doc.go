// Package sqlitedb opens PocketBase-compatible SQLite databases with modernc.org/sqlite.
//
// Every database is opened twice, as PocketBase does (core/base.go initDataDB): a pool of
// concurrent connections for reads and a single, non-concurrent connection for writes, so
// that writers queue inside the process instead of failing with SQLITE_BUSY. Both use
// PocketBase's pragmas (core/db_connect.go). Tx runs a function in a write transaction
// and retries it when SQLite reports the database as locked. RunMigrations applies a list
// of migrations and records them in PocketBase's `_migrations` table.
//
// It is a leaf package: it never imports core or httpapi.
package sqlitedb
