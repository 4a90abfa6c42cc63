package core

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// AuthOptions are the `options` of an auth collection, in PocketBase's field order
// (core/collection_model_auth_options.go), which is also the order of its JSON keys.
type AuthOptions struct {
	// AuthRule is checked after a successful authentication; "" allows everyone.
	AuthRule *string `json:"authRule"`
	// ManageRule lets matching auth records manage other records' auth fields.
	ManageRule *string `json:"manageRule"`
	// AuthAlert sends an email on a login from a new location.
	AuthAlert AuthAlertConfig `json:"authAlert"`
	// OAuth2 configures the OAuth2 providers.
	OAuth2 OAuth2Config `json:"oauth2"`
	// PasswordAuth configures identity/password authentication.
	PasswordAuth PasswordAuthConfig `json:"passwordAuth"`
	// MFA configures multi-factor authentication.
	MFA MFAConfig `json:"mfa"`
	// OTP configures one-time-password authentication.
	OTP OTPConfig `json:"otp"`
	// AuthToken configures auth tokens.
	AuthToken TokenConfig `json:"authToken"`
	// PasswordResetToken configures password reset tokens.
	PasswordResetToken TokenConfig `json:"passwordResetToken"`
	// EmailChangeToken configures email change tokens.
	EmailChangeToken TokenConfig `json:"emailChangeToken"`
	// VerificationToken configures verification tokens.
	VerificationToken TokenConfig `json:"verificationToken"`
	// FileToken configures protected file tokens.
	FileToken TokenConfig `json:"fileToken"`
	// VerificationTemplate is the verification email.
	VerificationTemplate EmailTemplate `json:"verificationTemplate"`
	// ResetPasswordTemplate is the password reset email.
	ResetPasswordTemplate EmailTemplate `json:"resetPasswordTemplate"`
	// ConfirmEmailChangeTemplate is the email change confirmation email.
	ConfirmEmailChangeTemplate EmailTemplate `json:"confirmEmailChangeTemplate"`
}

// AuthAlertConfig configures the new-location login alert.
type AuthAlertConfig struct {
	// Enabled turns the alert on.
	Enabled bool `json:"enabled"`
	// EmailTemplate is the alert email.
	EmailTemplate EmailTemplate `json:"emailTemplate"`
}

// OAuth2Config configures OAuth2 authentication.
type OAuth2Config struct {
	// Providers are the configured providers.
	Providers []OAuth2ProviderConfig `json:"providers"`
	// MappedFields maps provider user data onto collection fields.
	MappedFields OAuth2MappedFields `json:"mappedFields"`
	// Enabled turns OAuth2 on.
	Enabled bool `json:"enabled"`
}

// UnmarshalJSON implements json.Unmarshaler as PocketBase does: the given keys merge
// over the config, and "providers" replaces the list, each submitted provider merged
// over the stored one of the same name (so a client that never sees clientSecret does
// not erase it) or starting blank.
func (c *OAuth2Config) UnmarshalJSON(data []byte) error {
	var in struct {
		Providers    []json.RawMessage   `json:"providers"`
		MappedFields *OAuth2MappedFields `json:"mappedFields"`
		Enabled      *bool               `json:"enabled"`
	}
	in.MappedFields = &c.MappedFields
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	if in.Providers == nil {
		return nil
	}

	providers := make([]OAuth2ProviderConfig, len(in.Providers))
	for i, raw := range in.Providers {
		var named struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &named); err != nil {
			return err
		}
		for _, original := range c.Providers {
			if original.Name == named.Name {
				providers[i] = original
				providers[i].Extra = maps.Clone(original.Extra)
				break
			}
		}
		if err := json.Unmarshal(raw, &providers[i]); err != nil {
			return err
		}
	}
	c.Providers = providers

	return nil
}

// OAuth2MappedFields names the collection fields filled from an OAuth2 user.
type OAuth2MappedFields struct {
	// ID receives the provider's user id.
	ID string `json:"id"`
	// Name receives the user's name.
	Name string `json:"name"`
	// Username receives the user's username.
	Username string `json:"username"`
	// AvatarURL receives the user's avatar.
	AvatarURL string `json:"avatarURL"`
}

// OAuth2ProviderConfig is one OAuth2 provider.
type OAuth2ProviderConfig struct {
	// PKCE forces (true), disables (false) or auto-detects (nil) PKCE.
	PKCE *bool `json:"pkce"`
	// Name is the provider name, e.g. "google".
	Name string `json:"name"`
	// ClientID is the OAuth2 client id.
	ClientID string `json:"clientId"`
	// ClientSecret is the OAuth2 client secret; stored, never sent to clients.
	ClientSecret string `json:"clientSecret,omitempty"`
	// AuthURL overrides the authorization endpoint.
	AuthURL string `json:"authURL"`
	// TokenURL overrides the token endpoint.
	TokenURL string `json:"tokenURL"`
	// UserInfoURL overrides the user info endpoint.
	UserInfoURL string `json:"userInfoURL"`
	// DisplayName overrides the provider's display name.
	DisplayName string `json:"displayName"`
	// Extra holds provider-specific settings.
	Extra map[string]any `json:"extra"`
}

// PasswordAuthConfig configures identity/password authentication.
type PasswordAuthConfig struct {
	// Enabled turns password authentication on.
	Enabled bool `json:"enabled"`
	// IdentityFields are the fields a user may log in with.
	IdentityFields []string `json:"identityFields"`
}

// MFAConfig configures multi-factor authentication.
type MFAConfig struct {
	// Enabled turns MFA on.
	Enabled bool `json:"enabled"`
	// Duration is how long, in seconds, a first factor stays valid.
	Duration int64 `json:"duration"`
	// Rule selects the records MFA applies to; "" means all.
	Rule string `json:"rule"`
}

// OTPConfig configures one-time-password authentication.
type OTPConfig struct {
	// Enabled turns OTP on.
	Enabled bool `json:"enabled"`
	// Duration is the OTP lifetime in seconds.
	Duration int64 `json:"duration"`
	// Length is the number of digits.
	Length int `json:"length"`
	// EmailTemplate is the OTP email.
	EmailTemplate EmailTemplate `json:"emailTemplate"`
}

// TokenConfig configures one kind of token.
type TokenConfig struct {
	// Secret is added to the record's tokenKey to sign the token; stored, never sent to
	// clients.
	Secret string `json:"secret,omitempty"`
	// Duration is the token lifetime in seconds.
	Duration int64 `json:"duration"`
}

// EmailTemplate is an email subject and HTML body with {PLACEHOLDERS}.
type EmailTemplate struct {
	// Subject is the email subject.
	Subject string `json:"subject"`
	// Body is the HTML email body.
	Body string `json:"body"`
}

// tokenSecretLength is the length of the random token secrets of a new auth collection.
const tokenSecretLength = 50

// NewAuthOptions returns the options PocketBase v0.40 gives a new auth collection
// (core.NewAuthCollection), with freshly generated token secrets.
func NewAuthOptions() (AuthOptions, error) {
	var secrets [5]string
	for i := range secrets {
		s, err := security.RandomString(tokenSecretLength)
		if err != nil {
			return AuthOptions{}, fmt.Errorf("generating token secret: %w", err)
		}
		secrets[i] = s
	}

	empty := ""

	return AuthOptions{
		AuthRule:   &empty,
		ManageRule: nil,
		AuthAlert: AuthAlertConfig{
			Enabled:       true,
			EmailTemplate: defaultAuthAlertTemplate,
		},
		OAuth2: OAuth2Config{
			Providers: []OAuth2ProviderConfig{},
		},
		PasswordAuth: PasswordAuthConfig{
			Enabled:        true,
			IdentityFields: []string{FieldNameEmail},
		},
		MFA: MFAConfig{Duration: 600},
		OTP: OTPConfig{
			Duration:      180,
			Length:        8,
			EmailTemplate: defaultOTPTemplate,
		},
		AuthToken:                  TokenConfig{Secret: secrets[0], Duration: 432000},
		PasswordResetToken:         TokenConfig{Secret: secrets[1], Duration: 1800},
		EmailChangeToken:           TokenConfig{Secret: secrets[2], Duration: 1800},
		VerificationToken:          TokenConfig{Secret: secrets[3], Duration: 86400},
		FileToken:                  TokenConfig{Secret: secrets[4], Duration: 180},
		VerificationTemplate:       defaultVerificationTemplate,
		ResetPasswordTemplate:      defaultResetPasswordTemplate,
		ConfirmEmailChangeTemplate: defaultConfirmEmailChangeTemplate,
	}, nil
}
