package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// errorWriter writes the error a handler or an inner middleware left on the context
// (see handle) in PocketBase's error shape. It is the only place errors are written.
func errorWriter() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()

		if last := c.Errors.Last(); last != nil {
			writeError(c, last.Err)
		}
	}
}

// panicRecover turns a panic in an inner handler into a 500 ApiError, as PocketBase's
// panicRecover middleware does. http.ErrAbortHandler is re-panicked so that net/http
// can abort the response.
func panicRecover() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}

			err, ok := p.(error)
			if !ok {
				err = fmt.Errorf("%v", p)
			} else if errors.Is(err, http.ErrAbortHandler) {
				panic(p)
			}

			stack := make([]byte, 2<<10)
			stack = stack[:runtime.Stack(stack, false)]

			_ = c.Error(NewInternalServerError("", fmt.Errorf("recovered panic: %w\n%s", err, stack)))
			c.Abort()
		}()

		c.Next()
	}
}

// securityHeaders adds PocketBase's security headers (apis/middlewares.go) to every
// response that reaches the router.
func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-XSS-Protection", "1; mode=block")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		c.Next()
	}
}

// requestLogger logs one line per request with slog. Only the path is logged, never the
// query string, which may carry file tokens.
//
// note: the request logs PocketBase stores in auxiliary.db `_logs` are written by the
// activity logger (logs_activity.go).
func requestLogger(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()

		status := c.Writer.Status()
		attrs := []slog.Attr{
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000),
			slog.String("remoteAddr", c.Request.RemoteAddr),
		}

		level := slog.LevelInfo
		if last := c.Errors.Last(); last != nil {
			if cause := errors.Unwrap(ToApiError(last.Err)); cause != nil {
				attrs = append(attrs, slog.String("error", cause.Error()))
			}
		}
		switch {
		case status >= http.StatusInternalServerError:
			level = slog.LevelError
		case status >= http.StatusBadRequest:
			level = slog.LevelWarn
		}

		logger.LogAttrs(c.Request.Context(), level, "request", attrs...)
	}
}

// CORSConfig configures the CORS middleware.
type CORSConfig struct {
	// AllowOrigins are the allowed origins; "*" allows any, and "*" and "?" inside an
	// origin are wildcards ("https://*.example.com").
	AllowOrigins []string
	// AllowMethods are announced to preflight requests.
	AllowMethods []string
}

// DefaultCORSConfig is PocketBase's default: any origin, the REST methods.
var DefaultCORSConfig = CORSConfig{
	AllowOrigins: []string{"*"},
	AllowMethods: []string{
		http.MethodGet, http.MethodHead, http.MethodPut,
		http.MethodPatch, http.MethodPost, http.MethodDelete,
	},
}

// cors implements PocketBase's CORS middleware (apis/middlewares_cors.go with its
// default config): it runs before everything else, adds `Vary: Origin` to every
// response, and answers every OPTIONS request itself with 204, so that preflights skip
// the other middlewares (and thus carry no security headers), as with PocketBase.
func cors(cfg CORSConfig) gin.HandlerFunc {
	if len(cfg.AllowOrigins) == 0 {
		cfg.AllowOrigins = DefaultCORSConfig.AllowOrigins
	}
	if len(cfg.AllowMethods) == 0 {
		cfg.AllowMethods = DefaultCORSConfig.AllowMethods
	}

	var patterns []*regexp.Regexp
	for _, o := range cfg.AllowOrigins {
		if o == "*" || !strings.ContainsAny(o, "*?") {
			continue
		}
		p := regexp.QuoteMeta(o)
		p = strings.ReplaceAll(p, `\*`, ".*")
		p = strings.ReplaceAll(p, `\?`, ".")
		patterns = append(patterns, regexp.MustCompile("^"+p+"$"))
	}

	allowMethods := strings.Join(cfg.AllowMethods, ",")

	allowedOrigin := func(origin string) string {
		for _, o := range cfg.AllowOrigins {
			if o == "*" || o == origin {
				return o
			}
		}
		// PocketBase only tries the patterns on something URL-like of sane length.
		if len(origin) <= 253+3+5 && strings.Contains(origin, "://") {
			for _, re := range patterns {
				if re.MatchString(origin) {
					return origin
				}
			}
		}
		return ""
	}

	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Add("Vary", "Origin")

		preflight := c.Request.Method == http.MethodOptions
		origin := c.Request.Header.Get("Origin")

		allow := ""
		if origin != "" {
			allow = allowedOrigin(origin)
		}

		if allow == "" {
			if preflight {
				c.AbortWithStatus(http.StatusNoContent)
				return
			}
			c.Next()
			return
		}

		h.Set("Access-Control-Allow-Origin", allow)
		if !preflight {
			c.Next()
			return
		}

		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", allowMethods)
		if reqHeaders := c.Request.Header.Get("Access-Control-Request-Headers"); reqHeaders != "" {
			h.Set("Access-Control-Allow-Headers", reqHeaders)
		}
		c.AbortWithStatus(http.StatusNoContent)
	}
}
