package core

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// NestedErrors is a tree of validation errors keyed by struct key or list index, as
// PocketBase's validation.Errors (ozzo-validation): every value is a *ValidationError
// leaf or another NestedErrors. It is the `data` of the collection API's 400 responses,
// e.g. {"fields":{"1":{"name":{"code":"validation_required",...}}}}.
type NestedErrors map[string]error

// Error implements error, listing the keys in order ("fields: (1: (name: cannot be
// blank.).); name: ...").
func (e NestedErrors) Error() string {
	parts := make([]string, 0, len(e))
	for _, key := range slices.Sorted(maps.Keys(e)) {
		msg := e[key].Error()
		if _, nested := e[key].(NestedErrors); nested { //nolint:errorlint // the tree holds its nodes unwrapped
			msg = "(" + msg + ")"
		}
		parts = append(parts, key+": "+msg)
	}

	return strings.Join(parts, "; ")
}

// Messages returns the tree with every leaf replaced by its message, the shape
// PocketBase's import error serializes (ozzo's Errors.MarshalJSON).
func (e NestedErrors) Messages() map[string]any {
	out := make(map[string]any, len(e))
	for key, err := range e {
		switch v := err.(type) { //nolint:errorlint // the tree holds its nodes unwrapped
		case NestedErrors:
			out[key] = v.Messages()
		case ValidationErrors:
			inner := make(map[string]any, len(v))
			for k, leaf := range v {
				inner[k] = leaf.Message
			}
			out[key] = inner
		default:
			out[key] = err.Error()
		}
	}

	return out
}

// joinNested merges error trees (validators.JoinValidationErrors); later keys win.
func joinNested(errs ...NestedErrors) error {
	out := NestedErrors{}
	for _, e := range errs {
		maps.Copy(out, e)
	}
	if len(out) == 0 {
		return nil
	}

	return out
}

// addErr sets key to err when err is not nil (a typed-nil-safe helper for the
// validators below, which return *ValidationError or NestedErrors).
func (e NestedErrors) addErr(key string, err error) {
	switch v := err.(type) { //nolint:errorlint // typed nils are what is checked here
	case nil:
		return
	case *ValidationError:
		if v == nil {
			return
		}
	case NestedErrors:
		if len(v) == 0 {
			return
		}
	}
	e[key] = err
}

// orNil returns e, or nil when it is empty.
func (e NestedErrors) orNil() error {
	if len(e) == 0 {
		return nil
	}

	return e
}

// newValidationError returns a validation error with params.
func newValidationError(code, message string, params map[string]any) *ValidationError {
	return &ValidationError{Code: code, Message: message, Params: params}
}

// ozzo-validation's built-in rules, with their codes, messages and params.

func errLength(minLen, maxLen int) *ValidationError {
	params := map[string]any{"min": minLen, "max": maxLen}
	switch {
	case minLen == maxLen:
		return newValidationError("validation_length_invalid", fmt.Sprintf("the length must be exactly %d", minLen), params)
	case minLen == 0:
		return newValidationError("validation_length_too_long", fmt.Sprintf("the length must be no more than %d", maxLen), params)
	case maxLen == 0:
		return newValidationError("validation_length_too_short", fmt.Sprintf("the length must be no less than %d", minLen), params)
	}

	return newValidationError("validation_length_out_of_range", fmt.Sprintf("the length must be between %d and %d", minLen, maxLen), params)
}

func errMatch() *ValidationError {
	return newValidationError("validation_match_invalid", "must be in a valid format", nil)
}

func errIn() *ValidationError {
	return newValidationError("validation_in_invalid", "must be a valid value", nil)
}

func errNotIn() *ValidationError {
	return newValidationError("validation_not_in_invalid", "must not be in list", nil)
}

func errNil() *ValidationError {
	return newValidationError("validation_nil", "must be blank", nil)
}

func errEmpty() *ValidationError {
	return newValidationError("validation_empty", "must be blank", nil)
}

func errNilOrNotEmpty() *ValidationError {
	return newValidationError("validation_nil_or_not_empty_required", "cannot be blank", nil)
}

func errMinThreshold(threshold any) *ValidationError {
	return newValidationError("validation_min_greater_equal_than_required",
		fmt.Sprintf("must be no less than %v", threshold), map[string]any{"threshold": threshold})
}

func errMaxThreshold(threshold any) *ValidationError {
	return newValidationError("validation_max_less_equal_than_required",
		fmt.Sprintf("must be no greater than %v", threshold), map[string]any{"threshold": threshold})
}

func errValuesMismatch() *ValidationError {
	return newValidationError("validation_values_mismatch", "Values don't match.", nil)
}

// checkLength is ozzo's Length rule: empty values pass, lengths count runes.
func checkLength(s string, minLen, maxLen int) *ValidationError {
	if s == "" {
		return nil
	}
	n := len([]rune(s))
	if n < minLen || (maxLen > 0 && n > maxLen) {
		return errLength(minLen, maxLen)
	}

	return nil
}

// checkMaxInt is ozzo's Max threshold rule on integers: the zero value passes (ozzo
// treats it as empty).
func checkMaxInt(v, threshold int64) *ValidationError {
	if v != 0 && v > threshold {
		return errMaxThreshold(threshold)
	}

	return nil
}

// marshalIndentMessages encodes err as PocketBase's import failure does
// (json.MarshalIndent of the validation errors, leaves as messages).
func marshalIndentMessages(err error) string {
	var v any = err.Error()
	switch e := err.(type) { //nolint:errorlint // called with the tree itself
	case NestedErrors:
		v = e.Messages()
	case ValidationErrors:
		v = NestedErrors{"": e}.Messages()[""]
	}
	raw, mErr := json.MarshalIndent(v, "", "  ")
	if mErr != nil {
		return err.Error()
	}

	return string(raw)
}
