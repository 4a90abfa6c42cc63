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
)

var instancesDesc = prometheus.NewDesc(InstancesMetric,
	"Number of PocketBaseInstances by condition type (Ready, Progressing, Degraded) and status (True, False, Unknown).",
	[]string{"condition", "status"}, nil)

// InstanceCollector counts instances by condition when scraped, from the manager's cache,
// so it costs nothing between scrapes and its cardinality does not grow with tenants.
type InstanceCollector struct {
	// Reader lists instances; the manager's cached client.
	Reader client.Reader
	// Timeout bounds one listing.
	Timeout time.Duration
}

// Describe implements prometheus.Collector.
func (c *InstanceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- instancesDesc }

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
	for _, t := range types {
		counts[t] = map[metav1.ConditionStatus]int{}
	}
	for i := range list.Items {
		for _, t := range types {
			s := metav1.ConditionUnknown
			for _, c := range list.Items[i].Status.Conditions {
				if c.Type == string(t) {
					s = c.Status
				}
			}
			counts[t][s]++
		}
	}
	for _, t := range types {
		for _, s := range statuses {
			ch <- prometheus.MustNewConstMetric(instancesDesc, prometheus.GaugeValue, float64(counts[t][s]), string(t), string(s))
		}
	}
}
