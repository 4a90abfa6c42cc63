// Package security holds the instance's small cryptographic helpers: random ids and
// tokens drawn from crypto/rand, bcrypt password hashing, and constant-time comparison.
// JWT minting and parsing will live here too (HS256 only), as PocketBase's
// tools/security does.
//
// It is a leaf package: it never imports core or httpapi.
package security
