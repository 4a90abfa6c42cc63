package core

import (
	"crypto/md5" //nolint:gosec // G501: see TestAuthOriginFingerprint
	"encoding/hex"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// TestDummyPasswordHash checks the hash an unknown identity is compared against: a real
// bcrypt hash at the default cost of auth collections (so the failed login costs the
// same time as a wrong password), which no plausible password matches.
func TestDummyPasswordHash(t *testing.T) {
	cost, err := security.BcryptCost(dummyPasswordHash)
	if err != nil {
		t.Fatalf("not a bcrypt hash: %v", err)
	}
	// a password field's cost 0 means 10, the cost of PocketBase's auth collections
	if cost != 10 {
		t.Errorf("dummy hash cost = %d, want 10", cost)
	}
	for _, guess := range []string{"", "password", "123456", "admin", "alice-pass-123"} {
		if security.ComparePassword(dummyPasswordHash, guess) {
			t.Errorf("dummy hash matches %q", guess)
		}
	}
}

// TestAuthOriginFingerprint pins the fingerprint to PocketBase's md5(ip + userAgent),
// the user agent cut at 300 bytes.
func TestAuthOriginFingerprint(t *testing.T) {
	sum := md5.Sum([]byte("127.0.0.1curl/8")) //nolint:gosec // G401: the fingerprint is MD5
	if got, want := AuthOriginFingerprint("127.0.0.1", "curl/8"), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("fingerprint %q, want %q", got, want)
	}
	long := string(make([]byte, 400))
	if AuthOriginFingerprint("1.2.3.4", long) != AuthOriginFingerprint("1.2.3.4", long[:300]) {
		t.Error("user agent not cut at 300 bytes")
	}
	if AuthOriginFingerprint("1.2.3.4", "a") == AuthOriginFingerprint("1.2.3.5", "a") {
		t.Error("the IP is not part of the fingerprint")
	}
}
