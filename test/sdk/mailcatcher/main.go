// Command mailcatcher is the SMTP server of the SDK suite: a real SMTP server
// (github.com/emersion/go-smtp) on loopback that keeps every delivered message and
// hands them out over HTTP, so that the tests complete the mail flows with the mailed
// tokens and codes.
//
// It prints two lines once listening:
//
//	SMTP 127.0.0.1:<port>
//	HTTP http://127.0.0.1:<port>
//
// and serves GET /messages/next?to=<address>&timeout=<duration>: the oldest message
// not handed out yet whose recipients include the address (any message without `to`),
// as JSON {from, to, subject, text, html}, waiting up to timeout (default 10s) for one
// to arrive (404 when none did). GET /messages/count tells how many are pending.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

// message is one delivered mail.
type message struct {
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	HTML    string   `json:"html"`
}

// inbox keeps the messages not handed out yet.
type inbox struct {
	mu      sync.Mutex
	pending []message
	arrived chan struct{} // closed and replaced on every delivery
}

func newInbox() *inbox { return &inbox{arrived: make(chan struct{})} }

func (b *inbox) add(m message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = append(b.pending, m)
	close(b.arrived)
	b.arrived = make(chan struct{})
}

// take removes and returns the oldest message for to ("" = any).
func (b *inbox) take(to string) (message, bool, chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, m := range b.pending {
		if to == "" || slices.ContainsFunc(m.To, func(r string) bool { return strings.EqualFold(r, to) }) {
			b.pending = slices.Delete(b.pending, i, i+1)
			return m, true, nil
		}
	}
	return message{}, false, b.arrived
}

func (b *inbox) next(ctx context.Context, to string) (message, bool) {
	for {
		m, ok, arrived := b.take(to)
		if ok {
			return m, true
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return message{}, false
		}
	}
}

// backend implements smtp.Backend: no auth, no TLS, any sender and recipient.
type backend struct{ inbox *inbox }

func (be backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{inbox: be.inbox}, nil }

type session struct {
	inbox *inbox
	from  string
	to    []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = append(s.to, to); return nil }
func (s *session) Reset()                                      { s.from, s.to = "", nil }
func (s *session) Logout() error                               { return nil }

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return fmt.Errorf("parsing message: %w", err)
	}
	m.From, m.To = s.from, slices.Clone(s.to)
	s.inbox.add(m)
	return nil
}

// parse decodes the subject and the text and HTML parts of a message, however deep they
// sit: PocketBase's mailer nests a multipart/alternative inside a multipart/mixed.
func parse(raw []byte) (message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return message{}, err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return message{}, err
	}
	out := message{Subject: subject}
	err = readPart(&out, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return out, err
}

// readPart stores a text/plain or text/html body in out, or walks the parts of a
// multipart body. Quoted-printable parts of a multipart body are decoded by
// mime/multipart; base64 is decoded here.
func readPart(out *message, contentType, encoding string, body io.Reader) error {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := readPart(out, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	if strings.EqualFold(encoding, "base64") {
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mediaType {
	case "text/html":
		out.HTML = string(raw)
	case "text/plain":
		out.Text = string(raw)
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	box := newInbox()

	smtpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := smtp.NewServer(backend{inbox: box})
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	go func() { _ = srv.Serve(smtpLn) }()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /messages/next", func(w http.ResponseWriter, r *http.Request) {
		timeout := 10 * time.Second
		if v := r.URL.Query().Get("timeout"); v != "" {
			if d, err := time.ParseDuration(v); err == nil {
				timeout = d
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		m, ok := box.next(ctx, r.URL.Query().Get("to"))
		if !ok {
			http.Error(w, "no message", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
	})
	mux.HandleFunc("GET /messages/count", func(w http.ResponseWriter, _ *http.Request) {
		box.mu.Lock()
		n := len(box.pending)
		box.mu.Unlock()
		_, _ = fmt.Fprint(w, n)
	})
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(httpLn) }()

	fmt.Printf("SMTP %s\nHTTP http://%s\n", smtpLn.Addr(), httpLn.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	_ = hs.Close()
	return srv.Close()
}
