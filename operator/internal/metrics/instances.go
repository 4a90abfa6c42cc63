package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

// Metric names, documented in the README.
const (
	// InstancesMetric counts instances by condition type and status.
	InstancesMetric = "pocketfleet_instances"
	// InstanceReasonsMetric counts instances by condition type and reason.
	InstanceReasonsMetric = "pocketfleet_instance_reasons"
	// UpgradeSlotsMetric is the number of upgrade slots held (instances rolling out a
	// new image under --max-concurrent-upgrades).
	UpgradeSlotsMetric = "pocketfleet_upgrades_in_progress"
)

var (
	instancesDesc = prometheus.NewDesc(InstancesMetric,
		"Number of PocketBaseInstances by condition type (Ready, Progressing, Degraded) and status (True, False, Unknown).",
		[]string{"condition", "status"}, nil)
	reasonsDesc = prometheus.NewDesc(InstanceReasonsMetric,
		"Number of PocketBaseInstances by condition type and the condition's reason (Ready: Available, Hibernated, CrashLoopBackOff...; Progressing: UpgradeQueued...).",
		[]string{"condition", "reason"}, nil)
	upgradesDesc = prometheus.NewDesc(UpgradeSlotsMetric,
		"Number of instances rolling out a new image and holding an upgrade slot.",
		nil, nil)
)

// InstanceCollector counts instances by condition when scraped, from the manager's cache,
// so it costs nothing between scrapes and its cardinality does not grow with tenants.
type InstanceCollector struct {
	// Reader lists instances; the manager's cached client.
	Reader client.Reader
	// Timeout bounds one listing.
	Timeout time.Duration
	// UpgradesInProgress reports the upgrade slots held; nil leaves the metric out.
	UpgradesInProgress func() int
}

// Describe implements prometheus.Collector.
func (c *InstanceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- instancesDesc
	ch <- reasonsDesc
	if c.UpgradesInProgress != nil {
		ch <- upgradesDesc
	}
}

// Collect implements prometheus.Collector.
func (c *InstanceCollector) Collect(ch chan<- prometheus.Metric) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	list := &pbv1alpha1.PocketBaseInstanceList{}
	if err := c.Reader.List(ctx, list); err != nil {
		ch <- prometheus.NewInvalidMetric(instancesDesc, err)
		return
	}
	types := []pbv1alpha1.ConditionType{pbv1alpha1.ConditionReady, pbv1alpha1.ConditionProgressing, pbv1alpha1.ConditionDegraded}
	statuses := []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}
	counts := map[pbv1alpha1.ConditionType]map[metav1.ConditionStatus]int{}
	type typeReason struct{ t, reason string }
	reasons := map[typeReason]int{}
	for _, t := range types {
		counts[t] = map[metav1.ConditionStatus]int{}
	}
	for i := range list.Items {
		for _, t := range types {
			s := metav1.ConditionUnknown
			for _, c := range list.Items[i].Status.Conditions {
				if c.Type == string(t) {
					s = c.Status
					reasons[typeReason{c.Type, c.Reason}]++
				}
			}
			counts[t][s]++
		}
	}
	// note: reasons are the fixed CamelCase constants of api/v1alpha1, so the series
	// stay few however many tenants there are.
	for k, n := range reasons {
		ch <- prometheus.MustNewConstMetric(reasonsDesc, prometheus.GaugeValue, float64(n), k.t, k.reason)
	}
	if c.UpgradesInProgress != nil {
		ch <- prometheus.MustNewConstMetric(upgradesDesc, prometheus.GaugeValue, float64(c.UpgradesInProgress()))
	}
	for _, t := range types {
		for _, s := range statuses {
			ch <- prometheus.MustNewConstMetric(instancesDesc, prometheus.GaugeValue, float64(counts[t][s]), string(t), string(s))
		}
	}
}
