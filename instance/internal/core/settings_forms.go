package core

import (
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The forms of the /api/settings/* actions (PocketBase's forms package), bound with
// DecodeFormJSON or DecodeFormValues and checked with their Validate methods, which
// return NestedErrors keyed by JSON name.

// AppleClientSecretForm is the body of POST /api/settings/apple/generate-client-secret
// (forms.AppleClientSecretCreate).
type AppleClientSecretForm struct {
	// ClientID is the app's Services ID, the token subject.
	ClientID string `json:"clientId"`
	// TeamID is the 10-character Apple developer team id, the token issuer.
	TeamID string `json:"teamId"`
	// KeyID is the 10-character id of the "Sign in with Apple" key, the token "kid".
	KeyID string `json:"keyId"`
	// PrivateKey is the PKCS #8 PEM private key of the "Sign in with Apple" key.
	PrivateKey string `json:"privateKey"`
	// Duration is the token lifetime in seconds, at most 15777000 (~6 months).
	Duration int `json:"duration"`
}

// appleMaxDuration is Apple's limit on the client secret lifetime, in seconds.
const appleMaxDuration = 15777000

// applePrivateKeyPattern is PocketBase's privateKeyRegex, verbatim.
var applePrivateKeyPattern = regexp.MustCompile(`(?m)-----BEGIN PRIVATE KEY----[\s\S]+-----END PRIVATE KEY-----`)

// Validate checks the form with PocketBase's rules.
func (f *AppleClientSecretForm) Validate() error {
	errs := NestedErrors{}
	errs.addErr("clientId", checkRequiredString(f.ClientID))
	errs.addErr("teamId", firstValidationError(checkRequiredString(f.TeamID), ruleLength(f.TeamID, 10, 10)))
	errs.addErr("keyId", firstValidationError(checkRequiredString(f.KeyID), ruleLength(f.KeyID, 10, 10)))
	errs.addErr("privateKey", firstValidationError(
		checkRequiredString(f.PrivateKey),
		checkString(f.PrivateKey, applePrivateKeyPattern.MatchString, errMatchInvalid),
	))
	errs.addErr("duration", firstValidationError(
		checkRequiredWhen(true, f.Duration == 0),
		ruleMin(int64(f.Duration), 1),
		ruleMax(int64(f.Duration), appleMaxDuration),
	))

	return errs.orNil()
}

// GenerateAppleClientSecret returns the "Sign in with Apple" client secret of a valid
// form: an ES256 JWT signed with the form's private key, with the header "kid" set to
// KeyID and the claims iss=TeamID, sub=ClientID, aud=["https://appleid.apple.com"],
// iat=now and exp=now+Duration. Key errors are returned as golang-jwt words them, which
// PocketBase shows to the client.
func GenerateAppleClientSecret(f AppleClientSecretForm, now time.Time) (string, error) {
	key, err := jwt.ParseECPrivateKeyFromPEM([]byte(strings.TrimSpace(f.PrivateKey)))
	if err != nil {
		return "", err
	}

	token := jwt.NewWithClaims(jwt.SigningMethodES256, &jwt.RegisteredClaims{
		Audience:  jwt.ClaimStrings{"https://appleid.apple.com"},
		Subject:   f.ClientID,
		Issuer:    f.TeamID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Duration(f.Duration) * time.Second)),
	})
	token.Header["kid"] = f.KeyID

	return token.SignedString(key)
}

// The templates of POST /api/settings/test/email.
var testEmailTemplates = []string{"verification", "password-reset", "email-change", "otp", "login-alert"}

// TestEmailForm is the body of POST /api/settings/test/email (forms.TestEmailSend).
type TestEmailForm struct {
	// Email is the recipient.
	Email string `json:"email"`
	// Template is one of verification, password-reset, email-change, otp, login-alert.
	Template string `json:"template"`
	// Collection is the auth collection (id or name) whose template is sent; empty
	// means _superusers.
	Collection string `json:"collection"`
}

// Validate checks the form with PocketBase's rules; isAuthCollection reports whether a
// name or id is an auth collection.
func (f *TestEmailForm) Validate(isAuthCollection func(nameOrID string) bool) error {
	errs := NestedErrors{}
	collectionErr := ruleLength(f.Collection, 1, 255)
	if collectionErr == nil && f.Collection != "" && !isAuthCollection(f.Collection) {
		collectionErr = newValidationError("validation_invalid_auth_collection", "Must be a valid auth collection id or name.", nil)
	}
	errs.addErr("collection", collectionErr)
	errs.addErr("email", firstValidationError(
		checkRequiredString(f.Email),
		ruleLength(f.Email, 1, 255),
		checkString(f.Email, isEmail, errIsEmail),
	))
	errs.addErr("template", firstValidationError(checkRequiredString(f.Template), checkIn(f.Template, testEmailTemplates...)))

	return errs.orNil()
}

// The filesystems of POST /api/settings/test/s3.
const (
	testS3Storage = "storage"
	testS3Backups = "backups"
)

// ErrS3NotEnabled is returned when testing an S3 filesystem that is not enabled
// (PocketBase's message).
var ErrS3NotEnabled = errors.New("S3 storage filesystem is not enabled")

// TestS3Form is the body of POST /api/settings/test/s3 (forms.TestS3Filesystem).
type TestS3Form struct {
	// Filesystem is "storage" or "backups".
	Filesystem string `json:"filesystem"`
}

// Validate checks the form with PocketBase's rules.
func (f *TestS3Form) Validate() error {
	errs := NestedErrors{}
	errs.addErr("filesystem", firstValidationError(
		checkRequiredString(f.Filesystem),
		checkIn(f.Filesystem, testS3Storage, testS3Backups),
	))

	return errs.orNil()
}

// S3Config returns the S3 configuration the form names in s.
func (f *TestS3Form) S3Config(s *Settings) S3Config {
	if f.Filesystem == testS3Backups {
		return s.Backups.S3
	}

	return s.S3
}
