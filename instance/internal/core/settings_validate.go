package core

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Validate checks the settings with PocketBase v0.40's rules (Settings.PostValidate and
// the Validate methods of its config structs in core/settings_model.go) and returns
// NestedErrors keyed by JSON name, e.g. {"meta":{"appName":…}}, or nil.
//
// As with ozzo-validation, each value reports its first failing rule only, and the
// threshold rules skip zero values (Min(1) accepts 0; Required catches it).
func (s *Settings) Validate() error {
	errs := NestedErrors{}
	errs.addErr("superuserIPs", validateIPsOrSubnets(s.SuperuserIPs))
	errs.addErr("meta", s.Meta.validate())
	errs.addErr("logs", s.Logs.validate())
	errs.addErr("smtp", s.SMTP.validate())
	errs.addErr("s3", s.S3.validate())
	errs.addErr("backups", s.Backups.validate())
	errs.addErr("batch", s.Batch.validate())
	errs.addErr("rateLimits", s.RateLimits.validate())
	// note: PocketBase's TrustedProxyConfig.Validate accepts anything.

	return errs.orNil()
}

func (c MetaConfig) validate() error {
	errs := NestedErrors{}
	errs.addErr("accentColor", firstValidationError(
		ruleLength(c.AccentColor, 7, 7),
		checkString(c.AccentColor, govalidatorIsHexcolor, errIsHexColor),
	))
	errs.addErr("appName", firstValidationError(checkRequiredString(c.AppName), ruleLength(c.AppName, 1, 255)))
	errs.addErr("appURL", firstValidationError(
		checkRequiredString(c.AppURL),
		checkString(c.AppURL, govalidatorIsURL, errIsURL),
	))
	errs.addErr("senderName", firstValidationError(checkRequiredString(c.SenderName), ruleLength(c.SenderName, 1, 255)))
	errs.addErr("senderAddress", firstValidationError(
		checkString(c.SenderAddress, isEmail, errIsEmail),
		checkRequiredString(c.SenderAddress),
	))

	return errs.orNil()
}

func (c LogsConfig) validate() error {
	errs := NestedErrors{}
	errs.addErr("maxDataSize", firstValidationError(ruleMin(c.MaxDataSize, 0), ruleMax(c.MaxDataSize, maxSafeJSONInt)))
	errs.addErr("maxDays", firstValidationError(
		ruleMin(int64(c.MaxDays), 0),
		ruleMax(int64(c.MaxDays), maxSafeJSONInt),
	))
	errs.addErr("minLevel", ruleMax(int64(c.MinLevel), maxSafeJSONInt))

	return errs.orNil()
}

// The SMTP AUTH methods (tools/mailer).
const (
	smtpAuthPlain = "PLAIN"
	smtpAuthLogin = "LOGIN"
)

func (c SMTPConfig) validate() error {
	errs := NestedErrors{}
	errs.addErr("host", firstValidationError(
		checkRequiredWhen(c.Enabled, c.Host == ""),
		checkString(c.Host, govalidatorIsHost, errIsHost),
	))
	errs.addErr("port", firstValidationError(checkRequiredWhen(c.Enabled, c.Port == 0), ruleMin(int64(c.Port), 0)))
	errs.addErr("authMethod", checkIn(c.AuthMethod, smtpAuthLogin, smtpAuthPlain))
	errs.addErr("localName", checkString(c.LocalName, govalidatorIsHost, errIsHost))

	return errs.orNil()
}

func (c S3Config) validate() error {
	errs := NestedErrors{}
	errs.addErr("endpoint", firstValidationError(
		checkString(c.Endpoint, govalidatorIsURL, errIsURL),
		checkRequiredWhen(c.Enabled, c.Endpoint == ""),
	))
	errs.addErr("bucket", checkRequiredWhen(c.Enabled, c.Bucket == ""))
	errs.addErr("region", checkRequiredWhen(c.Enabled, c.Region == ""))
	errs.addErr("accessKey", checkRequiredWhen(c.Enabled, c.AccessKey == ""))
	errs.addErr("secret", checkRequiredWhen(c.Enabled, c.Secret == ""))

	return errs.orNil()
}

func (c BackupsConfig) validate() error {
	errs := NestedErrors{}
	errs.addErr("s3", c.S3.validate())
	if c.Cron != "" {
		if _, err := parseCronSchedule(c.Cron); err != nil {
			errs.addErr("cron", newValidationError("validation_invalid_cron", err.Error(), nil))
		}
	}
	errs.addErr("cronMaxKeep", firstValidationError(
		checkRequiredWhen(c.Cron != "", c.CronMaxKeep == 0),
		ruleMin(int64(c.CronMaxKeep), 1),
	))

	return errs.orNil()
}

func (c BatchConfig) validate() error {
	errs := NestedErrors{}
	errs.addErr("maxRequests", firstValidationError(
		checkRequiredWhen(c.Enabled, c.MaxRequests == 0),
		ruleMin(int64(c.MaxRequests), 0),
	))
	errs.addErr("timeout", firstValidationError(checkRequiredWhen(c.Enabled, c.Timeout == 0), ruleMin(c.Timeout, 0)))
	errs.addErr("maxBodySize", ruleMin(c.MaxBodySize, 0))

	return errs.orNil()
}

func (c RateLimitsConfig) validate() error {
	errs := NestedErrors{}
	switch {
	case c.Enabled && len(c.Rules) == 0:
		errs.addErr("rules", errRequired())
	default:
		// note: PocketBase's When(enabled, Required) rule validates the rules themselves
		// (ozzo's Validate of a slice of Validatable) before its label check runs
		rules := NestedErrors{}
		for i, r := range c.Rules {
			rules.addErr(strconv.Itoa(i), r.validate())
		}
		if err := rules.orNil(); err != nil {
			errs.addErr("rules", err)
			break
		}
		errs.addErr("rules", checkUniqueRateLimitLabels(c.Rules))
	}
	errs.addErr("excludedIPs", validateIPsOrSubnets(c.ExcludedIPs))

	return errs.orNil()
}

// rateLimitLabelPattern is PocketBase's rateLimitRuleLabelRegex, verbatim.
var rateLimitLabelPattern = regexp.MustCompile(`^(\w+\ \/[\w\/-]*|\/[\w\/-]*|^\w+\:\w+|\*\:\w+|\w+)$`)

func (r RateLimitRule) validate() error {
	errs := NestedErrors{}
	errs.addErr("label", firstValidationError(
		checkRequiredString(r.Label),
		checkString(r.Label, rateLimitLabelPattern.MatchString, errMatchInvalid),
	))
	errs.addErr("maxRequests", firstValidationError(checkRequiredWhen(true, r.MaxRequests == 0), ruleMin(int64(r.MaxRequests), 1)))
	errs.addErr("duration", firstValidationError(checkRequiredWhen(true, r.Duration == 0), ruleMin(r.Duration, 1)))
	errs.addErr("audience", checkIn(r.Audience, RateLimitAudienceAll, RateLimitAudienceGuest, RateLimitAudienceAuth))

	return errs.orNil()
}

// checkUniqueRateLimitLabels reports the first rule whose label and audience equal, or
// prefix, those of an earlier rule (PocketBase's checkUniqueRuleLabel: the keys
// "label@@audience" are compared as prefixes of each other).
func checkUniqueRateLimitLabels(rules []RateLimitRule) error {
	existing := make([]string, 0, len(rules))
	for i, r := range rules {
		key := r.Label + "@@" + r.Audience
		for _, other := range existing {
			if strings.HasPrefix(other, key) || strings.HasPrefix(key, other) {
				return NestedErrors{strconv.Itoa(i): NestedErrors{"label": newValidationError(
					"validation_conflicting_rate_limit_rule",
					"Rate limit rule configuration with label "+r.Label+" already exists or conflicts with another rule.",
					map[string]any{"label": r.Label},
				)}}
			}
		}
		existing = append(existing, key)
	}

	return nil
}

// validateIPsOrSubnets checks each entry of list as PocketBase's
// Each(Required, By(validators.IPOrSubnet)).
func validateIPsOrSubnets(list []string) error {
	errs := NestedErrors{}
	for i, v := range list {
		if v == "" {
			errs.addErr(strconv.Itoa(i), errRequired())
			continue
		}
		if !isIPOrSubnet(v) {
			// note: "invlaid" is PocketBase's spelling of the code.
			errs.addErr(strconv.Itoa(i), newValidationError("validation_invlaid_ip_or_subnet", "invalid IP or CIDR subnet", nil))
		}
	}

	return errs.orNil()
}

// isIPOrSubnet reports whether v is an IP address or a CIDR subnet.
func isIPOrSubnet(v string) bool {
	if _, err := netip.ParsePrefix(v); err == nil {
		return true
	}
	_, err := netip.ParseAddr(v)

	return err == nil
}

// firstValidationError returns the first non-nil error: ozzo-validation stops at a
// value's first failing rule.
func firstValidationError(errs ...*ValidationError) *ValidationError {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}

	return nil
}

// checkRequiredString is ozzo's Required on a string.
func checkRequiredString(s string) *ValidationError {
	if s == "" {
		return errRequired()
	}

	return nil
}

// checkRequiredWhen is ozzo's When(cond, Required) given whether the value is empty.
func checkRequiredWhen(cond, empty bool) *ValidationError {
	if cond && empty {
		return errRequired()
	}

	return nil
}

// checkString is an ozzo string rule: empty strings pass.
func checkString(s string, valid func(string) bool, errFn func() *ValidationError) *ValidationError {
	if s == "" || valid(s) {
		return nil
	}

	return errFn()
}

// checkIn is ozzo's In rule: empty values pass.
func checkIn(s string, allowed ...string) *ValidationError {
	if s == "" {
		return nil
	}
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}

	return newValidationError("validation_in_invalid", "must be a valid value", nil)
}

// ruleMin is ozzo's Min threshold rule on integers: zero passes (ozzo treats it as
// empty).
func ruleMin(v, threshold int64) *ValidationError {
	if v != 0 && v < threshold {
		return newValidationError("validation_min_greater_equal_than_required",
			fmt.Sprintf("must be no less than %d", threshold), map[string]any{"threshold": threshold})
	}

	return nil
}

// ruleMax is ozzo's Max threshold rule on integers: zero passes.
func ruleMax(v, threshold int64) *ValidationError {
	if v != 0 && v > threshold {
		return newValidationError("validation_max_less_equal_than_required",
			fmt.Sprintf("must be no greater than %d", threshold), map[string]any{"threshold": threshold})
	}

	return nil
}

// ruleLength is ozzo's Length rule on a string: empty passes, runes are counted.
func ruleLength(s string, minLen, maxLen int) *ValidationError {
	if n := utf8.RuneCountInString(s); s == "" || (n >= minLen && n <= maxLen) {
		return nil
	}
	params := map[string]any{"min": minLen, "max": maxLen}
	if minLen == maxLen {
		return newValidationError("validation_length_invalid", fmt.Sprintf("the length must be exactly %d", minLen), params)
	}

	return newValidationError("validation_length_out_of_range",
		fmt.Sprintf("the length must be between %d and %d", minLen, maxLen), params)
}

// ozzo-validation's is.* errors used by the settings.

func errMatchInvalid() *ValidationError {
	return newValidationError("validation_match_invalid", "must be in a valid format", nil)
}

func errIsURL() *ValidationError {
	return newValidationError("validation_is_url", "must be a valid URL", nil)
}

func errIsHost() *ValidationError {
	return newValidationError("validation_is_host", "must be a valid IP address or DNS name", nil)
}

func errIsHexColor() *ValidationError {
	return newValidationError("validation_is_hex_color", "must be a valid hexadecimal color code", nil)
}

// The patterns of github.com/asaskevich/govalidator (v0.0.0-20230301143203), which
// ozzo-validation's is.URL, is.Host and is.HexColor use; kept verbatim so that the
// settings accept and reject exactly what PocketBase does.
const (
	govalidatorIP           = `(([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}|::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))`
	govalidatorURLSchema    = `((ftp|tcp|udp|wss?|https?):\/\/)`
	govalidatorURLUsername  = `(\S+(:\S*)?@)`
	govalidatorURLPath      = `((\/|\?|#)[^\s]*)`
	govalidatorURLPort      = `(:(\d{1,5}))`
	govalidatorURLIP        = `([1-9]\d?|1\d\d|2[01]\d|22[0-3]|24\d|25[0-5])(\.(\d{1,2}|1\d\d|2[0-4]\d|25[0-5])){2}(?:\.([0-9]\d?|1\d\d|2[0-4]\d|25[0-5]))`
	govalidatorURLSubdomain = `((www\.)|([a-zA-Z0-9]+([-_\.]?[a-zA-Z0-9])*[a-zA-Z0-9]\.[a-zA-Z0-9]+))`
	govalidatorURL          = `^` + govalidatorURLSchema + `?` + govalidatorURLUsername + `?` + `((` + govalidatorURLIP + `|(\[` + govalidatorIP + `\])|(([a-zA-Z0-9]([a-zA-Z0-9-_]+)?[a-zA-Z0-9]([-\.][a-zA-Z0-9]+)*)|(` + govalidatorURLSubdomain + `?))?(([a-zA-Z\x{00a1}-\x{ffff}0-9]+-?-?)*[a-zA-Z\x{00a1}-\x{ffff}0-9]+)(?:\.([a-zA-Z\x{00a1}-\x{ffff}]{1,}))?))\.?` + govalidatorURLPort + `?` + govalidatorURLPath + `?$`
	govalidatorDNSName      = `^([a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62}){1}(\.[a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62})*[\._]?$`
	govalidatorHexcolor     = "^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"
)

// note: the URL and DNS name patterns are compiled on first use: compiling them took
// ~4 ms of every start (and their memory) for settings few instances ever validate.
var (
	govalidatorURLPattern      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(govalidatorURL) })
	govalidatorDNSNamePattern  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(govalidatorDNSName) })
	govalidatorHexcolorPattern = regexp.MustCompile(govalidatorHexcolor)
)

// govalidatorIsURL is govalidator.IsURL.
func govalidatorIsURL(s string) bool {
	if s == "" || utf8.RuneCountInString(s) >= 2083 || len(s) <= 3 || strings.HasPrefix(s, ".") {
		return false
	}

	tmp := s
	if strings.Contains(s, ":") && !strings.Contains(s, "://") {
		// a port without a scheme: parse it as http
		tmp = "http://" + s
	}
	u, err := url.Parse(tmp)
	if err != nil {
		return false
	}
	if strings.HasPrefix(u.Host, ".") {
		return false
	}
	if u.Host == "" && (u.Path != "" && !strings.Contains(u.Path, ".")) {
		return false
	}

	return govalidatorURLPattern().MatchString(s)
}

// govalidatorIsHost is govalidator.IsHost: an IP or a DNS name.
func govalidatorIsHost(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	if s == "" || len(strings.ReplaceAll(s, ".", "")) > 255 {
		return false
	}

	return govalidatorDNSNamePattern().MatchString(s)
}

// govalidatorIsHexcolor is govalidator.IsHexcolor.
func govalidatorIsHexcolor(s string) bool {
	return govalidatorHexcolorPattern.MatchString(s)
}
