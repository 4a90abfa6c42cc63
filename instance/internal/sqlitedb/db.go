package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DriverName is the database/sql driver name registered by modernc.org/sqlite.
const DriverName = "sqlite"

// Pragmas is the DSN query PocketBase v0.40 opens every database with
// (core/db_connect.go DefaultDBConnect). busy_timeout comes first so that a connection
// blocks on a busy database before it switches the journal to WAL.
const Pragmas = "_pragma=busy_timeout(10000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=journal_size_limit(200000000)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_pragma=foreign_keys(ON)" +
	"&_pragma=temp_store(MEMORY)" +
	"&_pragma=cache_size(-32000)" +
	"&_defensive=1"

// readerPragmas are Pragmas with a smaller page cache per reader connection plus
// memory-mapped reads of the database file.
//
// note: each connection has its own page cache, and a reader that scans a table ends
// up caching all of it: with PocketBase's 32 MB per connection a busy pool holds the
// database once per reader. Mapped pages are the kernel's page cache, shared by all
// readers (and counted once). The writer keeps PocketBase's settings.
var readerPragmas = strings.Replace(Pragmas, "cache_size(-32000)", "cache_size(-2000)&_pragma=mmap_size(268435456)", 1)

// writerTxLock makes the writer start its transactions with BEGIN IMMEDIATE.
//
// note: PocketBase uses deferred transactions. With a single writer connection per
// process that is equivalent inside the process, but taking the write lock up front
// lets busy_timeout wait for another process (e.g. `instance superuser` run beside a
// serving instance) instead of failing the read-to-write upgrade with SQLITE_BUSY.
const writerTxLock = "&_txlock=immediate"

// Options sizes the reader pool. Zero values fall back to [DataOptions].
type Options struct {
	// MaxOpenConns caps the concurrent reader connections; 0 means [DefaultReaders].
	MaxOpenConns int
	// MaxIdleConns caps the idle reader connections kept open; 0 means MaxOpenConns.
	MaxIdleConns int
	// ConnMaxIdleTime closes connections idle for longer than this.
	ConnMaxIdleTime time.Duration
	// WriterCacheKiB is the writer's page cache size; 0 means PocketBase's 32,000 KiB.
	WriterCacheKiB int
	// OnTx, when set, is told how long each write transaction attempt of Tx took, from
	// BEGIN to its commit (committed true) or rollback.
	OnTx func(d time.Duration, committed bool)
}

// Pool sizes of data.db and auxiliary.db.
//
// note: PocketBase opens up to 120 readers of data.db and keeps 15 idle. modernc.org/sqlite
// runs every query on the calling goroutine, so readers beyond a few per CPU only queue
// for the CPUs while each holds its own page cache; and with fewer idle than open
// connections a busy server closes and reopens connections (pragmas and all) all the
// time. Both pools are therefore sized to the CPUs and keep all their connections.
var (
	// DataOptions are the pool sizes for data.db: [DefaultReaders], all kept idle.
	DataOptions = Options{ConnMaxIdleTime: 3 * time.Minute}
	// AuxOptions are the pool sizes for auxiliary.db (logs), read far less. Its writer
	// mostly appends logs, which need no more than a small page cache: with PocketBase's
	// 32 MB the writer of a busy server's logs held up to 32 MB of log pages for nothing.
	AuxOptions = Options{MaxOpenConns: 4, ConnMaxIdleTime: 3 * time.Minute, WriterCacheKiB: 2000}
)

// DefaultReaders is the reader pool size when Options.MaxOpenConns is 0: four per CPU
// the process may use, at least 8.
func DefaultReaders() int {
	return max(8, 4*runtime.GOMAXPROCS(0))
}

// Querier is what *sql.DB, *sql.Conn and *sql.Tx have in common, so that a query helper
// can run either inside or outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is one SQLite database file opened as a concurrent reader pool plus a single
// writer connection.
type DB struct {
	path  string
	read  *sql.DB
	write *sql.DB
	onTx  func(d time.Duration, committed bool)
	// stmts holds the reader pool's prepared statements (Query, QueryRow).
	stmts *stmtCache
	// group queues the write transactions (Tx).
	group *groupCommit
	// version and results make up the result cache (Cached).
	version *versionWatcher
	results *resultCache
}

// Open opens (creating it if needed) the SQLite database at path.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = DefaultReaders()
	}
	if opts.MaxIdleConns <= 0 {
		opts.MaxIdleConns = opts.MaxOpenConns
	}
	if opts.ConnMaxIdleTime <= 0 {
		opts.ConnMaxIdleTime = DataOptions.ConnMaxIdleTime
	}

	writerPragmas := Pragmas
	if opts.WriterCacheKiB > 0 {
		writerPragmas = strings.Replace(Pragmas, "cache_size(-32000)", fmt.Sprintf("cache_size(-%d)", opts.WriterCacheKiB), 1)
	}
	write, err := sql.Open(DriverName, path+"?"+writerPragmas+writerTxLock)
	if err != nil {
		return nil, fmt.Errorf("opening writer for %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(opts.ConnMaxIdleTime)

	// note: connect the writer first so that it creates the file and switches it to WAL
	// before any reader connects.
	if err := write.PingContext(ctx); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("connecting writer to %s: %w", path, err)
	}

	read, err := sql.Open(DriverName, path+"?"+readerPragmas)
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("opening readers for %s: %w", path, err)
	}
	read.SetMaxOpenConns(opts.MaxOpenConns)
	read.SetMaxIdleConns(opts.MaxIdleConns)
	read.SetConnMaxIdleTime(opts.ConnMaxIdleTime)

	if err := read.PingContext(ctx); err != nil {
		_ = read.Close()
		_ = write.Close()
		return nil, fmt.Errorf("connecting reader to %s: %w", path, err)
	}

	db := &DB{
		path: path, read: read, write: write, onTx: opts.OnTx,
		stmts:   newStmtCache(read, stmtCacheSize),
		version: &versionWatcher{path: path},
		results: newResultCache(),
	}
	db.group = &groupCommit{db: db}

	return db, nil
}

// Path returns the database file path.
func (db *DB) Path() string {
	return db.path
}

// Read returns the concurrent pool, for SELECT queries.
func (db *DB) Read() *sql.DB {
	return db.read
}

// Write returns the single writer connection pool (at most one open connection).
//
// Do not use it from inside Tx: the transaction holds the only connection, so the call
// would wait forever. Use the *sql.Tx instead.
func (db *DB) Write() *sql.DB {
	return db.write
}

// Close closes the readers and the writer. The last connection to close checkpoints the
// WAL into the database file.
func (db *DB) Close() error {
	db.stmts.close()
	db.version.close()
	return errors.Join(db.read.Close(), db.write.Close())
}

// HasTable reports whether a table or view with the given name exists.
func (db *DB) HasTable(ctx context.Context, name string) (bool, error) {
	return HasTable(ctx, db.read, name)
}

// HasTable reports whether q's database has a table or view with the given name
// (case-insensitive, as SQLite identifiers are).
func HasTable(ctx context.Context, q Querier, name string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE",
		name,
	).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("looking up table %q: %w", name, err)
	}

	return n > 0, nil
}

// retryIntervals are PocketBase's lock retry back-offs (core/db_retry.go).
var retryIntervals = []time.Duration{
	50 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond,
	200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond,
	500 * time.Millisecond, 700 * time.Millisecond, 1000 * time.Millisecond,
}

// maxLockRetries is PocketBase's defaultMaxLockRetries.
const maxLockRetries = 12

// Tx runs fn in a write transaction on the writer connection and commits it if fn
// returns nil; otherwise it rolls back and returns fn's error.
//
// Concurrent calls are committed together (group commit): while one transaction
// commits, the calls that arrive queue up, and the next transaction runs each of them
// in a savepoint of its own, so that one's error rolls back only its own changes, and
// commits once for all. Each call returns once its changes are committed (or have
// failed); a later call in a group sees the changes of the earlier ones, as it would
// have after their commits. When the group transaction fails as a whole (its commit, or
// SQLite rolled it back), each of its calls is run again in a transaction of its own.
//
// When SQLite reports the database or a table as locked (another process holds the
// write lock past busy_timeout), the whole transaction is retried with PocketBase's
// back-off, so fn must do nothing but database work through tx: it may run more than
// once. Calls to Tx must not nest: the writer has one connection.
func (db *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.group.submit(ctx, fn)
		if err == nil || !IsLocked(err) || attempt >= maxLockRetries {
			return err
		}

		wait := retryIntervals[min(attempt, len(retryIntervals)-1)]
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

func (db *DB) tx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction on %s: %w", db.path, err)
	}
	committed := false
	if db.onTx != nil {
		start := time.Now()
		defer func() { db.onTx(time.Since(start), committed) }()
	}

	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()

	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rolling back transaction on %s: %w", db.path, rbErr))
		}
		return err
	}

	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction on %s: %w", db.path, err)
	}
	committed = true

	return nil
}

// IsLocked reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED (including their
// extended codes).
func IsLocked(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}

	primary := se.Code() & 0xff

	return primary == sqlite3.SQLITE_BUSY || primary == sqlite3.SQLITE_LOCKED
}

// IsConstraint reports whether err is an SQLite constraint violation (UNIQUE, NOT NULL,
// FOREIGN KEY, ...).
func IsConstraint(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}

	return se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}
