package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

// defaultBodyLimit is PocketBase's default request body limit (32 MiB).
const defaultBodyLimit int64 = 32 << 20

// Messages of the record write routes (apis/record_crud.go).
const (
	msgMissingCollectionContext = "Missing or invalid collection context."
	msgUnsupportedCollection    = "Unsupported collection type."
	msgCreateFailed             = "Failed to create record."
	msgUpdateFailed             = "Failed to update record."
	msgDeleteFailed             = "Failed to delete record. Make sure that the record is not part of a required relation reference."
	msgEntityTooLarge           = "Request entity too large."
	msgUnsupportedContentType   = "Unsupported Content-Type."
)

// recordBodyLimit is the body limit of the record create and update routes
// (apis/middlewares_body_limit.go dynamicCollectionBodyLimit): 32 MiB plus, over the
// collection's fields, every file field's maxSize × maxSelect and every editor and json
// field's maxSize.
func recordBodyLimit(c *core.Collection) int64 {
	limit := defaultBodyLimit
	for _, f := range c.Fields {
		switch f := f.(type) {
		case *core.FileField:
			limit += f.CalculateMaxBodySize()
		case *core.EditorField:
			limit += f.CalculateMaxBodySize()
		case *core.JSONField:
			limit += f.CalculateMaxBodySize()
		}
	}

	return limit
}

// recordBody is a record request body bound into a map (§1.5), with the names of the
// multipart file parts.
type recordBody struct {
	// Data holds the submitted values.
	Data map[string]any
	// Files maps multipart part names to their uploaded files.
	Files map[string][]*multipart.FileHeader
}

// readRecordBody binds the request body of a record write, as PocketBase's BindBody does
// into a map, choosing the format by the Content-Type's case-sensitive prefix: an empty
// body binds nothing; JSON must be an object (keys are case-sensitive; see
// decodeBodyJSON); multipart and urlencoded values are type-inferred
// (core.InferFormValue; a repeated key becomes a list) with the @jsonPayload objects
// merged over them, and, as PocketBase binds the request's Form, the URL's query values
// count too (urlencoded: after the body's, multipart: before the parts'); any other
// Content-Type is 400 "Unsupported Content-Type.". A body over limit is 413 "Request
// entity too large."; one that does not decode is PocketBase's generic 400.
func readRecordBody(c *gin.Context, limit int64) (*recordBody, error) {
	out := &recordBody{Data: map[string]any{}}

	if c.Request.ContentLength > limit {
		return nil, NewApiError(http.StatusRequestEntityTooLarge, msgEntityTooLarge, nil)
	}

	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, NewApiError(http.StatusRequestEntityTooLarge, msgEntityTooLarge, err)
		}
		return nil, NewBadRequestError("", err)
	}
	// note: the body is kept readable for anything that runs later, as PocketBase
	// buffers it for @request.body and the batch API.
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) == 0 {
		return out, nil
	}

	contentType := c.GetHeader("Content-Type")
	switch bodyFormatOf(contentType) {
	case bodyJSON:
		if err := decodeBodyJSON(body, &out.Data); err != nil {
			return nil, NewBadRequestError("", err)
		}
		if out.Data == nil { // a JSON null binds nothing
			out.Data = map[string]any{}
		}
		return out, nil
	case bodyMultipart:
		mediaType, params, err := mime.ParseMediaType(contentType)
		if err != nil || mediaType != "multipart/form-data" {
			return nil, NewBadRequestError("", http.ErrNotMultipart)
		}
		if err := readMultipartBody(c.Request, body, params["boundary"], limit, out); err != nil {
			return nil, NewBadRequestError("", err)
		}
		return out, nil
	case bodyURLEncoded:
		c.Request.Body = io.NopCloser(bytes.NewReader(body))
		form, err := requestFormValues(c.Request)
		if err != nil {
			return nil, NewBadRequestError("", err)
		}
		if err := mergeFormValues(out.Data, form); err != nil {
			return nil, NewBadRequestError("", err)
		}
		c.Request.Body = io.NopCloser(bytes.NewReader(body))
		return out, nil
	case bodyXML:
		// note: PocketBase's XML binding cannot fill a map, so a record body in XML
		// fails to bind.
		return nil, NewBadRequestError("", errors.New("xml record bodies are not supported"))
	}

	return nil, NewBadRequestError(msgUnsupportedContentType, nil)
}

// readMultipartBody binds a multipart body, after the request URL's query values as
// http.Request.ParseMultipartForm orders them. The parsed form is left on req, whose
// server removes any temporary files of large uploads once the request is done.
func readMultipartBody(req *http.Request, body []byte, boundary string, limit int64, out *recordBody) error {
	if boundary == "" {
		return errors.New("missing multipart boundary")
	}

	form, err := multipart.NewReader(bytes.NewReader(body), boundary).ReadForm(limit)
	if err != nil {
		return fmt.Errorf("parsing multipart body: %w", err)
	}
	req.MultipartForm = form

	values := req.URL.Query()
	for k, v := range form.Value {
		values[k] = append(values[k], v...)
	}
	if err := mergeFormValues(out.Data, values); err != nil {
		return err
	}
	if len(form.File) > 0 {
		out.Files = form.File
	}

	return nil
}

// mergeFormValues infers the form values into data and merges the @jsonPayload objects
// over them.
func mergeFormValues(data map[string]any, values map[string][]string) error {
	for key, vals := range values {
		if key == jsonPayloadKey || len(vals) == 0 {
			continue
		}
		if len(vals) == 1 {
			data[key] = core.InferFormValue(vals[0])
			continue
		}
		list := make([]any, len(vals))
		for i, v := range vals {
			list[i] = core.InferFormValue(v)
		}
		data[key] = list
	}

	for _, payload := range values[jsonPayloadKey] {
		var obj map[string]any
		if err := unmarshalStrictJSON([]byte(payload), &obj); err != nil {
			return fmt.Errorf("decoding %s: %w", jsonPayloadKey, err)
		}
		for k, v := range obj {
			data[k] = v
		}
	}

	return nil
}

// msgReadDataFailed is the answer to a body whose files cannot be read.
const msgReadDataFailed = "Failed to read the submitted data."

// attachUploads turns the multipart file parts of form's file fields (named "field",
// "+field" or "field+") into new files of form and lists their stored names in the body
// under the part's name, as PocketBase's recordDataFromRequest does: for the plain
// field name after the names the body itself sent under that key (so existing files
// are kept only when listed), alone for the append and prepend keys. Parts under other
// names are ignored.
func attachUploads(form *core.RecordUpsert, body *recordBody) error {
	if len(body.Files) == 0 {
		return nil
	}

	for _, f := range form.Collection().Fields {
		if f.Type() != core.FieldTypeFile {
			continue
		}
		name := f.GetName()
		for _, key := range []string{name, "+" + name, name + "+"} {
			headers := body.Files[key]
			if len(headers) == 0 {
				continue
			}
			files := make([]*filesystem.File, 0, len(headers))
			for _, h := range headers {
				file, err := filesystem.NewFileFromMultipart(h)
				if err != nil {
					return NewBadRequestError(msgReadDataFailed, err)
				}
				files = append(files, file)
			}
			_, names, _ := form.AttachFiles(key, files)

			var list []any
			if key == name && body.Data[key] != nil {
				for _, existing := range core.ToStringList(body.Data[key]) {
					list = append(list, existing)
				}
			}
			for _, n := range names {
				list = append(list, n)
			}
			body.Data[key] = list
		}
	}

	return nil
}

// writeRequestInfo returns @request.* of a record write: the read routes' request info
// with body as @request.body.
func writeRequestInfo(c *gin.Context, body map[string]any) *core.RequestInfo {
	info := readRequestInfo(c)
	info.Body = body

	return info
}

// recordWriteCollection resolves `{collection}` for the create and update routes: a
// missing collection is 404 "Missing or invalid collection context." (the body limit
// middleware answers it first), a view collection 400 "Unsupported collection type.".
func (a *api) recordWriteCollection(c *gin.Context, missingMessage string) (*core.Collection, error) {
	collection, err := a.app.FindCachedCollectionByNameOrID(c.Request.Context(), c.Param("collection"))
	if err != nil {
		return nil, NewNotFoundError(missingMessage, err)
	}
	if collection.IsView() {
		return nil, NewBadRequestError(msgUnsupportedCollection, nil)
	}

	return collection, nil
}

// recordSaveError is PocketBase's record save failure: 400 with message, the
// validation errors as data.
func recordSaveError(message string, err error) error {
	if apiErr, ok := errors.AsType[*ApiError](err); ok {
		return apiErr
	}

	apiErr := NewBadRequestError(message, err)
	if data, ok := validationData(err); ok {
		apiErr.Data = data
	}

	return apiErr
}

// writeSavedRecord writes a created or updated record as the view route does: ?expand=
// applied, hidden fields for superusers, the email for superusers, managers and the
// record itself.
func (a *api) writeSavedRecord(c *gin.Context, record *core.Record, info *core.RequestInfo) error {
	records := []*core.Record{record}
	if err := a.enrichRecords(c, records, info); err != nil {
		return NewInternalServerError("Failed to enrich record.", err)
	}

	return writeJSON(c, http.StatusOK, exportRecords(records, info)[0])
}
