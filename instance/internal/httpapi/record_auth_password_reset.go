package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// confirmPasswordResetForm is the body of confirm-password-reset.
type confirmPasswordResetForm struct {
	Token           string `json:"token"`
	Password        string `json:"password"`
	PasswordConfirm string `json:"passwordConfirm"`
}

// recordRequestPasswordReset answers POST
// /api/collections/{collection}/request-password-reset
// (apis/record_auth_password_reset_request.go): 400 when password auth is disabled,
// otherwise always 204, the email being sent in the background.
func (a *api) recordRequestPasswordReset(c *gin.Context) error {
	collection, err := authCollection(c)
	if err != nil {
		return err
	}
	if !collection.Auth.PasswordAuth.Enabled {
		return NewBadRequestError("The collection is not configured to allow password authentication.", nil)
	}

	var form emailForm
	if err := bindAuthForm(c, &form); err != nil {
		return err
	}
	if err := a.app.RequestPasswordReset(c.Request.Context(), collection, form.Email); err != nil {
		return authFlowError(err, "")
	}

	c.Status(http.StatusNoContent)
	return nil
}

// recordConfirmPasswordReset answers POST
// /api/collections/{collection}/confirm-password-reset
// (apis/record_auth_password_reset_confirm.go) {"token","password","passwordConfirm"}
// with 204.
func (a *api) recordConfirmPasswordReset(c *gin.Context) error {
	collection, err := authCollection(c)
	if err != nil {
		return err
	}

	var form confirmPasswordResetForm
	if err := bindAuthFormPlain(c, &form); err != nil {
		return err
	}
	err = a.app.ConfirmPasswordReset(c.Request.Context(), collection, form.Token, form.Password, form.PasswordConfirm)
	if err != nil {
		return authFlowError(err, "Failed to set new password.")
	}

	c.Status(http.StatusNoContent)
	return nil
}
