package sqlitedb

import (
	"container/list"
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Result cache limits: the values kept in all, and in one entry.
const (
	resultCacheBytes    = 4 << 20
	resultCacheMaxEntry = 256 << 10
)

// Cached returns the value cached under key while the database is unchanged, or runs
// load, caches what it returns (size is its approximate size in bytes) and returns it.
//
// The cache is emptied whenever anything commits to the database: this process's writer
// or another process. A value is only served to callers that started after it was
// loaded's data version was read, and before the next commit. load must be a read whose
// result depends on nothing but the database content and key (no RANDOM(), no clock),
// and the value it returns must not be modified by anyone afterwards.
func (db *DB) Cached(ctx context.Context, key string, load func() (value any, size int, err error)) (any, error) {
	version, err := db.version.read(ctx)
	if err != nil {
		// note: a failing watcher only costs the cache
		value, _, err := load()
		return value, err
	}
	if value, ok := db.results.get(version, key); ok {
		return value, nil
	}

	value, size, err := load()
	if err != nil {
		return nil, err
	}
	db.results.put(version, key, value, size)

	return value, nil
}

// versionWatcher reads PRAGMA data_version on a connection of its own that runs nothing
// else: its value changes whenever another connection commits. The connection is kept
// for good; when it fails it is replaced and an epoch in the high bits keeps the new
// connection's numbers distinct from the old one's.
type versionWatcher struct {
	path string

	mu    sync.Mutex
	db    *sql.DB
	conn  *sql.Conn
	stmt  *sql.Stmt
	epoch int64
}

func (w *versionWatcher) read(ctx context.Context) (int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()

	if w.stmt == nil {
		if err := w.connectLocked(ctx); err != nil {
			return 0, err
		}
	}
	var v int64
	if err := w.stmt.QueryRowContext(ctx).Scan(&v); err != nil {
		w.closeLocked()
		return 0, fmt.Errorf("reading the data version of %s: %w", w.path, err)
	}

	return w.epoch<<32 | v&0xffffffff, nil
}

func (w *versionWatcher) connectLocked(ctx context.Context) error {
	db, err := sql.Open(DriverName, w.path+"?"+Pragmas)
	if err != nil {
		return fmt.Errorf("opening the version watcher of %s: %w", w.path, err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("connecting the version watcher of %s: %w", w.path, err)
	}
	stmt, err := conn.PrepareContext(ctx, "PRAGMA data_version")
	if err != nil {
		_ = conn.Close()
		_ = db.Close()
		return fmt.Errorf("preparing the version watcher of %s: %w", w.path, err)
	}
	w.db, w.conn, w.stmt = db, conn, stmt
	w.epoch++

	return nil
}

func (w *versionWatcher) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closeLocked()
}

func (w *versionWatcher) closeLocked() {
	if w.stmt == nil {
		return
	}
	_ = w.stmt.Close()
	_ = w.conn.Close()
	_ = w.db.Close()
	w.db, w.conn, w.stmt = nil, nil, nil
}

// resultCache is an LRU of values of one data version, bounded in bytes.
type resultCache struct {
	mu      sync.Mutex
	version int64
	entries map[string]*list.Element
	recent  *list.List // of *resultEntry, most recently used first
	bytes   int
}

type resultEntry struct {
	key   string
	value any
	size  int
}

func newResultCache() *resultCache {
	return &resultCache{entries: map[string]*list.Element{}, recent: list.New()}
}

// get returns key's value of version; a newer version empties the cache first.
func (c *resultCache) get(version int64, key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version != c.version {
		c.resetLocked(version)
		return nil, false
	}
	elem, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	c.recent.MoveToFront(elem)

	return elem.Value.(*resultEntry).value, true
}

// put caches key's value loaded at version, unless a newer version was seen since.
func (c *resultCache) put(version int64, key string, value any, size int) {
	size += len(key)
	if size > resultCacheMaxEntry {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if version != c.version {
		if version < c.version {
			return
		}
		c.resetLocked(version)
	}
	if elem, ok := c.entries[key]; ok {
		c.removeLocked(elem)
	}
	c.entries[key] = c.recent.PushFront(&resultEntry{key: key, value: value, size: size})
	c.bytes += size
	for c.bytes > resultCacheBytes {
		c.removeLocked(c.recent.Back())
	}
}

func (c *resultCache) removeLocked(elem *list.Element) {
	e := c.recent.Remove(elem).(*resultEntry)
	delete(c.entries, e.key)
	c.bytes -= e.size
}

func (c *resultCache) resetLocked(version int64) {
	c.version = version
	if len(c.entries) > 0 {
		c.entries = map[string]*list.Element{}
		c.recent.Init()
		c.bytes = 0
	}
}
