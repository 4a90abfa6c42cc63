package httpapi_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// smtpMessage is one message delivered to the test SMTP server.
type smtpMessage struct {
	From    string
	To      []string
	Subject string
	Header  mail.Header
	Text    string
	HTML    string
	// User is the SMTP AUTH user of the session ("" without auth).
	User string
	// TLS reports whether the message came over TLS.
	TLS bool
}

// smtpServer is a real SMTP server (github.com/emersion/go-smtp) on loopback that
// collects the delivered messages. With a username, it requires AUTH PLAIN or LOGIN.
type smtpServer struct {
	t        testing.TB
	Port     int
	username string
	password string
	messages chan smtpMessage
}

// startSMTPServer starts the server for the duration of the test.
func startSMTPServer(t testing.TB, username, password string) *smtpServer {
	t.Helper()
	return startSMTPServerTLS(t, username, password, nil, false)
}

// startSMTPServerTLS starts the server with TLS: implicit TLS on the listener, or
// STARTTLS offered when not implicit (tlsConfig nil: plain text only).
func startSMTPServerTLS(t testing.TB, username, password string, tlsConfig *tls.Config, implicit bool) *smtpServer {
	t.Helper()
	s := &smtpServer{t: t, username: username, password: password, messages: make(chan smtpMessage, 16)}

	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second

	var l net.Listener
	var err error
	switch {
	case tlsConfig != nil && implicit:
		l, err = tls.Listen("tcp", "127.0.0.1:0", tlsConfig)
	default:
		srv.TLSConfig = tlsConfig
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Port = l.Addr().(*net.TCPAddr).Port //nolint:forcetypeassert // a TCP listener
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	return s
}

// enableSMTP points app's settings.smtp at s.
func (s *smtpServer) enableSMTP(t testing.TB, app *core.App, authMethod string) {
	t.Helper()
	settings := app.Settings()
	settings.SMTP = core.SMTPConfig{
		Enabled: true, Host: "127.0.0.1", Port: s.Port,
		Username: s.username, Password: s.password, AuthMethod: authMethod, LocalName: "pocketfleet.test",
	}
	if err := app.SaveSettings(t.Context(), settings); err != nil {
		t.Fatal(err)
	}
}

// next returns the next delivered message, failing the test after 10 seconds.
func (s *smtpServer) next(t testing.TB) smtpMessage {
	t.Helper()
	select {
	case m := <-s.messages:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no mail delivered within 10s")
		return smtpMessage{}
	}
}

// expectNone checks that no message arrives within a short while.
func (s *smtpServer) expectNone(t testing.TB) {
	t.Helper()
	select {
	case m := <-s.messages:
		t.Fatalf("unexpected mail %q to %v", m.Subject, m.To)
	case <-time.After(300 * time.Millisecond):
	}
}

// NewSession implements smtp.Backend.
func (s *smtpServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{server: s, conn: c}, nil
}

type smtpSession struct {
	server *smtpServer
	conn   *smtp.Conn
	user   string
	from   string
	to     []string
}

func (ss *smtpSession) AuthMechanisms() []string {
	return []string{sasl.Plain, sasl.Login}
}

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		if username != ss.server.username || password != ss.server.password {
			return errors.New("invalid credentials")
		}
		ss.user = username
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, username, password string) error { return check(username, password) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.server.username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parseSMTPMessage(raw)
	if err != nil {
		ss.server.t.Errorf("parsing delivered mail: %v\n%s", err, raw)
		return err
	}
	m.From, m.To, m.User = ss.from, ss.to, ss.user
	_, m.TLS = ss.conn.TLSConnectionState()
	ss.server.messages <- m
	return nil
}

func (ss *smtpSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *smtpSession) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN.
type loginServer struct {
	check    func(username, password string) error
	step     int
	username string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		return []byte("Username:"), false, nil
	case 2:
		l.username = string(response)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.username, string(response))
	}
}

// parseSMTPMessage reads the headers and the text and HTML parts of a
// multipart/alternative message (quoted-printable is decoded by mime/multipart).
func parseSMTPMessage(raw []byte) (smtpMessage, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return smtpMessage{}, err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return smtpMessage{}, err
	}
	out := smtpMessage{Subject: subject, Header: msg.Header}

	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		return smtpMessage{}, errors.New("not multipart/alternative: " + msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return smtpMessage{}, err
		}
		body, err := io.ReadAll(p)
		if err != nil {
			return smtpMessage{}, err
		}
		switch ct := p.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			out.Text = string(body)
		case strings.HasPrefix(ct, "text/html"):
			out.HTML = string(body)
		}
	}

	return out, nil
}

// mailToken extracts the token of the dashboard link "<action>/<token>" of the HTML
// part, and checks the plain-text part carries the same link in "[label](url)" form.
func mailToken(t testing.TB, m smtpMessage, action string) string {
	t.Helper()
	re := regexp.MustCompile(`href="http://localhost:8090/_/#/auth/` + action + `/([A-Za-z0-9_.-]+)"`)
	match := re.FindStringSubmatch(m.HTML)
	if match == nil {
		t.Fatalf("no %s link in the HTML part:\n%s", action, m.HTML)
	}
	token := match[1]
	if link := "(http://localhost:8090/_/#/auth/" + action + "/" + token + ")"; !strings.Contains(m.Text, link) {
		t.Errorf("text part lacks %s:\n%s", link, m.Text)
	}
	return token
}

// sharedApp is a TestAppFactory that always returns app, so that the scenarios of a
// flow run against one data directory.
func sharedApp(app *core.App) func(testing.TB) *core.App {
	return func(testing.TB) *core.App { return app }
}

func jsonBody(s string) *strings.Reader { return strings.NewReader(s) }
