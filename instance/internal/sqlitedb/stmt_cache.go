package sqlitedb

import (
	"container/list"
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// stmtCacheSize is how many distinct SELECTs keep their prepared statements.
const stmtCacheSize = 256

// Query runs a SELECT on the reader pool. The statement is prepared once per reader
// connection and kept for the next calls with the same query text, so query should be
// built with positional placeholders ("?1") rather than values or random names.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	stmt, release, err := db.stmts.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	defer release()

	// note: the rows keep the statement open until they are closed, even when it is
	// evicted meanwhile (database/sql tracks that dependency)
	return stmt.QueryContext(ctx, args...)
}

// QueryRow is Query for a single row; errors are deferred to Scan as with
// [sql.DB.QueryRowContext].
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	stmt, release, err := db.stmts.acquire(ctx, query)
	if err != nil {
		// note: the plain pool reports the same preparation error through the Row
		return db.read.QueryRowContext(ctx, query, args...)
	}
	defer release()

	return stmt.QueryRowContext(ctx, args...)
}

// stmtCache keeps the most recently used prepared statements of a pool by query text.
// A *sql.Stmt prepares itself lazily on each connection it runs on and remembers it.
type stmtCache struct {
	db  *sql.DB
	max int

	mu      sync.Mutex
	entries map[string]*cachedStmt
	// recent orders the entries, most recently used first.
	recent *list.List
	closed bool
}

type cachedStmt struct {
	stmt *sql.Stmt
	elem *list.Element
	// refs counts the callers between acquire and release; an evicted statement is
	// closed by the last of them.
	refs    int
	evicted bool
}

func newStmtCache(db *sql.DB, size int) *stmtCache {
	return &stmtCache{db: db, max: size, entries: map[string]*cachedStmt{}, recent: list.New()}
}

// acquire returns the statement of query, preparing it when it is not cached. release
// must be called once the statement has been run.
func (c *stmtCache) acquire(ctx context.Context, query string) (*sql.Stmt, func(), error) {
	c.mu.Lock()
	if e, ok := c.entries[query]; ok {
		e.refs++
		c.recent.MoveToFront(e.elem)
		c.mu.Unlock()
		return e.stmt, func() { c.release(e) }, nil
	}
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, nil, fmt.Errorf("preparing query: %w", sql.ErrConnDone)
	}

	stmt, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[query]; ok {
		// another caller cached it meanwhile
		_ = stmt.Close()
		e.refs++
		c.recent.MoveToFront(e.elem)
		return e.stmt, func() { c.release(e) }, nil
	}
	e := &cachedStmt{stmt: stmt, refs: 1}
	if c.closed {
		e.evicted = true
		return stmt, func() { c.release(e) }, nil
	}
	e.elem = c.recent.PushFront(query)
	c.entries[query] = e
	for c.recent.Len() > c.max {
		oldest := c.recent.Back()
		c.evictLocked(oldest.Value.(string))
	}

	return stmt, func() { c.release(e) }, nil
}

func (c *stmtCache) release(e *cachedStmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.refs--
	if e.evicted && e.refs == 0 {
		_ = e.stmt.Close()
	}
}

// evictLocked removes query's entry; its statement is closed now or by its last user.
func (c *stmtCache) evictLocked(query string) {
	e := c.entries[query]
	delete(c.entries, query)
	c.recent.Remove(e.elem)
	e.evicted = true
	if e.refs == 0 {
		_ = e.stmt.Close()
	}
}

// close closes every cached statement (those in use, once released).
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for query := range c.entries {
		c.evictLocked(query)
	}
}
