package core

import (
	"context"
	"errors"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// errInvalidOldPassword is the oldPassword failure of an auth record update.
func errInvalidOldPassword() *ValidationError {
	return newValidationError("validation_invalid_old_password", "Missing or invalid old password.", nil)
}

// validateAuthForm applies the auth form rules of PocketBase's RecordUpsert (in this
// order, each key stopping at its first failure):
//
//   - email: without manage access, an update cannot change it;
//   - verified: without manage access, it cannot change (a new record's is false);
//   - password: required on create, or when passwordConfirm or oldPassword is sent;
//   - passwordConfirm: required on create or when password or oldPassword is sent, and
//     equal to password;
//   - oldPassword: on an update without manage access that changes the password,
//     required and matching the stored password.
//
// Non-auth collections have no form fields.
func (u *RecordUpsert) validateAuthForm() ValidationErrors {
	if !u.collection.IsAuth() {
		return nil
	}

	errs := ValidationErrors{}
	isNew := u.IsNew()
	manage := u.HasManageAccess()

	if !isNew && !manage && castToString(u.values[FieldNameEmail]) != castToString(u.original[FieldNameEmail]) {
		errs[FieldNameEmail] = errValuesMismatch()
	}
	if !manage && castToBool(u.values[FieldNameVerified]) != castToBool(u.original[FieldNameVerified]) {
		errs[FieldNameVerified] = errValuesMismatch()
	}

	if (isNew || u.passwordConfirm != "" || u.oldPassword != "") && u.password == "" {
		errs[FieldNamePassword] = errRequired()
	}

	switch {
	case (isNew || u.password != "" || u.oldPassword != "") && u.passwordConfirm == "":
		errs[formKeyPasswordConfirm] = errRequired()
	case u.passwordConfirm != u.password:
		errs[formKeyPasswordConfirm] = errValuesMismatch()
	}

	if !isNew && !manage && (u.password != "" || u.passwordConfirm != "") {
		stored, _ := u.original[FieldNamePassword].(PasswordValue)
		switch {
		case u.oldPassword == "":
			errs[formKeyOldPassword] = errRequired()
		case stored.Hash == "" || !security.ComparePassword(stored.Hash, u.oldPassword):
			errs[formKeyOldPassword] = errInvalidOldPassword()
		}
	}

	if len(errs) == 0 {
		return nil
	}

	return errs
}

// valueContext returns what field validation needs, reading through q.
func (a *App) valueContext(ctx context.Context, q sqlitedb.Querier, u *RecordUpsert) ValueContext {
	return ValueContext{
		DB:         q,
		Collection: u.collection,
		IsNew:      u.IsNew(),
		OldID:      u.oldID(),
		FindCollection: func(nameOrID string) (*Collection, error) {
			return a.FindCachedCollectionByNameOrID(ctx, nameOrID)
		},
	}
}

// validateValues runs every field's value validation (onRecordValidate) and returns
// the failures keyed by field name. With dbOnly, only the fields whose checks read the
// database (relations and the primary key) are validated.
func (u *RecordUpsert) validateValues(ctx context.Context, vc ValueContext, dbOnly bool) ValidationErrors {
	errs := ValidationErrors{}
	for _, f := range u.collection.Fields {
		if dbOnly && !readsDatabase(f) {
			continue
		}

		fvc := vc
		if !u.IsNew() {
			fvc.OldValue = u.original[f.GetName()]
		}
		fvc.NewFiles = u.files.uploads[f.GetName()]
		if err := f.ValidateValue(ctx, fvc, u.values[f.GetName()]); err != nil {
			errs[f.GetName()] = asValidationError(err)
		}
	}

	if len(errs) == 0 {
		return nil
	}

	return errs
}

// readsDatabase reports whether a field's value validation queries the database.
func readsDatabase(f Field) bool {
	switch f := f.(type) {
	case *RelationField:
		return true
	case *TextField:
		return f.PrimaryKey
	}

	return false
}

// asValidationError returns err as a *ValidationError; an error without a code is
// PocketBase's fallback item "validation_invalid_value".
func asValidationError(err error) *ValidationError {
	if ve, ok := errors.AsType[*ValidationError](err); ok && ve != nil {
		return ve
	}

	return newValidationError("validation_invalid_value", "Invalid value.", nil)
}
