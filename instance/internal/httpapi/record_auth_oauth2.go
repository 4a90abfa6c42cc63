package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
	"github.com/pocketfleet/pocketfleet/instance/internal/oauth2"
	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// oauth2ProviderMaxLen is the longest provider name auth-with-oauth2 accepts.
const oauth2ProviderMaxLen = 100

// oauth2ExchangeTimeout bounds the token exchange and user info requests together.
const oauth2ExchangeTimeout = 30 * time.Second

// oauth2AvatarTimeout bounds the download of a new OAuth2 user's avatar, and
// oauth2AvatarMaxSize is where its content is cut (PocketBase v0.40's safeFileFromURL
// reads at most DefaultMaxBodySize).
const (
	oauth2AvatarTimeout = 10 * time.Second
	oauth2AvatarMaxSize = 32 << 20
)

// oauth2AvatarClient downloads avatars; it refuses loopback, private, link-local,
// multicast and unspecified addresses, checked on the dialled address so that DNS
// rebinding cannot pass (PocketBase's safeHTTPClient). Tests may swap it.
var oauth2AvatarClient = &http.Client{
	Timeout: 180 * time.Second,
	Transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: publicAddressOnly}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	},
}

// publicAddressOnly is a net.Dialer Control that refuses non-public addresses.
func publicAddressOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsLoopback() || ip.IsUnspecified() || ip.IsPrivate() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() {
		return fmt.Errorf("address %q is invalid or resolves to a disallowed IP", address)
	}

	return nil
}

// authMetaKey is the gin context key under which an auth handler leaves the `meta`
// of its auth response (OAuth2 only).
const authMetaKey = "pocketfleet.authMeta"

// oauth2HTTPClient sends the requests to the providers; tests may swap it.
var oauth2HTTPClient = &http.Client{Timeout: oauth2ExchangeTimeout}

// authWithOAuth2Form is the body of auth-with-oauth2; redirectUrl is the pre-v0.23
// spelling of redirectURL.
type authWithOAuth2Form struct {
	Provider          string         `json:"provider"`
	Code              string         `json:"code"`
	CodeVerifier      string         `json:"codeVerifier"`
	RedirectURL       string         `json:"redirectURL"`
	RedirectURLLegacy string         `json:"redirectUrl" xml:"RedirectUrl"`
	CreateData        map[string]any `json:"createData"`
	MFAID             string         `json:"mfaId" xml:"mfaId"`
}

// validate applies PocketBase v0.40's rules: provider required (at most 100
// characters) and configured on the collection, code required; redirectURL is
// optional since v0.39.4.
func (f *authWithOAuth2Form) validate(collection *core.Collection) error {
	errs := formErrors{}
	errs.requiredString("provider", f.Provider, 0, 1<<30)
	if n := utf8.RuneCountInString(f.Provider); n > oauth2ProviderMaxLen {
		// ozzo's Length(0, max) reports "too long"
		errs["provider"] = validationItem{Code: "validation_length_too_long",
			Message: fmt.Sprintf("The length must be no more than %d.", oauth2ProviderMaxLen),
			Params:  map[string]any{"max": oauth2ProviderMaxLen}}
	}
	if _, failed := errs["provider"]; !failed {
		if _, ok := oauth2ProviderConfig(collection, f.Provider); !ok {
			errs["provider"] = validationItem{
				Code:    "validation_invalid_provider",
				Message: "Provider with name " + f.Provider + " is missing or is not enabled.",
				Params:  map[string]any{"name": f.Provider},
			}
		}
	}
	errs.requiredString("code", f.Code, 0, 1<<30)
	if err := errs.err(); err != nil {
		apiErr, _ := errors.AsType[*ApiError](err)
		apiErr.Message = msgLoadFailed
		return apiErr
	}

	return nil
}

// oauth2ProviderConfig returns the first provider of the collection named name.
func oauth2ProviderConfig(c *core.Collection, name string) (core.OAuth2ProviderConfig, bool) {
	for _, p := range c.Auth.OAuth2.Providers {
		if p.Name == name {
			return p, true
		}
	}

	return core.OAuth2ProviderConfig{}, false
}

// oauth2Meta is the `meta` of an OAuth2 auth response: PocketBase's AuthUser (keys in
// its struct order; avatarUrl is the pre-v0.23 spelling) plus isNew.
type oauth2Meta struct {
	Expiry          string         `json:"expiry"`
	RawUser         map[string]any `json:"rawUser"`
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Username        string         `json:"username"`
	AvatarURL       string         `json:"avatarURL"`
	AccessToken     string         `json:"accessToken"`
	RefreshToken    string         `json:"refreshToken"`
	Email           string         `json:"email"`
	AvatarURLLegacy string         `json:"avatarUrl"`
	IsNew           bool           `json:"isNew"`
}

func newOAuth2Meta(u *oauth2.User, isNew bool) oauth2Meta {
	m := oauth2Meta{
		RawUser: u.RawUser, ID: u.ID, Name: u.Name, Username: u.Username, AvatarURL: u.AvatarURL,
		AccessToken: u.AccessToken, RefreshToken: u.RefreshToken, Email: u.Email,
		AvatarURLLegacy: u.AvatarURL, IsNew: isNew,
	}
	if m.RawUser == nil {
		m.RawUser = map[string]any{}
	}
	if !u.Expiry.IsZero() {
		m.Expiry = core.FormatDateTime(u.Expiry)
	}

	return m
}

// recordAuthWithOAuth2 answers POST /api/collections/{collection}/auth-with-oauth2
// (apis/record_auth_with_oauth2.go): it exchanges the code (with the PKCE verifier),
// fetches the provider's user and resolves the auth record, in this order: the record
// already linked to the identity; the record signed in to this collection; the record
// with the provider's verified email; else a new record created as the records create
// route would (createRule, @request.context "oauth2") from createData, the mapped
// fields and a random password. Then it links the identity and answers as every login
// does (authRule, MFA), with the provider data as `meta`.
func (a *api) recordAuthWithOAuth2(c *gin.Context) error {
	collection, err := authCollection(c)
	if err != nil {
		return err
	}
	if !collection.Auth.OAuth2.Enabled {
		return NewForbiddenError("The collection is not configured to allow OAuth2 authentication.", nil)
	}

	var signedIn *core.Record
	if auth := authRecord(c); auth != nil && auth.Collection().ID == collection.ID {
		signedIn = auth
	}
	setRequestContext(c, core.RequestContextOAuth2)

	var form authWithOAuth2Form
	if err := bindAuthForm(c, &form); err != nil {
		return err
	}
	if form.RedirectURL == "" {
		form.RedirectURL = form.RedirectURLLegacy
	}
	if err := form.validate(collection); err != nil {
		return err
	}

	cfg, _ := oauth2ProviderConfig(collection, form.Provider)
	client, err := newOAuth2Client(cfg)
	if err != nil {
		return NewInternalServerError("Failed to init provider "+form.Provider, err)
	}
	client.HTTPClient = oauth2HTTPClient

	ctx, cancel := context.WithTimeout(c.Request.Context(), oauth2ExchangeTimeout)
	defer cancel()

	token, err := client.Exchange(ctx, form.Code, form.CodeVerifier, form.RedirectURL)
	if err != nil {
		return NewBadRequestError("Failed to fetch OAuth2 token.", err)
	}
	user, err := client.FetchUser(ctx, token)
	if err != nil {
		return NewBadRequestError("Failed to fetch OAuth2 user.", err)
	}
	if form.Provider == oauth2.NameApple && user.Name == "" {
		// Apple sends the name only to the redirect (oauth2Redirect keeps it)
		user.Name = takeAppleName(a.app, form.Code)
	}

	record, isNew, err := a.oauth2Record(c, collection, form, user, signedIn)
	if err != nil {
		// firstApiError(err, BadRequestError("Failed to authenticate.", err)): the
		// validation errors of a failed save (the link's providerId) are the data
		return recordSaveError("Failed to authenticate.", err)
	}

	c.Set(authMetaKey, newOAuth2Meta(user, isNew))

	mfaID := c.Query("mfaId")
	if mfaID == "" {
		mfaID = form.MFAID
	}

	return a.writeRecordAuthResponse(c, record, "", core.MFAMethodOAuth2, mfaID)
}

// oauth2Record resolves, creates or updates the auth record of an OAuth2 login and
// links it to the provider identity (apis/record_auth_with_oauth2.go oauth2Submit):
// the signup, its verification, the login update and the link are one transaction,
// so that a failed link leaves no new user behind.
func (a *api) oauth2Record(c *gin.Context, collection *core.Collection, form authWithOAuth2Form, user *oauth2.User, signedIn *core.Record) (*core.Record, bool, error) {
	ctx := c.Request.Context()

	var found *core.Record
	linked, err := a.app.FindExternalAuth(ctx, collection, form.Provider, user.ID)
	switch {
	case err == nil:
		if found, err = a.app.FindRecordByID(ctx, collection.ID, linked.RecordRef); err != nil {
			return nil, false, NewNotFoundError("", err)
		}
	case !errors.Is(err, core.ErrRecordNotFound):
		return nil, false, err
	case signedIn != nil:
		found = signedIn
	case user.Email != "":
		found, _ = a.app.FindAuthRecordByEmail(ctx, collection, user.Email)
	}

	isNew := found == nil
	var avatar *filesystem.File
	if isNew && collection.Name != core.CollectionNameSuperusers {
		// downloaded before the write transaction, which may run more than once
		avatar = a.oauth2Avatar(ctx, collection, form.CreateData, user)
	}

	var record *core.Record
	err = a.app.RunInTransaction(ctx, func(ctx context.Context) error {
		var err error
		link := linked == nil
		if isNew {
			if record, err = a.oauth2Signup(ctx, c, collection, form.CreateData, user, avatar); err != nil {
				return err
			}
			record, err = a.app.OAuth2SignupVerify(ctx, record, user.Email)
		} else {
			isSignedIn := signedIn != nil && signedIn.ID() == found.ID()
			var unlinked bool
			record, unlinked, err = a.app.OAuth2LoginUpdate(ctx, found, user.Email, isSignedIn)
			link = link || unlinked
		}
		if err != nil {
			return err
		}
		if link {
			return a.app.CreateExternalAuth(ctx, record, form.Provider, user.ID)
		}

		return nil
	})
	if err != nil {
		return nil, false, err
	}

	return record, isNew, nil
}

// oauth2Signup creates the auth record of a first OAuth2 login as the records create
// route would for the same requester, with @request.context "oauth2": createData, the
// provider's email unless createData has a non-empty one, a random password unless
// createData has the key (PocketBase v0.40), and the mapped fields that createData
// does not set.
func (a *api) oauth2Signup(ctx context.Context, c *gin.Context, collection *core.Collection, createData map[string]any, user *oauth2.User, avatar *filesystem.File) (*core.Record, error) {
	if collection.Name == core.CollectionNameSuperusers {
		return nil, core.ErrOAuth2SuperuserSignup
	}

	payload := maps.Clone(createData)
	if payload == nil {
		payload = map[string]any{}
	}
	if v, _ := payload[core.FieldNameEmail].(string); v == "" {
		payload[core.FieldNameEmail] = user.Email
	}
	if _, given := payload[core.FieldNamePassword]; !given {
		password, err := security.RandomString(30)
		if err != nil {
			return nil, err
		}
		payload[core.FieldNamePassword] = password
		payload["passwordConfirm"] = password
	}

	mapped := collection.Auth.OAuth2.MappedFields
	setMapped := func(field, value string) {
		if _, given := payload[field]; !given && field != "" {
			payload[field] = value
		}
	}
	setMapped(mapped.ID, user.ID)
	setMapped(mapped.Name, user.Name)
	if mapped.Username != "" && a.app.CanAssignOAuth2Username(ctx, collection, user.Username) {
		setMapped(mapped.Username, user.Username)
	}
	if avatar == nil && user.AvatarURL != "" && !oauth2AvatarIsFile(collection) {
		setMapped(mapped.AvatarURL, user.AvatarURL)
	}

	superuser := hasSuperuserAuth(c)
	if !superuser && collection.CreateRule == nil {
		return nil, NewForbiddenError(msgSuperusersOnlyAction, nil)
	}
	form := core.NewRecordCreate(collection)
	if superuser {
		form.SetAccess(core.RecordAccessSuperuser)
	}
	data := form.ResolveBody(payload)
	info := writeRequestInfo(c, data)
	info.Method = http.MethodPost
	if avatar != nil {
		// avatar is only downloaded when createData leaves the file field out
		_, names, _ := form.AttachFiles(mapped.AvatarURL, []*filesystem.File{avatar})
		data[mapped.AvatarURL] = names
	}
	form.Load(data)

	return a.saveRecordCreate(ctx, form, info, superuser)
}

// oauth2AvatarIsFile reports whether the collection maps the OAuth2 avatar to a file
// field, which then gets the downloaded image instead of its URL.
func oauth2AvatarIsFile(collection *core.Collection) bool {
	f := collection.Fields.GetByName(collection.Auth.OAuth2.MappedFields.AvatarURL)
	return f != nil && f.Type() == core.FieldTypeFile
}

// oauth2Avatar downloads the avatar of a new OAuth2 user for a mapped file field that
// createData leaves out (PocketBase v0.40's safeFileFromURL): through
// oauth2AvatarClient, any 2xx or 3xx answer within oauth2AvatarTimeout, its content cut
// at oauth2AvatarMaxSize, named after the URL's last path segment. A failure is
// logged and leaves the field empty.
func (a *api) oauth2Avatar(ctx context.Context, collection *core.Collection, createData map[string]any, user *oauth2.User) *filesystem.File {
	field := collection.Auth.OAuth2.MappedFields.AvatarURL
	if _, given := createData[field]; given || field == "" || user.AvatarURL == "" || !oauth2AvatarIsFile(collection) {
		return nil
	}

	file, err := downloadOAuth2Avatar(ctx, user.AvatarURL)
	if err != nil {
		a.app.Logger().LogAttrs(ctx, slog.LevelWarn, "Failed to retrieve OAuth2 avatar", slog.String("error", err.Error()))
		return nil
	}

	return file
}

func downloadOAuth2Avatar(ctx context.Context, rawURL string) (*filesystem.File, error) {
	ctx, cancel := context.WithTimeout(ctx, oauth2AvatarTimeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	res, err := oauth2AvatarClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 399 {
		return nil, fmt.Errorf("failed to download url %s (%d)", rawURL, res.StatusCode)
	}
	// note: like PocketBase, a larger avatar is cut rather than refused.
	b, err := io.ReadAll(io.LimitReader(res.Body, oauth2AvatarMaxSize))
	if err != nil {
		return nil, err
	}

	return filesystem.NewFileFromBytes(b, path.Base(rawURL))
}
