package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// registerRecordAuthRoutes adds the auth routes of auth collections under /api
// (apis/record_auth.go). Each resolves `{collection}` first, as PocketBase's
// per-collection rate limit middleware does.
func (a *api) registerRecordAuthRoutes(r routes) {
	collection := routes{group: r.group.Group("/collections/:collection")}
	collection.POST("/auth-with-password", a.collectionContext, a.recordAuthWithPassword)
	collection.POST("/auth-with-oauth2", a.collectionContext, a.recordAuthWithOAuth2)
	collection.POST("/request-otp", a.collectionContext, a.recordRequestOTP)
	collection.POST("/auth-with-otp", a.collectionContext, a.recordAuthWithOTP)
	collection.POST("/auth-refresh", a.collectionContext, requireSameCollectionContextAuth, a.recordAuthRefresh)
	collection.add(http.MethodGet, "/auth-methods", a.collectionContext, a.recordAuthMethods)
	// impersonate has no per-collection rate limit in PocketBase, so nothing resolves
	// the collection before the superuser check
	collection.POST("/impersonate/:id", requireSuperuserAuth(), a.recordAuthImpersonate)
	collection.POST("/request-verification", a.collectionContext, a.recordRequestVerification)
	collection.POST("/confirm-verification", a.collectionContext, a.recordConfirmVerification)
	collection.POST("/request-password-reset", a.collectionContext, a.recordRequestPasswordReset)
	collection.POST("/confirm-password-reset", a.collectionContext, a.recordConfirmPasswordReset)
	collection.POST("/request-email-change", a.collectionContext, requireSameCollectionContextAuth, a.recordRequestEmailChange)
	collection.POST("/confirm-email-change", a.collectionContext, a.recordConfirmEmailChange)
}

// authCollection returns the collection resolved by collectionContext when it is an
// auth collection, or PocketBase's 404 "Missing or invalid auth collection context.".
func authCollection(c *gin.Context) (*core.Collection, error) {
	collection := pathCollection(c)
	if collection == nil || !collection.IsAuth() {
		return nil, NewNotFoundError("Missing or invalid auth collection context.", nil)
	}

	return collection, nil
}

// recordAuthResponse is the body of a successful authentication; the key order is
// PocketBase's (meta, record, token). Only OAuth2 sets meta (under authMetaKey).
type recordAuthResponse struct {
	Meta   any            `json:"meta,omitempty"`
	Record map[string]any `json:"record"`
	Token  string         `json:"token"`
}

// writeRecordAuthResponse finishes an authentication of record as PocketBase's
// RecordAuthResponse does (apis/record_helpers.go): a superuser outside
// settings.superuserIPs is refused (403); it checks the collection's authRule against
// the requester that was authenticated before, with the route's @request.context (403),
// runs the MFA step for a login with method (401 {"mfaId"} on a first factor; refresh
// passes "" and skips it), records the login origin (authAlert), then writes the
// record, email and (for superusers) hidden fields included, with token, or with a new
// refreshable auth token when token is "".
func (a *api) writeRecordAuthResponse(c *gin.Context, record *core.Record, token, method, mfaID string) error {
	if !a.superuserIPAllowed(c, record) {
		return NewForbiddenError("", errSuperuserIP)
	}

	// the authRule is checked for the request as it came (its own auth, if any)
	info, err := authRequestInfo(c)
	if err != nil {
		return err
	}
	if ok, err := a.app.CanAccessRecord(c.Request.Context(), record, info, record.Collection().Auth.AuthRule); !ok {
		return NewForbiddenError("The request doesn't satisfy the collection requirements to authenticate.", err)
	}

	mfa := false
	if method != "" {
		var err error
		if mfa, err = a.app.MFARequired(c.Request.Context(), record, info); err != nil {
			return NewBadRequestError("Failed to authenticate.", fmt.Errorf("MFA rule failure: %w", err))
		}
	}
	if mfa {
		pendingID, err := a.app.CheckMFA(c.Request.Context(), record, method, mfaID)
		switch {
		case errors.Is(err, core.ErrMFAInvalidOrExpired), errors.Is(err, core.ErrMFAMismatch), errors.Is(err, core.ErrMFASameMethod):
			return NewBadRequestError(err.Error(), err)
		case err != nil:
			return NewInternalServerError("Failed to authenticate.", err)
		case pendingID != "":
			return writeJSON(c, http.StatusUnauthorized, map[string]string{"mfaId": pendingID})
		}
	}

	if method != "" && record.Collection().Auth.AuthAlert.Enabled {
		a.authAlert(c, record)
	}

	if token == "" {
		var err error
		if token, err = core.NewAuthToken(record); err != nil {
			return NewInternalServerError("Failed to create auth token.", err)
		}
	}

	// ?expand= is resolved as the authenticated record (its relations' viewRules)
	info = readRequestInfo(c)
	info.Auth = record
	if err := a.enrichRecords(c, []*core.Record{record}, info); err != nil {
		return NewInternalServerError("", err)
	}

	meta, _ := c.Get(authMetaKey)

	return writeJSON(c, http.StatusOK, recordAuthResponse{
		Meta:   meta,
		Record: record.PublicExport(core.ExportOptions{ShowHidden: record.IsSuperuser(), ShowEmail: true}),
		Token:  token,
	})
}

// ctxKeyRequestContext holds the @request.context of a request when it is not
// "default": an auth route's (password, otp, oauth2, …) or a batch sub-request's
// (PocketBase's RequestEventKeyInfoContext). readRequestInfo reads it.
const ctxKeyRequestContext = "pocketfleet.requestContext"

// setRequestContext sets the @request.context the rules of this request see.
func setRequestContext(c *gin.Context, requestContext string) {
	c.Set(ctxKeyRequestContext, requestContext)
}

// authRequestInfo is readRequestInfo (with the @request.context set by the auth route)
// and the body the route bound as @request.body.
//
// An XML body fails, as PocketBase's RequestInfo cannot bind it: 400 with the generic
// message.
func authRequestInfo(c *gin.Context) (*core.RequestInfo, error) {
	info := readRequestInfo(c)
	if body, ok := c.Get(ctxKeyAuthFormBody); ok {
		if err, failed := body.(error); failed {
			return nil, NewBadRequestError("", err)
		}
		info.Body, _ = body.(map[string]any)
	}

	return info, nil
}

// authAlert records the login origin of record and, for a new device, mails the
// new-login alert (apis/record_helpers.go authAlert). Failures are only logged.
func (a *api) authAlert(c *gin.Context, record *core.Record) {
	if err := a.app.TrackAuthOrigin(c.Request.Context(), record, a.clientIP(c), c.Request.UserAgent()); err != nil {
		a.app.Logger().LogAttrs(c.Request.Context(), slog.LevelWarn, "[recordAuthResponse] Failed to send login alert", slog.String("error", err.Error()))
	}
}
