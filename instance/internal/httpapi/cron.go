package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// registerCronRoutes adds the superuser-only crons API (apis/cron.go).
func (a *api) registerCronRoutes(r routes) {
	su := requireSuperuserAuth()

	r.add(http.MethodGet, "/crons", su, a.cronsList)
	r.add(http.MethodPost, "/crons/:id", su, a.cronRun)
}

// cronsList is GET /api/crons: [{"id","expression"}], the other jobs sorted by id first,
// then the "__pb" system jobs in registration order (PocketBase's stable sort).
func (a *api) cronsList(c *gin.Context) error {
	jobs := a.app.CronJobs()
	slices.SortStableFunc(jobs, func(x, y core.CronJob) int {
		xs, ys := strings.HasPrefix(x.ID, "__pb"), strings.HasPrefix(y.ID, "__pb")
		switch {
		case xs && ys:
			return 0
		case xs:
			return 1
		case ys:
			return -1
		}
		return strings.Compare(x.ID, y.ID)
	})

	return writeJSON(c, http.StatusOK, jobs)
}

// cronRun is POST /api/crons/{id}: the job starts in the background; 204, or 404
// "Missing or invalid cron job." for an unknown id.
func (a *api) cronRun(c *gin.Context) error {
	if err := a.app.RunCronJob(c.Param("id")); err != nil {
		return NewNotFoundError("Missing or invalid cron job", err)
	}
	c.Status(http.StatusNoContent)

	return nil
}
