package httpapi

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// realIP is the client IP as PocketBase's RealIP reads it (§1.10): for the first of
// settings.trustedProxy.headers present, the last line of that header, scanned from
// the right (or from the left with useLeftmostIP) for the first valid IP; without such
// a header, the connection's address. IPv6 addresses are written in full.
//
// note: the headers are only as trustworthy as the proxy in front; with none
// configured the connection's address is all that counts.
func realIP(r *http.Request, proxy core.TrustedProxyConfig) string {
	for _, h := range proxy.Headers {
		values := r.Header.Values(h)
		if len(values) == 0 || values[len(values)-1] == "" {
			continue
		}
		// the last line is the one the proxy itself added
		ips := strings.Split(values[len(values)-1], ",")
		for i := range ips {
			if !proxy.UseLeftmostIP {
				i = len(ips) - 1 - i
			}
			if addr, err := netip.ParseAddr(strings.TrimSpace(ips[i])); err == nil {
				return addr.StringExpanded()
			}
		}
	}

	return remoteIP(r)
}

// ipListed reports whether ip is one of list's IPs or inside one of its CIDR subnets.
func ipListed(list []string, ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, entry := range list {
		if strings.Contains(entry, "/") {
			if prefix, err := netip.ParsePrefix(entry); err == nil && prefix.Contains(addr) {
				return true
			}
			continue
		}
		if other, err := netip.ParseAddr(entry); err == nil && other.Unmap() == addr {
			return true
		}
	}

	return false
}

// errSuperuserIP is the logged cause of a superuser request refused by superuserIPs.
var errSuperuserIP = errors.New("superuser request from an IP outside settings.superuserIPs")

// superuserIPAllowed reports whether record may act (or log in) from the request's
// client IP: always for non-superusers and when settings.superuserIPs is empty.
func (a *api) superuserIPAllowed(c *gin.Context, record *core.Record) bool {
	if record == nil || !record.IsSuperuser() {
		return true
	}
	rs := a.app.RequestSettings()
	if len(rs.SuperuserIPs) == 0 {
		return true
	}

	return ipListed(rs.SuperuserIPs, realIP(c.Request, rs.TrustedProxy))
}

// superuserIPCheck refuses with PocketBase's generic 403 every request authenticated as
// a superuser from an IP outside a non-empty settings.superuserIPs (§1.9).
func (a *api) superuserIPCheck() gin.HandlerFunc {
	return handle(func(c *gin.Context) error {
		if !a.superuserIPAllowed(c, authRecord(c)) {
			return NewForbiddenError("", errSuperuserIP)
		}

		return nil
	})
}
