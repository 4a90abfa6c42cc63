// Package bench measures the built instance binary over loopback, the way a client
// fleet sees it: it starts bin/instance on a fresh data directory, seeds records through
// the public API and drives each scenario with a closed-loop load generator (a fixed
// number of keep-alive connections, each sending its next request when the previous
// answer arrives). Figures are reported with b.ReportMetric; nothing here asserts on
// time. Run with `make bench`.
package bench
