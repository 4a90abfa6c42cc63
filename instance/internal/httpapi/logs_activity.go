package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// ctxKeySkipSuccessActivityLog marks a request whose success is not logged
// (apis.SkipSuccessActivityLog).
const ctxKeySkipSuccessActivityLog = "pocketfleet.skipSuccessActivityLog"

// realtimePath is the SSE stream, which holds its request for as long as the client
// stays connected and so never holds the data directory (see holdData).
const realtimePath = "/api/realtime"

// skipSuccessActivityLog makes the activity logger log the request only when it fails.
func skipSuccessActivityLog(c *gin.Context) error {
	c.Set(ctxKeySkipSuccessActivityLog, true)
	return nil
}

// activityLogger stores a request log in auxiliary.db `_logs` for every request, as
// PocketBase's activityLogger middleware does (apis/middlewares.go logRequest): the
// level is error when the handler failed and info otherwise, the message is
// "METHOD /unescaped/uri", and data holds type "request", url, method, status,
// execTime (ms), auth, referer, userAgent, plus userIP/remoteIP (settings.logs.logIP),
// authId (settings.logs.logAuthId) and error/details for failures. The log is queued
// (core.App.AddLog): the write happens in batches, off the request path.
func (a *api) activityLogger() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()

		settings := a.app.Settings().Logs
		if settings.MaxDays <= 0 {
			return
		}

		var reqErr error
		if last := c.Errors.Last(); last != nil {
			reqErr = last.Err
		}
		if reqErr == nil && c.GetBool(ctxKeySkipSuccessActivityLog) {
			return
		}

		r := c.Request
		method := cutStr(strings.ToUpper(r.Method), 50)
		requestURI := cutStr(r.URL.RequestURI(), 3000)
		status := c.Writer.Status()

		data := map[string]any{
			"type":      "request",
			"execTime":  float64(time.Since(start)) / float64(time.Millisecond),
			"url":       requestURI,
			"method":    method,
			"status":    status,
			"referer":   cutStr(r.Referer(), 2000),
			"userAgent": cutStr(r.UserAgent(), 2000),
			"auth":      "",
		}

		level := core.LogLevelInfo
		if reqErr != nil {
			level = core.LogLevelError
			apiErr := ToApiError(reqErr)
			if !c.Writer.Written() {
				data["status"] = apiErr.Status
			}
			data["error"] = apiErr.Message
			var details any
			if cause := errors.Unwrap(apiErr); cause != nil {
				details = cause.Error()
			}
			data["details"] = details
		}

		if record := authRecord(c); record != nil {
			data["auth"] = record.Collection().Name
			if settings.LogAuthID {
				data["authId"] = record.ID()
			}
		}
		if settings.LogIP {
			data["userIP"] = realIP(r, a.app.Settings().TrustedProxy)
			data["remoteIP"] = remoteIP(r)
		}

		message := method + " "
		if unescaped, err := url.PathUnescape(requestURI); err == nil {
			message += unescaped
		} else {
			message += requestURI
		}

		a.app.AddLog(core.LogEntry{Level: level, Message: message, Data: data})
	}
}

// holdData holds the data directory for the request (core.App.HoldData), so that a
// restore swaps the databases only between requests. The realtime stream is exempt.
func (a *api) holdData() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.URL.Path == realtimePath && c.Request.Method == http.MethodGet {
			c.Next()
			return
		}
		release := a.app.HoldData()
		defer release()
		c.Next()
	}
}

func cutStr(s string, maxLen int) string {
	if len(s) > maxLen {
		return s[:maxLen] + "..."
	}
	return s
}
