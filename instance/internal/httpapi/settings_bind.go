package httpapi

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

const (
	// maxFixedFormBody is PocketBase's default body limit (apis.DefaultMaxBodySize).
	maxFixedFormBody = 32 << 20
	// maxFormMemory is PocketBase's router.DefaultMaxMemory for multipart forms.
	maxFormMemory = 32 << 20

	msgFormLoadFailed = "An error occurred while loading the submitted data."
)

var errUnsupportedFormContentType = errors.New("unsupported Content-Type")

// bindFixedForm binds the request body into dst, a pointer to a fixed form struct, as
// PocketBase's BindBody does for the settings routes (§1.5), and answers its errors as
// the handlers of apis/settings.go do:
//
//   - a body with Content-Length 0 binds nothing;
//   - application/json…: core.DecodeFormJSON (case-insensitive names, merge over dst);
//   - multipart/form-data…, application/x-www-form-urlencoded…: core.DecodeFormValues
//     over the query and body values, @jsonPayload included;
//   - text/xml…, application/xml…: encoding/xml;
//   - anything else, or a body that fails to decode: 400 "An error occurred while
//     loading the submitted data.";
//   - a Content-Length over 32 MiB: 413, before anything is read (the body limit
//     middleware); a longer chunked body fails to decode.
//
// Content types are matched by prefix on the raw header, as PocketBase does.
func bindFixedForm(c *gin.Context, dst any) error {
	r := c.Request
	if r.ContentLength == 0 {
		return nil
	}
	if r.ContentLength > maxFixedFormBody {
		return NewApiError(http.StatusRequestEntityTooLarge, "Request entity too large", nil)
	}
	r.Body = http.MaxBytesReader(c.Writer, r.Body, maxFixedFormBody)

	if err := decodeFixedForm(r, dst); err != nil {
		return NewBadRequestError(msgFormLoadFailed, err)
	}

	return nil
}

func decodeFixedForm(r *http.Request, dst any) error {
	contentType := r.Header.Get("Content-Type")

	switch {
	case strings.HasPrefix(contentType, "application/json"):
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		return core.DecodeFormJSON(body, dst)
	case strings.HasPrefix(contentType, "multipart/form-data"):
		if err := r.ParseMultipartForm(maxFormMemory); err != nil {
			return err
		}
		return core.DecodeFormValues(r.Form, dst)
	case strings.HasPrefix(contentType, "application/x-www-form-urlencoded"):
		if err := r.ParseForm(); err != nil {
			return err
		}
		return core.DecodeFormValues(r.Form, dst)
	case strings.HasPrefix(contentType, "text/xml"), strings.HasPrefix(contentType, "application/xml"):
		return xml.NewDecoder(r.Body).Decode(dst)
	default:
		return errUnsupportedFormContentType
	}
}
