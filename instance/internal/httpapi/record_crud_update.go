package httpapi

import (
	"database/sql"
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// recordUpdate is PATCH /api/collections/{collection}/records/{id} → 200 with the
// record (apis/record_crud.go recordUpdate). Only the sent keys change. A null
// updateRule is superusers only (403); a record that is missing or does not match the
// rule (evaluated on the stored row, with the resolved @request.body) is 404.
func (a *api) recordUpdate(c *gin.Context) error {
	ctx := c.Request.Context()

	collection, body, superuser, err := a.recordWriteRequest(c, func(c *core.Collection) *string { return c.UpdateRule })
	if err != nil {
		return err
	}

	id := c.Param("id")
	form, err := a.app.NewRecordUpdate(ctx, collection, id)
	if err != nil {
		return notFoundOr(err)
	}
	if superuser {
		form.SetAccess(core.RecordAccessSuperuser)
	}
	if err := attachUploads(form, body); err != nil {
		return err
	}
	data := form.ResolveBody(body.Data)
	info := writeRequestInfo(c, data)

	if _, err := a.app.FindRecordByIDWithRule(ctx, collection, id, collection.UpdateRule, info); err != nil {
		return NewNotFoundError("", err)
	}

	form.Load(data)
	if !superuser && a.app.HasAuthManageAccess(ctx, form, info) {
		form.SetAccess(core.RecordAccessManager)
	}

	record, err := a.app.SaveRecord(ctx, form)
	if err != nil {
		return recordSaveError(msgUpdateFailed, err)
	}

	return a.writeSavedRecord(c, record, info)
}

// notFoundOr maps a failed record lookup: "no rows" is the generic 404, anything else
// the generic 400.
func notFoundOr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return NewNotFoundError("", err)
	}

	return NewBadRequestError("", err)
}
