package core

import (
	"strings"
	"testing"
)

// PocketBase's own vectors (tools/security encrypt_test.go TestDecrypt).
func TestDecryptSettingsValuePocketBaseVectors(t *testing.T) {
	const key = "abcdabcdabcdabcdabcdabcdabcdabcd"
	tests := []struct {
		value, key string
		want       string
		wantErr    bool
	}{
		{value: "", key: "", wantErr: true},
		{value: "123", key: "test", wantErr: true},
		{value: "8kcEqilvvYKYcfnSr0aSC54gmnQCsB02SaB8ATlnA==", key: key, wantErr: true}, // bad base64
		{value: "8kcEqilvv+YKYcfnSr0aSC54gmnQCsB02SaB8ATlnA==", key: key, want: "123"},
		{value: "AAAA", key: key, wantErr: true}, // shorter than a nonce: PocketBase panics here
	}
	for _, tc := range tests {
		got, err := decryptSettingsValue(tc.value, tc.key)
		if (err != nil) != tc.wantErr || string(got) != tc.want {
			t.Errorf("decryptSettingsValue(%q, %q) = %q, %v; want %q, error %v", tc.value, tc.key, got, err, tc.want, tc.wantErr)
		}
	}

	for _, k := range []string{key, key[:16], key[:24]} {
		enc, err := encryptSettingsValue([]byte("data"), k)
		if err != nil {
			t.Fatal(err)
		}
		again, err := encryptSettingsValue([]byte("data"), k)
		if err != nil {
			t.Fatal(err)
		}
		if enc == again {
			t.Error("two encryptions are equal: the nonce is not random")
		}
		if got, err := decryptSettingsValue(enc, k); err != nil || string(got) != "data" {
			t.Errorf("round trip with a %d-byte key = %q, %v", len(k), got, err)
		}
	}
	if _, err := encryptSettingsValue([]byte("data"), "short"); err == nil {
		t.Error("encrypting with a 5-byte key succeeded")
	}
}

// The expectations are PocketBase's tools/cron NewSchedule's, messages included.
func TestParseCronSchedule(t *testing.T) {
	tests := []struct {
		expr    string
		wantErr string
	}{
		{expr: "* * * * *"},
		{expr: "@yearly"},
		{expr: "@hourly"},
		{expr: "*/5 1-23/2 1,15,31 */12 0-6"},
		{expr: "59 23 31 12 6"},
		{expr: "5/1 * * * *"}, // a step of 1 is allowed after a single value
		{expr: "", wantErr: "invalid cron expression - must be a valid macro or to have exactly 5 space separated segments"},
		{expr: "@every 5m", wantErr: "invalid cron expression - must be a valid macro or to have exactly 5 space separated segments"},
		{expr: "*  * * * *", wantErr: "invalid cron expression - must be a valid macro or to have exactly 5 space separated segments"},
		{expr: "x * * * *", wantErr: `strconv.Atoi: parsing "x": invalid syntax`},
		{expr: "60 * * * *", wantErr: "invalid segment value - must be between the min and max of the segment"},
		{expr: "* * 0 * *", wantErr: "invalid segment value - must be between the min and max of the segment"},
		{expr: "*/0 * * * *", wantErr: "invalid segment step boundary - the step must be between 1 and the 59"},
		{expr: "* */24 * * *", wantErr: "invalid segment step boundary - the step must be between 1 and the 23"},
		{expr: "*/a * * * *", wantErr: `strconv.Atoi: parsing "a": invalid syntax`},
		{expr: "1/2/3 * * * *", wantErr: "invalid segment step format - must be in the format */n or 1-30/n"},
		{expr: "5/2 * * * *", wantErr: "invalid segment step - step > 1 could be used only with the wildcard or range format"},
		{expr: "* * * 0-5 *", wantErr: "invalid segment range minimum - must be between 1 and 12"},
		{expr: "* * * * 3-1", wantErr: "invalid segment range maximum - must be between 3 and 6"},
		{expr: "* * * * 1-2-3", wantErr: "invalid segment range format - the range must have 1 or 2 parts"},
		{expr: "1, * * * *", wantErr: `strconv.Atoi: parsing "": invalid syntax`},
	}
	for _, tc := range tests {
		_, err := parseCronSchedule(tc.expr)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.wantErr {
			t.Errorf("parseCronSchedule(%q) error = %q, want %q", tc.expr, got, tc.wantErr)
		}
	}

	s, err := parseCronSchedule("*/20 0 1-3 * 1,5")
	if err != nil {
		t.Fatal(err)
	}
	want := cronSchedule{minutes: 1 | 1<<20 | 1<<40, hours: 1, days: 0b1110, months: 0b1111111111110, daysOfWeek: 1<<1 | 1<<5}
	if s != want {
		t.Errorf("schedule = %+v, want %+v", s, want)
	}
}

func TestToV2StringEscapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: `{"a":"plain"}`, want: `{"a":"plain"}`},
		{in: `{"a":"\u0008\u000c\u2028\u2029"}`, want: "{\"a\":\"\\b\\f\u2028\u2029\"}"},
		{in: `{"a":"\\u2028"}`, want: `{"a":"\\u2028"}`},       // an escaped backslash, then text
		{in: `{"a":"\u001f\u0008"}`, want: `{"a":"\u001f\b"}`}, // other control characters stay
		{in: `{"\u2028":"\"\u2028"}`, want: "{\"\u2028\":\"\\\"\u2028\"}"},
	}
	for _, tc := range tests {
		if got := string(toV2StringEscapes([]byte(tc.in))); got != tc.want {
			t.Errorf("toV2StringEscapes(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}

	got, err := marshalSettingsJSON(map[string]string{"k": "<&>\b\f\n\u2028"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"k\":\"<&>\\b\\f\\n\u2028\"}"; string(got) != want {
		t.Errorf("marshalSettingsJSON = %s, want %s", got, want)
	}
}

// The expectations are govalidator's (ozzo's is.URL, is.Host and is.HexColor).
func TestGovalidatorRules(t *testing.T) {
	urls := map[string]bool{
		"http://localhost:8090":         true,
		"https://example.com/a?b=c#d":   true,
		"example.com":                   true,
		"localhost:8090":                true,
		"http://127.0.0.1":              true,
		"http://[::1]:8090":             true,
		"ftp://files.example.com":       true,
		"http://user:pass@example.com/": true,
		"https://ex_ample.com":          true,
		"":                              false,
		"abc":                           false,
		"not a url":                     false,
		".example.com":                  false,
		"http://":                       false,
		"mailto:x@example.com":          true, // govalidator's quirk
		"localhost":                     false,
		"not-a-url":                     false,
		"::nope":                        false,
		"http://exa mple.com":           false,
		"http://" + strings.Repeat("a", 2080) + ".com": false,
	}
	for in, want := range urls {
		if got := govalidatorIsURL(in); got != want {
			t.Errorf("govalidatorIsURL(%q) = %v, want %v", in, got, want)
		}
	}

	hosts := map[string]bool{
		"smtp.example.com":         true,
		"localhost":                true,
		"127.0.0.1":                true,
		"::1":                      true,
		"under_score.example.com.": true,
		"a b":                      false,
		"-leading.example.com":     false,
		"example.com:25":           false,
		"":                         false,
	}
	for in, want := range hosts {
		if got := govalidatorIsHost(in); got != want {
			t.Errorf("govalidatorIsHost(%q) = %v, want %v", in, got, want)
		}
	}

	colors := map[string]bool{"#1055c9": true, "1055c9": true, "#abc": true, "#ABCDEF": true, "#abcd": false, "#12345g": false, "": false}
	for in, want := range colors {
		if got := govalidatorIsHexcolor(in); got != want {
			t.Errorf("govalidatorIsHexcolor(%q) = %v, want %v", in, got, want)
		}
	}
}
