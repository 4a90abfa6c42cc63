package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// registerLogsRoutes adds the superuser-only logs API (apis/logs.go). Successful calls
// of it are not logged themselves.
func (a *api) registerLogsRoutes(r routes) {
	su := requireSuperuserAuth()

	r.add(http.MethodGet, "/logs", su, skipSuccessActivityLog, a.logsList)
	r.add(http.MethodDelete, "/logs", su, skipSuccessActivityLog, a.logsTruncate)
	r.add(http.MethodGet, "/logs/stats", su, skipSuccessActivityLog, a.logsStats)
	r.add(http.MethodGet, "/logs/:id", su, skipSuccessActivityLog, a.logsView)
}

// logsList is GET /api/logs: the list parameters of §3.3.1 over id, created, level,
// message, data and data.*; any failure is the generic 400.
func (a *api) logsList(c *gin.Context) error {
	result, err := a.app.ListLogs(c.Request.Context(), c.Request.URL.Query())
	if err != nil {
		return NewBadRequestError("", err)
	}

	return writeJSON(c, http.StatusOK, result)
}

// logsStats is GET /api/logs/stats?filter=: the number of logs per hour.
func (a *api) logsStats(c *gin.Context) error {
	stats, err := a.app.LogsStats(c.Request.Context(), c.Query(search.FilterQueryParam))
	if err != nil {
		if isFilterError(err) {
			return NewBadRequestError("Invalid filter format.", err)
		}
		return NewBadRequestError("Failed to generate logs stats.", err)
	}

	return writeJSON(c, http.StatusOK, stats)
}

// logsView is GET /api/logs/{id}: one log, or 404.
func (a *api) logsView(c *gin.Context) error {
	id := c.Param("id")
	if id == "" {
		return NewNotFoundError("", nil)
	}
	l, err := a.app.FindLogByID(c.Request.Context(), id)
	if err != nil {
		return NewNotFoundError("", err)
	}

	return writeJSON(c, http.StatusOK, l)
}

// logsTruncate is DELETE /api/logs (v0.40): delete every log, then vacuum.
func (a *api) logsTruncate(c *gin.Context) error {
	if err := a.app.DeleteAllLogs(c.Request.Context()); err != nil {
		return NewInternalServerError("Failed to truncate all logs.", err)
	}
	c.Status(http.StatusNoContent)

	return nil
}

// isFilterError reports whether err is a filter that does not parse or resolve.
func isFilterError(err error) bool {
	return errors.Is(err, search.ErrInvalidFilter)
}
