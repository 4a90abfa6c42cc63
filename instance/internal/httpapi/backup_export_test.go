package httpapi

import "time"

// SetRestoreDelay changes the delay before a requested restore starts, for the tests;
// the returned func puts the previous one back.
func SetRestoreDelay(d time.Duration) (reset func()) {
	prev := restoreDelay
	restoreDelay = d
	return func() { restoreDelay = prev }
}
