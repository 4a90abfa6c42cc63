package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// Errors of the record write path.
var (
	// ErrViewRecordsReadOnly is returned when writing records of a view collection.
	ErrViewRecordsReadOnly = errors.New("view collection records cannot be changed")
)

// RecordAccess is what a record write may change beyond the plain field values
// (forms/record_upsert.go access levels).
type RecordAccess int

// Access levels of a record write.
const (
	// RecordAccessDefault cannot change hidden fields, nor an auth record's email or
	// verified flag, and needs the old password to change the password.
	RecordAccessDefault RecordAccess = iota
	// RecordAccessManager is a requester matching the auth collection's manageRule:
	// email, verified and password may change directly.
	RecordAccessManager
	// RecordAccessSuperuser may change everything, hidden fields included.
	RecordAccessSuperuser
)

// Auth form keys that are not stored (passwordConfirm, oldPassword) or are checked by
// the form (password).
const (
	formKeyPasswordConfirm = "passwordConfirm"
	formKeyOldPassword     = "oldPassword"
)

// RecordUpsert is a record create or update in preparation (PocketBase's
// forms.RecordUpsert): the collection, the stored values on update, the submitted
// values and the auth form fields. Build it with NewRecordCreate or NewRecordUpdate,
// resolve the body with ResolveBody, Load it, then save it with App.SaveRecord.
type RecordUpsert struct {
	collection *Collection
	// original holds the stored prepared values; nil on create.
	original map[string]any
	// values holds the prepared values to store.
	values map[string]any
	access RecordAccess
	files  recordFiles

	password, passwordConfirm, oldPassword string
}

// NewRecordCreate returns the form of a new record of c, with every field at its zero
// value.
func NewRecordCreate(c *Collection) *RecordUpsert {
	values := make(map[string]any, len(c.Fields))
	for _, f := range c.Fields {
		values[f.GetName()] = f.PrepareValue(nil)
	}

	return &RecordUpsert{collection: c, values: values}
}

// NewRecordUpdate returns the form of an update of the stored record of c with the
// given id, read through the app, or ErrRecordNotFound.
func (a *App) NewRecordUpdate(ctx context.Context, c *Collection, id string) (*RecordUpsert, error) {
	if c.IsView() {
		return nil, ErrViewRecordsReadOnly
	}

	original, err := loadRecordValues(ctx, a.reader(ctx), c, id)
	if err != nil {
		return nil, err
	}

	return &RecordUpsert{collection: c, original: original, values: maps.Clone(original)}, nil
}

// Collection returns the record's collection.
func (u *RecordUpsert) Collection() *Collection { return u.collection }

// IsNew reports whether the form creates a record.
func (u *RecordUpsert) IsNew() bool { return u.original == nil }

// ID returns the record id: the stored one on update, the submitted (or generated) one
// on create ("" until then).
func (u *RecordUpsert) ID() string {
	if !u.IsNew() {
		return castToString(u.original[FieldNameID])
	}

	return castToString(u.values[FieldNameID])
}

// Values returns a copy of the prepared values the record would be stored with.
func (u *RecordUpsert) Values() map[string]any { return maps.Clone(u.values) }

// Original returns a copy of the stored prepared values (nil on create).
func (u *RecordUpsert) Original() map[string]any { return maps.Clone(u.original) }

// SetAccess sets what the write may change (GrantManagerAccess/GrantSuperuserAccess).
func (u *RecordUpsert) SetAccess(access RecordAccess) { u.access = access }

// HasManageAccess reports whether the form has manager or superuser access.
func (u *RecordUpsert) HasManageAccess() bool { return u.access >= RecordAccessManager }

// ResolveBody returns the request body data with the field modifiers applied over the
// stored values (ResolveRecordModifiers) and, unless the form has superuser access, the
// hidden fields left out (an auth collection's password excepted), as PocketBase's
// recordDataFromRequest prepares it. The result is what Load takes and what rules see as
// @request.body.
func (u *RecordUpsert) ResolveBody(data map[string]any) map[string]any {
	out := ResolveRecordModifiers(u.collection, u.original, data)
	if out == nil {
		out = map[string]any{}
	}

	if u.access != RecordAccessSuperuser {
		for _, f := range u.collection.Fields {
			if f.GetHidden() && (!u.collection.IsAuth() || f.GetName() != FieldNamePassword) {
				delete(out, f.GetName())
			}
		}
	}

	return out
}

// Load sets the form from resolved body data (see ResolveBody): the auth form keys
// (password, passwordConfirm, oldPassword) of auth collections, and every key that
// names a field. Other keys are ignored.
func (u *RecordUpsert) Load(data map[string]any) {
	isAuth := u.collection.IsAuth()
	if isAuth {
		if v, ok := data[FieldNamePassword]; ok {
			u.password = castToString(v)
		}
		if v, ok := data[formKeyPasswordConfirm]; ok {
			u.passwordConfirm = castToString(v)
		}
		if v, ok := data[formKeyOldPassword]; ok {
			u.oldPassword = castToString(v)
		}
	}

	for key, raw := range data {
		if key == FieldNameExpand || (isAuth && (key == formKeyPasswordConfirm || key == formKeyOldPassword)) {
			continue
		}

		f, setter := findSetter(u.collection, key)
		if f == nil {
			continue
		}
		// note: an extra guard besides ResolveBody, as PocketBase's form keeps it.
		if u.access != RecordAccessSuperuser && f.GetHidden() && (!isAuth || f.GetName() != FieldNamePassword) {
			continue
		}
		setter(u.values, raw)
	}
}

// SaveRecord validates and stores the form in one write transaction and returns the
// saved record. Validation failures are ValidationErrors: first the auth form fields
// (email, verified, password, passwordConfirm, oldPassword), then every field's value,
// then the cross-collection auth id and the unique indexes. New passwords are hashed
// with their field's bcrypt cost before the transaction starts. Once committed, the
// change is published to the OnRecordChange handlers. With a ctx from
// RunInTransaction, the save joins that transaction and its after-commit work waits
// for it.
func (a *App) SaveRecord(ctx context.Context, u *RecordUpsert) (*Record, error) {
	c := u.collection
	if c.IsView() {
		return nil, ErrViewRecordsReadOnly
	}

	if errs := u.validateAuthForm(); len(errs) > 0 {
		return nil, errs
	}

	u.autogenerate()
	if errs := a.validateSystemRefs(ctx, u); len(errs) > 0 {
		return nil, errs
	}

	// Every field is checked once through the read pool before hashing (so that an
	// invalid request costs no bcrypt work and holds no write lock), then the checks
	// that read the database are repeated inside the write transaction.
	if errs := u.validateValues(ctx, a.valueContext(ctx, a.reader(ctx), u), false); len(errs) > 0 {
		return nil, errs
	}
	if err := u.hashPasswords(); err != nil {
		return nil, err
	}
	if err := a.stageFiles(ctx, u); err != nil {
		return nil, err
	}

	var removedFiles []string
	err := a.writeTx(ctx, func(tx *sql.Tx) error {
		if errs := u.validateValues(ctx, a.valueContext(ctx, tx, u), true); len(errs) > 0 {
			return errs
		}

		var err error
		removedFiles, err = a.executeRecordSave(ctx, tx, u)
		return err
	})
	if err != nil {
		a.discardStagedFiles(u)
		return nil, err
	}

	// in a joined transaction the new files must go again if it rolls back later
	a.afterRollback(ctx, func() { a.discardStagedFiles(u) })

	row, err := u.driverRow()
	if err != nil {
		return nil, err
	}
	record := NewRecordFromRow(c, row)

	action := RecordActionUpdate
	if u.IsNew() {
		action = RecordActionCreate
	}
	// the event gets its own copy: the caller may enrich the returned record
	event := RecordEvent{Action: action, Record: record.Fresh()}
	recordID := u.ID()
	a.afterCommit(ctx, func(ctx context.Context) {
		// note: like PocketBase, files dropped from the record are deleted once the
		// change is committed: the file, its blob attributes and its thumbs.
		a.deleteRecordFiles(c, recordID, removedFiles)
		a.PublishRecordEvent(ctx, event)
	})

	return record, nil
}

// oldID is the stored id on update, "" on create.
func (u *RecordUpsert) oldID() string {
	if u.IsNew() {
		return ""
	}

	return castToString(u.original[FieldNameID])
}

// autogenerate fills the empty text fields that have an autogenerate pattern on create
// (TextField.Intercept).
func (u *RecordUpsert) autogenerate() {
	if !u.IsNew() {
		return
	}
	for _, f := range u.collection.Fields {
		text, ok := f.(*TextField)
		if !ok || text.AutogeneratePattern == "" || castToString(u.values[text.Name]) != "" {
			continue
		}
		if v, err := text.Autogenerate(); err == nil {
			u.values[text.Name] = v
		}
	}
}

// hashPasswords hashes the new plain passwords with their field's cost.
func (u *RecordUpsert) hashPasswords() error {
	for _, f := range u.collection.Fields {
		pf, ok := f.(*PasswordField)
		if !ok {
			continue
		}
		pv, _ := u.values[pf.Name].(PasswordValue)
		if pv.Plain == "" || pv.Hash != "" {
			continue
		}
		hashed, err := pf.SetPlain(pv.Plain)
		if err != nil {
			return fmt.Errorf("hashing %s: %w", pf.Name, err)
		}
		if hashed.Hash == "" {
			// note: more than bcrypt's 72 bytes (multibyte runes within the field's
			// max); PocketBase reports the hashing error on the field, which its error
			// data renders as the code-less "Invalid value.".
			return ValidationErrors{pf.Name: asValidationError(security.ErrPasswordTooLong)}
		}
		u.values[pf.Name] = hashed
	}

	return nil
}

// passwordChanged reports whether a new password is being set.
func (u *RecordUpsert) passwordChanged() bool {
	pv, _ := u.values[FieldNamePassword].(PasswordValue)
	return pv.Plain != ""
}

// driverRow returns the values as the columns store them.
func (u *RecordUpsert) driverRow() (map[string]any, error) {
	row := make(map[string]any, len(u.collection.Fields))
	for _, f := range u.collection.Fields {
		v, err := f.DriverValue(u.values[f.GetName()])
		if err != nil {
			return nil, fmt.Errorf("converting %s: %w", f.GetName(), err)
		}
		row[f.GetName()] = v
	}

	return row, nil
}

// refreshTokenKey sets a new random tokenKey, which invalidates the record's tokens.
func (u *RecordUpsert) refreshTokenKey() error {
	key, err := security.RandomString(TokenKeyLength)
	if err != nil {
		return err
	}
	u.values[FieldNameTokenKey] = key

	return nil
}

// removedFileNames returns the stored file names that the update drops.
func (u *RecordUpsert) removedFileNames() []string {
	if u.IsNew() {
		return nil
	}

	var removed []string
	for _, f := range u.collection.Fields {
		if f.Type() != FieldTypeFile {
			continue
		}
		kept := toUniqueStringSlice(u.values[f.GetName()])
		for _, name := range toUniqueStringSlice(u.original[f.GetName()]) {
			if !slices.Contains(kept, name) {
				removed = append(removed, name)
			}
		}
	}

	return removed
}
