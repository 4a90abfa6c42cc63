package core

import "time"

// TokenDuration returns a token config's lifetime.
func (t TokenConfig) TokenDuration() time.Duration {
	return time.Duration(t.Duration) * time.Second
}
