package httpapi

import (
	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// recordAuthRefresh answers POST /api/collections/{collection}/auth-refresh
// (apis/record_auth_refresh.go) for a record of that collection (checked by
// requireSameCollectionContextAuth). A refreshable token gets a new one; a
// non-refreshable (impersonate) token is echoed back. The authRule is checked again;
// MFA is not.
func (a *api) recordAuthRefresh(c *gin.Context) error {
	record := authRecord(c)
	if record == nil {
		return NewNotFoundError("Missing auth record context.", nil)
	}

	token := tokenFromRequest(c)
	// The loader verified this token already; only the refreshable claim is read here.
	claims, err := security.ParseUnverifiedJWT(token)
	if err == nil && truthy(claims[core.TokenClaimRefreshable]) {
		token = "" // mint a new one
	}

	return a.writeRecordAuthResponse(c, record, token, "", "")
}

// truthy is cast.ToBool for a decoded JSON claim.
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true" || x == "1" || x == "t" || x == "T" || x == "TRUE" || x == "True"
	case float64:
		return x != 0
	default:
		return false
	}
}
