package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/realtime"
)

// Realtime timings (apis/realtime.go); variables for the tests only.
var (
	// realtimeIdleTimeout closes a connection that has had no message for that long.
	realtimeIdleTimeout = 5 * time.Minute
	// realtimeMaxLifetime closes any connection after that long (v0.38.2); the SDK
	// reconnects and resubmits its topics.
	realtimeMaxLifetime = 30 * time.Minute
)

// Realtime limits (apis/realtime.go).
const (
	realtimeMaxClientIDLength     = 255
	realtimeMaxSubscriptions      = 1000
	realtimeMaxSubscriptionLength = 2500

	// realtimeConnectEvent is the name of the first message of every stream.
	realtimeConnectEvent = "PB_CONNECT"
)

// Keys of a realtime client's store.
const (
	// realtimeClientAuthKey holds the client's auth *core.Record (nil for a guest).
	realtimeClientAuthKey = "auth"
	// realtimeClientIPKey holds the IP of the SSE connection.
	realtimeClientIPKey = "ip"
)

// Messages of the realtime routes.
const (
	msgRealtimeInvalidClientID = "Missing or invalid client id."
	msgRealtimeInvalidClient   = "Invalid realtime client."
	msgRealtimeAuthMismatch    = "The current and the previous request authorization don't match."
)

// registerRealtimeRoutes registers GET (the SSE stream) and POST (set subscriptions)
// /api/realtime, and binds the app's record events to the broadcast.
func (a *api) registerRealtimeRoutes(r routes) {
	realtimeFor(a.app) // binds the record events once per app
	r.group.GET("/realtime", handle(skipSuccessActivityLog), handle(a.realtimeConnect))
	r.group.HEAD("/realtime", handle(skipSuccessActivityLog), handle(a.realtimeConnect))
	r.POST("/realtime", a.realtimeSetSubscriptions)
}

// realtimeConnect is GET /api/realtime: it registers a new client and streams its
// messages as server-sent events, PB_CONNECT first, until the client goes away, the
// connection is idle for 5 minutes or 30 minutes old, the client is discarded (a slow
// consumer, or server shutdown) or the request is cancelled.
//
// HEAD answers as PocketBase's GET pattern does for it: 200 with the stream's headers
// and no body.
//
// note: PocketBase then keeps the bodiless HEAD response open, as a client nobody can
// subscribe (its id is never sent), until the idle timeout or the client goes away;
// here it ends once the headers are sent.
func (a *api) realtimeConnect(c *gin.Context) error {
	// The server's WriteTimeout would cut the stream: lift it for this response.
	// note: the ReadTimeout needs nothing: net/http clears the read deadline when it
	// starts watching a bodiless request's connection for the client going away.
	rc := http.NewResponseController(c.Writer)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return NewInternalServerError("Failed to initialize SSE connection.", err)
	}

	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	// https://github.com/pocketbase/pocketbase/discussions/480#discussioncomment-3657640
	h.Set("X-Accel-Buffering", "no")

	if c.Request.Method == http.MethodHead {
		c.Status(http.StatusOK)
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}

	broker := realtimeFor(a.app).broker
	client := realtime.NewClient()
	client.Set(realtimeClientIPKey, a.clientIP(c))
	broker.Register(client)
	a.logRealtime(c.Request.Context(), "Realtime connection established.", client, nil)

	// note: on HTTP/1.1 the connection is hijacked, so that an idle stream keeps no
	// handler goroutine nor net/http buffers (see sseConn).
	if a.hijackRealtime(c, client, broker) {
		return nil
	}

	defer a.metrics.RealtimeConnected()()
	defer broker.Unregister(client.ID())

	ctx := c.Request.Context()

	c.Status(http.StatusOK)
	connect := realtime.Message{Name: realtimeConnectEvent, Data: []byte(`{"clientId":"` + client.ID() + `"}`)}
	if err := a.writeSSE(c, rc, &connect, client.ID()); err != nil {
		a.logRealtime(ctx, "Realtime connection closed (failed to deliver PB_CONNECT)", client, err)
		return nil
	}

	idleTimeout := realtimeIdleTimeout
	idle := time.NewTimer(idleTimeout)
	defer idle.Stop()
	lifetime := time.NewTimer(realtimeMaxLifetime)
	defer lifetime.Stop()

	var batch []realtime.Message
	for {
		select {
		case <-idle.C:
			a.logRealtime(ctx, "Realtime connection closed (idle)", client, nil)
			return nil
		case <-lifetime.C:
			a.logRealtime(ctx, "Realtime connection closed (max lifetime)", client, nil)
			return nil
		case <-ctx.Done():
			a.logRealtime(ctx, "Realtime connection closed (cancelled request)", client, nil)
			return nil
		case _, ok := <-client.Ready():
			if !ok {
				a.logRealtime(ctx, "Realtime connection closed (discarded client)", client, nil)
				return nil
			}
			batch = client.Drain(batch[:0])
			for i := range batch {
				if err := a.writeSSE(c, rc, &batch[i], client.ID()); err != nil {
					a.logRealtime(ctx, "Realtime connection closed (failed to deliver message)", client, err)
					return nil
				}
			}
			clear(batch) // drop the payloads until the next batch
			if cap(batch) > 16 {
				batch = nil // and a burst's buffer: idle connections stay small
			}
			idle.Reset(idleTimeout)
		}
	}
}

// logRealtime logs a debug line about a connection.
//
// note: not inlined, so that its attributes don't take room in realtimeConnect's stack
// frame, which every idle connection keeps.
//
//go:noinline
func (a *api) logRealtime(ctx context.Context, msg string, client *realtime.Client, err error) {
	attrs := []slog.Attr{slog.String("clientId", client.ID())}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	a.app.Logger().LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
}

// writeSSE writes one message and flushes it to the client.
func (a *api) writeSSE(c *gin.Context, rc *http.ResponseController, m *realtime.Message, clientID string) error {
	if err := m.WriteSSE(c.Writer, clientID); err != nil {
		return err
	}
	if err := rc.Flush(); err != nil {
		return err
	}
	a.metrics.RealtimeMessageSent()

	return nil
}

// clientIP is the request's client IP as PocketBase's RealIP reads it (§1.10).
func (a *api) clientIP(c *gin.Context) string {
	return realIP(c.Request, a.app.Settings().TrustedProxy)
}

// realtimeSubscribeForm is the body of POST /api/realtime.
type realtimeSubscribeForm struct {
	ClientID      string   `json:"clientId" form:"clientId" xml:"clientId"`
	Subscriptions []string `json:"subscriptions" form:"subscriptions" xml:"subscriptions"`
}

// validate applies PocketBase's rules: clientId required, 1–255 characters; at most
// 1000 subscriptions of at most 2500 characters each. The error is PocketBase's
// generic 400 with the failures as data.
func (f *realtimeSubscribeForm) validate() error {
	errs := formErrors{}
	errs.requiredString("clientId", f.ClientID, 1, realtimeMaxClientIDLength)

	data := map[string]any{}
	for field, item := range errs {
		data[field] = item
	}
	if len(f.Subscriptions) > realtimeMaxSubscriptions {
		data["subscriptions"] = lengthTooLong(realtimeMaxSubscriptions)
	} else {
		items := map[string]any{}
		for i, s := range f.Subscriptions {
			if utf8.RuneCountInString(s) > realtimeMaxSubscriptionLength {
				items[strconv.Itoa(i)] = lengthTooLong(realtimeMaxSubscriptionLength)
			}
		}
		if len(items) > 0 {
			data["subscriptions"] = items
		}
	}
	if len(data) == 0 {
		return nil
	}

	apiErr := NewBadRequestError("", nil)
	apiErr.Data = data

	return apiErr
}

// lengthTooLong is ozzo-validation's Length(0, max) error.
func lengthTooLong(maxLen int) validationItem {
	return validationItem{
		Code:    "validation_length_too_long",
		Message: "The length must be no more than " + strconv.Itoa(maxLen) + ".",
		Params:  map[string]any{"min": 0, "max": maxLen},
	}
}

// realtimeSetSubscriptions is POST /api/realtime: it replaces the topics of a client
// and binds the request's auth to it (204). Unknown client 404; a request from another
// IP than the stream's 400; an auth that differs from the one already bound 403 (only
// guest → auth upgrades are allowed).
func (a *api) realtimeSetSubscriptions(c *gin.Context) error {
	form := &realtimeSubscribeForm{}
	if err := bindFixedForm(c, form); err != nil {
		if apiErr := ToApiError(err); apiErr.Status == http.StatusRequestEntityTooLarge {
			return apiErr
		}
		return NewBadRequestError("", err)
	}
	if err := form.validate(); err != nil {
		return err
	}

	client, err := realtimeFor(a.app).broker.ClientByID(form.ClientID)
	if err != nil {
		return NewNotFoundError(msgRealtimeInvalidClientID, err)
	}

	if ip, _ := client.Get(realtimeClientIPKey).(string); ip != "" && ip != a.clientIP(c) {
		return NewBadRequestError(msgRealtimeInvalidClient, nil)
	}

	auth := authRecord(c)
	if prev := realtimeFor(a.app).clientAuth(c.Request.Context(), client); prev != nil && !isSameAuth(prev, auth) {
		return NewForbiddenError(msgRealtimeAuthMismatch, nil)
	}

	client.Set(realtimeClientAuthKey, auth)
	client.SetSubscriptions(form.Subscriptions...)

	a.app.Logger().LogAttrs(c.Request.Context(), slog.LevelDebug, "Realtime subscriptions updated.",
		slog.String("clientId", client.ID()), slog.Any("subscriptions", form.Subscriptions))

	c.Status(http.StatusNoContent)
	c.Writer.WriteHeaderNow()

	return nil
}

// isSameAuth reports whether two auth records (nil for a guest) are the same record.
func isSameAuth(x, y *core.Record) bool {
	if x == nil || y == nil {
		return x == y
	}

	return x.ID() == y.ID() && x.Collection().ID == y.Collection().ID
}
