//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // registers the profiling handlers on http.DefaultServeMux
	"os"
)

// With -tags pprof the instance serves net/http/pprof on INSTANCE_PPROF_ADDR, for
// profiling it under the load of test/bench.
func init() {
	if addr := os.Getenv("INSTANCE_PPROF_ADDR"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }() //nolint:gosec // a profiling build only
	}
}
