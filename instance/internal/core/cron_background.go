package core

import (
	"context"
	"sync"
)

// maintenance is the App's background machinery: the data directory gate, the log
// writer, the cron scheduler, the backup/restore slot and the background tasks.
type maintenance struct {
	// gate is held shared by requests, jobs and log writes, and exclusively by a
	// restore while it swaps the databases (HoldData, Restore).
	gate sync.RWMutex

	logs logWriter
	cron cronScheduler

	// backupSlot is a 1-slot semaphore: one backup or restore at a time.
	backupSlot chan struct{}
	backupMu   sync.Mutex
	backupName string

	bgMu     sync.Mutex
	bgCtx    context.Context //nolint:containedctx // the lifetime of the background tasks
	bgCancel context.CancelFunc
	bg       sync.WaitGroup
	closed   bool
}

// initMaintenance prepares the background machinery; New calls it once the databases
// are open.
func (a *App) initMaintenance() {
	a.maint.backupSlot = make(chan struct{}, 1)
	a.maint.bgCtx, a.maint.bgCancel = context.WithCancel(context.Background())
}

// startMaintenance starts the log writer; New calls it once the app is ready.
func (a *App) startMaintenance() {
	a.cleanTempDir()
	a.startLogWriter()
}

// stopMaintenance stops the scheduler, cancels and waits for the background tasks, then
// writes the queued logs. Close calls it before closing the databases.
func (a *App) stopMaintenance() {
	a.stopCron()

	a.maint.bgMu.Lock()
	a.maint.closed = true
	cancel := a.maint.bgCancel
	a.maint.bgMu.Unlock()
	if cancel != nil {
		cancel()
	}
	a.maint.bg.Wait()

	a.stopLogWriter()
}

// Go runs fn in a background goroutine tracked by the app: its context is cancelled by
// Close, which waits for fn to return. After Close, fn is not run.
func (a *App) Go(fn func(ctx context.Context)) {
	a.maint.bgMu.Lock()
	defer a.maint.bgMu.Unlock()
	if a.maint.closed || a.maint.bgCtx == nil {
		return
	}

	ctx := a.maint.bgCtx
	a.maint.bg.Add(1)
	go func() {
		defer a.maint.bg.Done()
		fn(ctx)
	}()
}

// HoldData keeps a restore from swapping the databases until release is called; the
// HTTP layer holds it for each request and the jobs for their run. A restore waits for
// the holders to release, and new holders wait for the restore to end.
//
// note: the hold is not reentrant while a restore waits: never call Restore, or
// HoldData again, from a goroutine that holds it.
func (a *App) HoldData() (release func()) {
	a.maint.gate.RLock()
	return a.maint.gate.RUnlock
}
