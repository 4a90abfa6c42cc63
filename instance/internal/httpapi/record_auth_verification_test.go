package httpapi_test

import (
	"net/http"
	"net/mail"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func TestRecordVerificationFlow(t *testing.T) {
	smtpSrv := startSMTPServer(t, "mailer", "mailer-pass")
	app := fixtureApp(t)
	smtpSrv.enableSMTP(t, app, core.SMTPAuthPlain)
	var token string

	steps := []apitest.ApiScenario{
		{
			Name:   "request for the unverified bob sends the verification mail",
			Method: http.MethodPost, URL: "/api/collections/users/request-verification",
			Body: jsonBody(`{"email":"bob@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: func(t testing.TB, _ *core.App, _ *http.Response, _ []byte) {
				m := smtpSrv.next(t)
				if m.Subject != "Verify your Acme email" {
					t.Errorf("subject = %q", m.Subject)
				}
				if m.From != "support@example.com" || len(m.To) != 1 || m.To[0] != "bob@example.com" || m.User != "mailer" {
					t.Errorf("envelope from %q to %v as %q", m.From, m.To, m.User)
				}
				if from, err := mail.ParseAddress(m.Header.Get("From")); err != nil || from.Name != "Support" {
					t.Errorf("From header %q", m.Header.Get("From"))
				}
				if !strings.Contains(m.HTML, "<p>Thank you for joining us at Acme.</p>") || !strings.Contains(m.HTML, "<!DOCTYPE html") {
					t.Errorf("html part:\n%s", m.HTML)
				}
				if !strings.HasPrefix(m.Text, "Hello, \r\nThank you for joining us at Acme. \r\n") {
					t.Errorf("text part:\n%q", m.Text)
				}
				token = mailToken(t, m, "confirm-verification")
			},
		},
		{
			Name:   "a second request within two minutes is throttled",
			Method: http.MethodPost, URL: "/api/collections/users/request-verification",
			Body: jsonBody(`{"email":"bob@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc:  func(t testing.TB, _ *core.App, _ *http.Response, _ []byte) { smtpSrv.expectNone(t) },
		},
	}
	for _, s := range steps {
		s.Test(t)
	}

	confirm := []apitest.ApiScenario{
		{
			Name:   "confirm with the mailed token verifies bob",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-verification",
			Body: jsonBody(`{"token":"` + token + `"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				bob, err := app.FindRecordByID(t.Context(), "users", bobID)
				if err != nil || !bob.GetBool(core.FieldNameVerified) {
					t.Fatalf("bob verified = %v (%v)", bob != nil && bob.GetBool(core.FieldNameVerified), err)
				}
			},
		},
		{
			Name:   "confirming again is a no-op",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-verification",
			Body: jsonBody(`{"token":"` + token + `"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
		},
		{
			Name:   "superusers are verified by default",
			Method: http.MethodPost, URL: "/api/collections/_superusers/confirm-verification",
			Body: jsonBody(`{"token":"` + token + `"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"All superusers are verified by default.","status":400}`,
		},
		{
			Name:   "request for a verified record sends nothing",
			Method: http.MethodPost, URL: "/api/collections/users/request-verification",
			Body: jsonBody(`{"email":"alice@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc:  func(t testing.TB, _ *core.App, _ *http.Response, _ []byte) { smtpSrv.expectNone(t) },
		},
		{
			Name:   "request for an unknown email still answers 204",
			Method: http.MethodPost, URL: "/api/collections/users/request-verification",
			Body: jsonBody(`{"email":"nobody@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc:  func(t testing.TB, _ *core.App, _ *http.Response, _ []byte) { smtpSrv.expectNone(t) },
		},
	}
	for _, s := range confirm {
		s.Test(t)
	}
}

func TestRecordVerificationErrors(t *testing.T) {
	tok := newTokens(t)
	scenarios := []apitest.ApiScenario{
		{
			Name:   "superusers are always verified",
			Method: http.MethodPost, URL: "/api/collections/_superusers/request-verification",
			Body: jsonBody(`{"email":"admin@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"All superusers are verified by default.","status":400}`,
		},
		{
			Name:   "not an auth collection",
			Method: http.MethodPost, URL: "/api/collections/posts/request-verification",
			Body: jsonBody(`{"email":"bob@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"Missing or invalid auth collection context.","status":404}`,
		},
		{
			Name:   "missing collection",
			Method: http.MethodPost, URL: "/api/collections/missing/confirm-verification",
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"Missing or invalid collection context.","status":404}`,
		},
		{
			Name:   "blank email",
			Method: http.MethodPost, URL: "/api/collections/users/request-verification",
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"email":{"code":"validation_required","message":"Cannot be blank."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "invalid email",
			Method: http.MethodPost, URL: "/api/collections/users/request-verification",
			Body: jsonBody(`{"email":"nope"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"email":{"code":"validation_is_email","message":"Must be a valid email address."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "known unverified email with smtp disabled: 204, the failure is only logged",
			Method: http.MethodPost, URL: "/api/collections/users/request-verification",
			Body: jsonBody(`{"email":"bob@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNoContent,
		},
		{
			Name:   "blank token",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-verification",
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"token":{"code":"validation_required","message":"Cannot be blank."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "an auth token has no email claim",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-verification",
			Body: jsonBody(`{"token":"` + tok.bob + `"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"token":{"code":"validation_invalid_token_claims","message":"Missing email token claim."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "a password reset token is not a verification token",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-verification",
			TestAppFactory: fixtureApp,
			Body:           jsonBody(`{"token":"` + flowToken(t, "users", bobID, core.NewPasswordResetToken) + `"}`), Headers: jsonHeaders,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"token":{"code":"validation_invalid_token","message":"Invalid or expired token."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "a token for an older email",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-verification",
			Body: jsonBody(`{"token":"` + flowToken(t, "users", bobID, core.NewVerificationToken) + `"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				// the tokenKey stays, so the token still verifies; only the email differs
				execSQL(t, app, "UPDATE users SET email = 'bob2@example.com' WHERE id = ?", bobID)
			},
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"token":{"code":"validation_token_email_mismatch","message":"The record email doesn't match with the requested token claims."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

// flowToken mints a token of the fixture record with mint.
func flowToken(t testing.TB, collection, id string, mint func(*core.Record) (string, error)) string {
	t.Helper()
	app := fixtureApp(t)
	record, err := app.FindRecordByID(t.Context(), collection, id)
	if err != nil {
		t.Fatal(err)
	}
	token, err := mint(record)
	if err != nil {
		t.Fatal(err)
	}
	return token
}
