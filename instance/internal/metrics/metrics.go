package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every instance metric.
const namespace = "pocketfleet"

// UnmatchedRoute is the route label of a request that matched no route.
const UnmatchedRoute = "unmatched"

// Metrics holds the instance's collectors. Every method is safe on a nil *Metrics,
// which records nothing, so that callers need no checks when metrics are off.
type Metrics struct {
	reg *prometheus.Registry

	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	rtConns      prometheus.Gauge
	rtMessages   prometheus.Counter
	recordWrites *prometheus.CounterVec
	writeTx      *prometheus.HistogramVec
}

// New returns the metrics with a registry holding the Go runtime and process
// collectors and the instance's own (see the package documentation for the names).
func New() *Metrics {
	m := &Metrics{
		reg: NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests served, by method, route template and status code.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "HTTP request latency in seconds, by method and route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		rtConns: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "realtime", Name: "connections",
			Help: "Open realtime (SSE) connections.",
		}),
		rtMessages: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "realtime", Name: "messages_sent_total",
			Help: "Realtime messages written to clients, PB_CONNECT included.",
		}),
		recordWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "record", Name: "writes_total",
			Help: "Committed record writes, by collection and action (create, update, delete).",
		}, []string{"collection", "action"}),
		writeTx: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "db", Name: "write_transaction_duration_seconds",
			Help:    "Write transaction durations in seconds, from BEGIN to commit or rollback, by database and outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"db", "outcome"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.rtConns, m.rtMessages, m.recordWrites, m.writeTx)

	return m
}

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	return reg
}

// Handler serves reg in the Prometheus exposition format.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return Handler(m.reg)
}

// Registry returns the registry, for extra collectors.
func (m *Metrics) Registry() *prometheus.Registry {
	return m.reg
}

// ObserveRequest counts a served request and its latency. route is the route template
// ("/api/collections/{collection}/records"), UnmatchedRoute when none matched.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

// RealtimeConnected counts an open realtime connection until the returned func is
// called.
func (m *Metrics) RealtimeConnected() (closed func()) {
	if m == nil {
		return func() {}
	}
	m.rtConns.Inc()

	return m.rtConns.Dec
}

// RealtimeMessageSent counts a message written to a realtime client.
func (m *Metrics) RealtimeMessageSent() {
	if m == nil {
		return
	}
	m.rtMessages.Inc()
}

// RecordWrite counts a committed record write.
func (m *Metrics) RecordWrite(collection, action string) {
	if m == nil {
		return
	}
	m.recordWrites.WithLabelValues(collection, action).Inc()
}

// ObserveWriteTx records a write transaction of db that committed or rolled back.
func (m *Metrics) ObserveWriteTx(db string, d time.Duration, committed bool) {
	if m == nil {
		return
	}
	outcome := "rollback"
	if committed {
		outcome = "commit"
	}
	m.writeTx.WithLabelValues(db, outcome).Observe(d.Seconds())
}

// RouteTemplate turns a gin route path ("/api/collections/:collection/records") into
// PocketBase's pattern form ("/api/collections/{collection}/records"); "" is
// UnmatchedRoute.
func RouteTemplate(path string) string {
	if path == "" {
		return UnmatchedRoute
	}
	if !strings.ContainsAny(path, ":*") {
		return path
	}

	segments := strings.Split(path, "/")
	for i, s := range segments {
		if len(s) > 1 && (s[0] == ':' || s[0] == '*') {
			segments[i] = "{" + s[1:] + "}"
		}
	}

	return strings.Join(segments, "/")
}

// DBPool is the state of one database connection pool.
type DBPool struct {
	// DB names the database ("data", "auxiliary").
	DB string
	// Pool names the pool ("read", "write").
	Pool string
	// Stats is database/sql's pool state.
	Stats sql.DBStats
}

// CollectDBPools registers the pool metrics, read from pools at every scrape.
func (m *Metrics) CollectDBPools(pools func() []DBPool) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&dbPoolCollector{pools: pools})
}

// Backup is the backup state read at every scrape.
type Backup struct {
	// Latest is when the newest backup was completed; zero when there is none.
	Latest time.Time
	// Active tells whether a backup or restore is running.
	Active bool
}

// CollectBackups registers the backup metrics, read from state at every scrape.
func (m *Metrics) CollectBackups(state func() Backup) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&backupCollector{state: state, now: time.Now})
}
