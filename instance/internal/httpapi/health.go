package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"slices"

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
// whether a backup may start (none or restore is running), the client IP as the
// trusted-proxy settings resolve it, and the first proxy-like header present: the
// settings' trusted-proxy headers first, then the common ones.
func (a *api) health(c *gin.Context) error {
	data := map[string]any{}
	if hasSuperuserAuth(c) {
		proxy := a.app.Settings().TrustedProxy
		possibleProxyHeader := ""
		for _, h := range slices.Concat(proxy.Headers, proxyHeaders) {
			if c.GetHeader(h) != "" {
				possibleProxyHeader = h
				break
			}
		}
		data["canBackup"] = !a.app.IsBackupActive()
		data["realIP"] = realIP(c.Request, proxy)
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
