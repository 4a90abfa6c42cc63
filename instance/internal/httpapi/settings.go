package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// Messages of apis/settings.go.
const (
	msgSettingsSaveFailed  = "An error occurred while saving the new settings."
	msgTestS3Failed        = "Failed to test the S3 filesystem."
	msgTestEmailFailed     = "Failed to send the test email."
	msgAppleSecretInvalid  = "Invalid client secret data."
	msgAppleSecretFailed   = "Failed to generate client secret."
	rawErrorMessageDivider = " Raw error: \n"
)

// registerSettingsRoutes adds the superuser-only settings API (apis/settings.go).
func (a *api) registerSettingsRoutes(r routes) {
	su := requireSuperuserAuth()

	r.add(http.MethodGet, "/settings", su, a.settingsList)
	r.add(http.MethodPatch, "/settings", su, a.settingsSet)
	r.add(http.MethodPost, "/settings/test/s3", su, a.settingsTestS3)
	r.add(http.MethodPost, "/settings/test/email", su, a.settingsTestEmail)
	r.add(http.MethodPost, "/settings/apple/generate-client-secret", su, a.settingsGenerateAppleClientSecret)
}

// settingsList answers GET /api/settings with the settings, secrets left out.
func (a *api) settingsList(c *gin.Context) error {
	return writeJSON(c, http.StatusOK, a.app.Settings())
}

// settingsSet answers PATCH /api/settings: the body is merged over the current
// settings (absent members keep their value, so an omitted secret keeps the stored
// one), which are validated, saved and returned.
//
// note: a JSON null body resets every setting, which then fails validation with 400;
// PocketBase nils its settings pointer instead and answers 500 from the panic that
// follows.
func (a *api) settingsSet(c *gin.Context) error {
	s := a.app.Settings()
	if err := bindFixedForm(c, s); err != nil {
		return err
	}

	if err := a.app.SaveSettings(c.Request.Context(), s); err != nil {
		return newValidationApiError(msgSettingsSaveFailed, err)
	}

	return writeJSON(c, http.StatusOK, a.app.Settings())
}

// settingsTestS3 answers POST /api/settings/test/s3 {"filesystem":"storage"|"backups"}.
func (a *api) settingsTestS3(c *gin.Context) error {
	var form core.TestS3Form
	if err := bindFixedForm(c, &form); err != nil {
		return err
	}
	if err := form.Validate(); err != nil {
		return newValidationApiError(msgTestS3Failed, err)
	}

	if !form.S3Config(a.app.Settings()).Enabled {
		return NewBadRequestError(msgTestS3Failed+rawErrorMessageDivider+core.ErrS3NotEnabled.Error(), nil)
	}

	if err := a.app.TestS3(c.Request.Context(), form.S3Config(a.app.Settings())); err != nil {
		return NewBadRequestError(msgTestS3Failed+rawErrorMessageDivider+err.Error(), err)
	}
	c.Status(http.StatusNoContent)

	return nil
}

// settingsTestEmail answers POST /api/settings/test/email
// {"email","template","collection"}.
func (a *api) settingsTestEmail(c *gin.Context) error {
	var form core.TestEmailForm
	if err := bindFixedForm(c, &form); err != nil {
		return err
	}

	ctx := c.Request.Context()
	isAuthCollection := func(nameOrID string) bool {
		collection, err := a.app.FindCachedCollectionByNameOrID(ctx, nameOrID)
		return err == nil && collection.IsAuth()
	}
	if err := form.Validate(isAuthCollection); err != nil {
		return newValidationApiError(msgTestEmailFailed, err)
	}

	if err := a.app.SendTestEmail(ctx, form); err != nil {
		return NewBadRequestError(msgTestEmailFailed+rawErrorMessageDivider+err.Error(), err)
	}

	c.Status(http.StatusNoContent)
	return nil
}

// settingsGenerateAppleClientSecret answers POST
// /api/settings/apple/generate-client-secret with {"secret":"<ES256 JWT>"}.
func (a *api) settingsGenerateAppleClientSecret(c *gin.Context) error {
	var form core.AppleClientSecretForm
	if err := bindFixedForm(c, &form); err != nil {
		return err
	}
	if err := form.Validate(); err != nil {
		return newValidationApiError(msgAppleSecretInvalid, err)
	}

	secret, err := core.GenerateAppleClientSecret(form, time.Now())
	if err != nil {
		return NewBadRequestError(msgAppleSecretFailed+rawErrorMessageDivider+err.Error(), nil)
	}

	return writeJSON(c, http.StatusOK, struct {
		Secret string `json:"secret"`
	}{secret})
}

// newValidationApiError returns a 400 with message whose data holds the validation
// errors in err (validationData: nested maps down to {"code","message"[,"params"]}
// items, §2.1). Any other error gives {} data, its text kept for the logs only.
func newValidationApiError(message string, err error) *ApiError { //nolint:revive // ApiError is PocketBase's name
	apiErr := NewBadRequestError(message, err)
	if data, ok := validationData(err); ok {
		apiErr.Data = data
	}

	return apiErr
}
