package oauth2

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

func TestNamesOrder(t *testing.T) {
	names := Names()
	if len(names) != 32 || names[0] != "apple" || names[1] != "google" || !slices.Equal(names[29:], []string{"oidc", "oidc2", "oidc3"}) {
		t.Errorf("names = %v", names)
	}
	for _, n := range names {
		if specs[n].logo == "" || specs[n].displayName == "" {
			t.Errorf("%s: missing logo or display name", n)
		}
	}
}

func TestAuthCodeURL(t *testing.T) {
	c, err := New(Config{Name: "github", ClientID: "cid"})
	if err != nil {
		t.Fatal(err)
	}
	want := "https://github.com/login/oauth/authorize?client_id=cid&code_challenge=CH&code_challenge_method=S256" +
		"&response_type=code&scope=read%3Auser+user%3Aemail&state=ST&redirect_uri="
	if got := c.AuthCodeURL("ST", "CH"); got != want {
		t.Errorf("github = %s\nwant %s", got, want)
	}

	c, _ = New(Config{Name: "apple", ClientID: "cid"})
	want = "https://appleid.apple.com/auth/authorize?client_id=cid&code_challenge=CH&code_challenge_method=S256" +
		"&response_mode=form_post&response_type=code&scope=name+email&state=ST&redirect_uri="
	if got := c.AuthCodeURL("ST", "CH"); got != want {
		t.Errorf("apple = %s\nwant %s", got, want)
	}

	if _, err := New(Config{Name: "nope"}); err == nil {
		t.Error("unknown provider accepted")
	}
}

// TestFetchUserMapping serves provider-shaped user info on loopback and checks the
// normalised user of a few providers.
func TestFetchUserMapping(t *testing.T) {
	tests := []struct {
		name, info, emails string
		want               User
	}{
		{"discord", `{"id":"80351110224678912","username":"nelly","global_name":"","discriminator":"1337","avatar":"8342729096ea3675442027381ff50dfe","verified":true,"email":"nelly@discord.com"}`, "",
			User{ID: "80351110224678912", Name: "nelly#1337", Username: "nelly", Email: "nelly@discord.com", AvatarURL: "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png"}},
		{"github", `{"id":9007199254740993,"login":"octo","name":"Octo Cat","avatar_url":"https://a/x.png"}`, `[{"email":"old@x.io","verified":true,"primary":false},{"email":"octo@x.io","verified":true,"primary":true}]`,
			User{ID: "9007199254740993", Name: "Octo Cat", Username: "octo", Email: "octo@x.io", AvatarURL: "https://a/x.png"}},
		{"bitbucket", `{"uuid":"{u}","username":"bb","display_name":"B B","account_status":"active","links":{"avatar":{"href":"h"}}}`,
			`{"values":[{"email":"x@y.z","is_primary":true,"is_confirmed":false},{"email":"b@y.z","is_primary":true,"is_confirmed":true}]}`,
			User{ID: "{u}", Name: "B B", Username: "bb", Email: "b@y.z", AvatarURL: "h"}},
		{"google", `{"sub":"1","name":"G","email":"g@x.io","email_verified":false,"picture":"p"}`, "",
			User{ID: "1", Name: "G", AvatarURL: "p"}},
		{"oidc", `{"sub":"s","name":"N","preferred_username":"u","email":"e@x.io","email_verified":"true"}`, "",
			User{ID: "s", Name: "N", Username: "u", Email: "e@x.io"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("/user", func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer tok" {
					http.Error(w, "unauthorized", http.StatusUnauthorized)
					return
				}
				_, _ = w.Write([]byte(tc.info))
			})
			mux.HandleFunc("/user/emails", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(tc.emails)) })
			srv := httptest.NewServer(mux)
			defer srv.Close()

			c, err := New(Config{Name: tc.name, UserInfoURL: srv.URL + "/user"})
			if err != nil {
				t.Fatal(err)
			}
			u, err := c.FetchUser(t.Context(), &oauth2.Token{AccessToken: "tok", TokenType: "Bearer"})
			if err != nil {
				t.Fatal(err)
			}
			u.RawUser, u.AccessToken = nil, ""
			if got, _ := json.Marshal(u); string(got) != mustJSON(tc.want) {
				t.Errorf("user = %s\nwant %s", got, mustJSON(tc.want))
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestMicrosoftIDTokenEmail(t *testing.T) {
	c, err := New(Config{Name: NameMicrosoft, ClientID: "cid", Extra: map[string]any{"idTokenEmailClaim": "any_verified"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.AuthCodeURL("S", "C"); !strings.Contains(got, "scope=User.Read+openid") {
		t.Errorf("scopes in %s", got)
	}

	claims := map[string]any{"iat": time.Now().Unix(), "email": "e@x.io", "xms_edov": true}
	idToken, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	token := (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"id_token": idToken})
	for mode, want := range map[string]string{"any_verified": "e@x.io", "verified_primary_email": "", "email_and_xms_edov": "e@x.io", "email": "e@x.io", "other": ""} {
		if got := microsoftIDTokenEmail(token, mode); got != want {
			t.Errorf("%s: %q, want %q", mode, got, want)
		}
	}
}
