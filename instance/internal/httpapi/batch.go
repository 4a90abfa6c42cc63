package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// Batch defaults and limits (apis/batch.go, core/event_request_batch.go).
const (
	// defaultBatchTimeout applies when settings.batch.timeout is not positive.
	defaultBatchTimeout = 3 * time.Second
	// defaultBatchBodyLimit applies when settings.batch.maxBodySize is not positive.
	defaultBatchBodyLimit int64 = 128 << 20
	// batchMaxURLLength is the longest sub-request url.
	batchMaxURLLength = 2000
	// batchItemBodyLimit is a sub-request's body limit: none of its own, the batch body
	// was bounded already.
	batchItemBodyLimit int64 = 1 << 62
)

// Messages of POST /api/batch.
const (
	msgBatchNotAllowed    = "Batch requests are not allowed."
	msgBatchReadFailed    = "Failed to read the submitted batch data."
	msgBatchInvalid       = "Invalid batch request data."
	msgBatchTxFailed      = "Batch transaction failed."
	msgBatchItemFailed    = "Batch request failed."
	codeBatchItemFailed   = "batch_request_failed"
	errUnknownBatchAction = "unknown batch request action"
)

// registerBatchRoutes adds POST /api/batch (apis/batch.go).
func (a *api) registerBatchRoutes(r routes) {
	r.POST("/batch", a.batchTransaction)
}

// batchResult is one sub-request's response; the field order is the key order.
type batchResult struct {
	// Body is the response JSON, or nil (null) for an empty body.
	Body any `json:"body"`
	// Status is the response status code.
	Status int `json:"status"`
}

// batchItemError is the failure of the sub-request at index.
type batchItemError struct {
	index int
	err   error
}

func (e *batchItemError) Error() string {
	return "batch request " + strconv.Itoa(e.index) + ": " + e.err.Error()
}

func (e *batchItemError) Unwrap() error { return e.err }

// batchTransaction is POST /api/batch → 200 [{body, status}, …]: the record creates,
// updates, upserts and deletes of the body run one after the other, each through its
// single route's handler with the request's auth and @request.context "batch", all in
// one write transaction (core.App.RunInTransaction) bounded by settings.batch.timeout.
// Any failure rolls everything back, publishes no record event and answers 400 "Batch
// transaction failed.", with the failed request's own error under requests.<index>.
func (a *api) batchTransaction(c *gin.Context) error {
	cfg := a.app.Settings().Batch
	if !cfg.Enabled || cfg.MaxRequests <= 0 {
		return NewForbiddenError(msgBatchNotAllowed, nil)
	}
	timeout := time.Duration(cfg.Timeout) * time.Second
	if timeout <= 0 {
		timeout = defaultBatchTimeout
	}
	limit := cfg.MaxBodySize
	if limit <= 0 {
		limit = defaultBatchBodyLimit
	}

	form, err := readBatchForm(c, limit)
	if err != nil {
		return err
	}
	defer form.cleanup()
	if err := form.validate(cfg.MaxRequests); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
	defer cancel()

	var results []batchResult
	err = a.app.RunInTransaction(ctx, func(txCtx context.Context) error {
		results = make([]batchResult, 0, len(form.Requests)) // the transaction may rerun
		for i, item := range form.Requests {
			res, err := a.runBatchItem(txCtx, c, item)
			if err != nil {
				return &batchItemError{index: i, err: err}
			}
			results = append(results, res)
		}
		return nil
	})
	if err != nil {
		return batchError(ctx, err)
	}

	return writeJSON(c, http.StatusOK, results)
}

// batchError is the 400 of a failed batch: the failed request's error under
// requests.<index>, or empty data when the transaction itself failed (timeout, the
// client gone, the commit).
func batchError(ctx context.Context, err error) error {
	apiErr := NewBadRequestError(msgBatchTxFailed, err)
	item, ok := errors.AsType[*batchItemError](err)
	if !ok || ctx.Err() != nil {
		return apiErr
	}

	apiErr.Data = map[string]any{"requests": map[string]any{
		strconv.Itoa(item.index): map[string]any{
			"code":     codeBatchItemFailed,
			"message":  msgBatchItemFailed,
			"response": ToApiError(item.err),
		},
	}}

	return apiErr
}

// The allowed sub-request urls (apis/batch.go ValidBatchActions): POST and PUT
// (upsert) on the records, PATCH and DELETE on one record; a query string may follow.
var (
	batchRecordsRe = regexp.MustCompile(`^/api/collections/([^/?]+)/records(\?.*)?$`)
	batchRecordRe  = regexp.MustCompile(`^/api/collections/([^/?]+)/records/([^/?]+)(\?.*)?$`)
)

// batchKind is what an allowed sub-request does.
type batchKind int

const (
	batchKindCreate batchKind = iota
	batchKindUpdate
	batchKindDelete
)

// runBatchItem runs one sub-request through its record handler, within the batch
// transaction of ctx, and returns its response.
func (a *api) runBatchItem(ctx context.Context, c *gin.Context, item *batchRequest) (batchResult, error) {
	kind, collection, id, query, ok := a.resolveBatchAction(ctx, item)
	if !ok {
		return batchResult{}, errors.New(errUnknownBatchAction)
	}

	handler, method, path, tag := a.recordCreate, http.MethodPost, "/api/collections/"+collection+"/records", "create"
	switch kind {
	case batchKindUpdate:
		handler, method, path, tag = a.recordUpdate, http.MethodPatch, path+"/"+id, "update"
	case batchKindDelete:
		handler, method, path, tag = a.recordDelete, http.MethodDelete, path+"/"+id, "delete"
	}

	req, err := item.newRequest(ctx, c.Request, method, path+query)
	if err != nil {
		return batchResult{}, err
	}

	rec := &batchRecorder{header: http.Header{}}
	sub := gin.CreateTestContextOnly(rec, a.engine)
	sub.Request = req
	sub.Params = gin.Params{{Key: "collection", Value: collection}}
	if id != "" {
		sub.Params = append(sub.Params, gin.Param{Key: "id", Value: id})
	}
	sub.Keys = maps.Clone(c.Keys)
	sub.Set(ctxKeyRequestContext, core.RequestContextBatch)

	if err := a.checkBatchItemRateLimit(sub, collection, tag); err != nil {
		return batchResult{}, err
	}
	if err := handler(sub); err != nil {
		return batchResult{}, err
	}

	res := batchResult{Status: sub.Writer.Status()}
	if body := rec.body.Bytes(); len(body) > 0 {
		res.Body = json.RawMessage(body)
	}

	return res, nil
}

// resolveBatchAction matches a sub-request against the allowed actions and returns
// what it does, its collection, record id and query string. An upsert (PUT) updates
// the record whose id the body names when it exists, and creates one otherwise.
func (a *api) resolveBatchAction(ctx context.Context, item *batchRequest) (kind batchKind, collection, id, query string, ok bool) {
	method := strings.ToUpper(item.Method)
	if m := batchRecordsRe.FindStringSubmatch(item.URL); m != nil {
		collection, query = m[1], m[2]
		switch method {
		case http.MethodPost:
			return batchKindCreate, collection, "", query, true
		case http.MethodPut:
			if bodyID := item.bodyID(); bodyID != "" {
				if _, err := a.app.FindRecordByID(ctx, collection, bodyID); err == nil {
					return batchKindUpdate, collection, bodyID, query, true
				}
			}
			return batchKindCreate, collection, "", query, true
		}
	}
	if m := batchRecordRe.FindStringSubmatch(item.URL); m != nil {
		collection, id, query = m[1], m[2], m[3]
		switch method {
		case http.MethodPatch:
			return batchKindUpdate, collection, id, query, true
		case http.MethodDelete:
			return batchKindDelete, collection, id, query, true
		}
	}

	return 0, "", "", "", false
}

// batchRecorder is the response writer of a sub-request: it keeps the body.
type batchRecorder struct {
	header http.Header
	body   bytes.Buffer
}

func (r *batchRecorder) Header() http.Header { return r.header }

func (r *batchRecorder) Write(p []byte) (int, error) { return r.body.Write(p) }

func (r *batchRecorder) WriteHeader(int) {}

// inBatch reports whether c is a batch sub-request.
func inBatch(c *gin.Context) bool {
	return c.GetString(ctxKeyRequestContext) == core.RequestContextBatch
}
