package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// readBodyJSON returns the request body of a collection create or update as a JSON
// object, read as PocketBase's BindBody reads it (bindBody): nothing ("{}") for a body
// with Content-Length 0; the first JSON value of a JSON body (firstBodyJSON); the
// request's Form, the URL's query values included, of a multipart or urlencoded body,
// its values inferred (InferFormValue; a repeated key becomes a list) with the
// @jsonPayload objects merged over them; errUnsupportedBody for any other Content-Type
// (matched by the raw header's prefix); 413 over 32 MiB.
func readBodyJSON(c *gin.Context) ([]byte, error) {
	r := c.Request
	if r.ContentLength == 0 {
		return []byte("{}"), nil
	}
	if r.ContentLength > maxFixedFormBody {
		return nil, NewApiError(http.StatusRequestEntityTooLarge, msgBodyTooLarge, nil)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, maxFixedFormBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, NewApiError(http.StatusRequestEntityTooLarge, msgBodyTooLarge, err)
		}
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	switch bodyFormatOf(r.Header.Get("Content-Type")) {
	case bodyJSON:
		return firstBodyJSON(body)
	case bodyMultipart, bodyURLEncoded:
		form, err := requestFormValues(r)
		if err != nil {
			return nil, err
		}
		values := map[string]any{}
		if err := mergeFormValues(values, form); err != nil {
			return nil, err
		}
		return json.Marshal(values)
	}

	// note: PocketBase decodes an XML body into the collection, whose fields have no
	// XML form; it is refused here as an unsupported body.
	return nil, errUnsupportedBody
}

// allocateRulesOfForm mirrors PocketBase's form binder, which allocates every nil
// pointer of the struct it fills: a collection bound from a non-empty form or
// multipart body (query values included) has its null rules turned into "" before the
// values apply.
func allocateRulesOfForm(c *gin.Context, collection *core.Collection) {
	if len(c.Request.Form) > 0 {
		collection.AllocateNilRules()
	}
}

// collectionCreate is POST /api/collections: the body's type and name build the
// scaffold (core.NewCollection), then the whole body is merged over it.
func (a *api) collectionCreate(c *gin.Context) error {
	body, err := readBodyJSON(c)
	if err != nil {
		return bindError("Failed to load the collection type data due to invalid formatting.", err)
	}

	var factory struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(body, &factory); err != nil {
		return NewBadRequestError("Failed to load the collection type data due to invalid formatting.", err)
	}

	collection, err := core.NewCollection(factory.Type, factory.Name)
	if err != nil {
		return NewInternalServerError("", err)
	}
	allocateRulesOfForm(c, collection)
	if err := json.Unmarshal(body, collection); err != nil {
		return NewBadRequestError("Failed to load the submitted data due to invalid formatting.", err)
	}

	if err := a.app.SaveCollection(c.Request.Context(), collection); err != nil {
		return saveError("Failed to create collection.", err)
	}

	return writeJSON(c, http.StatusOK, collection)
}

// collectionUpdate is PATCH /api/collections/{collection}: the body is merged over the
// stored collection ("fields" replaces the whole list).
func (a *api) collectionUpdate(c *gin.Context) error {
	collection, err := a.app.FindCollectionByNameOrID(c.Request.Context(), c.Param("collection"))
	if err != nil {
		return NewNotFoundError("", err)
	}

	body, err := readBodyJSON(c)
	if err != nil {
		return bindError("Failed to load the submitted data due to invalid formatting.", err)
	}
	storedID := collection.ID
	allocateRulesOfForm(c, collection)
	if err := json.Unmarshal(body, collection); err != nil {
		return NewBadRequestError("Failed to load the submitted data due to invalid formatting.", err)
	}
	// as PocketBase, whose settings hook looks the collection up by its new id before
	// validating: an id changed to one that names no collection is a 404 (one that
	// does is refused by the validator)
	if collection.ID != storedID {
		if _, err := a.app.FindCollectionByNameOrID(c.Request.Context(), collection.ID); err != nil {
			return NewNotFoundError("", err)
		}
	}

	if err := a.app.SaveCollection(c.Request.Context(), collection); err != nil {
		return saveError("Failed to update collection.", err)
	}

	return writeJSON(c, http.StatusOK, collection)
}

// bindError keeps an ApiError (413) and turns anything else into a 400 with message.
func bindError(message string, err error) error {
	if apiErr, ok := errors.AsType[*ApiError](err); ok {
		return apiErr
	}

	return NewBadRequestError(message, err)
}

// saveError is PocketBase's collection save failure: validation errors go in data,
// other errors are appended to the message ("… Raw error: \n…").
func saveError(message string, err error) error {
	if data, ok := validationData(err); ok {
		apiErr := NewBadRequestError(message, err)
		apiErr.Data = data
		return apiErr
	}

	return NewBadRequestError(strings.TrimSuffix(message, ".")+". Raw error: \n"+err.Error(), err)
}

// validationData renders the validation errors in err's chain as PocketBase's error
// data: nested maps of {code, message, params?} items with sentenized messages.
func validationData(err error) (map[string]any, bool) {
	if nested, ok := errors.AsType[core.NestedErrors](err); ok {
		return nestedData(nested), true
	}
	if flat, ok := errors.AsType[core.ValidationErrors](err); ok {
		out := make(map[string]any, len(flat))
		for k, v := range flat {
			out[k] = validationItemOf(v)
		}
		return out, true
	}

	return nil, false
}

func nestedData(errs core.NestedErrors) map[string]any {
	out := make(map[string]any, len(errs))
	for key, err := range errs {
		switch v := err.(type) { //nolint:errorlint // the tree holds its nodes unwrapped
		case core.NestedErrors:
			out[key] = nestedData(v)
		case *core.ValidationError:
			out[key] = validationItemOf(v)
		default:
			out[key] = collectionErrorItem{Code: "validation_invalid_value", Message: "Invalid value."}
		}
	}

	return out
}

// collectionErrorItem is one validation error of the data (§2.1), keys in PocketBase's
// order.
type collectionErrorItem struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Params  map[string]any `json:"params,omitempty"`
}

func validationItemOf(v *core.ValidationError) collectionErrorItem {
	return collectionErrorItem{Code: v.Code, Message: Sentenize(v.Message), Params: v.Params}
}
