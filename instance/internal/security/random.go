package security

import (
	"crypto/rand"
	"fmt"
	"math/big"
)

// Alphabets used by PocketBase's autogenerate patterns.
const (
	// AlphabetLowerAlphanumeric is the alphabet of record ids (pattern `[a-z0-9]`).
	AlphabetLowerAlphanumeric = "abcdefghijklmnopqrstuvwxyz0123456789"
	// AlphabetAlphanumeric is the alphabet of token keys and token secrets
	// (pattern `[a-zA-Z0-9]`).
	AlphabetAlphanumeric = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// RandomString returns a cryptographically random string of length n drawn from
// AlphabetAlphanumeric.
func RandomString(n int) (string, error) {
	return RandomStringWithAlphabet(n, AlphabetAlphanumeric)
}

// RandomStringWithAlphabet returns a cryptographically random string of length n whose
// characters are drawn uniformly from alphabet (a string of single-byte characters).
func RandomStringWithAlphabet(n int, alphabet string) (string, error) {
	if alphabet == "" {
		return "", fmt.Errorf("generating random string: empty alphabet")
	}
	if n < 0 {
		return "", fmt.Errorf("generating random string: negative length %d", n)
	}

	max := big.NewInt(int64(len(alphabet)))
	b := make([]byte, n)
	for i := range b {
		// note: rand.Int is unbiased, unlike taking a random byte modulo len(alphabet).
		idx, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("generating random string: %w", err)
		}
		b[i] = alphabet[idx.Int64()]
	}

	return string(b), nil
}
