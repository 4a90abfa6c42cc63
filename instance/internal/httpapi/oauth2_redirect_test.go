package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
	"github.com/pocketfleet/pocketfleet/instance/internal/oauth2/oauth2test"
)

const (
	redirectFailure = "Failed to authenticate. You can close this window and go back to the app to try again."
	redirectSuccess = "Auth completed. You can close this window and go back to the app."
)

func getText(t *testing.T, method, u, form string) (int, string) {
	t.Helper()
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, u, body)
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)

	return res.StatusCode, string(b)
}

type realtimeConnect struct {
	ClientID string `json:"clientId"`
}

// connectRealtime opens a realtime connection and reads its PB_CONNECT event.
func connectRealtime(t *testing.T, baseURL string) (*sseStream, realtimeConnect) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	stream := openRealtime(t, ctx, baseURL)
	var connect realtimeConnect
	if err := json.Unmarshal([]byte(stream.next(t).Data), &connect); err != nil {
		t.Fatal(err)
	}

	return stream, connect
}

// TestOAuth2RedirectAllInOne runs the SDK's all-in-one flow by hand: a realtime client
// subscribes to @oauth2, the consent URL carries its client id as state, the OP
// redirects the browser to /api/oauth2-redirect, the client receives the code over SSE
// and exchanges it.
func TestOAuth2RedirectAllInOne(t *testing.T) {
	e := newOAuth2Env(t)
	e.op.AddUser(oauth2test.User{ID: "op-carol", Username: "carol", Email: "carol@example.com", EmailVerified: true})

	stream, connect := connectRealtime(t, e.srv.URL)
	postSubscriptions(t, e.srv.URL, connect.ClientID, "", "@oauth2")

	p := e.authMethodsProvider(t)
	redirect := e.srv.URL + "/api/oauth2-redirect"
	authURL, err := url.Parse(p.AuthURL + url.QueryEscape(redirect))
	if err != nil {
		t.Fatal(err)
	}
	q := authURL.Query()
	q.Set("state", connect.ClientID)
	authURL.RawQuery = q.Encode()

	// the "browser" follows every redirect, through the OP's login to our page
	e.op.LoginAs("op-carol")
	if status, text := getText(t, http.MethodGet, authURL.String(), ""); status != 200 || text != redirectSuccess {
		t.Fatalf("redirect page = %d %q", status, text)
	}

	ev := stream.next(t)
	var data map[string]string
	if err := json.Unmarshal([]byte(ev.Data), &data); err != nil || ev.Event != "@oauth2" || data["state"] != connect.ClientID || data["code"] == "" {
		t.Fatalf("@oauth2 event = %+v (%v)", ev, err)
	}
	if _, hasErr := data["error"]; hasErr {
		t.Errorf("error key present without an error: %s", ev.Data)
	}

	status, body := e.exchange(t, map[string]any{"provider": "oidc", "code": data["code"], "codeVerifier": p.CodeVerifier, "redirectURL": redirect}, "")
	if status != 200 || !strings.Contains(string(body), `"isNew":true`) {
		t.Fatalf("exchange = %d %s", status, body)
	}

	// the subscription was used up: the same state now fails
	if status, text := getText(t, http.MethodGet, redirect+"?state="+connect.ClientID+"&code=x", ""); status != 200 || text != redirectFailure {
		t.Errorf("reused state = %d %q", status, text)
	}
}

func TestOAuth2RedirectFailures(t *testing.T) {
	e := newOAuth2Env(t)
	redirect := e.srv.URL + "/api/oauth2-redirect"

	stream, connect := connectRealtime(t, e.srv.URL)

	for _, tc := range []struct{ name, method, query, form string }{
		{"no state", http.MethodGet, "?code=abc", ""},
		{"unknown state", http.MethodGet, "?state=nope&code=abc", ""},
		{"client not subscribed to @oauth2", http.MethodGet, "?state=" + connect.ClientID + "&code=abc", ""},
		{"POST without state", http.MethodPost, "", "code=abc"},
	} {
		if status, text := getText(t, tc.method, redirect+tc.query, tc.form); status != 200 || text != redirectFailure {
			t.Errorf("%s: %d %q", tc.name, status, text)
		}
	}

	// v0.38: the redirect must come from the IP that opened the realtime connection
	postSubscriptions(t, e.srv.URL, connect.ClientID, "", "@oauth2")
	other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")},
	}).DialContext}}
	res, err := other.Get(redirect + "?state=" + connect.ClientID + "&code=abc")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(text) != redirectFailure {
		t.Errorf("redirect from another IP = %q", text)
	}

	// a provider error is forwarded (form_post), and the page reports the failure
	postSubscriptions(t, e.srv.URL, connect.ClientID, "", "@oauth2")
	if status, text := getText(t, http.MethodPost, redirect, "state="+connect.ClientID+"&error=access_denied"); status != 200 || text != redirectFailure {
		t.Errorf("provider error: %d %q", status, text)
	}
	ev := stream.next(t)
	if ev.Event != "@oauth2" || ev.Data != `{"state":"`+connect.ClientID+`","code":"","error":"access_denied"}` {
		t.Errorf("@oauth2 event = %+v", ev)
	}

	// Apple's form_post carries the user's name once: it is kept for the code exchange
	// and not forwarded to the client
	postSubscriptions(t, e.srv.URL, connect.ClientID, "", "@oauth2")
	form := url.Values{"state": {connect.ClientID}, "code": {"apple-code"}, "user": {`{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"a@x.io"}`}}
	if status, text := getText(t, http.MethodPost, redirect, form.Encode()); status != 200 || text != redirectSuccess {
		t.Errorf("apple redirect: %d %q", status, text)
	}
	if ev := stream.next(t); ev.Data != `{"state":"`+connect.ClientID+`","code":"apple-code"}` {
		t.Errorf("apple @oauth2 event = %+v", ev)
	}
	if got := httpapi.TakeAppleName(e.app, "apple-code"); got != "Ada Lovelace" {
		t.Errorf("stored apple name = %q", got)
	}
	if got := httpapi.TakeAppleName(e.app, "apple-code"); got != "" {
		t.Errorf("apple name taken twice: %q", got)
	}
}
