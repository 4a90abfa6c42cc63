package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

const tooManyRequestsBody = `{"data":{},"message":"Too Many Requests.","status":429}`

// withSettings returns an app factory of a fixture copy whose settings are changed by
// edit, shared by every scenario that uses it.
func withSettings(t *testing.T, edit func(*core.Settings)) func(testing.TB) *core.App {
	t.Helper()
	app := fixtureApp(t)
	settings := app.Settings()
	edit(settings)
	if err := app.SaveSettings(t.Context(), settings); err != nil {
		t.Fatal(err)
	}
	return sharedApp(app)
}

func rateLimits(rules ...core.RateLimitRule) func(*core.Settings) {
	return func(s *core.Settings) {
		s.RateLimits.Enabled = true
		s.RateLimits.Rules = rules
	}
}

// runSeq runs the scenarios in order, n times each.
func runSeq(t *testing.T, steps ...apitest.ApiScenario) {
	t.Helper()
	for _, s := range steps {
		s.Test(t)
	}
}

func TestRateLimitBruteForce(t *testing.T) {
	// The default rules of a new install: *:auth allows 2 logins per 3 s.
	factory := withSettings(t, func(s *core.Settings) {
		s.RateLimits = core.DefaultSettings().RateLimits
		s.RateLimits.Enabled = true
	})
	attempt := func(name string, status int, body string) apitest.ApiScenario {
		return apitest.ApiScenario{
			Name: name, Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: jsonBody(`{"identity":"alice@example.com","password":"guess"}`), Headers: jsonHeaders,
			TestAppFactory: factory, ExpectedStatus: status, ExpectedBody: body,
		}
	}
	runSeq(t,
		attempt("first guess", http.StatusBadRequest, failedAuthBody),
		attempt("second guess", http.StatusBadRequest, failedAuthBody),
		attempt("third guess is limited", http.StatusTooManyRequests, tooManyRequestsBody),
		apitest.ApiScenario{
			Name: "the OTP login shares the *:auth rule but has its own counter", Method: http.MethodPost,
			URL: "/api/collections/users/auth-with-otp", Body: jsonBody(`{}`), Headers: jsonHeaders,
			TestAppFactory: factory, ExpectedStatus: http.StatusForbidden,
			ExpectedContent: []string{"OTP authentication"},
		},
		apitest.ApiScenario{
			Name: "other routes fall under /api/", Method: http.MethodGet, URL: "/api/health",
			TestAppFactory: factory, ExpectedStatus: http.StatusOK, ExpectedContent: []string{"API is healthy."},
		},
	)
}

func TestRateLimitRules(t *testing.T) {
	tok := newTokens(t)
	login := `{"identity":"alice@example.com","password":"alice-pass-123"}`
	health := func(name string, headers map[string]string, factory func(testing.TB) *core.App, status int) apitest.ApiScenario {
		s := apitest.ApiScenario{
			Name: name, Method: http.MethodGet, URL: "/api/health", Headers: headers,
			TestAppFactory: factory, ExpectedStatus: status,
		}
		if status == http.StatusTooManyRequests {
			s.ExpectedBody = tooManyRequestsBody
		} else {
			s.ExpectedContent = []string{"API is healthy."}
		}
		return s
	}

	t.Run("disabled limits count nothing", func(t *testing.T) {
		f := withSettings(t, func(s *core.Settings) {
			s.RateLimits.Rules = []core.RateLimitRule{{Label: "/api/", MaxRequests: 1, Duration: 60}}
		})
		runSeq(t, health("1", nil, f, 200), health("2", nil, f, 200))
	})
	t.Run("path prefix rule", func(t *testing.T) {
		f := withSettings(t, rateLimits(core.RateLimitRule{Label: "/api/", MaxRequests: 1, Duration: 60}))
		runSeq(t, health("1", nil, f, 200), health("2", nil, f, 429))
	})
	t.Run("method and exact path rule", func(t *testing.T) {
		f := withSettings(t, rateLimits(
			core.RateLimitRule{Label: "POST /api/health", MaxRequests: 1, Duration: 60},
			core.RateLimitRule{Label: "GET /api/health", MaxRequests: 2, Duration: 60},
		))
		runSeq(t, health("1", nil, f, 200), health("2", nil, f, 200), health("3", nil, f, 429))
	})
	t.Run("collection tag beats the wildcard tag", func(t *testing.T) {
		f := withSettings(t, rateLimits(
			core.RateLimitRule{Label: "*:auth", MaxRequests: 1, Duration: 60},
			core.RateLimitRule{Label: "users:authWithPassword", MaxRequests: 2, Duration: 60},
		))
		ok := apitest.ApiScenario{
			Name: "login", Method: http.MethodPost, URL: "/api/collections/users/auth-with-password",
			Body: jsonBody(login), Headers: jsonHeaders, TestAppFactory: f,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"token":"`},
		}
		limited := ok
		limited.Name, limited.Body, limited.ExpectedStatus, limited.ExpectedContent, limited.ExpectedBody = "login limited", jsonBody(login), 429, nil, tooManyRequestsBody
		second := ok
		second.Body = jsonBody(login)
		runSeq(t, ok, second, limited)
	})
	t.Run("audiences", func(t *testing.T) {
		f := withSettings(t, rateLimits(
			core.RateLimitRule{Label: "/api/health", Audience: core.RateLimitAudienceAuth, MaxRequests: 1, Duration: 60},
			core.RateLimitRule{Label: "/api/", Audience: core.RateLimitAudienceGuest, MaxRequests: 2, Duration: 60},
		))
		alice := map[string]string{"Authorization": tok.alice}
		runSeq(t,
			health("guest 1", nil, f, 200), health("guest 2", nil, f, 200), health("guest 3", nil, f, 429),
			health("auth 1", alice, f, 200), health("auth 2", alice, f, 429),
		)
	})
	t.Run("superusers and excluded IPs are never limited", func(t *testing.T) {
		f := withSettings(t, rateLimits(core.RateLimitRule{Label: "/api/", MaxRequests: 1, Duration: 60}))
		admin := map[string]string{"Authorization": tok.admin}
		runSeq(t, health("su 1", admin, f, 200), health("su 2", admin, f, 200), health("guest 1", nil, f, 200), health("guest 2", nil, f, 429))

		ex := withSettings(t, func(s *core.Settings) {
			rateLimits(core.RateLimitRule{Label: "/api/", MaxRequests: 1, Duration: 60})(s)
			s.RateLimits.ExcludedIPs = []string{"127.0.0.0/8"}
		})
		runSeq(t, health("excluded 1", nil, ex, 200), health("excluded 2", nil, ex, 200))
	})
	t.Run("clients are counted by their real IP", func(t *testing.T) {
		f := withSettings(t, func(s *core.Settings) {
			rateLimits(core.RateLimitRule{Label: "/api/", MaxRequests: 1, Duration: 60})(s)
			s.TrustedProxy.Headers = []string{"X-Forwarded-For"}
		})
		a := map[string]string{"X-Forwarded-For": "203.0.113.1"}
		b := map[string]string{"X-Forwarded-For": "203.0.113.2"}
		runSeq(t, health("a 1", a, f, 200), health("b 1", b, f, 200), health("a 2", a, f, 429))
	})
	t.Run("unknown collection", func(t *testing.T) {
		f := withSettings(t, rateLimits(core.RateLimitRule{Label: "/api/", MaxRequests: 1, Duration: 60}))
		runSeq(t, apitest.ApiScenario{
			Name: "404", Method: http.MethodPost, URL: "/api/collections/nope/auth-with-password",
			TestAppFactory: f, ExpectedStatus: http.StatusNotFound,
			ExpectedBody: `{"data":{},"message":"Missing or invalid collection context.","status":404}`,
		})
	})
}

func TestSuperuserIPs(t *testing.T) {
	tok := newTokens(t)
	restricted := func(t *testing.T) func(testing.TB) *core.App {
		return withSettings(t, func(s *core.Settings) {
			s.SuperuserIPs = []string{"10.0.0.0/8"}
			s.TrustedProxy.Headers = []string{"X-Forwarded-For"}
		})
	}
	forbidden := `{"data":{},"message":"You are not allowed to perform this request.","status":403}`
	f := restricted(t)
	runSeq(t,
		apitest.ApiScenario{
			Name: "superuser from another IP", Method: http.MethodGet, URL: "/api/collections",
			Headers: map[string]string{"Authorization": tok.admin}, TestAppFactory: f,
			ExpectedStatus: http.StatusForbidden, ExpectedBody: forbidden,
		},
		apitest.ApiScenario{
			Name: "superuser from a listed IP", Method: http.MethodGet, URL: "/api/collections?perPage=1",
			Headers: map[string]string{"Authorization": tok.admin, "X-Forwarded-For": "10.1.2.3"}, TestAppFactory: f,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"items":[`},
		},
		apitest.ApiScenario{
			Name: "superuser login from another IP", Method: http.MethodPost, URL: "/api/collections/_superusers/auth-with-password",
			Body: jsonBody(`{"identity":"admin@example.com","password":"admin-pass-123"}`), Headers: jsonHeaders, TestAppFactory: f,
			ExpectedStatus: http.StatusForbidden, ExpectedBody: forbidden,
		},
		apitest.ApiScenario{
			Name: "superuser login from a listed IP", Method: http.MethodPost, URL: "/api/collections/_superusers/auth-with-password",
			Body:    jsonBody(`{"identity":"admin@example.com","password":"admin-pass-123"}`),
			Headers: map[string]string{"Content-Type": "application/json", "X-Forwarded-For": "10.9.9.9"}, TestAppFactory: f,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"token":"`},
		},
		apitest.ApiScenario{
			Name: "regular users are not concerned", Method: http.MethodPost, URL: "/api/collections/users/auth-refresh",
			Headers: map[string]string{"Authorization": tok.alice}, TestAppFactory: f,
			ExpectedStatus: http.StatusOK, ExpectedContent: []string{`"token":"`},
		},
	)
}
