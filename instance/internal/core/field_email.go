package core

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// domainPattern is ozzo-validation's is.Domain.
// It is compiled on first use, off the startup path.
var domainPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+(?:[a-zA-Z]{1,63}|xn--[a-zA-Z0-9]{1,59})$`)
})

func isDomain(s string) bool {
	return len(s) <= 255 && domainPattern().MatchString(s)
}

// validateDomains is the exceptDomains/onlyDomains rule pair: when other is set the
// list must be empty, otherwise each entry must be a domain.
func validateDomains(list, other []string) error {
	if len(other) > 0 {
		if len(list) > 0 {
			return errEmpty()
		}
		return nil
	}

	errs := NestedErrors{}
	for i, d := range list {
		if d != "" && !isDomain(d) {
			errs[strconv.Itoa(i)] = newValidationError("validation_is_domain", "must be a valid domain", nil)
		}
	}

	return errs.orNil()
}

// DomainOptions are the options the email and url fields share: a string value,
// optionally restricted to or excluding some domains.
type DomainOptions struct {
	// Help is the dashboard help text.
	Help string `json:"help"`
	// ExceptDomains rejects values of these domains.
	ExceptDomains []string `json:"exceptDomains"`
	// OnlyDomains accepts only values of these domains.
	OnlyDomains []string `json:"onlyDomains"`
	// Required rejects the empty string.
	Required bool `json:"required"`
}

// ColumnType implements Field.
func (o *DomainOptions) ColumnType() string { return columnText }

// PrepareValue implements Field.
func (o *DomainOptions) PrepareValue(raw any) any { return castToString(raw) }

// DriverValue implements Field.
func (o *DomainOptions) DriverValue(value any) (any, error) { return castToString(value), nil }

// OutputValue implements Field.
func (o *DomainOptions) OutputValue(value any) any { return castToString(value) }

// validateValue checks a value: a string, present when required, of the right format
// (invalid when valid says no) and of an allowed domain (domainOf extracts it).
func (o *DomainOptions) validateValue(value any, valid func(string) bool, invalid error, domainOf func(string) string, notAllowed func() error) error {
	v, ok := value.(string)
	if !ok {
		return errUnsupportedValueType()
	}
	if v == "" {
		if o.Required {
			return errRequired()
		}
		return nil
	}
	if !valid(v) {
		return invalid
	}

	domain := domainOf(v)
	if len(o.OnlyDomains) > 0 && !slices.Contains(o.OnlyDomains, domain) {
		return notAllowed()
	}
	if len(o.ExceptDomains) > 0 && slices.Contains(o.ExceptDomains, domain) {
		return notAllowed()
	}

	return nil
}

// validateSettings checks the shared options of field b.
func (o *DomainOptions) validateSettings(b *fieldBase) error {
	errs := NestedErrors{}
	b.validateBase(errs)
	errs.addErr("exceptDomains", validateDomains(o.ExceptDomains, o.OnlyDomains))
	errs.addErr("onlyDomains", validateDomains(o.OnlyDomains, o.ExceptDomains))

	return errs.orNil()
}

// EmailField is an "email" field: one email address, optionally restricted to or
// excluding some domains.
type EmailField struct {
	fieldBase
	DomainOptions
}

// Type implements Field.
func (f *EmailField) Type() string { return FieldTypeEmail }

// ValidateValue implements Field.
func (f *EmailField) ValidateValue(_ context.Context, _ ValueContext, value any) error {
	return f.validateValue(value, isEmail, errIsEmail(),
		func(v string) string { return v[strings.LastIndex(v, "@")+1:] },
		func() error {
			return newValidationError("validation_email_domain_not_allowed", "Email domain is not allowed", nil)
		})
}

// ValidateSettings implements Field.
func (f *EmailField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	return f.validateSettings(&f.fieldBase)
}

// URLField is a "url" field: one URL, optionally restricted to or excluding some
// hosts.
type URLField struct {
	fieldBase
	DomainOptions
}

// Type implements Field.
func (f *URLField) Type() string { return FieldTypeURL }

// ValidateValue implements Field.
func (f *URLField) ValidateValue(_ context.Context, _ ValueContext, value any) error {
	return f.validateValue(value, isURL, newValidationError("validation_invalid_url", "Must be a valid url", nil),
		func(v string) string {
			if u, _ := url.Parse(v); u != nil {
				return u.Host
			}
			return ""
		},
		func() error {
			return newValidationError("validation_url_domain_not_allowed", "Url domain is not allowed", nil)
		})
}

// ValidateSettings implements Field.
func (f *URLField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	return f.validateSettings(&f.fieldBase)
}

// govalidator's URL pattern (github.com/asaskevich/govalidator patterns.go, MIT), which
// PocketBase's url fields check through ozzo-validation's is.URL.
const (
	urlPatternIP = `(([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|` +
		`([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|` +
		`([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|` +
		`[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}|` +
		`::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])|` +
		`([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))`
	urlPatternSchema    = `((ftp|tcp|udp|wss?|https?):\/\/)`
	urlPatternUsername  = `(\S+(:\S*)?@)`
	urlPatternPath      = `((\/|\?|#)[^\s]*)`
	urlPatternPort      = `(:(\d{1,5}))`
	urlPatternIPv4      = `([1-9]\d?|1\d\d|2[01]\d|22[0-3]|24\d|25[0-5])(\.(\d{1,2}|1\d\d|2[0-4]\d|25[0-5])){2}(?:\.([0-9]\d?|1\d\d|2[0-4]\d|25[0-5]))`
	urlPatternSubdomain = `((www\.)|([a-zA-Z0-9]+([-_\.]?[a-zA-Z0-9])*[a-zA-Z0-9]\.[a-zA-Z0-9]+))`
)

// urlPattern is compiled on first use, off the startup path.
var urlPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^` + urlPatternSchema + `?` + urlPatternUsername + `?` + `((` + urlPatternIPv4 + `|(\[` + urlPatternIP + `\])|` +
		`(([a-zA-Z0-9]([a-zA-Z0-9-_]+)?[a-zA-Z0-9]([-\.][a-zA-Z0-9]+)*)|(` + urlPatternSubdomain + `?))?` +
		`(([a-zA-Z\x{00a1}-\x{ffff}0-9]+-?-?)*[a-zA-Z\x{00a1}-\x{ffff}0-9]+)(?:\.([a-zA-Z\x{00a1}-\x{ffff}]{1,}))?))\.?` +
		urlPatternPort + `?` + urlPatternPath + `?$`)
})

// isURL is govalidator.IsURL, which PocketBase's is.URL runs: a lower-case scheme is
// optional (an upper-case one is not a scheme, so "HTTP://X.COM" fails), a port has up
// to 5 digits.
func isURL(s string) bool {
	if s == "" || utf8.RuneCountInString(s) >= 2083 || len(s) <= 3 || strings.HasPrefix(s, ".") {
		return false
	}
	raw := s
	if strings.Contains(s, ":") && !strings.Contains(s, "://") {
		// a port without a scheme: parse it as http, match the pattern on s
		raw = "http://" + s
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if strings.HasPrefix(u.Host, ".") {
		return false
	}
	if u.Host == "" && (u.Path != "" && !strings.Contains(u.Path, ".")) {
		return false
	}

	return urlPattern().MatchString(s)
}

// nonNil returns list, or an empty list instead of nil (v0.40 writes [] for nil).
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}

	return list
}
