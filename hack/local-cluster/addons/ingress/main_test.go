package main

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

func TestHostMatches(t *testing.T) {
	tests := []struct {
		rule, host string
		want       bool
	}{
		{"", "anything.test", true},
		{"a.example.test", "a.example.test", true},
		{"a.example.test", "b.example.test", false},
		{"*.example.test", "a.example.test", true},
		{"*.example.test", "a.b.example.test", false},
		{"*.example.test", "example.test", false},
	}
	for _, tt := range tests {
		if got := hostMatches(tt.rule, tt.host); got != tt.want {
			t.Errorf("hostMatches(%q, %q) = %v, want %v", tt.rule, tt.host, got, tt.want)
		}
	}
}

func TestPathMatches(t *testing.T) {
	prefix, exact, impl := networkingv1.PathTypePrefix, networkingv1.PathTypeExact, networkingv1.PathTypeImplementationSpecific
	tests := []struct {
		path     string
		typ      *networkingv1.PathType
		req      string
		wantLen  int
		wantSeen bool
	}{
		{"/", &prefix, "/api/health", 0, true},
		{"/api", &prefix, "/api", 4, true},
		{"/api", &prefix, "/api/realtime", 4, true},
		{"/api/", &prefix, "/api/realtime", 4, true},
		{"/api", &prefix, "/apis", 0, false},
		{"/api", &exact, "/api", 4, true},
		{"/api", &exact, "/api/x", 0, false},
		{"/api", &impl, "/api/x", 4, true},
		{"", nil, "/x", 0, true},
	}
	for _, tt := range tests {
		got := pathMatches(networkingv1.HTTPIngressPath{Path: tt.path, PathType: tt.typ}, tt.req)
		if (got >= 0) != tt.wantSeen || (tt.wantSeen && got != tt.wantLen) {
			t.Errorf("pathMatches(%q, %v, %q) = %d, want match=%v len=%d", tt.path, tt.typ, tt.req, got, tt.wantSeen, tt.wantLen)
		}
	}
}
