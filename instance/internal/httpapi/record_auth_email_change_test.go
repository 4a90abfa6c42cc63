package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func TestRecordEmailChangeFlow(t *testing.T) {
	tok := newTokens(t)
	smtpSrv := startSMTPServer(t, "", "") // no SMTP AUTH
	app := fixtureApp(t)
	smtpSrv.enableSMTP(t, app, "")
	alice := map[string]string{"Authorization": tok.alice, "Content-Type": "application/json"}
	var token string

	for _, s := range []apitest.ApiScenario{
		{
			Name:   "guest",
			Method: http.MethodPost, URL: "/api/collections/users/request-email-change",
			Body: jsonBody(`{"newEmail":"alice2@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusUnauthorized,
			ExpectedBody:   requiresAuth,
		},
		{
			Name:   "the email of another record",
			Method: http.MethodPost, URL: "/api/collections/users/request-email-change",
			Body: jsonBody(`{"newEmail":"bob@example.com"}`), Headers: alice,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"newEmail":{"code":"validation_invalid_new_email","message":"Invalid new email address."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "the current email",
			Method: http.MethodPost, URL: "/api/collections/users/request-email-change",
			Body: jsonBody(`{"newEmail":"alice@example.com"}`), Headers: alice,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"newEmail":{"code":"validation_not_in_invalid","message":"Must not be in list."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "request mails the new address",
			Method: http.MethodPost, URL: "/api/collections/users/request-email-change",
			Body: jsonBody(`{"newEmail":"alice2@example.com"}`), Headers: alice,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: func(t testing.TB, _ *core.App, _ *http.Response, _ []byte) {
				m := smtpSrv.next(t)
				if m.Subject != "Confirm your Acme new email address" || m.To[0] != "alice2@example.com" || m.User != "" {
					t.Errorf("mail %q to %v as %q", m.Subject, m.To, m.User)
				}
				token = mailToken(t, m, "confirm-email-change")
			},
		},
	} {
		s.Test(t)
	}

	for _, s := range []apitest.ApiScenario{
		{
			Name:   "wrong password",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-email-change",
			Body: jsonBody(`{"token":"` + token + `","password":"wrong-pass"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"password":{"code":"validation_invalid_password","message":"Missing or invalid auth record password."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "confirm changes the email",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-email-change",
			Body: jsonBody(`{"token":"` + token + `","password":"alice-pass-123"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				rec, err := app.FindRecordByID(t.Context(), "users", aliceID)
				if err != nil || rec.Email() != "alice2@example.com" || !rec.GetBool(core.FieldNameVerified) {
					t.Fatalf("alice = %v (%v)", rec, err)
				}
			},
		},
		{
			Name:   "the new email logs in",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: jsonBody(`{"identity":"alice2@example.com","password":"alice-pass-123"}`), Headers: jsonHeaders,
			TestAppFactory:  sharedApp(app),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"email":"alice2@example.com"`},
		},
		{
			Name:   "the token is spent: the email change renewed the tokenKey",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-email-change",
			Body: jsonBody(`{"token":"` + token + `","password":"alice-pass-123"}`), Headers: jsonHeaders,
			TestAppFactory:  sharedApp(app),
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"token":{"code":"validation_invalid_token","message":"Invalid or expired token."}`},
		},
	} {
		s.Test(t)
	}
}

func TestRecordEmailChangeErrors(t *testing.T) {
	tok := newTokens(t)
	scenarios := []apitest.ApiScenario{
		{
			Name:   "superusers change their email directly",
			Method: http.MethodPost, URL: "/api/collections/_superusers/request-email-change",
			Body: jsonBody(`{"newEmail":"x@example.com"}`), Headers: map[string]string{"Authorization": tok.admin, "Content-Type": "application/json"},
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"All superusers can change their emails directly.","status":400}`,
		},
		{
			Name:   "smtp disabled: the mail failure is a 400",
			Method: http.MethodPost, URL: "/api/collections/users/request-email-change",
			Body: jsonBody(`{"newEmail":"alice3@example.com"}`), Headers: map[string]string{"Authorization": tok.alice, "Content-Type": "application/json"},
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Failed to request email change.","status":400}`,
		},
		{
			Name:   "the new email was taken meanwhile",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-email-change",
			Body: jsonBody(`{"token":"` + flowToken(t, "users", aliceID, func(r *core.Record) (string, error) {
				return core.NewEmailChangeToken(r, "bob@example.com")
			}) + `","password":"alice-pass-123"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			// as in PocketBase, a token that fails to parse fails the password check too
			ExpectedBody: `{"data":{"password":{"code":"validation_invalid_password","message":"Missing or invalid auth record password."},` +
				`"token":{"code":"validation_invalid_token_email","message":"The new email address is invalid."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "superusers cannot confirm either",
			Method: http.MethodPost, URL: "/api/collections/_superusers/confirm-email-change",
			Body: jsonBody(`{"token":"x","password":"y"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"All superusers can change their emails directly.","status":400}`,
		},
		{
			Name:   "a token without newEmail",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-email-change",
			Body: jsonBody(`{"token":"` + tok.alice + `","password":"alice-pass-123"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"password":{"code":"validation_invalid_password","message":"Missing or invalid auth record password."},` +
				`"token":{"code":"validation_invalid_token_payload","message":"Invalid token payload - newEmail must be set."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}
