package core

import (
	"fmt"
	"strconv"

	"github.com/pocketfleet/pocketfleet/instance/internal/oauth2"
)

// validateAuthOptions is PocketBase's collectionAuthOptions.validate: the options'
// own rules first (one error group per key); only when they pass, the MFA and
// identity field checks.
func (v *collectionValidator) validateAuthOptions() NestedErrors {
	o := &v.new.Auth
	errs := NestedErrors{}

	errs.addErr("authRule", v.checkRule(o.AuthRule, v.original.Auth.AuthRule))

	if o.ManageRule != nil && *o.ManageRule == "" {
		errs["manageRule"] = errNilOrNotEmpty()
	} else {
		errs.addErr("manageRule", v.checkRule(o.ManageRule, v.original.Auth.ManageRule))
	}

	errs.addErr("authAlert", validateNested(NestedErrors{"emailTemplate": validateEmailTemplate(o.AuthAlert.EmailTemplate)}))
	errs.addErr("passwordAuth", validatePasswordAuth(o.PasswordAuth))
	errs.addErr("oauth2", validateOAuth2(o.OAuth2))
	errs.addErr("otp", validateOTP(o.OTP))
	errs.addErr("mfa", validateMFA(o.MFA))
	for key, token := range map[string]TokenConfig{
		"authToken":          o.AuthToken,
		"passwordResetToken": o.PasswordResetToken,
		"emailChangeToken":   o.EmailChangeToken,
		"verificationToken":  o.VerificationToken,
		"fileToken":          o.FileToken,
	} {
		errs.addErr(key, validateTokenConfig(token))
	}
	for key, tmpl := range map[string]EmailTemplate{
		"verificationTemplate":       o.VerificationTemplate,
		"resetPasswordTemplate":      o.ResetPasswordTemplate,
		"confirmEmailChangeTemplate": o.ConfirmEmailChangeTemplate,
	} {
		// note: a blank template is reported per key, as PocketBase (validation.Required
		// does not treat a struct as empty)
		errs.addErr(key, validateEmailTemplate(tmpl))
	}
	if len(errs) > 0 {
		return errs
	}

	if o.MFA.Enabled {
		enabled := 0
		for _, on := range []bool{o.PasswordAuth.Enabled, o.OAuth2.Enabled, o.OTP.Enabled} {
			if on {
				enabled++
			}
		}
		if enabled < 2 {
			return NestedErrors{"mfa": NestedErrors{"enabled": newValidationError("validation_mfa_not_enough_auths",
				"MFA requires at least 2 auth methods to be enabled.", nil)}}
		}
		if o.MFA.Rule != "" {
			oldRule := v.original.Auth.MFA.Rule
			if err := v.checkRule(&o.MFA.Rule, &oldRule); err != nil {
				return NestedErrors{"mfa": NestedErrors{"rule": err}}
			}
		}
	}

	if o.PasswordAuth.Enabled {
		if err := v.checkIdentityFields(o.PasswordAuth.IdentityFields); err != nil {
			return NestedErrors{"passwordAuth": NestedErrors{"identityFields": err}}
		}
	}

	return nil
}

// validateNested returns errs, or nil when all its entries are nil.
func validateNested(errs NestedErrors) error {
	out := NestedErrors{}
	for k, err := range errs {
		out.addErr(k, err)
	}

	return out.orNil()
}

func validateEmailTemplate(t EmailTemplate) error {
	errs := NestedErrors{}
	if t.Subject == "" {
		errs["subject"] = errRequired()
	}
	if t.Body == "" {
		errs["body"] = errRequired()
	}

	return errs.orNil()
}

func validateTokenConfig(t TokenConfig) error {
	errs := NestedErrors{}
	if t.Secret == "" {
		errs["secret"] = errRequired()
	} else {
		errs.addErr("secret", checkLength(t.Secret, 30, 255))
	}

	switch {
	case t.Duration == 0:
		errs["duration"] = errRequired()
	case t.Duration < 10:
		errs["duration"] = errMinThreshold(10)
	case t.Duration > 94670856: // ~3 years
		errs["duration"] = errMaxThreshold(94670856)
	}

	return errs.orNil()
}

// validateDuration is the Required, Min(10), Max(86400) rule of the OTP and MFA
// durations.
func validateDuration(d int64) *ValidationError {
	switch {
	case d == 0:
		return errRequired()
	case d < 10:
		return errMinThreshold(10)
	case d > 86400:
		return errMaxThreshold(86400)
	}

	return nil
}

func validateOTP(c OTPConfig) error {
	errs := NestedErrors{}
	if c.Enabled {
		errs.addErr("duration", validateDuration(c.Duration))
		switch {
		case c.Length == 0:
			errs["length"] = errRequired()
		case c.Length < 4:
			errs["length"] = errMinThreshold(4)
		}
	}
	errs.addErr("emailTemplate", validateEmailTemplate(c.EmailTemplate))

	return errs.orNil()
}

func validateMFA(c MFAConfig) error {
	if !c.Enabled {
		return nil
	}
	errs := NestedErrors{}
	errs.addErr("duration", validateDuration(c.Duration))

	return errs.orNil()
}

func validatePasswordAuth(c PasswordAuthConfig) error {
	if !c.Enabled {
		return nil
	}
	if len(nonzeroUniques(c.IdentityFields)) == 0 {
		return NestedErrors{"identityFields": errRequired()}
	}

	return nil
}

// validateOAuth2 checks the providers of an enabled OAuth2 config: each needs the name
// of a registered provider, a client id and a client secret; names are unique and the
// endpoint overrides are URLs.
func validateOAuth2(c OAuth2Config) error {
	if !c.Enabled {
		return nil
	}

	seen := map[string]struct{}{}
	for i, p := range c.Providers {
		if p.Name == "" {
			continue
		}
		if _, ok := seen[p.Name]; ok {
			return NestedErrors{"providers": NestedErrors{strconv.Itoa(i): NestedErrors{"name": newValidationError(
				"validation_duplicated_provider", "The provider "+p.Name+" is already registered.", map[string]any{"name": p.Name})}}}
		}
		seen[p.Name] = struct{}{}
	}

	providerErrs := NestedErrors{}
	for i, p := range c.Providers {
		errs := NestedErrors{}
		switch {
		case p.Name == "":
			errs["name"] = errRequired()
		case !oauth2.Exists(p.Name):
			errs["name"] = newValidationError("validation_missing_provider",
				"Invalid or missing provider with name "+p.Name+".", map[string]any{"name": p.Name})
		}
		if p.ClientID == "" {
			errs["clientId"] = errRequired()
		}
		if p.ClientSecret == "" {
			errs["clientSecret"] = errRequired()
		}
		for key, u := range map[string]string{"authURL": p.AuthURL, "tokenURL": p.TokenURL, "userInfoURL": p.UserInfoURL} {
			if u != "" && !isURL(u) {
				errs[key] = errIsURL()
			}
		}
		providerErrs.addErr(strconv.Itoa(i), errs.orNil())
	}
	if len(providerErrs) > 0 {
		return NestedErrors{"providers": providerErrs}
	}

	return nil
}

// checkIdentityFields requires every identity field to exist and have a single-column
// unique index.
func (v *collectionValidator) checkIdentityFields(names []string) *ValidationError {
	for _, name := range names {
		if v.new.Fields.GetByName(name) == nil {
			return newValidationError("validation_missing_field",
				fmt.Sprintf("Invalid or missing field %s", name), map[string]any{"fieldName": name})
		}
		if !hasSingleColumnUniqueIndex(v.new.Indexes, name) {
			return newValidationError("validation_missing_unique_constraint",
				fmt.Sprintf("The field %s doesn't have a UNIQUE constraint.", name), map[string]any{"fieldName": name})
		}
	}

	return nil
}
