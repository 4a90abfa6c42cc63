package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

const (
	msgLoadFailed       = "An error occurred while loading the submitted data."
	msgValidationFailed = "An error occurred while validating the submitted data."
)

// jsonPayloadKey is the multipart/urlencoded field that carries a JSON object merged over
// the other values (§1.5).
const jsonPayloadKey = "@jsonPayload"

// bindAuthForm binds the request body into dst, a struct of an auth route's fixed form,
// as PocketBase's BindBody does (bindBody: JSON names matched case-insensitively, form
// values from the request's Form, the URL's query values included), answered as the
// auth handlers do (bindForm: 400 "Unsupported Content-Type", 400 "An error occurred
// while loading the submitted data."). The body is also kept as the @request.body the
// route's rules see: a JSON object as it is, form values type-inferred (a repeated key
// as a list) with the @jsonPayload objects merged over them.
func bindAuthForm(c *gin.Context, dst any) error {
	return bindAuthFormWith(c, dst, bindForm)
}

// bindAuthFormPlain is bindAuthForm for the routes that answer every binding failure
// with the 400 "An error occurred while loading the submitted data." (bindPlain):
// impersonate and confirm-password-reset.
func bindAuthFormPlain(c *gin.Context, dst any) error {
	return bindAuthFormWith(c, dst, bindPlain)
}

func bindAuthFormWith(c *gin.Context, dst any, bind func(*gin.Context, any, string) (*boundBody, error)) error {
	bound, err := bind(c, dst, msgLoadFailed)
	if err != nil {
		return err
	}

	var values map[string]any
	switch {
	case bound.JSON != nil:
		_ = json.Unmarshal(bound.JSON, &values) // a body that is not an object gives none
	case bound.Form != nil:
		values = map[string]any{}
		if err := mergeFormValues(values, bound.Form); err != nil {
			return NewBadRequestError(msgLoadFailed, err)
		}
	case bound.XML:
		// PocketBase's request info binds the body into a map, which XML cannot fill:
		// the route fails once it reads @request.body (authRequestInfo)
		c.Set(ctxKeyAuthFormBody, errXMLRequestBody)
	}
	if values != nil {
		c.Set(ctxKeyAuthFormBody, values)
	}

	return nil
}

// ctxKeyAuthFormBody holds the body an auth route bound, as the @request.body its
// authRule and mfa.rule see (PocketBase's request info binds the same body), or
// errXMLRequestBody.
const ctxKeyAuthFormBody = "pocketfleet.authFormBody"

// errXMLRequestBody is the failure of an XML body bound as @request.body.
var errXMLRequestBody = errors.New("xml: an XML body cannot be bound into a map")

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
