// Package metrics holds the operator's own Prometheus collectors, registered on
// controller-runtime's registry next to its reconcile and workqueue metrics.
package metrics
