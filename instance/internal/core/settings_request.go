package core

// RequestSettings are the settings every request consults (rate limits, trusted proxy
// headers, superuser IPs), read without copying the rest of the settings.
type RequestSettings struct {
	RateLimits   RateLimitsConfig
	TrustedProxy TrustedProxyConfig
	SuperuserIPs []string
}

// RequestSettings returns the current RequestSettings. Its lists are shared with the
// current settings and must not be modified (use Settings for a copy to change).
func (a *App) RequestSettings() RequestSettings {
	s := a.settings.current.Load()
	if s == nil {
		s = DefaultSettings()
	}

	return RequestSettings{RateLimits: s.RateLimits, TrustedProxy: s.TrustedProxy, SuperuserIPs: s.SuperuserIPs}
}
