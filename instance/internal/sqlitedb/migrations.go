package sqlitedb

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// MigrationsTable is the table PocketBase records applied migrations in
// (core/migrations_runner.go DefaultMigrationsTable). It lives in data.db, including the
// rows of migrations that change auxiliary.db.
const MigrationsTable = "_migrations"

// createMigrationsTableSQL is PocketBase's table definition, byte for byte, since SQLite
// keeps the statement text in sqlite_master.
const createMigrationsTableSQL = "CREATE TABLE IF NOT EXISTS `" + MigrationsTable +
	"` (file VARCHAR(255) PRIMARY KEY NOT NULL, applied INTEGER NOT NULL)"

// MigrationTx carries the two transactions a migration runs in: one on data.db and one
// on auxiliary.db.
type MigrationTx struct {
	// Data is the transaction on data.db.
	Data *sql.Tx
	// Aux is the transaction on auxiliary.db.
	Aux *sql.Tx
	// AppliedBefore lists the migrations applied earlier in the same run (and thus the
	// same transactions), in order.
	AppliedBefore []string
}

// Migration is one named schema change, recorded under File once applied.
type Migration struct {
	// File is the name recorded in the migrations table, e.g. "1640988000_init.go".
	File string
	// Up applies the migration.
	Up func(ctx context.Context, tx MigrationTx) error
	// Reapply, when set, is asked about an already applied migration; returning true
	// runs Up again (PocketBase's ReapplyCondition). data and aux are read-only views:
	// the reader pools before any transaction starts, the transactions afterwards.
	Reapply func(ctx context.Context, data, aux Querier) (bool, error)
}

// RunMigrations applies, in file-name order, every migration of list that is not yet
// recorded in data's migrations table (or whose Reapply says so), all in one
// transaction per database, as PocketBase's MigrationsRunner.Up does. It returns the
// files it applied.
//
// When nothing is pending it writes nothing at all, so an up-to-date data directory is
// left byte for byte unchanged. now stamps the `applied` column (Unix microseconds).
func RunMigrations(ctx context.Context, data, aux *DB, list []Migration, now func() time.Time) (_ []string, err error) {
	sorted := slices.Clone(list)
	slices.SortStableFunc(sorted, func(a, b Migration) int { return cmp.Compare(a.File, b.File) })

	// A read-only first pass keeps an up-to-date directory free of write locks and
	// writes.
	pending, err := pendingMigrations(ctx, data.Read(), aux.Read(), sorted)
	if err != nil {
		return nil, err
	}
	if len(pending) == 0 {
		return nil, nil
	}

	// note: a data directory being created commits its bootstrap without waiting for
	// the disk; see relaxSyncForBootstrap.
	fresh, err := HasTable(ctx, data.Read(), MigrationsTable)
	if err != nil {
		return nil, err
	}
	if fresh = !fresh; fresh {
		restore, err := relaxSyncForBootstrap(ctx, data, aux)
		if err != nil {
			return nil, err
		}
		defer func() {
			if rerr := restore(); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}

	var applied []string
	err = aux.Tx(ctx, func(auxTx *sql.Tx) error {
		return data.Tx(ctx, func(dataTx *sql.Tx) error {
			applied = applied[:0]

			if _, err := dataTx.ExecContext(ctx, createMigrationsTableSQL); err != nil {
				return fmt.Errorf("creating %s table: %w", MigrationsTable, err)
			}

			// note: check again inside the transactions, another process may have
			// migrated in the meantime.
			pending, err := pendingMigrations(ctx, dataTx, auxTx, sorted)
			if err != nil {
				return err
			}

			for _, p := range pending {
				mtx := MigrationTx{Data: dataTx, Aux: auxTx, AppliedBefore: slices.Clone(applied)}
				if p.reapply {
					if _, err := dataTx.ExecContext(ctx, "DELETE FROM `"+MigrationsTable+"` WHERE file = ?", p.m.File); err != nil {
						return fmt.Errorf("clearing migration %s for reapply: %w", p.m.File, err)
					}
				}
				if p.m.Up != nil {
					if err := p.m.Up(ctx, mtx); err != nil {
						return fmt.Errorf("applying migration %s: %w", p.m.File, err)
					}
				}
				if _, err := dataTx.ExecContext(ctx,
					"INSERT INTO `"+MigrationsTable+"` (file, applied) VALUES (?, ?)",
					p.m.File, now().UnixMicro(),
				); err != nil {
					return fmt.Errorf("recording migration %s: %w", p.m.File, err)
				}
				applied = append(applied, p.m.File)
			}

			return nil
		})
	})
	if err != nil {
		return nil, err
	}

	return applied, nil
}

// relaxSyncForBootstrap sets the writers of data and aux to synchronous=OFF with no
// automatic checkpoint, for the first migrations of a new data directory, and returns
// the func that restores both settings. It saves the two fsyncs per database SQLite
// makes when it writes the header of a new WAL file (and syncs its directory): most of
// a fresh start's time.
//
// It stays crash-safe because both databases are in WAL mode already (the switch to WAL
// ran with the usual syncs when the writer connected) and only the bootstrap commits run
// relaxed:
//   - a WAL commit only appends checksummed frames to the WAL; the database file is not
//     written until a checkpoint, and none runs while relaxed. After a crash, recovery
//     keeps the frames up to the last commit whose salt and checksum chain from a valid
//     header is intact, so a WAL whose header or frames did not reach the disk is
//     dropped: the database is the empty one it was, and the next start migrates it
//     again (the migrations are one transaction).
//   - the settings are restored before anything else writes, so from then on every
//     commit and checkpoint is synchronous=NORMAL as usual: the first checkpoint syncs
//     the WAL (this header and its directory entry included) before it copies a page
//     into the database file, and the WAL is only restarted after a checkpoint that did.
//
// So a power loss can cost the bootstrap itself, as synchronous=NORMAL may cost any last
// commits, but never corrupt the database.
func relaxSyncForBootstrap(ctx context.Context, dbs ...*DB) (restore func() error, err error) {
	type saved struct {
		db                  *DB
		sync, autocheckpint int
	}
	var done []saved
	restore = func() error {
		var errs []error
		for _, s := range done {
			_, err := s.db.write.ExecContext(context.WithoutCancel(ctx),
				fmt.Sprintf("PRAGMA synchronous = %d; PRAGMA wal_autocheckpoint = %d", s.sync, s.autocheckpint))
			if err != nil {
				errs = append(errs, fmt.Errorf("restoring the sync settings of %s: %w", s.db.path, err))
			}
		}
		return errors.Join(errs...)
	}
	for _, db := range dbs {
		s := saved{db: db}
		err := db.write.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&s.sync)
		if err == nil {
			err = db.write.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&s.autocheckpint)
		}
		if err == nil {
			// note: saved before the change, so that a half-applied change is undone too
			done = append(done, s)
			_, err = db.write.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0; PRAGMA synchronous = OFF")
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("relaxing the sync settings of %s: %w", db.path, err), restore())
		}
	}

	return restore, nil
}

type pendingMigration struct {
	m       Migration
	reapply bool
}

func pendingMigrations(ctx context.Context, data, aux Querier, list []Migration) ([]pendingMigration, error) {
	done, err := appliedMigrations(ctx, data)
	if err != nil {
		return nil, err
	}

	var pending []pendingMigration
	for _, m := range list {
		if !done[m.File] {
			pending = append(pending, pendingMigration{m: m})
			continue
		}
		if m.Reapply == nil {
			continue
		}
		again, err := m.Reapply(ctx, data, aux)
		if err != nil {
			return nil, fmt.Errorf("checking whether to reapply migration %s: %w", m.File, err)
		}
		if again {
			pending = append(pending, pendingMigration{m: m, reapply: true})
		}
	}

	return pending, nil
}

// AppliedMigrations returns the files recorded in q's migrations table, or none when the
// table does not exist yet.
func AppliedMigrations(ctx context.Context, q Querier) ([]string, error) {
	done, err := appliedMigrations(ctx, q)
	if err != nil {
		return nil, err
	}

	files := make([]string, 0, len(done))
	for f := range done {
		files = append(files, f)
	}
	slices.Sort(files)

	return files, nil
}

func appliedMigrations(ctx context.Context, q Querier) (map[string]bool, error) {
	exists, err := HasTable(ctx, q, MigrationsTable)
	if err != nil {
		return nil, err
	}
	if !exists {
		return map[string]bool{}, nil
	}

	rows, err := q.QueryContext(ctx, "SELECT file FROM `"+MigrationsTable+"`")
	if err != nil {
		return nil, fmt.Errorf("listing applied migrations: %w", err)
	}
	defer rows.Close()

	done := map[string]bool{}
	for rows.Next() {
		var file string
		if err := rows.Scan(&file); err != nil {
			return nil, fmt.Errorf("scanning applied migration: %w", err)
		}
		done[file] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing applied migrations: %w", err)
	}

	return done, nil
}
