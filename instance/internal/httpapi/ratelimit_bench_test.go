package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
)

// BenchmarkRateLimit serves GET /api/health in process with the limiter off (the
// default), on with a rule that never trips, and on for a collection route (which looks
// its collection up): compare the ratios to see what the limiter adds to a request.
func BenchmarkRateLimit(b *testing.B) {
	serve := func(b *testing.B, limits *core.RateLimitsConfig, url string, header map[string]string) {
		app := fixtureApp(b)
		if limits != nil {
			settings := app.Settings()
			settings.RateLimits = *limits
			if err := app.SaveSettings(b.Context(), settings); err != nil {
				b.Fatal(err)
			}
		}
		h := httpapi.NewRouter(app)
		req := httptest.NewRequest(http.MethodGet, url, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		b.ResetTimer()
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	}
	never := &core.RateLimitsConfig{Enabled: true, Rules: []core.RateLimitRule{
		{Label: "*:auth", MaxRequests: 2, Duration: 3},
		{Label: "/api/", MaxRequests: 1 << 30, Duration: 3600},
	}}
	b.Run("health-off", func(b *testing.B) { serve(b, nil, "/api/health", nil) })
	b.Run("health-on", func(b *testing.B) { serve(b, never, "/api/health", nil) })
	b.Run("auth-methods-off", func(b *testing.B) { serve(b, nil, "/api/collections/users/auth-methods", nil) })
	b.Run("auth-methods-on", func(b *testing.B) { serve(b, never, "/api/collections/users/auth-methods", nil) })
}
