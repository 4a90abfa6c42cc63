package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// sqlQueryMaxLength is the longest query POST /api/sql accepts, in characters.
const sqlQueryMaxLength = 5000

// registerSQLRoutes adds the superuser-only SQL console (apis/sql.go, v0.39+).
func (a *api) registerSQLRoutes(r routes) {
	r.add(http.MethodPost, "/sql", requireSuperuserAuth(), a.sqlRun)
}

// sqlRunForm is the body of POST /api/sql.
type sqlRunForm struct {
	Query string `json:"query"`
}

// sqlRun is POST /api/sql {"query"}: the result of a raw query on data.db (§3.12); a
// query that fails is the 400 "Failed to execute query. Raw error:\n<error>".
func (a *api) sqlRun(c *gin.Context) error {
	var form sqlRunForm
	if _, err := bindForm(c, &form, msgFormLoadFailed); err != nil {
		return err
	}
	errs := formErrors{}
	errs.requiredString("query", form.Query, 0, sqlQueryMaxLength)
	if err := errs.err(); err != nil {
		return err
	}

	result, err := a.app.RunSQL(c.Request.Context(), form.Query, core.SQLConsoleMaxRows)
	if err != nil {
		return NewBadRequestError("Failed to execute query. Raw error:\n"+err.Error(), nil)
	}

	return writeJSON(c, http.StatusOK, result)
}
