package core

import (
	"context"
	"fmt"
	"math"
)

// NumberField is a "number" field: a float64, optionally bounded or integer-only.
// Required means non-zero.
type NumberField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// Min is the smallest allowed value; nil means none.
	Min *float64 `json:"min"`
	// Max is the largest allowed value; nil means none.
	Max *float64 `json:"max"`
	// OnlyInt rejects decimals.
	OnlyInt bool `json:"onlyInt"`
	// Required rejects 0.
	Required bool `json:"required"`
}

// Type implements Field.
func (f *NumberField) Type() string { return FieldTypeNumber }

// ColumnType implements Field.
func (f *NumberField) ColumnType() string { return "NUMERIC DEFAULT 0 NOT NULL" }

// PrepareValue implements Field: the value is cast to float64 ("abc" is 0).
func (f *NumberField) PrepareValue(raw any) any { return castToFloat64(raw) }

// DriverValue implements Field.
func (f *NumberField) DriverValue(value any) (any, error) { return castToFloat64(value), nil }

// OutputValue implements Field.
func (f *NumberField) OutputValue(value any) any { return castToFloat64(value) }

// ValidateValue implements Field.
func (f *NumberField) ValidateValue(_ context.Context, _ ValueContext, value any) error {
	v, ok := value.(float64)
	if !ok {
		return errUnsupportedValueType()
	}

	if math.IsInf(v, 0) || math.IsNaN(v) {
		return newValidationError("validation_not_a_number", "The submitted number is not properly formatted", nil)
	}
	if v == 0 {
		if f.Required {
			return errRequired()
		}
		return nil
	}
	if f.OnlyInt && v != float64(int64(v)) {
		return newValidationError("validation_only_int_constraint", "Decimal numbers are not allowed", nil)
	}
	if f.Min != nil && v < *f.Min {
		return errMinNumber(*f.Min)
	}
	if f.Max != nil && v > *f.Max {
		return newValidationError("validation_max_number_constraint", "Must be less or equal than "+fmt.Sprint(*f.Max), map[string]any{"max": *f.Max})
	}

	return nil
}

// ValidateSettings implements Field.
func (f *NumberField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	errs := NestedErrors{}
	f.validateBase(errs)
	errs.addErr("min", f.checkOnlyInt(f.Min))

	// as PocketBase: a max below min is refused even when it is zero, with the
	// value error of the number field itself
	maxErr := f.checkOnlyInt(f.Max)
	if maxErr == nil && f.Min != nil && f.Max != nil && *f.Max < *f.Min {
		maxErr = errMinNumber(*f.Min)
	}
	errs.addErr("max", maxErr)

	return errs.orNil()
}

// errMinNumber is a number below the field's min.
func errMinNumber(minimum float64) *ValidationError {
	return newValidationError("validation_min_number_constraint", "Must be greater or equal than "+fmt.Sprint(minimum), map[string]any{"min": minimum})
}

func (f *NumberField) checkOnlyInt(v *float64) *ValidationError {
	if v == nil || !f.OnlyInt {
		return nil
	}
	if *v != float64(int64(*v)) {
		return newValidationError("validation_only_int_constraint", "Decimal numbers are not allowed.", nil)
	}

	return nil
}

// BoolField is a "bool" field. Required means true.
type BoolField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// Required rejects false.
	Required bool `json:"required"`
}

// Type implements Field.
func (f *BoolField) Type() string { return FieldTypeBool }

// ColumnType implements Field.
func (f *BoolField) ColumnType() string { return "BOOLEAN DEFAULT FALSE NOT NULL" }

// PrepareValue implements Field: strings go through strconv.ParseBool, numbers are
// true when not zero.
func (f *BoolField) PrepareValue(raw any) any { return castToBool(raw) }

// DriverValue implements Field.
func (f *BoolField) DriverValue(value any) (any, error) { return castToBool(value), nil }

// OutputValue implements Field.
func (f *BoolField) OutputValue(value any) any { return castToBool(value) }

// ValidateValue implements Field.
func (f *BoolField) ValidateValue(_ context.Context, _ ValueContext, value any) error {
	v, ok := value.(bool)
	if !ok {
		return errUnsupportedValueType()
	}
	if f.Required && !v {
		return errRequired()
	}

	return nil
}

// ValidateSettings implements Field.
func (f *BoolField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	errs := NestedErrors{}
	f.validateBase(errs)

	return errs.orNil()
}

// editorMaxSizeDefault is what an editor field's maxSize of 0 means (5 MiB).
const editorMaxSizeDefault int64 = 5 << 20

// EditorField is an "editor" field: a rich-text HTML string.
type EditorField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// MaxSize is the largest value in bytes; 0 means 5 MiB.
	MaxSize int64 `json:"maxSize"`
	// ConvertURLs tells the dashboard editor to convert URLs.
	ConvertURLs bool `json:"convertURLs"`
	// Required rejects the empty string.
	Required bool `json:"required"`
}

// Type implements Field.
func (f *EditorField) Type() string { return FieldTypeEditor }

// ColumnType implements Field.
func (f *EditorField) ColumnType() string { return columnText }

// PrepareValue implements Field.
func (f *EditorField) PrepareValue(raw any) any { return castToString(raw) }

// DriverValue implements Field.
func (f *EditorField) DriverValue(value any) (any, error) { return castToString(value), nil }

// OutputValue implements Field.
func (f *EditorField) OutputValue(value any) any { return castToString(value) }

// CalculateMaxBodySize returns the largest accepted value in bytes.
func (f *EditorField) CalculateMaxBodySize() int64 {
	if f.MaxSize <= 0 {
		return editorMaxSizeDefault
	}

	return f.MaxSize
}

// ValidateValue implements Field.
func (f *EditorField) ValidateValue(_ context.Context, _ ValueContext, value any) error {
	v, ok := value.(string)
	if !ok {
		return errUnsupportedValueType()
	}
	if f.Required && v == "" {
		return errRequired()
	}
	if maxSize := f.CalculateMaxBodySize(); int64(len(v)) > maxSize {
		return newValidationError("validation_content_size_limit",
			fmt.Sprintf("The maximum allowed content size is %d bytes", maxSize), map[string]any{"maxSize": maxSize})
	}

	return nil
}

// ValidateSettings implements Field.
func (f *EditorField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	errs := NestedErrors{}
	f.validateBase(errs)
	errs.addErr("maxSize", checkSize(f.MaxSize))

	return errs.orNil()
}

// checkSize is the Min(0), Max(2^53-1) rule of size and count options.
func checkSize(v int64) *ValidationError {
	if v < 0 {
		return errMinThreshold(0)
	}

	return checkMaxInt(v, maxSafeJSONInt)
}
