// Package apitest is the instance's test harness, after PocketBase's tests package:
// ApiScenario runs one HTTP request against the real router over a real loopback
// server backed by a fresh data directory, and helpers open test apps and copy the
// PocketBase v0.40.4 fixture data directory.
//
// It is imported only from _test.go files of external test packages (package
// httpapi_test, core_test, …).
package apitest
