// Package oauth2test runs a real OpenID Provider on loopback for tests: the OP of
// github.com/zitadel/oidc/v3 over its in-memory example storage, with one web client,
// the users a test adds, and a login page that approves at once as the user the test
// chose. It is test-only: no production package imports it.
package oauth2test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Client credentials of the OP's one web client.
const (
	ClientID     = "pocketfleet"
	ClientSecret = "pocketfleet-secret"
)

// User is an account of the OP.
type User struct {
	ID            string
	Username      string
	FirstName     string
	LastName      string
	Email         string
	EmailVerified bool
	// Picture is the user's `picture` claim of the userinfo answer, if set.
	Picture string
}

// OP is a running OpenID Provider.
type OP struct {
	// URL is the issuer, e.g. http://127.0.0.1:41234.
	URL string

	mu    sync.Mutex
	users map[string]*storage.User
	// pictures are the users' picture claims by user id
	pictures map[string]string
	loginAs  string
	server   *http.Server
	ln       net.Listener
}

// AuthURL is the OP's authorization endpoint (zitadel's default path), as a
// collection's generic oidc provider is configured with it.
func (o *OP) AuthURL() string { return o.URL + "/authorize" }

// TokenURL is the OP's token endpoint.
func (o *OP) TokenURL() string { return o.URL + "/oauth/token" }

// UserInfoURL is the OP's user info endpoint.
func (o *OP) UserInfoURL() string { return o.URL + "/userinfo" }

// KeysURL is the OP's JWKS.
func (o *OP) KeysURL() string { return o.URL + "/keys" }

// Start serves an OP on a random loopback port whose client accepts redirectURIs.
func Start(redirectURIs ...string) (*OP, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	o := &OP{URL: "http://" + ln.Addr().String(), users: map[string]*storage.User{}, pictures: map[string]string{}, ln: ln}

	clients := map[string]*storage.Client{ClientID: storage.WebClient(ClientID, ClientSecret, redirectURIs...)}
	store := storage.NewStorageWithClients(userStore{o}, clients)

	provider, err := op.NewProvider(&op.Config{
		CryptoKey:      sha256.Sum256([]byte("pocketfleet oauth2test")),
		CodeMethodS256: true,
		AuthMethodPost: true,
	}, store, op.StaticIssuer(o.URL), op.WithAllowInsecure())
	if err != nil {
		_ = ln.Close()
		return nil, err
	}

	callback := op.AuthCallbackURL(provider)
	mux := http.NewServeMux()
	// the login page the client's loginURL points at: approve as the chosen user
	mux.HandleFunc("/login/username", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("authRequestID")
		o.mu.Lock()
		user := o.users[o.loginAs]
		o.mu.Unlock()
		if user == nil {
			http.Error(w, "no user to log in as", http.StatusForbidden)
			return
		}
		if err := store.CheckUsernamePassword(user.Username, user.Password, id); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	})
	mux.Handle("/userinfo", o.withPicture(provider))
	mux.HandleFunc("/avatar.png", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(AvatarPNG)
	})
	mux.Handle("/", provider)

	o.server = &http.Server{Handler: mux}
	go func() { _ = o.server.Serve(ln) }()

	return o, nil
}

// Close stops the OP.
func (o *OP) Close() error {
	err := o.server.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}

	return err
}

// AddUser adds (or replaces) an account.
func (o *OP) AddUser(u User) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.users[u.ID] = &storage.User{
		ID: u.ID, Username: u.Username, Password: "password", FirstName: u.FirstName, LastName: u.LastName,
		Email: u.Email, EmailVerified: u.EmailVerified, PreferredLanguage: language.English,
	}
	o.pictures[u.ID] = u.Picture
}

// AvatarURL is a real PNG image the OP serves, for a user's Picture.
func (o *OP) AvatarURL() string { return o.URL + "/avatar.png" }

// AvatarPNG is the image AvatarURL serves: a 2x2 PNG.
var AvatarPNG = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}()

// withPicture adds the user's picture claim to the OP's userinfo answers (zitadel's
// example storage has no picture).
func (o *OP) withPicture(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var claims map[string]any
		if rec.Code == http.StatusOK && json.Unmarshal(body, &claims) == nil {
			sub, _ := claims["sub"].(string)
			o.mu.Lock()
			picture := o.pictures[sub]
			o.mu.Unlock()
			if picture != "" {
				claims["picture"] = picture
				body, _ = json.Marshal(claims)
			}
		}
		maps.Copy(w.Header(), rec.Header())
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

// LoginAs makes the login page approve every request as the user with this id.
func (o *OP) LoginAs(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.loginAs = id
}

// userStore serves the OP's users to zitadel's example storage.
type userStore struct{ o *OP }

func (s userStore) GetUserByID(id string) *storage.User {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	return s.o.users[id]
}

func (s userStore) GetUserByUsername(username string) *storage.User {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	for _, u := range s.o.users {
		if u.Username == username {
			return u
		}
	}
	return nil
}

func (s userStore) ExampleClientID() string { return storage.ServiceUserID }
