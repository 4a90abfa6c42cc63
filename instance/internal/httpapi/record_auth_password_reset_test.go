package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func TestRecordPasswordResetFlow(t *testing.T) {
	tok := newTokens(t)
	smtpSrv := startSMTPServer(t, "mailer", "mailer-pass")
	app := fixtureApp(t)
	smtpSrv.enableSMTP(t, app, core.SMTPAuthLogin) // AUTH LOGIN this time
	var token string

	for _, s := range []apitest.ApiScenario{
		{
			Name:   "request for bob sends the reset mail",
			Method: http.MethodPost, URL: "/api/collections/users/request-password-reset",
			Body: jsonBody(`{"email":"bob@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: func(t testing.TB, _ *core.App, _ *http.Response, _ []byte) {
				m := smtpSrv.next(t)
				if m.Subject != "Reset your Acme password" || m.To[0] != "bob@example.com" || m.User != "mailer" {
					t.Errorf("mail %q to %v as %q", m.Subject, m.To, m.User)
				}
				token = mailToken(t, m, "confirm-password-reset")
			},
		},
		{
			Name:   "a second request within two minutes is throttled",
			Method: http.MethodPost, URL: "/api/collections/users/request-password-reset",
			Body: jsonBody(`{"email":"bob@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc:  func(t testing.TB, _ *core.App, _ *http.Response, _ []byte) { smtpSrv.expectNone(t) },
		},
		{
			Name:   "unknown email: 204 and no mail",
			Method: http.MethodPost, URL: "/api/collections/users/request-password-reset",
			Body: jsonBody(`{"email":"nobody@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc:  func(t testing.TB, _ *core.App, _ *http.Response, _ []byte) { smtpSrv.expectNone(t) },
		},
	} {
		s.Test(t)
	}

	for _, s := range []apitest.ApiScenario{
		{
			Name:   "short password and mismatched confirmation",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-password-reset",
			Body: jsonBody(`{"token":"` + token + `","password":"short","passwordConfirm":"other"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"password":{"code":"validation_length_out_of_range","message":"The length must be between 8 and 255.","params":{"max":255,"min":8}},` +
				`"passwordConfirm":{"code":"validation_values_mismatch","message":"Values don't match."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "confirm sets the password and verifies bob",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-password-reset",
			Body: jsonBody(`{"token":"` + token + `","password":"bob-new-pass-1","passwordConfirm":"bob-new-pass-1"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				bob, err := app.FindRecordByID(t.Context(), "users", bobID)
				if err != nil || !bob.GetBool(core.FieldNameVerified) {
					t.Fatalf("bob not verified (%v)", err)
				}
			},
		},
		{
			Name:   "the new password logs in",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: jsonBody(`{"identity":"bob@example.com","password":"bob-new-pass-1"}`), Headers: jsonHeaders,
			TestAppFactory:  sharedApp(app),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"id":"` + bobID + `"`, `"verified":true`},
		},
		{
			Name:   "the old password does not",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: jsonBody(`{"identity":"bob@example.com","password":"bob-pass-1234"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   failedAuthBody,
		},
		{
			Name:   "auth tokens issued before the reset are invalid",
			Method: http.MethodPost, URL: "/api/collections/users/auth-refresh",
			Headers:        map[string]string{"Authorization": tok.bob},
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusUnauthorized,
			ExpectedBody:   requiresAuth,
		},
		{
			Name:   "the reset token cannot be used twice",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-password-reset",
			Body: jsonBody(`{"token":"` + token + `","password":"bob-new-pass-2","passwordConfirm":"bob-new-pass-2"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"token":{"code":"validation_invalid_token","message":"Invalid or expired token."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
	} {
		s.Test(t)
	}
}

func TestRecordPasswordResetErrors(t *testing.T) {
	scenarios := []apitest.ApiScenario{
		{
			Name:   "password auth disabled is a 400",
			Method: http.MethodPost, URL: "/api/collections/users/request-password-reset",
			Body: jsonBody(`{"email":"bob@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.passwordAuth.enabled', json('false')) WHERE name = 'users'`)
			},
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"The collection is not configured to allow password authentication.","status":400}`,
		},
		{
			Name:   "blank form",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-password-reset",
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"password":{"code":"validation_required","message":"Cannot be blank."},` +
				`"passwordConfirm":{"code":"validation_required","message":"Cannot be blank."},` +
				`"token":{"code":"validation_required","message":"Cannot be blank."}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "a superuser's token on users",
			Method: http.MethodPost, URL: "/api/collections/users/confirm-password-reset",
			Body:           jsonBody(`{"token":"` + flowToken(t, "_superusers", adminID, core.NewPasswordResetToken) + `","password":"12345678","passwordConfirm":"12345678"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedContent: []string{
				`{"data":{"token":{"code":"validation_token_collection_mismatch"`,
			},
		},
		{
			Name:   "invalid email",
			Method: http.MethodPost, URL: "/api/collections/users/request-password-reset",
			Body: strings.NewReader(`{"email":"x"}`), Headers: jsonHeaders,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"email":{"code":"validation_is_email"`},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}
