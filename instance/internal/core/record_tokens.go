package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// Token types, the `type` claim (core/record_tokens.go).
const (
	TokenTypeAuth          = "auth"
	TokenTypeFile          = "file"
	TokenTypeVerification  = "verification"
	TokenTypePasswordReset = "passwordReset"
	TokenTypeEmailChange   = "emailChange"
)

// Token claims.
const (
	TokenClaimID           = "id"
	TokenClaimType         = "type"
	TokenClaimCollectionID = "collectionId"
	TokenClaimEmail        = "email"
	TokenClaimNewEmail     = "newEmail"
	TokenClaimRefreshable  = "refreshable"
)

// ErrNotAuthRecord is returned when a token is asked of a record of a non-auth collection.
var ErrNotAuthRecord = errors.New("not an auth collection record")

// ErrInvalidToken wraps every reason FindAuthRecordByToken rejects a token for.
var ErrInvalidToken = errors.New("invalid or expired token")

// tokenConfig returns the token config of kind tokenType of auth collection c.
func tokenConfig(c *Collection, tokenType string) (TokenConfig, error) {
	if !c.IsAuth() {
		return TokenConfig{}, ErrNotAuthRecord
	}

	switch tokenType {
	case TokenTypeAuth:
		return c.Auth.AuthToken, nil
	case TokenTypeFile:
		return c.Auth.FileToken, nil
	case TokenTypeVerification:
		return c.Auth.VerificationToken, nil
	case TokenTypePasswordReset:
		return c.Auth.PasswordResetToken, nil
	case TokenTypeEmailChange:
		return c.Auth.EmailChangeToken, nil
	default:
		return TokenConfig{}, fmt.Errorf("unknown token type %q", tokenType)
	}
}

// newRecordToken signs a token of tokenType for record with the key tokenKey + the
// collection's secret for that type.
func newRecordToken(record *Record, tokenType string, extra map[string]any, duration time.Duration) (string, error) {
	cfg, err := tokenConfig(record.Collection(), tokenType)
	if err != nil {
		return "", err
	}
	if duration == 0 {
		duration = cfg.TokenDuration()
	}

	claims := map[string]any{
		TokenClaimID:           record.ID(),
		TokenClaimType:         tokenType,
		TokenClaimCollectionID: record.Collection().ID,
	}
	for k, v := range extra {
		claims[k] = v
	}

	token, err := security.NewJWT(claims, record.TokenKey()+cfg.Secret, duration)
	if err != nil {
		return "", fmt.Errorf("creating %s token: %w", tokenType, err)
	}

	return token, nil
}

// NewAuthToken returns a refreshable auth token for an auth record, valid for the
// collection's authToken.duration.
func NewAuthToken(record *Record) (string, error) {
	return newRecordToken(record, TokenTypeAuth, map[string]any{TokenClaimRefreshable: true}, 0)
}

// NewStaticAuthToken returns a non-refreshable auth token valid for duration (the
// collection's authToken.duration when 0), as impersonate issues.
func NewStaticAuthToken(record *Record, duration time.Duration) (string, error) {
	return newRecordToken(record, TokenTypeAuth, map[string]any{TokenClaimRefreshable: false}, duration)
}

// NewFileToken returns a token for protected files.
func NewFileToken(record *Record) (string, error) {
	return newRecordToken(record, TokenTypeFile, nil, 0)
}

// NewVerificationToken returns an email verification token.
func NewVerificationToken(record *Record) (string, error) {
	return newRecordToken(record, TokenTypeVerification, map[string]any{TokenClaimEmail: record.Email()}, 0)
}

// NewPasswordResetToken returns a password reset token.
func NewPasswordResetToken(record *Record) (string, error) {
	return newRecordToken(record, TokenTypePasswordReset, map[string]any{TokenClaimEmail: record.Email()}, 0)
}

// NewEmailChangeToken returns a token confirming the change of the record's email to
// newEmail.
func NewEmailChangeToken(record *Record, newEmail string) (string, error) {
	return newRecordToken(record, TokenTypeEmailChange, map[string]any{
		TokenClaimEmail:    record.Email(),
		TokenClaimNewEmail: newEmail,
	}, 0)
}

// FindAuthRecordByToken returns the auth record a valid token was issued to (PocketBase's
// FindAuthRecordByToken). With validTypes, the token's type must be one of them. The
// token is decoded first, without trust, to find the record and so the key
// (tokenKey + the collection secret of the token's type); then its HS256 signature and
// expiry are verified. Any failure wraps ErrInvalidToken; a database failure is
// returned as is.
func (a *App) FindAuthRecordByToken(ctx context.Context, token string, validTypes ...string) (*Record, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: missing token", ErrInvalidToken)
	}

	claims, err := security.ParseUnverifiedJWT(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}

	id, _ := claims[TokenClaimID].(string)
	collectionID, _ := claims[TokenClaimCollectionID].(string)
	tokenType, _ := claims[TokenClaimType].(string)
	if id == "" || collectionID == "" || tokenType == "" {
		return nil, fmt.Errorf("%w: missing or invalid token claims", ErrInvalidToken)
	}
	if len(validTypes) > 0 && !slices.Contains(validTypes, tokenType) {
		return nil, fmt.Errorf("%w: token type %q not allowed", ErrInvalidToken, tokenType)
	}

	record, err := a.FindRecordByID(ctx, collectionID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if err != nil {
		return nil, err
	}

	cfg, err := tokenConfig(record.Collection(), tokenType)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if _, err := security.ParseJWT(token, record.TokenKey()+cfg.Secret); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}

	return record, nil
}
