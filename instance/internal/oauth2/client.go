package oauth2

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// ErrUnknownProvider is returned for a provider name PocketBase does not register.
var ErrUnknownProvider = errors.New("oauth2: unknown provider")

// maxUserInfoSize bounds a provider's user info response.
const maxUserInfoSize = 1 << 20

// Config is a collection's configuration of one provider: any non-empty value (and a
// non-nil PKCE) overrides the provider's default, as PocketBase's InitProvider does.
type Config struct {
	Name         string
	ClientID     string
	ClientSecret string
	AuthURL      string
	TokenURL     string
	UserInfoURL  string
	DisplayName  string
	PKCE         *bool
	Extra        map[string]any
}

// Client is one configured provider, ready to run the code flow.
type Client struct {
	spec         spec
	clientID     string
	clientSecret string
	authURL      string
	tokenURL     string
	userInfoURL  string
	displayName  string
	pkce         bool
	scopes       []string
	extra        map[string]any
	// HTTPClient sends the token and user info requests; nil is http.DefaultClient.
	HTTPClient *http.Client
}

// Exists reports whether name is a provider PocketBase registers.
func Exists(name string) bool {
	_, ok := specs[name]
	return ok
}

// New returns the client of the named provider with cfg applied.
func New(cfg Config) (*Client, error) {
	s, ok := specs[cfg.Name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownProvider, cfg.Name)
	}

	c := &Client{
		spec:         s,
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		authURL:      cmpOr(cfg.AuthURL, s.authURL),
		tokenURL:     cmpOr(cfg.TokenURL, s.tokenURL),
		userInfoURL:  cmpOr(cfg.UserInfoURL, s.userInfoURL),
		displayName:  cmpOr(cfg.DisplayName, s.displayName),
		pkce:         s.pkce,
		scopes:       s.scopes,
		extra:        cfg.Extra,
	}
	if cfg.PKCE != nil {
		c.pkce = *cfg.PKCE
	}
	if s.name == NameMicrosoft && c.microsoftEmailClaim() != "" && !slices.Contains(c.scopes, "openid") {
		// the email then comes from the id_token, which needs the openid scope
		c.scopes = append(slices.Clone(c.scopes), "openid")
	}

	return c, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}

	return b
}

// Name is the provider's name.
func (c *Client) Name() string { return c.spec.name }

// DisplayName is the configured display name, else the provider's.
func (c *Client) DisplayName() string { return c.displayName }

// Logo is the provider's inline SVG logo.
func (c *Client) Logo() string { return c.spec.logo }

// Order is the provider's sort position in PocketBase's lists.
func (c *Client) Order() int { return c.spec.order }

// PKCE reports whether the flow uses PKCE.
func (c *Client) PKCE() bool { return c.pkce }

func (c *Client) config(redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.clientID,
		ClientSecret: c.clientSecret,
		RedirectURL:  redirectURL,
		Scopes:       c.scopes,
		Endpoint:     oauth2.Endpoint{AuthURL: c.authURL, TokenURL: c.tokenURL},
	}
}

func (c *Client) context(ctx context.Context) context.Context {
	if c.HTTPClient != nil {
		return context.WithValue(ctx, oauth2.HTTPClient, c.HTTPClient)
	}

	return ctx
}

// AuthCodeURL is the consent page URL as PocketBase's auth-methods builds it: the
// provider's auth URL with response_type, client_id, scope and state, the PKCE
// challenge when PKCE is on, Apple's form_post response mode, and an empty trailing
// redirect_uri for the client to complete.
func (c *Client) AuthCodeURL(state, codeChallenge string) string {
	var opts []oauth2.AuthCodeOption
	if c.spec.name == NameApple {
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", "form_post"))
	}
	if c.pkce {
		opts = append(opts,
			oauth2.SetAuthURLParam("code_challenge", codeChallenge),
			oauth2.SetAuthURLParam("code_challenge_method", "S256"))
	}

	return c.config("").AuthCodeURL(state, opts...) + "&redirect_uri="
}

// S256Challenge is the PKCE S256 code challenge of verifier: unpadded base64url of its
// SHA-256.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Exchange trades an authorization code for the provider's token; the verifier is sent
// only when the flow uses PKCE.
func (c *Client) Exchange(ctx context.Context, code, codeVerifier, redirectURL string) (*oauth2.Token, error) {
	var opts []oauth2.AuthCodeOption
	if c.pkce {
		opts = append(opts, oauth2.SetAuthURLParam("code_verifier", codeVerifier))
	}

	return c.config(redirectURL).Exchange(c.context(ctx), code, opts...)
}

// User is a provider's user normalised as PocketBase's AuthUser. Email is only set when
// the provider vouches that it is verified.
type User struct {
	ID           string
	Name         string
	Username     string
	Email        string
	AvatarURL    string
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
	RawUser      map[string]any
}

// FetchUser reads the user info the token grants access to (or, for Apple and an OIDC
// provider without a user info URL, the id_token claims) and normalises it.
func (c *Client) FetchUser(ctx context.Context, token *oauth2.Token) (*User, error) {
	raw, err := c.rawUser(ctx, token)
	if err != nil {
		return nil, err
	}

	m := c.spec.user
	u := &User{
		ID:           lookupString(raw, m.ID),
		Name:         lookupString(raw, m.Name),
		Username:     lookupString(raw, m.Username),
		AvatarURL:    lookupString(raw, m.AvatarURL),
		AccessToken:  token.AccessToken,
		RefreshToken: token.RefreshToken,
		Expiry:       token.Expiry,
		RawUser:      raw,
	}
	if m.EmailVerified == "" || truthy(lookup(raw, m.EmailVerified)) {
		u.Email = lookupString(raw, m.Email)
	}
	switch c.spec.name {
	case NameVK:
		if email, ok := token.Extra("email").(string); ok {
			u.Email = email
		}
	case NameMicrosoft:
		if mode := c.microsoftEmailClaim(); mode != "" {
			u.Email = microsoftIDTokenEmail(token, mode)
		}
	case NameInstagram:
		// the granted permissions join the raw user
		if _, ok := raw["permissions"]; !ok {
			if permissions := token.Extra("permissions"); permissions != nil {
				raw["permissions"] = permissions
			}
		}
	}
	if c.spec.fixUser != nil {
		if err := c.spec.fixUser(u, raw); err != nil {
			return nil, err
		}
	}
	if u.Email == "" && c.spec.emails.pick != nil {
		if u.Email, err = c.primaryEmail(ctx, token); err != nil {
			return nil, err
		}
	}

	return u, nil
}

func (c *Client) rawUser(ctx context.Context, token *oauth2.Token) (map[string]any, error) {
	if c.spec.name == NameApple || (strings.HasPrefix(c.spec.name, NameOIDC) && c.userInfoURL == "") {
		return c.idTokenClaims(ctx, token)
	}

	var body io.Reader
	method := http.MethodGet
	if c.spec.query != "" {
		method = http.MethodPost
		q, err := json.Marshal(map[string]string{"query": c.spec.query})
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(q)
	}

	data, status, err := c.get(ctx, token, method, c.userInfoURL, body)
	if err != nil {
		return nil, err
	}
	if status >= 400 {
		return nil, fmt.Errorf("failed to fetch OAuth2 user profile via %s (%d):\n%s", c.userInfoURL, status, data)
	}

	return decodeObject(data)
}

// decodeObject decodes a JSON object keeping numbers exact (provider ids can exceed
// float64 precision).
func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	raw := map[string]any{}
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}

	return raw, nil
}

// get sends an authorized request and returns the (size-limited) body and status.
func (c *Client) get(ctx context.Context, token *oauth2.Token, method, url string, body io.Reader) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.spec.headers != nil {
		for k, v := range c.spec.headers(c.clientID) {
			req.Header.Set(k, v)
		}
	}

	res, err := c.config("").Client(c.context(ctx), token).Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = res.Body.Close() }()

	data, err := io.ReadAll(io.LimitReader(res.Body, maxUserInfoSize))
	if err != nil {
		return nil, 0, err
	}

	return data, res.StatusCode, nil
}

// primaryEmail reads the verified primary email from the provider's email list; a
// denied list (scope not granted) is no email, not an error.
func (c *Client) primaryEmail(ctx context.Context, token *oauth2.Token) (string, error) {
	url := c.spec.emails.url
	if url == "" {
		url = c.userInfoURL + "/emails"
	}
	data, status, err := c.get(ctx, token, http.MethodGet, url, nil)
	if err != nil || status >= 400 {
		return "", err
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return "", err
	}
	list := doc
	if e := c.spec.emails; e.list != "" {
		obj, _ := doc.(map[string]any)
		list = lookup(obj, e.list)
	}
	items, _ := list.([]any)
	for _, item := range items {
		entry, _ := item.(map[string]any)
		if entry != nil && c.spec.emails.pick(entry) {
			return lookupString(entry, "email"), nil
		}
	}

	return "", nil
}

// lookup follows a dotted path through JSON objects and arrays; "" and a missing step
// give nil.
func lookup(raw map[string]any, path string) any {
	if path == "" {
		return nil
	}

	var cur any = raw
	for part := range strings.SplitSeq(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}

	return cur
}

// lookupString is lookup as a string: numbers in their integer or shortest form
// (provider ids are often numbers), other non-strings "".
func lookupString(raw map[string]any, path string) string {
	switch v := lookup(raw, path).(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	default:
		return ""
	}
}

// truthy is a loose boolean as PocketBase's cast.ToBool reads email_verified claims
// (a bool, or a string or number meaning true).
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		b, err := strconv.ParseBool(v)
		return err == nil && b
	case float64:
		return v != 0
	case json.Number:
		f, err := v.Float64()
		return err == nil && f != 0
	default:
		return false
	}
}

// requireEqual rejects a user whose raw info does not hold want at path (an inactive
// or suspended account).
func requireEqual(path string, want any) func(*User, map[string]any) error {
	return func(_ *User, raw map[string]any) error {
		if got := lookup(raw, path); got != want {
			return fmt.Errorf("the OAuth2 user account is not active (%s: %v)", path, got)
		}

		return nil
	}
}

// joinName sets the name from a first and last name path.
func joinName(first, last string) func(*User, map[string]any) error {
	return func(u *User, raw map[string]any) error {
		u.Name = strings.TrimSpace(lookupString(raw, first) + " " + lookupString(raw, last))
		return nil
	}
}

// cutAt splits an email-like username at its "@".
func cutAt(s string) (string, string, bool) {
	return strings.Cut(s, "@")
}

// Names lists the registered provider names in PocketBase's order (by sort position,
// then name).
func Names() []string {
	names := make([]string, 0, len(specs))
	for name := range specs {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if d := specs[a].order - specs[b].order; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})

	return names
}

// Info is a provider's public description, as the dashboard lists providers.
type Info struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Logo        string `json:"logo"`
}

// List describes every registered provider in PocketBase's order (Names).
func List() []Info {
	names := Names()
	out := make([]Info, len(names))
	for i, name := range names {
		s := specs[name]
		out[i] = Info{Name: name, DisplayName: s.displayName, Logo: s.logo}
	}

	return out
}
