package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// System cron job ids and expressions, PocketBase's (core/base.go, core/mfa_model.go,
// core/otp_model.go, core/backup.go).
const (
	CronJobDBOptimize  = "__pbDBOptimize__"
	CronJobMFACleanup  = "__pbMFACleanup__"
	CronJobOTPCleanup  = "__pbOTPCleanup__"
	CronJobLogsCleanup = "__pbLogsCleanup__"
	CronJobAutoBackup  = "__pbAutoBackup__"
)

// ErrCronJobNotFound is returned by RunCronJob for an unknown job id.
var ErrCronJobNotFound = errors.New("missing or invalid cron job")

// CronJob is a scheduled job as GET /api/crons lists it; the field order is the key
// order.
type CronJob struct {
	// ID is the job id.
	ID string `json:"id"`
	// Expression is the 5-field cron expression (or macro) of the job.
	Expression string `json:"expression"`
}

// cronEntry is a registered job.
type cronEntry struct {
	id         string
	expression string
	schedule   cronSchedule
	run        func(ctx context.Context)
}

// cronScheduler runs the jobs every minute, in UTC, as PocketBase's tools/cron does.
type cronScheduler struct {
	mu      sync.Mutex
	stop    chan struct{}
	stopped chan struct{}
}

// IsDue reports whether the schedule matches t (minute precision, in t's location): every
// field must match, as tools/cron Schedule.IsDue checks it.
func (s cronSchedule) IsDue(t time.Time) bool {
	return s.minutes&(1<<uint(t.Minute())) != 0 &&
		s.hours&(1<<uint(t.Hour())) != 0 &&
		s.days&(1<<uint(t.Day())) != 0 &&
		s.months&(1<<uint(t.Month())) != 0 &&
		s.daysOfWeek&(1<<uint(t.Weekday())) != 0
}

// cronJobs returns the registered jobs in PocketBase's registration order; the auto
// backup job exists while settings.backups.cron is set.
func (a *App) cronJobs() []cronEntry {
	entries := []cronEntry{
		{id: CronJobDBOptimize, expression: "0 0 * * *", run: a.optimizeDatabases},
		{id: CronJobMFACleanup, expression: "0 * * * *", run: a.cronDeleteExpiredMFAs},
		{id: CronJobOTPCleanup, expression: "0 * * * *", run: a.cronDeleteExpiredOTPs},
		{id: CronJobLogsCleanup, expression: "0 */6 * * *", run: a.cronDeleteOldLogs},
	}
	if expr := a.Settings().Backups.Cron; expr != "" {
		entries = append(entries, cronEntry{id: CronJobAutoBackup, expression: expr, run: a.autoBackup})
	}

	valid := entries[:0]
	for _, e := range entries {
		schedule, err := parseCronSchedule(e.expression)
		if err != nil {
			a.logger.Warn("ignoring cron job with an invalid expression",
				slog.String("id", e.id), slog.String("expression", e.expression), slog.String("error", err.Error()))
			continue
		}
		e.schedule = schedule
		valid = append(valid, e)
	}

	return valid
}

// CronJobs returns the registered cron jobs, system jobs in registration order.
func (a *App) CronJobs() []CronJob {
	entries := a.cronJobs()
	jobs := make([]CronJob, len(entries))
	for i, e := range entries {
		jobs[i] = CronJob{ID: e.id, Expression: e.expression}
	}

	return jobs
}

// RunCronJob starts the job with the given id in the background, as POST
// /api/crons/{id} does; an unknown id is ErrCronJobNotFound.
func (a *App) RunCronJob(id string) error {
	for _, e := range a.cronJobs() {
		if e.id == id {
			a.goJob(e)
			return nil
		}
	}

	return fmt.Errorf("%w %q", ErrCronJobNotFound, id)
}

// runDueCronJobs starts, in the background, the jobs due at t (taken in UTC).
func (a *App) runDueCronJobs(t time.Time) {
	t = t.UTC()
	for _, e := range a.cronJobs() {
		if e.schedule.IsDue(t) {
			a.goJob(e)
		}
	}
}

// goJob runs a job in a tracked background goroutine that holds the data directory.
func (a *App) goJob(e cronEntry) {
	a.Go(func(ctx context.Context) {
		release := a.HoldData()
		defer release()
		defer func() {
			if p := recover(); p != nil {
				a.logger.Error("cron job panicked", slog.String("id", e.id), slog.Any("panic", p))
			}
		}()
		e.run(ctx)
	})
}

// StartCron starts the scheduler: the due jobs run at the start of every minute. It is
// started by `serve` only, as PocketBase starts its cron on serve; Close stops it.
func (a *App) StartCron() {
	c := &a.maint.cron
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		return
	}
	c.stop = make(chan struct{})
	c.stopped = make(chan struct{})

	stop, stopped := c.stop, c.stopped
	go func() {
		defer close(stopped)
		for {
			now := a.now()
			next := now.Truncate(time.Minute).Add(time.Minute)
			timer := time.NewTimer(next.Sub(now))
			select {
			case <-stop:
				timer.Stop()
				return
			case <-timer.C:
			}
			a.runDueCronJobs(next)
		}
	}()
}

// stopCron stops the scheduler, if started.
func (a *App) stopCron() {
	c := &a.maint.cron
	c.mu.Lock()
	stop, stopped := c.stop, c.stopped
	c.stop, c.stopped = nil, nil
	c.mu.Unlock()

	if stop != nil {
		close(stop)
		<-stopped
	}
}

// optimizeDatabases is __pbDBOptimize__: truncate both WALs and optimize data.db.
func (a *App) optimizeDatabases(ctx context.Context) {
	if _, err := a.data.Write().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		a.logger.Warn("Failed to run periodic PRAGMA wal_checkpoint for the main DB", slog.String("error", err.Error()))
	}
	if _, err := a.aux.Write().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		a.logger.Warn("Failed to run periodic PRAGMA wal_checkpoint for the auxiliary DB", slog.String("error", err.Error()))
	}
	if _, err := a.data.Write().ExecContext(ctx, "PRAGMA optimize"); err != nil {
		a.logger.Warn("Failed to run periodic PRAGMA optimize", slog.String("error", err.Error()))
	}
}

// cronDeleteOldLogs is __pbLogsCleanup__: delete the logs older than
// settings.logs.maxDays.
func (a *App) cronDeleteOldLogs(ctx context.Context) {
	maxDays := a.Settings().Logs.MaxDays
	if err := a.DeleteOldLogs(ctx, a.now().AddDate(0, 0, -maxDays)); err != nil {
		a.logger.Warn("Failed to delete old logs", slog.String("error", err.Error()))
	}
}

func (a *App) cronDeleteExpiredMFAs(ctx context.Context) {
	if err := a.deleteExpiredAuthRows(ctx, CollectionNameMFAs, func(c *Collection) int64 { return c.Auth.MFA.Duration }); err != nil {
		a.logger.Warn("Failed to delete expired MFA sessions", slog.String("error", err.Error()))
	}
}

func (a *App) cronDeleteExpiredOTPs(ctx context.Context) {
	if err := a.deleteExpiredAuthRows(ctx, CollectionNameOTPs, func(c *Collection) int64 { return c.Auth.OTP.Duration }); err != nil {
		a.logger.Warn("Failed to delete expired OTP sessions", slog.String("error", err.Error()))
	}
}

// deleteExpiredAuthRows deletes, for every auth collection (MFA/OTP enabled or not, to
// leave nothing dangling), the rows of table (`_mfas` or `_otps`) created more than the
// collection's duration ago (DeleteExpiredMFAs / DeleteExpiredOTPs).
//
// note: the rows are deleted with plain SQL, so no record delete events fire.
func (a *App) deleteExpiredAuthRows(ctx context.Context, table string, duration func(*Collection) int64) error {
	collections, err := a.CachedCollections(ctx)
	if err != nil {
		return err
	}

	for _, c := range collections {
		if !c.IsAuth() {
			continue
		}
		minValid := FormatDateTime(a.now().Add(-time.Duration(duration(c)) * time.Second))
		_, err := a.data.Write().ExecContext(ctx,
			"DELETE FROM "+quoteIdent(table)+" WHERE `collectionRef` = ? AND `created` < ?", c.ID, minValid)
		if err != nil {
			return fmt.Errorf("deleting expired %s rows: %w", table, err)
		}
	}

	return nil
}
