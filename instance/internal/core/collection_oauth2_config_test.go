package core_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// TestOAuth2ConfigUnmarshalMergesProvidersByName checks PocketBase's binding of
// oauth2.providers: the list is replaced, a provider keeps what is not sent (clientSecret)
// only when one of the same name was stored, and a new name starts blank.
func TestOAuth2ConfigUnmarshalMergesProvidersByName(t *testing.T) {
	pkce := true
	c := core.OAuth2Config{
		Enabled:      true,
		MappedFields: core.OAuth2MappedFields{Name: "name", AvatarURL: "avatar"},
		Providers: []core.OAuth2ProviderConfig{
			{Name: "google", ClientID: "gid", ClientSecret: "gsecret", DisplayName: "G", PKCE: &pkce, Extra: map[string]any{"a": 1.0}},
			{Name: "github", ClientID: "hid", ClientSecret: "hsecret"},
		},
	}
	body := `{"mappedFields":{"name":"username"},"providers":[{"name":"oidc","clientId":"oid"},{"name":"google","clientId":"gid2","extra":{"b":2}}]}`
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}

	want := core.OAuth2Config{
		Enabled:      true,
		MappedFields: core.OAuth2MappedFields{Name: "username", AvatarURL: "avatar"},
		Providers: []core.OAuth2ProviderConfig{
			{Name: "oidc", ClientID: "oid"},
			{Name: "google", ClientID: "gid2", ClientSecret: "gsecret", DisplayName: "G", PKCE: &pkce, Extra: map[string]any{"a": 1.0, "b": 2.0}},
		},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("merged config differs (-want +got):\n%s", diff)
	}
}
