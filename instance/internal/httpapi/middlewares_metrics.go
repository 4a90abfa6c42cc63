package httpapi

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/metrics"
)

// Option configures NewRouter.
type Option func(*api)

// WithMetrics records the API's requests, realtime connections and messages, and the
// app's record writes, write transactions, database pools and backups into m. The
// metrics are served elsewhere (the --metrics-http listener), never by the router.
func WithMetrics(m *metrics.Metrics) Option {
	return func(a *api) {
		a.metrics = m
	}
}

// WithAllowedOrigins limits CORS to these origins, as PocketBase's `serve --origins`
// (each may hold "*" and "?" wildcards); none, or "*", allows any origin.
func WithAllowedOrigins(origins []string) Option {
	return func(a *api) {
		a.origins = origins
	}
}

// requestMetrics counts every request by method, route template and status, with its
// latency. It runs outside the error writer, so the status is the one sent.
func requestMetrics(m *metrics.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		m.ObserveRequest(c.Request.Method, metrics.RouteTemplate(c.FullPath()), c.Writer.Status(), time.Since(start))
	}
}

// bindAppMetrics feeds m from app: committed record writes, write transactions,
// connection pools and backups.
func bindAppMetrics(app *core.App, m *metrics.Metrics) {
	app.OnRecordChange(func(_ context.Context, e core.RecordEvent) {
		m.RecordWrite(e.Record.Collection().Name, e.Action)
	})
	app.OnWriteTx(m.ObserveWriteTx)
	m.CollectDBPools(func() []metrics.DBPool {
		stats := app.DBPoolStats()
		out := make([]metrics.DBPool, len(stats))
		for i, s := range stats {
			out[i] = metrics.DBPool{DB: s.DB, Pool: s.Pool, Stats: s.Stats}
		}
		return out
	})
	m.CollectBackups(func() metrics.Backup {
		latest, _ := app.LatestBackupTime()
		return metrics.Backup{Latest: latest, Active: app.IsBackupActive()}
	})
}
