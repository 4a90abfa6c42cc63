// Package security holds the instance's small cryptographic helpers: random ids and
// tokens drawn from crypto/rand, bcrypt password hashing (whose comparison is
// constant-time) and HS256 JWT minting and parsing (signatures checked with
// hmac.Equal), as PocketBase's tools/security does.
//
// It is a leaf package: it never imports core or httpapi.
package security
