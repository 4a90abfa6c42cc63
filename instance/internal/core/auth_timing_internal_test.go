package core

import (
	"crypto/md5" //nolint:gosec // G501: see TestAuthOriginFingerprint
	"encoding/hex"
	"strings"
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

// TestDummyPasswordHashFollowsFieldCost checks that an unknown identity is compared
// against a hash of the password field's own bcrypt cost: with a costlier field, a
// cost-10 dummy would answer unknown identities measurably faster than wrong passwords.
func TestDummyPasswordHashFollowsFieldCost(t *testing.T) {
	for _, tc := range []struct{ fieldCost, want int64 }{{0, 10}, {10, 10}, {4, 4}, {11, 11}} {
		c := &Collection{Type: CollectionTypeAuth, Fields: FieldsList{
			&PasswordField{fieldBase: fieldBase{Name: FieldNamePassword}, Cost: tc.fieldCost},
		}}
		hash := dummyPasswordHashFor(c)
		cost, err := security.BcryptCost(hash)
		if err != nil {
			t.Fatalf("cost %d: not a bcrypt hash: %v", tc.fieldCost, err)
		}
		if int64(cost) != tc.want {
			t.Errorf("field cost %d: dummy hash cost = %d, want %d", tc.fieldCost, cost, tc.want)
		}
		if hash != dummyPasswordHashFor(c) {
			t.Errorf("field cost %d: the dummy hash is made again on each use", tc.fieldCost)
		}
		if security.ComparePassword(hash, "") {
			t.Errorf("field cost %d: the dummy hash matches the empty password", tc.fieldCost)
		}
	}
}

// TestAuthOriginFingerprint pins the fingerprint to PocketBase's md5(ip + userAgent),
// the user agent cut at 200 bytes with "..." appended.
func TestAuthOriginFingerprint(t *testing.T) {
	sum := md5.Sum([]byte("127.0.0.1curl/8")) //nolint:gosec // G401: the fingerprint is MD5
	if got, want := AuthOriginFingerprint("127.0.0.1", "curl/8"), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("fingerprint %q, want %q", got, want)
	}
	long := strings.Repeat("a", 199) + "bc"
	sum = md5.Sum([]byte("1.2.3.4" + long[:200] + "...")) //nolint:gosec // G401: the fingerprint is MD5
	if got, want := AuthOriginFingerprint("1.2.3.4", long), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("fingerprint of a 201-byte user agent %q, want md5(ip + first 200 bytes + \"...\") %q", got, want)
	}
	if AuthOriginFingerprint("1.2.3.4", long[:200]) == AuthOriginFingerprint("1.2.3.4", long) {
		t.Error("a cut user agent has the fingerprint of the 200-byte one")
	}
	if AuthOriginFingerprint("1.2.3.4", "a") == AuthOriginFingerprint("1.2.3.5", "a") {
		t.Error("the IP is not part of the fingerprint")
	}
}
