package httpapi_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// BenchmarkAuthMethodsOAuth2 measures auth-methods without OAuth2 and with three
// providers, each getting a fresh state, PKCE verifier and consent URL per request.
// Compare the ratio; there is no timed assertion.
func BenchmarkAuthMethodsOAuth2(b *testing.B) {
	srv, app := benchServer(b)
	get := func(b *testing.B) {
		res, err := http.Get(srv.URL + "/api/collections/users/auth-methods")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status = %d", res.StatusCode)
		}
	}

	b.Run("no-oauth2", func(b *testing.B) {
		for b.Loop() {
			get(b)
		}
	})

	users, err := app.FindCollectionByNameOrID(b.Context(), "users")
	if err != nil {
		b.Fatal(err)
	}
	users.Auth.OAuth2.Enabled = true
	for _, name := range []string{"google", "github", "oidc"} {
		users.Auth.OAuth2.Providers = append(users.Auth.OAuth2.Providers, core.OAuth2ProviderConfig{
			Name: name, ClientID: "id", ClientSecret: "secret", AuthURL: "https://op.example.com/authorize",
		})
	}
	if err := app.SaveCollection(b.Context(), users); err != nil {
		b.Fatal(err)
	}
	b.Run("three-providers", func(b *testing.B) {
		for b.Loop() {
			get(b)
		}
	})
}
