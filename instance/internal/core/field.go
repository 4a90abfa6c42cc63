package core

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// Field types (core/field_*.go FieldType* constants).
const (
	FieldTypeText     = "text"
	FieldTypeNumber   = "number"
	FieldTypeBool     = "bool"
	FieldTypeEmail    = "email"
	FieldTypeURL      = "url"
	FieldTypeEditor   = "editor"
	FieldTypeDate     = "date"
	FieldTypeAutodate = "autodate"
	FieldTypeSelect   = "select"
	FieldTypeFile     = "file"
	FieldTypeRelation = "relation"
	FieldTypeJSON     = "json"
	FieldTypePassword = "password"
	FieldTypeGeoPoint = "geoPoint"
)

// Names that are not fields but appear in record JSON.
const (
	// FieldNameCollectionID is the record JSON key holding the collection id.
	FieldNameCollectionID = "collectionId"
	// FieldNameCollectionName is the record JSON key holding the collection name.
	FieldNameCollectionName = "collectionName"
	// FieldNameExpand is the record JSON key holding expanded relations.
	FieldNameExpand = "expand"
)

// maxSafeJSONInt is the largest integer a JSON number represents exactly (2^53-1).
const maxSafeJSONInt int64 = 1<<53 - 1

// Field is one collection field type (PocketBase's core.Field): its options are the
// struct's JSON keys, and it knows its column, how to normalize and validate a value
// and how to validate its own options.
type Field interface {
	// Type returns the field type, e.g. "text".
	Type() string
	// GetID returns the field id.
	GetID() string
	// SetID changes the field id.
	SetID(id string)
	// GetName returns the field (and column) name.
	GetName() string
	// SetName changes the field name.
	SetName(name string)
	// GetSystem reports whether the field is a system field.
	GetSystem() bool
	// SetSystem changes the system flag.
	SetSystem(system bool)
	// GetHidden reports whether the field is hidden from non-superusers.
	GetHidden() bool
	// SetHidden changes the hidden flag.
	SetHidden(hidden bool)

	// ColumnType returns the column definition PocketBase creates for the field, e.g.
	// "TEXT DEFAULT '' NOT NULL".
	ColumnType() string
	// PrepareValue normalizes a raw value (request input or database value) into the
	// field's Go value (§4.1); it also gives the zero value for nil.
	PrepareValue(raw any) any
	// DriverValue converts a prepared value into what is stored in the column.
	DriverValue(value any) (any, error)
	// OutputValue returns the prepared value as it appears in record JSON (§4).
	OutputValue(value any) any
	// ValidateValue validates a prepared value; it returns a *ValidationError or nil.
	ValidateValue(ctx context.Context, vc ValueContext, value any) error
	// ValidateSettings validates the field options when its collection is saved; it
	// returns NestedErrors keyed by option name, or nil.
	ValidateSettings(ctx context.Context, sc *SettingsContext) error

	base() *fieldBase
}

// MultiValuer is implemented by the fields that hold one or many values (select,
// relation and file).
type MultiValuer interface {
	// IsMultiple reports whether maxSelect allows more than one value.
	IsMultiple() bool
}

// ValueContext is what value validation may need beyond the value itself.
type ValueContext struct {
	// DB runs lookups (relation ids, primary key uniqueness); nil skips them.
	DB sqlitedb.Querier
	// Collection is the collection of the record being validated.
	Collection *Collection
	// IsNew is true on create.
	IsNew bool
	// OldID is the stored record id on update.
	OldID string
	// OldValue is the stored value of the field on update (file names already kept).
	OldValue any
	// FindCollection resolves a collection by id or name (relation targets); nil
	// skips the relation existence check.
	FindCollection func(nameOrID string) (*Collection, error)
	// NewFiles are the files uploaded into the field by this write, by stored name.
	NewFiles map[string]*filesystem.File
}

// SettingsContext is what field option validation needs.
type SettingsContext struct {
	// Collection is the collection being saved (with its new fields).
	Collection *Collection
	// Original is the stored collection on update, nil on create.
	Original *Collection
	// FindCollection resolves a collection by id or name.
	FindCollection func(nameOrID string) (*Collection, error)
}

// fieldFactories is the field registry: one constructor per type.
var fieldFactories = map[string]func() Field{
	FieldTypeText:     func() Field { return &TextField{} },
	FieldTypeNumber:   func() Field { return &NumberField{} },
	FieldTypeBool:     func() Field { return &BoolField{} },
	FieldTypeEmail:    func() Field { return &EmailField{} },
	FieldTypeURL:      func() Field { return &URLField{} },
	FieldTypeEditor:   func() Field { return &EditorField{} },
	FieldTypeDate:     func() Field { return &DateField{} },
	FieldTypeAutodate: func() Field { return &AutodateField{} },
	FieldTypeSelect:   func() Field { return &SelectField{} },
	FieldTypeFile:     func() Field { return &FileField{} },
	FieldTypeRelation: func() Field { return &RelationField{} },
	FieldTypeJSON:     func() Field { return &JSONField{} },
	FieldTypePassword: func() Field { return &PasswordField{} },
	FieldTypeGeoPoint: func() Field { return &GeoPointField{} },
}

// NewField returns a blank field of the given type, or nil for an unknown type.
func NewField(typ string) Field {
	factory, ok := fieldFactories[typ]
	if !ok {
		return nil
	}

	return factory()
}

// FieldTypes returns the registered field types, sorted.
func FieldTypes() []string {
	types := make([]string, 0, len(fieldFactories))
	for t := range fieldFactories {
		types = append(types, t)
	}
	slices.Sort(types)

	return types
}

// fieldBase holds the options every field has.
type fieldBase struct {
	// ID is the stable field identifier; it survives renames.
	ID string `json:"id"`
	// Name is the field and column name.
	Name string `json:"name"`
	// System fields cannot be renamed or deleted.
	System bool `json:"system"`
	// Hidden fields are only shown to superusers.
	Hidden bool `json:"hidden"`
	// Presentable hints the dashboard to show the value in relation previews.
	Presentable bool `json:"presentable"`
}

func (b *fieldBase) base() *fieldBase { return b }

// GetID implements Field.
func (b *fieldBase) GetID() string { return b.ID }

// SetID implements Field.
func (b *fieldBase) SetID(id string) { b.ID = id }

// GetName implements Field.
func (b *fieldBase) GetName() string { return b.Name }

// SetName implements Field.
func (b *fieldBase) SetName(name string) { b.Name = name }

// GetSystem implements Field.
func (b *fieldBase) GetSystem() bool { return b.System }

// SetSystem implements Field.
func (b *fieldBase) SetSystem(system bool) { b.System = system }

// GetHidden implements Field.
func (b *fieldBase) GetHidden() bool { return b.Hidden }

// SetHidden implements Field.
func (b *fieldBase) SetHidden(hidden bool) { b.Hidden = hidden }

// validateBase runs the id and name rules every field has
// (DefaultFieldIdValidationRule, DefaultFieldNameValidationRule) into errs.
func (b *fieldBase) validateBase(errs NestedErrors) {
	errs.addErr("id", validateFieldID(b.ID))
	errs.addErr("name", validateFieldName(b.Name))
}

var fieldNameRegex = regexp.MustCompile(`^\w+$`)

// excludedFieldNames are the filter literals and record JSON keys a field cannot be
// named after.
var excludedFieldNames = []string{
	"null", "true", "false", "_rowid_",
	FieldNameCollectionID, FieldNameCollectionName, FieldNameExpand,
}

func validateFieldID(id string) *ValidationError {
	if id == "" {
		return errRequired()
	}

	return checkLength(id, 1, 100)
}

func validateFieldName(name string) *ValidationError {
	if name == "" {
		return errRequired()
	}
	if err := checkLength(name, 1, 100); err != nil {
		return err
	}
	if !fieldNameRegex.MatchString(name) {
		return errMatch()
	}
	if slices.Contains(excludedFieldNames, name) {
		return errNotIn()
	}

	return checkForVia(name)
}

// checkForVia rejects names containing "_via_", the back-relation marker.
func checkForVia(name string) *ValidationError {
	if strings.Contains(strings.ToLower(name), "_via_") {
		return newValidationError("validation_found_via", `The value cannot contain "_via_".`, nil)
	}

	return nil
}

// errUnsupportedValueType is returned for a value of the wrong Go type.
func errUnsupportedValueType() *ValidationError {
	return newValidationError("validation_unsupported_value_type", "Invalid or unsupported value type.", nil)
}

// validateRegex is validators.IsRegex.
func validateRegex(pattern string) *ValidationError {
	if pattern == "" {
		return nil
	}
	if _, err := regexp.Compile(pattern); err != nil {
		return newValidationError("validation_invalid_regex", err.Error(), nil)
	}

	return nil
}
