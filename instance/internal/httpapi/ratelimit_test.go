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

// GET (and HEAD) /api/files/... carries the "file" tag, as PocketBase binds
// collectionPathRateLimit("", "file") to the download route: "<collection>:file" and
// "*:file" rules apply, per collection. A missing collection is answered by that
// middleware first, limits on or off.
func TestRateLimitFileTag(t *testing.T) {
	f := withSettings(t, rateLimits(
		core.RateLimitRule{Label: "posts:file", MaxRequests: 2, Duration: 60},
		core.RateLimitRule{Label: "*:file", MaxRequests: 1, Duration: 60},
	))
	file := func(name, method, url string, status int) apitest.ApiScenario {
		s := apitest.ApiScenario{Name: name, Method: method, URL: url, TestAppFactory: f, ExpectedStatus: status}
		switch {
		case status == http.StatusTooManyRequests && method == http.MethodGet:
			s.ExpectedBody = tooManyRequestsBody
		case status == http.StatusOK && method == http.MethodGet:
			s.ExpectedContent = []string{"PNG"}
		}
		return s
	}
	posts := "/api/files/posts/" + rwAlicePost + "/" + fxCover1
	runSeq(t,
		file("posts 1", http.MethodGet, posts, 200),
		file("posts 2 (HEAD counts as GET)", http.MethodHead, posts, 200),
		file("posts 3", http.MethodGet, posts, 429),
		file("posts HEAD limited too", http.MethodHead, posts, 429),
		apitest.ApiScenario{
			Name: "another collection falls under *:file with its own counter", Method: http.MethodGet,
			URL: "/api/files/users/" + aliceID + "/missing.png", TestAppFactory: f, ExpectedStatus: 404,
			ExpectedBody: `{"data":{},"message":"The requested resource wasn't found.","status":404}`,
		},
		apitest.ApiScenario{
			Name: "and is limited at its second request", Method: http.MethodGet,
			URL: "/api/files/users/" + aliceID + "/missing.png", TestAppFactory: f, ExpectedStatus: 429, ExpectedBody: tooManyRequestsBody,
		},
		apitest.ApiScenario{
			Name: "an unknown collection", Method: http.MethodGet, URL: "/api/files/nope/x/y.png", TestAppFactory: f,
			ExpectedStatus: 404, ExpectedBody: `{"data":{},"message":"Missing or invalid collection context.","status":404}`,
		},
		apitest.ApiScenario{
			Name: "records routes answer their own missing collection", Method: http.MethodGet, URL: "/api/collections/nope/records",
			TestAppFactory: f, ExpectedStatus: 404, ExpectedBody: missingCollectionBody,
		},
	)
}

// Each batch sub-request is checked against the collection rules of its action, as
// PocketBase's record handlers do inline: "<collection>:create" counts every create of
// the batch, apart from the records route's own counter; a limited sub-request fails
// the batch with its 429.
func TestRateLimitBatchItems(t *testing.T) {
	tok := newTokens(t)
	f := withSettings(t, func(s *core.Settings) {
		rateLimits(
			core.RateLimitRule{Label: "posts:create", MaxRequests: 2, Duration: 60},
			core.RateLimitRule{Label: "*:delete", MaxRequests: 1, Duration: 60},
		)(s)
		s.Batch = core.BatchConfig{Enabled: true, MaxRequests: 10, Timeout: 3}
	})
	create := func(title string) map[string]any {
		return map[string]any{"method": "POST", "url": "/api/collections/posts/records", "body": map[string]any{"title": title, "author": aliceID}}
	}
	limited := func(index string) string {
		return rwErr(400, "Batch transaction failed.", `{"requests":{"`+index+`":{"code":"batch_request_failed","message":"Batch request failed.",`+
			`"response":{"data":{},"message":"Too Many Requests.","status":429}}}}`)
	}
	runSeq(t,
		apitest.ApiScenario{
			Name: "two creates pass", Method: http.MethodPost, URL: "/api/batch", Body: batchBody(t, create("Batch one"), create("Batch two")),
			Headers: rwHeaders(tok.alice), TestAppFactory: f, ExpectedStatus: 200, ExpectedContent: []string{`"title":"Batch one"`, `"title":"Batch two"`},
		},
		apitest.ApiScenario{
			Name: "the third create of the window fails the batch", Method: http.MethodPost, URL: "/api/batch",
			Body:    batchBody(t, map[string]any{"method": "PATCH", "url": "/api/collections/posts/records/" + rwAlicePost, "body": map[string]any{"title": "Renamed in batch"}}, create("Batch three")),
			Headers: rwHeaders(tok.alice), TestAppFactory: f, ExpectedStatus: 400, ExpectedBody: limited("1"),
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := rwCount(t, app, "posts", "title = ?", "Renamed in batch"); n != 0 {
					t.Errorf("the batch before the limited request was kept: %d renamed posts", n)
				}
			},
		},
		apitest.ApiScenario{
			Name: "the records route counts apart", Method: http.MethodPost, URL: "/api/collections/posts/records",
			Body: jsonBody(`{"title":"Direct post","author":"` + aliceID + `"}`), Headers: rwHeaders(tok.alice), TestAppFactory: f,
			ExpectedStatus: 200, ExpectedContent: []string{`"title":"Direct post"`},
		},
		apitest.ApiScenario{
			Name: "wildcard tags apply per item too", Method: http.MethodPost, URL: "/api/batch",
			Body: batchBody(t,
				map[string]any{"method": "DELETE", "url": "/api/collections/posts/records/" + rwAlicePost},
				map[string]any{"method": "DELETE", "url": "/api/collections/posts/records/" + rwAlicePost},
			),
			Headers: rwHeaders(tok.alice), TestAppFactory: f, ExpectedStatus: 400, ExpectedBody: limited("1"),
		},
		apitest.ApiScenario{
			Name: "superusers are not limited", Method: http.MethodPost, URL: "/api/batch", Body: batchBody(t, create("Super one"), create("Super two"), create("Super three")),
			Headers: rwHeaders(tok.admin), TestAppFactory: f, ExpectedStatus: 200, ExpectedContent: []string{`"title":"Super three"`},
		},
	)
}
