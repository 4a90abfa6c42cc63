package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

const (
	healthBody   = `{"message":"API is healthy.","code":200,"data":{}}`
	notFoundBody = `{"data":{},"message":"The requested resource wasn't found.","status":404}`
)

// securityHeaders are the headers PocketBase adds to every routed response.
var securityHeaders = map[string]string{
	"X-XSS-Protection":           "1; mode=block",
	"X-Content-Type-Options":     "nosniff",
	"X-Frame-Options":            "SAMEORIGIN",
	"Cross-Origin-Opener-Policy": "same-origin",
}

func withSecurityHeaders(extra map[string]string) map[string]string {
	h := map[string]string{}
	for k, v := range securityHeaders {
		h[k] = v
	}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

func TestHealth(t *testing.T) {
	scenarios := []apitest.ApiScenario{
		{
			Name:           "GET on an empty data directory",
			Method:         http.MethodGet,
			URL:            "/api/health",
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   healthBody,
			ExpectedHeaders: withSecurityHeaders(map[string]string{
				"Content-Type":   "application/json",
				"Content-Length": "50",
				"Vary":           "Origin",
			}),
			NotExpectedHeaders: []string{"Access-Control-Allow-Origin"},
		},
		{
			Name:           "GET on a copy of the PocketBase fixture",
			Method:         http.MethodGet,
			URL:            "/api/health",
			TestAppFactory: func(t testing.TB) *core.App { return apitest.NewTestApp(t, apitest.CopyFixture(t)) },
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   healthBody,
		},
		{
			Name:           "GET with a query string",
			Method:         http.MethodGet,
			URL:            "/api/health?foo=bar",
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   healthBody,
		},
		{
			Name:           "HEAD has the GET headers and no body",
			Method:         http.MethodHead,
			URL:            "/api/health",
			ExpectedStatus: http.StatusOK,
			ExpectedHeaders: withSecurityHeaders(map[string]string{
				"Content-Type":   "application/json",
				"Content-Length": "50",
			}),
		},
		{
			Name:           "an invalid token is no error",
			Method:         http.MethodGet,
			URL:            "/api/health",
			Headers:        map[string]string{"Authorization": "Bearer not-a-token"},
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   healthBody,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}
