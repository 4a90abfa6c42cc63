package realtime_test

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/realtime"
)

func withOptions(topic, rawJSON string) string {
	return topic + "?options=" + url.QueryEscape(rawJSON)
}

func TestParseSubscription(t *testing.T) {
	tests := []struct {
		name     string
		topic    string
		wantBase string
		want     realtime.SubscriptionOptions
	}{
		{name: "plain", topic: "demo/*", wantBase: "demo/*"},
		{name: "record", topic: "demo/abc", wantBase: "demo/abc"},
		{
			name:     "SDK options",
			topic:    withOptions("demo/*", `{"query":{"filter":"title='a'","expand":"rel","page":2,"ok":true,"nil":null,"obj":{"a":1}},"headers":{"X-Token":"t","myTestDB":1.5}}`),
			wantBase: "demo/*",
			want: realtime.SubscriptionOptions{
				Query:   map[string]string{"filter": "title='a'", "expand": "rel", "page": "2", "ok": "true", "nil": "", "obj": ""},
				Headers: map[string]string{"x_token": "t", "my_test_db": "1.5"},
			},
		},
		{name: "invalid options JSON", topic: "demo/*?options=%7Bnope", wantBase: "demo/*"},
		{
			name: "keys match exactly, as PocketBase's json/v2", topic: withOptions("d", `{"Query":{"a":"1"},"headers":{"X-A":"2"}}`), wantBase: "d",
			want: realtime.SubscriptionOptions{Headers: map[string]string{"x_a": "2"}},
		},
		{
			name: "a query of the wrong type is left out", topic: withOptions("d", `{"query":"x","headers":{"X-A":"2"}}`), wantBase: "d",
			want: realtime.SubscriptionOptions{Headers: map[string]string{"x_a": "2"}},
		},
		{name: "other query", topic: "demo?foo=bar", wantBase: "demo"},
		{name: "invalid URL escape", topic: "demo/*?options=%zz", wantBase: "demo/*"},
		{name: "empty query and headers", topic: withOptions("demo", `{"query":{},"headers":{}}`), wantBase: "demo"},
		{name: "large number", topic: withOptions("d", `{"query":{"n":1e21}}`), wantBase: "d", want: realtime.SubscriptionOptions{Query: map[string]string{"n": "1000000000000000000000"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := realtime.ParseSubscription(tc.topic)
			if got.Topic != tc.topic {
				t.Errorf("Topic = %q, want %q", got.Topic, tc.topic)
			}
			if got.Base() != tc.wantBase {
				t.Errorf("Base() = %q, want %q", got.Base(), tc.wantBase)
			}
			if diff := cmp.Diff(tc.want, got.Options); diff != "" {
				t.Errorf("Options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSnakecase(t *testing.T) {
	tests := map[string]string{
		"":              "",
		"X-Token":       "x_token",
		"x_token":       "x_token",
		"myTestDB":      "my_test_db",
		"ABC":           "abc",
		"Content-Type":  "content_type",
		"--a--b__c  d ": "a_b_c_d",
		"héllo":         "h_llo",
		"abcDEFghi":     "abc_defghi",
		"X-FOO-bar":     "x_foo_bar",
	}
	for in, want := range tests {
		if got := realtime.Snakecase(in); got != want {
			t.Errorf("Snakecase(%q) = %q, want %q", in, got, want)
		}
	}
}
