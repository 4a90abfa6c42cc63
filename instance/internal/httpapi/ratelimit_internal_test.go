package httpapi

import (
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// TestRateLimitFixedWindow pins the window to PocketBase's rateClient.consume: it opens
// at the first request and the next one opens `duration` seconds after that, not after
// the last allowed request.
func TestRateLimitFixedWindow(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	now := start
	l := &rateLimiters{windows: map[rateWindowKey]*fixedWindow{}, now: func() time.Time { return now }}
	rule := core.RateLimitRule{Label: "*:auth", MaxRequests: 2, Duration: 3}

	steps := []struct {
		at     time.Duration
		client string
		want   bool
	}{
		{0, "1.1.1.1", true},
		{2 * time.Second, "1.1.1.1", true},
		{2 * time.Second, "1.1.1.1", false},
		{2 * time.Second, "2.2.2.2", true}, // each client has its own window
		// 3 s after the window opened a new one opens, though the last allowed request
		// was only 1 s ago
		{3 * time.Second, "1.1.1.1", true},
		{4 * time.Second, "1.1.1.1", true},
		{5 * time.Second, "1.1.1.1", false},
		{6 * time.Second, "1.1.1.1", true},
	}
	for i, s := range steps {
		now = start.Add(s.at)
		if got := l.allow("users:auth", rule, s.client); got != s.want {
			t.Errorf("step %d (+%v, %s): allowed = %v, want %v", i, s.at, s.client, got, s.want)
		}
	}

	// a client whose window ended more than rateLimiterIdle ago is dropped
	now = start.Add(6*time.Second + 3*time.Second + rateLimiterIdle + 2*time.Second)
	l.sweep(now)
	if len(l.windows) != 0 {
		t.Errorf("windows after the sweep = %d, want 0", len(l.windows))
	}
}
