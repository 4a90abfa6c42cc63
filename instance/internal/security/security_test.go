package security

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestRandomStringWithAlphabet(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		alphabet string
		pattern  string
		wantErr  bool
	}{
		{name: "record id", n: 15, alphabet: AlphabetLowerAlphanumeric, pattern: `^[a-z0-9]{15}$`},
		{name: "token key", n: 50, alphabet: AlphabetAlphanumeric, pattern: `^[a-zA-Z0-9]{50}$`},
		{name: "single char alphabet", n: 4, alphabet: "x", pattern: `^xxxx$`},
		{name: "zero length", n: 0, alphabet: "ab", pattern: `^$`},
		{name: "empty alphabet", n: 3, alphabet: "", wantErr: true},
		{name: "negative length", n: -1, alphabet: "ab", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RandomStringWithAlphabet(tc.n, tc.alphabet)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("RandomStringWithAlphabet() = %q, want error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("RandomStringWithAlphabet() error = %v", err)
			}
			if !regexp.MustCompile(tc.pattern).MatchString(got) {
				t.Fatalf("RandomStringWithAlphabet() = %q, want match for %s", got, tc.pattern)
			}
		})
	}
}

func TestRandomStringIsNotRepeated(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		s, err := RandomString(15)
		if err != nil {
			t.Fatal(err)
		}
		if seen[s] {
			t.Fatalf("RandomString(15) repeated %q", s)
		}
		seen[s] = true
	}
}

func TestRandomStringUsesWholeAlphabet(t *testing.T) {
	s, err := RandomStringWithAlphabet(4000, AlphabetLowerAlphanumeric)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range AlphabetLowerAlphanumeric {
		if !strings.ContainsRune(s, c) {
			t.Fatalf("4000 random characters never used %q", c)
		}
	}
}

func TestHashAndComparePassword(t *testing.T) {
	hash, err := HashPassword("secret-pass-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$2a$10$") {
		t.Fatalf("HashPassword() = %q, want a $2a$10$ bcrypt hash", hash)
	}
	if cost, err := BcryptCost(hash); err != nil || cost != DefaultBcryptCost {
		t.Fatalf("BcryptCost() = %d, %v; want %d", cost, err, DefaultBcryptCost)
	}

	tests := []struct {
		name     string
		hash     string
		password string
		want     bool
	}{
		{name: "match", hash: hash, password: "secret-pass-1", want: true},
		{name: "mismatch", hash: hash, password: "secret-pass-2"},
		{name: "empty password", hash: hash, password: ""},
		{name: "empty hash", hash: "", password: "secret-pass-1"},
		{name: "malformed hash", hash: "$2a$10$short", password: "secret-pass-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ComparePassword(tc.hash, tc.password); got != tc.want {
				t.Fatalf("ComparePassword() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHashPasswordCostAndLimits(t *testing.T) {
	hash, err := HashPassword("x", 4)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$2a$04$") {
		t.Fatalf("HashPassword(cost 4) = %q", hash)
	}

	if _, err := HashPassword(strings.Repeat("a", 73), 4); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("HashPassword(73 bytes) error = %v, want ErrPasswordTooLong", err)
	}
}
