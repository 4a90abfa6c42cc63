package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// collectionRouteTags are the rate limit tags of the per-collection routes, keyed by
// method and route pattern, as PocketBase binds collectionPathRateLimit to them
// (apis/record_crud.go, record_auth.go, file.go). A rule label is "<collection>:<tag>"
// or "*:<tag>".
var collectionRouteTags = map[string][]string{
	"GET /api/collections/:collection/records":        {"list"},
	"GET /api/collections/:collection/records/:id":    {"view"},
	"POST /api/collections/:collection/records":       {"create"},
	"PATCH /api/collections/:collection/records/:id":  {"update"},
	"DELETE /api/collections/:collection/records/:id": {"delete"},

	"GET /api/collections/:collection/auth-methods":            {"listAuthMethods"},
	"POST /api/collections/:collection/auth-refresh":           {"authRefresh"},
	"POST /api/collections/:collection/auth-with-password":     {"authWithPassword", "auth"},
	"POST /api/collections/:collection/auth-with-oauth2":       {"authWithOAuth2", "auth"},
	"POST /api/collections/:collection/auth-with-otp":          {"authWithOTP", "auth"},
	"POST /api/collections/:collection/request-otp":            {"requestOTP"},
	"POST /api/collections/:collection/request-password-reset": {"requestPasswordReset"},
	"POST /api/collections/:collection/confirm-password-reset": {"confirmPasswordReset"},
	"POST /api/collections/:collection/request-verification":   {"requestVerification"},
	"POST /api/collections/:collection/confirm-verification":   {"confirmVerification"},
	"POST /api/collections/:collection/request-email-change":   {"requestEmailChange"},
	"POST /api/collections/:collection/confirm-email-change":   {"confirmEmailChange"},

	"GET /api/files/:collection/:recordId/:filename": {"file"},
}

var (
	rateLimitAuthAudience  = []string{core.RateLimitAudienceAll, core.RateLimitAudienceAuth}
	rateLimitGuestAudience = []string{core.RateLimitAudienceAll, core.RateLimitAudienceGuest}
)

// rateLimit applies settings.rateLimits (apis/middlewares_rate_limit.go, §1.8): unless
// the limiter is off, the request is a superuser's or its client IP is excluded, the
// first rule matching the request's labels and audience allows rule.maxRequests per
// rule.duration seconds and client IP, and answers 429 "Too Many Requests." beyond.
//
// The labels are tried in PocketBase's order: for a collection route
// "<collection>:<tag>" for each of its tags, then "*:<tag>", then, for every route,
// "<METHOD> <path>" and "<path>" (a rule label ending in "/" matching as a prefix).
// Each collection route has its own counters per collection; the other routes share
// one per rule. A HEAD request counts as the GET of its route, as PocketBase's GET
// patterns serve HEAD too.
func (a *api) rateLimit() gin.HandlerFunc {
	return handle(func(c *gin.Context) error {
		method := c.Request.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		pattern := method + " " + c.FullPath()
		tags, ok := collectionRouteTags[pattern]
		if !ok {
			if a.skipRateLimit(c) {
				return nil
			}
			return a.checkRateLimit(c, nil, "", nil)
		}

		// PocketBase's record CRUD handlers check their limit inline, after their own
		// collection lookup and view check; the other collection routes are guarded
		// by a middleware that answers a missing collection first, limits on or off.
		_, inline := recordCrudTags[tags[0]]
		collection, err := a.app.FindCachedCollectionByNameOrID(c.Request.Context(), c.Param("collection"))
		switch {
		case err != nil && inline:
			return nil
		case err != nil:
			return NewNotFoundError(msgMissingCollectionContext, err)
		case a.skipRateLimit(c), inline && method != http.MethodGet && collection.IsView():
			return nil
		}

		return a.checkRateLimit(c, collection, pattern, tags)
	})
}

// recordCrudTags are the tags of the record CRUD routes.
var recordCrudTags = map[string]struct{}{"list": {}, "view": {}, "create": {}, "update": {}, "delete": {}}

// skipRateLimit reports whether settings.rateLimits leave c alone: the limiter is
// off or a superuser asks.
func (a *api) skipRateLimit(c *gin.Context) bool {
	return !a.app.RequestSettings().RateLimits.Enabled || hasSuperuserAuth(c)
}

// checkBatchItemRateLimit applies the collection rules of a batch sub-request's record
// action, as PocketBase's record handlers check them inline for each sub-request
// (checkCollectionRateLimit): the labels of the sub-request's collection, tag, method
// and path, counted apart from the routes (a sub-request has no route pattern). A view
// collection is left to the handler, whose "Unsupported collection type." comes first.
func (a *api) checkBatchItemRateLimit(c *gin.Context, collectionName, tag string) error {
	if a.skipRateLimit(c) {
		return nil
	}
	collection, err := a.app.FindCachedCollectionByNameOrID(c.Request.Context(), collectionName)
	if err != nil || collection.IsView() {
		return nil // the handler answers for a missing or view collection
	}

	return a.checkRateLimit(c, collection, "", []string{tag})
}

// checkRateLimit finds the first rule for the labels of c (with collection's tags when
// collection is set) and consumes one request of the client's window: per collection,
// pattern and tags for a collection action, per rule otherwise.
func (a *api) checkRateLimit(c *gin.Context, collection *core.Collection, pattern string, tags []string) error {
	rs := a.app.RequestSettings()
	settings := rs.RateLimits
	ip := realIP(c.Request, rs.TrustedProxy)
	if ipListed(settings.ExcludedIPs, ip) {
		return nil
	}

	path := c.Request.URL.Path
	labels := make([]string, 0, 2*len(tags)+2)
	limiterID := ""
	if collection != nil {
		limiterID = collection.ID + pattern
		for _, tag := range tags {
			limiterID += tag
			labels = append(labels, collection.Name+":"+tag)
		}
		for _, tag := range tags {
			labels = append(labels, "*:"+tag)
		}
	}
	labels = append(labels, c.Request.Method+" "+path, path)

	audience := rateLimitGuestAudience
	if authRecord(c) != nil {
		audience = rateLimitAuthAudience
	}
	rule, ok := settings.FindRule(labels, audience...)
	if !ok {
		return nil
	}
	if limiterID == "" {
		limiterID = rule.Label
	}
	if !a.limiters.allow(limiterID+rule.Audience, rule, ip) {
		return NewTooManyRequestsError("", errors.New("triggered rate limit rule: "+rule.Label))
	}

	return nil
}

// rateLimiterSweepInterval is how often idle clients are dropped from the limiters.
const rateLimiterSweepInterval = 10 * time.Minute

// rateLimiterIdle is how long after its window a client's counter is kept.
const rateLimiterIdle = 30 * time.Minute

// rateLimiters holds the fixed-window counters of every limiter and client.
type rateLimiters struct {
	mu        sync.Mutex
	windows   map[rateWindowKey]*fixedWindow
	lastSweep time.Time
	now       func() time.Time
}

// rateWindowKey names one client's counter of one limiter; the rule's figures are part
// of it, so that a settings change starts new windows, as PocketBase resets its
// limiters on a settings reload.
type rateWindowKey struct {
	limiter string
	rule    string
	client  string
}

// fixedWindow counts the requests left in the current window of one client.
type fixedWindow struct {
	available int
	interval  int64 // seconds
	start     int64 // unix seconds the current window started at
}

// appRateLimiters holds the limiters of each app, so that every router of one app (as
// PocketBase keeps them in its app store) counts the same requests.
var appRateLimiters sync.Map // *core.App -> *rateLimiters

// rateLimitersOf returns app's limiters.
func rateLimitersOf(app *core.App) *rateLimiters {
	if l, ok := appRateLimiters.Load(app); ok {
		return l.(*rateLimiters) //nolint:forcetypeassert // only limiters are stored
	}
	l, _ := appRateLimiters.LoadOrStore(app, &rateLimiters{windows: map[rateWindowKey]*fixedWindow{}, now: time.Now})

	return l.(*rateLimiters) //nolint:forcetypeassert // only limiters are stored
}

// allow consumes one request of client's window in limiter under rule, as PocketBase's
// rateClient.consume: a window opens with maxRequests at the first request and a new
// one at the first request `duration` seconds or more after it opened, however many
// were refused meanwhile. It reports false when none is left.
func (l *rateLimiters) allow(limiter string, rule core.RateLimitRule, client string) bool {
	if client == "" {
		return true
	}
	now := l.now()
	key := rateWindowKey{
		limiter: limiter,
		rule:    strconv.Itoa(rule.MaxRequests) + "/" + strconv.FormatInt(rule.Duration, 10),
		client:  client,
	}

	l.mu.Lock()
	defer l.mu.Unlock()

	if now.Sub(l.lastSweep) > rateLimiterSweepInterval {
		l.sweep(now)
	}

	w, ok := l.windows[key]
	if !ok {
		w = &fixedWindow{interval: rule.Duration}
		l.windows[key] = w
	}
	unix := now.Unix()
	if unix-w.start >= w.interval {
		w.available = rule.MaxRequests
		w.start = unix
	}
	if w.available <= 0 {
		return false
	}
	w.available--

	return true
}

// sweep drops the counters whose window ended more than rateLimiterIdle ago.
func (l *rateLimiters) sweep(now time.Time) {
	l.lastSweep = now
	unix := now.Unix()
	for k, w := range l.windows {
		if unix-(w.start+w.interval) > int64(rateLimiterIdle/time.Second) {
			delete(l.windows, k)
		}
	}
}
