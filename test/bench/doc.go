// Package bench measures the built instance binary over loopback, the way a client
// fleet sees it: it starts bin/instance on a fresh data directory, seeds records through
// the public API and drives each scenario with a closed-loop load generator (a fixed
// number of keep-alive connections, each sending its next request when the previous
// answer arrives). Figures are reported with b.ReportMetric; nothing here asserts on
// time. Run with `make bench`.
//
// The list scenarios come in three kinds: the plain ones repeat their queries (50 pages,
// reused filter values) and so mostly measure the result cache; the "-trickle" ones run
// while a create commits every 5 ms, so cached answers live a few milliseconds; the
// "-fresh" ones never send the same query twice. Compare server-cpu-µs/req between runs:
// req/s depends on what else the machine runs.
package bench
