package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// healthResponse is PocketBase's health payload; the field order is the key order.
type healthResponse struct {
	Message string         `json:"message"`
	Code    int            `json:"code"`
	Data    map[string]any `json:"data"`
}

// health answers GET and HEAD /api/health (apis/health.go).
//
// note: for a superuser PocketBase fills data with canBackup, realIP and
// possibleProxyHeader; that needs the auth loader and arrives with the auth task.
func (a *api) health(c *gin.Context) error {
	return writeJSON(c, http.StatusOK, healthResponse{
		Message: "API is healthy.",
		Code:    http.StatusOK,
		Data:    map[string]any{},
	})
}
