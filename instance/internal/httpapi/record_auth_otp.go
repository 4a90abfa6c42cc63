package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

const msgOTPDisabled = "The collection is not configured to allow OTP authentication."

// otpAttemptsRule is PocketBase's fixed extra limit on auth-with-otp: five attempts per
// record (and client IP) every three minutes, whatever settings.rateLimits says, since
// the codes are short digit strings.
var otpAttemptsRule = core.RateLimitRule{MaxRequests: 5, Duration: 180}

// recordRequestOTP answers POST /api/collections/{collection}/request-otp
// (apis/record_auth_otp_request.go) with 200 {"otpId"}: an unknown email gets a random
// id, so that the answer tells nothing about the accounts.
func (a *api) recordRequestOTP(c *gin.Context) error {
	collection, err := authCollection(c)
	if err != nil {
		return err
	}
	if !collection.Auth.OTP.Enabled {
		return NewForbiddenError(msgOTPDisabled, nil)
	}

	var form emailForm
	if err := bindAuthForm(c, &form); err != nil {
		return err
	}
	id, err := a.app.RequestOTP(c.Request.Context(), collection, form.Email)
	if err != nil {
		return authFlowError(err, "")
	}

	return writeJSON(c, http.StatusOK, map[string]string{"otpId": id})
}

// authWithOTPForm is the body of auth-with-otp; MFAID may also come in the query string.
type authWithOTPForm struct {
	OTPID    string `json:"otpId" xml:"OTPId"`
	Password string `json:"password"`
	MFAID    string `json:"mfaId" xml:"mfaId"`
}

// recordAuthWithOTP answers POST /api/collections/{collection}/auth-with-otp
// (apis/record_auth_with_otp.go). Every OTP failure is the same 400 "Invalid or expired
// OTP."; more than five attempts on one record within three minutes are 429.
func (a *api) recordAuthWithOTP(c *gin.Context) error {
	collection, err := authCollection(c)
	if err != nil {
		return err
	}
	if !collection.Auth.OTP.Enabled {
		return NewForbiddenError(msgOTPDisabled, nil)
	}

	var form authWithOTPForm
	if err := bindAuthForm(c, &form); err != nil {
		return err
	}
	errs := formErrors{}
	errs.requiredString("otpId", form.OTPID, 1, 255)
	errs.requiredString("password", form.Password, 1, 71)
	if err := errs.err(); err != nil {
		return err
	}
	setRequestContext(c, core.RequestContextOTP)

	ctx := c.Request.Context()
	otp, record, err := a.app.FindOTPForAuth(ctx, collection, form.OTPID)
	switch {
	case errors.Is(err, core.ErrInvalidOTP):
		return NewBadRequestError("Invalid or expired OTP", err)
	case err != nil:
		return NewInternalServerError("", err)
	}

	if !a.limiters.allow("@pb_otp_"+record.ID(), otpAttemptsRule, a.clientIP(c)) {
		return NewTooManyRequestsError("Too many attempts, please try again later with a new OTP.", nil)
	}
	if !otp.ValidatePassword(form.Password) {
		return NewBadRequestError("Invalid or expired OTP", errors.New("incorrect password"))
	}

	record = a.app.CompleteOTPAuth(ctx, otp, record)

	mfaID := c.Query("mfaId")
	if mfaID == "" {
		mfaID = form.MFAID
	}

	return a.writeRecordAuthResponse(c, record, "", core.MFAMethodOTP, mfaID)
}
