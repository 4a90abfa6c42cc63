package httpapi

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/gin-gonic/gin"
)

// healthResponse is PocketBase's health payload; the field order is the key order.
type healthResponse struct {
	Message string         `json:"message"`
	Code    int            `json:"code"`
	Data    map[string]any `json:"data"`
}

// proxyHeaders are the common reverse-proxy headers PocketBase looks for, after the
// trusted-proxy headers of the settings.
var proxyHeaders = []string{"CF-Connecting-IP", "Fly-Client-IP", "X-Forwarded-For"}

// health answers GET and HEAD /api/health (apis/health.go). For a superuser, data tells
// whether a backup may start, the client IP and the first proxy-like header present.
//
// note: canBackup is always true until backups exist.
func (a *api) health(c *gin.Context) error {
	data := map[string]any{}
	if hasSuperuserAuth(c) {
		possibleProxyHeader := ""
		for _, h := range proxyHeaders {
			if c.GetHeader(h) != "" {
				possibleProxyHeader = h
				break
			}
		}
		data["canBackup"] = true
		data["realIP"] = a.clientIP(c)
		data["possibleProxyHeader"] = possibleProxyHeader
	}

	return writeJSON(c, http.StatusOK, healthResponse{
		Message: "API is healthy.",
		Code:    http.StatusOK,
		Data:    data,
	})
}

// remoteIP is the connection's IP in PocketBase's form (netip StringExpanded: IPv6 written
// in full).
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}

	return addr.Unmap().StringExpanded()
}
