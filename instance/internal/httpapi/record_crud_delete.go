package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// recordDelete is DELETE /api/collections/{collection}/records/{id} → 204
// (apis/record_crud.go recordDelete). A null deleteRule is superusers only (403); a
// record that is missing or does not match the rule is 404. References are removed or
// cascaded in the same transaction; a required reference fails with PocketBase's 400,
// and so does deleting the only superuser.
func (a *api) recordDelete(c *gin.Context) error {
	ctx := c.Request.Context()

	collection, err := a.app.FindCachedCollectionByNameOrID(ctx, c.Param("collection"))
	if err != nil {
		return NewNotFoundError(msgMissingCollection, err)
	}
	if collection.IsView() {
		return NewBadRequestError(msgUnsupportedCollection, nil)
	}

	body, err := readRecordBody(c, defaultBodyLimit)
	if err != nil {
		return err
	}

	superuser := hasSuperuserAuth(c)
	if !superuser && collection.DeleteRule == nil {
		return NewForbiddenError(msgSuperusersOnlyAction, nil)
	}

	id := c.Param("id")
	if _, err := a.app.FindRecordByIDWithRule(ctx, collection, id, collection.DeleteRule, writeRequestInfo(c, body.Data)); err != nil {
		return NewNotFoundError("", err)
	}

	if err := a.app.DeleteRecord(ctx, collection, id); err != nil {
		switch {
		case errors.Is(err, core.ErrRecordNotFound):
			return NewNotFoundError("", err)
		case errors.Is(err, core.ErrLastSuperuser):
			return NewBadRequestError("You can't delete the only existing superuser.", err)
		}
		return NewBadRequestError(msgDeleteFailed, err)
	}

	c.Status(http.StatusNoContent)

	return nil
}
