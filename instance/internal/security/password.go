package security

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// DefaultBcryptCost is the bcrypt cost PocketBase uses when a password field leaves
// its cost at 0 (core/field_password.go falls back to bcrypt.DefaultCost). The
// v0.40.4 fixture's hashes all start with "$2a$10$".
const DefaultBcryptCost = bcrypt.DefaultCost

// ErrPasswordTooLong is returned when a password exceeds bcrypt's 72-byte input limit.
var ErrPasswordTooLong = bcrypt.ErrPasswordTooLong

// HashPassword returns the bcrypt hash of password at the given cost. A cost of 0
// means DefaultBcryptCost.
func HashPassword(password string, cost int) (string, error) {
	if cost == 0 {
		cost = DefaultBcryptCost
	}

	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}

	return string(hash), nil
}

// ComparePassword reports whether password matches the bcrypt hash. A malformed hash
// never matches.
func ComparePassword(hash, password string) bool {
	if hash == "" {
		return false
	}

	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// BcryptCost returns the cost a bcrypt hash was made with.
func BcryptCost(hash string) (int, error) {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return 0, fmt.Errorf("reading bcrypt cost: %w", err)
	}

	return cost, nil
}
