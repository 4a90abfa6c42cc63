package httpapi

import (
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// authWithPasswordForm is the body of auth-with-password. MFAID, the second step of an
// MFA login, may also come in the query string.
type authWithPasswordForm struct {
	Identity      string `json:"identity"`
	Password      string `json:"password"`
	IdentityField string `json:"identityField"`
	MFAID         string `json:"mfaId" xml:"mfaId"`
}

// validate applies PocketBase's form rules: identity and password required, 1–255
// characters; identityField, when given, one of passwordAuth.identityFields.
func (f *authWithPasswordForm) validate(collection *core.Collection) error {
	errs := formErrors{}
	errs.requiredString("identity", f.Identity, 1, 255)
	errs.requiredString("password", f.Password, 1, 255)
	errs.length("identityField", f.IdentityField, 1, 255)
	errs.in("identityField", f.IdentityField, collection.Auth.PasswordAuth.IdentityFields)

	return errs.err()
}

// recordAuthWithPassword answers POST /api/collections/{collection}/auth-with-password
// (apis/record_auth_with_password.go). An unknown identity and a wrong password get the
// same 400 "Failed to authenticate." after the same bcrypt work, so that accounts cannot
// be enumerated.
func (a *api) recordAuthWithPassword(c *gin.Context) error {
	collection, err := authCollection(c)
	if err != nil {
		return err
	}
	if !collection.Auth.PasswordAuth.Enabled {
		return NewForbiddenError("The collection is not configured to allow password authentication.", nil)
	}

	var form authWithPasswordForm
	if err := bindAuthForm(c, &form); err != nil {
		return err
	}
	if err := form.validate(collection); err != nil {
		return err
	}

	setRequestContext(c, core.RequestContextPassword)

	record, err := a.app.AuthWithPassword(c.Request.Context(), collection, form.Identity, form.Password, form.IdentityField)
	switch {
	case errors.Is(err, core.ErrInvalidCredentials):
		return NewBadRequestError("Failed to authenticate.", err)
	case errors.Is(err, core.ErrPasswordAuthDisabled):
		return NewForbiddenError("The collection is not configured to allow password authentication.", err)
	case err != nil:
		return NewInternalServerError("", err)
	}

	mfaID := c.Query("mfaId")
	if mfaID == "" {
		mfaID = form.MFAID
	}

	return a.writeRecordAuthResponse(c, record, "", core.MFAMethodPassword, mfaID)
}
