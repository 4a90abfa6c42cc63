package core

import (
	"context"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// domainPattern is ozzo-validation's is.Domain.
var domainPattern = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+(?:[a-zA-Z]{1,63}|xn--[a-zA-Z0-9]{1,59})$`)

func isDomain(s string) bool {
	return len(s) <= 255 && domainPattern.MatchString(s)
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

// EmailField is an "email" field: one email address, optionally restricted to or
// excluding some domains.
type EmailField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// ExceptDomains rejects addresses of these domains.
	ExceptDomains []string `json:"exceptDomains"`
	// OnlyDomains accepts only addresses of these domains.
	OnlyDomains []string `json:"onlyDomains"`
	// Required rejects the empty string.
	Required bool `json:"required"`
}

// Type implements Field.
func (f *EmailField) Type() string { return FieldTypeEmail }

// ColumnType implements Field.
func (f *EmailField) ColumnType() string { return columnText }

// PrepareValue implements Field.
func (f *EmailField) PrepareValue(raw any) any { return castToString(raw) }

// DriverValue implements Field.
func (f *EmailField) DriverValue(value any) (any, error) { return castToString(value), nil }

// OutputValue implements Field.
func (f *EmailField) OutputValue(value any) any { return castToString(value) }

// ValidateValue implements Field.
func (f *EmailField) ValidateValue(_ context.Context, _ ValueContext, value any) error {
	v, ok := value.(string)
	if !ok {
		return errUnsupportedValueType()
	}
	if v == "" {
		if f.Required {
			return errRequired()
		}
		return nil
	}
	if !isEmail(v) {
		return errIsEmail()
	}

	domain := v[strings.LastIndex(v, "@")+1:]
	if len(f.OnlyDomains) > 0 && !slices.Contains(f.OnlyDomains, domain) {
		return newValidationError("validation_email_domain_not_allowed", "Email domain is not allowed", nil)
	}
	if len(f.ExceptDomains) > 0 && slices.Contains(f.ExceptDomains, domain) {
		return newValidationError("validation_email_domain_not_allowed", "Email domain is not allowed", nil)
	}

	return nil
}

// ValidateSettings implements Field.
func (f *EmailField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	errs := NestedErrors{}
	f.validateBase(errs)
	errs.addErr("exceptDomains", validateDomains(f.ExceptDomains, f.OnlyDomains))
	errs.addErr("onlyDomains", validateDomains(f.OnlyDomains, f.ExceptDomains))

	return errs.orNil()
}

// URLField is a "url" field: one URL, optionally restricted to or excluding some
// hosts.
type URLField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// ExceptDomains rejects URLs of these hosts.
	ExceptDomains []string `json:"exceptDomains"`
	// OnlyDomains accepts only URLs of these hosts.
	OnlyDomains []string `json:"onlyDomains"`
	// Required rejects the empty string.
	Required bool `json:"required"`
}

// Type implements Field.
func (f *URLField) Type() string { return FieldTypeURL }

// ColumnType implements Field.
func (f *URLField) ColumnType() string { return columnText }

// PrepareValue implements Field.
func (f *URLField) PrepareValue(raw any) any { return castToString(raw) }

// DriverValue implements Field.
func (f *URLField) DriverValue(value any) (any, error) { return castToString(value), nil }

// OutputValue implements Field.
func (f *URLField) OutputValue(value any) any { return castToString(value) }

// ValidateValue implements Field.
func (f *URLField) ValidateValue(_ context.Context, _ ValueContext, value any) error {
	v, ok := value.(string)
	if !ok {
		return errUnsupportedValueType()
	}
	if v == "" {
		if f.Required {
			return errRequired()
		}
		return nil
	}
	if !isURL(v) {
		return newValidationError("validation_invalid_url", "Must be a valid url", nil)
	}

	u, _ := url.Parse(v)
	host := ""
	if u != nil {
		host = u.Host
	}
	if len(f.OnlyDomains) > 0 && !slices.Contains(f.OnlyDomains, host) {
		return newValidationError("validation_url_domain_not_allowed", "Url domain is not allowed", nil)
	}
	if len(f.ExceptDomains) > 0 && slices.Contains(f.ExceptDomains, host) {
		return newValidationError("validation_url_domain_not_allowed", "Url domain is not allowed", nil)
	}

	return nil
}

// ValidateSettings implements Field.
func (f *URLField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	errs := NestedErrors{}
	f.validateBase(errs)
	errs.addErr("exceptDomains", validateDomains(f.ExceptDomains, f.OnlyDomains))
	errs.addErr("onlyDomains", validateDomains(f.OnlyDomains, f.ExceptDomains))

	return errs.orNil()
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
