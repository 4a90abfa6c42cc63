package httpapi

import (
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// impersonateForm is the body of impersonate.
type impersonateForm struct {
	// Duration is the token lifetime in seconds; 0 means the collection's
	// authToken.duration.
	Duration int64 `json:"duration"`
}

// recordAuthImpersonate answers POST /api/collections/{collection}/impersonate/{id}
// (apis/record_auth_impersonate.go, superusers only): the auth response of the record
// with a non-refreshable token, without the MFA step.
//
// The route checks the superuser first; a missing or non-auth collection is then 404
// "Missing or invalid auth collection context.".
func (a *api) recordAuthImpersonate(c *gin.Context) error {
	collection, err := a.app.FindCachedCollectionByNameOrID(c.Request.Context(), c.Param("collection"))
	if err != nil || !collection.IsAuth() {
		return NewNotFoundError("Missing or invalid auth collection context.", err)
	}

	record, err := a.app.FindRecordByID(c.Request.Context(), collection.ID, c.Param("id"))
	if err != nil {
		return NewNotFoundError("", err)
	}

	var form impersonateForm
	if err := bindAuthFormPlain(c, &form); err != nil {
		return err
	}
	if form.Duration < 0 {
		apiErr := NewBadRequestError(msgValidationFailed, nil)
		apiErr.Data["duration"] = validationItem{Code: "validation_min_greater_equal_than_required", Message: "Must be no less than 0.", Params: map[string]any{"threshold": 0}}
		return apiErr
	}

	token, err := core.NewStaticAuthToken(record, time.Duration(form.Duration)*time.Second)
	if err != nil {
		if errors.Is(err, core.ErrNotAuthRecord) {
			return NewNotFoundError("Missing or invalid auth collection context.", err)
		}
		return NewInternalServerError("Failed to generate static auth token", err)
	}

	// the authRule check of the auth response passes: the requester is a superuser
	return a.writeRecordAuthResponse(c, record, token, "", "")
}
