package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// dummyPrefix marks the virtual collection of a create rule check; dummyParamPrefix
// its parameters (named parameters must start with a letter).
const (
	dummyPrefix      = "__pb_create__"
	dummyParamPrefix = "pbCreate_"
)

// CheckCreateRule reports whether the record the form would create satisfies a
// non-empty rule expression for the request (the createRule, or the manageRule), the
// way PocketBase evaluates it: over a virtual one-row table named after the collection
// with a random suffix, built from the submitted values (a temporary id when none was
// given, verified forced to false), with @request.body as info.Body.
//
// An empty rule is satisfied; a rule that fails to build is an error, and so is a
// password over bcrypt's 72 bytes (PocketBase's "dummy DBExport error").
func (a *App) CheckCreateRule(ctx context.Context, u *RecordUpsert, rule string, info *RequestInfo) (bool, error) {
	// PocketBase exports the would-be record before it looks at the rule, even an
	// empty one, and a password that bcrypt cannot hash fails that export
	if err := u.passwordsHashable(); err != nil {
		return false, err
	}
	if rule == "" {
		return true, nil
	}

	suffix, err := security.RandomString(6)
	if err != nil {
		return false, err
	}
	suffix = dummyPrefix + suffix

	dummy := *u.collection
	dummy.ID += suffix
	dummy.Name += search.Columnify(suffix)

	values := u.Values()
	if castToString(values[FieldNameID]) == "" {
		values[FieldNameID] = "__temp_id__" + suffix
	}
	if u.collection.IsAuth() {
		values[FieldNameVerified] = false
	}

	params := search.Params{}
	selects := make([]string, 0, len(u.collection.Fields))
	for _, f := range u.collection.Fields {
		name := f.GetName()
		v, err := f.DriverValue(values[name])
		if err != nil {
			return false, fmt.Errorf("exporting %s: %w", name, err)
		}
		param := dummyParamPrefix + search.Columnify(name)
		params[param] = v
		selects = append(selects, ":"+param+" AS "+search.QuoteIdent(search.Columnify(name)))
	}

	with := "WITH " + search.QuoteIdent(dummy.Name) + " AS (SELECT " + strings.Join(selects, ", ") + ") "

	return a.ruleMatches(ctx, &dummy, rule, info, with, params)
}

// CheckRecordRule reports whether the stored record of c with the given id satisfies a
// non-empty rule expression for the request (used for the manageRule of an update);
// an empty rule is satisfied.
func (a *App) CheckRecordRule(ctx context.Context, c *Collection, id, rule string, info *RequestInfo) (bool, error) {
	if rule == "" {
		return true, nil
	}

	matched, err := a.recordsMatchingRule(ctx, c, []string{id}, rule, info)
	if err != nil {
		return false, err
	}

	return matched[id], nil
}

// HasAuthManageAccess reports whether the request may manage auth records of c through
// its manageRule (apis/record_crud.go hasAuthManageAccess): the rule must be a
// non-empty expression, the request authenticated, and the record (the form's virtual
// row on create, the stored row on update) must match it. Rule failures deny.
func (a *App) HasAuthManageAccess(ctx context.Context, u *RecordUpsert, info *RequestInfo) bool {
	c := u.collection
	if !c.IsAuth() || c.Auth.ManageRule == nil || *c.Auth.ManageRule == "" || info == nil || info.Auth == nil {
		return false
	}

	var (
		ok  bool
		err error
	)
	if u.IsNew() {
		ok, err = a.CheckCreateRule(ctx, u, *c.Auth.ManageRule, info)
	} else {
		ok, err = a.CheckRecordRule(ctx, c, u.ID(), *c.Auth.ManageRule, info)
	}
	if err != nil {
		a.logger.Error("Manage rule check failed", "error", err, "collectionId", c.ID)
		return false
	}

	return ok
}

// ruleMatches runs "WITH … SELECT 1 FROM c WHERE <rule>" through the read pool (or the joined transaction, see RunInTransaction).
func (a *App) ruleMatches(ctx context.Context, c *Collection, rule string, info *RequestInfo, with string, withParams search.Params) (bool, error) {
	resolver := a.NewRecordFieldResolver(ctx, c, info, true)

	expr, err := search.FilterData(rule).BuildExpr(resolver)
	if err != nil {
		return false, fmt.Errorf("building rule expression: %w", err)
	}

	q := search.NewSelectQuery(c.Name)
	q.Selects = []string{"1"}
	q.AndWhere(expr)
	if err := resolver.UpdateQuery(q); err != nil {
		return false, fmt.Errorf("building rule query: %w", err)
	}
	q.Limit = 1

	built := q.Build()
	if built.Params == nil {
		built.Params = search.Params{}
	}
	maps.Copy(built.Params, withParams)

	var one int
	err = a.reader(ctx).QueryRowContext(ctx, with+built.SQL, built.Args()...).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("running rule query: %w", err)
	}

	return one == 1, nil
}

// bcryptMaxBytes is the longest password bcrypt hashes.
const bcryptMaxBytes = 72

// passwordsHashable fails when a new password of the form is longer than bcrypt's 72
// bytes (multibyte runes within the field's max), which PocketBase's password field
// keeps as the value's hashing error.
func (u *RecordUpsert) passwordsHashable() error {
	for _, f := range u.collection.Fields {
		if _, ok := f.(*PasswordField); !ok {
			continue
		}
		if pv, _ := u.values[f.GetName()].(PasswordValue); pv.Hash == "" && len(pv.Plain) > bcryptMaxBytes {
			return fmt.Errorf("exporting %s: %w", f.GetName(), security.ErrPasswordTooLong)
		}
	}

	return nil
}
