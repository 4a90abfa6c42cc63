package httpapi

import (
	"crypto/rand"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// superuserOnlyQueryFields may appear in the filter and sort of superusers only.
var superuserOnlyQueryFields = []string{"@collection.", "@request."}

// recordsList is GET /api/collections/{collection}/records (apis/record_crud.go
// recordsList): a null listRule is superusers only (403), "" lists everything and an
// expression filters the rows; page, perPage, sort, filter, skipTotal, expand and
// fields as §3.3.1.
//
// A non-superuser whose filtered list of a collection with a list rule expression comes
// back empty more than listTimingMaxRequests times within listTimingWindow is answered
// after a random pause of up to listThrottleMax, as PocketBase does against timing
// attacks on the rule.
func (a *api) recordsList(c *gin.Context) error {
	ctx := c.Request.Context()

	collection, err := a.readCollection(c)
	if err != nil {
		return err
	}

	info := readRequestInfo(c)
	superuser := info.HasSuperuserAuth()
	if !superuser && collection.ListRule == nil {
		return NewForbiddenError(msgSuperusersOnlyAction, nil)
	}
	if !superuser {
		for _, param := range []string{search.FilterQueryParam, search.SortQueryParam} {
			value := info.Query[param]
			for _, field := range superuserOnlyQueryFields {
				if strings.Contains(value, field) {
					return NewForbiddenError(msgSuperusersOnlyFilterBy+field, nil)
				}
			}
		}
	}

	query := core.RecordQuery(collection)
	resolver := a.app.NewRecordFieldResolver(ctx, collection, info, true)
	if !superuser && *collection.ListRule != "" {
		expr, err := search.FilterData(*collection.ListRule).BuildExpr(resolver)
		if err != nil {
			return NewBadRequestError("", err)
		}
		query.AndWhere(expr)
	}
	// the client's filter and sort: hidden fields are reachable by superusers only, and a
	// non-superuser's joins subject the list to the joined collections' listRules (a
	// null one fails the request)
	resolver.SetAllowHiddenFields(superuser)

	provider := search.NewProvider(resolver).Query(query)
	if !collection.IsView() {
		provider.CountCol(search.RowidColumn)
		if len(collection.Indexes) == 0 {
			// a descending sort ending with the id reads the rows newest first: no
			// declared index could serve it instead
			provider.UniqueKey(core.FieldNameID)
		}
	}
	if err := provider.ParseValues(c.Request.URL.Query()); err != nil {
		return NewBadRequestError("", err)
	}
	plan, err := provider.Build()
	if err != nil {
		return NewBadRequestError("", err)
	}

	records, err := a.app.QueryRecords(ctx, collection, plan.Items)
	if err != nil {
		return NewBadRequestError("", err)
	}
	total := 0
	if !plan.SkipTotal {
		if total, err = a.app.CountRecords(ctx, plan.Count); err != nil {
			return NewBadRequestError("", err)
		}
	}

	if err := a.enrichRecords(c, records, info); err != nil {
		return NewBadRequestError("", err)
	}

	if !superuser && *collection.ListRule != "" && info.Query[search.FilterQueryParam] != "" &&
		len(records) == 0 && !a.limiters.allow("@listTiming "+collection.ID, listTimingRule, a.clientIP(c)) {
		a.app.Logger().Debug("Randomized throttle because of too many failed searches", slog.String("collectionId", collection.ID))
		listThrottleSleep(randomDuration(listThrottleMax))
	}

	return writeJSON(c, http.StatusOK, plan.Result(exportRecords(records, info), total))
}

// The randomized throttle of empty filtered lists (PocketBase's listTimingRateLimitRule
// and randomizedThrottle(500)).
const listThrottleMax = 500 * time.Millisecond

// listTimingRule counts a client's empty filtered lists of one collection: from the
// fourth within 3 s, the answer is throttled.
var listTimingRule = core.RateLimitRule{MaxRequests: 3, Duration: 3}

// listThrottleSleep pauses a throttled answer; tests replace it.
var listThrottleSleep = time.Sleep

// randomDuration returns a duration in [0, limit) from crypto/rand, or limit when that
// fails.
func randomDuration(limit time.Duration) time.Duration {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(limit)))
	if err != nil {
		return limit
	}
	return time.Duration(n.Int64())
}
