package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// Messages of the record read routes (apis/record_crud.go).
const (
	msgMissingCollection      = "Missing collection context."
	msgSuperusersOnlyAction   = "Only superusers can perform this action."
	msgSuperusersOnlyFilterBy = "Only superusers can filter by "
)

// registerRecordCrudRoutes adds the records CRUD routes (apis/record_crud.go): list and
// view here; create, update and delete are registered by registerRecordWriteRoutes.
func (a *api) registerRecordCrudRoutes(r routes) {
	r.add(http.MethodGet, "/collections/:collection/records", a.recordsList)
	r.add(http.MethodGet, "/collections/:collection/records/:id", a.recordView)
}

// readCollection resolves `{collection}` for list and view: 404 "Missing collection
// context." when it does not exist.
func (a *api) readCollection(c *gin.Context) (*core.Collection, error) {
	collection, err := a.app.FindCachedCollectionByNameOrID(c.Request.Context(), c.Param("collection"))
	if err != nil {
		return nil, NewNotFoundError(msgMissingCollection, err)
	}

	return collection, nil
}

// readRequestInfo returns @request.* of a read request (context "default", or "batch"
// for a batch sub-request): the auth record, the first value of each query parameter
// and header, and the method.
func readRequestInfo(c *gin.Context) *core.RequestInfo {
	query := map[string]string{}
	for k, v := range c.Request.URL.Query() {
		if len(v) > 0 {
			query[k] = v[0]
		}
	}
	headers := map[string]string{}
	for k, v := range c.Request.Header {
		if len(v) > 0 {
			headers[core.NormalizeHeaderName(k)] = v[0]
		}
	}

	info := &core.RequestInfo{
		Auth:    authRecord(c),
		Query:   query,
		Headers: headers,
		Method:  c.Request.Method,
		Context: cmpOr(c.GetString(ctxKeyRequestContext), core.RequestContextDefault),
	}

	return info
}

// enrichRecords expands the ?expand= paths on records and resolves which emails the
// requester may see (apis/record_helpers.go EnrichRecords). Expand failures (unknown
// paths) are logged and otherwise ignored, as in PocketBase.
func (a *api) enrichRecords(c *gin.Context, records []*core.Record, info *core.RequestInfo) error {
	ctx := c.Request.Context()
	// as PocketBase, only the first ?expand= value counts
	if paths := core.NormalizeExpands(c.Query("expand")); len(paths) > 0 {
		if err := a.app.ExpandRecords(ctx, records, paths, info); err != nil {
			a.app.Logger().DebugContext(ctx, "expand failure", "error", err.Error())
		}
	}

	return a.app.ResolveRecordsVisibility(ctx, records, info)
}

// exportRecords returns the record JSON of records for the requester.
func exportRecords(records []*core.Record, info *core.RequestInfo) []map[string]any {
	opts := core.ExportOptions{ShowHidden: info.HasSuperuserAuth()}
	out := make([]map[string]any, len(records))
	for i, r := range records {
		out[i] = r.PublicExport(opts)
	}

	return out
}
