package core

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// columnJSONList is the column of multi-valued select, relation and file fields.
const columnJSONList = "JSON DEFAULT '[]' NOT NULL"

// multiValue normalizes a select/relation/file value: unique non-empty strings, and
// for a single-valued field the last one ("" when none).
func multiValue(raw any, multiple bool) any {
	list := toUniqueStringSlice(raw)
	if !multiple {
		if len(list) > 0 {
			return list[len(list)-1]
		}
		return ""
	}

	return list
}

// multiDriverValue stores a multi-valued field as a JSON array, a single one as text.
func multiDriverValue(value any, multiple bool) (any, error) {
	list := toUniqueStringSlice(value)
	if !multiple {
		if len(list) > 0 {
			return list[len(list)-1], nil
		}
		return "", nil
	}

	raw, err := json.Marshal(list)
	if err != nil {
		return nil, fmt.Errorf("encoding list value: %w", err)
	}

	return string(raw), nil
}

// SelectField is a "select" field: one (maxSelect ≤ 1) or several of a fixed list of
// values.
type SelectField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// Values are the accepted values.
	Values []string `json:"values"`
	// MaxSelect is the most values allowed; ≤ 1 means a single value.
	MaxSelect int64 `json:"maxSelect"`
	// Required rejects an empty value.
	Required bool `json:"required"`
}

// Type implements Field.
func (f *SelectField) Type() string { return FieldTypeSelect }

// IsMultiple implements MultiValuer.
func (f *SelectField) IsMultiple() bool { return f.MaxSelect > 1 }

// ColumnType implements Field.
func (f *SelectField) ColumnType() string {
	if f.IsMultiple() {
		return columnJSONList
	}

	return columnText
}

// PrepareValue implements Field.
func (f *SelectField) PrepareValue(raw any) any { return multiValue(raw, f.IsMultiple()) }

// DriverValue implements Field.
func (f *SelectField) DriverValue(value any) (any, error) {
	return multiDriverValue(value, f.IsMultiple())
}

// OutputValue implements Field.
func (f *SelectField) OutputValue(value any) any { return multiValue(value, f.IsMultiple()) }

// ValidateValue implements Field.
func (f *SelectField) ValidateValue(_ context.Context, _ ValueContext, value any) error {
	list := toUniqueStringSlice(value)
	if len(list) == 0 {
		if f.Required {
			return errRequired()
		}
		return nil
	}

	maxSelect := max(f.MaxSelect, 1)
	if int64(len(list)) > maxSelect {
		return newValidationError("validation_too_many_values",
			fmt.Sprintf("Select no more than %d", maxSelect), map[string]any{"maxSelect": maxSelect})
	}
	for _, v := range list {
		if !slices.Contains(f.Values, v) {
			return newValidationError("validation_invalid_value", "Invalid value "+v, map[string]any{"value": v})
		}
	}

	return nil
}

// ValidateSettings implements Field.
func (f *SelectField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	errs := NestedErrors{}
	f.validateBase(errs)
	if len(f.Values) == 0 {
		errs["values"] = errRequired()
	}

	limit := int64(max(len(f.Values), 1))
	if f.MaxSelect < 0 {
		errs["maxSelect"] = errMinThreshold(0)
	} else {
		errs.addErr("maxSelect", checkMaxInt(f.MaxSelect, limit))
	}

	return errs.orNil()
}

// RelationField is a "relation" field: the ids of one (maxSelect ≤ 1) or several
// records of another collection.
type RelationField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// CollectionID is the id of the related collection.
	CollectionID string `json:"collectionId"`
	// CascadeDelete deletes the record when all its related records are deleted.
	CascadeDelete bool `json:"cascadeDelete"`
	// MinSelect is the fewest ids allowed; 0 means none.
	MinSelect int64 `json:"minSelect"`
	// MaxSelect is the most ids allowed; ≤ 1 means a single id.
	MaxSelect int64 `json:"maxSelect"`
	// Required rejects an empty value.
	Required bool `json:"required"`
}

// Type implements Field.
func (f *RelationField) Type() string { return FieldTypeRelation }

// IsMultiple implements MultiValuer.
func (f *RelationField) IsMultiple() bool { return f.MaxSelect > 1 }

// ColumnType implements Field.
func (f *RelationField) ColumnType() string {
	if f.IsMultiple() {
		return columnJSONList
	}

	return columnText
}

// PrepareValue implements Field.
func (f *RelationField) PrepareValue(raw any) any { return multiValue(raw, f.IsMultiple()) }

// DriverValue implements Field.
func (f *RelationField) DriverValue(value any) (any, error) {
	return multiDriverValue(value, f.IsMultiple())
}

// OutputValue implements Field.
func (f *RelationField) OutputValue(value any) any { return multiValue(value, f.IsMultiple()) }

// ValidateValue implements Field.
func (f *RelationField) ValidateValue(ctx context.Context, vc ValueContext, value any) error {
	ids := toUniqueStringSlice(value)
	if len(ids) == 0 {
		if f.Required {
			return errRequired()
		}
		return nil
	}

	if f.MinSelect > 0 && int64(len(ids)) < f.MinSelect {
		return newValidationError("validation_not_enough_values",
			fmt.Sprintf("Select at least %d", f.MinSelect), map[string]any{"minSelect": f.MinSelect})
	}
	maxSelect := max(f.MaxSelect, 1)
	if int64(len(ids)) > maxSelect {
		return newValidationError("validation_too_many_values",
			fmt.Sprintf("Select no more than %d", maxSelect), map[string]any{"maxSelect": maxSelect})
	}

	if vc.FindCollection == nil || vc.DB == nil {
		return nil
	}
	rel, err := vc.FindCollection(f.CollectionID)
	if err != nil || rel == nil {
		return newValidationError("validation_missing_rel_collection", "Relation connection is missing or cannot be accessed", nil)
	}

	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	var total int
	query := "SELECT count(*) FROM " + quoteIdent(rel.Name) + " WHERE `id` IN (?" + strings.Repeat(", ?", len(ids)-1) + ")"
	if err := vc.DB.QueryRowContext(ctx, query, args...).Scan(&total); err != nil || total != len(ids) {
		return newValidationError("validation_missing_rel_records", "Failed to find all relation records with the provided ids", nil)
	}

	return nil
}

// ValidateSettings implements Field: the related collection must exist (and not be a
// view, unless this collection is one), and cannot change on update.
func (f *RelationField) ValidateSettings(_ context.Context, sc *SettingsContext) error {
	errs := NestedErrors{}
	f.validateBase(errs)

	if f.CollectionID == "" {
		errs["collectionId"] = errRequired()
	} else if sc != nil {
		errs.addErr("collectionId", f.checkCollectionID(sc))
	}

	if f.MinSelect < 0 {
		errs["minSelect"] = errMinThreshold(0)
	}
	switch {
	case f.MinSelect > 0 && f.MaxSelect == 0:
		errs["maxSelect"] = errRequired()
	case f.MaxSelect != 0 && f.MaxSelect < f.MinSelect:
		errs["maxSelect"] = errMinThreshold(f.MinSelect)
	}

	return errs.orNil()
}

func (f *RelationField) checkCollectionID(sc *SettingsContext) *ValidationError {
	if sc.Original != nil {
		if old, ok := sc.Original.Fields.GetByID(f.ID).(*RelationField); ok && old.CollectionID != f.CollectionID {
			return newValidationError("validation_field_relation_change", "The relation collection cannot be changed.", nil)
		}
	}

	var rel *Collection
	if sc.FindCollection != nil {
		rel, _ = sc.FindCollection(f.CollectionID)
	}
	if rel == nil || rel.ID != f.CollectionID {
		return newValidationError("validation_field_relation_missing_collection", "The relation collection doesn't exist.", nil)
	}
	if sc.Collection != nil && !sc.Collection.IsView() && rel.IsView() {
		return newValidationError("validation_relation_field_non_view_base_collection",
			"Only view collections are allowed to have relations to other views.", nil)
	}

	return nil
}
