package core

import (
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Sentinel errors. The not-found ones wrap sql.ErrNoRows, which the HTTP layer maps to
// 404 as PocketBase does (tools/router/error.go ToApiError).
var (
	// ErrSuperuserNotFound is returned when no superuser has the given email.
	ErrSuperuserNotFound = fmt.Errorf("superuser not found: %w", sql.ErrNoRows)
	// ErrLastSuperuser is returned when deleting the only remaining superuser; PocketBase
	// answers it with 400 "You can't delete the only existing superuser.".
	ErrLastSuperuser = errors.New("you can't delete the only existing superuser")
	// ErrUnsupportedDataDir is returned for a data directory whose schema predates the
	// PocketBase version this instance reproduces.
	ErrUnsupportedDataDir = errors.New("unsupported data directory")
)

// ValidationError is one invalid value, with PocketBase's error code (e.g.
// "validation_is_email") and message. Params carries the validator parameters that
// PocketBase adds to some codes (e.g. {"min": 2}).
type ValidationError struct {
	// Code is PocketBase's machine-readable error code.
	Code string
	// Message is the human-readable message, before sentenizing.
	Message string
	// Params holds the validator parameters, if any.
	Params map[string]any
}

// Error implements error.
func (e *ValidationError) Error() string {
	return e.Message
}

// ValidationErrors maps field names to their validation errors; it is the `data` of
// PocketBase's 400 responses.
type ValidationErrors map[string]*ValidationError

// Error implements error, listing the fields in name order ("email: must be a valid
// email address; password: ...").
func (v ValidationErrors) Error() string {
	parts := make([]string, 0, len(v))
	for _, name := range slices.Sorted(maps.Keys(v)) {
		parts = append(parts, name+": "+v[name].Message)
	}

	return strings.Join(parts, "; ")
}

// PocketBase's validation errors used so far (messages as ozzo-validation and
// core/field_*.go word them; the HTTP layer sentenizes them).
func errRequired() *ValidationError {
	return &ValidationError{Code: "validation_required", Message: "cannot be blank"}
}

func errIsEmail() *ValidationError {
	return &ValidationError{Code: "validation_is_email", Message: "must be a valid email address"}
}

func errNotUnique() *ValidationError {
	return &ValidationError{Code: "validation_not_unique", Message: "Value must be unique"}
}

func errMinText(n int) *ValidationError {
	return &ValidationError{Code: "validation_min_text_constraint", Message: fmt.Sprintf("Must be at least %d character(s)", n)}
}

func errMaxText(n int) *ValidationError {
	return &ValidationError{Code: "validation_max_text_constraint", Message: fmt.Sprintf("Must be less than %d character(s)", n)}
}
