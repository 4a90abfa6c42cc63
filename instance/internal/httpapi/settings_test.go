package httpapi_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

const (
	notAllowedBody = `{"data":{},"message":"The authorized record is not allowed to perform this action.","status":403}`
	loadFailedBody = `{"data":{},"message":"An error occurred while loading the submitted data.","status":400}`
)

// settingsHeaders returns the headers of a request as the given token, with a JSON
// Content-Type when withJSON is set.
func settingsHeaders(token string, withJSON bool) map[string]string {
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = token
	}
	if withJSON {
		h["Content-Type"] = "application/json"
	}
	return h
}

// freshSettingsApp returns a factory of an empty data directory with a superuser, and
// headers that authenticate as it (filled when the app is opened).
func freshSettingsApp() (func(t testing.TB) *core.App, map[string]string) {
	headers := map[string]string{}
	factory := func(t testing.TB) *core.App {
		t.Helper()
		app := apitest.NewTestApp(t, "")
		su, err := app.UpsertSuperuser(t.Context(), "root@example.com", "root-pass-123")
		if err != nil {
			t.Fatal(err)
		}
		record, err := app.FindRecordByID(t.Context(), core.CollectionNameSuperusers, su.ID)
		if err != nil {
			t.Fatal(err)
		}
		token, err := core.NewAuthToken(record)
		if err != nil {
			t.Fatal(err)
		}
		headers["Authorization"] = token
		return app
	}
	return factory, headers
}

// saveSettings is a BeforeTestFunc that changes and saves the app settings.
func saveSettings(change func(s *core.Settings)) func(t testing.TB, app *core.App) {
	return func(t testing.TB, app *core.App) {
		t.Helper()
		s := app.Settings()
		change(s)
		if err := app.SaveSettings(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
}

// storedSettings returns the `_params` settings value.
func storedSettings(t testing.TB, app *core.App) string {
	t.Helper()
	var value string
	if err := app.DB().Read().QueryRowContext(t.Context(), "SELECT `value` FROM `_params` WHERE `id` = 'settings'").Scan(&value); err != nil {
		t.Fatal(err)
	}
	return value
}

func multipartBody(t *testing.T, fields map[string]string) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, w.FormDataContentType()
}

func TestSettingsAccess(t *testing.T) {
	tok := newTokens(t)

	routes := []struct{ method, url string }{
		{http.MethodGet, "/api/settings"},
		{http.MethodPatch, "/api/settings"},
		{http.MethodPost, "/api/settings/test/s3"},
		{http.MethodPost, "/api/settings/test/email"},
		{http.MethodPost, "/api/settings/apple/generate-client-secret"},
	}

	var scenarios []apitest.ApiScenario
	for _, r := range routes {
		scenarios = append(scenarios,
			apitest.ApiScenario{
				Name:   r.method + " " + r.url + " as guest",
				Method: r.method, URL: r.url,
				Body: strings.NewReader(`{}`), Headers: jsonHeaders,
				TestAppFactory: fixtureApp,
				ExpectedStatus: http.StatusUnauthorized,
				ExpectedBody:   requiresAuth,
			},
			apitest.ApiScenario{
				Name:   r.method + " " + r.url + " as a user",
				Method: r.method, URL: r.url,
				Body: strings.NewReader(`{}`), Headers: settingsHeaders(tok.alice, true),
				TestAppFactory: fixtureApp,
				ExpectedStatus: http.StatusForbidden,
				ExpectedBody:   notAllowedBody,
			},
			apitest.ApiScenario{
				Name:   r.method + " " + r.url + " with an invalid token is a guest",
				Method: r.method, URL: r.url,
				Body: strings.NewReader(`{}`), Headers: settingsHeaders(tok.aliceWrongKey, true),
				TestAppFactory: fixtureApp,
				ExpectedStatus: http.StatusUnauthorized,
				ExpectedBody:   requiresAuth,
			},
		)
	}
	scenarios = append(scenarios,
		apitest.ApiScenario{
			Name:   "unknown method on /api/settings falls through to 404",
			Method: http.MethodDelete, URL: "/api/settings",
			Headers:        settingsHeaders(tok.admin, false),
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   notFoundBody,
		},
		apitest.ApiScenario{
			Name:   "trailing slash is another path",
			Method: http.MethodGet, URL: "/api/settings/",
			Headers:        settingsHeaders(tok.admin, false),
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   notFoundBody,
		},
	)

	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestSettingsList(t *testing.T) {
	tok := newTokens(t)
	freshFactory, freshHeaders := freshSettingsApp()

	scenarios := []apitest.ApiScenario{
		{
			Name:   "fresh data directory: PocketBase's defaults, byte for byte",
			Method: http.MethodGet, URL: "/api/settings",
			Headers:        freshHeaders,
			TestAppFactory: freshFactory,
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   apitest.PocketBaseFreshSettingsJSON,
			ExpectedHeaders: withSecurityHeaders(map[string]string{
				"Content-Type": "application/json",
			}),
		},
		{
			Name:   "fixture",
			Method: http.MethodGet, URL: "/api/settings",
			Headers:        settingsHeaders(tok.admin, false),
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   apitest.PocketBaseFreshSettingsJSON,
		},
		{
			Name:   "HEAD",
			Method: http.MethodHead, URL: "/api/settings",
			Headers:         settingsHeaders(tok.admin, false),
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedHeaders: map[string]string{"Content-Type": "application/json"},
		},
		{
			Name:   "secrets are never written",
			Method: http.MethodGet, URL: "/api/settings",
			Headers:        settingsHeaders(tok.admin, false),
			TestAppFactory: fixtureApp,
			BeforeTestFunc: saveSettings(func(s *core.Settings) {
				s.SMTP.Password = "smtp-secret"
				s.S3.Secret = "s3-secret"
				s.Backups.S3.Secret = "backups-secret"
				s.SuperuserIPs = []string{"127.0.0.1", "::1"}
			}),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`{"superuserIPs":["127.0.0.1","::1"],"smtp":{"enabled":false,"port":587,"host":"smtp.example.com","username":"","authMethod":""`},
			NotExpectedContent: []string{"secret", "password"},
		},
	}

	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestSettingsSet(t *testing.T) {
	tok := newTokens(t)
	su := settingsHeaders(tok.admin, true)
	saveFailed := func(data string) string {
		return `{"data":` + data + `,"message":"An error occurred while saving the new settings.","status":400}`
	}
	expectSettings := func(check func(t testing.TB, s *core.Settings)) func(testing.TB, *core.App, *http.Response, []byte) {
		return func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
			t.Helper()
			check(t, app.Settings())
		}
	}
	unchanged := func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
		t.Helper()
		got, err := json.Marshal(app.Settings())
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != apitest.PocketBaseFreshSettingsJSON {
			t.Errorf("settings changed: %s", got)
		}
	}
	multipartRequest, multipartType := multipartBody(t, map[string]string{
		"meta.appName": "From form",
		"@jsonPayload": `{"smtp":{"host":"payload.example.com"}}`,
	})

	scenarios := []apitest.ApiScenario{
		{
			Name:   "merge: the changed members only",
			Method: http.MethodPatch, URL: "/api/settings",
			Body:           strings.NewReader(`{"meta":{"appName":"Renamed"},"smtp":{"host":"mail.example.com"},"superuserIPs":["10.0.0.0/8"]}`),
			Headers:        su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusOK,
			ExpectedBody: strings.NewReplacer(
				`"appName":"Acme"`, `"appName":"Renamed"`,
				`"host":"smtp.example.com"`, `"host":"mail.example.com"`,
				`"superuserIPs":[]`, `"superuserIPs":["10.0.0.0/8"]`,
			).Replace(apitest.PocketBaseFreshSettingsJSON),
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if v := storedSettings(t, app); !strings.Contains(v, `"appName":"Renamed"`) || !strings.Contains(v, `"superuserIPs":["10.0.0.0/8"]`) {
					t.Errorf("stored settings not updated: %s", v)
				}
			},
		},
		{
			Name:   "keys match case-insensitively, ignoring _ and -",
			Method: http.MethodPatch, URL: "/api/settings",
			Body:            strings.NewReader(`{"META":{"APP_NAME":"Upper"},"Rate-Limits":{"Enabled":true}}`),
			Headers:         su,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"appName":"Upper"`, `"excludedIPs":[],"enabled":true}`},
		},
		{
			Name:   "a secret is stored and never returned",
			Method: http.MethodPatch, URL: "/api/settings",
			Body:               strings.NewReader(`{"smtp":{"password":"new-pass"},"s3":{"secret":"new-secret"}}`),
			Headers:            su,
			TestAppFactory:     fixtureApp,
			ExpectedStatus:     http.StatusOK,
			ExpectedBody:       apitest.PocketBaseFreshSettingsJSON,
			NotExpectedContent: []string{"new-pass", "new-secret"},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				v := storedSettings(t, app)
				if !strings.Contains(v, `"password":"new-pass"`) || !strings.Contains(v, `"secret":"new-secret"`) {
					t.Errorf("secrets not stored: %s", v)
				}
			},
		},
		{
			Name:   "an omitted secret keeps the stored one",
			Method: http.MethodPatch, URL: "/api/settings",
			Body:           strings.NewReader(`{"smtp":{"enabled":true,"username":"mailer"},"backups":{"s3":{"bucket":"b2"}}}`),
			Headers:        su,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: saveSettings(func(s *core.Settings) {
				s.SMTP.Password = "kept-pass"
				s.Backups.S3.Secret = "kept-secret"
			}),
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"smtp":{"enabled":true,"port":587,"host":"smtp.example.com","username":"mailer","authMethod":""`},
			NotExpectedContent: []string{"kept-"},
			AfterTestFunc: expectSettings(func(t testing.TB, s *core.Settings) {
				if s.SMTP.Password != "kept-pass" || s.Backups.S3.Secret != "kept-secret" || s.Backups.S3.Bucket != "b2" {
					t.Errorf("smtp %+v, backups.s3 %+v: the secrets must be kept", s.SMTP, s.Backups.S3)
				}
			}),
		},
		{
			Name:   "an empty secret clears it",
			Method: http.MethodPatch, URL: "/api/settings",
			Body:           strings.NewReader(`{"smtp":{"password":""}}`),
			Headers:        su,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: saveSettings(func(s *core.Settings) { s.SMTP.Password = "old" }),
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   apitest.PocketBaseFreshSettingsJSON,
			AfterTestFunc: expectSettings(func(t testing.TB, s *core.Settings) {
				if s.SMTP.Password != "" {
					t.Errorf("password = %q, want cleared", s.SMTP.Password)
				}
			}),
		},
		{
			Name:   "rules are replaced as a whole",
			Method: http.MethodPatch, URL: "/api/settings",
			Body:            strings.NewReader(`{"rateLimits":{"rules":[{"label":"users:create","audience":"@guest","duration":60,"maxRequests":5}]}}`),
			Headers:         su,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"rateLimits":{"rules":[{"label":"users:create","audience":"@guest","duration":60,"maxRequests":5}],"excludedIPs":[],"enabled":false}`},
		},
		{
			Name:   "empty body saves the current settings",
			Method: http.MethodPatch, URL: "/api/settings",
			Headers:        settingsHeaders(tok.admin, false),
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   apitest.PocketBaseFreshSettingsJSON,
		},
		{
			Name:   "multipart with @jsonPayload",
			Method: http.MethodPatch, URL: "/api/settings",
			Body:            multipartRequest,
			Headers:         map[string]string{"Authorization": tok.admin, "Content-Type": multipartType},
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"host":"payload.example.com"`, `"appName":"From form"`},
		},
		{
			Name:   "urlencoded",
			Method: http.MethodPatch, URL: "/api/settings",
			Body:            strings.NewReader(`meta.appName=Encoded&batch.enabled=true&superuserIPs=::1&superuserIPs=10.0.0.1`),
			Headers:         map[string]string{"Authorization": tok.admin, "Content-Type": "application/x-www-form-urlencoded"},
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"superuserIPs":["::1","10.0.0.1"]`, `"appName":"Encoded"`, `"batch":{"enabled":true,`},
		},
		{
			Name:   "validation errors, nested",
			Method: http.MethodPatch, URL: "/api/settings",
			Body: strings.NewReader(`{"meta":{"appName":"","appURL":"nope","senderAddress":"x"},"smtp":{"enabled":true,"host":""},` +
				`"rateLimits":{"rules":[{"label":"bad label!","duration":0,"maxRequests":-1}],"excludedIPs":["1.2.3.4/40"]},` +
				`"superuserIPs":["1.2.3.4",""],"backups":{"cron":"* * * * * *","cronMaxKeep":-1},"batch":{"enabled":true,"maxRequests":0},"logs":{"maxDays":-1}}`),
			Headers:        su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: saveFailed(`{` +
				`"backups":{"cron":{"code":"validation_invalid_cron","message":"Invalid cron expression - must be a valid macro or to have exactly 5 space separated segments."},` +
				`"cronMaxKeep":{"code":"validation_min_greater_equal_than_required","message":"Must be no less than 1.","params":{"threshold":1}}},` +
				`"batch":{"maxRequests":{"code":"validation_required","message":"Cannot be blank."}},` +
				`"logs":{"maxDays":{"code":"validation_min_greater_equal_than_required","message":"Must be no less than 0.","params":{"threshold":0}}},` +
				`"meta":{"appName":{"code":"validation_required","message":"Cannot be blank."},"appURL":{"code":"validation_is_url","message":"Must be a valid URL."},` +
				`"senderAddress":{"code":"validation_is_email","message":"Must be a valid email address."}},` +
				`"rateLimits":{"excludedIPs":{"0":{"code":"validation_invlaid_ip_or_subnet","message":"Invalid IP or CIDR subnet."}},` +
				`"rules":{"0":{"duration":{"code":"validation_required","message":"Cannot be blank."},"label":{"code":"validation_match_invalid","message":"Must be in a valid format."},` +
				`"maxRequests":{"code":"validation_min_greater_equal_than_required","message":"Must be no less than 1.","params":{"threshold":1}}}}},` +
				`"smtp":{"host":{"code":"validation_required","message":"Cannot be blank."}},` +
				`"superuserIPs":{"1":{"code":"validation_required","message":"Cannot be blank."}}}`),
			AfterTestFunc: unchanged,
		},
		{
			Name:   "conflicting rate limit labels",
			Method: http.MethodPatch, URL: "/api/settings",
			Body:           strings.NewReader(`{"rateLimits":{"rules":[{"label":"*:auth","duration":1,"maxRequests":1},{"label":"*:auth","audience":"@auth","duration":1,"maxRequests":1}]}}`),
			Headers:        su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: saveFailed(`{"rateLimits":{"rules":{"1":{"label":{"code":"validation_conflicting_rate_limit_rule",` +
				`"message":"Rate limit rule configuration with label *:auth already exists or conflicts with another rule.","params":{"label":"*:auth"}}}}}}`),
			AfterTestFunc: unchanged,
		},
		{
			Name:   "null body resets everything and fails validation",
			Method: http.MethodPatch, URL: "/api/settings",
			Body: strings.NewReader(`null`), Headers: su,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`"meta":{"appName":{"code":"validation_required"`},
			AfterTestFunc:   unchanged,
		},
		{
			Name:   "invalid JSON",
			Method: http.MethodPatch, URL: "/api/settings",
			Body: strings.NewReader(`{"meta":`), Headers: su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   loadFailedBody,
			AfterTestFunc:  unchanged,
		},
		{
			Name:   "wrong type",
			Method: http.MethodPatch, URL: "/api/settings",
			Body: strings.NewReader(`{"smtp":{"port":"25"}}`), Headers: su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   loadFailedBody,
		},
		{
			Name:   "duplicate keys",
			Method: http.MethodPatch, URL: "/api/settings",
			Body: strings.NewReader(`{"meta":{"appName":"a","APPNAME":"b"}}`), Headers: su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   loadFailedBody,
		},
		{
			Name:   "unsupported Content-Type",
			Method: http.MethodPatch, URL: "/api/settings",
			Body:           strings.NewReader(`{"meta":{"appName":"x"}}`),
			Headers:        map[string]string{"Authorization": tok.admin, "Content-Type": "text/plain"},
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   loadFailedBody,
			AfterTestFunc:  unchanged,
		},
	}

	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestSettingsTestS3(t *testing.T) {
	tok := newTokens(t)
	su := settingsHeaders(tok.admin, true)
	const url = "/api/settings/test/s3"

	scenarios := []apitest.ApiScenario{
		{
			Name:   "missing filesystem",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(`{}`), Headers: su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"filesystem":{"code":"validation_required","message":"Cannot be blank."}},"message":"Failed to test the S3 filesystem.","status":400}`,
		},
		{
			Name:   "unknown filesystem",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(`{"filesystem":"files"}`), Headers: su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"filesystem":{"code":"validation_in_invalid","message":"Must be a valid value."}},"message":"Failed to test the S3 filesystem.","status":400}`,
		},
		{
			Name:   "storage not enabled",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(`{"filesystem":"storage"}`), Headers: su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Failed to test the S3 filesystem. Raw error: \nS3 storage filesystem is not enabled.","status":400}`,
		},
		{
			Name:   "backups enabled but unreachable",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(`{"filesystem":"backups"}`), Headers: su,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: saveSettings(func(s *core.Settings) {
				// note: a closed loopback port; tests never reach outside the machine
				s.Backups.S3 = core.S3Config{Enabled: true, Bucket: "b", Region: "r", Endpoint: "http://127.0.0.1:1", AccessKey: "k", Secret: "s", ForcePathStyle: true}
			}),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedContent: []string{`{"data":{},"message":"Failed to test the S3 filesystem. Raw error: \nfailed to upload a test file: [key: pb_settings_test_`,
				`/test.txt] Put \"http://127.0.0.1:1/b/pb_settings_test_`, `/test.txt\": dial tcp 127.0.0.1:1: connect: connection refused."`},
		},
		{
			Name:   "invalid body",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(`{"filesystem":1}`), Headers: su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   loadFailedBody,
		},
	}

	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestSettingsTestEmail(t *testing.T) {
	tok := newTokens(t)
	su := settingsHeaders(tok.admin, true)
	const url = "/api/settings/test/email"

	scenarios := []apitest.ApiScenario{
		{
			Name:   "empty",
			Method: http.MethodPost, URL: url,
			Headers:        settingsHeaders(tok.admin, false),
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"email":{"code":"validation_required","message":"Cannot be blank."},"template":{"code":"validation_required","message":"Cannot be blank."}},` +
				`"message":"Failed to send the test email.","status":400}`,
		},
		{
			Name:   "invalid values; posts is not an auth collection",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(`{"email":"nope","template":"welcome","collection":"posts"}`), Headers: su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"collection":{"code":"validation_invalid_auth_collection","message":"Must be a valid auth collection id or name."},` +
				`"email":{"code":"validation_is_email","message":"Must be a valid email address."},"template":{"code":"validation_in_invalid","message":"Must be a valid value."}},` +
				`"message":"Failed to send the test email.","status":400}`,
		},
		{
			Name:   "valid, but smtp is disabled",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(`{"email":"to@example.com","template":"verification","collection":"USERS"}`), Headers: su,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusBadRequest,
			ExpectedContent: []string{`{"data":{},"message":"Failed to send the test email. Raw error: \n`},
		},
	}

	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestSettingsAppleClientSecret(t *testing.T) {
	tok := newTokens(t)
	su := settingsHeaders(tok.admin, true)
	const url = "/api/settings/apple/generate-client-secret"

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	body := func(privateKey string, duration int) *strings.Reader {
		raw, err := json.Marshal(map[string]any{
			"clientId": "com.example.app", "teamId": "TEAM123456", "keyId": "KEY1234567",
			"privateKey": privateKey, "duration": duration,
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.NewReader(string(raw))
	}

	scenarios := []apitest.ApiScenario{
		{
			Name:   "empty",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(`{}`), Headers: su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"clientId":{"code":"validation_required","message":"Cannot be blank."},"duration":{"code":"validation_required","message":"Cannot be blank."},` +
				`"keyId":{"code":"validation_required","message":"Cannot be blank."},"privateKey":{"code":"validation_required","message":"Cannot be blank."},` +
				`"teamId":{"code":"validation_required","message":"Cannot be blank."}},"message":"Invalid client secret data.","status":400}`,
		},
		{
			Name:   "invalid values",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"clientId":"c","teamId":"short","keyId":"KEY1234567","privateKey":"nope","duration":15777001}`),
			Headers:        su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"duration":{"code":"validation_max_less_equal_than_required","message":"Must be no greater than 15777000.","params":{"threshold":15777000}},` +
				`"privateKey":{"code":"validation_match_invalid","message":"Must be in a valid format."},` +
				`"teamId":{"code":"validation_length_invalid","message":"The length must be exactly 10.","params":{"max":10,"min":10}}},"message":"Invalid client secret data.","status":400}`,
		},
		{
			Name:   "a key that is not PEM",
			Method: http.MethodPost, URL: url,
			Body: body("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----", 60), Headers: su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Failed to generate client secret. Raw error: \ninvalid key: Key must be a PEM encoded PKCS1 or PKCS8 key.","status":400}`,
		},
		{
			Name:   "valid",
			Method: http.MethodPost, URL: url,
			Body: body(pemKey, 3600), Headers: su,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"secret":"eyJ`},
			AfterTestFunc: func(t testing.TB, _ *core.App, _ *http.Response, resBody []byte) {
				var res struct{ Secret string }
				if err := json.Unmarshal(resBody, &res); err != nil {
					t.Fatal(err)
				}
				var claims jwt.RegisteredClaims
				token, err := jwt.ParseWithClaims(res.Secret, &claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
					jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience("https://appleid.apple.com"),
					jwt.WithIssuer("TEAM123456"), jwt.WithSubject("com.example.app"), jwt.WithIssuedAt())
				if err != nil {
					t.Fatal(err)
				}
				if token.Header["kid"] != "KEY1234567" {
					t.Errorf("kid = %v", token.Header["kid"])
				}
				if d := claims.ExpiresAt.Sub(claims.IssuedAt.Time); d != time.Hour {
					t.Errorf("exp - iat = %v, want 1h", d)
				}
			},
		},
	}

	for _, s := range scenarios {
		s.Test(t)
	}
}
