package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/oauth2"
	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// Lengths of the random values auth-methods hands out per provider.
const (
	oauth2StateLength        = 30
	oauth2CodeVerifierLength = 43
)

// authMethodsProvider is one OAuth2 provider of auth-methods, keys in PocketBase's
// order; authUrl is the pre-v0.23 spelling of authURL. The PKCE values are "" for a
// provider without PKCE.
type authMethodsProvider struct {
	Name                string `json:"name"`
	DisplayName         string `json:"displayName"`
	Logo                string `json:"logo"`
	State               string `json:"state"`
	AuthURL             string `json:"authURL"`
	AuthURLLegacy       string `json:"authUrl"`
	CodeVerifier        string `json:"codeVerifier"`
	CodeChallenge       string `json:"codeChallenge"`
	CodeChallengeMethod string `json:"codeChallengeMethod"`
}

// newOAuth2Client returns the client of a collection's provider configuration.
func newOAuth2Client(p core.OAuth2ProviderConfig) (*oauth2.Client, error) {
	return oauth2.New(oauth2.Config{
		Name:         p.Name,
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		AuthURL:      p.AuthURL,
		TokenURL:     p.TokenURL,
		UserInfoURL:  p.UserInfoURL,
		DisplayName:  p.DisplayName,
		PKCE:         p.PKCE,
		Extra:        p.Extra,
	})
}

// authMethodsProviders lists the configured providers in configuration order, each
// with a new random state, a PKCE verifier and S256 challenge when the provider uses
// PKCE, and the consent URL built from them (apis/record_auth_methods.go). A provider
// that cannot be set up is left out, as PocketBase does.
func (a *api) authMethodsProviders(c *gin.Context, configs []core.OAuth2ProviderConfig) ([]authMethodsProvider, error) {
	out := make([]authMethodsProvider, 0, len(configs))
	for _, cfg := range configs {
		client, err := newOAuth2Client(cfg)
		if err != nil {
			a.app.Logger().LogAttrs(c.Request.Context(), slog.LevelDebug, "Failed to setup OAuth2 provider",
				slog.String("name", cfg.Name), slog.String("error", err.Error()))
			continue
		}

		info := authMethodsProvider{Name: cfg.Name, DisplayName: client.DisplayName(), Logo: client.Logo()}
		if info.DisplayName == "" {
			info.DisplayName = cfg.Name
		}
		if info.State, err = security.RandomString(oauth2StateLength); err != nil {
			return nil, NewInternalServerError("", err)
		}
		if client.PKCE() {
			if info.CodeVerifier, err = security.RandomString(oauth2CodeVerifierLength); err != nil {
				return nil, NewInternalServerError("", err)
			}
			info.CodeChallenge = oauth2.S256Challenge(info.CodeVerifier)
			info.CodeChallengeMethod = "S256"
		}
		info.AuthURL = client.AuthCodeURL(info.State, info.CodeChallenge)
		info.AuthURLLegacy = info.AuthURL

		out = append(out, info)
	}

	return out, nil
}

// legacyAuthProviders is the pre-v0.23 authProviders list: the same providers without
// their logos.
func legacyAuthProviders(providers []authMethodsProvider) []authMethodsProvider {
	out := make([]authMethodsProvider, len(providers))
	for i, p := range providers {
		p.Logo = ""
		out[i] = p
	}

	return out
}

// collectionOAuth2Providers is GET /api/collections/meta/oauth2-providers (v0.37+,
// experimental in PocketBase): every provider the instance knows, by sort order then
// name.
func (a *api) collectionOAuth2Providers(c *gin.Context) error {
	return writeJSON(c, http.StatusOK, oauth2.List())
}
