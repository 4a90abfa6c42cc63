package httpapi

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// Context keys of what the auth middlewares resolve.
const (
	ctxKeyAuth       = "pocketfleet.auth"
	ctxKeyCollection = "pocketfleet.collection"
)

// Messages of PocketBase's auth guards (apis/middlewares.go).
const (
	msgRequiresAuth     = "The request requires valid record authorization token."
	msgAuthNotAllowed   = "The authorized record is not allowed to perform this action."
	msgRequiresAuthFrom = "The request requires auth record from %s collection."
)

// loadAuthToken resolves the Authorization header into the request's auth record, as
// PocketBase's loadAuthToken middleware does (§1.4). The header holds the token with or
// without a "Bearer " prefix (any case). Only `auth` tokens count; a missing, invalid,
// expired or unknown token leaves the request a guest's and is never an error.
func (a *api) loadAuthToken() gin.HandlerFunc {
	return func(c *gin.Context) {
		token := tokenFromRequest(c)
		if token == "" {
			c.Next()
			return
		}

		record, err := a.app.FindAuthRecordByToken(c.Request.Context(), token, core.TokenTypeAuth)
		if err != nil {
			a.app.Logger().LogAttrs(c.Request.Context(), slog.LevelDebug, "loadAuthToken failure",
				slog.String("error", err.Error()))
		} else {
			c.Set(ctxKeyAuth, record)
		}

		c.Next()
	}
}

// tokenFromRequest returns the Authorization header without its optional, case-insensitive
// "Bearer " prefix.
func tokenFromRequest(c *gin.Context) string {
	token := c.GetHeader("Authorization")
	const prefix = "bearer "
	if len(token) >= len(prefix) && strings.EqualFold(token[:len(prefix)], prefix) {
		token = token[len(prefix):]
	}

	return token
}

// authRecord returns the auth record of the request, or nil for a guest.
func authRecord(c *gin.Context) *core.Record {
	v, ok := c.Get(ctxKeyAuth)
	if !ok {
		return nil
	}
	record, _ := v.(*core.Record)

	return record
}

// hasSuperuserAuth reports whether the request is authenticated as a superuser.
func hasSuperuserAuth(c *gin.Context) bool {
	record := authRecord(c)
	return record != nil && record.IsSuperuser()
}

// requireAuth lets through requests authenticated with a record of one of the named
// collections (any auth collection when none is named): 401 for a guest, 403 for a
// record of another collection (apis/middlewares.go RequireAuth).
func requireAuth(collectionNames ...string) HandlerFunc {
	return func(c *gin.Context) error {
		record := authRecord(c)
		if record == nil {
			return NewUnauthorizedError(msgRequiresAuth, nil)
		}
		if len(collectionNames) == 0 {
			return nil
		}
		for _, name := range collectionNames {
			if record.Collection().Name == name {
				return nil
			}
		}

		return NewForbiddenError(msgAuthNotAllowed, nil)
	}
}

// requireSuperuserAuth lets through superusers only: 401 for a guest, 403 for another
// auth record (apis/middlewares.go RequireSuperuserAuth). Use it for the "SU" routes.
func requireSuperuserAuth() HandlerFunc {
	return requireAuth(core.CollectionNameSuperusers)
}

// requireSameCollectionContextAuth lets through requests authenticated with a record of
// the `{collection}` resolved by collectionContext: 401 for a guest, 403 naming the
// caller's collection otherwise (apis/middlewares.go RequireSameCollectionContextAuth).
func requireSameCollectionContextAuth(c *gin.Context) error {
	record := authRecord(c)
	if record == nil {
		return NewUnauthorizedError(msgRequiresAuth, nil)
	}

	collection := pathCollection(c)
	if collection == nil || record.Collection().ID != collection.ID {
		return NewForbiddenError(fmt.Sprintf(msgRequiresAuthFrom, record.Collection().Name), nil)
	}

	return nil
}

// collectionContext resolves the `{collection}` path value (an id, or a name in any
// case) and keeps the collection for the handlers; a missing one is PocketBase's 404
// "Missing or invalid collection context." (the per-collection rate limit middleware
// answers it before anything else).
func (a *api) collectionContext(c *gin.Context) error {
	// note: the cached collection, shared and read-only, as PocketBase's
	// FindCachedCollectionByNameOrId: a record request never reads _collections
	collection, err := a.app.FindCachedCollectionByNameOrID(c.Request.Context(), c.Param("collection"))
	if err != nil {
		return NewNotFoundError("Missing or invalid collection context.", err)
	}
	c.Set(ctxKeyCollection, collection)

	return nil
}

// pathCollection returns the collection resolved by collectionContext, or nil.
func pathCollection(c *gin.Context) *core.Collection {
	v, ok := c.Get(ctxKeyCollection)
	if !ok {
		return nil
	}
	collection, _ := v.(*core.Collection)

	return collection
}
