package httpapi_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// TestForgedTokens presents tokens an attacker could build to the routes that need a
// user and a superuser: each one must leave the request a guest's.
func TestForgedTokens(t *testing.T) {
	app := fixtureApp(t)
	alice, err := app.FindRecordByID(t.Context(), "users", aliceID)
	if err != nil {
		t.Fatal(err)
	}
	aliceKey := alice.TokenKey() + alice.Collection().Auth.AuthToken.Secret
	claims := func(extra map[string]any) map[string]any {
		c := map[string]any{"id": aliceID, "type": "auth", "collectionId": "_pb_users_auth_", "refreshable": true}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	hs := func(c map[string]any, key string) string {
		tok, err := security.NewJWT(c, key, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims(map[string]any{"exp": time.Now().Add(time.Hour).Unix()}))).SignedString(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	verification, err := core.NewVerificationToken(alice)
	if err != nil {
		t.Fatal(err)
	}
	reset, err := core.NewPasswordResetToken(alice)
	if err != nil {
		t.Fatal(err)
	}

	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(claims(map[string]any{"exp": time.Now().Add(time.Hour).Unix()}))).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	// RS/HS confusion: HS-family tokens keyed with alice's real key but another alg
	hs384, err := jwt.NewWithClaims(jwt.SigningMethodHS384, jwt.MapClaims(claims(map[string]any{"exp": time.Now().Add(time.Hour).Unix()}))).SignedString([]byte(aliceKey))
	if err != nil {
		t.Fatal(err)
	}
	expired, err := security.NewJWT(claims(nil), aliceKey, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	forged := map[string]string{
		"alg none":                                      none,
		"HS384 under alice's key":                       hs384,
		"expired under alice's key":                     expired,
		"RS256 signed with an attacker key":             rs256,
		"bob's id under alice's key":                    hs(claims(map[string]any{"id": bobID}), aliceKey),
		"superuser collection under alice's key":        hs(claims(map[string]any{"collectionId": "pbc_3142635823", "id": adminID}), aliceKey),
		"alice's id claimed as a superuser":             hs(claims(map[string]any{"collectionId": "pbc_3142635823"}), aliceKey),
		"verification token as auth":                    verification,
		"password reset token as auth":                  reset,
		"auth type signed with the verification secret": hs(claims(nil), alice.TokenKey()+alice.Collection().Auth.VerificationToken.Secret),
		"signed with the collection secret only":        hs(claims(nil), alice.Collection().Auth.AuthToken.Secret),
		"signed with the tokenKey only":                 hs(claims(nil), alice.TokenKey()),
	}
	for name, token := range forged {
		runSeq(t,
			apitest.ApiScenario{
				Name: name + ": auth-refresh", Method: http.MethodPost, URL: "/api/collections/users/auth-refresh",
				Headers: map[string]string{"Authorization": token}, TestAppFactory: sharedApp(app),
				ExpectedStatus: http.StatusUnauthorized, ExpectedBody: requiresAuth,
			},
			apitest.ApiScenario{
				Name: name + ": superuser route", Method: http.MethodGet, URL: "/api/collections",
				Headers: map[string]string{"Authorization": token}, TestAppFactory: sharedApp(app),
				ExpectedStatus: http.StatusUnauthorized,
				ExpectedBody:   `{"data":{},"message":"The request requires valid record authorization token.","status":401}`,
			},
		)
	}
}

// TestTokenAfterPasswordChange checks that a password change through the API revokes
// the tokens issued before it.
func TestTokenAfterPasswordChange(t *testing.T) {
	tok := newTokens(t)
	app := fixtureApp(t)
	runSeq(t,
		apitest.ApiScenario{
			Name: "the token works", Method: http.MethodPost, URL: "/api/collections/users/auth-refresh",
			Headers: map[string]string{"Authorization": tok.alice}, TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"token":"`},
		},
		apitest.ApiScenario{
			Name: "alice changes her password", Method: http.MethodPatch, URL: "/api/collections/users/records/" + aliceID,
			Body:           jsonBody(`{"password":"alice-new-pass","passwordConfirm":"alice-new-pass","oldPassword":"alice-pass-123"}`),
			Headers:        map[string]string{"Authorization": tok.alice, "Content-Type": "application/json"},
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"id":"` + aliceID + `"`},
		},
		apitest.ApiScenario{
			Name: "the old token is refused", Method: http.MethodPost, URL: "/api/collections/users/auth-refresh",
			Headers: map[string]string{"Authorization": tok.alice}, TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusUnauthorized, ExpectedBody: requiresAuth,
		},
		apitest.ApiScenario{
			Name: "the old password is refused", Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: jsonBody(`{"identity":"alice@example.com","password":"alice-pass-123"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest, ExpectedBody: failedAuthBody,
		},
	)
}

// TestNoAccountEnumeration asks the email-based routes about an account that exists and
// one that does not: status, headers and body shape must be the same.
func TestNoAccountEnumeration(t *testing.T) {
	app := fixtureApp(t)
	enableOTP(t, app)

	type answer struct {
		status int
		header http.Header
		body   string
	}
	ask := func(route, email string) answer {
		var got answer
		s := apitest.ApiScenario{
			Name: route + " " + email, Method: http.MethodPost, URL: "/api/collections/users/" + route,
			Body: jsonBody(`{"email":"` + email + `"}`), Headers: jsonHeaders, TestAppFactory: sharedApp(app),
			ExpectedStatus: 0,
		}
		s.ExpectedStatus = http.StatusNoContent
		if route == "request-otp" {
			s.ExpectedStatus = http.StatusOK
			s.ExpectedContent = []string{`{"otpId":"`}
		}
		s.AfterTestFunc = func(_ testing.TB, _ *core.App, res *http.Response, body []byte) {
			got = answer{status: res.StatusCode, header: res.Header.Clone(), body: string(body)}
		}
		s.Test(t)
		return got
	}
	shape := func(a answer) string {
		if a.body == "" {
			return ""
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(a.body), &m); err != nil {
			t.Fatalf("body %q: %v", a.body, err)
		}
		keys := []string{}
		for k, v := range m {
			keys = append(keys, k+":"+strings.Repeat("x", len(v)))
		}
		return strings.Join(keys, ",")
	}
	for _, route := range []string{"request-otp", "request-password-reset", "request-verification"} {
		known, unknown := ask(route, "bob@example.com"), ask(route, "nobody@example.com")
		if known.status != unknown.status || shape(known) != shape(unknown) {
			t.Errorf("%s: %d %q vs %d %q", route, known.status, known.body, unknown.status, unknown.body)
		}
		for _, h := range []string{"Content-Type", "Content-Length"} {
			if known.header.Get(h) != unknown.header.Get(h) {
				t.Errorf("%s: %s %q vs %q", route, h, known.header.Get(h), unknown.header.Get(h))
			}
		}
	}
}
