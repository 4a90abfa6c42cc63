// Package metrics holds the instance's Prometheus registry and its HTTP handler, served
// on the separate --metrics-http listener so that a tenant URL never exposes it.
//
// For now the registry carries the Go runtime and process collectors; request, realtime
// and database metrics (and their gin middleware) arrive with the metrics task.
package metrics
