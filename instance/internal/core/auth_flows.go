package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// Errors of the email-based auth flows (apis/record_auth_*_request.go, *_confirm.go).
var (
	// ErrSuperusersVerified is returned by RequestVerification for _superusers.
	ErrSuperusersVerified = errors.New("all superusers are verified by default")
	// ErrSuperusersChangeEmailDirectly is returned by RequestEmailChange for _superusers.
	ErrSuperusersChangeEmailDirectly = errors.New("all superusers can change their emails directly")
	// ErrAuthFlowSave wraps the failure to save the record at the end of a confirm flow
	// (validation errors of the record included).
	ErrAuthFlowSave = errors.New("saving the auth record")
	// ErrAuthFlowMail wraps a failure to send the email of a synchronous request flow.
	ErrAuthFlowMail = errors.New("sending the auth email")
)

// authMailResendDelay is how long a record's verification or password reset email is
// not sent again (PocketBase's resend throttle).
const authMailResendDelay = 2 * time.Minute

// authMailSendTimeout bounds the background delivery of an auth email.
const authMailSendTimeout = time.Minute

// authMailThrottle holds, per app and throttle key, when the key expires.
//
// note: PocketBase keeps these keys in its app store with a timer; a package map keyed
// by app does the same without a field on App, expired keys being dropped when read.
var authMailThrottle sync.Map // authThrottleKey -> time.Time

type authThrottleKey struct {
	app *App
	key string
}

func (a *App) throttled(key string) bool {
	v, ok := authMailThrottle.Load(authThrottleKey{a, key})
	if !ok {
		return false
	}
	if time.Now().After(v.(time.Time)) { //nolint:forcetypeassert // only times are stored
		authMailThrottle.Delete(authThrottleKey{a, key})
		return false
	}

	return true
}

func (a *App) throttle(key string) {
	authMailThrottle.Store(authThrottleKey{a, key}, time.Now().Add(authMailResendDelay))
}

// sendInBackground runs send detached from the request, as PocketBase's
// routine.FireAndForget: a failure is only logged, and lifts the throttle key again
// unless throttleOnFailure (PocketBase throttles failed verification mails, not failed
// password reset mails).
//
// note: PocketBase sets the key once the send returns; it is set before here, so that
// requests racing the delivery do not send the mail twice.
func (a *App) sendInBackground(ctx context.Context, what, throttleKey string, throttleOnFailure bool, send func(ctx context.Context) error) {
	a.throttle(throttleKey)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), authMailSendTimeout)
	go func() {
		defer cancel()
		if err := send(ctx); err != nil {
			if !throttleOnFailure {
				authMailThrottle.Delete(authThrottleKey{a, throttleKey})
			}
			a.Logger().LogAttrs(ctx, slog.LevelError, "Failed to send "+what+" email", slog.String("error", err.Error()))
		}
	}()
}

// FindAuthRecordByEmail returns the record of auth collection c with the given email
// (PocketBase's FindAuthRecordByEmail): compared case-insensitively only when the
// email's unique index is COLLATE NOCASE. No match is ErrRecordNotFound.
func (a *App) FindAuthRecordByEmail(ctx context.Context, c *Collection, email string) (*Record, error) {
	if !c.IsAuth() {
		return nil, ErrNotAuthRecord
	}

	where := quoteIdent(FieldNameEmail) + " = ?"
	if idx, ok := identityUniqueIndex(c.Indexes, FieldNameEmail); ok && strings.EqualFold(idx.collate, "nocase") {
		where += " COLLATE NOCASE"
	}

	return findRecordWhere(ctx, a.reader(ctx), c, where, email)
}

// validateEmailForm checks the email of a request form: required, 1–255 characters, an
// email.
func validateEmailForm(key, email string) error {
	var err *ValidationError
	switch {
	case email == "":
		err = errRequired()
	case checkLength(email, 1, 255) != nil:
		err = checkLength(email, 1, 255)
	case !isEmail(email):
		err = errIsEmail()
	default:
		return nil
	}

	return ValidationErrors{key: err}
}

// RequestVerification emails a verification token to the unverified record of c with
// the given email, in the background. An unknown email, a verified record and a resend
// within two minutes succeed without sending, so that accounts cannot be enumerated.
// Form errors are ValidationErrors; _superusers is ErrSuperusersVerified.
func (a *App) RequestVerification(ctx context.Context, c *Collection, email string) error {
	if c.Name == CollectionNameSuperusers {
		return ErrSuperusersVerified
	}
	if err := validateEmailForm("email", email); err != nil {
		return err
	}

	record, err := a.FindAuthRecordByEmail(ctx, c, email)
	if err != nil {
		a.Logger().LogAttrs(ctx, slog.LevelDebug, "request-verification: no record",
			slog.String("collection", c.Name), slog.String("error", err.Error()))
		return nil
	}

	key := verificationThrottleKey(record)
	if record.GetBool(FieldNameVerified) || a.throttled(key) {
		return nil
	}
	a.sendInBackground(ctx, "verification", key, true, func(ctx context.Context) error {
		return a.SendRecordVerification(ctx, record)
	})

	return nil
}

func verificationThrottleKey(record *Record) string {
	return "requestVerification:" + record.Collection().ID + ":" + record.ID()
}

// Errors of the token of a confirm form (the `token` key), as PocketBase words them.
func errInvalidToken() *ValidationError {
	return newValidationError("validation_invalid_token", "Invalid or expired token.", nil)
}

func errTokenCollectionMismatch() *ValidationError {
	return newValidationError("validation_token_collection_mismatch", "The provided token is for different auth collection.", nil)
}

// checkFlowToken validates a confirm form's token of tokenType for collection c and
// returns its record and claims, or the ValidationErrors of the `token` key.
func (a *App) checkFlowToken(ctx context.Context, c *Collection, token, tokenType string) (*Record, map[string]any, error) {
	if token == "" {
		return nil, nil, ValidationErrors{"token": errRequired()}
	}
	claims, _ := security.ParseUnverifiedJWT(token)

	record, err := a.FindAuthRecordByToken(ctx, token, tokenType)
	switch {
	case errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrRecordNotFound) || errors.Is(err, ErrCollectionNotFound):
		return nil, claims, ValidationErrors{"token": errInvalidToken()}
	case err != nil:
		return nil, claims, err
	case record.Collection().ID != c.ID:
		return nil, claims, ValidationErrors{"token": errTokenCollectionMismatch()}
	}

	return record, claims, nil
}

// saveAuthFlow stores data over record as a superuser write would (no oldPassword,
// verified and email settable) and returns the record as stored; a failure wraps
// ErrAuthFlowSave. The auth flows and the OAuth2 login all write through it.
func (a *App) saveAuthFlow(ctx context.Context, record *Record, data map[string]any) (*Record, error) {
	u, err := a.NewRecordUpdate(ctx, record.Collection(), record.ID())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuthFlowSave, err)
	}
	u.SetAccess(RecordAccessSuperuser)
	u.Load(data)
	saved, err := a.SaveRecord(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuthFlowSave, err)
	}

	return saved, nil
}

// ConfirmVerification marks the record of a verification token verified (and, when
// password auth is disabled, gives it a random password, which renews its tokenKey).
// Token errors are ValidationErrors under `token`; _superusers is ErrSuperusersVerified.
func (a *App) ConfirmVerification(ctx context.Context, c *Collection, token string) error {
	if c.Name == CollectionNameSuperusers {
		return ErrSuperusersVerified
	}
	if token != "" {
		if claims, _ := security.ParseUnverifiedJWT(token); castToString(claims[TokenClaimEmail]) == "" {
			return ValidationErrors{"token": newValidationError("validation_invalid_token_claims", "Missing email token claim.", nil)}
		}
	}
	record, claims, err := a.checkFlowToken(ctx, c, token, TokenTypeVerification)
	if err != nil {
		return err
	}
	if record.Email() != castToString(claims[TokenClaimEmail]) {
		return ValidationErrors{"token": newValidationError("validation_token_email_mismatch",
			"The record email doesn't match with the requested token claims.", nil)}
	}

	if !record.GetBool(FieldNameVerified) {
		data := map[string]any{FieldNameVerified: true}
		if !c.Auth.PasswordAuth.Enabled {
			pass, err := security.RandomString(30)
			if err != nil {
				return err
			}
			data[FieldNamePassword], data[formKeyPasswordConfirm] = pass, pass
		}
		if _, err := a.saveAuthFlow(ctx, record, data); err != nil {
			return err
		}
	}
	authMailThrottle.Delete(authThrottleKey{a, verificationThrottleKey(record)})

	return nil
}

// RequestPasswordReset emails a password reset token to the record of c with the given
// email, in the background. An unknown email and a resend within two minutes succeed
// without sending. Form errors are ValidationErrors; a collection without password auth
// is ErrPasswordAuthDisabled.
func (a *App) RequestPasswordReset(ctx context.Context, c *Collection, email string) error {
	if !c.Auth.PasswordAuth.Enabled {
		return ErrPasswordAuthDisabled
	}
	if err := validateEmailForm("email", email); err != nil {
		return err
	}

	record, err := a.FindAuthRecordByEmail(ctx, c, email)
	if err != nil {
		a.Logger().LogAttrs(ctx, slog.LevelDebug, "request-password-reset: no record",
			slog.String("collection", c.Name), slog.String("error", err.Error()))
		return nil
	}

	key := passwordResetThrottleKey(record)
	if a.throttled(key) {
		return nil
	}
	a.sendInBackground(ctx, "password reset", key, false, func(ctx context.Context) error {
		return a.SendRecordPasswordReset(ctx, record)
	})

	return nil
}

func passwordResetThrottleKey(record *Record) string {
	return "requestPasswordReset:" + record.Collection().ID + ":" + record.ID()
}

// ConfirmPasswordReset sets the password of the record of a password reset token, which
// renews its tokenKey (so every earlier token stops working), and marks it verified when
// the token's email is still the record's. Form errors are ValidationErrors.
func (a *App) ConfirmPasswordReset(ctx context.Context, c *Collection, token, password, passwordConfirm string) error {
	minLen := 1
	if f, ok := c.Fields.GetByName(FieldNamePassword).(*PasswordField); ok && f.Min > 0 {
		minLen = int(f.Min)
	}

	errs := ValidationErrors{}
	record, claims, tokenErr := a.checkFlowToken(ctx, c, token, TokenTypePasswordReset)
	if tokenErr != nil {
		var verrs ValidationErrors
		if !errors.As(tokenErr, &verrs) {
			return tokenErr
		}
		errs["token"] = verrs["token"]
	}
	if password == "" {
		errs[FieldNamePassword] = errRequired()
	} else if err := checkLength(password, minLen, 255); err != nil {
		errs[FieldNamePassword] = err
	}
	switch {
	case passwordConfirm == "":
		errs[formKeyPasswordConfirm] = errRequired()
	case passwordConfirm != password:
		errs[formKeyPasswordConfirm] = errValuesMismatch()
	}
	if len(errs) > 0 {
		return errs
	}

	data := map[string]any{FieldNamePassword: password, formKeyPasswordConfirm: passwordConfirm}
	if !record.GetBool(FieldNameVerified) && record.Email() == castToString(claims[TokenClaimEmail]) {
		data[FieldNameVerified] = true
	}

	if _, err := a.saveAuthFlow(ctx, record, data); err != nil {
		return err
	}
	// a new reset may be asked for at once
	authMailThrottle.Delete(authThrottleKey{a, passwordResetThrottleKey(record)})

	return nil
}

// RequestEmailChange emails newEmail a token confirming the change of record's email to
// it (synchronously: a mail failure wraps ErrAuthFlowMail). Form errors are
// ValidationErrors under `newEmail`; _superusers is ErrSuperusersChangeEmailDirectly.
func (a *App) RequestEmailChange(ctx context.Context, record *Record, newEmail string) error {
	c := record.Collection()
	if c.Name == CollectionNameSuperusers {
		return ErrSuperusersChangeEmailDirectly
	}

	var verr *ValidationError
	switch {
	case newEmail == "":
		verr = errRequired()
	case checkLength(newEmail, 1, 255) != nil:
		verr = checkLength(newEmail, 1, 255)
	case !isEmail(newEmail):
		verr = errIsEmail()
	case newEmail == record.Email():
		verr = errNotIn()
	default:
		if found, err := a.FindAuthRecordByEmail(ctx, c, newEmail); err == nil && found.ID() != record.ID() {
			verr = newValidationError("validation_invalid_new_email", "Invalid new email address.", nil)
		} else if !errors.Is(err, ErrRecordNotFound) {
			return err
		}
	}
	if verr != nil {
		return ValidationErrors{"newEmail": verr}
	}

	if err := a.SendRecordChangeEmail(ctx, record, newEmail); err != nil {
		return fmt.Errorf("%w: %w", ErrAuthFlowMail, err)
	}

	return nil
}

// ConfirmEmailChange sets the email of the record of an email change token to the
// token's newEmail and marks it verified (its tokenKey renews), once password is the
// record's. Form errors are ValidationErrors under `token` and `password`; _superusers
// is ErrSuperusersChangeEmailDirectly.
func (a *App) ConfirmEmailChange(ctx context.Context, c *Collection, token, password string) error {
	if c.Name == CollectionNameSuperusers {
		return ErrSuperusersChangeEmailDirectly
	}
	errs := ValidationErrors{}
	record, newEmail, err := a.checkEmailChangeToken(ctx, c, token)
	if err != nil {
		var verrs ValidationErrors
		if !errors.As(err, &verrs) {
			return err
		}
		errs["token"] = verrs["token"]
	}
	switch {
	case password == "":
		errs[FieldNamePassword] = errRequired()
	case checkLength(password, 1, 100) != nil:
		errs[FieldNamePassword] = checkLength(password, 1, 100)
	case record == nil || record.PasswordHash() == "" || !security.ComparePassword(record.PasswordHash(), password):
		errs[FieldNamePassword] = newValidationError("validation_invalid_password", "Missing or invalid auth record password.", nil)
	}
	if len(errs) > 0 {
		return errs
	}

	_, err = a.saveAuthFlow(ctx, record, map[string]any{FieldNameEmail: newEmail, FieldNameVerified: true})

	return err
}

// checkEmailChangeToken validates an email change token for c: a newEmail claim, the
// token itself, then the new email not taken meanwhile.
func (a *App) checkEmailChangeToken(ctx context.Context, c *Collection, token string) (*Record, string, error) {
	if token == "" {
		return nil, "", ValidationErrors{"token": errRequired()}
	}
	claims, _ := security.ParseUnverifiedJWT(token)
	newEmail := castToString(claims[TokenClaimNewEmail])
	if newEmail == "" {
		return nil, "", ValidationErrors{"token": newValidationError("validation_invalid_token_payload",
			"Invalid token payload - newEmail must be set.", nil)}
	}
	record, _, err := a.checkFlowToken(ctx, c, token, TokenTypeEmailChange)
	if err != nil {
		return nil, "", err
	}
	if _, err := a.FindAuthRecordByEmail(ctx, c, newEmail); err == nil {
		return nil, "", ValidationErrors{"token": newValidationError("validation_invalid_token_email",
			"The new email address is invalid.", nil)}
	}

	return record, newEmail, nil
}
