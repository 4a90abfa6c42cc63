package httpapi

import (
	"fmt"
	"testing"
	"time"
)

func TestFixedWindowLimiter(t *testing.T) {
	l := newFixedWindowLimiter(3, 3*time.Second)
	t0 := time.Unix(1_000_000, 0)
	steps := []struct {
		key  string
		at   time.Duration
		want bool
	}{
		{"a", 0, true}, {"a", 0, true}, {"a", time.Second, true},
		{"a", 2 * time.Second, false}, {"b", 2 * time.Second, true},
		// the window restarts 3 s after the last allowed event
		{"a", 3 * time.Second, false}, {"a", 4 * time.Second, true},
		{"a", 4 * time.Second, true}, {"a", 5 * time.Second, true}, {"a", 6 * time.Second, false},
	}
	for i, s := range steps {
		if got := l.allow(s.key, t0.Add(s.at)); got != s.want {
			t.Fatalf("step %d (%s at +%s): allow = %v, want %v", i, s.key, s.at, got, s.want)
		}
	}
}

func TestFixedWindowLimiterDropsExpiredKeys(t *testing.T) {
	l := newFixedWindowLimiter(1, time.Second)
	t0 := time.Unix(1_000_000, 0)
	for i := range limiterCleanupSize {
		l.allow(fmt.Sprint(i), t0)
	}
	if !l.allow("late", t0.Add(2*time.Second)) {
		t.Fatal("a new key was not allowed")
	}
	if len(l.windows) != 1 {
		t.Fatalf("%d keys kept, want only the new one", len(l.windows))
	}
}
