package core_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// pbStyleToken signs a payload the way PocketBase's fixture tokens are signed: header
// {"alg":"HS256"}, HMAC-SHA256 with tokenKey + the collection secret.
func pbStyleToken(payload, key string) string {
	enc := base64.RawURLEncoding.EncodeToString
	signing := enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(payload))
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(signing))
	return signing + "." + enc(mac.Sum(nil))
}

func TestFindAuthRecordByToken(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	ctx := t.Context()

	alice, err := app.FindRecordByID(ctx, "users", "w2bx8e6qg38uo33")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := app.FindRecordByID(ctx, "_superusers", "52lyy8nw07kghoy")
	if err != nil {
		t.Fatal(err)
	}

	mint := func(f func() (string, error)) string {
		t.Helper()
		tok, err := f()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	aliceAuth := mint(func() (string, error) { return core.NewAuthToken(alice) })
	adminAuth := mint(func() (string, error) { return core.NewAuthToken(admin) })
	aliceStatic := mint(func() (string, error) { return core.NewStaticAuthToken(alice, time.Minute) })
	aliceFile := mint(func() (string, error) { return core.NewFileToken(alice) })
	aliceVerify := mint(func() (string, error) { return core.NewVerificationToken(alice) })
	aliceExpired := mint(func() (string, error) { return core.NewStaticAuthToken(alice, -time.Second) })

	exp := time.Now().Add(time.Hour).Unix()
	usersSecret := alice.Collection().Auth.AuthToken.Secret
	pbToken := pbStyleToken(`{"collectionId":"_pb_users_auth_","exp":`+formatUnix(exp)+`,"id":"w2bx8e6qg38uo33","refreshable":true,"type":"auth"}`,
		alice.TokenKey()+usersSecret)
	// Signed with alice's key but claiming bob: the key lookup goes by the claimed record.
	forgedBob := pbStyleToken(`{"collectionId":"_pb_users_auth_","exp":`+formatUnix(exp)+`,"id":"lnunmjp2hn3cnvb","refreshable":true,"type":"auth"}`,
		alice.TokenKey()+usersSecret)
	noType := pbStyleToken(`{"collectionId":"_pb_users_auth_","exp":`+formatUnix(exp)+`,"id":"w2bx8e6qg38uo33"}`, alice.TokenKey()+usersSecret)
	unknownType := pbStyleToken(`{"collectionId":"_pb_users_auth_","exp":`+formatUnix(exp)+`,"id":"w2bx8e6qg38uo33","type":"magic"}`, alice.TokenKey()+usersSecret)
	baseCollection := pbStyleToken(`{"collectionId":"pbc_1219621782","exp":`+formatUnix(exp)+`,"id":"s2cej12938cf3n3","type":"auth"}`, "x")

	tests := []struct {
		name   string
		token  string
		types  []string
		wantID string // "" means rejected
	}{
		{name: "auth token", token: aliceAuth, types: []string{core.TokenTypeAuth}, wantID: "w2bx8e6qg38uo33"},
		{name: "superuser auth token", token: adminAuth, types: []string{core.TokenTypeAuth}, wantID: "52lyy8nw07kghoy"},
		{name: "static (impersonate) token", token: aliceStatic, types: []string{core.TokenTypeAuth}, wantID: "w2bx8e6qg38uo33"},
		{name: "PocketBase-signed token", token: pbToken, types: []string{core.TokenTypeAuth}, wantID: "w2bx8e6qg38uo33"},
		{name: "any type when none is required", token: aliceFile, wantID: "w2bx8e6qg38uo33"},
		{name: "file token where auth is required", token: aliceFile, types: []string{core.TokenTypeAuth}},
		{name: "verification token where auth is required", token: aliceVerify, types: []string{core.TokenTypeAuth}},
		{name: "verification token as such", token: aliceVerify, types: []string{core.TokenTypeVerification}, wantID: "w2bx8e6qg38uo33"},
		{name: "expired", token: aliceExpired, types: []string{core.TokenTypeAuth}},
		{name: "claims another record", token: forgedBob, types: []string{core.TokenTypeAuth}},
		{name: "no type claim", token: noType},
		{name: "unknown type", token: unknownType},
		{name: "record of a base collection", token: baseCollection},
		{name: "garbage", token: "abc"},
		{name: "empty", token: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := app.FindAuthRecordByToken(ctx, tc.token, tc.types...)
			if tc.wantID == "" {
				if !errors.Is(err, core.ErrInvalidToken) {
					t.Fatalf("FindAuthRecordByToken() = %v, %v; want ErrInvalidToken", rec, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FindAuthRecordByToken() error = %v", err)
			}
			if rec.ID() != tc.wantID {
				t.Fatalf("record id = %q, want %q", rec.ID(), tc.wantID)
			}
		})
	}

	claims, err := security.ParseUnverifiedJWT(aliceVerify)
	if err != nil {
		t.Fatal(err)
	}
	if claims["email"] != "alice@example.com" || claims["type"] != "verification" {
		t.Errorf("verification claims = %v", claims)
	}
	claims, err = security.ParseUnverifiedJWT(aliceStatic)
	if err != nil {
		t.Fatal(err)
	}
	if claims["refreshable"] != false {
		t.Errorf("static token claims = %v", claims)
	}

	t.Run("a new tokenKey invalidates older tokens", func(t *testing.T) {
		if _, err := app.DB().Write().ExecContext(ctx, "UPDATE users SET tokenKey = 'a-brand-new-token-key-0123456789abcdefghij' WHERE id = ?", alice.ID()); err != nil {
			t.Fatal(err)
		}
		if _, err := app.FindAuthRecordByToken(ctx, aliceAuth, core.TokenTypeAuth); !errors.Is(err, core.ErrInvalidToken) {
			t.Fatalf("old token after tokenKey change: error = %v, want ErrInvalidToken", err)
		}
		fresh, err := app.FindRecordByID(ctx, "users", alice.ID())
		if err != nil {
			t.Fatal(err)
		}
		tok, err := core.NewAuthToken(fresh)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.FindAuthRecordByToken(ctx, tok, core.TokenTypeAuth); err != nil {
			t.Fatalf("new token: %v", err)
		}
	})

	t.Run("a superuser password change invalidates older tokens", func(t *testing.T) {
		if _, err := app.UpdateSuperuserPassword(ctx, "admin@example.com", "another-pass-123"); err != nil {
			t.Fatal(err)
		}
		if _, err := app.FindAuthRecordByToken(ctx, adminAuth, core.TokenTypeAuth); !errors.Is(err, core.ErrInvalidToken) {
			t.Fatalf("old token after password change: error = %v, want ErrInvalidToken", err)
		}
	})
}

func TestNewAuthTokenRejectsNonAuthRecords(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	tag, err := app.FindRecordByID(t.Context(), "tags", "s2cej12938cf3n3")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.NewAuthToken(tag); !errors.Is(err, core.ErrNotAuthRecord) {
		t.Fatalf("NewAuthToken(base record) error = %v, want ErrNotAuthRecord", err)
	}
}

func formatUnix(n int64) string {
	return strconv.FormatInt(n, 10)
}
