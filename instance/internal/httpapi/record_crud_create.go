package httpapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// registerRecordWriteRoutes adds the record create, update and delete routes
// (apis/record_crud.go).
func (a *api) registerRecordWriteRoutes(r routes) {
	r.add(http.MethodPost, "/collections/:collection/records", a.recordCreate)
	r.add(http.MethodPatch, "/collections/:collection/records/:id", a.recordUpdate)
	r.add(http.MethodDelete, "/collections/:collection/records/:id", a.recordDelete)
}

// recordCreate is POST /api/collections/{collection}/records → 200 with the record
// (apis/record_crud.go recordCreate). A null createRule is superusers only (403); an
// expression is evaluated over the would-be record with @request.body, and a mismatch is
// 400 "Failed to create record." with empty data, as in PocketBase.
func (a *api) recordCreate(c *gin.Context) error {
	ctx := c.Request.Context()

	collection, body, superuser, err := a.recordWriteRequest(c, func(c *core.Collection) *string { return c.CreateRule })
	if err != nil {
		return err
	}

	form := core.NewRecordCreate(collection)
	if superuser {
		form.SetAccess(core.RecordAccessSuperuser)
	}
	if err := attachUploads(form, body); err != nil {
		return err
	}
	data := form.ResolveBody(body.Data)
	info := writeRequestInfo(c, data)
	form.Load(data)

	record, err := a.saveRecordCreate(ctx, form, info, superuser)
	if err != nil {
		return err
	}

	return a.writeSavedRecord(c, record, info)
}

// saveRecordCreate checks a loaded create form against its collection's createRule
// (unless a superuser asks; a non-null rule is assumed), grants manager access when the
// manageRule matches, and saves it. A rule mismatch is 400 "Failed to create record."
// with empty data, a save failure the validation errors.
func (a *api) saveRecordCreate(ctx context.Context, form *core.RecordUpsert, info *core.RequestInfo, superuser bool) (*core.Record, error) {
	if !superuser {
		ok, err := a.app.CheckCreateRule(ctx, form, *form.Collection().CreateRule, info)
		if err != nil || !ok {
			return nil, NewBadRequestError(msgCreateFailed, err)
		}
		if a.app.HasAuthManageAccess(ctx, form, info) {
			form.SetAccess(core.RecordAccessManager)
		}
	}

	record, err := a.app.SaveRecord(ctx, form)
	if err != nil {
		return nil, recordSaveError(msgCreateFailed, err)
	}

	return record, nil
}

// recordWriteRequest is what create and update share before their forms: the target
// collection, the request body within the collection's size limit, and whether a
// superuser asks. A null rule (picked by rule) is superusers only (403). A batch
// sub-request has no body-limit middleware: its missing collection is "Missing
// collection context." and only the batch body limit applies.
func (a *api) recordWriteRequest(c *gin.Context, rule func(*core.Collection) *string) (*core.Collection, *recordBody, bool, error) {
	missing, limit := msgMissingCollectionContext, int64(0)
	if inBatch(c) {
		missing, limit = msgMissingCollection, batchItemBodyLimit
	}
	collection, err := a.recordWriteCollection(c, missing)
	if err != nil {
		return nil, nil, false, err
	}
	if limit == 0 {
		limit = recordBodyLimit(collection)
	}

	body, err := readRecordBody(c, limit)
	if err != nil {
		return nil, nil, false, err
	}

	superuser := hasSuperuserAuth(c)
	if !superuser && rule(collection) == nil {
		return nil, nil, false, NewForbiddenError(msgSuperusersOnlyAction, nil)
	}

	return collection, body, superuser, nil
}
