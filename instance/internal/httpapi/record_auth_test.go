package httpapi_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// Fixture accounts (shared/fixtures/pocketbase-v0.40/README.md).
const (
	aliceID = "w2bx8e6qg38uo33"
	bobID   = "lnunmjp2hn3cnvb"
	adminID = "52lyy8nw07kghoy"

	aliceRecordJSON = `{"avatar":"","collectionId":"_pb_users_auth_","collectionName":"users","created":"2026-11-27 02:58:55.116Z","email":"alice@example.com","emailVisibility":true,"id":"w2bx8e6qg38uo33","name":"Alice","updated":"2026-11-27 02:58:55.116Z","verified":true}`
	bobRecordJSON   = `{"avatar":"","collectionId":"_pb_users_auth_","collectionName":"users","created":"2026-11-27 02:58:55.236Z","email":"bob@example.com","emailVisibility":false,"id":"lnunmjp2hn3cnvb","name":"Bob","updated":"2026-11-27 02:58:55.236Z","verified":false}`
	adminRecordJSON = `{"collectionId":"pbc_3142635823","collectionName":"_superusers","created":"2026-11-27 02:58:53.287Z","email":"admin@example.com","emailVisibility":false,"id":"52lyy8nw07kghoy","updated":"2026-11-27 02:58:53.287Z","verified":true}`

	// tokenPrefix is the base64 of {"alg":"HS256","typ":"JWT"}.
	tokenPrefix = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."

	failedAuthBody = `{"data":{},"message":"Failed to authenticate.","status":400}`
	requiresAuth   = `{"data":{},"message":"The request requires valid record authorization token.","status":401}`
)

// fixtureApp opens a fresh copy of the PocketBase fixture. Every copy has the same
// tokenKeys and collection secrets, so tokens minted on one copy are valid on another.
func fixtureApp(t testing.TB) *core.App {
	return apitest.NewTestApp(t, apitest.CopyFixture(t))
}

func execSQL(t testing.TB, app *core.App, query string, args ...any) {
	t.Helper()
	if _, err := app.DB().Write().ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// tokens are tokens for the fixture's accounts, good and bad.
type tokens struct {
	alice, bob, admin             string
	aliceHour, bobHour, adminHour string // refreshable, but one hour only: a refresh must differ
	aliceStatic, aliceFile        string
	aliceExpired                  string
	aliceWrongKey                 string
	aliceAlgNone                  string
	aliceRS256                    string
	aliceHS512                    string
	aliceNoExp                    string
}

func newTokens(t *testing.T) tokens {
	t.Helper()
	app := fixtureApp(t)

	find := func(collection, id string) *core.Record {
		rec, err := app.FindRecordByID(t.Context(), collection, id)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	must := func(tok string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	alice, bob, admin := find("users", aliceID), find("users", bobID), find("_superusers", adminID)
	aliceKey := alice.TokenKey() + alice.Collection().Auth.AuthToken.Secret
	adminKey := admin.TokenKey() + admin.Collection().Auth.AuthToken.Secret
	hourToken := func(rec *core.Record, key string) string {
		return must(security.NewJWT(map[string]any{
			"id": rec.ID(), "type": "auth", "collectionId": rec.Collection().ID, "refreshable": true,
		}, key, time.Hour))
	}

	exp := time.Now().Add(time.Hour).Unix()
	claims := `{"collectionId":"_pb_users_auth_","exp":` + strconv.FormatInt(exp, 10) + `,"id":"w2bx8e6qg38uo33","refreshable":true,"type":"auth"}`

	return tokens{
		alice:         must(core.NewAuthToken(alice)),
		bob:           must(core.NewAuthToken(bob)),
		admin:         must(core.NewAuthToken(admin)),
		aliceHour:     hourToken(alice, aliceKey),
		adminHour:     hourToken(admin, adminKey),
		bobHour:       hourToken(bob, bob.TokenKey()+bob.Collection().Auth.AuthToken.Secret),
		aliceStatic:   must(core.NewStaticAuthToken(alice, time.Hour)),
		aliceFile:     must(core.NewFileToken(alice)),
		aliceExpired:  must(core.NewStaticAuthToken(alice, -time.Second)),
		aliceWrongKey: must(security.NewJWT(map[string]any{"id": aliceID, "type": "auth", "collectionId": "_pb_users_auth_", "refreshable": true}, aliceKey+"x", time.Hour)),
		aliceAlgNone:  craftToken(`{"alg":"none","typ":"JWT"}`, claims, ""),
		aliceRS256:    craftToken(`{"alg":"RS256","typ":"JWT"}`, claims, aliceKey),
		aliceHS512:    craftToken(`{"alg":"HS512","typ":"JWT"}`, claims, aliceKey),
		aliceNoExp:    craftToken(`{"alg":"HS256","typ":"JWT"}`, `{"collectionId":"_pb_users_auth_","id":"w2bx8e6qg38uo33","refreshable":true,"type":"auth"}`, aliceKey),
	}
}

// craftToken builds a token with any header, signed with HMAC-SHA256 under key (no
// signature when key is empty).
func craftToken(header, payload, key string) string {
	enc := base64.RawURLEncoding.EncodeToString
	signing := enc([]byte(header)) + "." + enc([]byte(payload))
	if key == "" {
		return signing + "."
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(signing))
	return signing + "." + enc(mac.Sum(nil))
}

// expectAuthResponse checks a successful auth response: PocketBase's key order, the
// exact record JSON, and a fresh refreshable token that authenticates recordID for
// about the collection's authToken.duration.
func expectAuthResponse(recordJSON, recordID string, duration time.Duration, notToken string) func(testing.TB, *core.App, *http.Response, []byte) {
	return func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
		prefix := `{"record":` + recordJSON + `,"token":"` + tokenPrefix
		if !strings.HasPrefix(string(body), prefix) {
			t.Fatalf("body = %s\nwant prefix %s", body, prefix)
		}
		var res struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		if res.Token == notToken {
			t.Errorf("token was not renewed")
		}
		rec, err := app.FindAuthRecordByToken(t.Context(), res.Token, core.TokenTypeAuth)
		if err != nil || rec.ID() != recordID {
			t.Fatalf("token authenticates %v (%v), want %s", rec, err, recordID)
		}
		claims, err := security.ParseUnverifiedJWT(res.Token)
		if err != nil {
			t.Fatal(err)
		}
		if claims["refreshable"] != true {
			t.Errorf("refreshable = %v, want true", claims["refreshable"])
		}
		exp, _ := claims["exp"].(float64)
		if want := float64(time.Now().Add(duration).Unix()); exp < want-60 || exp > want+1 {
			t.Errorf("exp = %.0f, want about %.0f", exp, want)
		}
	}
}

const (
	usersTokenDuration = 432000 * time.Second
	suTokenDuration    = 86400 * time.Second
)

// jsonHeaders is the Content-Type the SDK sends.
var jsonHeaders = map[string]string{"Content-Type": "application/json"}

func TestAuthWithPassword(t *testing.T) {
	tok := newTokens(t)

	const url = "/api/collections/users/auth-with-password"
	alicePass := `{"identity":"alice@example.com","password":"alice-pass-123"}`
	validationBody := func(data string) string {
		return `{"data":` + data + `,"message":"An error occurred while validating the submitted data.","status":400}`
	}

	scenarios := []apitest.ApiScenario{
		{
			Name:   "bootstrap superuser on an empty data directory",
			Method: http.MethodPost, URL: "/api/collections/_superusers/auth-with-password",
			Body:    strings.NewReader(`{"identity":"root@example.com","password":"root-pass-123"}`),
			Headers: jsonHeaders,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				if _, err := app.UpsertSuperuser(t.Context(), "root@example.com", "root-pass-123"); err != nil {
					t.Fatal(err)
				}
			},
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				`{"record":{"collectionId":"pbc_3142635823","collectionName":"_superusers","created":"`,
				`"email":"root@example.com","emailVisibility":false,"id":"`,
				`"verified":true},"token":"` + tokenPrefix,
			},
			NotExpectedContent: []string{`"password"`, `"tokenKey"`},
			ExpectedHeaders:    withSecurityHeaders(map[string]string{"Content-Type": "application/json"}),
		},
		{
			Name:   "fixture superuser",
			Method: http.MethodPost, URL: "/api/collections/_superusers/auth-with-password",
			Body:           strings.NewReader(`{"identity":"admin@example.com","password":"admin-pass-123"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusOK,
			ExpectedContent: []string{
				`{"record":` + adminRecordJSON + `,"token":"`,
			},
			AfterTestFunc: expectAuthResponse(adminRecordJSON, adminID, suTokenDuration, ""),
		},
		{
			Name:   "alice",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
			AfterTestFunc:   expectAuthResponse(aliceRecordJSON, aliceID, usersTokenDuration, ""),
		},
		{
			Name:   "bob gets his email in the auth response although it is hidden from others",
			Method: http.MethodPost, URL: url,
			Body:            strings.NewReader(`{"identity":"bob@example.com","password":"bob-pass-1234"}`),
			Headers:         jsonHeaders,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + bobRecordJSON},
			AfterTestFunc:   expectAuthResponse(bobRecordJSON, bobID, usersTokenDuration, ""),
		},
		{
			Name:   "collection by id, unknown query parameters ignored",
			Method: http.MethodPost, URL: "/api/collections/_pb_users_auth_/auth-with-password?autoRefresh=true&foo=bar",
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
		{
			Name:   "collection name in another case",
			Method: http.MethodPost, URL: "/api/collections/Users/auth-with-password",
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
		{
			Name:   "form keys match case-insensitively",
			Method: http.MethodPost, URL: url,
			Body:            strings.NewReader(`{"IDENTITY":"alice@example.com","Password":"alice-pass-123"}`),
			Headers:         jsonHeaders,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
		{
			Name:   "urlencoded body",
			Method: http.MethodPost, URL: url,
			Body:            strings.NewReader(`identity=alice%40example.com&password=alice-pass-123`),
			Headers:         map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
		{
			Name:   "multipart body with @jsonPayload",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader("--XX\r\nContent-Disposition: form-data; name=\"identity\"\r\n\r\nnobody@example.com\r\n" +
				"--XX\r\nContent-Disposition: form-data; name=\"@jsonPayload\"\r\n\r\n" + alicePass + "\r\n--XX--\r\n"),
			Headers:         map[string]string{"Content-Type": "multipart/form-data; boundary=XX"},
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
		{
			Name:   "urlencoded body with the password in the query",
			Method: http.MethodPost, URL: url + "?password=alice-pass-123",
			Body:            strings.NewReader(`identity=alice%40example.com`),
			Headers:         map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
		{
			Name:   "JSON with trailing data",
			Method: http.MethodPost, URL: url,
			Body:            strings.NewReader(alicePass + ` trailing`),
			Headers:         jsonHeaders,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
		{
			Name:   "JSON with a repeated name",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"x","identity":"alice@example.com","password":"alice-pass-123"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"An error occurred while loading the submitted data.","status":400}`,
		},
		{
			Name:   "upper-case JSON Content-Type",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(alicePass),
			Headers:        map[string]string{"Content-Type": "APPLICATION/JSON"},
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Unsupported Content-Type.","status":400}`,
		},
		{
			// PocketBase binds the form by Go field names, then fails reading the XML
			// body as @request.body
			Name:   "XML body",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`<form><Identity>alice@example.com</Identity><Password>alice-pass-123</Password></form>`),
			Headers:        map[string]string{"Content-Type": "application/xml"},
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Something went wrong while processing your request.","status":400}`,
		},
		{
			Name:   "wrong password",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"alice@example.com","password":"wrong-pass-123"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   failedAuthBody,
		},
		{
			Name:   "unknown identity gets the same answer as a wrong password",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"mallory@example.com","password":"alice-pass-123"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   failedAuthBody,
		},
		{
			Name:   "superuser password does not open the users collection",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"admin@example.com","password":"admin-pass-123"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   failedAuthBody,
		},
		{
			Name:   "non-email identity with only the email identity field",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"Alice","password":"alice-pass-123"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   failedAuthBody,
		},
		{
			Name:   "email case matters without a NOCASE index",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"ALICE@example.com","password":"alice-pass-123"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   failedAuthBody,
		},
		{
			Name:   "email case is ignored with a COLLATE NOCASE unique index",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"ALICE@Example.COM","password":"alice-pass-123"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, "UPDATE _collections SET indexes = ? WHERE name = 'users'",
					"[\"CREATE UNIQUE INDEX `idx_tokenKey__pb_users_auth_` ON `users` (`tokenKey`)\","+
						"\"CREATE UNIQUE INDEX `idx_email__pb_users_auth_` ON `users` (`email` COLLATE NOCASE) WHERE `email` != ''\"]")
			},
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
		{
			Name:   "another identity field with a unique index",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"Bob","password":"bob-pass-1234"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.passwordAuth.identityFields', json('["email","name"]')), `+
					`indexes = json_insert(indexes, '$[#]', 'CREATE UNIQUE INDEX idx_users_name ON users (name)') WHERE name = 'users'`)
			},
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + bobRecordJSON},
		},
		{
			Name:   "an email-shaped identity is looked up by the other identity fields when email is not one",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"bob@alias.test","password":"bob-pass-1234"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE users SET name = 'bob@alias.test' WHERE id = ?`, bobID)
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.passwordAuth.identityFields', json('["name"]')), `+
					`indexes = json_insert(indexes, '$[#]', 'CREATE UNIQUE INDEX idx_users_name ON users (name)') WHERE name = 'users'`)
			},
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"email":"bob@example.com","emailVisibility":false,"id":"` + bobID + `"`},
		},
		{
			Name:   "email is tried first whatever the order of the identity fields",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"bob@example.com","password":"bob-pass-1234"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				// alice's name is bob's email: a lookup by name first would find alice
				execSQL(t, app, `UPDATE users SET name = 'bob@example.com' WHERE id = ?`, aliceID)
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.passwordAuth.identityFields', json('["name","email"]')), `+
					`indexes = json_insert(indexes, '$[#]', 'CREATE UNIQUE INDEX idx_users_name ON users (name)') WHERE name = 'users'`)
			},
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + bobRecordJSON},
		},
		{
			Name:   "explicit identityField",
			Method: http.MethodPost, URL: url,
			Body:            strings.NewReader(`{"identity":"alice@example.com","password":"alice-pass-123","identityField":"email"}`),
			Headers:         jsonHeaders,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
		{
			Name:   "identityField that is not an identity field",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"Alice","password":"alice-pass-123","identityField":"name"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   validationBody(`{"identityField":{"code":"validation_in_invalid","message":"Must be a valid value."}}`),
		},
		{
			Name:   "identity field without a unique index is a server error",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"Alice","password":"alice-pass-123"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.passwordAuth.identityFields', json('["email","name"]')) WHERE name = 'users'`)
			},
			ExpectedStatus: http.StatusInternalServerError,
			ExpectedBody:   `{"data":{},"message":"Something went wrong while processing your request.","status":500}`,
		},
		{
			Name:   "empty body",
			Method: http.MethodPost, URL: url,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: validationBody(`{"identity":{"code":"validation_required","message":"Cannot be blank."},` +
				`"password":{"code":"validation_required","message":"Cannot be blank."}}`),
		},
		{
			Name:   "too long identity",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":"` + strings.Repeat("é", 256) + `","password":"x"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   validationBody(`{"identity":{"code":"validation_length_out_of_range","message":"The length must be between 1 and 255.","params":{"max":255,"min":1}}}`),
		},
		{
			Name:   "invalid JSON",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(`{"identity":`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"An error occurred while loading the submitted data.","status":400}`,
		},
		{
			Name:   "unsupported Content-Type",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(alicePass),
			Headers:        map[string]string{"Content-Type": "text/plain"},
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Unsupported Content-Type.","status":400}`,
		},
		{
			Name:   "disabled password auth",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.passwordAuth.enabled', json('false')) WHERE name = 'users'`)
			},
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The collection is not configured to allow password authentication.","status":403}`,
		},
		{
			Name:   "authRule null refuses a guest",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.authRule', json('null')) WHERE name = 'users'`)
			},
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The request doesn't satisfy the collection requirements to authenticate.","status":403}`,
		},
		{
			Name:   "authRule null lets a superuser log in as a user",
			Method: http.MethodPost, URL: url,
			Body:           strings.NewReader(alicePass),
			Headers:        map[string]string{"Content-Type": "application/json", "Authorization": tok.admin},
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.authRule', json('null')) WHERE name = 'users'`)
			},
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
		{
			Name:   "authRule expression matched",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.authRule', 'verified = true') WHERE name = 'users'`)
			},
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
		{
			Name:   "authRule expression not matched",
			Method: http.MethodPost, URL: url,
			Body: strings.NewReader(`{"identity":"bob@example.com","password":"bob-pass-1234"}`), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.authRule', 'verified = true') WHERE name = 'users'`)
			},
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The request doesn't satisfy the collection requirements to authenticate.","status":403}`,
		},
		{
			Name:   "unknown collection",
			Method: http.MethodPost, URL: "/api/collections/missing/auth-with-password",
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"Missing or invalid collection context.","status":404}`,
		},
		{
			Name:   "base collection",
			Method: http.MethodPost, URL: "/api/collections/posts/auth-with-password",
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"Missing or invalid auth collection context.","status":404}`,
		},
		{
			Name:   "GET falls through to the catch-all",
			Method: http.MethodGet, URL: url,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   notFoundBody,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestAuthWithPasswordMFA(t *testing.T) {
	enableMFA := func(t testing.TB, app *core.App) {
		execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.mfa.enabled', json('true')) WHERE name = 'users'`)
	}
	alicePass := `{"identity":"alice@example.com","password":"alice-pass-123"}`

	scenarios := []apitest.ApiScenario{
		{
			Name:   "first factor answers 401 with an mfaId",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory:  fixtureApp,
			BeforeTestFunc:  enableMFA,
			ExpectedStatus:  http.StatusUnauthorized,
			ExpectedContent: []string{`{"mfaId":"`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
				var res struct {
					MFAID string `json:"mfaId"`
				}
				if err := json.Unmarshal(body, &res); err != nil || len(res.MFAID) != 15 {
					t.Fatalf("body = %s (%v)", body, err)
				}
				var recordRef, method string
				err := app.DB().Read().QueryRowContext(t.Context(), "SELECT recordRef, method FROM _mfas WHERE id = ?", res.MFAID).Scan(&recordRef, &method)
				if err != nil || recordRef != aliceID || method != "password" {
					t.Fatalf("_mfas row = %q %q (%v)", recordRef, method, err)
				}
			},
		},
		{
			Name:   "a second password factor is refused",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password?mfaId=mfa000000000001",
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				enableMFA(t, app)
				now := core.FormatDateTime(time.Now())
				execSQL(t, app, "INSERT INTO _mfas (id, collectionRef, recordRef, method, created, updated) VALUES ('mfa000000000001', '_pb_users_auth_', ?, 'password', ?, ?)", aliceID, now, now)
			},
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"A different authentication method is required.","status":400}`,
		},
		{
			Name:   "an mfaId of another record",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body:           strings.NewReader(`{"identity":"alice@example.com","password":"alice-pass-123","mfaId":"mfa000000000001"}`),
			Headers:        jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				enableMFA(t, app)
				now := core.FormatDateTime(time.Now())
				execSQL(t, app, "INSERT INTO _mfas (id, collectionRef, recordRef, method, created, updated) VALUES ('mfa000000000001', '_pb_users_auth_', ?, 'otp', ?, ?)", bobID, now, now)
			},
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Invalid MFA session.","status":400}`,
		},
		{
			Name:   "an unknown mfaId",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password?mfaId=nope",
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: enableMFA,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Invalid or expired MFA session.","status":400}`,
		},
		{
			Name:   "an expired mfaId is deleted",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password?mfaId=mfa000000000001",
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				enableMFA(t, app)
				old := core.FormatDateTime(time.Now().Add(-time.Hour))
				execSQL(t, app, "INSERT INTO _mfas (id, collectionRef, recordRef, method, created, updated) VALUES ('mfa000000000001', '_pb_users_auth_', ?, 'otp', ?, ?)", aliceID, old, old)
			},
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Invalid or expired MFA session.","status":400}`,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				var n int
				if err := app.DB().Read().QueryRowContext(t.Context(), "SELECT count(*) FROM _mfas").Scan(&n); err != nil || n != 0 {
					t.Fatalf("_mfas rows = %d (%v), want 0", n, err)
				}
			},
		},
		{
			Name:   "a second factor of another method completes the login",
			Method: http.MethodPost, URL: "/api/collections/users/auth-with-password?mfaId=mfa000000000001",
			Body: strings.NewReader(alicePass), Headers: jsonHeaders,
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				enableMFA(t, app)
				now := core.FormatDateTime(time.Now())
				execSQL(t, app, "INSERT INTO _mfas (id, collectionRef, recordRef, method, created, updated) VALUES ('mfa000000000001', '_pb_users_auth_', ?, 'otp', ?, ?)", aliceID, now, now)
			},
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestAuthRefresh(t *testing.T) {
	tok := newTokens(t)

	const url = "/api/collections/users/auth-refresh"
	auth := func(token string) map[string]string { return map[string]string{"Authorization": token} }
	unauthorized := func(name, token string) apitest.ApiScenario {
		return apitest.ApiScenario{
			Name: name, Method: http.MethodPost, URL: url, Headers: auth(token),
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusUnauthorized,
			ExpectedBody:   requiresAuth,
		}
	}

	scenarios := []apitest.ApiScenario{
		{
			Name: "alice, bare token as the SDK sends it", Method: http.MethodPost, URL: url, Headers: auth(tok.aliceHour),
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":`},
			AfterTestFunc:   expectAuthResponse(aliceRecordJSON, aliceID, usersTokenDuration, tok.aliceHour),
		},
		{
			Name: "Bearer prefix", Method: http.MethodPost, URL: url, Headers: auth("Bearer " + tok.aliceHour),
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":`},
			AfterTestFunc:   expectAuthResponse(aliceRecordJSON, aliceID, usersTokenDuration, tok.aliceHour),
		},
		{
			Name: "bearer prefix in any case", Method: http.MethodPost, URL: url, Headers: auth("bEaReR " + tok.bobHour),
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":`},
			AfterTestFunc:   expectAuthResponse(bobRecordJSON, bobID, usersTokenDuration, tok.bobHour),
		},
		{
			Name: "superuser", Method: http.MethodPost, URL: "/api/collections/_superusers/auth-refresh", Headers: auth(tok.adminHour),
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":`},
			AfterTestFunc:   expectAuthResponse(adminRecordJSON, adminID, suTokenDuration, tok.adminHour),
		},
		{
			Name: "a non-refreshable token is echoed back", Method: http.MethodPost, URL: url, Headers: auth(tok.aliceStatic),
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   `{"record":` + aliceRecordJSON + `,"token":"` + tok.aliceStatic + `"}`,
		},
		{
			Name: "collection by id", Method: http.MethodPost, URL: "/api/collections/_pb_users_auth_/auth-refresh", Headers: auth(tok.alice),
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
		unauthorized("guest", ""),
		unauthorized("expired token", tok.aliceExpired),
		unauthorized("file token", tok.aliceFile),
		unauthorized("alg none", tok.aliceAlgNone),
		unauthorized("RS256 header signed with the HMAC key", tok.aliceRS256),
		unauthorized("HS512", tok.aliceHS512),
		unauthorized("token without exp", tok.aliceNoExp),
		unauthorized("wrong key", tok.aliceWrongKey),
		unauthorized("Bearer without a token", "Bearer "),
		unauthorized("garbage", "Bearer garbage"),
		{
			Name: "token of another collection", Method: http.MethodPost, URL: "/api/collections/_superusers/auth-refresh", Headers: auth(tok.alice),
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The request requires auth record from users collection.","status":403}`,
		},
		{
			Name: "superuser token on users", Method: http.MethodPost, URL: url, Headers: auth(tok.admin),
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The request requires auth record from _superusers collection.","status":403}`,
		},
		{
			Name: "base collection", Method: http.MethodPost, URL: "/api/collections/posts/auth-refresh", Headers: auth(tok.alice),
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The request requires auth record from users collection.","status":403}`,
		},
		{
			Name: "unknown collection is checked before auth", Method: http.MethodPost, URL: "/api/collections/missing/auth-refresh",
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"Missing or invalid collection context.","status":404}`,
		},
		{
			Name: "a new tokenKey invalidates older tokens", Method: http.MethodPost, URL: url, Headers: auth(tok.alice),
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, "UPDATE users SET tokenKey = 'renewed-token-key-0123456789abcdefghijklmnopqrstu' WHERE id = ?", aliceID)
			},
			ExpectedStatus: http.StatusUnauthorized,
			ExpectedBody:   requiresAuth,
		},
		{
			Name: "a new collection secret invalidates older tokens", Method: http.MethodPost, URL: url, Headers: auth(tok.alice),
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.authToken.secret', 'renewed-secret-0123456789abcdefghijklmnopqrstuvwxyz') WHERE name = 'users'`)
			},
			ExpectedStatus: http.StatusUnauthorized,
			ExpectedBody:   requiresAuth,
		},
		{
			Name: "a superuser password change invalidates older tokens", Method: http.MethodPost, URL: "/api/collections/_superusers/auth-refresh", Headers: auth(tok.admin),
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				if _, err := app.UpdateSuperuserPassword(t.Context(), "admin@example.com", "changed-pass-123"); err != nil {
					t.Fatal(err)
				}
			},
			ExpectedStatus: http.StatusUnauthorized,
			ExpectedBody:   requiresAuth,
		},
		{
			Name: "a deleted record's token", Method: http.MethodPost, URL: url, Headers: auth(tok.bob),
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, "DELETE FROM users WHERE id = ?", bobID)
			},
			ExpectedStatus: http.StatusUnauthorized,
			ExpectedBody:   requiresAuth,
		},
		{
			Name: "the authRule is checked again", Method: http.MethodPost, URL: url, Headers: auth(tok.alice),
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.authRule', json('null')) WHERE name = 'users'`)
			},
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The request doesn't satisfy the collection requirements to authenticate.","status":403}`,
		},
		{
			Name: "MFA does not apply to a refresh", Method: http.MethodPost, URL: url, Headers: auth(tok.alice),
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.mfa.enabled', json('true')) WHERE name = 'users'`)
			},
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestHealthForSuperusers(t *testing.T) {
	tok := newTokens(t)

	scenarios := []apitest.ApiScenario{
		{
			Name: "superuser", Method: http.MethodGet, URL: "/api/health",
			Headers:        map[string]string{"Authorization": tok.admin},
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   `{"message":"API is healthy.","code":200,"data":{"canBackup":true,"possibleProxyHeader":"","realIP":"127.0.0.1"}}`,
		},
		{
			Name: "superuser behind a proxy", Method: http.MethodGet, URL: "/api/health",
			Headers:        map[string]string{"Authorization": "Bearer " + tok.admin, "X-Forwarded-For": "203.0.113.9", "Fly-Client-IP": "203.0.113.9"},
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   `{"message":"API is healthy.","code":200,"data":{"canBackup":true,"possibleProxyHeader":"Fly-Client-IP","realIP":"127.0.0.1"}}`,
		},
		{
			Name: "regular user", Method: http.MethodGet, URL: "/api/health",
			Headers:        map[string]string{"Authorization": tok.alice},
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   healthBody,
		},
		{
			Name: "expired superuser token", Method: http.MethodGet, URL: "/api/health",
			Headers:        map[string]string{"Authorization": tok.aliceExpired},
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   healthBody,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}
