package httpapi

import "time"

// SetRealtimeTimeouts replaces the idle timeout and the maximum lifetime of realtime
// connections until the returned function restores them.
func SetRealtimeTimeouts(idle, lifetime time.Duration) (restore func()) {
	prevIdle, prevLifetime := realtimeIdleTimeout, realtimeMaxLifetime
	realtimeIdleTimeout, realtimeMaxLifetime = idle, lifetime

	return func() { realtimeIdleTimeout, realtimeMaxLifetime = prevIdle, prevLifetime }
}

// SetListThrottleSleep replaces the pause of throttled empty lists until the returned
// function restores it.
func SetListThrottleSleep(sleep func(time.Duration)) (restore func()) {
	prev := listThrottleSleep
	listThrottleSleep = sleep

	return func() { listThrottleSleep = prev }
}
