package core_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// pbFreshStoredJSON is the `_params` "settings" value of a new install, as the fixture
// holds it: the API's JSON plus "password":"" (always stored), s3 secrets omitted when
// empty.
var pbFreshStoredJSON = strings.Replace(apitest.PocketBaseFreshSettingsJSON, `"username":"",`, `"username":"","password":"",`, 1)

// testKey is PocketBase's test encryption key (tools/security encrypt_test.go).
const testKey = "abcdabcdabcdabcdabcdabcdabcdabcd"

type paramRow struct {
	Type    string
	Value   []byte
	Created string
	Updated string
}

func settingsRow(t *testing.T, app *core.App) paramRow {
	t.Helper()
	var r paramRow
	err := app.DB().Read().QueryRowContext(t.Context(),
		"SELECT typeof(`value`), `value`, `created`, `updated` FROM `_params` WHERE `id` = 'settings'",
	).Scan(&r.Type, &r.Value, &r.Created, &r.Updated)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func openApp(t *testing.T, dir, key string, now func() time.Time) (*core.App, error) {
	t.Helper()
	app, err := core.New(t.Context(), core.Config{DataDir: dir, Logger: quiet, EncryptionKey: key, Now: now})
	if err == nil {
		t.Cleanup(func() { _ = app.Close() })
	}
	return app, err
}

func mustOpen(t *testing.T, dir, key string, now func() time.Time) *core.App {
	t.Helper()
	app, err := openApp(t, dir, key, now)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func fixedClock(s string) func() time.Time {
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return ts }
}

func TestSettingsFreshInstall(t *testing.T) {
	app := mustOpen(t, filepath.Join(t.TempDir(), "pb_data"), "", fixedClock("2026-11-27T10:00:00.123Z"))

	got, err := json.Marshal(app.Settings())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != apitest.PocketBaseFreshSettingsJSON {
		t.Errorf("settings JSON:\n got %s\nwant %s", got, apitest.PocketBaseFreshSettingsJSON)
	}

	// PocketBase stores the defaults when it first opens a directory.
	row := settingsRow(t, app)
	want := paramRow{Type: "blob", Value: []byte(pbFreshStoredJSON), Created: "2026-11-27 10:00:00.123Z", Updated: "2026-11-27 10:00:00.123Z"}
	if diff := cmp.Diff(want, row); diff != "" {
		t.Errorf("settings row (-want +got):\n%s", diff)
	}
}

func TestSettingsFixtureRoundTrip(t *testing.T) {
	dir := apitest.CopyFixture(t)
	app := mustOpen(t, dir, "", fixedClock("2027-01-02T03:04:05.678Z"))
	before := settingsRow(t, app)

	// The fixture's row is exactly what we write for the defaults.
	if string(before.Value) != pbFreshStoredJSON || before.Type != "blob" {
		t.Fatalf("fixture settings row is %s %s, want blob %s", before.Type, before.Value, pbFreshStoredJSON)
	}
	got, err := json.Marshal(app.Settings())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != apitest.PocketBaseFreshSettingsJSON {
		t.Errorf("settings JSON:\n got %s\nwant %s", got, apitest.PocketBaseFreshSettingsJSON)
	}

	// Saving the loaded settings rewrites the row byte for byte; only `updated` moves.
	if err := app.SaveSettings(t.Context(), app.Settings()); err != nil {
		t.Fatal(err)
	}
	after := settingsRow(t, app)
	want := before
	want.Updated = "2027-01-02 03:04:05.678Z"
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("settings row after save (-want +got):\n%s", diff)
	}
}

func TestSettingsSaveAndReload(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	app := mustOpen(t, dir, "", nil)

	s := app.Settings()
	s.Meta.AppName = "Changed <&> \u2028 \b"
	s.SMTP.Password = "smtp-secret"
	s.S3.Secret = "s3-secret"
	s.Backups.S3.Secret = "backups-secret"
	s.SuperuserIPs = []string{"10.0.0.0/8", "::1"}
	s.RateLimits.Rules = append(s.RateLimits.Rules, core.RateLimitRule{Label: "users:create", Audience: "@guest", Duration: 60, MaxRequests: 5})
	if err := app.SaveSettings(t.Context(), s); err != nil {
		t.Fatal(err)
	}

	// The caller's copy is not shared with the app.
	s.Meta.AppName = "not saved"
	if got := app.Settings().Meta.AppName; got != "Changed <&> \u2028 \b" {
		t.Errorf("AppName = %q after changing the saved copy", got)
	}

	row := settingsRow(t, app)
	for _, want := range []string{`"appName":"Changed <&> ` + "\u2028" + ` \b"`, `"password":"smtp-secret"`, `"secret":"s3-secret"`, `"secret":"backups-secret"`} {
		if !strings.Contains(string(row.Value), want) {
			t.Errorf("stored row lacks %s:\n%s", want, row.Value)
		}
	}

	public, err := json.Marshal(app.Settings())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"smtp-secret", "s3-secret", "backups-secret", `"password"`, `"secret"`} {
		if strings.Contains(string(public), secret) {
			t.Errorf("public JSON contains %s:\n%s", secret, public)
		}
	}

	want := app.Settings()
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	reopened := mustOpen(t, dir, "", nil)
	if diff := cmp.Diff(want, reopened.Settings()); diff != "" {
		t.Errorf("settings after reopening (-want +got):\n%s", diff)
	}
}

func TestSettingsEncryption(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	app := mustOpen(t, dir, testKey, nil)

	s := app.Settings()
	s.SMTP.Password = "smtp-secret"
	if err := app.SaveSettings(t.Context(), s); err != nil {
		t.Fatal(err)
	}

	// PocketBase's format: base64(nonce || AES-256-GCM(json)) as TEXT.
	row := settingsRow(t, app)
	if row.Type != "text" || strings.Contains(string(row.Value), "Acme") || strings.Contains(string(row.Value), "smtp-secret") {
		t.Fatalf("settings row is not encrypted: %s %s", row.Type, row.Value)
	}
	plain := decryptPB(t, string(row.Value), testKey)
	want := strings.Replace(pbFreshStoredJSON, `"password":""`, `"password":"smtp-secret"`, 1)
	if string(plain) != want {
		t.Errorf("decrypted row:\n got %s\nwant %s", plain, want)
	}

	wantSettings := app.Settings()
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	reopened := mustOpen(t, dir, testKey, nil)
	if diff := cmp.Diff(wantSettings, reopened.Settings()); diff != "" {
		t.Errorf("settings after reopening (-want +got):\n%s", diff)
	}
	if err := reopened.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := openApp(t, dir, "", nil); err == nil || !strings.Contains(err.Error(), `missing encryption key "PB_ENCRYPTION_KEY"`) {
		t.Errorf("opening without the key: err = %v, want the missing key error", err)
	}
	if _, err := openApp(t, dir, strings.Repeat("x", 32), nil); err == nil {
		t.Error("opening with another key succeeded")
	}
}

// TestSettingsEncryptedByPocketBase loads a row encrypted outside of this code base in
// PocketBase's format (Python's cryptography AESGCM, key testKey, nonce 01..0c). The row
// holds a few members only: the others keep their defaults, as in PocketBase.
func TestSettingsEncryptedByPocketBase(t *testing.T) {
	const encrypted = "AQIDBAUGBwgJCgsMzqfivwUgxOHCPVIcMy3uDF/VbTw1Zo3yZHJGrzD7O9RqXxblLrxQpS83OxmIumG0GUaudB6C7jFp40Lzz3zgNeBO1/zVm6yjVK2fuH0HSZs6HxMdTSLg0Ni/CPktp972SEfaDXVZb+xQBh2Qv415RvY1RlGb"
	// = {"meta":{"appName":"Encrypted by PocketBase","appURL":"https://pb.example.com"},"logs":{"maxDays":7}}

	dir := apitest.CopyFixture(t)
	app := mustOpen(t, dir, "", nil)
	if _, err := app.DB().Write().ExecContext(t.Context(), "UPDATE `_params` SET `value` = ? WHERE `id` = 'settings'", encrypted); err != nil {
		t.Fatal(err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	reopened := mustOpen(t, dir, testKey, nil)
	want := core.DefaultSettings()
	want.Meta.AppName = "Encrypted by PocketBase"
	want.Meta.AppURL = "https://pb.example.com"
	want.Logs.MaxDays = 7
	if diff := cmp.Diff(want, reopened.Settings()); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
}

// decryptPB decrypts value as PocketBase's security.Decrypt does.
func decryptPB(t *testing.T, value, key string) []byte {
	t.Helper()
	sealed, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], nil)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

func TestSettingsLoadMergesOverDefaults(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		want    func(s *core.Settings)
		wantErr bool
	}{
		{
			name:  "partial row keeps the other defaults",
			value: `{"meta":{"appName":"Partial"},"unknown":{"x":1}}`,
			want:  func(s *core.Settings) { s.Meta.AppName = "Partial" },
		},
		{
			name:  "a null member is reset to its zero value",
			value: `{"smtp":null,"rateLimits":{"rules":null}}`,
			want: func(s *core.Settings) {
				s.SMTP = core.SMTPConfig{}
				s.RateLimits.Rules = []core.RateLimitRule{}
			},
		},
		{name: "names are matched exactly", value: `{"META":{"appName":"x"}}`, want: func(*core.Settings) {}},
		{name: "not JSON and no key", value: `garbage`, wantErr: true},
		{name: "duplicate member", value: `{"meta":{},"meta":{}}`, wantErr: true},
		{name: "wrong type", value: `{"smtp":{"port":"587"}}`, wantErr: true},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := apitest.CopyFixture(t)
			app := mustOpen(t, dir, "", nil)
			if _, err := app.DB().Write().ExecContext(t.Context(), "UPDATE `_params` SET `value` = ? WHERE `id` = 'settings'", []byte(tc.value)); err != nil {
				t.Fatal(err)
			}
			if err := app.Close(); err != nil {
				t.Fatal(err)
			}

			reopened, err := openApp(t, dir, "", nil)
			if tc.wantErr {
				if err == nil {
					t.Fatal("opening succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := core.DefaultSettings()
			tc.want(want)
			if diff := cmp.Diff(want, reopened.Settings()); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}

// flattenErrors maps each leaf of a NestedErrors tree to "code" or "code params".
func flattenErrors(t *testing.T, err error) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err == nil {
		return out
	}
	var walk func(prefix string, e error)
	walk = func(prefix string, e error) {
		switch v := e.(type) { //nolint:errorlint // the tree holds its nodes unwrapped
		case core.NestedErrors:
			for k, inner := range v {
				walk(prefix+k+".", inner)
			}
		case *core.ValidationError:
			leaf := v.Code
			if len(v.Params) > 0 {
				raw, _ := json.Marshal(v.Params)
				leaf += " " + string(raw)
			}
			out[strings.TrimSuffix(prefix, ".")] = leaf + ": " + v.Message
		default:
			t.Fatalf("unexpected error %T at %s: %v", e, prefix, e)
		}
	}
	walk("", err)
	return out
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *core.Settings)
		want   map[string]string
	}{
		{name: "defaults", change: func(*core.Settings) {}, want: map[string]string{}},
		{
			name: "meta",
			change: func(s *core.Settings) {
				s.Meta = core.MetaConfig{AccentColor: "#12345", AppName: strings.Repeat("é", 256), AppURL: "not a url", SenderAddress: "nope"}
			},
			want: map[string]string{
				"meta.accentColor":   `validation_length_invalid {"max":7,"min":7}: the length must be exactly 7`,
				"meta.appName":       `validation_length_out_of_range {"max":255,"min":1}: the length must be between 1 and 255`,
				"meta.appURL":        "validation_is_url: must be a valid URL",
				"meta.senderName":    "validation_required: cannot be blank",
				"meta.senderAddress": "validation_is_email: must be a valid email address",
			},
		},
		{
			name: "meta required and formats",
			change: func(s *core.Settings) {
				s.Meta = core.MetaConfig{AccentColor: "#12345g", SenderName: "x"}
			},
			want: map[string]string{
				"meta.accentColor":   "validation_is_hex_color: must be a valid hexadecimal color code",
				"meta.appName":       "validation_required: cannot be blank",
				"meta.appURL":        "validation_required: cannot be blank",
				"meta.senderAddress": "validation_required: cannot be blank",
			},
		},
		{
			name: "valid meta variants",
			change: func(s *core.Settings) {
				s.Meta = core.MetaConfig{AppName: strings.Repeat("é", 255), AppURL: "https://example.com:8443/path?q=1", SenderName: "S", SenderAddress: "a@b.co"}
			},
			want: map[string]string{},
		},
		{
			name: "smtp enabled without host and port",
			change: func(s *core.Settings) {
				s.SMTP = core.SMTPConfig{Enabled: true, AuthMethod: "CRAM", LocalName: "bad host!"}
			},
			want: map[string]string{
				"smtp.host":       "validation_required: cannot be blank",
				"smtp.port":       "validation_required: cannot be blank",
				"smtp.authMethod": "validation_in_invalid: must be a valid value",
				"smtp.localName":  "validation_is_host: must be a valid IP address or DNS name",
			},
		},
		{
			name: "smtp disabled checks formats only",
			change: func(s *core.Settings) {
				s.SMTP = core.SMTPConfig{Host: "a b", Port: -1, AuthMethod: "LOGIN", LocalName: "127.0.0.1"}
			},
			want: map[string]string{
				"smtp.host": "validation_is_host: must be a valid IP address or DNS name",
				"smtp.port": `validation_min_greater_equal_than_required {"threshold":0}: must be no less than 0`,
			},
		},
		{
			name: "s3 and backups s3 enabled and empty",
			change: func(s *core.Settings) {
				s.S3 = core.S3Config{Enabled: true}
				s.Backups.S3 = core.S3Config{Enabled: true, Endpoint: "::nope", Bucket: "b", Region: "r", AccessKey: "k", Secret: "s"}
			},
			want: map[string]string{
				"s3.endpoint":         "validation_required: cannot be blank",
				"s3.bucket":           "validation_required: cannot be blank",
				"s3.region":           "validation_required: cannot be blank",
				"s3.accessKey":        "validation_required: cannot be blank",
				"s3.secret":           "validation_required: cannot be blank",
				"backups.s3.endpoint": "validation_is_url: must be a valid URL",
			},
		},
		{
			name:   "backups cron",
			change: func(s *core.Settings) { s.Backups.Cron = "0 0 * *"; s.Backups.CronMaxKeep = 0 },
			want: map[string]string{
				"backups.cron":        "validation_invalid_cron: invalid cron expression - must be a valid macro or to have exactly 5 space separated segments",
				"backups.cronMaxKeep": "validation_required: cannot be blank",
			},
		},
		{
			name:   "backups cron segment and keep",
			change: func(s *core.Settings) { s.Backups.Cron = "61 * * * *"; s.Backups.CronMaxKeep = -1 },
			want: map[string]string{
				"backups.cron":        "validation_invalid_cron: invalid segment value - must be between the min and max of the segment",
				"backups.cronMaxKeep": `validation_min_greater_equal_than_required {"threshold":1}: must be no less than 1`,
			},
		},
		{
			name:   "backups valid cron macro",
			change: func(s *core.Settings) { s.Backups.Cron = "@daily" },
			want:   map[string]string{},
		},
		{
			name:   "batch enabled",
			change: func(s *core.Settings) { s.Batch = core.BatchConfig{Enabled: true, MaxBodySize: -1} },
			want: map[string]string{
				"batch.maxRequests": "validation_required: cannot be blank",
				"batch.timeout":     "validation_required: cannot be blank",
				"batch.maxBodySize": `validation_min_greater_equal_than_required {"threshold":0}: must be no less than 0`,
			},
		},
		{
			name:   "batch negative",
			change: func(s *core.Settings) { s.Batch = core.BatchConfig{MaxRequests: -1, Timeout: -2} },
			want: map[string]string{
				"batch.maxRequests": `validation_min_greater_equal_than_required {"threshold":0}: must be no less than 0`,
				"batch.timeout":     `validation_min_greater_equal_than_required {"threshold":0}: must be no less than 0`,
			},
		},
		{
			name:   "logs",
			change: func(s *core.Settings) { s.Logs = core.LogsConfig{MaxDays: -1, MaxDataSize: 1 << 53, MinLevel: 1 << 53} },
			want: map[string]string{
				"logs.maxDays":     `validation_min_greater_equal_than_required {"threshold":0}: must be no less than 0`,
				"logs.maxDataSize": `validation_max_less_equal_than_required {"threshold":9007199254740991}: must be no greater than 9007199254740991`,
				"logs.minLevel":    `validation_max_less_equal_than_required {"threshold":9007199254740991}: must be no greater than 9007199254740991`,
			},
		},
		{
			name: "superuser and excluded IPs",
			change: func(s *core.Settings) {
				s.SuperuserIPs = []string{"10.0.0.1", "10.0.0.0/8", "::1", "fe80::1%eth0", "", "10.0.0.256", "10.0.0.0/33"}
				s.RateLimits.ExcludedIPs = []string{"2001:db8::/32", "nope"}
			},
			want: map[string]string{
				"superuserIPs.4":           "validation_required: cannot be blank",
				"superuserIPs.5":           "validation_invlaid_ip_or_subnet: invalid IP or CIDR subnet",
				"superuserIPs.6":           "validation_invlaid_ip_or_subnet: invalid IP or CIDR subnet",
				"rateLimits.excludedIPs.1": "validation_invlaid_ip_or_subnet: invalid IP or CIDR subnet",
			},
		},
		{
			name: "rate limit rules",
			change: func(s *core.Settings) {
				s.RateLimits.Rules = []core.RateLimitRule{
					{Label: "", Duration: 0, MaxRequests: 0},
					{Label: "bad label!", Audience: "@admin", Duration: -1, MaxRequests: -1},
					{Label: "POST /api/collections/", Audience: "@auth", Duration: 1, MaxRequests: 1},
					{Label: "users:create", Duration: 1, MaxRequests: 1},
					{Label: "*:auth", Audience: "@guest", Duration: 1, MaxRequests: 1},
					{Label: "tag_a", Duration: 1, MaxRequests: 1},
				}
			},
			want: map[string]string{
				"rateLimits.rules.0.label":       "validation_required: cannot be blank",
				"rateLimits.rules.0.duration":    "validation_required: cannot be blank",
				"rateLimits.rules.0.maxRequests": "validation_required: cannot be blank",
				"rateLimits.rules.1.label":       "validation_match_invalid: must be in a valid format",
				"rateLimits.rules.1.audience":    "validation_in_invalid: must be a valid value",
				"rateLimits.rules.1.duration":    `validation_min_greater_equal_than_required {"threshold":1}: must be no less than 1`,
				"rateLimits.rules.1.maxRequests": `validation_min_greater_equal_than_required {"threshold":1}: must be no less than 1`,
			},
		},
		{
			// as PocketBase answers (checked live): the rules' own errors come first and
			// hide the conflicts
			name: "rate limit rule errors before label conflicts",
			change: func(s *core.Settings) {
				s.RateLimits.Rules = []core.RateLimitRule{
					{Label: "", Duration: 0},
					{Label: "/api/x", Duration: 1, MaxRequests: 1},
					{Label: "/api/x", Audience: "@guest", Duration: 1, MaxRequests: 1},
					{Label: "/api/x", Duration: 1, MaxRequests: 1},
				}
			},
			want: map[string]string{
				"rateLimits.rules.0.label":       "validation_required: cannot be blank",
				"rateLimits.rules.0.duration":    "validation_required: cannot be blank",
				"rateLimits.rules.0.maxRequests": "validation_required: cannot be blank",
			},
		},
		{
			// PocketBase compares "label@@audience" keys as prefixes: "/api/x@@" (all)
			// conflicts with "/api/x@@@guest"
			name: "rate limit labels conflict",
			change: func(s *core.Settings) {
				s.RateLimits.Rules = []core.RateLimitRule{
					{Label: "/api/x", Duration: 1, MaxRequests: 1},
					{Label: "/api/x", Audience: "@guest", Duration: 1, MaxRequests: 1},
					{Label: "/api/x", Duration: 1, MaxRequests: 1},
				}
			},
			want: map[string]string{
				"rateLimits.rules.1.label": `validation_conflicting_rate_limit_rule {"label":"/api/x"}: Rate limit rule configuration with label /api/x already exists or conflicts with another rule.`,
			},
		},
		{
			name:   "rate limits enabled without rules",
			change: func(s *core.Settings) { s.RateLimits.Enabled = true; s.RateLimits.Rules = nil },
			want:   map[string]string{"rateLimits.rules": "validation_required: cannot be blank"},
		},
		{
			name:   "trusted proxy headers are not checked",
			change: func(s *core.Settings) { s.TrustedProxy.Headers = []string{"", "not a header!"} },
			want:   map[string]string{},
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := core.DefaultSettings()
			tc.change(s)
			err := s.Validate()
			if err != nil && !errors.As(err, new(core.NestedErrors)) {
				t.Fatalf("Validate() = %T %v, want NestedErrors", err, err)
			}
			if diff := cmp.Diff(tc.want, flattenErrors(t, err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSaveSettingsRejectsInvalid(t *testing.T) {
	app := mustOpen(t, filepath.Join(t.TempDir(), "pb_data"), "", nil)
	before := settingsRow(t, app)

	s := app.Settings()
	s.Meta.AppName = ""
	err := app.SaveSettings(t.Context(), s)
	if diff := cmp.Diff(map[string]string{"meta.appName": "validation_required: cannot be blank"}, flattenErrors(t, err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, settingsRow(t, app)); diff != "" {
		t.Errorf("row changed (-before +after):\n%s", diff)
	}
	if got := app.Settings().Meta.AppName; got != "Acme" {
		t.Errorf("AppName = %q, want Acme", got)
	}
}

func TestDecodeFormJSON(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    func(s *core.Settings)
		wantErr bool
	}{
		{name: "empty object", body: `{}`, want: func(*core.Settings) {}},
		{
			name: "merge keeps absent members",
			body: `{"meta":{"appName":"New"},"smtp":{"port":25}}`,
			want: func(s *core.Settings) { s.Meta.AppName = "New"; s.SMTP.Port = 25 },
		},
		{
			name: "names are case-insensitive and ignore _ and -",
			body: `{"META":{"APP_NAME":"A","sender-name":"B"},"RateLimits":{"EXCLUDED_IPS":["::1"]}}`,
			want: func(s *core.Settings) {
				s.Meta.AppName = "A"
				s.Meta.SenderName = "B"
				s.RateLimits.ExcludedIPs = []string{"::1"}
			},
		},
		{
			name: "lists are replaced, their items start from zero",
			body: `{"rateLimits":{"rules":[{"label":"x","maxRequests":1}]}}`,
			want: func(s *core.Settings) { s.RateLimits.Rules = []core.RateLimitRule{{Label: "x", MaxRequests: 1}} },
		},
		{
			name: "null resets",
			body: `{"meta":null,"superuserIPs":null,"smtp":{"host":null}}`,
			want: func(s *core.Settings) { s.Meta = core.MetaConfig{}; s.SuperuserIPs = nil; s.SMTP.Host = "" },
		},
		{name: "unknown members are ignored", body: `{"nope":{"a":[1,2]},"meta":{"x":1}}`, want: func(*core.Settings) {}},
		{name: "trailing data is ignored", body: `{"meta":{"appName":"T"}} trailing`, want: func(s *core.Settings) { s.Meta.AppName = "T" }},
		{name: "duplicate member", body: `{"meta":{"appName":"a","appName":"b"}}`, wantErr: true},
		{name: "duplicate member by folding", body: `{"meta":{"appName":"a","APPNAME":"b"}}`, wantErr: true},
		{name: "duplicate unknown member", body: `{"x":1,"x":2}`, wantErr: true},
		{name: "fraction for an integer", body: `{"smtp":{"port":587.0}}`, wantErr: true},
		{name: "exponent for an integer", body: `{"smtp":{"port":5e2}}`, wantErr: true},
		{name: "overflow", body: `{"logs":{"maxDays":99999999999999999999}}`, wantErr: true},
		{name: "string for an integer", body: `{"smtp":{"port":"587"}}`, wantErr: true},
		{name: "number for a string", body: `{"meta":{"appName":1}}`, wantErr: true},
		{name: "object for a list", body: `{"superuserIPs":{}}`, wantErr: true},
		{name: "array for an object", body: `{"meta":[]}`, wantErr: true},
		{name: "not an object", body: `[]`, wantErr: true},
		{name: "invalid JSON", body: `{"meta":`, wantErr: true},
		{name: "invalid UTF-8", body: "{\"meta\":{\"appName\":\"\xff\"}}", wantErr: true},
		{name: "too deep", body: `{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, wantErr: true},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := core.DefaultSettings()
			err := core.DecodeFormJSON([]byte(tc.body), got)
			if tc.wantErr {
				if err == nil {
					t.Fatal("DecodeFormJSON succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := core.DefaultSettings()
			tc.want(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeFormValues(t *testing.T) {
	got := core.DefaultSettings()
	err := core.DecodeFormValues(map[string][]string{
		"superuserIPs":        {"1.1.1.1", "2.2.2.2"},
		"smtp.port":           {"0x19"},
		"smtp.enabled":        {"true"},
		"meta.appName":        {"Form"},
		"backups.cronMaxKeep": {""},
		// PocketBase's quirk: "s3.*" keys fill both s3 and backups.s3.
		"s3.bucket":          {"bucket"},
		"rateLimits.enabled": {"1"},
		"logs.logIP":         {""},
		"@jsonPayload":       {`{"meta":{"senderName":"Payload"},"batch":{"timeout":9}}`, `{"META":{"appName":"ignored: names are exact here"}}`},
	}, got)
	if err != nil {
		t.Fatal(err)
	}

	want := core.DefaultSettings()
	want.SuperuserIPs = []string{"1.1.1.1", "2.2.2.2"}
	want.SMTP.Port = 25
	want.SMTP.Enabled = true
	want.Meta.AppName = "Form"
	want.Meta.SenderName = "Payload"
	want.Backups.CronMaxKeep = 0
	want.Backups.S3.Bucket = "bucket"
	want.S3.Bucket = "bucket"
	want.RateLimits.Enabled = true
	want.Logs.LogIP = false
	want.Batch.Timeout = 9
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}

	for _, bad := range []map[string][]string{
		{"smtp.port": {"x"}},
		{"smtp.tls": {"yes"}},
		{"@jsonPayload": {`{"meta":`}},
	} {
		if err := core.DecodeFormValues(bad, core.DefaultSettings()); err == nil {
			t.Errorf("DecodeFormValues(%v) succeeded, want an error", bad)
		}
	}
}

func TestRateLimitsFindRule(t *testing.T) {
	limits := core.RateLimitsConfig{Rules: []core.RateLimitRule{
		{Label: "*:auth", MaxRequests: 1},
		{Label: "users:auth", Audience: "@guest", MaxRequests: 2},
		{Label: "/api/", MaxRequests: 3},
		{Label: "POST /api/batch", MaxRequests: 4},
	}}
	tests := []struct {
		labels    []string
		audiences []string
		want      int // MaxRequests of the rule, 0 for none
	}{
		{labels: []string{"users:auth", "*:auth"}, want: 2},
		{labels: []string{"users:auth", "*:auth"}, audiences: []string{"", "@auth"}, want: 1},
		{labels: []string{"POST /api/batch", "/api/batch"}, want: 4},
		{labels: []string{"GET /api/health", "/api/health"}, want: 3},
		{labels: []string{"GET /api", "/api"}, want: 3}, // "/api" + "/" has the "/api/" prefix
		{labels: []string{"GET /other", "/other"}, want: 0},
	}
	for _, tc := range tests {
		got, ok := limits.FindRule(tc.labels, tc.audiences...)
		if got.MaxRequests != tc.want || ok != (tc.want != 0) {
			t.Errorf("FindRule(%q, %q) = %+v, %v; want the rule with maxRequests %d", tc.labels, tc.audiences, got, ok, tc.want)
		}
	}
}

func TestSettingsConcurrentAccess(t *testing.T) {
	app := mustOpen(t, filepath.Join(t.TempDir(), "pb_data"), "", nil)

	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			s := app.Settings()
			if s.Meta.AppName == "" {
				t.Error("read empty settings")
				return
			}
			s.RateLimits.Rules = append(s.RateLimits.Rules, core.RateLimitRule{})
		}
	}()
	for i := range 20 {
		s := app.Settings()
		s.Meta.AppName = "n" + strings.Repeat("x", i)
		if err := app.SaveSettings(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	if got := len(app.Settings().RateLimits.Rules); got != 4 {
		t.Errorf("%d rules after concurrent reads, want 4", got)
	}
}

func newAppleKey(t *testing.T) (*ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestGenerateAppleClientSecret(t *testing.T) {
	key, pemKey := newAppleKey(t)
	form := core.AppleClientSecretForm{ClientID: "com.example.app", TeamID: "TEAM123456", KeyID: "KEY1234567", PrivateKey: "\n" + pemKey + "\n", Duration: 3600}
	if err := form.Validate(); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)

	secret, err := core.GenerateAppleClientSecret(form, now)
	if err != nil {
		t.Fatal(err)
	}

	var claims jwt.RegisteredClaims
	token, err := jwt.ParseWithClaims(secret, &claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"alg": "ES256", "kid": "KEY1234567", "typ": "JWT"}, token.Header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(secret, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	wantPayload := `{"iss":"TEAM123456","sub":"com.example.app","aud":["https://appleid.apple.com"],"exp":1800003600,"iat":1800000000}`
	if string(payload) != wantPayload {
		t.Errorf("payload = %s, want %s", payload, wantPayload)
	}

	// A PKCS #8 key of another type passes validation and fails here.
	der, err := x509.MarshalPKCS8PrivateKey(mustEd25519(t))
	if err != nil {
		t.Fatal(err)
	}
	form.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if _, err := core.GenerateAppleClientSecret(form, now); err == nil || err.Error() != "key is not a valid ECDSA private key" {
		t.Errorf("err = %v, want golang-jwt's ErrNotECPrivateKey", err)
	}
}

func mustEd25519(t *testing.T) any {
	t.Helper()
	key, err := x509.ParsePKCS8PrivateKey(mustDecodePEM(t, ed25519PEM))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func mustDecodePEM(t *testing.T, s string) []byte {
	t.Helper()
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		t.Fatal("bad PEM")
	}
	return block.Bytes
}

// ed25519PEM is RFC 8410's example Ed25519 private key.
const ed25519PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n"

func TestSettingsFormsValidate(t *testing.T) {
	_, pemKey := newAppleKey(t)
	isAuth := func(n string) bool { return n == "users" }

	tests := []struct {
		name     string
		validate func() error
		want     map[string]string
	}{
		{
			name:     "apple empty",
			validate: (&core.AppleClientSecretForm{}).Validate,
			want: map[string]string{
				"clientId":   "validation_required: cannot be blank",
				"teamId":     "validation_required: cannot be blank",
				"keyId":      "validation_required: cannot be blank",
				"privateKey": "validation_required: cannot be blank",
				"duration":   "validation_required: cannot be blank",
			},
		},
		{
			name: "apple invalid",
			validate: (&core.AppleClientSecretForm{
				ClientID: "c", TeamID: "short", KeyID: "12345678901", Duration: 15777001,
				PrivateKey: "-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY-----",
			}).Validate,
			want: map[string]string{
				"teamId":     `validation_length_invalid {"max":10,"min":10}: the length must be exactly 10`,
				"keyId":      `validation_length_invalid {"max":10,"min":10}: the length must be exactly 10`,
				"privateKey": "validation_match_invalid: must be in a valid format",
				"duration":   `validation_max_less_equal_than_required {"threshold":15777000}: must be no greater than 15777000`,
			},
		},
		{
			name:     "apple negative duration",
			validate: (&core.AppleClientSecretForm{ClientID: "c", TeamID: "0123456789", KeyID: "0123456789", PrivateKey: pemKey, Duration: -5}).Validate,
			want:     map[string]string{"duration": `validation_min_greater_equal_than_required {"threshold":1}: must be no less than 1`},
		},
		{
			name:     "test email empty",
			validate: func() error { return (&core.TestEmailForm{}).Validate(isAuth) },
			want: map[string]string{
				"email":    "validation_required: cannot be blank",
				"template": "validation_required: cannot be blank",
			},
		},
		{
			name: "test email invalid",
			validate: func() error {
				return (&core.TestEmailForm{Email: "nope", Template: "welcome", Collection: "posts"}).Validate(isAuth)
			},
			want: map[string]string{
				"collection": "validation_invalid_auth_collection: Must be a valid auth collection id or name.",
				"email":      "validation_is_email: must be a valid email address",
				"template":   "validation_in_invalid: must be a valid value",
			},
		},
		{
			name: "test email valid",
			validate: func() error {
				return (&core.TestEmailForm{Email: "a@b.co", Template: "login-alert", Collection: "users"}).Validate(isAuth)
			},
			want: map[string]string{},
		},
		{
			name:     "test s3",
			validate: (&core.TestS3Form{Filesystem: "files"}).Validate,
			want:     map[string]string{"filesystem": "validation_in_invalid: must be a valid value"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, flattenErrors(t, tc.validate())); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSettingsJSONKeys checks that every settings field is in the API JSON, so that a
// field added to the structs without a tag cannot slip through.
func TestSettingsJSONKeys(t *testing.T) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(apitest.PocketBaseFreshSettingsJSON), &top); err != nil {
		t.Fatal(err)
	}
	want := []string{"backups", "batch", "logs", "meta", "rateLimits", "s3", "smtp", "superuserIPs", "trustedProxy"}
	if got := slices.Sorted(maps.Keys(top)); !slices.Equal(got, want) {
		t.Errorf("top-level keys = %v, want %v", got, want)
	}
}

func TestDecodeFormJSONMapsAndAny(t *testing.T) {
	type form struct {
		Data  map[string]any   `json:"data"`
		List  []map[string]any `json:"list"`
		Ratio float64          `json:"ratio"`
	}

	got := form{Data: map[string]any{"kept": true}}
	body := `{"data":{"n":1,"o":{"a":[1,"x",null]}},"list":[{"b":2},null],"RATIO":0.5}`
	if err := core.DecodeFormJSON([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := form{
		// as json/v2, a map that is already there is merged into
		Data:  map[string]any{"kept": true, "n": 1.0, "o": map[string]any{"a": []any{1.0, "x", nil}}},
		List:  []map[string]any{{"b": 2.0}, nil},
		Ratio: 0.5,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}

	for _, bad := range []string{`{"data":[]}`, `{"data":{"a":1,"a":2}}`, `{"ratio":"1"}`, `{"list":[1]}`} {
		if err := core.DecodeFormJSON([]byte(bad), &form{}); err == nil {
			t.Errorf("DecodeFormJSON(%s) succeeded, want an error", bad)
		}
	}
}

func TestDecodeFormValuesFormTags(t *testing.T) {
	var got struct {
		// PocketBase binds form values by the form tag, a json:"-" field included
		User  string `json:"-" form:"user"`
		State string `json:"state"`
		Named string `json:"named" form:"other"`
		Skip  string `json:"skip" form:"-"`
	}
	err := core.DecodeFormValues(map[string][]string{
		"user": {"u"}, "state": {"s"}, "named": {"by json"}, "other": {"o"}, "skip": {"x"},
	}, &got)
	if err != nil {
		t.Fatal(err)
	}
	if got.User != "u" || got.State != "s" || got.Named != "o" || got.Skip != "" {
		t.Errorf("form = %+v", got)
	}
}
