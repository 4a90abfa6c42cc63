package core

import (
	"slices"
	"strings"
	"time"
)

// Settings are the application settings PocketBase v0.40 keeps in the `_params` row
// "settings" (core/settings_model.go). Field order is PocketBase's struct order, which
// is the JSON key order of both the stored row and the API.
//
// The JSON encoding (MarshalJSON) is the API's: the secrets (SMTP.Password, S3.Secret,
// Backups.S3.Secret) are never written. The stored form, secrets included, is written
// by the App only.
type Settings struct {
	// SuperuserIPs lists the IPs and CIDR subnets superusers may call from; empty means
	// any.
	SuperuserIPs []string `json:"superuserIPs"`

	// SMTP is the mail server configuration.
	SMTP SMTPConfig `json:"smtp"`
	// Backups configures the scheduled backups and where they are kept.
	Backups BackupsConfig `json:"backups"`
	// S3 is the optional S3 storage of the uploaded files.
	S3 S3Config `json:"s3"`
	// Meta holds the application name, URL and mail sender.
	Meta MetaConfig `json:"meta"`
	// RateLimits configures the per-IP rate limiter.
	RateLimits RateLimitsConfig `json:"rateLimits"`
	// TrustedProxy names the headers the client IP is read from.
	TrustedProxy TrustedProxyConfig `json:"trustedProxy"`
	// Batch configures POST /api/batch.
	Batch BatchConfig `json:"batch"`
	// Logs configures the request and app logs.
	Logs LogsConfig `json:"logs"`
}

// SMTPConfig is the mail server configuration.
type SMTPConfig struct {
	// Enabled sends mail through this server instead of the local sendmail.
	Enabled bool `json:"enabled"`
	// Port is the server port.
	Port int `json:"port"`
	// Host is the server host name or IP.
	Host string `json:"host"`
	// Username is the SMTP AUTH user.
	Username string `json:"username"`
	// Password is the SMTP AUTH password; a secret, never written by the API.
	Password string `json:"password,omitempty"`
	// AuthMethod is "PLAIN" (the default when empty) or "LOGIN".
	AuthMethod string `json:"authMethod"`
	// TLS enforces TLS; when false, STARTTLS is offered to the server.
	TLS bool `json:"tls"`
	// LocalName is the EHLO/HELO domain name or IP ("localhost" when empty).
	LocalName string `json:"localName"`
}

// S3Config is an S3-compatible storage.
type S3Config struct {
	// Enabled uses this storage.
	Enabled bool `json:"enabled"`
	// Bucket is the bucket name.
	Bucket string `json:"bucket"`
	// Region is the bucket region.
	Region string `json:"region"`
	// Endpoint is the S3 endpoint URL.
	Endpoint string `json:"endpoint"`
	// AccessKey is the access key id.
	AccessKey string `json:"accessKey"`
	// Secret is the secret access key; a secret, never written by the API.
	Secret string `json:"secret,omitempty"`
	// ForcePathStyle addresses the bucket in the path instead of the host name.
	ForcePathStyle bool `json:"forcePathStyle"`
}

// BackupsConfig configures the scheduled backups.
type BackupsConfig struct {
	// Cron is the 5-field cron expression (or macro) of the scheduled backups; empty
	// disables them.
	Cron string `json:"cron"`
	// CronMaxKeep is how many scheduled backups are kept.
	CronMaxKeep int `json:"cronMaxKeep"`
	// S3 is the optional S3 storage of the backups.
	S3 S3Config `json:"s3"`
}

// MetaConfig holds the application identity.
type MetaConfig struct {
	// AccentColor is the dashboard accent color (#rrggbb).
	AccentColor string `json:"accentColor"`
	// AppName is the application name.
	AppName string `json:"appName"`
	// AppURL is the public application URL.
	AppURL string `json:"appURL"`
	// SenderName is the name mail is sent as.
	SenderName string `json:"senderName"`
	// SenderAddress is the address mail is sent from.
	SenderAddress string `json:"senderAddress"`
	// HideControls hides the collection controls of the dashboard.
	HideControls bool `json:"hideControls"`
}

// LogsConfig configures the logs.
type LogsConfig struct {
	// MaxDataSize is the serialized log data size above which it is truncated (0 means
	// ~16 KB).
	MaxDataSize int64 `json:"maxDataSize"`
	// MaxDays is how many days logs are kept (0 disables logging).
	MaxDays int `json:"maxDays"`
	// MinLevel is the lowest level logged.
	MinLevel int `json:"minLevel"`
	// LogIP records the client IP of requests.
	LogIP bool `json:"logIP"`
	// LogAuthID records the auth record id of requests.
	LogAuthID bool `json:"logAuthId"`
}

// TrustedProxyConfig names the trusted proxy headers the client IP is read from.
type TrustedProxyConfig struct {
	// Headers are the headers to check, in order.
	Headers []string `json:"headers"`
	// UseLeftmostIP takes the leftmost IP of a header instead of the rightmost.
	UseLeftmostIP bool `json:"useLeftmostIP"`
}

// BatchConfig configures POST /api/batch.
type BatchConfig struct {
	// Enabled allows batch requests.
	Enabled bool `json:"enabled"`
	// MaxRequests is the most sub-requests one batch may hold.
	MaxRequests int `json:"maxRequests"`
	// Timeout is the batch transaction timeout in seconds.
	Timeout int64 `json:"timeout"`
	// MaxBodySize is the batch body limit in bytes (0 means 128 MiB).
	MaxBodySize int64 `json:"maxBodySize"`
}

// RateLimitsConfig configures the rate limiter.
type RateLimitsConfig struct {
	// Rules are matched in order (see FindRule).
	Rules []RateLimitRule `json:"rules"`
	// ExcludedIPs lists the IPs and CIDR subnets that are never limited.
	ExcludedIPs []string `json:"excludedIPs"`
	// Enabled turns the rate limiter on.
	Enabled bool `json:"enabled"`
}

// The RateLimitRule.Audience values.
const (
	// RateLimitAudienceAll applies a rule to guests and authenticated requests.
	RateLimitAudienceAll = ""
	// RateLimitAudienceGuest applies a rule to guests only.
	RateLimitAudienceGuest = "@guest"
	// RateLimitAudienceAuth applies a rule to authenticated requests only.
	RateLimitAudienceAuth = "@auth"
)

// RateLimitRule limits the requests matching its label to MaxRequests per Duration
// seconds and client IP.
type RateLimitRule struct {
	// Label is a tag ("users:create", "*:auth"), a path ("/api/batch", "POST /api/x") or
	// a path prefix when it ends with "/".
	Label string `json:"label"`
	// Audience is one of the RateLimitAudience constants.
	Audience string `json:"audience"`
	// Duration is the window in seconds.
	Duration int64 `json:"duration"`
	// MaxRequests is the number of requests allowed per window.
	MaxRequests int `json:"maxRequests"`
}

// DurationTime returns the rule's window as a time.Duration.
func (r RateLimitRule) DurationTime() time.Duration {
	return time.Duration(r.Duration) * time.Second
}

// FindRule returns the first rule matching the labels, tried in order, as PocketBase's
// RateLimitsConfig.FindRateLimitRule does: an exact label match first, then (for each
// label) a rule whose label ends with "/" and prefixes label+"/". When audiences are
// given, a rule must have one of them.
func (c RateLimitsConfig) FindRule(labels []string, audiences ...string) (RateLimitRule, bool) {
	allowed := func(r RateLimitRule) bool {
		return len(audiences) == 0 || slices.Contains(audiences, r.Audience)
	}

	var prefixRules []int
	for i, label := range labels {
		for j, r := range c.Rules {
			if label == r.Label && allowed(r) {
				return r, true
			}
			if i == 0 && strings.HasSuffix(r.Label, "/") {
				prefixRules = append(prefixRules, j)
			}
		}

		for _, j := range prefixRules {
			r := c.Rules[j]
			if strings.HasPrefix(label+"/", r.Label) && allowed(r) {
				return r, true
			}
		}
	}

	return RateLimitRule{}, false
}

// DefaultSettings returns the settings of a new PocketBase v0.40 install
// (core/settings_model.go newDefaultSettings).
func DefaultSettings() *Settings {
	return &Settings{
		SuperuserIPs: []string{},
		SMTP: SMTPConfig{
			Host: "smtp.example.com",
			Port: 587,
		},
		Backups: BackupsConfig{
			CronMaxKeep: 3,
		},
		Meta: MetaConfig{
			AccentColor:   "#1055c9",
			AppName:       "Acme",
			AppURL:        "http://localhost:8090",
			SenderName:    "Support",
			SenderAddress: "support@example.com",
		},
		RateLimits: RateLimitsConfig{
			Rules: []RateLimitRule{
				{Label: "*:auth", MaxRequests: 2, Duration: 3},
				{Label: "*:create", MaxRequests: 20, Duration: 5},
				{Label: "/api/batch", MaxRequests: 3, Duration: 1},
				{Label: "/api/", MaxRequests: 300, Duration: 10},
			},
			ExcludedIPs: []string{},
		},
		TrustedProxy: TrustedProxyConfig{
			Headers: []string{},
		},
		Batch: BatchConfig{
			MaxRequests: 50,
			Timeout:     3,
		},
		Logs: LogsConfig{
			MaxDays: 5,
			LogIP:   true,
		},
	}
}

// Clone returns a deep copy of s, with nil lists made empty.
func (s *Settings) Clone() *Settings {
	c := *s
	c.SuperuserIPs = cloneList(s.SuperuserIPs)
	c.RateLimits.Rules = cloneList(s.RateLimits.Rules)
	c.RateLimits.ExcludedIPs = cloneList(s.RateLimits.ExcludedIPs)
	c.TrustedProxy.Headers = cloneList(s.TrustedProxy.Headers)

	return &c
}

// cloneList copies list; nil becomes empty, as PocketBase v0.40 writes nil lists as [].
func cloneList[T any](list []T) []T {
	return append(make([]T, 0, len(list)), list...)
}

// MarshalJSON writes the settings as the API returns them: in PocketBase's key order,
// with nil lists as [] and without the secrets (smtp.password, s3.secret and
// backups.s3.secret are omitted whatever their value).
func (s Settings) MarshalJSON() ([]byte, error) {
	type public Settings // without methods: no recursion

	p := public(*s.Clone())
	p.SMTP.Password = ""
	p.S3.Secret = ""
	p.Backups.S3.Secret = ""

	return marshalSettingsJSON(p)
}

// storedSettings is the JSON shape of the `_params` row: the API's, with the secrets,
// and smtp.password always written (PocketBase's SMTPConfig tags it without omitempty).
type storedSettings struct {
	SuperuserIPs []string           `json:"superuserIPs"`
	SMTP         storedSMTP         `json:"smtp"`
	Backups      BackupsConfig      `json:"backups"`
	S3           S3Config           `json:"s3"`
	Meta         MetaConfig         `json:"meta"`
	RateLimits   RateLimitsConfig   `json:"rateLimits"`
	TrustedProxy TrustedProxyConfig `json:"trustedProxy"`
	Batch        BatchConfig        `json:"batch"`
	Logs         LogsConfig         `json:"logs"`
}

// storedSMTP is SMTPConfig with the password always written.
type storedSMTP struct {
	Enabled    bool   `json:"enabled"`
	Port       int    `json:"port"`
	Host       string `json:"host"`
	Username   string `json:"username"`
	Password   string `json:"password"`
	AuthMethod string `json:"authMethod"`
	TLS        bool   `json:"tls"`
	LocalName  string `json:"localName"`
}

// storedJSON returns the settings as PocketBase stores them in `_params`, secrets
// included.
func (s *Settings) storedJSON() ([]byte, error) {
	c := s.Clone()

	return marshalSettingsJSON(storedSettings{
		SuperuserIPs: c.SuperuserIPs,
		SMTP:         storedSMTP(c.SMTP),
		Backups:      c.Backups,
		S3:           c.S3,
		Meta:         c.Meta,
		RateLimits:   c.RateLimits,
		TrustedProxy: c.TrustedProxy,
		Batch:        c.Batch,
		Logs:         c.Logs,
	})
}
