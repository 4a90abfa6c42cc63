package httpapi

import (
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/metrics"
)

// HandlerFunc is an API handler: it writes a success response itself and returns any
// error for the error middleware to write.
type HandlerFunc func(c *gin.Context) error

// handle adapts a HandlerFunc to gin: a returned error is recorded on the context and
// the chain stops; errorWriter writes it.
func handle(h HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			_ = c.Error(err)
			c.Abort()
		}
	}
}

// routes registers handlers on a gin group with PocketBase's method rules.
type routes struct {
	group *gin.RouterGroup
}

// GET registers h for GET and, as Go's ServeMux does for PocketBase, HEAD.
func (r routes) GET(path string, h HandlerFunc) {
	r.group.GET(path, handle(h))
	r.group.HEAD(path, handle(h))
}

// POST registers handlers for POST; all but the last are route middlewares, which stop
// the chain by returning an error.
func (r routes) POST(path string, handlers ...HandlerFunc) {
	chain := make([]gin.HandlerFunc, len(handlers))
	for i, h := range handlers {
		chain[i] = handle(h)
	}
	r.group.POST(path, chain...)
}

// api holds what the handlers need.
type api struct {
	app *core.App
	// engine runs the batch sub-requests' handlers.
	engine *gin.Engine
	// metrics records the API's metrics (WithMetrics); nil records nothing.
	metrics *metrics.Metrics
	// limiters enforce settings.rateLimits.
	limiters *rateLimiters
	// origins are the CORS allowed origins (WithAllowedOrigins); none allows any.
	origins []string
}

var ginModeOnce sync.Once

// NewRouter returns the HTTP handler of the instance: the PocketBase-compatible API of
// app. Routes are all registered here.
func NewRouter(app *core.App, opts ...Option) http.Handler {
	// note: a ServeMux in front reproduces the canonical-path redirect PocketBase's
	// router does before any middleware runs (e.g. /api//health → 307 /api/health).
	mux := http.NewServeMux()
	mux.Handle("/", newEngine(app, opts...))

	return mux
}

// newEngine builds the gin engine with its middlewares and routes.
func newEngine(app *core.App, opts ...Option) *gin.Engine {
	ginModeOnce.Do(func() { gin.SetMode(gin.ReleaseMode) })

	e := gin.New()
	// note: PocketBase routes with net/http.ServeMux: no trailing-slash or fixed-path
	// redirects, no 405s (a wrong method falls through to the catch-all 404), and path
	// values are matched on the escaped path.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = false
	e.UseRawPath = true
	e.UnescapePathValues = true
	e.ContextWithFallback = true
	// gin's own client IP is unused: realIP reads settings.trustedProxy (realip.go).
	_ = e.SetTrustedProxies(nil)

	a := &api{app: app, engine: e, limiters: rateLimitersOf(app)}
	for _, opt := range opts {
		opt(a)
	}
	if a.metrics != nil {
		bindAppMetrics(app, a.metrics)
		e.Use(requestMetrics(a.metrics))
	}

	// Middleware order follows PocketBase's priorities: CORS, activity logger, panic
	// recover, auth loader, superuser IPs, security headers, rate limit. The
	// data directory hold (holdData) lets a backup restore swap the databases between
	// requests only.
	e.Use(
		cors(CORSConfig{AllowOrigins: a.origins}),
		requestLogger(app.ProcessLogger()),
		a.activityLogger(),
		a.holdData(),
		errorWriter(),
		panicRecover(),
		a.loadAuthToken(),
		a.superuserIPCheck(),
		securityHeaders(),
		a.rateLimit(),
	)

	apiGroup := routes{group: e.Group("/api")}
	apiGroup.GET("/health", a.health)
	a.registerRecordAuthRoutes(apiGroup)
	a.registerSettingsRoutes(apiGroup)
	a.registerCollectionRoutes(apiGroup)
	a.registerRecordCrudRoutes(apiGroup)
	a.registerRecordWriteRoutes(apiGroup)
	a.registerBatchRoutes(apiGroup)
	a.registerRealtimeRoutes(apiGroup)
	a.registerOAuth2RedirectRoute(apiGroup)
	a.registerLogsRoutes(apiGroup)
	a.registerCronRoutes(apiGroup)
	a.registerBackupRoutes(apiGroup)
	a.registerFileRoutes(apiGroup)
	a.registerSQLRoutes(apiGroup)

	// Catch-all: any unknown path, or a known path with another method, is a JSON 404.
	e.NoRoute(handle(func(c *gin.Context) error {
		return NewNotFoundError("", nil)
	}))

	return e
}
