package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/realtime"
)

// oauth2SubscriptionTopic is the realtime topic the SDK's all-in-one OAuth2 flow waits on.
const oauth2SubscriptionTopic = "@oauth2"

// Pages of /api/oauth2-redirect. PocketBase redirects to its dashboard's success and
// failure pages when the UI is bundled; without it, which is our case, it answers
// these texts.
const (
	oauth2RedirectFailureText = "Failed to authenticate. You can close this window and go back to the app to try again."
	oauth2RedirectSuccessHTML = "Auth completed. You can close this window and go back to the app."
)

// oauth2RedirectData is what a provider sends to the redirect URL, forwarded to the
// waiting realtime client as the @oauth2 message.
type oauth2RedirectData struct {
	State string `json:"state"`
	Code  string `json:"code"`
	Error string `json:"error,omitempty"`
}

// oauth2RedirectForm is the redirect data as received: Apple also posts the user's name
// (once, on the first consent) as the `user` form field, which a JSON body cannot set
// (PocketBase's json:"-").
type oauth2RedirectForm struct {
	State     string `json:"state"`
	Code      string `json:"code"`
	Error     string `json:"error"`
	AppleUser string `json:"-" form:"user"`
}

// Bounds of the Apple name kept between the redirect and the code exchange.
const (
	appleNameTTL        = time.Minute
	appleNameMaxCodeLen = 1000
	appleNameMaxLen     = 150
)

// appleNameKey identifies a stored Apple name: the app and the authorization code.
type appleNameKey struct {
	app  *core.App
	code string
}

// appleNames holds the Apple names of recent redirects for a minute (PocketBase keeps
// them in its app store the same way), for auth-with-oauth2 to pick up: Apple's
// id_token carries no name.
var appleNames sync.Map

// storeAppleName keeps the "firstName lastName" of Apple's user JSON for code.
func storeAppleName(app *core.App, code, userJSON string) error {
	if len(code) > appleNameMaxCodeLen {
		return errors.New("the code is too large")
	}
	var user struct {
		Name struct {
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
		} `json:"name"`
	}
	if err := json.Unmarshal([]byte(userJSON), &user); err != nil {
		return err
	}
	name := user.Name.FirstName + " " + user.Name.LastName
	if len(name) > appleNameMaxLen {
		name = name[:appleNameMaxLen]
	}
	if name = strings.TrimSpace(name); name == "" {
		return nil
	}

	key := appleNameKey{app: app, code: code}
	appleNames.Store(key, name)
	time.AfterFunc(appleNameTTL, func() { appleNames.CompareAndDelete(key, name) })

	return nil
}

// takeAppleName returns and forgets the Apple name stored for code ("" if none).
func takeAppleName(app *core.App, code string) string {
	v, ok := appleNames.LoadAndDelete(appleNameKey{app: app, code: code})
	if !ok {
		return ""
	}
	name, _ := v.(string)

	return name
}

// registerOAuth2RedirectRoute adds GET and POST /api/oauth2-redirect.
func (a *api) registerOAuth2RedirectRoute(r routes) {
	r.GET("/oauth2-redirect", a.oauth2Redirect)
	r.POST("/oauth2-redirect", a.oauth2Redirect)
}

// oauth2Redirect is the OAuth2 redirect target of the SDK's all-in-one flow
// (apis/record_auth_with_oauth2_redirect.go). It reads state, code and error (query for
// GET, form body for POST, Apple's form_post), finds the live realtime client whose id
// is the state and that is subscribed to @oauth2, and sends it the data; the client then
// exchanges the code itself. Since v0.38 the redirect must come from the IP the
// realtime connection was opened from. Apple's one-time user name is kept for a minute
// for the code exchange. Anything missing or wrong answers the failure
// page; the subscription is dropped once used.
func (a *api) oauth2Redirect(c *gin.Context) error {
	ctx := c.Request.Context()
	debug := func(msg string, attrs ...slog.Attr) { a.app.Logger().LogAttrs(ctx, slog.LevelDebug, msg, attrs...) }

	var form oauth2RedirectForm
	var data oauth2RedirectData
	if c.Request.Method == http.MethodPost {
		if err := bindAuthForm(c, &form); err != nil {
			debug("Failed to read OAuth2 redirect data", slog.Any("error", err))
			return oauth2RedirectFailure(c)
		}
		data = oauth2RedirectData{State: form.State, Code: form.Code, Error: form.Error}
	} else {
		q := c.Request.URL.Query()
		data = oauth2RedirectData{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error")}
	}

	if data.State == "" {
		debug("Missing OAuth2 state parameter")
		return oauth2RedirectFailure(c)
	}

	client, err := realtimeFor(a.app).broker.ClientByID(data.State)
	if err != nil || client.IsDiscarded() || !client.HasSubscription(oauth2SubscriptionTopic) {
		debug("Missing or invalid OAuth2 subscription client", slog.String("clientId", data.State))
		return oauth2RedirectFailure(c)
	}
	defer client.Unsubscribe(oauth2SubscriptionTopic)

	if ip, _ := client.Get(realtimeClientIPKey).(string); ip != "" && ip != a.clientIP(c) {
		debug("The client IP that completed the authentication is different from the one that initialized the OAuth2 realtime connection")
		return oauth2RedirectFailure(c)
	}

	if form.AppleUser != "" && data.Error == "" && data.Code != "" {
		if err := storeAppleName(a.app, data.Code, form.AppleUser); err != nil {
			debug("Failed to parse and load Apple Redirect name data", slog.Any("error", err))
		}
	}

	encoded, err := json.Marshal(data)
	if err != nil {
		return oauth2RedirectFailure(c)
	}
	client.Send(realtime.Message{Name: oauth2SubscriptionTopic, Data: encoded})

	if data.Error != "" || data.Code == "" {
		debug("Failed OAuth2 redirect due to an error or missing code parameter",
			slog.String("error", data.Error), slog.String("clientId", data.State))
		return oauth2RedirectFailure(c)
	}

	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(oauth2RedirectSuccessHTML))

	return nil
}

func oauth2RedirectFailure(c *gin.Context) error {
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(oauth2RedirectFailureText))
	return nil
}
