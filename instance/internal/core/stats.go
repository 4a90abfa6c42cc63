package core

import (
	"context"
	"database/sql"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// Database names of the stats and the write transaction observer.
const (
	// StatsDBData is data.db.
	StatsDBData = "data"
	// StatsDBAuxiliary is auxiliary.db.
	StatsDBAuxiliary = "auxiliary"
)

// WriteTxFunc observes one write transaction attempt of db (StatsDBData or
// StatsDBAuxiliary): how long it held the writer, and whether it committed.
type WriteTxFunc func(db string, d time.Duration, committed bool)

// OnWriteTx sets the observer of the write transactions (nil for none); it applies to
// the databases a restore reopens too. The metrics listener uses it.
func (a *App) OnWriteTx(fn WriteTxFunc) {
	if fn == nil {
		a.txObserver.Store(nil)
		return
	}
	a.txObserver.Store(&fn)
}

// dbOptions returns opts with the write transaction observer of db.
func (a *App) dbOptions(opts sqlitedb.Options, db string) sqlitedb.Options {
	opts.OnTx = func(d time.Duration, committed bool) {
		if fn := a.txObserver.Load(); fn != nil {
			(*fn)(db, d, committed)
		}
	}

	return opts
}

// DBPoolStats is the connection pool state of one database pool.
type DBPoolStats struct {
	// DB is StatsDBData or StatsDBAuxiliary.
	DB string
	// Pool is "read" (the concurrent readers) or "write" (the single writer).
	Pool string
	// Stats is database/sql's pool state.
	Stats sql.DBStats
}

// DBPoolStats returns the pool state of data.db and auxiliary.db, readers and writer.
// It waits for a running restore to finish swapping the databases.
func (a *App) DBPoolStats() []DBPoolStats {
	release := a.HoldData()
	defer release()

	return []DBPoolStats{
		{DB: StatsDBData, Pool: "read", Stats: a.data.Read().Stats()},
		{DB: StatsDBData, Pool: "write", Stats: a.data.Write().Stats()},
		{DB: StatsDBAuxiliary, Pool: "read", Stats: a.aux.Read().Stats()},
		{DB: StatsDBAuxiliary, Pool: "write", Stats: a.aux.Write().Stats()},
	}
}

// latestBackupTimeout bounds the listing of a metrics scrape (a bucket may be slow).
const latestBackupTimeout = 5 * time.Second

// LatestBackupTime returns when the newest backup was written (a backup is stored only
// once it has completed), in pb_data/backups or in the settings.backups.s3 bucket, and
// false when there is none or the listing fails.
func (a *App) LatestBackupTime() (time.Time, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), latestBackupTimeout)
	defer cancel()
	list, err := a.ListBackups(ctx)
	if err != nil {
		a.logger.Debug("listing backups", "error", err.Error())
		return time.Time{}, false
	}

	var latest time.Time
	for _, b := range list {
		if t, err := time.Parse(DateTimeLayout, b.Modified); err == nil && t.After(latest) {
			latest = t
		}
	}

	return latest, !latest.IsZero()
}
