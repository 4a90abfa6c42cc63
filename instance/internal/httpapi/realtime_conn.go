package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/realtime"
)

// sseWriteTimeout bounds one write to a hijacked realtime connection: a client that
// takes longer to accept a message is disconnected (the SDK reconnects).
const sseWriteTimeout = 30 * time.Second

// sseConn is a realtime stream on a hijacked HTTP/1.1 connection. While idle it costs
// the connection, the client, two timers and one goroutine parked in a 1-byte Read
// that notices the client going away; there is no handler goroutine, no bufio buffer
// and no http.Request kept. Messages are written by a short-lived goroutine started
// when the client has some (realtime.Client.OnReady), one at a time, each batch as one
// chunk of the chunked response.
type sseConn struct {
	api    *api
	conn   net.Conn
	client *realtime.Client
	broker *realtime.Broker

	// tmu guards the timers, which their own callbacks may stop before they are set.
	tmu            sync.Mutex
	idle, lifetime *time.Timer
	idleTimeout    time.Duration
	// done ends the realtime connections metric.
	done func()

	// wmu serializes the writes; flushing tells that a writer goroutine runs.
	wmu      sync.Mutex
	flushing atomic.Bool
	closed   atomic.Bool
}

// hijackRealtime takes the connection of c over from net/http, writes the response
// headers (those set so far, as net/http would send them, with a chunked body) and the
// PB_CONNECT message, and serves the client from then on without a goroutine of its
// own. ok is false, with nothing written, when the connection cannot be hijacked
// (HTTP/2, HTTP/1.0, a recorder); the caller then streams from the handler.
func (a *api) hijackRealtime(c *gin.Context, client *realtime.Client, broker *realtime.Broker) (ok bool) {
	if !c.Request.ProtoAtLeast(1, 1) || c.Request.ProtoAtLeast(2, 0) {
		return false
	}
	rc := http.NewResponseController(c.Writer)

	h := c.Writer.Header().Clone()
	h.Del("Content-Length")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Transfer-Encoding", "chunked")
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	if err := h.Write(&head); err != nil {
		return false
	}
	head.WriteString("\r\n")

	conn, err := hijack(rc)
	if err != nil {
		return false
	}

	s := &sseConn{
		api: a, conn: conn, client: client, broker: broker,
		idleTimeout: realtimeIdleTimeout, done: a.metrics.RealtimeConnected(),
	}
	connect := realtime.Message{Name: realtimeConnectEvent, Data: []byte(`{"clientId":"` + client.ID() + `"}`)}
	if err := s.write(head.Bytes(), []realtime.Message{connect}); err != nil {
		s.close("failed to deliver PB_CONNECT", err)
		return true
	}

	s.tmu.Lock()
	s.idle = time.AfterFunc(s.idleTimeout, func() { s.close("idle", nil) })
	s.lifetime = time.AfterFunc(realtimeMaxLifetime, func() { s.close("max lifetime", nil) })
	s.tmu.Unlock()
	client.OnReady(s.ready)
	go s.watch()
	// a message sent or a discard that happened before OnReady
	s.ready()

	return true
}

// hijack takes the connection over. gin's writer asserts that the one it wraps is an
// http.Hijacker, which panics for a writer that is not; that is a failure here.
func hijack(rc *http.ResponseController) (conn net.Conn, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("hijacking the connection: %v", p)
		}
	}()
	conn, _, err = rc.Hijack()

	return conn, err
}

// watch parks in a Read until the client closes the connection (or it is closed here).
func (s *sseConn) watch() {
	var b [1]byte
	for {
		if _, err := s.conn.Read(b[:]); err != nil {
			s.close("cancelled request", nil)
			return
		}
	}
}

// ready is the client's OnReady callback: a discarded client is closed at once (which
// also unblocks a stuck write); otherwise a writer goroutine is started unless one runs.
func (s *sseConn) ready() {
	if s.client.IsDiscarded() {
		s.close("discarded client", nil)
		return
	}
	if !s.flushing.Load() {
		go s.flush()
	}
}

// flush writes the pending messages until there are none left, one writer at a time.
func (s *sseConn) flush() {
	for s.flushing.CompareAndSwap(false, true) {
		ok := s.writePending()
		s.flushing.Store(false)
		// note: a message queued after writePending's last check found this writer
		// still flagged as running; it is picked up here.
		if !ok || len(s.client.Ready()) == 0 {
			return
		}
	}
}

// writePending writes the queued messages while there are some; false when the
// stream ended.
func (s *sseConn) writePending() bool {
	var batch []realtime.Message
	for {
		select {
		case _, open := <-s.client.Ready():
			if !open {
				s.close("discarded client", nil)
				return false
			}
			batch = s.client.Drain(batch[:0])
			if err := s.write(nil, batch); err != nil {
				s.close("failed to deliver message", err)
				return false
			}
			clear(batch)
			s.tmu.Lock()
			if !s.closed.Load() {
				s.idle.Reset(s.idleTimeout)
			}
			s.tmu.Unlock()
		default:
			return true
		}
	}
}

// write sends prefix, then the messages as one chunk of the response body.
func (s *sseConn) write(prefix []byte, batch []realtime.Message) error {
	var body bytes.Buffer
	for i := range batch {
		if err := batch[i].WriteSSE(&body, s.client.ID()); err != nil {
			return err
		}
	}

	buf := bytes.NewBuffer(prefix)
	buf.WriteString(strconv.FormatInt(int64(body.Len()), 16))
	buf.WriteString("\r\n")
	buf.Write(body.Bytes())
	buf.WriteString("\r\n")

	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.conn.SetWriteDeadline(time.Now().Add(sseWriteTimeout)); err != nil {
		return err
	}
	if _, err := s.conn.Write(buf.Bytes()); err != nil {
		return err
	}
	for range batch {
		s.api.metrics.RealtimeMessageSent()
	}

	return nil
}

// close ends the stream once: the chunked body is terminated when no write is under
// way, the connection closed and the client unregistered.
func (s *sseConn) close(reason string, err error) {
	if !s.closed.CompareAndSwap(false, true) {
		return
	}
	s.tmu.Lock()
	if s.idle != nil {
		s.idle.Stop()
		s.lifetime.Stop()
	}
	s.tmu.Unlock()
	if s.wmu.TryLock() {
		_ = s.conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = s.conn.Write([]byte("0\r\n\r\n"))
		s.wmu.Unlock()
	}
	_ = s.conn.Close()
	s.broker.Unregister(s.client.ID())
	s.done()
	s.api.logRealtime(context.Background(), "Realtime connection closed ("+reason+")", s.client, err)
}
