package core

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"

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

// dummyPasswordHashes holds the dummy hashes of the other bcrypt costs a password field
// may set, made once on first use.
var dummyPasswordHashes sync.Map // int -> string

// dummyPasswordHashFor returns a bcrypt hash no password is expected to match, at the
// cost of c's password field, so that the dummy check of an unknown identity costs what
// checking a real record's password does (PocketBase compares against a stored record's
// hash for the same reason).
func dummyPasswordHashFor(c *Collection) string {
	cost := security.DefaultBcryptCost
	if f, ok := c.Fields.GetByName(FieldNamePassword).(*PasswordField); ok && f.Cost > 0 {
		cost = int(f.Cost)
	}
	if cost == security.DefaultBcryptCost {
		return dummyPasswordHash
	}
	if h, ok := dummyPasswordHashes.Load(cost); ok {
		return h.(string) //nolint:forcetypeassert // only hashes are stored
	}
	secret, err := security.RandomString(30)
	if err != nil {
		return dummyPasswordHash
	}
	h, err := security.HashPassword(secret, cost)
	if err != nil {
		return dummyPasswordHash
	}
	stored, _ := dummyPasswordHashes.LoadOrStore(cost, h)

	return stored.(string) //nolint:forcetypeassert // only hashes are stored
}

// AuthWithPassword returns the record of auth collection c that identity and password
// log in as (apis/record_auth_with_password.go). With identityField empty, the identity
// fields are tried in turn, email first (and only when identity is email-shaped). An
// unknown identity and a wrong password are both ErrInvalidCredentials, after a bcrypt
// comparison at the password field's cost either way; other errors are configuration
// or database failures.
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
		security.ComparePassword(dummyPasswordHashFor(c), password)
		return nil, ErrInvalidCredentials
	}
	if !security.ComparePassword(record.PasswordHash(), password) {
		return nil, ErrInvalidCredentials
	}

	return record, nil
}

// findByIdentity looks identity up as PocketBase does: by identityField when given,
// otherwise by each of passwordAuth.identityFields until one matches, email moved first
// and skipped when identity is not email-shaped. No match is (nil, ErrRecordNotFound)
// or, when no field was tried, (nil, nil).
func (a *App) findByIdentity(ctx context.Context, c *Collection, identity, identityField string) (*Record, error) {
	if identityField != "" {
		return a.FindAuthRecordByIdentity(ctx, c, identityField, identity)
	}

	fields := c.Auth.PasswordAuth.IdentityFields
	if len(fields) > 1 && fields[0] != FieldNameEmail {
		fields = slices.Clone(fields)
		slices.SortStableFunc(fields, func(x, y string) int {
			switch {
			case x == FieldNameEmail:
				return -1
			case y == FieldNameEmail:
				return 1
			}
			return 0
		})
	}

	var (
		record *Record
		err    error
	)
	for _, name := range fields {
		if name == FieldNameEmail && !isEmail(identity) {
			continue // a non-email identity cannot match the email field
		}
		record, err = a.FindAuthRecordByIdentity(ctx, c, name, identity)
		if err == nil {
			break
		}
	}

	return record, err
}
