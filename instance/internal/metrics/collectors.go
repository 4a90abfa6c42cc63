package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	dbLabels = []string{"db", "pool"}

	dbOpenDesc = prometheus.NewDesc(namespace+"_db_open_connections",
		"Open connections of a database pool.", dbLabels, nil)
	dbInUseDesc = prometheus.NewDesc(namespace+"_db_in_use_connections",
		"Connections of a database pool in use.", dbLabels, nil)
	dbIdleDesc = prometheus.NewDesc(namespace+"_db_idle_connections",
		"Idle connections of a database pool.", dbLabels, nil)
	dbMaxOpenDesc = prometheus.NewDesc(namespace+"_db_max_open_connections",
		"Most connections a database pool may open.", dbLabels, nil)
	dbWaitCountDesc = prometheus.NewDesc(namespace+"_db_wait_count_total",
		"Times a caller waited for a connection of a database pool.", dbLabels, nil)
	dbWaitDurationDesc = prometheus.NewDesc(namespace+"_db_wait_duration_seconds_total",
		"Time spent waiting for a connection of a database pool.", dbLabels, nil)

	backupLatestDesc = prometheus.NewDesc(namespace+"_backup_last_success_timestamp_seconds",
		"Unix time the newest backup was completed; absent when there is none.", nil, nil)
	backupAgeDesc = prometheus.NewDesc(namespace+"_backup_age_seconds",
		"Age of the newest backup; absent when there is none.", nil, nil)
	backupActiveDesc = prometheus.NewDesc(namespace+"_backup_active",
		"1 while a backup or restore runs, else 0.", nil, nil)
)

// dbPoolCollector reports sql.DBStats of the pools at scrape time.
type dbPoolCollector struct {
	pools func() []DBPool
}

func (c *dbPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dbOpenDesc, dbInUseDesc, dbIdleDesc, dbMaxOpenDesc, dbWaitCountDesc, dbWaitDurationDesc} {
		ch <- d
	}
}

func (c *dbPoolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.pools() {
		s := p.Stats
		ch <- prometheus.MustNewConstMetric(dbOpenDesc, prometheus.GaugeValue, float64(s.OpenConnections), p.DB, p.Pool)
		ch <- prometheus.MustNewConstMetric(dbInUseDesc, prometheus.GaugeValue, float64(s.InUse), p.DB, p.Pool)
		ch <- prometheus.MustNewConstMetric(dbIdleDesc, prometheus.GaugeValue, float64(s.Idle), p.DB, p.Pool)
		ch <- prometheus.MustNewConstMetric(dbMaxOpenDesc, prometheus.GaugeValue, float64(s.MaxOpenConnections), p.DB, p.Pool)
		ch <- prometheus.MustNewConstMetric(dbWaitCountDesc, prometheus.CounterValue, float64(s.WaitCount), p.DB, p.Pool)
		ch <- prometheus.MustNewConstMetric(dbWaitDurationDesc, prometheus.CounterValue, s.WaitDuration.Seconds(), p.DB, p.Pool)
	}
}

// backupCollector reports the backup state at scrape time.
type backupCollector struct {
	state func() Backup
	now   func() time.Time
}

func (c *backupCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backupLatestDesc
	ch <- backupAgeDesc
	ch <- backupActiveDesc
}

func (c *backupCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.state()
	active := 0.0
	if s.Active {
		active = 1
	}
	ch <- prometheus.MustNewConstMetric(backupActiveDesc, prometheus.GaugeValue, active)
	if s.Latest.IsZero() {
		return
	}
	ch <- prometheus.MustNewConstMetric(backupLatestDesc, prometheus.GaugeValue, float64(s.Latest.UnixNano())/1e9)
	ch <- prometheus.MustNewConstMetric(backupAgeDesc, prometheus.GaugeValue, c.now().Sub(s.Latest).Seconds())
}
