package httpapi

import (
	"database/sql"
	"errors"
	"io/fs"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Default messages of PocketBase's error constructors (tools/router/error.go).
const (
	msgNotFound     = "The requested resource wasn't found."
	msgBadRequest   = "Something went wrong while processing your request."
	msgForbidden    = "You are not allowed to perform this request."
	msgUnauthorized = "Missing or invalid authentication."
	msgInternal     = "Something went wrong while processing your request."
	msgTooMany      = "Too Many Requests."
)

// ApiError is the one error type of the HTTP API, written as PocketBase's
// {"data":{…},"message":"…","status":N}. The field order is the JSON key order.
//
// Data only ever holds client-safe validation details; the underlying cause is kept
// for logging and never written.
type ApiError struct { //nolint:revive // PocketBase's name (tools/router.ApiError), as style.md spells it
	// Data maps field names to validation errors; never nil.
	Data map[string]any `json:"data"`
	// Message is the sentenized, human-readable message.
	Message string `json:"message"`
	// Status is the HTTP status code.
	Status int `json:"status"`

	cause error
}

// Error implements error.
func (e *ApiError) Error() string {
	return e.Message
}

// Unwrap returns the cause, so that errors.Is and errors.As see through an ApiError.
func (e *ApiError) Unwrap() error {
	return e.cause
}

// NewApiError returns an ApiError with the given status. An empty message becomes the
// status text; every message is sentenized. cause is kept for logs only.
//
// note: validation details (core.ValidationErrors → data) are mapped once record
// validation reaches the API; for now data is always {}.
func NewApiError(status int, message string, cause error) *ApiError { //nolint:revive // see ApiError
	if message == "" {
		message = http.StatusText(status)
	}

	return &ApiError{
		Data:    map[string]any{},
		Message: strings.TrimSpace(Sentenize(message)),
		Status:  status,
		cause:   cause,
	}
}

// NewNotFoundError returns a 404 ApiError; "" means "The requested resource wasn't found.".
func NewNotFoundError(message string, cause error) *ApiError {
	return NewApiError(http.StatusNotFound, cmpOr(message, msgNotFound), cause)
}

// NewBadRequestError returns a 400 ApiError; "" means PocketBase's generic message.
func NewBadRequestError(message string, cause error) *ApiError {
	return NewApiError(http.StatusBadRequest, cmpOr(message, msgBadRequest), cause)
}

// NewForbiddenError returns a 403 ApiError; "" means "You are not allowed to perform this request.".
func NewForbiddenError(message string, cause error) *ApiError {
	return NewApiError(http.StatusForbidden, cmpOr(message, msgForbidden), cause)
}

// NewUnauthorizedError returns a 401 ApiError; "" means "Missing or invalid authentication.".
func NewUnauthorizedError(message string, cause error) *ApiError {
	return NewApiError(http.StatusUnauthorized, cmpOr(message, msgUnauthorized), cause)
}

// NewInternalServerError returns a 500 ApiError; "" means PocketBase's generic message.
func NewInternalServerError(message string, cause error) *ApiError {
	return NewApiError(http.StatusInternalServerError, cmpOr(message, msgInternal), cause)
}

// NewTooManyRequestsError returns a 429 ApiError; "" means "Too Many Requests.".
func NewTooManyRequestsError(message string, cause error) *ApiError {
	return NewApiError(http.StatusTooManyRequests, cmpOr(message, msgTooMany), cause)
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// ToApiError returns err as an ApiError: an ApiError in err's chain is used as is; any
// other error becomes 404 when it is a "no rows" or "file does not exist" error and 400
// otherwise, with the generic message, as PocketBase does. The original error is kept
// as the cause.
func ToApiError(err error) *ApiError { //nolint:revive // see ApiError
	if apiErr, ok := errors.AsType[*ApiError](err); ok {
		return apiErr
	}

	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, fs.ErrNotExist) {
		return NewNotFoundError("", err)
	}

	return NewBadRequestError("", err)
}

// Sentenize trims s, upper-cases its first letter and ends it with a period unless it
// already ends with ".", "?" or "!" (PocketBase's inflector.Sentenize).
func Sentenize(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}

	r, size := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[size:]

	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}

	return s
}

// writeError writes err in PocketBase's error shape unless a response was already
// started. HEAD responses get the status and headers only.
func writeError(c *gin.Context, err error) {
	if c.Writer.Written() {
		return
	}

	apiErr := ToApiError(err)
	if apiErr.Data == nil {
		apiErr.Data = map[string]any{}
	}

	if c.Request.Method == http.MethodHead {
		setContentTypeIfEmpty(c, mimeJSON)
		c.Status(apiErr.Status)
		c.Writer.WriteHeaderNow()
		return
	}

	// note: an ApiError always encodes, so the only failure left is the client going
	// away mid-write, which there is no one to report to.
	_ = writeJSON(c, apiErr.Status, apiErr)
}
