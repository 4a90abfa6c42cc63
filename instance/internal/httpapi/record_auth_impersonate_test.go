package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// expectStaticToken checks an impersonate response: the record JSON and a
// non-refreshable token for recordID lasting about duration.
func expectStaticToken(recordJSON, recordID string, duration time.Duration) func(testing.TB, *core.App, *http.Response, []byte) {
	return func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
		var res struct {
			Record json.RawMessage `json:"record"`
			Token  string          `json:"token"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		if string(res.Record) != recordJSON {
			t.Errorf("record = %s\nwant %s", res.Record, recordJSON)
		}
		rec, err := app.FindAuthRecordByToken(t.Context(), res.Token, core.TokenTypeAuth)
		if err != nil || rec.ID() != recordID {
			t.Fatalf("token authenticates %v (%v), want %s", rec, err, recordID)
		}
		claims, err := security.ParseUnverifiedJWT(res.Token)
		if err != nil {
			t.Fatal(err)
		}
		if claims["refreshable"] != false {
			t.Errorf("refreshable = %v, want false", claims["refreshable"])
		}
		exp, _ := claims["exp"].(float64)
		if want := float64(time.Now().Add(duration).Unix()); exp < want-60 || exp > want+1 {
			t.Errorf("exp = %.0f, want about %.0f", exp, want)
		}
	}
}

func TestRecordImpersonate(t *testing.T) {
	tok := newTokens(t)
	su := map[string]string{"Authorization": tok.admin, "Content-Type": "application/json"}

	scenarios := []apitest.ApiScenario{
		{
			Name:   "guest",
			Method: http.MethodPost, URL: "/api/collections/users/impersonate/" + aliceID,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusUnauthorized,
			ExpectedBody:   requiresAuth,
		},
		{
			Name:   "a regular user",
			Method: http.MethodPost, URL: "/api/collections/users/impersonate/" + bobID,
			Headers:        map[string]string{"Authorization": tok.alice},
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusForbidden,
			ExpectedBody:   `{"data":{},"message":"The authorized record is not allowed to perform this action.","status":403}`,
		},
		{
			// unlike the other auth routes, no rate limit middleware resolves the
			// collection first: the superuser check comes first
			Name:   "missing collection as a guest",
			Method: http.MethodPost, URL: "/api/collections/missing/impersonate/" + aliceID,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusUnauthorized,
			ExpectedBody:   requiresAuth,
		},
		{
			Name:   "missing collection",
			Method: http.MethodPost, URL: "/api/collections/missing/impersonate/" + aliceID,
			Headers:        su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"Missing or invalid auth collection context.","status":404}`,
		},
		{
			Name:   "not an auth collection",
			Method: http.MethodPost, URL: "/api/collections/posts/impersonate/" + aliceID,
			Headers:        su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"Missing or invalid auth collection context.","status":404}`,
		},
		{
			Name:   "unknown record",
			Method: http.MethodPost, URL: "/api/collections/users/impersonate/missing",
			Headers:        su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"The requested resource wasn't found.","status":404}`,
		},
		{
			Name:   "negative duration",
			Method: http.MethodPost, URL: "/api/collections/users/impersonate/" + aliceID,
			Body: jsonBody(`{"duration":-1}`), Headers: su,
			TestAppFactory: fixtureApp,
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody: `{"data":{"duration":{"code":"validation_min_greater_equal_than_required","message":"Must be no less than 0.","params":{"threshold":0}}},` +
				`"message":"An error occurred while validating the submitted data.","status":400}`,
		},
		{
			Name:   "alice for 100 seconds",
			Method: http.MethodPost, URL: "/api/collections/users/impersonate/" + aliceID,
			Body: jsonBody(`{"duration":100}`), Headers: su,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`{"record":` + aliceRecordJSON + `,"token":"` + tokenPrefix},
			AfterTestFunc:   expectStaticToken(aliceRecordJSON, aliceID, 100*time.Second),
		},
		{
			Name:   "without a body: the collection's authToken duration",
			Method: http.MethodPost, URL: "/api/collections/users/impersonate/" + bobID,
			Headers:         map[string]string{"Authorization": tok.admin},
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"token":"`},
			AfterTestFunc:   expectStaticToken(bobRecordJSON, bobID, usersTokenDuration),
		},
		{
			Name:   "a superuser (PocketBase's API keys), hidden fields included",
			Method: http.MethodPost, URL: "/api/collections/_superusers/impersonate/" + adminID,
			Body: jsonBody(`{"duration":31536000}`), Headers: su,
			TestAppFactory:  fixtureApp,
			ExpectedStatus:  http.StatusOK,
			ExpectedContent: []string{`"token":"`},
			AfterTestFunc:   expectStaticToken(adminRecordJSON, adminID, 31536000*time.Second),
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestRecordImpersonateTokenIsNotRefreshed(t *testing.T) {
	token := flowToken(t, "users", aliceID, func(r *core.Record) (string, error) { return core.NewStaticAuthToken(r, time.Hour) })
	s := apitest.ApiScenario{
		Name:   "auth-refresh echoes a static token",
		Method: http.MethodPost, URL: "/api/collections/users/auth-refresh",
		Headers:         map[string]string{"Authorization": token},
		TestAppFactory:  fixtureApp,
		ExpectedStatus:  http.StatusOK,
		ExpectedContent: []string{`"token":"` + token + `"`},
	}
	s.Test(t)
}
