package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// recordView is GET /api/collections/{collection}/records/{id} (apis/record_crud.go
// recordView): a null viewRule is superusers only (403); a record that is missing or
// fails the rule is 404. expand and fields as for lists.
func (a *api) recordView(c *gin.Context) error {
	ctx := c.Request.Context()

	collection, err := a.readCollection(c)
	if err != nil {
		return err
	}

	id := c.Param("id")
	if id == "" {
		return NewNotFoundError("", nil)
	}

	info := readRequestInfo(c)
	if !info.HasSuperuserAuth() && collection.ViewRule == nil {
		return NewForbiddenError(msgSuperusersOnlyAction, nil)
	}

	record, err := a.app.FindRecordByIDWithRule(ctx, collection, id, collection.ViewRule, info)
	if err != nil {
		return NewNotFoundError("", err)
	}

	if err := a.enrichRecords(c, []*core.Record{record}, info); err != nil {
		return NewBadRequestError("", err)
	}

	return writeJSON(c, http.StatusOK, exportRecords([]*core.Record{record}, info)[0])
}
