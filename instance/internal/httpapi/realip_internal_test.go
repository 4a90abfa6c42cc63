package httpapi

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func TestRealIP(t *testing.T) {
	xff := []string{"X-Forwarded-For"}
	tests := []struct {
		name    string
		remote  string
		headers map[string][]string
		proxy   core.TrustedProxyConfig
		want    string
	}{
		{name: "no proxy configured ignores the headers", remote: "127.0.0.1:5000",
			headers: map[string][]string{"X-Forwarded-For": {"1.1.1.1"}}, want: "127.0.0.1"},
		{name: "rightmost by default", remote: "127.0.0.1:5000", proxy: core.TrustedProxyConfig{Headers: xff},
			headers: map[string][]string{"X-Forwarded-For": {"1.1.1.1, 2.2.2.2"}}, want: "2.2.2.2"},
		{name: "leftmost when asked", remote: "127.0.0.1:5000", proxy: core.TrustedProxyConfig{Headers: xff, UseLeftmostIP: true},
			headers: map[string][]string{"X-Forwarded-For": {"1.1.1.1, 2.2.2.2"}}, want: "1.1.1.1"},
		{name: "invalid entries are skipped", remote: "127.0.0.1:5000", proxy: core.TrustedProxyConfig{Headers: xff},
			headers: map[string][]string{"X-Forwarded-For": {"1.1.1.1, unknown, "}}, want: "1.1.1.1"},
		{name: "the last header line counts", remote: "127.0.0.1:5000", proxy: core.TrustedProxyConfig{Headers: xff, UseLeftmostIP: true},
			headers: map[string][]string{"X-Forwarded-For": {"9.9.9.9", "3.3.3.3, 4.4.4.4"}}, want: "3.3.3.3"},
		{name: "the first present header wins", remote: "127.0.0.1:5000",
			proxy:   core.TrustedProxyConfig{Headers: []string{"CF-Connecting-IP", "X-Forwarded-For"}},
			headers: map[string][]string{"X-Forwarded-For": {"5.5.5.5"}, "Cf-Connecting-Ip": {"6.6.6.6"}}, want: "6.6.6.6"},
		{name: "a header without a valid IP falls back to the next", remote: "127.0.0.1:5000",
			proxy:   core.TrustedProxyConfig{Headers: []string{"CF-Connecting-IP", "X-Forwarded-For"}},
			headers: map[string][]string{"X-Forwarded-For": {"5.5.5.5"}, "Cf-Connecting-Ip": {"garbage"}}, want: "5.5.5.5"},
		{name: "IPv6 is expanded", remote: "[::1]:5000", proxy: core.TrustedProxyConfig{Headers: xff},
			headers: map[string][]string{"X-Forwarded-For": {"2001:db8::1"}}, want: "2001:0db8:0000:0000:0000:0000:0000:0001"},
		{name: "IPv6 remote address", remote: "[::1]:5000", want: "0000:0000:0000:0000:0000:0000:0000:0001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header(tc.headers)}
			if got := realIP(r, tc.proxy); got != tc.want {
				t.Errorf("realIP = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIPListed(t *testing.T) {
	list := []string{"10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "bad/entry", "nonsense"}
	tests := map[string]bool{
		"10.1.2.3":    true,
		"11.0.0.1":    false,
		"192.168.1.7": true,
		"192.168.1.8": false,
		"2001:0db8:0000:0000:0000:0000:0000:0001": true,
		"::ffff:10.0.0.1":                         true,
		"":                                        false,
		"nonsense":                                false,
	}
	for ip, want := range tests {
		if got := ipListed(list, ip); got != want {
			t.Errorf("ipListed(%q) = %v, want %v", ip, got, want)
		}
	}
}

// FuzzRealIP checks that any proxy header yields the connection's address or a valid IP.
func FuzzRealIP(f *testing.F) {
	f.Add("1.1.1.1, 2.2.2.2", false)
	f.Add(" ,, 2001:db8::1 ,x", true)
	f.Add("::ffff:1.2.3.4%eth0", false)
	f.Fuzz(func(t *testing.T, header string, leftmost bool) {
		r := &http.Request{RemoteAddr: "127.0.0.1:1", Header: http.Header{"X-Real-Ip": {header}}}
		got := realIP(r, core.TrustedProxyConfig{Headers: []string{"X-Real-IP"}, UseLeftmostIP: leftmost})
		if _, err := netip.ParseAddr(got); err != nil {
			t.Fatalf("realIP(%q) = %q, not an IP", header, got)
		}
	})
}
