package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
	"github.com/pocketfleet/pocketfleet/instance/internal/oauth2/oauth2test"
)

// oauth2Env is an instance and a real OpenID Provider on loopback, the users
// collection signing in through the generic "oidc" provider configured to it.
type oauth2Env struct {
	app *core.App
	srv *httptest.Server
	op  *oauth2test.OP
}

func newOAuth2Env(t *testing.T) *oauth2Env {
	t.Helper()
	app := fixtureApp(t)
	srv := httptest.NewServer(httpapi.NewRouter(app))
	t.Cleanup(srv.Close)

	op, err := oauth2test.Start(srv.URL + "/api/oauth2-redirect")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Close() })

	env := &oauth2Env{app: app, srv: srv, op: op}
	env.configure(t, func(p *core.OAuth2ProviderConfig) {})

	return env
}

// configure enables OAuth2 on users with the oidc provider pointed at the OP, edited by edit.
func (e *oauth2Env) configure(t *testing.T, edit func(*core.OAuth2ProviderConfig)) {
	t.Helper()
	users, err := e.app.FindCollectionByNameOrID(t.Context(), "users")
	if err != nil {
		t.Fatal(err)
	}
	p := core.OAuth2ProviderConfig{
		Name: "oidc", ClientID: oauth2test.ClientID, ClientSecret: oauth2test.ClientSecret,
		AuthURL: e.op.AuthURL(), TokenURL: e.op.TokenURL(), UserInfoURL: e.op.UserInfoURL(),
		DisplayName: "Loopback OP",
	}
	edit(&p)
	p2 := p
	p2.Name = "oidc2"
	users.Auth.OAuth2.Enabled = true
	users.Auth.OAuth2.Providers = []core.OAuth2ProviderConfig{p, p2}
	if err := e.app.SaveCollection(t.Context(), users); err != nil {
		t.Fatal(err)
	}
}

// authProvider is the oidc entry of auth-methods.
type authProvider struct {
	Name, DisplayName, State, AuthURL, CodeVerifier, CodeChallenge, CodeChallengeMethod string
}

func (e *oauth2Env) authMethodsProvider(t *testing.T) authProvider {
	t.Helper()
	return e.authMethodsProviderNamed(t, "oidc")
}

func (e *oauth2Env) authMethodsProviderNamed(t *testing.T, name string) authProvider {
	t.Helper()
	res, err := http.Get(e.srv.URL + "/api/collections/users/auth-methods")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		OAuth2 struct {
			Providers []authProvider `json:"providers"`
		} `json:"oauth2"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || len(body.OAuth2.Providers) != 2 {
		t.Fatalf("auth-methods providers: %+v (%v)", body, err)
	}
	for _, p := range body.OAuth2.Providers {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no provider %s", name)

	return authProvider{}
}

// authorize runs the browser part against the OP as user: the consent URL with our
// redirect URL appended, the auto-approving login, and returns the code the OP
// redirects back with (after checking the state).
func (e *oauth2Env) authorize(t *testing.T, p authProvider, userID string) string {
	t.Helper()
	e.op.LoginAs(userID)
	redirect := e.srv.URL + "/api/oauth2-redirect"
	client := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := client.Get(p.AuthURL + url.QueryEscape(redirect))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %s (%v)", res.StatusCode, res.Header.Get("Location"), err)
	}
	if got := loc.Query().Get("state"); got != p.State {
		t.Fatalf("state = %q, want %q", got, p.State)
	}

	return loc.Query().Get("code")
}

type oauth2AuthResponse struct {
	Meta struct {
		ID, Name, Username, Email, AvatarURL, AccessToken, Expiry string
		IsNew                                                     bool
		RawUser                                                   map[string]any
	} `json:"meta"`
	Record map[string]any `json:"record"`
	Token  string         `json:"token"`
}

// exchange posts auth-with-oauth2 and returns the status and body.
func (e *oauth2Env) exchange(t *testing.T, body map[string]any, auth string) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+"/api/collections/users/auth-with-oauth2", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var raw json.RawMessage
	_ = json.NewDecoder(res.Body).Decode(&raw)

	return res.StatusCode, raw
}

// login runs the whole code flow as the OP user and decodes a 200 answer.
func (e *oauth2Env) login(t *testing.T, userID string) oauth2AuthResponse {
	t.Helper()
	return e.loginWith(t, "oidc", userID, "")
}

func (e *oauth2Env) loginWith(t *testing.T, provider, userID, auth string) oauth2AuthResponse {
	t.Helper()
	p := e.authMethodsProviderNamed(t, provider)
	code := e.authorize(t, p, userID)
	status, body := e.exchange(t, map[string]any{
		"provider": provider, "code": code, "codeVerifier": p.CodeVerifier, "redirectURL": e.srv.URL + "/api/oauth2-redirect",
	}, auth)
	if status != http.StatusOK {
		t.Fatalf("auth-with-oauth2 = %d %s", status, body)
	}
	var res oauth2AuthResponse
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), `{"meta":{"expiry":`) {
		t.Errorf("body does not start with meta: %.80s", body)
	}

	return res
}

func (e *oauth2Env) externalAuths(t *testing.T, recordID string) []string {
	t.Helper()
	rows, err := e.app.DB().Read().QueryContext(t.Context(),
		"SELECT provider || ':' || providerId FROM _externalAuths WHERE collectionRef = '_pb_users_auth_' AND recordRef = ? ORDER BY providerId", recordID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}

	return out
}

func (e *oauth2Env) passwordLogin(t *testing.T, email, password string) int {
	t.Helper()
	res, err := http.Post(e.srv.URL+"/api/collections/users/auth-with-password", "application/json",
		strings.NewReader(`{"identity":"`+email+`","password":"`+password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	return res.StatusCode
}

func TestRecordAuthWithOAuth2AuthMethods(t *testing.T) {
	e := newOAuth2Env(t)
	p := e.authMethodsProvider(t)

	if p.Name != "oidc" || p.DisplayName != "Loopback OP" || len(p.State) != 30 || len(p.CodeVerifier) != 43 || p.CodeChallengeMethod != "S256" {
		t.Fatalf("provider = %+v", p)
	}
	want := e.op.AuthURL() + "?client_id=pocketfleet&code_challenge=" + p.CodeChallenge +
		"&code_challenge_method=S256&response_type=code&scope=openid+email+profile&state=" + p.State + "&redirect_uri="
	if p.AuthURL != want {
		t.Errorf("authURL = %s\nwant %s", p.AuthURL, want)
	}

	// the raw body: oauth2 providers with logos, the legacy authProviders without
	res, err := http.Get(e.srv.URL + "/api/collections/users/auth-methods")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`"oauth2":{"providers":[{"name":"oidc","displayName":"Loopback OP","logo":"<svg `,
		`"authProviders":[{"name":"oidc","displayName":"Loopback OP","logo":"","state":"`,
		`"codeChallengeMethod":"S256"}],"enabled":true}`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("auth-methods lacks %s:\n%s", want, raw)
		}
	}

	// pkce:false drops the PKCE values and parameters
	off := false
	e.configure(t, func(c *core.OAuth2ProviderConfig) { c.PKCE = &off })
	p = e.authMethodsProvider(t)
	if p.CodeVerifier != "" || p.CodeChallenge != "" || p.CodeChallengeMethod != "" || strings.Contains(p.AuthURL, "code_challenge") {
		t.Errorf("without PKCE: %+v", p)
	}
}

func TestRecordAuthWithOAuth2Flow(t *testing.T) {
	e := newOAuth2Env(t)
	e.op.AddUser(oauth2test.User{ID: "op-carol", Username: "carol", FirstName: "Carol", LastName: "Oidc", Email: "carol@example.com", EmailVerified: true})

	// first login: a new, verified user with the mapped name
	first := e.login(t, "op-carol")
	if !first.Meta.IsNew || first.Meta.ID != "op-carol" || first.Meta.Email != "carol@example.com" || first.Meta.Name != "Carol Oidc" ||
		first.Meta.Username != "carol" || first.Meta.AccessToken == "" || first.Meta.Expiry == "" || first.Meta.RawUser["sub"] != "op-carol" {
		t.Errorf("first meta = %+v", first.Meta)
	}
	carolID, _ := first.Record["id"].(string)
	if first.Record["email"] != "carol@example.com" || first.Record["verified"] != true || first.Record["name"] != "Carol Oidc" || first.Token == "" {
		t.Errorf("first record = %v", first.Record)
	}
	if rec, err := e.app.FindAuthRecordByToken(t.Context(), first.Token, core.TokenTypeAuth); err != nil || rec.ID() != carolID {
		t.Fatalf("token authenticates %v (%v)", rec, err)
	}
	if got := e.externalAuths(t, carolID); len(got) != 1 || got[0] != "oidc:op-carol" {
		t.Errorf("external auths = %v", got)
	}

	// second login: the linked record, no new link
	second := e.login(t, "op-carol")
	if second.Meta.IsNew || second.Record["id"] != carolID {
		t.Errorf("second login: isNew %v, record %v", second.Meta.IsNew, second.Record["id"])
	}
	if got := e.externalAuths(t, carolID); len(got) != 1 {
		t.Errorf("external auths after second login = %v", got)
	}

	// a verified account with the same email is linked and keeps its password
	e.op.AddUser(oauth2test.User{ID: "op-alice", Username: "alice", FirstName: "Alice", Email: "alice@example.com", EmailVerified: true})
	alice := e.login(t, "op-alice")
	if alice.Meta.IsNew || alice.Record["id"] != aliceID {
		t.Errorf("alice login: isNew %v, record %v", alice.Meta.IsNew, alice.Record["id"])
	}
	if got := e.passwordLogin(t, "alice@example.com", "alice-pass-123"); got != http.StatusOK {
		t.Errorf("alice's password login after linking = %d", got)
	}

	// the signed-in record of the collection gets the new identity linked (one
	// identity per provider and record: this one comes through oidc2)
	e.op.AddUser(oauth2test.User{ID: "op-erin", Username: "erin", Email: "erin@example.com", EmailVerified: true})
	linked := e.loginWith(t, "oidc2", "op-erin", alice.Token)
	if linked.Meta.IsNew || linked.Record["id"] != aliceID {
		t.Errorf("signed-in link: isNew %v, record %v", linked.Meta.IsNew, linked.Record["id"])
	}
	if got := e.externalAuths(t, aliceID); len(got) != 2 {
		t.Errorf("alice's external auths = %v", got)
	}
}

// TestRecordAuthWithOAuth2PreHijacking: someone registered bob@example.com with a
// password but never verified it. When the real owner signs in with OAuth2, the record
// is handed to them: verified, with a random password (the squatter's password and
// tokens stop working) and only the current OAuth2 link.
func TestRecordAuthWithOAuth2PreHijacking(t *testing.T) {
	e := newOAuth2Env(t)
	if got := e.passwordLogin(t, "bob@example.com", "bob-pass-1234"); got != http.StatusOK {
		t.Fatalf("bob's password login before = %d", got)
	}
	bob, err := e.app.FindRecordByID(t.Context(), "users", bobID)
	if err != nil {
		t.Fatal(err)
	}
	oldToken, err := core.NewAuthToken(bob)
	if err != nil {
		t.Fatal(err)
	}
	// a link the squatter made with another identity while the record was unverified
	if err := e.app.CreateExternalAuth(t.Context(), bob, "oidc2", "squatter"); err != nil {
		t.Fatal(err)
	}

	e.op.AddUser(oauth2test.User{ID: "op-bob", Username: "bob", Email: "bob@example.com", EmailVerified: true})
	res := e.login(t, "op-bob")
	if res.Meta.IsNew || res.Record["id"] != bobID || res.Record["verified"] != true {
		t.Fatalf("bob login: isNew %v, record %v", res.Meta.IsNew, res.Record)
	}
	if got := e.passwordLogin(t, "bob@example.com", "bob-pass-1234"); got != http.StatusBadRequest {
		t.Errorf("squatter's password login after = %d, want 400", got)
	}
	if _, err := e.app.FindAuthRecordByToken(t.Context(), oldToken, core.TokenTypeAuth); err == nil {
		t.Error("the squatter's token still works")
	}
	if got := e.externalAuths(t, bobID); len(got) != 1 || got[0] != "oidc:op-bob" {
		t.Errorf("bob's external auths = %v, want only oidc:op-bob", got)
	}

	// an unverified OAuth2 email never links by email: a new record is attempted with
	// no email, which the required email field refuses
	e.op.AddUser(oauth2test.User{ID: "op-mallory", Username: "mallory", Email: "alice@example.com", EmailVerified: false})
	p := e.authMethodsProvider(t)
	code := e.authorize(t, p, "op-mallory")
	status, body := e.exchange(t, map[string]any{"provider": "oidc", "code": code, "codeVerifier": p.CodeVerifier,
		"redirectURL": e.srv.URL + "/api/oauth2-redirect"}, "")
	if status != http.StatusBadRequest || !strings.Contains(string(body), `"email":{"code":"validation_required"`) {
		t.Errorf("unverified email signup = %d %s", status, body)
	}
	if got := e.externalAuths(t, aliceID); len(got) != 0 {
		t.Errorf("alice got linked through an unverified email: %v", got)
	}
}

func TestRecordAuthWithOAuth2ExchangeErrors(t *testing.T) {
	e := newOAuth2Env(t)
	e.op.AddUser(oauth2test.User{ID: "op-carol", Username: "carol", Email: "carol@example.com", EmailVerified: true})
	redirect := e.srv.URL + "/api/oauth2-redirect"
	tokenFailed := `{"data":{},"message":"Failed to fetch OAuth2 token.","status":400}`

	p := e.authMethodsProvider(t)
	code := e.authorize(t, p, "op-carol")

	// a wrong PKCE verifier: the OP refuses the code
	if status, body := e.exchange(t, map[string]any{"provider": "oidc", "code": code, "codeVerifier": strings.Repeat("x", 43), "redirectURL": redirect}, ""); status != 400 || string(body) != tokenFailed {
		t.Errorf("wrong verifier = %d %s", status, body)
	}
	// an unknown code
	if status, body := e.exchange(t, map[string]any{"provider": "oidc", "code": "not-a-code", "codeVerifier": p.CodeVerifier, "redirectURL": redirect}, ""); status != 400 || string(body) != tokenFailed {
		t.Errorf("bad code = %d %s", status, body)
	}

	// the provider is down
	p = e.authMethodsProvider(t)
	code = e.authorize(t, p, "op-carol")
	if err := e.op.Close(); err != nil {
		t.Fatal(err)
	}
	if status, body := e.exchange(t, map[string]any{"provider": "oidc", "code": code, "codeVerifier": p.CodeVerifier, "redirectURL": redirect}, ""); status != 400 || string(body) != tokenFailed {
		t.Errorf("provider down = %d %s", status, body)
	}
}

func TestRecordAuthWithOAuth2Validation(t *testing.T) {
	json := map[string]string{"Content-Type": "application/json"}
	withOIDC := func(t testing.TB) *core.App {
		app := fixtureApp(t)
		users, err := app.FindCollectionByNameOrID(t.Context(), "users")
		if err != nil {
			t.Fatal(err)
		}
		users.Auth.OAuth2.Enabled = true
		users.Auth.OAuth2.Providers = []core.OAuth2ProviderConfig{{Name: "oidc", ClientID: "id", ClientSecret: "secret",
			AuthURL: "http://127.0.0.1:1/auth", TokenURL: "http://127.0.0.1:1/token", UserInfoURL: "http://127.0.0.1:1/userinfo"}}
		if err := app.SaveCollection(t.Context(), users); err != nil {
			t.Fatal(err)
		}
		return app
	}

	scenarios := []apitest.ApiScenario{
		{
			Name: "OAuth2 disabled", Method: http.MethodPost, URL: "/api/collections/users/auth-with-oauth2",
			Body: strings.NewReader(`{"provider":"oidc","code":"123"}`), Headers: json, TestAppFactory: fixtureApp,
			ExpectedStatus: 403,
			ExpectedBody:   `{"data":{},"message":"The collection is not configured to allow OAuth2 authentication.","status":403}`,
		},
		{
			Name: "not an auth collection", Method: http.MethodPost, URL: "/api/collections/posts/auth-with-oauth2",
			Body: strings.NewReader(`{}`), Headers: json, TestAppFactory: withOIDC,
			ExpectedStatus: 404,
			ExpectedBody:   `{"data":{},"message":"Missing or invalid auth collection context.","status":404}`,
		},
		{
			Name: "invalid body", Method: http.MethodPost, URL: "/api/collections/users/auth-with-oauth2",
			Body: strings.NewReader(`{"provider"`), Headers: json, TestAppFactory: withOIDC,
			ExpectedStatus: 400,
			ExpectedBody:   `{"data":{},"message":"An error occurred while loading the submitted data.","status":400}`,
		},
		{
			Name: "empty body", Method: http.MethodPost, URL: "/api/collections/users/auth-with-oauth2",
			Body: strings.NewReader(`{}`), Headers: json, TestAppFactory: withOIDC,
			ExpectedStatus: 400,
			ExpectedBody: `{"data":{"code":{"code":"validation_required","message":"Cannot be blank."},` +
				`"provider":{"code":"validation_required","message":"Cannot be blank."}},` +
				`"message":"An error occurred while loading the submitted data.","status":400}`,
		},
		{
			Name: "a provider the collection does not enable", Method: http.MethodPost, URL: "/api/collections/users/auth-with-oauth2",
			Body: strings.NewReader(`{"provider":"apple"}`), Headers: json, TestAppFactory: withOIDC,
			ExpectedStatus: 400,
			ExpectedBody: `{"data":{"code":{"code":"validation_required","message":"Cannot be blank."},` +
				`"provider":{"code":"validation_invalid_provider","message":"Provider with name apple is missing or is not enabled.","params":{"name":"apple"}}},` +
				`"message":"An error occurred while loading the submitted data.","status":400}`,
		},
		{
			Name: "a provider name over 100 characters", Method: http.MethodPost, URL: "/api/collections/users/auth-with-oauth2",
			Body: strings.NewReader(`{"provider":"` + strings.Repeat("p", 101) + `","code":"123"}`), Headers: json, TestAppFactory: withOIDC,
			ExpectedStatus: 400,
			ExpectedBody: `{"data":{"provider":{"code":"validation_length_too_long","message":"The length must be no more than 100.","params":{"max":100}}},` +
				`"message":"An error occurred while loading the submitted data.","status":400}`,
		},
		{
			Name: "provider unreachable", Method: http.MethodPost, URL: "/api/collections/users/auth-with-oauth2",
			Body: strings.NewReader(`{"provider":"oidc","code":"123","redirectUrl":"https://example.com"}`), Headers: json, TestAppFactory: withOIDC,
			ExpectedStatus: 400,
			ExpectedBody:   `{"data":{},"message":"Failed to fetch OAuth2 token.","status":400}`,
		},
		{
			Name: "collection validation: unknown provider and bad URL", Method: http.MethodPatch, URL: "/api/collections/users",
			Body:    strings.NewReader(`{"oauth2":{"enabled":true,"providers":[{"name":"nope","clientId":"a","clientSecret":"b","authURL":"not a url"}]}}`),
			Headers: map[string]string{"Content-Type": "application/json", "Authorization": newTokens(t).admin}, TestAppFactory: fixtureApp,
			ExpectedStatus: 400,
			ExpectedContent: []string{
				`"name":{"code":"validation_missing_provider","message":"Invalid or missing provider with name nope.","params":{"name":"nope"}}`,
				`"authURL":{"code":"validation_is_url","message":"Must be a valid URL."}`,
			},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

// exchangeAs runs the code flow as the OP user and returns the raw auth-with-oauth2
// answer; extra keys are added to the body.
func (e *oauth2Env) exchangeAs(t *testing.T, userID, auth string, extra map[string]any) (int, []byte) {
	t.Helper()
	p := e.authMethodsProvider(t)
	body := map[string]any{"provider": "oidc", "code": e.authorize(t, p, userID), "codeVerifier": p.CodeVerifier,
		"redirectURL": e.srv.URL + "/api/oauth2-redirect"}
	for k, v := range extra {
		body[k] = v
	}

	return e.exchange(t, body, auth)
}

func TestRecordAuthWithOAuth2MFA(t *testing.T) {
	e := newOAuth2Env(t)
	users, err := e.app.FindCollectionByNameOrID(t.Context(), "users")
	if err != nil {
		t.Fatal(err)
	}
	users.Auth.MFA.Enabled = true
	if err := e.app.SaveCollection(t.Context(), users); err != nil {
		t.Fatal(err)
	}
	e.op.AddUser(oauth2test.User{ID: "op-alice", Username: "alice", Email: "alice@example.com", EmailVerified: true})

	// OAuth2 as the first factor: 401 with an mfaId
	status, body := e.exchangeAs(t, "op-alice", "", nil)
	var first struct {
		MFAID string `json:"mfaId"`
	}
	if err := json.Unmarshal(body, &first); status != http.StatusUnauthorized || err != nil || len(first.MFAID) != 15 {
		t.Fatalf("first factor = %d %s", status, body)
	}

	// OAuth2 again is the same method
	status, body = e.exchangeAs(t, "op-alice", "", map[string]any{"mfaId": first.MFAID})
	if want := `{"data":{},"message":"A different authentication method is required.","status":400}`; status != 400 || string(body) != want {
		t.Errorf("same method twice = %d %s", status, body)
	}

	// the password completes it
	res, err := http.Post(e.srv.URL+"/api/collections/users/auth-with-password?mfaId="+first.MFAID, "application/json",
		strings.NewReader(`{"identity":"alice@example.com","password":"alice-pass-123"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("second factor = %d", res.StatusCode)
	}
}

// TestRecordAuthWithOAuth2IDToken: a generic OIDC provider without a user info URL reads
// the user from the id_token, checked against extra.issuers and the OP's JWKS.
func TestRecordAuthWithOAuth2IDToken(t *testing.T) {
	e := newOAuth2Env(t)
	e.op.AddUser(oauth2test.User{ID: "op-zoe", Username: "zoe", Email: "zoe@example.com", EmailVerified: true})
	alice, err := e.app.FindRecordByID(t.Context(), "users", aliceID)
	if err != nil {
		t.Fatal(err)
	}
	aliceToken, err := core.NewAuthToken(alice)
	if err != nil {
		t.Fatal(err)
	}

	e.configure(t, func(p *core.OAuth2ProviderConfig) {
		p.UserInfoURL = ""
		p.Extra = map[string]any{"jwksURL": e.op.KeysURL(), "issuers": []any{e.op.URL}}
	})
	res := e.loginWith(t, "oidc", "op-zoe", aliceToken)
	if res.Meta.ID != "op-zoe" || res.Meta.RawUser["iss"] != e.op.URL || res.Record["id"] != aliceID {
		t.Errorf("id_token login: meta %+v, record %v", res.Meta, res.Record["id"])
	}

	userFailed := `{"data":{},"message":"Failed to fetch OAuth2 user.","status":400}`

	// another issuer is refused
	e.configure(t, func(p *core.OAuth2ProviderConfig) {
		p.UserInfoURL = ""
		p.Extra = map[string]any{"issuers": []any{"https://issuer.example.com"}}
	})
	if status, body := e.exchangeAs(t, "op-zoe", aliceToken, nil); status != 400 || string(body) != userFailed {
		t.Errorf("wrong issuer = %d %s", status, body)
	}

	// a signature that another provider's keys do not verify is refused
	other, err := oauth2test.Start("http://127.0.0.1/unused")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	e.configure(t, func(p *core.OAuth2ProviderConfig) {
		p.UserInfoURL = ""
		p.Extra = map[string]any{"jwksURL": other.KeysURL()}
	})
	if status, body := e.exchangeAs(t, "op-zoe", aliceToken, nil); status != 400 || string(body) != userFailed {
		t.Errorf("foreign keys = %d %s", status, body)
	}
}

// TestRecordAuthWithOAuth2MappedFields: createData wins over the mapped fields.
func TestRecordAuthWithOAuth2MappedFields(t *testing.T) {
	e := newOAuth2Env(t)
	users, err := e.app.FindCollectionByNameOrID(t.Context(), "users")
	if err != nil {
		t.Fatal(err)
	}
	users.Auth.OAuth2.MappedFields = core.OAuth2MappedFields{Name: "name"}
	if err := e.app.SaveCollection(t.Context(), users); err != nil {
		t.Fatal(err)
	}
	e.op.AddUser(oauth2test.User{ID: "op-carol", Username: "carol", FirstName: "Carol", LastName: "Oidc", Email: "carol@example.com", EmailVerified: true})

	status, body := e.exchangeAs(t, "op-carol", "", map[string]any{"createData": map[string]any{"name": "Chosen", "emailVisibility": true}})
	if status != 200 || !strings.Contains(string(body), `"name":"Chosen"`) || !strings.Contains(string(body), `"emailVisibility":true`) {
		t.Errorf("createData = %d %s", status, body)
	}
}

func TestCollectionOAuth2Providers(t *testing.T) {
	scenarios := []apitest.ApiScenario{
		{
			Name: "guest", Method: http.MethodGet, URL: "/api/collections/meta/oauth2-providers",
			TestAppFactory: fixtureApp,
			ExpectedStatus: 401,
			ExpectedBody:   `{"data":{},"message":"The request requires valid record authorization token.","status":401}`,
		},
		{
			Name: "superuser", Method: http.MethodGet, URL: "/api/collections/meta/oauth2-providers",
			Headers: map[string]string{"Authorization": newTokens(t).admin}, TestAppFactory: fixtureApp,
			ExpectedStatus: 200,
			ExpectedContent: []string{
				`[{"name":"apple","displayName":"Apple","logo":"<svg `,
				`{"name":"instagram2","displayName":"Instagram","logo":"<svg `,
				`{"name":"planningcenter","displayName":"Planning Center","logo":"<svg `,
				`},{"name":"oidc","displayName":"OIDC","logo":"<svg `,
				`},{"name":"oidc3","displayName":"OIDC","logo":"<svg `,
			},
			AfterTestFunc: func(t testing.TB, _ *core.App, _ *http.Response, body []byte) {
				var list []struct{ Name string }
				if err := json.Unmarshal(body, &list); err != nil || len(list) != 32 || list[31].Name != "oidc3" {
					t.Errorf("providers = %d (%v)", len(list), err)
				}
			},
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}
}

// TestRecordAuthWithOAuth2RequestContext: the authRule and the createRule see
// @request.context "oauth2".
func TestRecordAuthWithOAuth2RequestContext(t *testing.T) {
	e := newOAuth2Env(t)
	users, err := e.app.FindCollectionByNameOrID(t.Context(), "users")
	if err != nil {
		t.Fatal(err)
	}
	rule := `@request.context = "oauth2"`
	users.Auth.AuthRule = &rule
	users.CreateRule = &rule
	if err := e.app.SaveCollection(t.Context(), users); err != nil {
		t.Fatal(err)
	}
	e.op.AddUser(oauth2test.User{ID: "op-carol", Username: "carol", Email: "carol@example.com", EmailVerified: true})

	if res := e.login(t, "op-carol"); !res.Meta.IsNew {
		t.Errorf("signup under the oauth2 rules: %+v", res.Meta)
	}
	if got := e.passwordLogin(t, "alice@example.com", "alice-pass-123"); got != http.StatusForbidden {
		t.Errorf("password login under an oauth2-only authRule = %d, want 403", got)
	}
}

// A link that cannot be stored rolls the whole signup back: no user is left behind
// (PocketBase's oauth2Submit is one transaction).
func TestRecordAuthWithOAuth2SignupRollsBack(t *testing.T) {
	e := newOAuth2Env(t)
	e.op.AddUser(oauth2test.User{ID: "op-carol", Username: "carol", Email: "carol@example.com", EmailVerified: true})
	if _, err := e.app.DB().Write().ExecContext(t.Context(),
		`CREATE TRIGGER no_links BEFORE INSERT ON _externalAuths BEGIN SELECT RAISE(ABORT, 'links refused'); END`); err != nil {
		t.Fatal(err)
	}
	countCarol := func() int {
		var n int
		if err := e.app.DB().Read().QueryRowContext(t.Context(),
			"SELECT COUNT(*) FROM users WHERE email = 'carol@example.com'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	status, body := e.exchangeAs(t, "op-carol", "", nil)
	if status != http.StatusBadRequest || !strings.Contains(string(body), `"message":"Failed to authenticate."`) {
		t.Errorf("signup with a failing link = %d %s", status, body)
	}
	if n := countCarol(); n != 0 {
		t.Errorf("users left by the failed signup = %d, want 0", n)
	}

	if _, err := e.app.DB().Write().ExecContext(t.Context(), `DROP TRIGGER no_links`); err != nil {
		t.Fatal(err)
	}
	if res := e.login(t, "op-carol"); !res.Meta.IsNew {
		t.Errorf("signup after the rollback is not new: %+v", res.Meta)
	}
	if n := countCarol(); n != 1 {
		t.Errorf("users after the signup = %d, want 1", n)
	}
}

// A provider avatar mapped to a file field is downloaded and stored as a file of the
// new record; one mapped to a text field keeps its URL.
func TestRecordAuthWithOAuth2AvatarFile(t *testing.T) {
	e := newOAuth2Env(t)
	users, err := e.app.FindCollectionByNameOrID(t.Context(), "users")
	if err != nil {
		t.Fatal(err)
	}
	users.Auth.OAuth2.MappedFields = core.OAuth2MappedFields{AvatarURL: "avatar", Name: "name"}
	if err := e.app.SaveCollection(t.Context(), users); err != nil {
		t.Fatal(err)
	}
	e.op.AddUser(oauth2test.User{ID: "op-carol", Username: "carol", FirstName: "Carol", Email: "carol@example.com", EmailVerified: true, Picture: e.op.AvatarURL()})
	e.op.AddUser(oauth2test.User{ID: "op-dave", Username: "dave", Email: "dave@example.com", EmailVerified: true, Picture: e.op.URL + "/missing.png"})
	e.op.AddUser(oauth2test.User{ID: "op-erin", Username: "erin", Email: "erin@example.com", EmailVerified: true, Picture: e.op.AvatarURL()})

	// production refuses avatar URLs on loopback (PocketBase's safeHTTPClient): the
	// signup succeeds without the file
	if res := e.login(t, "op-erin"); !res.Meta.IsNew || res.Record["avatar"] != "" || res.Meta.AvatarURL != e.op.AvatarURL() {
		t.Errorf("loopback avatar with the production client: %+v %v", res.Meta, res.Record["avatar"])
	}
	t.Cleanup(httpapi.AllowLoopbackAvatars())

	res := e.login(t, "op-carol")
	if res.Meta.AvatarURL != e.op.AvatarURL() {
		t.Errorf("meta.avatarURL = %q", res.Meta.AvatarURL)
	}
	record := res.Record
	name, _ := record["avatar"].(string)
	if !strings.HasPrefix(name, "avatar_") || !strings.HasSuffix(name, ".png") {
		t.Fatalf("avatar = %q, want a stored avatar_*.png", record["avatar"])
	}
	got, err := http.Get(e.srv.URL + "/api/files/users/" + record["id"].(string) + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if got.StatusCode != http.StatusOK || string(b) != string(oauth2test.AvatarPNG) || got.Header.Get("Content-Type") != "image/png" {
		t.Errorf("stored avatar = %d %s, %d bytes", got.StatusCode, got.Header.Get("Content-Type"), len(b))
	}

	// a 404 avatar is logged and skipped: the signup still succeeds
	res = e.login(t, "op-dave")
	if !res.Meta.IsNew || res.Record["avatar"] != "" {
		t.Errorf("signup with a missing avatar: %+v %s", res.Meta, res.Record)
	}
}

// createData's own email and password win over the provider's email and the random
// password (PocketBase v0.40).
func TestRecordAuthWithOAuth2CreateDataEmailPassword(t *testing.T) {
	e := newOAuth2Env(t)
	e.op.AddUser(oauth2test.User{ID: "op-carol", Username: "carol", Email: "carol@example.com", EmailVerified: true})

	status, body := e.exchangeAs(t, "op-carol", "", map[string]any{"createData": map[string]any{
		"email": "chosen@example.com", "password": "chosen-pass-123", "passwordConfirm": "chosen-pass-123",
	}})
	if status != http.StatusOK || !strings.Contains(string(body), `"email":"chosen@example.com"`) || !strings.Contains(string(body), `"verified":false`) {
		t.Fatalf("createData email = %d %s", status, body)
	}
	if got := e.passwordLogin(t, "chosen@example.com", "chosen-pass-123"); got != http.StatusOK {
		t.Errorf("password login with createData's password = %d", got)
	}
}

// A provider user without an id cannot be linked: PocketBase's oauth2Submit fails on
// the link's providerId and answers its validation error as the data of "Failed to
// authenticate.", and the signup is rolled back.
func TestRecordAuthWithOAuth2UserWithoutID(t *testing.T) {
	e := newOAuth2Env(t)
	e.op.AddUser(oauth2test.User{ID: "op-dave", Username: "dave", Email: "dave@example.com", EmailVerified: true})
	noSub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"email":"dave@example.com","email_verified":true}`))
	}))
	t.Cleanup(noSub.Close)
	e.configure(t, func(p *core.OAuth2ProviderConfig) { p.UserInfoURL = noSub.URL })

	status, body := e.exchangeAs(t, "op-dave", "", nil)
	want := `{"data":{"providerId":{"code":"validation_required","message":"Cannot be blank."}},"message":"Failed to authenticate.","status":400}`
	if status != http.StatusBadRequest || strings.TrimSpace(string(body)) != want {
		t.Errorf("login of a user without id = %d %s, want 400 %s", status, body, want)
	}
	var n int
	if err := e.app.DB().Read().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM users WHERE email = 'dave@example.com'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("users left by the failed signup = %d, want 0", n)
	}
}
