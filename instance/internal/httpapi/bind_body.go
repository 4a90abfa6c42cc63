package httpapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// msgBodyTooLarge is PocketBase's body limit answer (apis.ErrRequestEntityTooLarge).
const msgBodyTooLarge = "Request entity too large"

// errUnsupportedBody is PocketBase's router.ErrUnsupportedContentType: a body whose
// Content-Type none of BindBody's formats starts.
var errUnsupportedBody = errors.New("unsupported Content-Type")

// bodyFormat is the format BindBody reads a body in, chosen by the case-sensitive
// prefix of the raw Content-Type header.
type bodyFormat int

const (
	bodyUnsupported bodyFormat = iota
	bodyJSON
	bodyMultipart
	bodyURLEncoded
	bodyXML
)

// bodyFormatOf returns the format of a body sent with contentType.
func bodyFormatOf(contentType string) bodyFormat {
	switch {
	case strings.HasPrefix(contentType, "application/json"):
		return bodyJSON
	case strings.HasPrefix(contentType, "multipart/form-data"):
		return bodyMultipart
	case strings.HasPrefix(contentType, "application/x-www-form-urlencoded"):
		return bodyURLEncoded
	case strings.HasPrefix(contentType, "text/xml"), strings.HasPrefix(contentType, "application/xml"):
		return bodyXML
	}

	return bodyUnsupported
}

// boundBody is what bindBody read: the first JSON value of a JSON body, the form values
// (query values included) of a multipart or urlencoded one, or whether it was XML.
type boundBody struct {
	JSON json.RawMessage
	Form url.Values
	XML  bool
}

// bindBody binds the request body into dst, a pointer to a fixed form struct, as
// PocketBase's router.Event.BindBody does:
//
//   - a body with Content-Length 0 binds nothing (nil is returned);
//   - a Content-Length over 32 MiB is 413 "Request entity too large" (the body limit
//     middleware); a longer chunked body fails with an *http.MaxBytesError;
//   - application/json…: the first JSON value only (firstBodyJSON), into dst with
//     core.DecodeFormJSON (names matched case-insensitively);
//   - multipart/form-data…, application/x-www-form-urlencoded…: the request's Form, so
//     the URL's query values as well, with core.DecodeFormValues; every @jsonPayload
//     must be one strict JSON value;
//   - text/xml…, application/xml…: encoding/xml;
//   - any other Content-Type: errUnsupportedBody.
//
// Content types are matched by the raw header's prefix, case-sensitively. Errors other
// than the 413 are returned unwrapped for the route to answer as PocketBase's does. The
// body stays readable.
func bindBody(c *gin.Context, dst any) (*boundBody, error) {
	r := c.Request
	if r.ContentLength == 0 {
		return &boundBody{}, nil
	}
	if r.ContentLength > maxFixedFormBody {
		return nil, NewApiError(http.StatusRequestEntityTooLarge, msgBodyTooLarge, nil)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, maxFixedFormBody))
	if err != nil {
		// a longer chunked body fails to decode with PocketBase's 413 error wrapped
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	defer func() { r.Body = io.NopCloser(bytes.NewReader(body)) }()

	switch bodyFormatOf(r.Header.Get("Content-Type")) {
	case bodyJSON:
		raw, err := firstBodyJSON(body)
		if err != nil {
			return nil, err
		}
		if err := core.DecodeFormJSON(raw, dst); err != nil {
			return nil, fmt.Errorf("binding the JSON body: %w", err)
		}
		return &boundBody{JSON: raw}, nil
	case bodyMultipart, bodyURLEncoded:
		values, err := requestFormValues(r)
		if err != nil {
			return nil, err
		}
		if err := core.DecodeFormValues(values, dst); err != nil {
			return nil, fmt.Errorf("binding the form body: %w", err)
		}
		return &boundBody{Form: values}, nil
	case bodyXML:
		if err := xml.NewDecoder(bytes.NewReader(body)).Decode(dst); err != nil {
			return nil, fmt.Errorf("binding the XML body: %w", err)
		}
		return &boundBody{XML: true}, nil
	}

	return nil, errUnsupportedBody
}

// requestFormValues parses a multipart or urlencoded body (r.Body must hold it) and
// returns the request's Form, the URL's query values included, as BindBody binds it.
// Each @jsonPayload must be one JSON value json/v2's Unmarshal accepts.
func requestFormValues(r *http.Request) (url.Values, error) {
	if bodyFormatOf(r.Header.Get("Content-Type")) == bodyMultipart {
		if err := r.ParseMultipartForm(maxFormMemory); err != nil {
			return nil, fmt.Errorf("parsing the multipart body: %w", err)
		}
	} else if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("parsing the form body: %w", err)
	}
	for _, payload := range r.Form[jsonPayloadKey] {
		if err := checkStrictJSON([]byte(payload)); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", jsonPayloadKey, err)
		}
	}

	return r.Form, nil
}

// bindForm is bindBody answered as the routes returning PocketBase's
// firstApiError(err, BadRequestError(message, err)) do: 413 as it is (a chunked body
// over the limit too), an unsupported Content-Type 400 "Unsupported Content-Type",
// anything else 400 message.
func bindForm(c *gin.Context, dst any, message string) (*boundBody, error) {
	bound, err := bindBody(c, dst)

	return bound, bindFailure(err, message, true)
}

// bindPlain is bindBody answered as the routes returning PocketBase's
// BadRequestError(message, err) do: a 413 for a Content-Length over the limit (the body
// limit middleware), anything else (an unsupported Content-Type, a chunked body over
// the limit) 400 message.
func bindPlain(c *gin.Context, dst any, message string) (*boundBody, error) {
	bound, err := bindBody(c, dst)

	return bound, bindFailure(err, message, false)
}

// bindFailure is the answer to a bindBody error (nil for none): an ApiError as it is;
// with firstAPIError, the errors PocketBase's firstApiError finds inside the decoding
// error as theirs; anything else 400 message.
func bindFailure(err error, message string, firstAPIError bool) error {
	if err == nil {
		return nil
	}
	if apiErr, ok := errors.AsType[*ApiError](err); ok {
		return apiErr
	}
	if firstAPIError {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return NewApiError(http.StatusRequestEntityTooLarge, msgBodyTooLarge, err)
		}
		if errors.Is(err, errUnsupportedBody) {
			return NewBadRequestError("Unsupported Content-Type", nil)
		}
	}

	return NewBadRequestError(message, err)
}
