package security

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWTAlgorithm is the only signing algorithm minted and accepted, as with PocketBase
// (tools/security/jwt.go).
const JWTAlgorithm = "HS256"

// ErrEmptySigningKey is returned when a token would be signed or verified with an empty
// key, which anyone could forge.
var ErrEmptySigningKey = errors.New("empty jwt signing key")

// ClaimExp is the registered expiry claim, a Unix time in seconds.
const ClaimExp = "exp"

// NewJWT returns an HS256 token carrying claims plus an `exp` claim duration from now.
// The header is {"alg":"HS256","typ":"JWT"} and the claims are encoded with sorted keys,
// byte for byte as PocketBase signs them. A claims "exp" entry is overwritten.
func NewJWT(claims map[string]any, signingKey string, duration time.Duration) (string, error) {
	if signingKey == "" {
		return "", fmt.Errorf("signing jwt: %w", ErrEmptySigningKey)
	}

	mc := make(jwt.MapClaims, len(claims)+1)
	for k, v := range claims {
		mc[k] = v
	}
	mc[ClaimExp] = time.Now().Add(duration).Unix()

	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, mc).SignedString([]byte(signingKey))
	if err != nil {
		return "", fmt.Errorf("signing jwt: %w", err)
	}

	return token, nil
}

// ParseUnverifiedJWT decodes the claims of token WITHOUT verifying its signature, so
// that the caller can find the key to verify it with (the record's tokenKey). It still
// checks the time claims: an expired token, or one not valid yet, is an error.
//
// Never trust the returned claims before ParseJWT has verified the same token.
func ParseUnverifiedJWT(token string) (map[string]any, error) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		return nil, fmt.Errorf("decoding jwt: %w", err)
	}
	if err := jwt.NewValidator(jwt.WithIssuedAt()).Validate(claims); err != nil {
		return nil, fmt.Errorf("validating jwt claims: %w", err)
	}

	return claims, nil
}

// parser accepts HS256 only: "none", RS*/ES*/PS*, EdDSA and the other HMAC sizes are
// rejected before any key is used, which also rules out algorithm-confusion attacks.
var parser = jwt.NewParser(
	jwt.WithValidMethods([]string{JWTAlgorithm}),
	// note: PocketBase accepts a token without exp; it never mints one, so one without
	// exp can only come from someone holding the key. We require it.
	jwt.WithExpirationRequired(),
	jwt.WithIssuedAt(),
)

// ParseJWT verifies token's HS256 signature with verificationKey and its time claims
// (exp required, nbf and iat when present), and returns its claims.
func ParseJWT(token, verificationKey string) (map[string]any, error) {
	if verificationKey == "" {
		return nil, fmt.Errorf("verifying jwt: %w", ErrEmptySigningKey)
	}

	parsed, err := parser.Parse(token, func(t *jwt.Token) (any, error) {
		// note: WithValidMethods already checked the header; this guards against a
		// future option change handing the HMAC key to another method.
		if m, ok := t.Method.(*jwt.SigningMethodHMAC); !ok || m.Alg() != JWTAlgorithm {
			return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
		}
		return []byte(verificationKey), nil
	})
	if err != nil {
		return nil, fmt.Errorf("verifying jwt: %w", err)
	}

	claims, ok := parsed.Claims.(jwt.MapClaims)
	if !ok || !parsed.Valid {
		return nil, errors.New("verifying jwt: unable to parse token")
	}

	return claims, nil
}
