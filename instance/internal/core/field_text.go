package core

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// Column definitions of the text-like fields (core/field_text.go ColumnType).
const (
	columnText       = "TEXT DEFAULT '' NOT NULL"
	columnPrimaryKey = "TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL"
)

// defaultIDPattern is the pattern of generated lowercase record ids.
const defaultIDPattern = "^[a-z0-9]+$"

// textMaxDefault is what a text field's max of 0 means.
const textMaxDefault = 5000

// TextField is a "text" field: any string, with optional length limits, a pattern and
// an autogenerate pattern. The id field is a text field with primaryKey set.
type TextField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// Min is the minimum length in characters; 0 means none.
	Min int64 `json:"min"`
	// Max is the maximum length in characters; 0 means 5000.
	Max int64 `json:"max"`
	// Pattern is a regular expression the value must match, if set.
	Pattern string `json:"pattern"`
	// AutogeneratePattern generates a value on create when none was given.
	AutogeneratePattern string `json:"autogeneratePattern"`
	// Required rejects the empty string.
	Required bool `json:"required"`
	// PrimaryKey marks the id field.
	PrimaryKey bool `json:"primaryKey"`
}

// Type implements Field.
func (f *TextField) Type() string { return FieldTypeText }

// ColumnType implements Field.
func (f *TextField) ColumnType() string {
	if f.PrimaryKey {
		return columnPrimaryKey
	}

	return columnText
}

// PrepareValue implements Field: the value is stringified.
func (f *TextField) PrepareValue(raw any) any { return castToString(raw) }

// DriverValue implements Field.
func (f *TextField) DriverValue(value any) (any, error) { return castToString(value), nil }

// OutputValue implements Field.
func (f *TextField) OutputValue(value any) any { return castToString(value) }

var forbiddenPKChars = []string{"/", "\\"}

// ValidateValue implements Field.
func (f *TextField) ValidateValue(ctx context.Context, vc ValueContext, value any) error {
	v, ok := value.(string)
	if !ok {
		return errUnsupportedValueType()
	}

	if f.PrimaryKey {
		if !vc.IsNew {
			if vc.OldID != v {
				return newValidationError("validation_pk_change", "The record primary key cannot be changed.", nil)
			}
			if vc.OldID != "" {
				// an existing id may predate the current field rules
				return nil
			}
		} else {
			for _, c := range forbiddenPKChars {
				if strings.Contains(v, c) {
					return newValidationError("validation_pk_forbidden",
						"The record primary key contains forbidden characters.", map[string]any{"forbidden": c})
				}
			}

			if f.Pattern != defaultIDPattern && vc.DB != nil && vc.Collection != nil {
				var n int
				err := vc.DB.QueryRowContext(ctx,
					"SELECT count(*) FROM "+quoteIdent(vc.Collection.Name)+" WHERE `id` = ? COLLATE NOCASE", strings.ToLower(v),
				).Scan(&n)
				if err != nil || n > 0 {
					return newValidationError("validation_pk_invalid", "The record primary key is invalid or already exists.", nil)
				}
			}
		}
	}

	if err := f.ValidatePlainValue(v); err != nil {
		return err
	}

	return nil
}

// ValidatePlainValue checks a string against the required, length and pattern options.
func (f *TextField) ValidatePlainValue(v string) *ValidationError {
	if (f.Required || f.PrimaryKey) && v == "" {
		return errRequired()
	}
	if v == "" {
		return nil
	}

	n := int64(len([]rune(v)))
	if f.Min > 0 && n < f.Min {
		return newValidationError("validation_min_text_constraint",
			fmt.Sprintf("Must be at least %d character(s)", f.Min), map[string]any{"min": f.Min})
	}

	maxLen := f.Max
	if maxLen == 0 {
		maxLen = textMaxDefault
	}
	if maxLen > 0 && n > maxLen {
		return newValidationError("validation_max_text_constraint",
			fmt.Sprintf("Must be no more than %d character(s)", maxLen), map[string]any{"max": maxLen})
	}

	if f.Pattern != "" {
		if ok, _ := regexp.MatchString(f.Pattern, v); !ok {
			return newValidationError("validation_invalid_format", "Invalid value format", nil)
		}
	}

	return nil
}

// ValidateSettings implements Field.
func (f *TextField) ValidateSettings(_ context.Context, sc *SettingsContext) error {
	errs := NestedErrors{}
	errs.addErr("id", validateFieldID(f.ID))

	nameErr := validateFieldName(f.Name)
	if nameErr == nil && f.PrimaryKey && f.Name != FieldNameID {
		nameErr = newValidationError("validation_in_invalid", `The primary key must be named "id".`, nil)
	}
	errs.addErr("name", nameErr)

	if f.PrimaryKey && sc != nil && sc.Collection != nil {
		pks := 0
		for _, field := range sc.Collection.Fields {
			if t, ok := field.(*TextField); ok && t.PrimaryKey {
				pks++
			}
		}
		if pks > 1 {
			errs["primaryKey"] = newValidationError("validation_unsupported_composite_pk",
				"Composite PKs are not supported and the collection must have only 1 PK.", nil)
		}
	}

	if f.Min < 0 {
		errs["min"] = errMinThreshold(0)
	} else {
		errs.addErr("min", checkMaxInt(f.Min, maxSafeJSONInt))
	}

	if f.Max != 0 && f.Max < f.Min {
		errs["max"] = errMinThreshold(f.Min)
	} else {
		errs.addErr("max", checkMaxInt(f.Max, maxSafeJSONInt))
	}

	if f.PrimaryKey && f.Pattern == "" {
		errs["pattern"] = errRequired()
	} else {
		errs.addErr("pattern", validateRegex(f.Pattern))
	}

	if f.PrimaryKey && f.Hidden {
		errs["hidden"] = errEmpty()
	}
	if f.PrimaryKey && !f.Required {
		errs["required"] = errRequired()
	}

	if err := validateRegex(f.AutogeneratePattern); err != nil {
		errs["autogeneratePattern"] = err
	} else {
		errs.addErr("autogeneratePattern", f.checkAutogeneratePattern())
	}

	return errs.orNil()
}

// checkAutogeneratePattern generates a few values and checks that they satisfy the
// other options.
func (f *TextField) checkAutogeneratePattern() *ValidationError {
	if f.AutogeneratePattern == "" {
		return nil
	}

	for range 10 {
		generated, err := RandomStringByRegex(f.AutogeneratePattern)
		if err != nil {
			return newValidationError("validation_invalid_autogenerate_pattern", err.Error(), nil)
		}
		if f.ValidatePlainValue(generated) != nil {
			return newValidationError("validation_invalid_autogenerate_pattern_value",
				fmt.Sprintf("The provided autogenerate pattern could produce invalid field values, ex.: %q", generated), nil)
		}
	}

	return nil
}

// Autogenerate returns a new value from the autogenerate pattern ("" when it has none).
func (f *TextField) Autogenerate() (string, error) {
	if f.AutogeneratePattern == "" {
		return "", nil
	}

	return RandomStringByRegex(f.AutogeneratePattern)
}
