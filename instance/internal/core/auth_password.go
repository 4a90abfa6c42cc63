package core

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// Auth errors. The HTTP layer maps them to PocketBase's messages.
var (
	// ErrInvalidCredentials is returned for an unknown identity and for a wrong password
	// alike, so that callers cannot tell which accounts exist.
	ErrInvalidCredentials = errors.New("invalid login credentials")
	// ErrPasswordAuthDisabled is returned when passwordAuth.enabled is false.
	ErrPasswordAuthDisabled = errors.New("the collection is not configured to allow password authentication")
)

// dummyPasswordHash is a bcrypt hash at PocketBase's default cost (10) that no password
// is expected to match. Comparing against it when no record was found keeps a failed
// login's timing the same whether or not the identity exists.
const dummyPasswordHash = "$2a$10$gvXXVEkbxS.OEMRSuycMO.WENUqdESEt0R5OhjF4Md54y1jPwDbbS"

// AuthWithPassword returns the record of auth collection c that identity and password
// log in as (apis/record_auth_with_password.go). With identityField empty, the email
// field is tried first when identity is email-shaped, then every identity field in
// turn. An unknown identity and a wrong password are both ErrInvalidCredentials, after a
// bcrypt comparison either way; other errors are configuration or database failures.
//
// Callers validate the form (identity, password, identityField) first.
func (a *App) AuthWithPassword(ctx context.Context, c *Collection, identity, password, identityField string) (*Record, error) {
	if !c.IsAuth() {
		return nil, ErrNotAuthRecord
	}
	if !c.Auth.PasswordAuth.Enabled {
		return nil, ErrPasswordAuthDisabled
	}

	record, err := a.findByIdentity(ctx, c, identity, identityField)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}

	if record == nil {
		security.ComparePassword(dummyPasswordHash, password)
		return nil, ErrInvalidCredentials
	}
	if !security.ComparePassword(record.PasswordHash(), password) {
		return nil, ErrInvalidCredentials
	}

	return record, nil
}

func (a *App) findByIdentity(ctx context.Context, c *Collection, identity, identityField string) (*Record, error) {
	if identityField != "" {
		return a.FindAuthRecordByIdentity(ctx, c, identityField, identity)
	}

	fields := c.Auth.PasswordAuth.IdentityFields
	email := isEmail(identity)

	var (
		record *Record
		err    error
	)
	// note: as in PocketBase, an email-shaped identity is looked up by the other
	// identity fields only when the email lookup ran and failed; when email is not an
	// identity field, such an identity matches nothing.
	if email && slices.Contains(fields, FieldNameEmail) {
		record, err = a.FindAuthRecordByIdentity(ctx, c, FieldNameEmail, identity)
	}
	if !email || err != nil {
		for _, name := range fields {
			if !email && name == FieldNameEmail {
				continue // a non-email identity cannot match the email field
			}
			record, err = a.FindAuthRecordByIdentity(ctx, c, name, identity)
			if err == nil {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}

	return record, nil
}
