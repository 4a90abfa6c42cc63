package core

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// DateTimeValue is a datetime option: it is written as a DateTimeLayout string ("" when
// zero) and accepts any layout ParseDateTime does (anything else becomes "").
type DateTimeValue string

// UnmarshalJSON implements json.Unmarshaler: unparseable values become "".
func (d *DateTimeValue) UnmarshalJSON(b []byte) error {
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*d = DateTimeValue(ParseDateTime(raw))

	return nil
}

// Time returns the parsed time (zero when empty).
func (d DateTimeValue) Time() time.Time {
	t, _ := time.Parse(DateTimeLayout, string(d))
	return t
}

// DateField is a "date" field: one datetime, optionally bounded.
type DateField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// Min is the earliest allowed datetime; "" means none.
	Min DateTimeValue `json:"min"`
	// Max is the latest allowed datetime; "" means none.
	Max DateTimeValue `json:"max"`
	// Required rejects an empty value.
	Required bool `json:"required"`
}

// Type implements Field.
func (f *DateField) Type() string { return FieldTypeDate }

// ColumnType implements Field.
func (f *DateField) ColumnType() string { return columnText }

// PrepareValue implements Field: the value is parsed with ParseDateTime; unparseable
// input silently becomes "".
func (f *DateField) PrepareValue(raw any) any { return ParseDateTime(raw) }

// DriverValue implements Field.
func (f *DateField) DriverValue(value any) (any, error) { return ParseDateTime(value), nil }

// OutputValue implements Field.
func (f *DateField) OutputValue(value any) any { return ParseDateTime(value) }

// ValidateValue implements Field.
func (f *DateField) ValidateValue(_ context.Context, _ ValueContext, value any) error {
	v, ok := value.(string)
	if !ok {
		return errUnsupportedValueType()
	}
	if v == "" {
		if f.Required {
			return errRequired()
		}
		return nil
	}

	t := DateTimeValue(v).Time()
	if f.Min != "" && t.Before(f.Min.Time()) {
		return newValidationError("validation_min_greater_equal_than_required",
			fmt.Sprintf("must be no less than %v", f.Min.Time()), map[string]any{"threshold": f.Min.Time()})
	}
	if f.Max != "" && t.After(f.Max.Time()) {
		return newValidationError("validation_max_less_equal_than_required",
			fmt.Sprintf("must be no greater than %v", f.Max.Time()), map[string]any{"threshold": f.Max.Time()})
	}

	return nil
}

// ValidateSettings implements Field.
func (f *DateField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	errs := NestedErrors{}
	// note: PocketBase v0.40 does not compare min and max (its range rule is built
	// and dropped), so a max before min is accepted as it is there
	f.validateBase(errs)

	return errs.orNil()
}

// AutodateField is an "autodate" field: a datetime the server sets on create and/or
// update; client values are ignored.
type AutodateField struct {
	fieldBase
	// OnCreate sets the value when the record is created.
	OnCreate bool `json:"onCreate"`
	// OnUpdate sets the value whenever the record is updated.
	OnUpdate bool `json:"onUpdate"`
}

// Type implements Field.
func (f *AutodateField) Type() string { return FieldTypeAutodate }

// ColumnType implements Field.
//
// note: SQLite can't add a column with a non-constant default, so the default is the empty string.
func (f *AutodateField) ColumnType() string { return columnText }

// PrepareValue implements Field.
func (f *AutodateField) PrepareValue(raw any) any { return ParseDateTime(raw) }

// DriverValue implements Field.
func (f *AutodateField) DriverValue(value any) (any, error) { return ParseDateTime(value), nil }

// OutputValue implements Field.
func (f *AutodateField) OutputValue(value any) any { return ParseDateTime(value) }

// ValidateValue implements Field: autodate values are always valid.
func (f *AutodateField) ValidateValue(context.Context, ValueContext, any) error { return nil }

// ValidateSettings implements Field. The onCreate/onUpdate flags of a system autodate
// field cannot change, and at least one of them must be set.
func (f *AutodateField) ValidateSettings(_ context.Context, sc *SettingsContext) error {
	errs := NestedErrors{}
	f.validateBase(errs)

	oldOnCreate, oldOnUpdate := f.OnCreate, f.OnUpdate
	if sc != nil && sc.Original != nil {
		if old, ok := sc.Original.Fields.GetByID(f.ID).(*AutodateField); ok {
			oldOnCreate, oldOnUpdate = old.OnCreate, old.OnUpdate
		}
	}

	either := newValidationError("validation_required", "either onCreate or onUpdate must be enabled", nil)
	switch {
	case f.System && f.OnCreate != oldOnCreate:
		errs["onCreate"] = errValuesMismatch()
	case !f.OnCreate && !f.OnUpdate:
		errs["onCreate"] = either
	}
	switch {
	case f.System && f.OnUpdate != oldOnUpdate:
		errs["onUpdate"] = errValuesMismatch()
	case !f.OnCreate && !f.OnUpdate:
		errs["onUpdate"] = either
	}

	return errs.orNil()
}
