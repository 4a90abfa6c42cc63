package bench

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// BenchmarkInstanceAuth reports the login throughput of the built binary on loopback:
// auth-with-password (bcrypt at cost 10 dominates; each login also
// touches its _authOrigins row, as PocketBase does with authAlert on), a wrong password
// (which should cost the same), and auth-refresh (a token check and a new token, no
// bcrypt), this one with 32 connections. The logins use two connections per CPU: bcrypt
// keeps every core busy already, and more connections only queue. Compare the ratios;
// nothing is asserted on timing.
func BenchmarkInstanceAuth(b *testing.B) {
	s := startServer(b, instanceBin(b))
	var auth struct{ Token string }
	s.post(b, "/api/collections/_superusers/auth-with-password", "",
		map[string]string{"identity": benchEmail, "password": benchPassword}, &auth)

	login := func(password string) RequestFunc {
		body := `{"identity":"` + benchEmail + `","password":"` + password + `"}`
		return func(int, int) (*http.Request, error) {
			req, err := http.NewRequest(http.MethodPost, s.url+"/api/collections/_superusers/auth-with-password", strings.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
			return req, err
		}
	}
	bcryptConns := 2 * runtime.NumCPU()
	scenarios := []struct {
		name  string
		conns int
		want  int
		next  RequestFunc
	}{
		{"auth-with-password", bcryptConns, http.StatusOK, login(benchPassword)},
		{"auth-with-password-wrong", bcryptConns, http.StatusBadRequest, login("wrong-password-123")},
		{"auth-refresh", connections, http.StatusOK, func(int, int) (*http.Request, error) {
			req, err := http.NewRequest(http.MethodPost, s.url+"/api/collections/_superusers/auth-refresh", nil)
			if err == nil {
				req.Header.Set("Authorization", auth.Token)
			}
			return req, err
		}},
	}
	d := scenarioDuration()
	b.ResetTimer()
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			stop := profile(b, sc.name, d)
			cpu0 := s.cpuTime(b)
			res := Run(context.Background(), sc.conns, d, sc.want, sc.next)
			cpu := s.cpuTime(b) - cpu0
			stop()
			if res.Requests > 0 {
				b.ReportMetric(float64(cpu.Microseconds())/float64(res.Requests), "server-cpu-µs/req")
			}
			if res.Errors > 0 {
				b.Errorf("%s: %d failed requests", sc.name, res.Errors)
			}
			b.ReportMetric(res.PerSecond(), "req/s")
			b.ReportMetric(float64(res.Percentile(50).Microseconds()), "p50-µs")
			b.ReportMetric(float64(res.Percentile(99).Microseconds()), "p99-µs")
		})
	}
}
