package security

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestParseJWTRejectsAsymmetricTokens signs tokens with real RSA, ECDSA and Ed25519 keys
// (and, for the classic RS/HS confusion, with the PEM of a public key used as the HMAC
// secret): ParseJWT must refuse them all, whatever key it is handed.
func TestParseJWTRejectsAsymmetricTokens(t *testing.T) {
	claims := jwt.MapClaims(authClaims(time.Now().Add(time.Hour)))

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))

	sign := func(method jwt.SigningMethod, key any) string {
		t.Helper()
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := map[string]string{
		"RS256":                      sign(jwt.SigningMethodRS256, rsaKey),
		"PS256":                      sign(jwt.SigningMethodPS256, rsaKey),
		"ES256":                      sign(jwt.SigningMethodES256, ecKey),
		"EdDSA":                      sign(jwt.SigningMethodEdDSA, edKey),
		"HS384":                      sign(jwt.SigningMethodHS384, []byte(testKey)),
		"none":                       sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType),
		"RS256 header, HMAC(pubkey)": craftJWT(t, map[string]any{"alg": "RS256", "typ": "JWT"}, claims, sha256.New, pubPEM),
	}
	// a server key is never a public key: an HS256 token keyed with the PEM is refused
	if _, err := ParseJWT(sign(jwt.SigningMethodHS256, []byte(pubPEM)), testKey); err == nil {
		t.Error("HS256 token keyed with the public key PEM accepted")
	}
	for name, token := range tests {
		for _, key := range []string{testKey, pubPEM} {
			if _, err := ParseJWT(token, key); err == nil {
				t.Errorf("%s: accepted with key %.20q", name, key)
			}
		}
	}

	// the HS256 token signed with the right key passes, so the loop above is meaningful
	good := sign(jwt.SigningMethodHS256, []byte(testKey))
	if _, err := ParseJWT(good, testKey); err != nil {
		t.Fatalf("good token rejected: %v", err)
	}
}

// TestParseJWTRejectsTampering flips the claims of a valid token, keeping its signature.
func TestParseJWTRejectsTampering(t *testing.T) {
	token, err := NewJWT(authClaims(time.Now().Add(time.Hour)), testKey, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tampered := authClaims(time.Now().Add(time.Hour))
	tampered["collectionId"] = "pbc_3142635823" // _superusers
	forged := craftJWT(t, map[string]any{"alg": "HS256", "typ": "JWT"}, tampered, nil, "")
	sig := token[len(token)-43:]
	if _, err := ParseJWT(forged+sig, testKey); err == nil {
		t.Fatal("a token with swapped claims and the old signature was accepted")
	}
}
