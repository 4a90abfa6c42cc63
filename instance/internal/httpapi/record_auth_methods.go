package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// authMethodsPassword is the password entry of auth-methods.
type authMethodsPassword struct {
	IdentityFields []string `json:"identityFields"`
	Enabled        bool     `json:"enabled"`
}

// authMethodsOAuth2 is the oauth2 entry of auth-methods.
type authMethodsOAuth2 struct {
	Providers []authMethodsProvider `json:"providers"`
	Enabled   bool                  `json:"enabled"`
}

// authMethodsDuration is the mfa and otp entry of auth-methods.
type authMethodsDuration struct {
	Enabled  bool  `json:"enabled"`
	Duration int64 `json:"duration"`
}

// authMethodsResponse is the body of auth-methods, keys in PocketBase's struct order
// (apis/record_auth_methods.go); the last three are its legacy (pre-v0.23) keys.
type authMethodsResponse struct {
	Password authMethodsPassword `json:"password"`
	OAuth2   authMethodsOAuth2   `json:"oauth2"`
	MFA      authMethodsDuration `json:"mfa"`
	OTP      authMethodsDuration `json:"otp"`

	AuthProviders    []authMethodsProvider `json:"authProviders"`
	UsernamePassword bool                  `json:"usernamePassword"`
	EmailPassword    bool                  `json:"emailPassword"`
}

// recordAuthMethods answers GET /api/collections/{collection}/auth-methods: which
// authentication methods the auth collection offers. A disabled method keeps its zero
// values (no identity fields, no providers, duration 0).
//
// Each enabled OAuth2 provider comes with a fresh state and PKCE pair (record_auth_oauth2_methods.go).
// v0.40 writes authProviders as [] when OAuth2 is disabled (§10), not null.
func (a *api) recordAuthMethods(c *gin.Context) error {
	collection, err := authCollection(c)
	if err != nil {
		return err
	}
	opts := collection.Auth

	res := authMethodsResponse{
		Password:      authMethodsPassword{IdentityFields: []string{}},
		OAuth2:        authMethodsOAuth2{Providers: []authMethodsProvider{}},
		AuthProviders: []authMethodsProvider{},
	}
	if opts.PasswordAuth.Enabled {
		res.Password.Enabled = true
		res.Password.IdentityFields = append(res.Password.IdentityFields, opts.PasswordAuth.IdentityFields...)
		for _, name := range opts.PasswordAuth.IdentityFields {
			switch name {
			case "email":
				res.EmailPassword = true
			case "username":
				res.UsernamePassword = true
			}
		}
	}
	if opts.OAuth2.Enabled {
		providers, err := a.authMethodsProviders(c, opts.OAuth2.Providers)
		if err != nil {
			return err
		}
		res.OAuth2 = authMethodsOAuth2{Providers: providers, Enabled: true}
		res.AuthProviders = legacyAuthProviders(providers)
	}
	if opts.MFA.Enabled {
		res.MFA = authMethodsDuration{Enabled: true, Duration: opts.MFA.Duration}
	}
	if opts.OTP.Enabled {
		res.OTP = authMethodsDuration{Enabled: true, Duration: opts.OTP.Duration}
	}

	return writeJSON(c, http.StatusOK, res)
}
