package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

// Backup metric names, documented in the README. None has a tenant label: a fleet has
// thousands of tenants, and the PocketBaseBackup objects say which backup failed.
const (
	// BackupsTotalMetric counts finished backups by result (completed, failed).
	BackupsTotalMetric = "pocketfleet_backups_total"
	// BackupDurationMetric is the run time of backup Jobs.
	BackupDurationMetric = "pocketfleet_backup_duration_seconds"
	// BackupSizeMetric is the size of completed backups.
	BackupSizeMetric = "pocketfleet_backup_size_bytes"
	// BackupOverdueMetric counts instances whose BackupHealthy condition is False.
	BackupOverdueMetric = "pocketfleet_instances_backup_overdue"
	// BackupOldestSuccessAgeMetric is the age of the oldest "newest successful backup"
	// across the instances with backups configured.
	BackupOldestSuccessAgeMetric = "pocketfleet_backup_oldest_success_age_seconds"
)

// Results of a finished backup, the values of the result label.
const (
	resultCompleted = "completed"
	resultFailed    = "failed"
)

// Backups records finished backups. A nil *Backups records nothing.
type Backups struct {
	total    *prometheus.CounterVec
	duration prometheus.Histogram
	size     prometheus.Histogram
}

// NewBackups returns the backup counters and histograms, registered on reg.
func NewBackups(reg prometheus.Registerer) (*Backups, error) {
	b := &Backups{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: BackupsTotalMetric,
			Help: "Number of finished PocketBaseBackups by result (completed, failed).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: BackupDurationMetric,
			Help: "Run time of backup Jobs, from start to completion or failure.",
			// 5s .. ~2.8h
			Buckets: prometheus.ExponentialBuckets(5, 2, 12),
		}),
		size: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: BackupSizeMetric,
			Help: "Size of completed backups in bytes.",
			// 1 MiB .. 64 GiB
			Buckets: prometheus.ExponentialBuckets(1<<20, 4, 9),
		}),
	}
	// Both results exist from the start, so rate() sees the first failure.
	b.total.WithLabelValues(resultCompleted)
	b.total.WithLabelValues(resultFailed)
	for _, c := range []prometheus.Collector{b.total, b.duration, b.size} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Completed records a completed backup that ran for d and wrote size bytes.
func (b *Backups) Completed(d time.Duration, size int64) {
	if b == nil {
		return
	}
	b.total.WithLabelValues(resultCompleted).Inc()
	b.duration.Observe(d.Seconds())
	b.size.Observe(float64(size))
}

// Failed records a failed backup; d is its run time, 0 when it failed before its Job
// started (and then no duration is observed).
func (b *Backups) Failed(d time.Duration) {
	if b == nil {
		return
	}
	b.total.WithLabelValues(resultFailed).Inc()
	if d > 0 {
		b.duration.Observe(d.Seconds())
	}
}

var (
	overdueDesc = prometheus.NewDesc(BackupOverdueMetric,
		"Number of PocketBaseInstances whose BackupHealthy condition is False (failed, overdue, none yet, invalid configuration).",
		nil, nil)
	oldestSuccessDesc = prometheus.NewDesc(BackupOldestSuccessAgeMetric,
		"Age in seconds of the oldest newest-successful-backup across the instances with backups configured; 0 when none has one.",
		nil, nil)
)

// BackupHealthCollector reports the fleet's backup health when scraped, from the
// manager's cache.
type BackupHealthCollector struct {
	// Reader lists instances; the manager's cached client.
	Reader client.Reader
	// Timeout bounds one listing.
	Timeout time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Describe implements prometheus.Collector.
func (c *BackupHealthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- overdueDesc
	ch <- oldestSuccessDesc
}

// Collect implements prometheus.Collector.
func (c *BackupHealthCollector) Collect(ch chan<- prometheus.Metric) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	list := &pbv1alpha1.PocketBaseInstanceList{}
	if err := c.Reader.List(ctx, list); err != nil {
		ch <- prometheus.NewInvalidMetric(overdueDesc, err)
		return
	}
	var overdue int
	var oldest time.Duration
	for i := range list.Items {
		pbi := &list.Items[i]
		if pbi.Spec.Backup == nil {
			continue
		}
		if meta.IsStatusConditionFalse(pbi.Status.Conditions, string(pbv1alpha1.ConditionBackupHealthy)) {
			overdue++
		}
		if st := pbi.Status.Backup; st != nil && st.LastSuccessfulTime != nil {
			oldest = max(oldest, now().Sub(st.LastSuccessfulTime.Time))
		}
	}
	ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(overdue))
	ch <- prometheus.MustNewConstMetric(oldestSuccessDesc, prometheus.GaugeValue, oldest.Seconds())
}
