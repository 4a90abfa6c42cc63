package core

import (
	"regexp"
	"unicode/utf8"
)

// emailPattern is the email syntax PocketBase accepts: ozzo-validation's
// is.EmailFormat, i.e. github.com/asaskevich/govalidator's IsEmail pattern (no DNS
// lookup). It is kept verbatim, quirks included (e.g. its quoted-pair is "(" followed
// by a character), so that we accept and reject exactly what PocketBase does.
var emailPattern = regexp.MustCompile("^(((([a-zA-Z]|\\d|[!#\\$%&'\\*\\+\\-\\/=\\?\\^_`{\\|}~]|[\\x{00A0}-\\x{D7FF}\\x{F900}-\\x{FDCF}\\x{FDF0}-\\x{FFEF}])+(\\.([a-zA-Z]|\\d|[!#\\$%&'\\*\\+\\-\\/=\\?\\^_`{\\|}~]|[\\x{00A0}-\\x{D7FF}\\x{F900}-\\x{FDCF}\\x{FDF0}-\\x{FFEF}])+)*)|((\\x22)((((\\x20|\\x09)*(\\x0d\\x0a))?(\\x20|\\x09)+)?(([\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]|\\x21|[\\x23-\\x5b]|[\\x5d-\\x7e]|[\\x{00A0}-\\x{D7FF}\\x{F900}-\\x{FDCF}\\x{FDF0}-\\x{FFEF}])|(\\([\\x01-\\x09\\x0b\\x0c\\x0d-\\x7f]|[\\x{00A0}-\\x{D7FF}\\x{F900}-\\x{FDCF}\\x{FDF0}-\\x{FFEF}]))))*(((\\x20|\\x09)*(\\x0d\\x0a))?(\\x20|\\x09)+)?(\\x22)))@((([a-zA-Z]|\\d|[\\x{00A0}-\\x{D7FF}\\x{F900}-\\x{FDCF}\\x{FDF0}-\\x{FFEF}])|(([a-zA-Z]|\\d|[\\x{00A0}-\\x{D7FF}\\x{F900}-\\x{FDCF}\\x{FDF0}-\\x{FFEF}])([a-zA-Z]|\\d|-|\\.|_|~|[\\x{00A0}-\\x{D7FF}\\x{F900}-\\x{FDCF}\\x{FDF0}-\\x{FFEF}])*([a-zA-Z]|\\d|[\\x{00A0}-\\x{D7FF}\\x{F900}-\\x{FDCF}\\x{FDF0}-\\x{FFEF}])))\\.)+(([a-zA-Z]|[\\x{00A0}-\\x{D7FF}\\x{F900}-\\x{FDCF}\\x{FDF0}-\\x{FFEF}])|(([a-zA-Z]|[\\x{00A0}-\\x{D7FF}\\x{F900}-\\x{FDCF}\\x{FDF0}-\\x{FFEF}])([a-zA-Z]|\\d|-|_|~|[\\x{00A0}-\\x{D7FF}\\x{F900}-\\x{FDCF}\\x{FDF0}-\\x{FFEF}])*([a-zA-Z]|[\\x{00A0}-\\x{D7FF}\\x{F900}-\\x{FDCF}\\x{FDF0}-\\x{FFEF}])))\\.?$")

// isEmail reports whether s is an email address by PocketBase's rules.
func isEmail(s string) bool {
	return emailPattern.MatchString(s)
}

// validateEmailValue checks a required email field value.
func validateEmailValue(email string) *ValidationError {
	if email == "" {
		return errRequired()
	}
	if !isEmail(email) {
		return errIsEmail()
	}

	return nil
}

// validatePasswordValue checks a plain password against a password field's min and max
// (0 means PocketBase's default of 71), counting characters as runes, as PocketBase does.
func validatePasswordValue(password string, minLen, maxLen int) *ValidationError {
	if password == "" {
		return errRequired()
	}

	if maxLen <= 0 {
		maxLen = passwordMaxDefault
	}

	n := utf8.RuneCountInString(password)
	if n < minLen {
		return errMinText(minLen)
	}
	if n > maxLen {
		return errMaxText(maxLen)
	}

	return nil
}
