package core

import (
	"context"
	"database/sql"

	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// txScope is a data.db write transaction that several record writes join (see
// RunInTransaction), with the work to do once it commits.
type txScope struct {
	tx    *sql.Tx
	after []func(ctx context.Context)
	// undo is what must be undone outside the database if the transaction rolls back
	// (the files a save has already written).
	undo []func()
}

// txScopeKey is the context key of the joined *txScope.
type txScopeKey struct{}

// scopeOf returns the transaction ctx joins, or nil.
func scopeOf(ctx context.Context) *txScope {
	s, _ := ctx.Value(txScopeKey{}).(*txScope)
	return s
}

// RunInTransaction runs fn in one data.db write transaction that the record writes
// made with fn's ctx join (PocketBase's RunInTransaction with a txApp): SaveRecord and
// DeleteRecord write through it, the record reads (NewRecordUpdate, FindRecordByID,
// the rule checks, QueryRecords) see its uncommitted changes, and their after-commit
// work (file removal, record events) runs only once it has committed, in order. If fn
// fails, everything rolls back and that work is dropped: no event is published.
//
//	err := app.RunInTransaction(ctx, func(ctx context.Context) error {
//		if _, err := app.SaveRecord(ctx, parent); err != nil {
//			return err
//		}
//		return app.DeleteRecord(ctx, posts, oldID)
//	})
//
// The transaction is bound to ctx: when ctx ends, database/sql rolls it back and the
// next statement fails. A call made with a ctx that already carries a transaction
// joins it. Like sqlitedb.DB.Tx, the whole of fn may run again when another process
// holds the database lock, so fn must be safe to repeat.
func (a *App) RunInTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	if scopeOf(ctx) != nil {
		return fn(ctx)
	}

	// every attempt gets a scope of its own; the undo work of the attempts that rolled
	// back runs whatever the outcome
	var scope *txScope
	var undone []func()
	err := a.data.Tx(ctx, func(tx *sql.Tx) error {
		if scope != nil {
			undone = append(undone, scope.undo...)
		}
		scope = &txScope{tx: tx}
		return fn(context.WithValue(ctx, txScopeKey{}, scope))
	})
	if err != nil && scope != nil {
		undone = append(undone, scope.undo...)
	}
	for _, undo := range undone {
		undo()
	}
	if err != nil {
		return err
	}

	// note: the committed work must not be cut short by the caller's deadline.
	done := context.WithoutCancel(ctx)
	for _, fn := range scope.after {
		fn(done)
	}

	return nil
}

// reader returns where record reads go: the transaction ctx joins, so that they see
// its uncommitted writes, or else the read pool.
func (a *App) reader(ctx context.Context) sqlitedb.Querier {
	if s := scopeOf(ctx); s != nil {
		return s.tx
	}

	return a.data.Read()
}

// writeTx runs fn in the transaction ctx joins, or else in a write transaction of its
// own.
func (a *App) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s := scopeOf(ctx); s != nil {
		return fn(s.tx)
	}

	return a.data.Tx(ctx, fn)
}

// afterCommit runs fn once the transaction ctx joins has committed, or at once when
// ctx joins none (the caller's own transaction has committed already).
func (a *App) afterCommit(ctx context.Context, fn func(ctx context.Context)) {
	if s := scopeOf(ctx); s != nil {
		s.after = append(s.after, fn)
		return
	}

	fn(ctx)
}

// afterRollback registers fn to run if the transaction ctx joins rolls back; without
// one there is nothing left to undo (the caller's own transaction has committed).
func (a *App) afterRollback(ctx context.Context, fn func()) {
	if s := scopeOf(ctx); s != nil {
		s.undo = append(s.undo, fn)
	}
}
