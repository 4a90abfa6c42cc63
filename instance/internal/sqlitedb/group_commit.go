package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxGroupSize caps the calls committed together, to bound their wait.
const maxGroupSize = 64

// groupSavepoint names the savepoint of each call of a group.
const groupSavepoint = "pf_group"

// groupCommit queues the calls of Tx. The caller that finds no transaction running
// runs the queued calls (its own first); the calls queued meanwhile are run by the
// next group, on a goroutine of their own.
type groupCommit struct {
	db *DB

	mu      sync.Mutex
	queue   []*txCall
	running bool
}

type txCall struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// panicError carries a panic of fn back to the goroutine that called Tx.
type panicError struct{ value any }

func (p panicError) Error() string { return fmt.Sprintf("panic in transaction: %v", p.value) }

func (g *groupCommit) submit(ctx context.Context, fn func(tx *sql.Tx) error) error {
	call := &txCall{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, call)
	lead := !g.running
	g.running = true
	g.mu.Unlock()

	if lead {
		g.runNext()
	}
	err := <-call.done
	var p panicError
	if errors.As(err, &p) {
		panic(p.value)
	}

	return err
}

// runNext runs one group of queued calls and hands the rest to another goroutine.
func (g *groupCommit) runNext() {
	g.mu.Lock()
	n := min(len(g.queue), maxGroupSize)
	group := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	g.run(group)

	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.running = false
		g.queue = nil
		return
	}
	go g.runNext()
}

// run runs the calls of a group in one transaction, or a single call in its own.
func (g *groupCommit) run(group []*txCall) {
	if len(group) == 1 {
		g.runAlone(group[0])
		return
	}

	// note: the group's statements run under each call's context, the transaction under
	// none: one caller going away must not roll back the others' changes
	tx, err := g.db.write.BeginTx(context.Background(), nil)
	committed := false
	if g.db.onTx != nil {
		start := time.Now()
		defer func() { g.db.onTx(time.Since(start), committed) }()
	}
	if err != nil {
		err = fmt.Errorf("beginning transaction on %s: %w", g.db.path, err)
		for _, call := range group {
			call.done <- err
		}
		return
	}

	var applied []*txCall
	for i, call := range group {
		if err := call.ctx.Err(); err != nil {
			call.done <- err
			continue
		}
		res := g.runInSavepoint(tx, call)
		if res.broken {
			// SQLite ended the transaction: every call runs again on its own
			_ = tx.Rollback()
			for _, again := range append(append(applied, call), group[i+1:]...) {
				g.runAlone(again)
			}
			return
		}
		if res.fnErr != nil {
			call.done <- res.fnErr
			continue
		}
		applied = append(applied, call)
	}

	if err := tx.Commit(); err != nil {
		for _, call := range applied {
			g.runAlone(call)
		}
		return
	}
	committed = true
	for _, call := range applied {
		call.done <- nil
	}
}

// savepointResult is what running a call in a savepoint gave.
type savepointResult struct {
	// fnErr is the call's own error (its changes were rolled back).
	fnErr error
	// broken reports that the transaction is no longer usable.
	broken bool
}

// runInSavepoint runs call's fn in a savepoint of tx, released when fn succeeds and
// rolled back to when it fails.
func (g *groupCommit) runInSavepoint(tx *sql.Tx, call *txCall) savepointResult {
	bg := context.Background()
	if _, err := tx.ExecContext(bg, "SAVEPOINT "+groupSavepoint); err != nil {
		return savepointResult{broken: true}
	}

	fnErr := g.callFn(tx, call)
	if fnErr != nil {
		if _, err := tx.ExecContext(bg, "ROLLBACK TO "+groupSavepoint); err != nil {
			return savepointResult{broken: true}
		}
	}
	if _, err := tx.ExecContext(bg, "RELEASE "+groupSavepoint); err != nil {
		return savepointResult{broken: true}
	}

	return savepointResult{fnErr: fnErr}
}

// callFn runs call's fn, turning a panic into a panicError.
func (g *groupCommit) callFn(tx *sql.Tx, call *txCall) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panicError{value: p}
		}
	}()

	return call.fn(tx)
}

// runAlone runs call in a transaction of its own and reports the result.
func (g *groupCommit) runAlone(call *txCall) {
	defer func() {
		if p := recover(); p != nil {
			call.done <- panicError{value: p}
		}
	}()

	call.done <- g.db.tx(call.ctx, call.fn)
}
