package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// This file is PocketBase's core/collection_validate.go: the checks run before a
// collection is saved, with its error codes and messages. Each key reports its first
// failing rule only, as ozzo-validation does.

var (
	collectionNameRegex = regexp.MustCompile(`^\w+$`)
	collectionIDRegex   = regexp.MustCompile(`^\w+$`)
)

// reservedAuthFieldNames are the auth form keys an auth collection field cannot use.
var reservedAuthFieldNames = []string{"passwordConfirm", "oldPassword"}

// collectionValidator validates c against original (the stored collection, or a
// blank collection of the same type on create).
type collectionValidator struct {
	q        sqlitedb.Querier
	new      *Collection
	original *Collection
	// find resolves other collections (relation targets) by id or name.
	find func(nameOrID string) (*Collection, error)
}

func newCollectionValidator(q sqlitedb.Querier, c, original *Collection, find func(string) (*Collection, error)) (*collectionValidator, error) {
	if original == nil {
		blank, err := NewCollection(c.Type, "")
		if err != nil {
			return nil, err
		}
		original = blank
	}

	return &collectionValidator{q: q, new: c, original: original, find: find}, nil
}

// run returns the validation errors (NestedErrors), another error, or nil.
func (v *collectionValidator) run(ctx context.Context) error {
	c := v.new
	errs := NestedErrors{}

	// a view's fields always come from its query (errors are reported on viewQuery)
	if tx, ok := v.q.(*sql.Tx); ok && c.IsView() {
		c.Fields, _ = createViewFields(ctx, tx, c.ViewQuery)
	}

	idErr, err := v.checkID(ctx)
	if err != nil {
		return err
	}
	errs.addErr("id", idErr)

	if !v.original.IsNew() && c.System != v.original.System {
		errs["system"] = newValidationError("validation_collection_system_flag_change", "System collection state cannot be changed.", nil)
	}

	switch {
	case c.Type == "":
		errs["type"] = errRequired()
	case c.Type != CollectionTypeBase && c.Type != CollectionTypeAuth && c.Type != CollectionTypeView:
		errs["type"] = errIn()
	case !v.original.IsNew() && c.Type != v.original.Type:
		errs["type"] = newValidationError("validation_collection_type_change", "Collection type cannot be changed.", nil)
	}

	nameErr, err := v.checkName(ctx)
	if err != nil {
		return err
	}
	errs.addErr("name", nameErr)

	errs.addErr("fields", v.checkFields(ctx))

	rules := []struct {
		key       string
		rule, old *string
		viewNil   bool
	}{
		{"listRule", c.ListRule, v.original.ListRule, false},
		{"viewRule", c.ViewRule, v.original.ViewRule, false},
		{"createRule", c.CreateRule, v.original.CreateRule, true},
		{"updateRule", c.UpdateRule, v.original.UpdateRule, true},
		{"deleteRule", c.DeleteRule, v.original.DeleteRule, true},
	}
	for _, r := range rules {
		if r.viewNil && c.IsView() && r.rule != nil {
			errs[r.key] = errNil()
			continue
		}
		errs.addErr(r.key, v.checkRule(r.rule, r.old))
	}

	indexesErr, err := v.checkIndexes(ctx)
	if err != nil {
		return err
	}
	errs.addErr("indexes", indexesErr)

	var optionsErrs NestedErrors
	switch c.Type {
	case CollectionTypeAuth:
		optionsErrs = v.validateAuthOptions()
	case CollectionTypeView:
		optionsErrs = v.validateViewOptions(ctx)
	}

	return joinNested(errs, optionsErrs)
}

func (v *collectionValidator) checkID(ctx context.Context) (*ValidationError, error) {
	id := v.new.ID
	if id == "" {
		return errRequired(), nil
	}
	if !v.original.IsNew() {
		if id != v.original.ID {
			return errValuesMismatch(), nil
		}
		return nil, nil
	}

	if err := checkLength(id, 1, 100); err != nil {
		return err, nil
	}
	if !collectionIDRegex.MatchString(id) {
		return errMatch(), nil
	}

	var n int
	if err := v.q.QueryRowContext(ctx, "SELECT count(*) FROM `_collections` WHERE `id` = ?", id).Scan(&n); err != nil {
		return nil, fmt.Errorf("checking collection id: %w", err)
	}
	if n > 0 {
		return newValidationError("validation_invalid_or_existing_id", "The model id is invalid or already exists.", nil), nil
	}

	return nil, nil
}

func (v *collectionValidator) checkName(ctx context.Context) (*ValidationError, error) {
	name := v.new.Name
	if name == "" {
		return errRequired(), nil
	}
	if err := checkLength(name, 1, 255); err != nil {
		return err, nil
	}
	if err := checkForVia(name); err != nil {
		return err, nil
	}
	if !collectionNameRegex.MatchString(name) {
		return errMatch(), nil
	}
	if !v.original.IsNew() && v.original.System && name != v.original.Name {
		return newValidationError("validation_collection_system_name_change", "System collection name cannot be changed.", nil), nil
	}

	unique, err := isCollectionNameUnique(ctx, v.q, name, v.original.ID)
	if err != nil {
		return nil, err
	}
	if !unique {
		return newValidationError("validation_collection_name_exists", "Collection name must be unique (case insensitive).", nil), nil
	}

	if _, err := findCollectionByID(ctx, v.q, name); err == nil {
		return newValidationError("validation_collection_name_id_duplicate", "The name must not match an existing collection id.", nil), nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}

	if v.original.Name != name {
		uniqueAnywhere, err := isCollectionNameUnique(ctx, v.q, name, "")
		if err != nil {
			return nil, err
		}
		hasTable, err := sqlitedb.HasTable(ctx, v.q, name)
		if err != nil {
			return nil, err
		}
		if uniqueAnywhere && hasTable {
			return newValidationError("validation_collection_name_invalid", "The name shouldn't match with an existing internal table.", nil), nil
		}
	}

	return nil, nil
}

func findCollectionByID(ctx context.Context, q sqlitedb.Querier, id string) (*Collection, error) {
	list, err := queryCollections(ctx, q, "SELECT "+collectionColumns+" FROM `_collections` WHERE `id` = ? LIMIT 1", id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrCollectionNotFound
	}

	return list[0], nil
}

// checkFields runs the field list rules in PocketBase's order and returns the first
// failure.
func (v *collectionValidator) checkFields(ctx context.Context) error {
	checks := []func() error{v.checkFieldDuplicates, v.checkMinFields}
	if !v.new.IsView() {
		checks = append(checks, v.ensureNoSystemFieldsChange, v.ensureNoFieldsTypeChange)
	}
	if v.new.IsAuth() {
		checks = append(checks, v.checkReservedAuthNames)
	}
	checks = append(checks, func() error { return v.checkFieldSettings(ctx) })

	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}

	return nil
}

func (v *collectionValidator) checkFieldDuplicates() error {
	ids := map[string]struct{}{}
	names := map[string]struct{}{}
	for i, f := range v.new.Fields {
		if _, ok := ids[f.GetID()]; ok {
			return NestedErrors{strconv.Itoa(i): NestedErrors{"id": newValidationError("validation_duplicated_field_id",
				fmt.Sprintf("Duplicated or invalid field id %q", f.GetID()), nil)}}
		}

		// field names are columns: case-insensitive
		lower := strings.ToLower(f.GetName())
		if _, ok := names[lower]; ok {
			return NestedErrors{strconv.Itoa(i): NestedErrors{"name": newValidationError("validation_duplicated_field_name",
				"Duplicated or invalid field name "+f.GetName(), map[string]any{"fieldName": f.GetName()})}}
		}

		ids[f.GetID()] = struct{}{}
		names[lower] = struct{}{}
	}

	return nil
}

func (v *collectionValidator) checkMinFields() error {
	fields := v.new.Fields
	if len(fields) == 0 {
		return errRequired()
	}

	if id, _ := fields.GetByName(FieldNameID).(*TextField); id == nil || !id.PrimaryKey {
		return newValidationError("validation_missing_primary_key", `Missing or invalid "id" PK field.`, nil)
	}

	if !v.new.IsAuth() {
		return nil
	}

	mustBeSystemAndHidden := newValidationError("validation_must_be_system_and_hidden", `The field must be marked as "System" and "Hidden".`, nil)
	mustBeSystem := newValidationError("validation_must_be_system", `The field must be marked as "System".`, nil)

	password, _ := fields.GetByName(FieldNamePassword).(*PasswordField)
	if password == nil {
		return newValidationError("validation_missing_password_field", `System "password" field is required.`, nil)
	}
	if !password.Hidden || !password.System {
		return NestedErrors{FieldNamePassword: mustBeSystemAndHidden}
	}

	tokenKey, _ := fields.GetByName(FieldNameTokenKey).(*TextField)
	if tokenKey == nil {
		return newValidationError("validation_missing_tokenKey_field", `System "tokenKey" field is required.`, nil)
	}
	if !tokenKey.Hidden || !tokenKey.System {
		return NestedErrors{FieldNameTokenKey: mustBeSystemAndHidden}
	}

	email, _ := fields.GetByName(FieldNameEmail).(*EmailField)
	if email == nil {
		return newValidationError("validation_missing_email_field", `System "email" field is required.`, nil)
	}
	if !email.System {
		return NestedErrors{FieldNameEmail: mustBeSystem}
	}

	for _, name := range []string{FieldNameEmailVisibility, FieldNameVerified} {
		f, _ := fields.GetByName(name).(*BoolField)
		if f == nil {
			return newValidationError("validation_missing_"+name+"_field", fmt.Sprintf("System %q field is required.", name), nil)
		}
		if !f.System {
			return NestedErrors{name: mustBeSystem}
		}
	}

	return nil
}

func (v *collectionValidator) ensureNoSystemFieldsChange() error {
	if v.original.IsNew() {
		return nil
	}
	for _, old := range v.original.Fields {
		if !old.GetSystem() {
			continue
		}
		f := v.new.Fields.GetByID(old.GetID())
		if f == nil || f.GetName() != old.GetName() {
			return newValidationError("validation_system_field_change", "System fields cannot be deleted or renamed.", nil)
		}
	}

	return nil
}

func (v *collectionValidator) ensureNoFieldsTypeChange() error {
	errs := NestedErrors{}
	for i, f := range v.new.Fields {
		if old := v.original.Fields.GetByID(f.GetID()); old != nil && old.Type() != f.Type() {
			errs[strconv.Itoa(i)] = newValidationError("validation_field_type_change", "Field type cannot be changed.", nil)
		}
	}

	return errs.orNil()
}

func (v *collectionValidator) checkReservedAuthNames() error {
	errs := NestedErrors{}
	for i, f := range v.new.Fields {
		if slices.Contains(reservedAuthFieldNames, f.GetName()) {
			errs[strconv.Itoa(i)] = NestedErrors{"name": newValidationError("validation_reserved_field_name",
				"The field name is reserved and cannot be used.", nil)}
		}
	}

	return errs.orNil()
}

func (v *collectionValidator) checkFieldSettings(ctx context.Context) error {
	var original *Collection
	if !v.original.IsNew() {
		original = v.original
	}
	sc := &SettingsContext{Collection: v.new, Original: original, FindCollection: v.find}

	errs := NestedErrors{}
	for i, f := range v.new.Fields {
		errs.addErr(strconv.Itoa(i), withHelpCheck(f, f.ValidateSettings(ctx, sc)))
	}

	return errs.orNil()
}

// checkRule validates an API rule: a filter expression must resolve over the collection
// (validation_invalid_rule), and a system collection's rules cannot change.
func (v *collectionValidator) checkRule(rule, old *string) error {
	if rule != nil && *rule != "" {
		if err := ValidateRule(v.find, v.new, *rule); err != nil {
			return newValidationError("validation_invalid_rule", "Invalid rule. Raw error: "+err.Error(), nil)
		}
	}

	if v.original.IsNew() || !v.original.System {
		return nil
	}
	if (rule == nil && old == nil) || (rule != nil && old != nil && *rule == *old) {
		return nil
	}

	return newValidationError("validation_collection_system_rule_change", "System collection API rule cannot be changed.", nil)
}

func (v *collectionValidator) checkIndexes(ctx context.Context) (error, error) { //nolint:revive // a validation error and an internal error
	indexes := v.new.Indexes
	if v.new.IsView() && len(indexes) > 0 {
		return newValidationError("validation_indexes_not_supported", "View collections don't support indexes.", nil), nil
	}

	names := map[string]struct{}{}
	definitions := map[string]struct{}{}
	for i, raw := range indexes {
		key := strconv.Itoa(i)
		idx := ParseIndex(raw)
		// the table is always replaced by the collection name on save
		idx.TableName = "validator"
		if !idx.IsValid() {
			return NestedErrors{key: newValidationError("validation_invalid_index_expression", "Invalid CREATE INDEX expression.", nil)}, nil
		}

		lowerName := strings.ToLower(idx.IndexName)
		if _, ok := names[lowerName]; ok {
			return NestedErrors{key: newValidationError("validation_duplicated_index_name", "The index name already exists.", nil)}, nil
		}
		names[lowerName] = struct{}{}

		var usedBy string
		err := v.q.QueryRowContext(ctx,
			"SELECT `tbl_name` FROM sqlite_master WHERE `type` = 'index' AND LOWER(`tbl_name`) != LOWER(?) "+
				"AND LOWER(`tbl_name`) != LOWER(?) AND LOWER(`name`) = LOWER(?) LIMIT 1",
			v.original.Name, v.new.Name, idx.IndexName,
		).Scan(&usedBy)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("checking index name: %w", err)
		}
		if usedBy != "" {
			return NestedErrors{key: newValidationError("validation_existing_index_name",
				"The index name is already used in "+usedBy+" collection.", map[string]any{"usedTableName": usedBy})}, nil
		}

		idx.SchemaName, idx.IndexName = "validator", "validator"
		def := idx.Build()
		if _, ok := definitions[def]; ok {
			return NestedErrors{key: newValidationError("validation_duplicated_index_definition", "The index definition already exists.", nil)}, nil
		}
		definitions[def] = struct{}{}
	}

	if err := v.checkSystemUniqueIndexes(); err != nil {
		return err, nil
	}

	// the auth system fields need their unique indexes
	if v.new.IsAuth() {
		for _, name := range []string{FieldNameTokenKey, FieldNameEmail} {
			if !hasSingleColumnUniqueIndex(indexes, name) {
				return newValidationError("validation_missing_required_unique_index",
					fmt.Sprintf("Missing required unique index for field %q.", name), map[string]any{"fieldName": name}), nil
			}
		}
	}

	return nil, nil
}

// checkSystemUniqueIndexes rejects an update that drops or changes a unique index on a
// system field.
func (v *collectionValidator) checkSystemUniqueIndexes() error {
	if v.original.IsNew() {
		return nil
	}

oldIndexes:
	for _, rawOld := range v.original.Indexes {
		old := ParseIndex(rawOld)
		if !old.Unique {
			continue
		}
		for i := range old.Columns {
			old.Columns[i].Collate, old.Columns[i].Sort = "", ""
		}
		oldDef := old.Build()

		for _, col := range old.Columns {
			for _, f := range v.original.Fields {
				if !f.GetSystem() || !strings.EqualFold(col.Name, f.GetName()) {
					continue
				}

				for _, rawNew := range v.new.Indexes {
					idx := ParseIndex(rawNew)
					idx.SchemaName, idx.IndexName, idx.TableName = old.SchemaName, old.IndexName, old.TableName
					idx.Where = old.Where
					for i := range idx.Columns {
						idx.Columns[i].Collate, idx.Columns[i].Sort = "", ""
					}
					if idx.Build() == oldDef {
						continue oldIndexes
					}
				}

				return newValidationError("validation_invalid_unique_system_field_index",
					fmt.Sprintf("Unique index definition on system fields (%s) is invalid or missing.", f.GetName()),
					map[string]any{"fieldName": f.GetName()})
			}
		}
	}

	return nil
}

// withHelpCheck adds to a field's settings errors PocketBase's check of its help text
// (DefaultFieldHelpValidationRule: at most 300 characters), for the types that have one.
func withHelpCheck(f Field, err error) error {
	help := reflect.ValueOf(f).Elem().FieldByName("Help")
	if !help.IsValid() || help.Kind() != reflect.String {
		return err
	}
	helpErr := checkLength(help.String(), 1, 300)
	if helpErr == nil {
		return err
	}
	if err == nil {
		return NestedErrors{"help": helpErr}
	}
	if nested, ok := err.(NestedErrors); ok { //nolint:errorlint // ValidateSettings returns the tree unwrapped
		nested["help"] = helpErr
	}

	return err
}

func (v *collectionValidator) validateViewOptions(ctx context.Context) NestedErrors {
	query := v.new.ViewQuery
	if query == "" {
		return NestedErrors{"viewQuery": errRequired()}
	}

	if tx, ok := v.q.(*sql.Tx); ok {
		if err := v.dryRunView(ctx, tx, query); err != nil {
			raw := err.Error()
			if len(raw) > 500 {
				raw = raw[:500] // as PocketBase: an extra precaution
			}
			return NestedErrors{"viewQuery": newValidationError("validation_invalid_view_query", "Invalid query - "+raw, nil)}
		}
	}

	return nil
}

// dryRunView is PocketBase's DryRunView as its validator runs it: derive the fields,
// validate each of them, then read a sample of up to 10 rows, whose ids must be set
// and distinct.
func (v *collectionValidator) dryRunView(ctx context.Context, tx *sql.Tx, query string) error {
	query = strings.Trim(strings.TrimSpace(query), ";")
	fields, err := createViewFields(ctx, tx, query)
	if err != nil {
		return err
	}

	temp := &Collection{Type: CollectionTypeView, Fields: fields}
	sc := &SettingsContext{Collection: temp, FindCollection: v.find}
	for i, f := range fields {
		if err := f.ValidateSettings(ctx, sc); err != nil {
			return fmt.Errorf("invalid field %q (%d): %w", f.GetName(), i, err)
		}
	}

	normalized, err := normalizeViewQueryID(ctx, tx, query)
	if err != nil {
		return fmt.Errorf("failed to normalize view query id: %w", err)
	}

	rows, err := tx.QueryContext(ctx, "SELECT "+quoteIdent(FieldNameID)+" FROM (SELECT * FROM ("+normalized+")) LIMIT 10")
	if err != nil {
		return fmt.Errorf("failed to retrieve query records: %w", err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id sql.NullString
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("failed to retrieve query records: %w", err)
		}
		if id.String == "" {
			return errors.New("the query could return records with empty or invalid ids")
		}
		if ids[id.String] {
			return errors.New("the query could return records with non-unique ids")
		}
		ids[id.String] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("failed to retrieve query records: %w", err)
	}

	return nil
}
