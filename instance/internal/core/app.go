package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// Data directory file names, PocketBase's own (core/base.go). contract.DataDBFile and
// contract.AuxiliaryDBFile name the same files; a test keeps them equal.
const (
	dataDBFile = "data.db"
	auxDBFile  = "auxiliary.db"
)

// Config configures New.
type Config struct {
	// DataDir is the PocketBase data directory; it is created if missing.
	DataDir string
	// Logger receives the app's logs; nil means slog.Default(). The records at or above
	// settings.logs.minLevel are also stored in `_logs`, as PocketBase stores them.
	Logger *slog.Logger
	// Now is the clock used for created/updated stamps; nil means time.Now.
	Now func() time.Time
	// EncryptionKey, when set, encrypts the stored settings as PocketBase does with its
	// --encryptionEnv key; empty means the contract.EnvEncryptionKey environment variable.
	EncryptionKey string
}

// App is an open data directory: data.db, auxiliary.db and the operations on them.
type App struct {
	dataDir string
	data    *sqlitedb.DB
	aux     *sqlitedb.DB
	logger  *slog.Logger
	now     func() time.Time
	// processLogger is Config.Logger: logger without `_logs`.
	processLogger *slog.Logger

	// collections caches the `_collections` rows (collection_query.go).
	collections collectionsCache
	// settings holds the current application settings (settings_store.go).
	settings settingsState
	// events is the after-commit record event hub and the terminate hooks (record_events.go).
	events recordEvents
	// maint is the background machinery: logs, crons, backups (cron_background.go).
	maint maintenance
	// txObserver observes the write transactions (stats.go).
	txObserver atomic.Pointer[WriteTxFunc]
}

// New opens the data directory (creating it if needed) and brings it to PocketBase
// v0.40's system schema. An empty directory gets the schema a fresh PocketBase v0.40.4
// creates; an up-to-date directory is left unchanged.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("opening data directory: no directory given")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}

	app := &App{dataDir: cfg.DataDir, processLogger: cfg.Logger, now: cfg.Now}
	// note: as PocketBase's, the app logger's records are also stored in `_logs`.
	app.logger = slog.New(teeHandler{a: cfg.Logger.Handler(), b: &logsHandler{app: app}})
	data, err := sqlitedb.Open(ctx, filepath.Join(cfg.DataDir, dataDBFile), app.dbOptions(sqlitedb.DataOptions, StatsDBData))
	if err != nil {
		return nil, fmt.Errorf("opening data database: %w", err)
	}
	aux, err := sqlitedb.Open(ctx, filepath.Join(cfg.DataDir, auxDBFile), app.dbOptions(sqlitedb.AuxOptions, StatsDBAuxiliary))
	if err != nil {
		_ = data.Close()
		return nil, fmt.Errorf("opening auxiliary database: %w", err)
	}
	app.data, app.aux = data, aux
	app.initMaintenance()

	applied, err := sqlitedb.RunMigrations(ctx, data, aux, app.systemMigrations(), cfg.Now)
	if err != nil {
		_ = app.Close()
		return nil, fmt.Errorf("migrating data directory %s: %w", cfg.DataDir, err)
	}
	if len(applied) > 0 {
		app.logger.Info("applied system migrations", slog.String("dir", cfg.DataDir), slog.Any("files", applied))
	}

	if cfg.EncryptionKey == "" {
		cfg.EncryptionKey = os.Getenv(contract.EnvEncryptionKey)
	}
	if err := app.loadSettings(ctx, cfg.EncryptionKey); err != nil {
		_ = app.Close()
		return nil, fmt.Errorf("loading settings of %s: %w", cfg.DataDir, err)
	}
	app.startMaintenance()

	return app, nil
}

// Close runs the OnTerminate hooks (see Terminate) and closes both databases.
func (a *App) Close() error {
	a.stopMaintenance()
	a.Terminate()

	return errors.Join(a.data.Close(), a.aux.Close())
}

// DataDir returns the data directory path.
func (a *App) DataDir() string {
	return a.dataDir
}

// DB returns data.db.
func (a *App) DB() *sqlitedb.DB {
	return a.data
}

// AuxDB returns auxiliary.db.
func (a *App) AuxDB() *sqlitedb.DB {
	return a.aux
}

// Logger returns the app logger: Config.Logger, plus `_logs` (see logsHandler).
func (a *App) Logger() *slog.Logger {
	return a.logger
}

// ProcessLogger returns Config.Logger alone: for the process's own output (the access
// log of every request), which `_logs` keeps in its own form.
func (a *App) ProcessLogger() *slog.Logger {
	return a.processLogger
}

// nowDateTime returns the current time in PocketBase's datetime format.
func (a *App) nowDateTime() string {
	return FormatDateTime(a.now())
}
