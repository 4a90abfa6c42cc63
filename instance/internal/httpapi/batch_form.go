package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

// batchForm is the body of POST /api/batch (apis/batch.go batchRequestsForm). JSON
// keys match case-insensitively, as PocketBase binds fixed forms.
type batchForm struct {
	Requests []*batchRequest `json:"requests"`

	// multipart holds the uploads of a multipart body until cleanup.
	multipart *multipart.Form
}

// cleanup removes the temporary files of a multipart body.
func (f *batchForm) cleanup() {
	if f.multipart != nil {
		_ = f.multipart.RemoveAll()
	}
}

// batchRequest is one sub-request (core.InternalRequest).
type batchRequest struct {
	// Body holds the record data; numbers stay json.Number, so that they pass through
	// unchanged.
	Body map[string]any `json:"body"`
	// Headers are set on the sub-request over the batch request's own (Authorization
	// excepted: the batch request's auth applies).
	Headers map[string]string `json:"headers"`
	// Method is GET, POST, PUT, PATCH or DELETE.
	Method string `json:"method"`
	// URL is the sub-request's path and query.
	URL string `json:"url"`

	// files are the multipart uploads of this sub-request, by field key.
	files map[string][]*multipart.FileHeader
}

// readBatchForm binds the batch body within limit: JSON, or multipart with the JSON
// under @jsonPayload and the files of request N under "requests.N.<field>" or
// "requests[N].<field>". A body over limit is 413 when its Content-Length says so; a
// body that cannot be read or bound is 400 "Failed to read the submitted batch data.".
func readBatchForm(c *gin.Context, limit int64) (*batchForm, error) {
	if c.Request.ContentLength > limit {
		return nil, NewApiError(http.StatusRequestEntityTooLarge, msgEntityTooLarge, nil)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		return nil, NewBadRequestError(msgBatchReadFailed, err)
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))

	form := &batchForm{}
	if len(body) == 0 {
		return form, nil
	}

	// as PocketBase's BindBody: the format by the header's case-sensitive prefix
	contentType := c.GetHeader("Content-Type")
	switch {
	case strings.HasPrefix(contentType, "application/json"):
		if err := decodeBatchJSON(body, form); err != nil {
			return nil, NewBadRequestError(msgBatchReadFailed, err)
		}
	case strings.HasPrefix(contentType, "multipart/form-data"):
		mediaType, params, err := mime.ParseMediaType(contentType)
		if err != nil || mediaType != "multipart/form-data" {
			return nil, NewBadRequestError(msgBatchReadFailed, http.ErrNotMultipart)
		}
		if err := readBatchMultipart(body, params["boundary"], c.Request.URL.Query(), limit, form); err != nil {
			return nil, err
		}
	case strings.HasPrefix(contentType, "application/x-www-form-urlencoded"):
		values, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, NewBadRequestError(msgBatchReadFailed, err)
		}
		// the request's Form: the body's values, then the query's
		for k, v := range c.Request.URL.Query() {
			values[k] = append(values[k], v...)
		}
		if err := bindBatchValues(values, form); err != nil {
			return nil, err
		}
	default:
		return nil, NewBadRequestError(msgBatchReadFailed, errors.New("unsupported batch content type"))
	}

	return form, nil
}

// decodeBatchJSON decodes a JSON batch form, keeping numbers exact. As PocketBase's
// BindBody, only the first JSON value counts (see decodeBodyJSON).
func decodeBatchJSON(data []byte, form *batchForm) error {
	var raw json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil {
		return fmt.Errorf("decoding batch body: %w", err)
	}
	var check any
	if err := unmarshalStrictJSON(raw, &check); err != nil {
		return fmt.Errorf("decoding batch body: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(form); err != nil {
		return fmt.Errorf("decoding batch body: %w", err)
	}

	return nil
}

// bindBatchValues binds the values of a multipart or urlencoded batch body as
// PocketBase's UnmarshalRequestData fills its batch form: a "requests" value cannot fill
// the list of requests (400 "Failed to read the submitted batch data."), other keys are
// ignored, and the @jsonPayload objects are decoded in order with encoding/json/v2's
// default, case-sensitive names ("Requests" or "Method" fill nothing).
func bindBatchValues(values map[string][]string, form *batchForm) error {
	if len(values["requests"]) > 0 {
		return NewBadRequestError(msgBatchReadFailed, errors.New("a requests form value cannot fill the batch requests"))
	}
	merged := map[string]any{}
	for _, payload := range values[jsonPayloadKey] {
		var obj map[string]any
		if err := unmarshalStrictJSON([]byte(payload), &obj); err != nil {
			return NewBadRequestError(msgBatchReadFailed, err)
		}
		if requests, ok := obj["requests"]; ok {
			merged["requests"] = exactRequestNames(requests)
		}
	}
	if len(merged) == 0 {
		return nil
	}
	raw, err := json.Marshal(merged)
	if err != nil {
		return NewBadRequestError(msgBatchReadFailed, err)
	}
	if err := decodeBatchJSON(raw, form); err != nil {
		return NewBadRequestError(msgBatchReadFailed, err)
	}

	return nil
}

// exactRequestNames keeps, of each request object of list, only the members named
// exactly as the batch request's fields.
func exactRequestNames(list any) any {
	items, ok := list.([]any)
	if !ok {
		return list
	}
	out := make([]any, len(items))
	for i, item := range items {
		obj, ok := item.(map[string]any)
		if !ok {
			out[i] = item
			continue
		}
		kept := map[string]any{}
		for _, name := range []string{"body", "headers", "method", "url"} {
			if v, ok := obj[name]; ok {
				kept[name] = v
			}
		}
		out[i] = kept
	}

	return out
}

// readBatchMultipart binds a multipart batch body (see bindBatchValues), then each
// request's prefixed files.
func readBatchMultipart(body []byte, boundary string, query url.Values, limit int64, form *batchForm) error {
	if boundary == "" {
		return NewBadRequestError(msgBatchReadFailed, errors.New("missing multipart boundary"))
	}
	mf, err := multipart.NewReader(bytes.NewReader(body), boundary).ReadForm(limit)
	if err != nil {
		return NewBadRequestError(msgBatchReadFailed, err)
	}
	form.multipart = mf

	// the request's Form: the query's values, then the parts'
	values := url.Values{}
	for k, v := range query {
		values[k] = append(values[k], v...)
	}
	for k, v := range mf.Value {
		values[k] = append(values[k], v...)
	}
	if err := bindBatchValues(values, form); err != nil {
		return err
	}

	for i, item := range form.Requests {
		if item == nil {
			continue
		}
		n := strconv.Itoa(i)
		for _, prefix := range []string{"requests." + n + ".", "requests[" + n + "]."} {
			for key, headers := range mf.File {
				field, ok := strings.CutPrefix(key, prefix)
				if !ok {
					continue
				}
				if item.files == nil {
					item.files = map[string][]*multipart.FileHeader{}
				}
				item.files[field] = append(item.files[field], headers...)
			}
		}
	}

	return nil
}

// validate checks the form as PocketBase does: requests is required and holds at most
// maxRequests items, each with a method among GET, POST, PUT, PATCH and DELETE and a
// url of at most 2000 characters. The failure is 400 "Invalid batch request data.".
func (f *batchForm) validate(maxRequests int) error {
	var data map[string]any
	switch {
	case len(f.Requests) == 0:
		data = map[string]any{"requests": validationItem{Code: "validation_required", Message: "Cannot be blank."}}
	case len(f.Requests) > maxRequests:
		data = map[string]any{"requests": lengthTooLong(maxRequests)}
	default:
		items := map[string]any{}
		for i, item := range f.Requests {
			if errs := item.validate(); len(errs) > 0 {
				items[strconv.Itoa(i)] = errs
			}
		}
		if len(items) > 0 {
			data = map[string]any{"requests": items}
		}
	}
	if data == nil {
		return nil
	}

	apiErr := NewBadRequestError(msgBatchInvalid, nil)
	apiErr.Data = data

	return apiErr
}

// batchMethods are the methods a sub-request may name.
var batchMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// validate returns the failures of one sub-request by field.
func (r *batchRequest) validate() map[string]any {
	if r == nil {
		r = &batchRequest{}
	}
	errs := map[string]any{}
	switch {
	case r.Method == "":
		errs["method"] = validationItem{Code: "validation_required", Message: "Cannot be blank."}
	case !slices.Contains(batchMethods, r.Method):
		errs["method"] = validationItem{Code: "validation_in_invalid", Message: "Must be a valid value."}
	}
	switch {
	case r.URL == "":
		errs["url"] = validationItem{Code: "validation_required", Message: "Cannot be blank."}
	case utf8.RuneCountInString(r.URL) > batchMaxURLLength:
		errs["url"] = lengthTooLong(batchMaxURLLength)
	}

	return errs
}

// bodyID is the body's id as text ("" when absent), as an upsert looks it up.
func (r *batchRequest) bodyID() string {
	switch v := r.Body["id"].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}

	return ""
}

// newRequest builds the sub-request: the batch request's protocol, host, remote
// address, TLS state and headers, then the sub-request's own headers (Authorization
// ignored), with the body as multipart (@jsonPayload and the files), as PocketBase
// sends it to the record handlers.
func (r *batchRequest) newRequest(ctx context.Context, base *http.Request, method, url string) (*http.Request, error) {
	body, contentType, err := r.encodeBody()
	if err != nil {
		return nil, err
	}

	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.RequestURI = req.URL.RequestURI()
	req.Proto, req.ProtoMajor, req.ProtoMinor = base.Proto, base.ProtoMajor, base.ProtoMinor
	req.Host = base.Host
	req.RemoteAddr = base.RemoteAddr
	req.TLS = base.TLS
	req.Header = base.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	for k, v := range r.Headers {
		if strings.EqualFold(k, "Authorization") {
			continue
		}
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Del("Content-Length")

	return req, nil
}

// encodeBody returns the sub-request body and its Content-Type: always multipart, the
// body under @jsonPayload and the files as parts, as PocketBase builds every
// sub-request (so the record handler also binds the sub-request URL's query values).
func (r *batchRequest) encodeBody() ([]byte, string, error) {
	payload := r.Body
	if payload == nil {
		payload = map[string]any{}
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return nil, "", fmt.Errorf("encoding batch request body: %w", err)
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField(jsonPayloadKey, string(data)); err != nil {
		return nil, "", err
	}
	for key, headers := range r.files {
		for _, h := range headers {
			if err := copyFilePart(w, key, h); err != nil {
				return nil, "", err
			}
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}

	return buf.Bytes(), w.FormDataContentType(), nil
}

// copyFilePart adds an uploaded file to w under key. Like PocketBase, which reads the
// batch's files first and sends each sub-request their stored names, the file goes by
// its normalized name: the record handler names it again (`a.png` is stored as
// `a<10>_<10>_<10>.png`) and reports it by that name.
func copyFilePart(w *multipart.Writer, key string, h *multipart.FileHeader) error {
	name, err := filesystem.NormalizeName(h.Filename, func() (io.ReadSeekCloser, error) { return h.Open() })
	if err != nil {
		return fmt.Errorf("naming batch file %s: %w", h.Filename, err)
	}
	part, err := w.CreateFormFile(key, name)
	if err != nil {
		return err
	}
	f, err := h.Open()
	if err != nil {
		return fmt.Errorf("opening batch file %s: %w", h.Filename, err)
	}
	defer f.Close()
	_, err = io.Copy(part, f)

	return err
}
