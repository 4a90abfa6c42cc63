package core

import (
	"strings"
	"testing"
)

// The expectations are govalidator's (PocketBase's is.EmailFormat), quirks included.
func TestIsEmail(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"admin@example.com", true},
		{"Admin.Name+tag@sub.example.co.uk", true},
		{"a@b.c", true},
		{"user@example.com.", true},
		{"üser@exämple.com", true},
		// govalidator's quoted local part only matches a single character (or "(" + one).
		{"\"q\"@example.com", true},
		{"\"quoted\"@example.com", false},
		{"\"quoted local\"@example.com", false},
		{"\"(x\"@example.com", true},
		{"o'brien@example.com", true},
		{"user@localhost", false},
		{"user@123.123", false},
		{"user@example..com", false},
		{"user@-example.com", false},
		{"user.@example.com", false},
		{".user@example.com", false},
		{"user@@example.com", false},
		{"user example@example.com", false},
		{"user@example.c0m", true},
		{"user@example.1com", false},
		{"", false},
		{"@example.com", false},
		{"user@", false},
		{"\"unterminated@example.com", false},
	}

	for _, tc := range tests {
		if got := isEmail(tc.in); got != tc.want {
			t.Errorf("isEmail(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestPasswordValidationMessages(t *testing.T) {
	tests := []struct {
		password    string
		min, max    int
		wantCode    string
		wantMessage string
	}{
		{"", 8, 0, "validation_required", "cannot be blank"},
		{"1234567", 8, 0, "validation_min_text_constraint", "Must be at least 8 character(s)"},
		{strings.Repeat("x", 72), 8, 0, "validation_max_text_constraint", "Must be less than 71 character(s)"},
		{strings.Repeat("x", 11), 8, 10, "validation_max_text_constraint", "Must be less than 10 character(s)"},
		{"12345678", 8, 0, "", ""},
	}
	for _, tc := range tests {
		got := validatePasswordValue(tc.password, tc.min, tc.max)
		switch {
		case tc.wantCode == "" && got != nil:
			t.Errorf("validatePasswordValue(%q) = %v, want nil", tc.password, got)
		case tc.wantCode != "" && (got == nil || got.Code != tc.wantCode || got.Message != tc.wantMessage):
			t.Errorf("validatePasswordValue(%q) = %+v, want %s %q", tc.password, got, tc.wantCode, tc.wantMessage)
		}
	}
}
