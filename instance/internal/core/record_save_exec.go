package core

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// errInvalidAuthID is the id failure of an auth record whose id another auth
// collection already uses.
func errInvalidAuthID() *ValidationError {
	return newValidationError("validation_invalid_auth_id", "Invalid or duplicated auth record id.", nil)
}

// executeRecordSave writes the validated form through tx (onRecordSaveExecute and the
// field interceptors): superusers are always verified; an auth record whose password
// or email changes gets a new tokenKey; an auth id must be unused by the other auth
// collections; autodate fields are stamped; then the row is inserted or updated, a
// unique index violation becoming validation_not_unique on its columns. It returns the
// file names the update dropped, to delete once the transaction commits.
func (a *App) executeRecordSave(ctx context.Context, tx *sql.Tx, u *RecordUpsert) ([]string, error) {
	c := u.collection

	if c.Name == CollectionNameSuperusers {
		u.values[FieldNameVerified] = true
	}

	if c.IsAuth() {
		if err := u.prepareAuthSave(ctx, tx); err != nil {
			return nil, err
		}
		if err := u.dropUnverifiedExternalAuths(ctx, tx); err != nil {
			return nil, err
		}
	}

	now := a.nowDateTime()
	for _, f := range c.Fields {
		auto, ok := f.(*AutodateField)
		if !ok {
			continue
		}
		if (u.IsNew() && auto.OnCreate) || (!u.IsNew() && auto.OnUpdate) {
			u.values[auto.Name] = now
		}
	}

	row, err := u.driverRow()
	if err != nil {
		return nil, err
	}

	cols := make([]string, 0, len(c.Fields))
	args := make([]any, 0, len(c.Fields)+1)
	for _, f := range c.Fields {
		cols = append(cols, quoteIdent(f.GetName()))
		args = append(args, row[f.GetName()])
	}

	var query string
	if u.IsNew() {
		query = "INSERT INTO " + quoteIdent(c.Name) + " (" + strings.Join(cols, ", ") +
			") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
	} else {
		query = "UPDATE " + quoteIdent(c.Name) + " SET " + strings.Join(cols, " = ?, ") + " = ? WHERE `id` = ?"
		args = append(args, u.oldID())
	}

	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		if errs := uniqueIndexErrors(err, c); errs != nil {
			return nil, errs
		}
		return nil, fmt.Errorf("saving record of %s: %w", c.Name, err)
	}

	if c.IsAuth() && !u.IsNew() && u.passwordChanged() {
		// note: as PocketBase's auth origin, MFA and OTP hooks do, a new password
		// drops the record's remembered devices and pending second factors.
		for _, table := range []string{CollectionNameAuthOrigins, CollectionNameMFAs, CollectionNameOTPs} {
			if err := deleteRecordRefs(ctx, tx, table, c.ID, u.ID()); err != nil {
				return nil, err
			}
		}
	}

	return u.removedFileNames(), nil
}

// prepareAuthSave renews the tokenKey on a password or email change and checks that no
// other auth collection has a record with the same id.
func (u *RecordUpsert) prepareAuthSave(ctx context.Context, tx *sql.Tx) error {
	c := u.collection

	if !u.IsNew() {
		sameKey := castToString(u.values[FieldNameTokenKey]) == castToString(u.original[FieldNameTokenKey])
		emailChanged := castToString(u.values[FieldNameEmail]) != castToString(u.original[FieldNameEmail])
		if sameKey && (u.passwordChanged() || emailChanged) {
			if err := u.refreshTokenKey(); err != nil {
				return err
			}
		}
	}

	names, err := authCollectionNames(ctx, tx)
	if err != nil {
		return err
	}
	names = slices.DeleteFunc(names, func(n string) bool { return strings.EqualFold(n, c.Name) })
	taken, err := idTaken(ctx, tx, names, u.ID())
	if err != nil {
		return err
	}
	if taken {
		return ValidationErrors{FieldNameID: errInvalidAuthID()}
	}

	return nil
}

// uniqueConstraintRe matches SQLite's UNIQUE violation message and captures its
// "table.column, table.column" list.
var uniqueConstraintRe = regexp.MustCompile(`UNIQUE constraint failed: ([^(]+)`)

// uniqueIndexErrors turns an SQLite UNIQUE violation on c's table into
// validation_not_unique errors on the violated field columns (PocketBase's
// validators.NormalizeUniqueIndexError), or returns nil for any other error.
func uniqueIndexErrors(err error, c *Collection) ValidationErrors {
	m := uniqueConstraintRe.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}

	errs := ValidationErrors{}
	for part := range strings.SplitSeq(m[1], ",") {
		part = strings.TrimSpace(part)
		table, column, ok := strings.Cut(part, ".")
		if !ok || !strings.EqualFold(table, c.Name) {
			continue
		}
		if f := c.Fields.GetByName(column); f != nil {
			errs[f.GetName()] = errNotUnique()
		}
	}

	if len(errs) == 0 {
		return nil
	}

	return errs
}
