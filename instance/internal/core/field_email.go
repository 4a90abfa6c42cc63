package core

import (
	"context"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
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

var urlHostLabel = regexp.MustCompile(`^([a-zA-Z0-9_\-\x{00a1}-\x{ffff}]+\.)*[a-zA-Z0-9_\-\x{00a1}-\x{ffff}]+\.?$`)

// isURL approximates govalidator.IsURL (ozzo's is.URL): a scheme is optional, the host
// must be an IP, "localhost" or a dotted name, the port numeric.
//
// note: govalidator's full regular expression is not reproduced; this accepts the
// same common forms (http(s)/ftp URLs with or without a scheme) and rejects the same
// obvious garbage.
func isURL(s string) bool {
	if s == "" || len(s) >= 2083 || len(s) <= 3 || strings.HasPrefix(s, ".") || strings.ContainsAny(s, " \t\n") {
		return false
	}

	raw := s
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || strings.HasPrefix(u.Host, ".") {
		return false
	}

	host := u.Hostname()
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return false
		}
	}
	if net.ParseIP(host) != nil || host == "localhost" {
		return true
	}

	return strings.Contains(host, ".") && urlHostLabel.MatchString(host)
}

// nonNil returns list, or an empty list instead of nil (v0.40 writes [] for nil).
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}

	return list
}
