package security

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testKey = "record-token-key" + "collection-secret"

// craftJWT builds a token by hand: any header, any payload, signed with HMAC using
// newHash (nil leaves the signature empty, as for "alg":"none").
func craftJWT(t *testing.T, header, payload map[string]any, newHash func() hash.Hash, key string) string {
	t.Helper()
	enc := func(v map[string]any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(header) + "." + enc(payload)
	if newHash == nil {
		return signing + "."
	}
	mac := hmac.New(newHash, []byte(key))
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func authClaims(exp time.Time) map[string]any {
	return map[string]any{
		"id":           "w2bx8e6qg38uo33",
		"type":         "auth",
		"collectionId": "_pb_users_auth_",
		"refreshable":  true,
		"exp":          exp.Unix(),
	}
}

func TestNewJWTWireFormat(t *testing.T) {
	before := time.Now()
	token, err := NewJWT(map[string]any{
		"type": "auth", "id": "abc", "collectionId": "pbc_1", "refreshable": true,
		"exp": 1, // overwritten
	}, testKey, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", token, len(parts))
	}
	// {"alg":"HS256","typ":"JWT"}, exactly as PocketBase sends it.
	if parts[0] != "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" {
		t.Errorf("header = %q", parts[0])
	}

	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &decoded); err != nil {
		t.Fatal(err)
	}
	exp := decoded.Exp
	if exp < before.Add(time.Hour).Unix() || exp > time.Now().Add(time.Hour).Unix() {
		t.Errorf("exp = %d, want about an hour from now", exp)
	}
	// Keys sorted, as PocketBase (a Go map) signs them.
	want := `{"collectionId":"pbc_1","exp":` + jsonInt(exp) + `,"id":"abc","refreshable":true,"type":"auth"}`
	if string(payload) != want {
		t.Errorf("payload = %s, want %s", payload, want)
	}

	// The signature is HMAC-SHA256 over header.payload with the key, as documented.
	mac := hmac.New(sha256.New, []byte(testKey))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if got := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)); got != parts[2] {
		t.Errorf("signature = %q, want %q", parts[2], got)
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestNewJWTRejectsEmptyKey(t *testing.T) {
	if _, err := NewJWT(map[string]any{"id": "x"}, "", time.Hour); !errors.Is(err, ErrEmptySigningKey) {
		t.Fatalf("NewJWT(empty key) error = %v, want ErrEmptySigningKey", err)
	}
}

func TestParseJWT(t *testing.T) {
	future := time.Now().Add(time.Hour)
	hs256 := map[string]any{"alg": "HS256", "typ": "JWT"}

	minted, err := NewJWT(authClaims(future), testKey, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := NewJWT(authClaims(future), testKey, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	withoutExp := authClaims(future)
	delete(withoutExp, "exp")
	notYet := authClaims(future)
	notYet["nbf"] = future.Unix()
	issuedInFuture := authClaims(future)
	issuedInFuture["iat"] = future.Unix()

	tests := []struct {
		name    string
		token   string
		key     string
		wantErr error // nil means success
		anyErr  bool
	}{
		{name: "minted token", token: minted, key: testKey},
		{name: "fixture-style header without typ", token: craftJWT(t, map[string]any{"alg": "HS256"}, authClaims(future), sha256.New, testKey), key: testKey},
		{name: "wrong key", token: minted, key: testKey + "x", wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "key of another record", token: minted, key: "other-token-key" + "collection-secret", wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "empty key", token: minted, key: "", wantErr: ErrEmptySigningKey},
		{name: "expired", token: expired, key: testKey, wantErr: jwt.ErrTokenExpired},
		{name: "no exp", token: craftJWT(t, hs256, withoutExp, sha256.New, testKey), key: testKey, wantErr: jwt.ErrTokenRequiredClaimMissing},
		{name: "nbf in the future", token: craftJWT(t, hs256, notYet, sha256.New, testKey), key: testKey, wantErr: jwt.ErrTokenNotValidYet},
		{name: "iat in the future", token: craftJWT(t, hs256, issuedInFuture, sha256.New, testKey), key: testKey, wantErr: jwt.ErrTokenUsedBeforeIssued},
		{name: "alg none", token: craftJWT(t, map[string]any{"alg": "none", "typ": "JWT"}, authClaims(future), nil, ""), key: testKey, wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "alg None mixed case", token: craftJWT(t, map[string]any{"alg": "None"}, authClaims(future), nil, ""), key: testKey, anyErr: true},
		{name: "RS256 header with an HMAC signature", token: craftJWT(t, map[string]any{"alg": "RS256", "typ": "JWT"}, authClaims(future), sha256.New, testKey), key: testKey, wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "HS512", token: craftJWT(t, map[string]any{"alg": "HS512", "typ": "JWT"}, authClaims(future), sha512.New, testKey), key: testKey, wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "HS384", token: craftJWT(t, map[string]any{"alg": "HS384", "typ": "JWT"}, authClaims(future), sha512.New384, testKey), key: testKey, wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "tampered payload", token: tamper(t, minted), key: testKey, wantErr: jwt.ErrTokenSignatureInvalid},
		{name: "garbage", token: "not-a-token", key: testKey, wantErr: jwt.ErrTokenMalformed},
		{name: "empty", token: "", key: testKey, wantErr: jwt.ErrTokenMalformed},
		{name: "two segments", token: "eyJhbGciOiJIUzI1NiJ9.e30", key: testKey, wantErr: jwt.ErrTokenMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := ParseJWT(tc.token, tc.key)
			switch {
			case tc.wantErr == nil && !tc.anyErr:
				if err != nil {
					t.Fatalf("ParseJWT() error = %v", err)
				}
				if claims["id"] != "w2bx8e6qg38uo33" || claims["type"] != "auth" || claims["refreshable"] != true {
					t.Fatalf("claims = %v", claims)
				}
			case tc.anyErr:
				if err == nil {
					t.Fatalf("ParseJWT() = %v, want an error", claims)
				}
			default:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ParseJWT() error = %v, want %v", err, tc.wantErr)
				}
				if claims != nil {
					t.Fatalf("claims = %v on error, want nil", claims)
				}
			}
		})
	}
}

// tamper changes the id claim of a token, keeping its signature.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	payload = []byte(strings.Replace(string(payload), "w2bx8e6qg38uo33", "lnunmjp2hn3cnvb", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

func TestParseUnverifiedJWT(t *testing.T) {
	future := time.Now().Add(time.Hour)
	minted, err := NewJWT(authClaims(future), testKey, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := NewJWT(authClaims(future), testKey, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{name: "valid, no key needed", token: minted},
		{name: "unsigned tokens decode (never trusted)", token: craftJWT(t, map[string]any{"alg": "none"}, authClaims(future), nil, "")},
		{name: "expired", token: expired, wantErr: jwt.ErrTokenExpired},
		{name: "garbage", token: "a.b.c", wantErr: jwt.ErrTokenMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, err := ParseUnverifiedJWT(tc.token)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ParseUnverifiedJWT() error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseUnverifiedJWT() error = %v", err)
			}
			if claims["collectionId"] != "_pb_users_auth_" {
				t.Fatalf("claims = %v", claims)
			}
		})
	}
}
