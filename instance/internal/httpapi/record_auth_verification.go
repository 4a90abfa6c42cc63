package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// emailForm is the body of request-verification and request-password-reset.
type emailForm struct {
	Email string `json:"email"`
}

// tokenForm is the body of confirm-verification.
type tokenForm struct {
	Token string `json:"token"`
}

// authFlowError turns the error of a core auth flow into PocketBase's response: form
// errors are 400 "An error occurred while validating the submitted data.", a failed
// record save 400 saveMessage, both with the validation errors as data.
func authFlowError(err error, saveMessage string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, core.ErrAuthFlowSave):
		return newValidationApiError(saveMessage, err)
	}
	if _, ok := errors.AsType[core.ValidationErrors](err); ok {
		return newValidationApiError(msgValidationFailed, err)
	}

	return NewInternalServerError("", err)
}

// recordRequestVerification answers POST /api/collections/{collection}/request-verification
// (apis/record_auth_verification_request.go): always 204, the email being sent in the
// background (an unknown, verified or throttled email sends nothing).
func (a *api) recordRequestVerification(c *gin.Context) error {
	collection, err := authCollection(c)
	if err != nil {
		return err
	}
	if collection.Name == core.CollectionNameSuperusers {
		return NewBadRequestError("All superusers are verified by default.", nil)
	}

	var form emailForm
	if err := bindAuthForm(c, &form); err != nil {
		return err
	}
	if err := a.app.RequestVerification(c.Request.Context(), collection, form.Email); err != nil {
		return authFlowError(err, "")
	}

	c.Status(http.StatusNoContent)
	return nil
}

// recordConfirmVerification answers POST /api/collections/{collection}/confirm-verification
// (apis/record_auth_verification_confirm.go) {"token"} with 204.
func (a *api) recordConfirmVerification(c *gin.Context) error {
	collection, err := authCollection(c)
	if err != nil {
		return err
	}
	if collection.Name == core.CollectionNameSuperusers {
		return NewBadRequestError("All superusers are verified by default.", nil)
	}

	var form tokenForm
	if err := bindAuthForm(c, &form); err != nil {
		return err
	}
	err = a.app.ConfirmVerification(c.Request.Context(), collection, form.Token)
	if err != nil {
		return authFlowError(err, "An error occurred while saving the verified state.")
	}

	c.Status(http.StatusNoContent)
	return nil
}
