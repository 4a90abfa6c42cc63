package oauth2

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// idTokenLeeway is the clock skew allowed on id_token time claims (PocketBase's default).
const idTokenLeeway = 5 * time.Minute

// appleIssuer and appleKeysURL are Sign in with Apple's id_token issuer and JWKS.
const (
	appleIssuer  = "https://appleid.apple.com"
	appleKeysURL = "https://appleid.apple.com/auth/keys"
)

// idTokenClaims returns the claims of the token's id_token, validated as PocketBase
// does: iat (with leeway) and aud = client id always; for Apple also exp, the issuer
// and the signature against Apple's keys; for OIDC the issuer when extra.issuers lists
// some, and the signature when extra.jwksURL is set.
func (c *Client) idTokenClaims(ctx context.Context, token *oauth2.Token) (map[string]any, error) {
	idToken, _ := token.Extra("id_token").(string)
	if idToken == "" {
		return nil, errors.New("empty or invalid id_token")
	}

	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(idToken, claims); err != nil {
		return nil, err
	}

	opts := []jwt.ParserOption{jwt.WithIssuedAt(), jwt.WithLeeway(idTokenLeeway), jwt.WithAudience(c.clientID)}
	keysURL, _ := c.extra["jwksURL"].(string)
	if c.spec.name == NameApple {
		opts = append(opts, jwt.WithExpirationRequired(), jwt.WithIssuer(appleIssuer))
		keysURL = appleKeysURL
	}
	if err := jwt.NewValidator(opts...).Validate(claims); err != nil {
		return nil, err
	}

	if issuers := stringList(c.extra["issuers"]); len(issuers) > 0 {
		iss, _ := claims.GetIssuer()
		if !slices.Contains(issuers, iss) {
			return nil, fmt.Errorf("iss must be one of %v, got %#v", issuers, claims["iss"])
		}
	}

	if keysURL != "" {
		if err := c.verifySignature(ctx, idToken, keysURL); err != nil {
			return nil, fmt.Errorf("id_token validation failed: %w", err)
		}
	}

	return claims, nil
}

func stringList(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, s := range v {
			if s, ok := s.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		if v != "" {
			return []string{v}
		}
	}

	return nil
}

// jsonWebKey is one RSA key of a JWKS document.
type jsonWebKey struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// verifySignature checks idToken's RS256 signature against the key with its kid in the
// JWKS at keysURL.
func (c *Client) verifySignature(ctx context.Context, idToken, keysURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, keysURL, nil)
	if err != nil {
		return err
	}
	httpClient := c.HTTPClient
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode >= 400 {
		return fmt.Errorf("failed to fetch the JWKS (%d)", res.StatusCode)
	}

	var doc struct {
		Keys []jsonWebKey `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxUserInfoSize)).Decode(&doc); err != nil {
		return err
	}

	_, err = jwt.Parse(idToken, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		for _, k := range doc.Keys {
			if k.Kid == kid && k.Kty == "RSA" {
				return rsaKey(k)
			}
		}
		return nil, fmt.Errorf("no JWK with kid %q", kid)
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())

	return err
}

func rsaKey(k jsonWebKey) (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, err
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil {
		return nil, err
	}
	exp := new(big.Int).SetBytes(e)
	if !exp.IsInt64() || exp.Int64() > 1<<31 || exp.Int64() < 3 {
		return nil, errors.New("invalid JWK exponent")
	}

	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}, nil
}

// microsoftEmailClaimKey is the extra setting that makes Microsoft's email come from
// the id_token (v0.40): "any_verified", "verified_primary_email", "email_and_xms_edov"
// or "email".
const microsoftEmailClaimKey = "idTokenEmailClaim"

func (c *Client) microsoftEmailClaim() string {
	mode, _ := c.extra[microsoftEmailClaimKey].(string)
	return mode
}

// microsoftIDTokenEmail reads the email of Microsoft's id_token (trusted: it comes
// straight from the token endpoint over TLS) as the mode says: the verified primary
// email, the email when xms_edov vouches for its domain, either of them, or the email
// as is.
func microsoftIDTokenEmail(token *oauth2.Token, mode string) string {
	idToken, _ := token.Extra("id_token").(string)
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(idToken, claims); err != nil {
		return ""
	}
	if err := jwt.NewValidator(jwt.WithIssuedAt(), jwt.WithLeeway(idTokenLeeway)).Validate(claims); err != nil {
		return ""
	}

	primary, _ := claims["verified_primary_email"].(string)
	email, _ := claims["email"].(string)
	edov := ""
	if truthy(claims["xms_edov"]) {
		edov = email
	}

	switch mode {
	case "any_verified":
		return cmpOr(primary, edov)
	case "verified_primary_email":
		return primary
	case "email_and_xms_edov":
		return edov
	case "email":
		return email
	default:
		return ""
	}
}
