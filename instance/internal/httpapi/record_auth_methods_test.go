package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func TestRecordAuthMethods(t *testing.T) {
	scenarios := []apitest.ApiScenario{
		{
			Name:   "users: email and password only",
			Method: http.MethodGet, URL: "/api/collections/users/auth-methods",
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusOK,
			ExpectedBody: `{"password":{"identityFields":["email"],"enabled":true},"oauth2":{"providers":[],"enabled":false},` +
				`"mfa":{"enabled":false,"duration":0},"otp":{"enabled":false,"duration":0},` +
				`"authProviders":[],"usernamePassword":false,"emailPassword":true}`,
		},
		{
			Name:   "by id, with mfa, otp and oauth2 on and a username identity",
			Method: http.MethodGet, URL: "/api/collections/_pb_users_auth_/auth-methods",
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.mfa.enabled', json('true'), '$.otp.enabled', json('true'), `+
					`'$.oauth2.enabled', json('true'), '$.passwordAuth.identityFields', json('["email","username"]')) WHERE name = 'users'`)
			},
			ExpectedStatus: http.StatusOK,
			ExpectedBody: `{"password":{"identityFields":["email","username"],"enabled":true},"oauth2":{"providers":[],"enabled":true},` +
				`"mfa":{"enabled":true,"duration":600},"otp":{"enabled":true,"duration":180},` +
				`"authProviders":[],"usernamePassword":true,"emailPassword":true}`,
		},
		{
			Name:   "password auth disabled",
			Method: http.MethodGet, URL: "/api/collections/users/auth-methods",
			TestAppFactory: fixtureApp,
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				execSQL(t, app, `UPDATE _collections SET options = json_set(options, '$.passwordAuth.enabled', json('false')) WHERE name = 'users'`)
			},
			ExpectedStatus: http.StatusOK,
			ExpectedBody: `{"password":{"identityFields":[],"enabled":false},"oauth2":{"providers":[],"enabled":false},` +
				`"mfa":{"enabled":false,"duration":0},"otp":{"enabled":false,"duration":0},` +
				`"authProviders":[],"usernamePassword":false,"emailPassword":false}`,
		},
		{
			Name:   "the SDK's fields",
			Method: http.MethodGet, URL: "/api/collections/users/auth-methods?fields=mfa,otp,password,oauth2",
			TestAppFactory:     fixtureApp,
			ExpectedStatus:     http.StatusOK,
			ExpectedContent:    []string{`"password":{`, `"otp":{`},
			NotExpectedContent: []string{`authProviders`, `emailPassword`},
		},
		{
			Name:   "HEAD",
			Method: http.MethodHead, URL: "/api/collections/users/auth-methods",
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusOK,
		},
		{
			Name:   "not an auth collection",
			Method: http.MethodGet, URL: "/api/collections/posts/auth-methods",
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"Missing or invalid auth collection context.","status":404}`,
		},
		{
			Name:   "missing collection",
			Method: http.MethodGet, URL: "/api/collections/missing/auth-methods",
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"Missing or invalid collection context.","status":404}`,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}
