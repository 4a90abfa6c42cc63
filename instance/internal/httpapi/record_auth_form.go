package httpapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// maxAuthFormBody is PocketBase's default body limit (32 MiB).
const maxAuthFormBody = 32 << 20

const (
	msgLoadFailed       = "An error occurred while loading the submitted data."
	msgValidationFailed = "An error occurred while validating the submitted data."
)

// jsonPayloadKey is the multipart/urlencoded field that carries a JSON object merged over
// the other values (§1.5).
const jsonPayloadKey = "@jsonPayload"

// bindAuthForm decodes the request body into dst, a struct of an auth route's fixed form,
// as PocketBase's BindBody does (§1.5): an empty body binds nothing; JSON object keys
// match the struct's json tags case-insensitively; multipart and urlencoded values are
// taken as strings with @jsonPayload objects merged over them; XML is decoded with the
// xml tags; any other Content-Type is 400 "Unsupported Content-Type.". A body that fails
// to decode is 400 "An error occurred while loading the submitted data.".
//
// note: it is the auth forms' binder only; record bodies (bound into maps, with value
// inference) arrive with the records task and may generalize it.
func bindAuthForm(c *gin.Context, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxAuthFormBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return NewApiError(http.StatusRequestEntityTooLarge, "Request entity too large", err)
		}
		return NewBadRequestError(msgLoadFailed, err)
	}
	if len(body) == 0 {
		return nil
	}

	mediaType, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	var values map[string]any
	switch {
	case strings.HasPrefix(mediaType, "application/json"):
		if err = json.Unmarshal(body, dst); err == nil {
			_ = json.Unmarshal(body, &values) // a JSON object also gives @request.body
		}
	case mediaType == "multipart/form-data" || mediaType == "application/x-www-form-urlencoded":
		values, err = bindFormValues(c, body, dst)
	case mediaType == "text/xml" || mediaType == "application/xml":
		err = xml.Unmarshal(body, dst)
	default:
		return NewBadRequestError("Unsupported Content-Type", nil)
	}
	if err != nil {
		return NewBadRequestError(msgLoadFailed, err)
	}
	if values != nil {
		c.Set(ctxKeyAuthFormBody, values)
	}

	return nil
}

// ctxKeyAuthFormBody holds the body an auth route bound, as the @request.body its
// authRule and mfa.rule see (PocketBase's request info binds the same body).
const ctxKeyAuthFormBody = "pocketfleet.authFormBody"

// bindFormValues decodes a multipart or urlencoded body into dst (values as strings)
// and returns the values it held as @request.body sees them: type-inferred, repeated
// keys as lists (§1.5).
func bindFormValues(c *gin.Context, body []byte, dst any) (map[string]any, error) {
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	if err := c.Request.ParseMultipartForm(maxAuthFormBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return nil, fmt.Errorf("parsing form: %w", err)
	}

	values := map[string]any{}
	for key, vals := range c.Request.PostForm {
		if key == jsonPayloadKey || len(vals) == 0 {
			continue
		}
		values[key] = vals[0]
	}
	for _, payload := range c.Request.PostForm[jsonPayloadKey] {
		var obj map[string]any
		if err := json.Unmarshal([]byte(payload), &obj); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", jsonPayloadKey, err)
		}
		maps.Copy(values, obj)
	}

	merged, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("encoding form values: %w", err)
	}
	if err := json.Unmarshal(merged, dst); err != nil {
		return nil, err
	}

	inferred := map[string]any{}
	if err := mergeFormValues(inferred, c.Request.PostForm); err != nil {
		return nil, err
	}

	return inferred, nil
}

// validationItem is one entry of an error's data (§2.1); its keys come in PocketBase's
// order.
type validationItem struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Params  map[string]any `json:"params,omitempty"`
}

// formErrors collects the validation errors of a fixed form, keyed by JSON field name.
type formErrors map[string]validationItem

//nolint:unparam // minLen: the Length rule takes any bounds
func (e formErrors) requiredString(field, v string, minLen, maxLen int) {
	if v == "" {
		e[field] = validationItem{Code: "validation_required", Message: "Cannot be blank."}
		return
	}
	e.length(field, v, minLen, maxLen)
}

// length is ozzo-validation's Length rule: runes counted, an empty value skipped.
func (e formErrors) length(field, v string, minLen, maxLen int) {
	if n := utf8.RuneCountInString(v); v != "" && (n < minLen || n > maxLen) {
		e[field] = validationItem{
			Code:    "validation_length_out_of_range",
			Message: fmt.Sprintf("The length must be between %d and %d.", minLen, maxLen),
			Params:  map[string]any{"min": minLen, "max": maxLen},
		}
	}
}

// in is ozzo-validation's In rule: an empty value is skipped.
func (e formErrors) in(field, v string, allowed []string) {
	if _, failed := e[field]; failed || v == "" || slices.Contains(allowed, v) {
		return
	}
	e[field] = validationItem{Code: "validation_in_invalid", Message: "Must be a valid value."}
}

// err returns the 400 "An error occurred while validating the submitted data." with the
// errors as data, or nil when there are none.
func (e formErrors) err() error {
	if len(e) == 0 {
		return nil
	}

	apiErr := NewBadRequestError(msgValidationFailed, nil)
	for field, item := range e {
		apiErr.Data[field] = item
	}

	return apiErr
}
