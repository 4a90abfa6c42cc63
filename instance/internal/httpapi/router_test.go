package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
)

func TestCatchAllNotFound(t *testing.T) {
	scenarios := []apitest.ApiScenario{
		{
			Name:            "unknown API path",
			Method:          http.MethodGet,
			URL:             "/api/missing",
			ExpectedStatus:  http.StatusNotFound,
			ExpectedBody:    notFoundBody,
			ExpectedHeaders: withSecurityHeaders(map[string]string{"Content-Type": "application/json", "Vary": "Origin"}),
		},
		{
			Name:           "root",
			Method:         http.MethodGet,
			URL:            "/",
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   notFoundBody,
		},
		{
			Name:               "wrong method on a known path is 404, not 405",
			Method:             http.MethodDelete,
			URL:                "/api/health",
			ExpectedStatus:     http.StatusNotFound,
			ExpectedBody:       notFoundBody,
			ExpectedHeaders:    withSecurityHeaders(map[string]string{"Content-Type": "application/json"}),
			NotExpectedHeaders: []string{"Allow"},
		},
		{
			Name:           "POST on a known path",
			Method:         http.MethodPost,
			URL:            "/api/health",
			Body:           strings.NewReader(`{}`),
			Headers:        map[string]string{"Content-Type": "application/json"},
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   notFoundBody,
		},
		{
			Name:           "trailing slash is not redirected",
			Method:         http.MethodGet,
			URL:            "/api/health/",
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   notFoundBody,
		},
		{
			Name:           "path matching is case-sensitive",
			Method:         http.MethodGet,
			URL:            "/api/HEALTH",
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   notFoundBody,
		},
		{
			Name:            "HEAD on an unknown path has no body",
			Method:          http.MethodHead,
			URL:             "/api/missing",
			ExpectedStatus:  http.StatusNotFound,
			ExpectedHeaders: map[string]string{"Content-Type": "application/json"},
		},
		{
			// PocketBase routes with net/http.ServeMux, which cleans the path first.
			Name:            "non-canonical path is redirected like Go's ServeMux does",
			Method:          http.MethodGet,
			URL:             "/api//health?a=1",
			ExpectedStatus:  http.StatusTemporaryRedirect,
			ExpectedContent: []string{"Temporary Redirect"},
			ExpectedHeaders: map[string]string{"Location": "/api/health?a=1"},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

func TestCORS(t *testing.T) {
	scenarios := []apitest.ApiScenario{
		{
			Name:   "preflight",
			Method: http.MethodOptions,
			URL:    "/api/collections/demo/records/x",
			Headers: map[string]string{
				"Origin":                         "https://app.example.com",
				"Access-Control-Request-Method":  "PATCH",
				"Access-Control-Request-Headers": "authorization,content-type",
			},
			ExpectedStatus: http.StatusNoContent,
			ExpectedHeaders: map[string]string{
				"Access-Control-Allow-Origin":  "*",
				"Access-Control-Allow-Methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
				"Access-Control-Allow-Headers": "authorization,content-type",
				"Vary":                         "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
			},
			// PocketBase answers preflights before its other middlewares run.
			NotExpectedHeaders: []string{
				"X-Frame-Options", "X-XSS-Protection", "Content-Type",
				"Access-Control-Allow-Credentials", "Access-Control-Max-Age",
			},
		},
		{
			Name:   "preflight on a known path",
			Method: http.MethodOptions,
			URL:    "/api/health",
			Headers: map[string]string{
				"Origin":                        "http://localhost:5173",
				"Access-Control-Request-Method": "GET",
			},
			ExpectedStatus: http.StatusNoContent,
			ExpectedHeaders: map[string]string{
				"Access-Control-Allow-Origin":  "*",
				"Access-Control-Allow-Methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
			},
			NotExpectedHeaders: []string{"Access-Control-Allow-Headers"},
		},
		{
			Name:               "OPTIONS without Origin is a bare 204",
			Method:             http.MethodOptions,
			URL:                "/api/health",
			ExpectedStatus:     http.StatusNoContent,
			ExpectedHeaders:    map[string]string{"Vary": "Origin"},
			NotExpectedHeaders: []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "X-Frame-Options"},
		},
		{
			Name:           "simple request with Origin",
			Method:         http.MethodGet,
			URL:            "/api/health",
			Headers:        map[string]string{"Origin": "https://app.example.com"},
			ExpectedStatus: http.StatusOK,
			ExpectedBody:   healthBody,
			ExpectedHeaders: withSecurityHeaders(map[string]string{
				"Access-Control-Allow-Origin": "*",
				"Vary":                        "Origin",
			}),
			NotExpectedHeaders: []string{"Access-Control-Allow-Methods"},
		},
		{
			Name:           "error response with Origin",
			Method:         http.MethodGet,
			URL:            "/api/missing",
			Headers:        map[string]string{"Origin": "https://app.example.com"},
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   notFoundBody,
			ExpectedHeaders: withSecurityHeaders(map[string]string{
				"Access-Control-Allow-Origin": "*",
			}),
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}
