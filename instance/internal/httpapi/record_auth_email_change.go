package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// requestEmailChangeForm is the body of request-email-change.
type requestEmailChangeForm struct {
	NewEmail string `json:"newEmail"`
}

// confirmEmailChangeForm is the body of confirm-email-change.
type confirmEmailChangeForm struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// recordRequestEmailChange answers POST /api/collections/{collection}/request-email-change
// (apis/record_auth_email_change_request.go; auth record of the collection): 204 once
// the confirmation email to newEmail is sent.
func (a *api) recordRequestEmailChange(c *gin.Context) error {
	collection, err := authCollection(c)
	if err != nil {
		return err
	}
	if collection.Name == core.CollectionNameSuperusers {
		return NewBadRequestError("All superusers can change their emails directly.", nil)
	}
	record := authRecord(c)
	if record == nil {
		return NewUnauthorizedError("The request requires valid auth record.", nil)
	}

	var form requestEmailChangeForm
	if err := bindAuthForm(c, &form); err != nil {
		return err
	}
	err = a.app.RequestEmailChange(c.Request.Context(), record, form.NewEmail)
	if errors.Is(err, core.ErrAuthFlowMail) {
		return NewBadRequestError("Failed to request email change.", err)
	}
	if err != nil {
		return authFlowError(err, "")
	}

	c.Status(http.StatusNoContent)
	return nil
}

// recordConfirmEmailChange answers POST /api/collections/{collection}/confirm-email-change
// (apis/record_auth_email_change_confirm.go) {"token","password"} with 204.
func (a *api) recordConfirmEmailChange(c *gin.Context) error {
	collection, err := authCollection(c)
	if err != nil {
		return err
	}
	if collection.Name == core.CollectionNameSuperusers {
		return NewBadRequestError("All superusers can change their emails directly.", nil)
	}

	var form confirmEmailChangeForm
	if err := bindAuthForm(c, &form); err != nil {
		return err
	}
	err = a.app.ConfirmEmailChange(c.Request.Context(), collection, form.Token, form.Password)
	if err != nil {
		return authFlowError(err, "Failed to confirm email change.")
	}

	c.Status(http.StatusNoContent)
	return nil
}
