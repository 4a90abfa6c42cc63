package core

import (
	"context"
	"log/slog"
	"sync"
)

// Record actions of a RecordEvent, as the realtime API names them.
const (
	RecordActionCreate = "create"
	RecordActionUpdate = "update"
	RecordActionDelete = "delete"
)

// RecordEvent is one committed record change.
type RecordEvent struct {
	// Action is RecordActionCreate, RecordActionUpdate or RecordActionDelete.
	Action string
	// Record is the record as stored after the change; for a delete, as it was just
	// before it. Handlers must treat it as read-only: it is shared by all of them.
	Record *Record

	// prepared is set when the delete went through PrepareRecordDelete, so that the
	// handlers' prepared work ran before the commit.
	prepared bool
}

// Prepared reports whether a delete event was prepared with PrepareRecordDelete before
// its commit (its OnRecordDeletePrepare handlers ran while the record was still stored).
func (e RecordEvent) Prepared() bool {
	return e.prepared
}

// RecordChangeFunc handles a committed record change. It runs on the writer's
// goroutine after the commit, so it must be quick and must not fail the write: slow
// work goes to a goroutine of its own.
type RecordChangeFunc func(ctx context.Context, e RecordEvent)

// RecordDeletePrepareFunc runs before a delete commits, while the record is still
// stored and visible through the read pool, and returns what to run once the delete
// has committed (nil for nothing). If the delete fails, the returned func is dropped.
type RecordDeletePrepareFunc func(ctx context.Context, e RecordEvent) (afterCommit func(ctx context.Context))

// recordEvents is the after-commit event hub of an App: the handlers registered with
// OnRecordChange and OnRecordDeletePrepare, and the OnTerminate hooks.
type recordEvents struct {
	mu         sync.RWMutex
	nextID     uint64
	change     []recordHandler[RecordChangeFunc]
	prepare    []recordHandler[RecordDeletePrepareFunc]
	terminate  []recordHandler[func()]
	terminated bool
}

type recordHandler[F any] struct {
	id uint64
	fn F
}

// OnRecordChange registers fn to be called after every committed record create, update
// and delete that the write path publishes, and returns a function that unregisters it.
// Handlers run in registration order.
//
//	unsubscribe := app.OnRecordChange(func(ctx context.Context, e core.RecordEvent) {
//		log.Println(e.Action, e.Record.Collection().Name, e.Record.ID())
//	})
//	defer unsubscribe()
//
// For a delete prepared with PrepareRecordDelete, e.Prepared() is true and the work
// that needed the stored row already ran in an OnRecordDeletePrepare handler.
func (a *App) OnRecordChange(fn RecordChangeFunc) (unsubscribe func()) {
	ev := &a.events
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.nextID++
	id := ev.nextID
	ev.change = append(ev.change, recordHandler[RecordChangeFunc]{id: id, fn: fn})

	return func() {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		ev.change = removeHandler(ev.change, id)
	}
}

// OnRecordDeletePrepare registers fn to be run by PrepareRecordDelete, before a delete
// commits, and returns a function that unregisters it. The realtime API uses it to
// check its clients' rules against the record while it still exists (PocketBase's
// "dry cache") and sends the messages from the returned after-commit func.
func (a *App) OnRecordDeletePrepare(fn RecordDeletePrepareFunc) (unsubscribe func()) {
	ev := &a.events
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.nextID++
	id := ev.nextID
	ev.prepare = append(ev.prepare, recordHandler[RecordDeletePrepareFunc]{id: id, fn: fn})

	return func() {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		ev.prepare = removeHandler(ev.prepare, id)
	}
}

// OnTerminate registers fn to run once when the app terminates (Terminate, or Close),
// and returns a function that unregisters it. The realtime API closes its connections
// there. A hook registered after termination runs at once.
func (a *App) OnTerminate(fn func()) (unsubscribe func()) {
	ev := &a.events
	ev.mu.Lock()
	if ev.terminated {
		ev.mu.Unlock()
		fn()
		return func() {}
	}
	ev.nextID++
	id := ev.nextID
	ev.terminate = append(ev.terminate, recordHandler[func()]{id: id, fn: fn})
	ev.mu.Unlock()

	return func() {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		ev.terminate = removeHandler(ev.terminate, id)
	}
}

// Terminate runs the OnTerminate hooks once, in reverse registration order: long-lived
// work tied to the app (realtime connections) ends. Call it when the server stops,
// before waiting for the HTTP server's shutdown; Close calls it too.
func (a *App) Terminate() {
	ev := &a.events
	ev.mu.Lock()
	if ev.terminated {
		ev.mu.Unlock()
		return
	}
	ev.terminated = true
	hooks := ev.terminate
	ev.terminate = nil
	ev.mu.Unlock()

	for i := len(hooks) - 1; i >= 0; i-- {
		hooks[i].fn()
	}
}

func removeHandler[F any](list []recordHandler[F], id uint64) []recordHandler[F] {
	for i, h := range list {
		if h.id == id {
			return append(list[:i:i], list[i+1:]...)
		}
	}

	return list
}

// PublishRecordEvent delivers a committed change to the OnRecordChange handlers. The
// write path calls it after the transaction has committed, once per created, updated
// or deleted record (cascade deletes included):
//
//	rec, err := app.SaveRecord(ctx, upsert)
//	if err == nil {
//		app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionCreate, Record: rec})
//	}
//
// A delete should go through PrepareRecordDelete instead, so that rule checks can run
// while the record still exists; a delete published here unprepared reaches only the
// subscribers that need no rule check (superusers and public rules).
func (a *App) PublishRecordEvent(ctx context.Context, e RecordEvent) {
	if e.Record == nil {
		return
	}

	a.events.mu.RLock()
	handlers := a.events.change
	a.events.mu.RUnlock()

	for _, h := range handlers {
		a.runRecordHandler(ctx, e, func() { h.fn(ctx, e) })
	}
}

// PendingRecordDelete is a delete prepared before its commit; see PrepareRecordDelete.
type PendingRecordDelete struct {
	app         *App
	event       RecordEvent
	afterCommit []func(ctx context.Context)
}

// PrepareRecordDelete runs the OnRecordDeletePrepare handlers for record, which is
// about to be deleted, and returns the pending event. Call it before the delete
// commits, while the record is still visible through the read pool (inside the write
// transaction is fine: the read pool sees the last committed state); then call Publish
// on the result after the commit. If the delete fails, drop the result.
//
//	pending := make([]*core.PendingRecordDelete, 0, len(records))
//	err := app.DB().Tx(ctx, func(tx *sql.Tx) error {
//		for _, r := range records {
//			pending = append(pending, app.PrepareRecordDelete(ctx, r))
//		}
//		return deleteRows(ctx, tx, records)
//	})
//	if err == nil {
//		for _, p := range pending {
//			p.Publish(ctx)
//		}
//	}
func (a *App) PrepareRecordDelete(ctx context.Context, record *Record) *PendingRecordDelete {
	p := &PendingRecordDelete{app: a, event: RecordEvent{Action: RecordActionDelete, Record: record, prepared: true}}
	if record == nil {
		return p
	}

	a.events.mu.RLock()
	handlers := a.events.prepare
	a.events.mu.RUnlock()

	for _, h := range handlers {
		a.runRecordHandler(ctx, p.event, func() {
			if fn := h.fn(ctx, p.event); fn != nil {
				p.afterCommit = append(p.afterCommit, fn)
			}
		})
	}

	return p
}

// Publish completes a prepared delete after its commit: the prepared after-commit
// funcs run, then the OnRecordChange handlers get the delete event (with Prepared()
// true). Publishing twice does nothing more.
func (p *PendingRecordDelete) Publish(ctx context.Context) {
	if p == nil || p.app == nil {
		return
	}
	a, e, fns := p.app, p.event, p.afterCommit
	p.app, p.afterCommit = nil, nil

	for _, fn := range fns {
		a.runRecordHandler(ctx, e, func() { fn(ctx) })
	}
	a.PublishRecordEvent(ctx, e)
}

// runRecordHandler runs one handler, logging instead of propagating a panic: a
// subscriber must never fail a write that has already committed.
func (a *App) runRecordHandler(ctx context.Context, e RecordEvent, fn func()) {
	defer func() {
		if p := recover(); p != nil {
			a.logger.LogAttrs(ctx, slog.LevelError, "record event handler panicked",
				slog.String("action", e.Action),
				slog.String("collection", e.Record.Collection().Name),
				slog.String("id", e.Record.ID()),
				slog.Any("panic", p))
		}
	}()
	fn()
}

// Fresh returns a copy of r without its expanded relations and email visibility flag,
// for a subscriber to enrich on its own (PocketBase's Record.Fresh). The field values
// are shared with r, read-only.
func (r *Record) Fresh() *Record {
	return &Record{collection: r.collection, values: r.values}
}
