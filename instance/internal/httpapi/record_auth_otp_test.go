package httpapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

const invalidOTPBody = `{"data":{},"message":"Invalid or expired OTP.","status":400}`

func enableOTP(t testing.TB, app *core.App) {
	t.Helper()
	execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.otp.enabled', json('true')) WHERE name = 'users'`)
}

// otpCode reads the one-time password of an OTP mail.
func otpCode(t testing.TB, m smtpMessage) string {
	t.Helper()
	match := regexp.MustCompile(`<strong>(\d+)</strong>`).FindStringSubmatch(m.HTML)
	if match == nil {
		t.Fatalf("no OTP in the HTML part:\n%s", m.HTML)
	}
	return match[1]
}

func otpIDOf(t testing.TB, body []byte) string {
	t.Helper()
	var res struct {
		OTPID string `json:"otpId"`
	}
	if err := json.Unmarshal(body, &res); err != nil || len(res.OTPID) != 15 {
		t.Fatalf("body = %s (%v)", body, err)
	}
	return res.OTPID
}

func countRows(t testing.TB, app *core.App, query string) int {
	t.Helper()
	var n int
	if err := app.DB().Read().QueryRowContext(t.Context(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitSentTo waits until the background mail delivery marked the OTP as sent.
func waitSentTo(t testing.TB, app *core.App, otpID, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var sentTo string
		err := app.DB().Read().QueryRowContext(t.Context(), "SELECT sentTo FROM _otps WHERE id = ?", otpID).Scan(&sentTo)
		if err == nil && sentTo == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("otp %s sentTo = %q (%v), want %q", otpID, sentTo, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRequestOTPErrors(t *testing.T) {
	scenarios := []apitest.ApiScenario{
		{
			Name:   "OTP disabled",
			Method: http.MethodPost, URL: "/api/collections/users/request-otp",
			Body: jsonBody(`{"email":"bob@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The collection is not configured to allow OTP authentication.","status":403}`,
		},
		{
			Name:   "not an auth collection",
			Method: http.MethodPost, URL: "/api/collections/posts/request-otp",
			Body: jsonBody(`{"email":"bob@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"Missing or invalid auth collection context.","status":404}`,
		},
		{
			Name:   "missing email",
			Method: http.MethodPost, URL: "/api/collections/users/request-otp",
			Body: jsonBody(`{}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp, BeforeTestFunc: enableOTP,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"email":{"code":"validation_required","message":"Cannot be blank."}},"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "invalid email",
			Method: http.MethodPost, URL: "/api/collections/users/request-otp",
			Body: jsonBody(`{"email":"nope"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp, BeforeTestFunc: enableOTP,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"email":{"code":"validation_is_email","message":"Must be a valid email address."}},"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "unknown email: a random otpId, nothing stored",
			Method: http.MethodPost, URL: "/api/collections/users/request-otp",
			Body: jsonBody(`{"email":"nobody@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp, BeforeTestFunc: enableOTP,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"otpId":"`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
				otpIDOf(t, body)
				if n := countRows(t, app, "SELECT count(*) FROM _otps"); n != 0 {
					t.Errorf("_otps rows = %d, want 0", n)
				}
			},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestAuthWithOTPErrors(t *testing.T) {
	insertOTP := func(id, collectionRef, recordRef, code string, created time.Time) func(testing.TB, *core.App) {
		return func(t testing.TB, app *core.App) {
			enableOTP(t, app)
			storeOTP(t, app, id, collectionRef, recordRef, code, "", created)
		}
	}
	const url = "/api/collections/users/auth-with-otp"
	scenarios := []apitest.ApiScenario{
		{
			Name:   "OTP disabled",
			Method: http.MethodPost, URL: url,
			Body: jsonBody(`{"otpId":"otp000000000001","password":"12345678"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The collection is not configured to allow OTP authentication.","status":403}`,
		},
		{
			Name:   "form validation",
			Method: http.MethodPost, URL: url,
			Body: jsonBody(`{"password":"` + strings.Repeat("1", 72) + `"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp, BeforeTestFunc: enableOTP,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"otpId":{"code":"validation_required","message":"Cannot be blank."},"password":{"code":"validation_length_out_of_range","message":"The length must be between 1 and 71.","params":{"max":71,"min":1}}},"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "unknown otpId",
			Method: http.MethodPost, URL: url,
			Body: jsonBody(`{"otpId":"otp000000000001","password":"12345678"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp, BeforeTestFunc: enableOTP,
			ExpectedStatus: http.StatusBadRequest, ExpectedBody: invalidOTPBody,
		},
		{
			Name:   "wrong code",
			Method: http.MethodPost, URL: url,
			Body: jsonBody(`{"otpId":"otp000000000001","password":"87654321"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp, BeforeTestFunc: insertOTP("otp000000000001", "_pb_users_auth_", aliceID, "12345678", time.Now()),
			ExpectedStatus: http.StatusBadRequest, ExpectedBody: invalidOTPBody,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := countRows(t, app, "SELECT count(*) FROM _otps"); n != 1 {
					t.Errorf("_otps rows = %d, want the OTP kept", n)
				}
			},
		},
		{
			Name:   "expired OTP",
			Method: http.MethodPost, URL: url,
			Body: jsonBody(`{"otpId":"otp000000000001","password":"12345678"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp, BeforeTestFunc: insertOTP("otp000000000001", "_pb_users_auth_", aliceID, "12345678", time.Now().Add(-181*time.Second)),
			ExpectedStatus: http.StatusBadRequest, ExpectedBody: invalidOTPBody,
		},
		{
			Name:   "OTP of another collection",
			Method: http.MethodPost, URL: url,
			Body: jsonBody(`{"otpId":"otp000000000001","password":"12345678"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp, BeforeTestFunc: insertOTP("otp000000000001", "pbc_3142635823", adminID, "12345678", time.Now()),
			ExpectedStatus: http.StatusBadRequest, ExpectedBody: invalidOTPBody,
		},
		{
			Name:   "OTP of a deleted record",
			Method: http.MethodPost, URL: url,
			Body: jsonBody(`{"otpId":"otp000000000001","password":"12345678"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp, BeforeTestFunc: insertOTP("otp000000000001", "_pb_users_auth_", "missing00000000", "12345678", time.Now()),
			ExpectedStatus: http.StatusBadRequest, ExpectedBody: invalidOTPBody,
		},
		{
			Name:   "a valid OTP logs in and is deleted",
			Method: http.MethodPost, URL: url,
			Body: jsonBody(`{"otpId":"otp000000000001","password":"12345678"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp, BeforeTestFunc: insertOTP("otp000000000001", "_pb_users_auth_", aliceID, "12345678", time.Now()),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`{"record":`},
			AfterTestFunc: func(t testing.TB, app *core.App, res *http.Response, body []byte) {
				expectAuthResponse(aliceRecordJSON, aliceID, usersTokenDuration, "")(t, app, res, body)
				if n := countRows(t, app, "SELECT count(*) FROM _otps"); n != 0 {
					t.Errorf("_otps rows = %d, want the used OTP deleted", n)
				}
			},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestAuthWithOTPAttemptsLimit(t *testing.T) {
	app := fixtureApp(t)
	enableOTP(t, app)
	storeOTP(t, app, "otp000000000001", "_pb_users_auth_", aliceID, "12345678", "", time.Now())

	wrong := func(i int) apitest.ApiScenario {
		return apitest.ApiScenario{
			Name:   "wrong code " + string(rune('1'+i)),
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-otp",
			Body: jsonBody(`{"otpId":"otp000000000001","password":"00000000"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest, ExpectedBody: invalidOTPBody,
		}
	}
	var steps []apitest.ApiScenario
	for i := range 5 {
		steps = append(steps, wrong(i))
	}
	steps = append(steps, apitest.ApiScenario{
		Name:   "the sixth attempt is refused even with the right code",
		Method: http.MethodPost, URL: "/api/collections/users/auth-with-otp",
		Body: jsonBody(`{"otpId":"otp000000000001","password":"12345678"}`), Headers: jsonHeaders,
		TestAppFactory: sharedApp(app),
		ExpectedStatus: http.StatusTooManyRequests,
		ExpectedBody:   `{"data":{},"message":"Too many attempts, please try again later with a new OTP.","status":429}`,
	})
	for _, s := range steps {
		s.Test(t)
	}
}

func TestOTPFlow(t *testing.T) {
	smtpSrv := startSMTPServer(t, "", "")
	app := fixtureApp(t)
	smtpSrv.enableSMTP(t, app, "")
	enableOTP(t, app)

	var otpID, code string
	steps := []apitest.ApiScenario{
		{
			Name:   "request-otp for the unverified bob mails a code",
			Method: http.MethodPost, URL: "/api/collections/users/request-otp",
			Body: jsonBody(`{"email":"bob@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`{"otpId":"`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
				otpID = otpIDOf(t, body)
				m := smtpSrv.next(t)
				if m.Subject != "OTP for Acme" || len(m.To) != 1 || m.To[0] != "bob@example.com" {
					t.Errorf("mail %q to %v", m.Subject, m.To)
				}
				code = otpCode(t, m)
				if len(code) != 8 {
					t.Errorf("code %q, want 8 digits", code)
				}
				waitSentTo(t, app, otpID, "bob@example.com")
				var hash string
				if err := app.DB().Read().QueryRowContext(t.Context(), "SELECT password FROM _otps WHERE id = ?", otpID).Scan(&hash); err != nil || !strings.HasPrefix(hash, "$2a$08$") {
					t.Errorf("stored password %q (%v), want a cost-8 bcrypt hash", hash, err)
				}
			},
		},
	}
	for _, s := range steps {
		s.Test(t)
	}

	var bobToken string
	login := []apitest.ApiScenario{
		{
			Name:   "auth-with-otp logs bob in and verifies him",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-otp",
			Body: jsonBody(`{"otpId":"` + otpID + `","password":"` + code + `"}`), Headers: jsonHeaders,
			TestAppFactory:  sharedApp(app),
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"id":"` + bobID + `"`, `"verified":true`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
				var res struct {
					Token string `json:"token"`
				}
				if err := json.Unmarshal(body, &res); err != nil {
					t.Fatal(err)
				}
				bobToken = res.Token
				if rec, err := app.FindAuthRecordByToken(t.Context(), res.Token, core.TokenTypeAuth); err != nil || rec.ID() != bobID {
					t.Fatalf("token authenticates %v (%v)", rec, err)
				}
			},
		},
		{
			Name:   "the code cannot be used twice",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-otp",
			Body: jsonBody(`{"otpId":"` + otpID + `","password":"` + code + `"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest, ExpectedBody: invalidOTPBody,
		},
		{
			Name:   "the verification through OTP replaced bob's password (MFA off)",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: jsonBody(`{"identity":"bob@example.com","password":"bob-pass-1234"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest, ExpectedBody: failedAuthBody,
		},
	}
	for _, s := range login {
		s.Test(t)
	}
	if bobToken == "" {
		t.Fatal("no token")
	}
}

func TestRequestOTPReusesAfterTenRecent(t *testing.T) {
	app := fixtureApp(t)
	enableOTP(t, app)
	for i := range 10 {
		at := core.FormatDateTime(time.Now().Add(time.Duration(i-20) * time.Second))
		execSQL(t, app, "INSERT INTO _otps (id, collectionRef, recordRef, password, sentTo, created, updated) VALUES (?, '_pb_users_auth_', ?, 'x', '', ?, ?)",
			"otp00000000000"+string(rune('0'+i)), aliceID, at, at)
	}
	s := apitest.ApiScenario{
		Name:   "the eleventh request gets the newest id back",
		Method: http.MethodPost, URL: "/api/collections/users/request-otp",
		Body: jsonBody(`{"email":"alice@example.com"}`), Headers: jsonHeaders,
		TestAppFactory: sharedApp(app),
		ExpectedStatus: http.StatusOK,
		ExpectedBody:   `{"otpId":"otp000000000009"}`,
		AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
			if n := countRows(t, app, "SELECT count(*) FROM _otps"); n != 10 {
				t.Errorf("_otps rows = %d, want no new OTP", n)
			}
		},
	}
	s.Test(t)
}

func TestMFAWithOTPAndPassword(t *testing.T) {
	smtpSrv := startSMTPServer(t, "", "")
	app := fixtureApp(t)
	smtpSrv.enableSMTP(t, app, "")
	enableOTP(t, app)
	execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.mfa.enabled', json('true')) WHERE name = 'users'`)

	alicePass := `{"identity":"alice@example.com","password":"alice-pass-123"}`
	var mfaID, otpID, code string
	steps := []apitest.ApiScenario{
		{
			Name:   "password first: 401 mfaId",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: jsonBody(alicePass), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusUnauthorized, ExpectedContent: []string{`{"mfaId":"`},
			AfterTestFunc: func(t testing.TB, _ *core.App, _ *http.Response, body []byte) {
				var res struct {
					MFAID string `json:"mfaId"`
				}
				_ = json.Unmarshal(body, &res)
				mfaID = res.MFAID
			},
		},
		{
			Name:   "request-otp",
			Method: http.MethodPost, URL: "/api/collections/users/request-otp",
			Body: jsonBody(`{"email":"alice@example.com"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`{"otpId":"`},
			AfterTestFunc: func(t testing.TB, _ *core.App, _ *http.Response, body []byte) {
				otpID = otpIDOf(t, body)
				code = otpCode(t, smtpSrv.next(t))
			},
		},
	}
	for _, s := range steps {
		s.Test(t)
	}

	second := []apitest.ApiScenario{
		{
			Name:   "the password again as second factor is refused",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password?mfaId=" + mfaID,
			Body: jsonBody(alicePass), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"A different authentication method is required.","status":400}`,
		},
		{
			Name:   "the OTP as second factor completes the login",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-otp",
			Body: jsonBody(`{"otpId":"` + otpID + `","password":"` + code + `","mfaId":"` + mfaID + `"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`{"record":`},
			AfterTestFunc: func(t testing.TB, app *core.App, res *http.Response, body []byte) {
				expectAuthResponse(aliceRecordJSON, aliceID, usersTokenDuration, "")(t, app, res, body)
				if n := countRows(t, app, "SELECT count(*) FROM _mfas"); n != 0 {
					t.Errorf("_mfas rows = %d, want the session deleted", n)
				}
			},
		},
		{
			Name:   "the MFA session is gone",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password?mfaId=" + mfaID,
			Body: jsonBody(alicePass), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Invalid or expired MFA session.","status":400}`,
		},
	}
	for _, s := range second {
		s.Test(t)
	}
}

// storeOTP stores an OTP row with the code hashed as request-otp does.
func storeOTP(t testing.TB, app *core.App, id, collectionRef, recordRef, code, sentTo string, created time.Time) {
	t.Helper()
	hash, err := security.HashPassword(code, 8)
	if err != nil {
		t.Fatal(err)
	}
	at := core.FormatDateTime(created)
	execSQL(t, app, "INSERT INTO _otps (id, collectionRef, recordRef, password, sentTo, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
		id, collectionRef, recordRef, hash, sentTo, at, at)
}

func TestMFARule(t *testing.T) {
	withRule := func(collection, rule string) func(testing.TB, *core.App) {
		return func(t testing.TB, app *core.App) {
			execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.mfa.enabled', json('true'), '$.mfa.rule', ?) WHERE name = ?`, rule, collection)
		}
	}
	login := func(name, collection, identity, password, rule string, status int, content string) apitest.ApiScenario {
		return apitest.ApiScenario{
			Name: name, Method: http.MethodPost, URL: "/api/collections/" + collection + "/auth-with-password",
			Body:           jsonBody(`{"identity":"` + identity + `","password":"` + password + `"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp, BeforeTestFunc: withRule(collection, rule),
			ExpectedStatus: status, ExpectedContent: []string{content},
		}
	}
	const aliceOnly = "email = 'alice@example.com'"
	runSeq(t,
		login("the rule matches alice", "users", "alice@example.com", "alice-pass-123", aliceOnly, http.StatusUnauthorized, `{"mfaId":"`),
		login("the rule does not match bob", "users", "bob@example.com", "bob-pass-1234", aliceOnly, http.StatusOK, `"token":"`),
		// the rule sees the login request as it came: a guest's, with the route's context
		login("the requester is the guest, not the record", "users", "bob@example.com", "bob-pass-1234", "@request.auth.id = id", http.StatusOK, `"token":"`),
		login("the rule sees the request context", "users", "bob@example.com", "bob-pass-1234", "@request.context = 'password'", http.StatusUnauthorized, `{"mfaId":"`),
		login("the rule sees the request body", "users", "bob@example.com", "bob-pass-1234", "@request.body.identity = email", http.StatusUnauthorized, `{"mfaId":"`),
		login("superusers get no exception", "_superusers", "admin@example.com", "admin-pass-123", "id = 'nobody'", http.StatusOK, `"token":"`),
		login("a superuser rule that matches", "_superusers", "admin@example.com", "admin-pass-123", "email = 'admin@example.com'", http.StatusUnauthorized, `{"mfaId":"`),
		login("a broken rule fails the login", "users", "alice@example.com", "alice-pass-123", "nope ~~ 1", http.StatusBadRequest, `"message":"Failed to authenticate."`),
	)
}

func TestMFAOTPFirst(t *testing.T) {
	app := fixtureApp(t)
	enableOTP(t, app)
	execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.mfa.enabled', json('true')) WHERE name = 'users'`)
	storeOTP(t, app, "otp000000000001", "_pb_users_auth_", aliceID, "12345678", "alice@example.com", time.Now())

	var mfaID string
	runSeq(t, apitest.ApiScenario{
		Name: "the OTP as first factor answers 401 and uses the OTP up", Method: http.MethodPost, URL: "/api/collections/users/auth-with-otp",
		Body: jsonBody(`{"otpId":"otp000000000001","password":"12345678"}`), Headers: jsonHeaders,
		TestAppFactory: sharedApp(app),
		ExpectedStatus: http.StatusUnauthorized, ExpectedContent: []string{`{"mfaId":"`},
		AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
			var res struct {
				MFAID string `json:"mfaId"`
			}
			_ = json.Unmarshal(body, &res)
			mfaID = res.MFAID
			var method string
			if err := app.DB().Read().QueryRowContext(t.Context(), "SELECT method FROM _mfas WHERE id = ?", mfaID).Scan(&method); err != nil || method != "otp" {
				t.Fatalf("_mfas method = %q (%v)", method, err)
			}
			if n := countRows(t, app, "SELECT count(*) FROM _otps"); n != 0 {
				t.Errorf("_otps rows = %d, want the OTP deleted", n)
			}
		},
	})
	runSeq(t, apitest.ApiScenario{
		Name: "the password completes the login", Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
		Body: jsonBody(`{"identity":"alice@example.com","password":"alice-pass-123","mfaId":"` + mfaID + `"}`), Headers: jsonHeaders,
		TestAppFactory: sharedApp(app),
		ExpectedStatus: http.StatusOK, ExpectedContent: []string{`{"record":` + aliceRecordJSON},
	})
}

func TestAuthRuleSeesTheRequestContext(t *testing.T) {
	app := fixtureApp(t)
	enableOTP(t, app)
	execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.authRule', '@request.context = ''password''') WHERE name = 'users'`)
	storeOTP(t, app, "otp000000000001", "_pb_users_auth_", aliceID, "12345678", "", time.Now())

	runSeq(t,
		apitest.ApiScenario{
			Name: "a password login has the password context", Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: jsonBody(`{"identity":"alice@example.com","password":"alice-pass-123"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"token":"`},
		},
		apitest.ApiScenario{
			Name: "an OTP login has the otp context", Method: http.MethodPost, URL: "/api/collections/users/auth-with-otp",
			Body: jsonBody(`{"otpId":"otp000000000001","password":"12345678"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The request doesn't satisfy the collection requirements to authenticate.","status":403}`,
		},
	)
}

// TestAuthRuleSeesTheRequestBody checks that the authRule sees the login's body as
// @request.body, as PocketBase's request info does (JSON and multipart alike).
func TestAuthRuleSeesTheRequestBody(t *testing.T) {
	app := fixtureApp(t)
	execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.authRule', '@request.body.identityField = ''email''') WHERE name = 'users'`)

	runSeq(t,
		apitest.ApiScenario{
			Name: "a body the rule accepts", Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: jsonBody(`{"identity":"alice@example.com","password":"alice-pass-123","identityField":"email"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"token":"`},
		},
		apitest.ApiScenario{
			Name: "a body the rule refuses", Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: jsonBody(`{"identity":"alice@example.com","password":"alice-pass-123"}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The request doesn't satisfy the collection requirements to authenticate.","status":403}`,
		},
		apitest.ApiScenario{
			Name: "an urlencoded body the rule accepts", Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body:           strings.NewReader("identity=alice%40example.com&password=alice-pass-123&identityField=email"),
			Headers:        map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"token":"`},
		},
	)
}

// TestAuthRuleSeesInferredFormValues checks that @request.body holds a form body's values
// type-inferred, as PocketBase binds them (§1.5): "true" is the boolean true.
func TestAuthRuleSeesInferredFormValues(t *testing.T) {
	app := fixtureApp(t)
	execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.authRule', '@request.body.remember = true') WHERE name = 'users'`)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	const creds = "identity=alice%40example.com&password=alice-pass-123"

	runSeq(t,
		apitest.ApiScenario{
			Name: "an urlencoded true is a boolean", Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: strings.NewReader(creds + "&remember=true"), Headers: form,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"token":"`},
		},
		apitest.ApiScenario{
			Name: "a JSON true", Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: jsonBody(`{"identity":"alice@example.com","password":"alice-pass-123","remember":true}`), Headers: jsonHeaders,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"token":"`},
		},
		apitest.ApiScenario{
			Name: "another value", Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: strings.NewReader(creds + "&remember=yes"), Headers: form,
			TestAppFactory: sharedApp(app),
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The request doesn't satisfy the collection requirements to authenticate.","status":403}`,
		},
	)
}
