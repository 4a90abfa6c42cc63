package core

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// SMTP auth methods of settings.smtp.authMethod.
const (
	SMTPAuthPlain = "PLAIN"
	SMTPAuthLogin = "LOGIN"
)

// ErrMailerDisabled is returned when mail is sent while settings.smtp is disabled.
var ErrMailerDisabled = errors.New("smtp is disabled in the settings; no mail was sent")

// mailDialTimeout bounds the connection to the SMTP server.
const mailDialTimeout = 10 * time.Second

// MailMessage is one email (PocketBase's mailer.Message).
type MailMessage struct {
	// From is the sender.
	From mail.Address
	// To are the recipients.
	To []mail.Address
	// Subject is the subject line.
	Subject string
	// HTML is the HTML body.
	HTML string
	// Text is the plain-text alternative; generated from HTML when empty.
	Text string
}

// Mailer sends email.
type Mailer interface {
	// Send delivers m.
	Send(ctx context.Context, m *MailMessage) error
}

// SMTPClient is a Mailer over SMTP with net/smtp (PocketBase's mailer.SmtpClient).
type SMTPClient struct {
	// Host and Port address the server.
	Host string
	Port int
	// Username and Password authenticate, when either is set.
	Username, Password string
	// AuthMethod is SMTPAuthPlain (default) or SMTPAuthLogin.
	AuthMethod string
	// TLS connects with implicit TLS; otherwise STARTTLS is used when the server offers it.
	TLS bool
	// LocalName is the EHLO name ("localhost" when empty).
	LocalName string
	// TLSConfig, when set, replaces the TLS configuration (e.g. custom root CAs); by
	// default the server certificate is verified for Host.
	TLSConfig *tls.Config
}

// NewMailClient returns the mailer configured by settings.smtp.
//
// note: with smtp disabled PocketBase falls back to the local `sendmail` binary; the
// instance image has none, so sending fails with ErrMailerDisabled instead.
func (a *App) NewMailClient() Mailer {
	s := a.Settings().SMTP
	if !s.Enabled {
		return disabledMailer{}
	}

	return &SMTPClient{
		Host:       s.Host,
		Port:       s.Port,
		Username:   s.Username,
		Password:   s.Password,
		AuthMethod: s.AuthMethod,
		TLS:        s.TLS,
		LocalName:  s.LocalName,
	}
}

// disabledMailer is the Mailer of a disabled smtp configuration.
type disabledMailer struct{}

// Send returns ErrMailerDisabled; the callers log it, as PocketBase's do.
func (disabledMailer) Send(context.Context, *MailMessage) error {
	return ErrMailerDisabled
}

// Send implements Mailer.
func (c *SMTPClient) Send(ctx context.Context, m *MailMessage) error {
	if len(m.To) == 0 {
		return errors.New("sending mail: no recipients")
	}

	raw, err := buildMailMessage(m)
	if err != nil {
		return err
	}

	client, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer client.Close()

	if err := c.send(client, m, raw); err != nil {
		return err
	}

	return client.Quit()
}

// dial connects and says hello, upgrading to TLS (implicit or STARTTLS) before any auth.
//
// note: the smtp and network errors of dial and send are returned as they are, as
// PocketBase's mailer (mailyak) does: the test email route shows them as its raw error.
func (c *SMTPClient) dial(ctx context.Context) (*smtp.Client, error) {
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	dialer := &net.Dialer{Timeout: mailDialTimeout}
	tlsConfig := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
	if c.TLSConfig != nil {
		tlsConfig = c.TLSConfig.Clone()
	}

	var conn net.Conn
	var err error
	if c.TLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}

	client, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	if c.LocalName != "" {
		if err := client.Hello(c.LocalName); err != nil {
			_ = client.Close()
			return nil, err
		}
	}
	if !c.TLS {
		if ok, _ := client.Extension("STARTTLS"); ok {
			if err := client.StartTLS(tlsConfig); err != nil {
				_ = client.Close()
				return nil, err
			}
		}
	}

	return client, nil
}

// send authenticates when configured and transfers one message.
func (c *SMTPClient) send(client *smtp.Client, m *MailMessage, raw []byte) error {
	if c.Username != "" || c.Password != "" {
		var auth smtp.Auth
		if c.AuthMethod == SMTPAuthLogin {
			auth = &smtpLoginAuth{username: c.Username, password: c.Password}
		} else {
			auth = smtp.PlainAuth("", c.Username, c.Password, c.Host)
		}
		if err := client.Auth(auth); err != nil {
			return err
		}
	}

	if err := client.Mail(m.From.Address); err != nil {
		return err
	}
	for _, to := range m.To {
		if err := client.Rcpt(to.Address); err != nil {
			return err
		}
	}

	w, err := client.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		_ = w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}

	return nil
}

// smtpLoginAuth is the LOGIN mechanism, which net/smtp lacks; like smtp.PlainAuth it
// sends the credentials only over TLS or to localhost.
type smtpLoginAuth struct {
	username, password string
}

// Start implements smtp.Auth.
func (a *smtpLoginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalhost(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}

	return "LOGIN", nil, nil
}

// Next implements smtp.Auth.
func (a *smtpLoginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(string(fromServer)) {
	case "username:":
		return []byte(a.username), nil
	case "password:":
		return []byte(a.password), nil
	}

	return nil, fmt.Errorf("unexpected smtp LOGIN challenge %q", fromServer)
}

func isLocalhost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}

// buildMailMessage renders m as an RFC 5322 message: a multipart/alternative body with
// the plain text first and the HTML second, both quoted-printable, and a Message-ID on
// the sender's domain as PocketBase adds one.
func buildMailMessage(m *MailMessage) ([]byte, error) {
	text := m.Text
	if text == "" {
		// as PocketBase, a failed conversion leaves the text part empty
		text, _ = html2Text(m.HTML)
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ contentType, content string }{
		{"text/plain; charset=UTF-8", text},
		{"text/html; charset=UTF-8", m.HTML},
	} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.contentType},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("building mail part: %w", err)
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(part.content)); err != nil {
			return nil, fmt.Errorf("encoding mail part: %w", err)
		}
		if err := qp.Close(); err != nil {
			return nil, fmt.Errorf("encoding mail part: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("building mail body: %w", err)
	}

	to := make([]string, len(m.To))
	for i, addr := range m.To {
		to[i] = addr.String()
	}

	var msg bytes.Buffer
	writeHeader := func(k, v string) { msg.WriteString(k + ": " + v + "\r\n") }
	writeHeader("From", m.From.String())
	writeHeader("To", strings.Join(to, ", "))
	writeHeader("Subject", mime.QEncoding.Encode("UTF-8", m.Subject))
	writeHeader("Date", time.Now().Format(time.RFC1123Z))
	if _, domain, ok := strings.Cut(m.From.Address, "@"); ok && domain != "" {
		id, err := security.RandomString(15)
		if err != nil {
			return nil, err
		}
		writeHeader("Message-ID", "<"+id+"@"+domain+">")
	}
	writeHeader("MIME-Version", "1.0")
	writeHeader("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())

	return msg.Bytes(), nil
}
