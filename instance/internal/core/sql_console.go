package core

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// SQLConsoleMaxRows is the most rows RunSQL returns (PocketBase's runSQLMaxRows).
const SQLConsoleMaxRows = 1000

// sqlConsoleTimeout bounds one console query (PocketBase's runSQLMaxTimeout).
const sqlConsoleTimeout = 3 * time.Minute

// sqlConsoleWritePrefixes are the statement starts PocketBase treats as writes; anything
// else (SELECT, WITH, PRAGMA, EXPLAIN, ...) runs on the reader pool.
var sqlConsoleWritePrefixes = []string{
	"INSERT", "CREATE", "UPDATE", "DELETE",
	"DROP", "DETACH", "ALTER", "REPLACE",
}

// errEmptyQuery is returned for a query of blank characters only.
var errEmptyQuery = errors.New("empty query")

// SQLColumn describes one result column of a console query.
type SQLColumn struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

// SQLResult is the result of a console query, as POST /api/sql writes it.
type SQLResult struct {
	ExecTime     int64       `json:"execTime"`
	AffectedRows int64       `json:"affectedRows"`
	Columns      []SQLColumn `json:"columns"`
	Rows         [][]*string `json:"rows"`
}

// RunSQL runs a raw query typed by a superuser on data.db. A query that starts like a
// write runs in a write transaction (all its statements, or none, are applied) and
// reports the rows it changed; any other query runs on the reader pool and returns at
// most maxRows rows of its last statement, every cell as its text or nil.
//
// The query does not inherit ctx's cancellation, as PocketBase's, so that a client that
// goes away cannot cut a write in the middle; it is bounded by a timeout of its own.
func (a *App) RunSQL(ctx context.Context, query string, maxRows int) (*SQLResult, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, errEmptyQuery
	}

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sqlConsoleTimeout)
	defer cancel()

	result := &SQLResult{Columns: []SQLColumn{}, Rows: [][]*string{}}
	start := time.Now()

	var err error
	if isSQLConsoleWrite(query) {
		err = a.data.Tx(ctx, func(tx *sql.Tx) error {
			n, err := execSQLConsoleWrite(ctx, tx, query)
			result.AffectedRows = n
			return err
		})
	} else {
		err = readSQLConsoleRows(ctx, a.data.Read(), query, maxRows, result)
	}
	if err != nil {
		return nil, err
	}
	result.ExecTime = time.Since(start).Milliseconds()

	return result, nil
}

// execSQLConsoleWrite runs a write query in tx and returns the rows changed by its last
// INSERT, UPDATE or DELETE statement, as PocketBase reports them. SQLite's changes()
// keeps the count of the connection's previous such statement when the query has none
// (a CREATE TABLE alone), so total_changes() tells first whether the query changed
// any row at all.
func execSQLConsoleWrite(ctx context.Context, tx *sql.Tx, query string) (int64, error) {
	var before, after int64
	if err := tx.QueryRowContext(ctx, "SELECT total_changes()").Scan(&before); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, query)
	if err != nil {
		return 0, err
	}
	if err := tx.QueryRowContext(ctx, "SELECT total_changes()").Scan(&after); err != nil {
		return 0, err
	}
	if after == before {
		return 0, nil
	}
	// the error only means that the driver cannot tell; PocketBase ignores it too
	n, _ := res.RowsAffected()

	return n, nil
}

// isSQLConsoleWrite loosely tells a write query by its first keyword.
func isSQLConsoleWrite(query string) bool {
	upper := strings.ToUpper(query)
	if strings.HasPrefix(upper, "SELECT") {
		return false
	}
	for _, prefix := range sqlConsoleWritePrefixes {
		if strings.HasPrefix(upper, prefix) {
			return true
		}
	}

	return false
}

// readSQLConsoleRows fills result with the columns and the first maxRows rows of query.
func readSQLConsoleRows(ctx context.Context, db *sql.DB, query string, maxRows int, result *SQLResult) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()

	types, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	for _, t := range types {
		col := SQLColumn{Name: t.Name(), Type: t.DatabaseTypeName()}
		col.Nullable, _ = t.Nullable()
		result.Columns = append(result.Columns, col)
	}

	for len(result.Rows) < maxRows && rows.Next() {
		row := make([]*string, len(types))
		dest := make([]any, len(types))
		for i := range row {
			dest[i] = &row[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		result.Rows = append(result.Rows, row)
	}

	return rows.Err()
}
