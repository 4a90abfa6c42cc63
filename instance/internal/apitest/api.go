package apitest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
)

// ApiScenario is one API request and what its response must look like (PocketBase's
// tests.ApiScenario). The request goes through a real loopback HTTP server, so HEAD
// bodies, Content-Length and redirects behave as on the wire.
//
//	scenarios := []apitest.ApiScenario{{
//		Name: "health", Method: http.MethodGet, URL: "/api/health",
//		ExpectedStatus: 200, ExpectedContent: []string{`"code":200`},
//	}}
//	for _, s := range scenarios {
//		s.Test(t)
//	}
type ApiScenario struct { //nolint:revive // PocketBase's name (tests.ApiScenario), as style.md spells it
	// Name is the subtest name.
	Name string
	// Method is the request method.
	Method string
	// URL is the request path and query, e.g. "/api/health".
	URL string
	// Body is the request body, if any.
	Body io.Reader
	// Headers are set on the request.
	Headers map[string]string

	// TestAppFactory opens the app to serve; nil means NewTestApp on an empty directory.
	TestAppFactory func(t testing.TB) *core.App
	// BeforeTestFunc runs after the app is opened, before the request.
	BeforeTestFunc func(t testing.TB, app *core.App)

	// ExpectedStatus is the response status code.
	ExpectedStatus int
	// ExpectedBody, when not empty, must equal the whole response body.
	ExpectedBody string
	// ExpectedContent lists strings the body must contain.
	ExpectedContent []string
	// NotExpectedContent lists strings the body must not contain.
	//
	// When ExpectedBody, ExpectedContent and NotExpectedContent are all empty, the body
	// must be empty.
	NotExpectedContent []string
	// ExpectedHeaders maps header names to their exact value; a header sent on several
	// lines is compared as its values joined with ", ".
	ExpectedHeaders map[string]string
	// NotExpectedHeaders lists headers that must be absent.
	NotExpectedHeaders []string

	// AfterTestFunc runs after the checks above, with the response and its body.
	AfterTestFunc func(t testing.TB, app *core.App, res *http.Response, body []byte)
}

// Test runs the scenario as a subtest of t.
func (s *ApiScenario) Test(t *testing.T) {
	t.Helper()

	name := s.Name
	if name == "" {
		name = s.Method + " " + s.URL
	}

	t.Run(name, func(t *testing.T) {
		s.test(t)
	})
}

func (s *ApiScenario) test(t *testing.T) {
	var app *core.App
	if s.TestAppFactory != nil {
		app = s.TestAppFactory(t)
	} else {
		app = NewTestApp(t, "")
	}

	if s.BeforeTestFunc != nil {
		s.BeforeTestFunc(t, app)
	}

	srv := httptest.NewServer(httpapi.NewRouter(app))
	defer srv.Close()

	req, err := http.NewRequestWithContext(t.Context(), s.Method, srv.URL+s.URL, s.Body)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	for k, v := range s.Headers {
		req.Header.Set(k, v)
	}

	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("sending request: %v", err)
	}
	defer res.Body.Close()

	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading response body: %v", err)
	}

	if res.StatusCode != s.ExpectedStatus {
		t.Errorf("status = %d, want %d; body: %s", res.StatusCode, s.ExpectedStatus, body)
	}

	switch {
	case s.ExpectedBody != "":
		if string(body) != s.ExpectedBody {
			t.Errorf("body = %q, want %q", body, s.ExpectedBody)
		}
	case len(s.ExpectedContent) == 0 && len(s.NotExpectedContent) == 0:
		if len(body) != 0 {
			t.Errorf("body = %q, want empty", body)
		}
	}
	for _, want := range s.ExpectedContent {
		if !strings.Contains(string(body), want) {
			t.Errorf("body does not contain %q:\n%s", want, body)
		}
	}
	for _, unwanted := range s.NotExpectedContent {
		if strings.Contains(string(body), unwanted) {
			t.Errorf("body contains %q:\n%s", unwanted, body)
		}
	}

	for name, want := range s.ExpectedHeaders {
		values := res.Header.Values(name)
		if len(values) == 0 {
			t.Errorf("header %s missing, want %q", name, want)
			continue
		}
		if got := strings.Join(values, ", "); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	for _, name := range s.NotExpectedHeaders {
		if values := res.Header.Values(name); len(values) > 0 {
			t.Errorf("header %s = %q, want absent", name, values)
		}
	}

	if s.AfterTestFunc != nil {
		s.AfterTestFunc(t, app, res, body)
	}
}
