package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// selfSignedTLS returns a server configuration with a certificate for 127.0.0.1 and a
// client configuration that trusts it.
func selfSignedTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)

	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

func TestSMTPClientTransports(t *testing.T) {
	serverTLS, clientTLS := selfSignedTLS(t)

	tests := []struct {
		name       string
		serverTLS  *tls.Config
		implicit   bool
		client     core.SMTPClient
		wantUser   string
		wantTLS    bool
		wantErrSub string
	}{
		{name: "plain text, no auth", client: core.SMTPClient{}},
		{name: "STARTTLS when offered, AUTH PLAIN", serverTLS: serverTLS, client: core.SMTPClient{Username: "u", Password: "p", TLSConfig: clientTLS}, wantUser: "u", wantTLS: true},
		{name: "implicit TLS, AUTH LOGIN", serverTLS: serverTLS, implicit: true, client: core.SMTPClient{TLS: true, Username: "u", Password: "p", AuthMethod: core.SMTPAuthLogin, TLSConfig: clientTLS}, wantUser: "u", wantTLS: true},
		{name: "STARTTLS with an untrusted certificate fails", serverTLS: serverTLS, client: core.SMTPClient{}, wantErrSub: "x509: certificate signed by unknown authority"},
		{name: "wrong password", client: core.SMTPClient{Username: "u", Password: "wrong"}, wantErrSub: `454 "4.7.0 invalid credentials"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSMTPServerTLS(t, "u", "p", tc.serverTLS, tc.implicit)
			if tc.client.Username == "" {
				srv.username = "" // no auth required
			}
			client := tc.client
			client.Host, client.Port, client.LocalName = "127.0.0.1", srv.Port, "client.test"

			err := client.Send(t.Context(), &core.MailMessage{
				From:    mail.Address{Name: "Süpport", Address: "support@example.com"},
				To:      []mail.Address{{Address: "a@example.com"}, {Name: "B", Address: "b@example.com"}},
				Subject: "Grüße",
				HTML:    "<p>Hello <a href=\"http://x/y?a=1&amp;b=2\">there</a></p>",
			})
			if tc.wantErrSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrSub) {
					t.Fatalf("err = %v, want %q", err, tc.wantErrSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}

			m := srv.next(t)
			if m.TLS != tc.wantTLS {
				t.Errorf("delivered over TLS = %v, want %v", m.TLS, tc.wantTLS)
			}
			if m.User != tc.wantUser || m.From != "support@example.com" || strings.Join(m.To, ",") != "a@example.com,b@example.com" {
				t.Errorf("envelope user %q from %q to %v", m.User, m.From, m.To)
			}
			if m.Subject != "Grüße" || m.Header.Get("To") != `<a@example.com>, "B" <b@example.com>` {
				t.Errorf("subject %q, To %q", m.Subject, m.Header.Get("To"))
			}
			if from, err := mail.ParseAddress(m.Header.Get("From")); err != nil || from.Name != "Süpport" {
				t.Errorf("From %q (%v)", m.Header.Get("From"), err)
			}
			if id := m.Header.Get("Message-ID"); !strings.HasSuffix(id, "@example.com>") {
				t.Errorf("Message-ID %q", id)
			}
			if m.Text != "Hello [there](http://x/y?a=1&b=2)" || !strings.Contains(m.HTML, "a=1&amp;b=2") {
				t.Errorf("text %q, html %q", m.Text, m.HTML)
			}
		})
	}
}
