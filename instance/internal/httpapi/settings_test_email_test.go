package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func TestSettingsTestEmailDelivery(t *testing.T) {
	tok := newTokens(t)
	smtpSrv := startSMTPServer(t, "mailer", "mailer-pass")
	app := fixtureApp(t)
	smtpSrv.enableSMTP(t, app, core.SMTPAuthPlain)
	su := settingsHeaders(tok.admin, true)

	tests := []struct {
		template, collection, subject, htmlContains string
	}{
		{"verification", "users", "Verify your Acme email", "/_/#/auth/confirm-verification/"},
		{"password-reset", "", "Reset your Acme password", "/_/#/auth/confirm-password-reset/"},
		{"email-change", "users", "Confirm your Acme new email address", "/_/#/auth/confirm-email-change/"},
		{"otp", "users", "OTP for Acme", "<strong>123456</strong>"},
		{"login-alert", "_superusers", "Login from a new location", " - TEST_IP TEST_USER_AGENT</em>"},
	}
	for _, tc := range tests {
		s := apitest.ApiScenario{
			Name:   tc.template,
			Method: http.MethodPost, URL: "/api/settings/test/email",
			Body:           strings.NewReader(`{"email":"to@example.com","template":"` + tc.template + `","collection":"` + tc.collection + `"}`),
			Headers:        su,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: func(t testing.TB, _ *core.App, _ *http.Response, _ []byte) {
				m := smtpSrv.next(t)
				if m.Subject != tc.subject || len(m.To) != 1 || m.To[0] != "to@example.com" {
					t.Errorf("mail %q to %v", m.Subject, m.To)
				}
				if !strings.Contains(m.HTML, tc.htmlContains) {
					t.Errorf("html lacks %q:\n%s", tc.htmlContains, m.HTML)
				}
			},
		}
		s.Test(t)
	}

	broken := apitest.ApiScenario{
		Name:   "an unreachable smtp server",
		Method: http.MethodPost, URL: "/api/settings/test/email",
		Body:           strings.NewReader(`{"email":"to@example.com","template":"verification"}`),
		Headers:        su,
		TestAppFactory: fixtureApp,
		BeforeTestFunc: saveSettings(func(s *core.Settings) {
			s.SMTP = core.SMTPConfig{Enabled: true, Host: "127.0.0.1", Port: 1}
		}),
		ExpectedStatus: http.StatusBadRequest,
		// as PocketBase (mailyak): the raw dial error, unwrapped
		ExpectedBody: `{"data":{},"message":"Failed to send the test email. Raw error: \ndial tcp 127.0.0.1:1: connect: connection refused.","status":400}`,
	}
	broken.Test(t)
}
