package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// maxSortExprs is PocketBase's limit of sort expressions (search.DefaultSortExprLimit).
const maxSortExprs = 8

// registerCollectionRoutes adds the superuser-only collections API (apis/collection.go).
func (a *api) registerCollectionRoutes(r routes) {
	su := requireSuperuserAuth()

	r.add(http.MethodGet, "/collections", su, a.collectionsList)
	r.add(http.MethodPost, "/collections", su, a.collectionCreate)
	r.add(http.MethodGet, "/collections/:collection", su, a.collectionView)
	r.add(http.MethodPatch, "/collections/:collection", su, a.collectionUpdate)
	r.add(http.MethodDelete, "/collections/:collection", su, a.collectionDelete)
	r.add(http.MethodDelete, "/collections/:collection/truncate", su, a.collectionTruncate)
	r.add(http.MethodPut, "/collections/import", su, a.collectionsImport)
	r.add(http.MethodGet, "/collections/meta/scaffolds", su, a.collectionScaffolds)
	r.add(http.MethodGet, "/collections/meta/oauth2-providers", su, a.collectionOAuth2Providers)
}

// add registers handlers for one method and path; all but the last are route
// middlewares that stop the chain by returning an error. GET routes answer HEAD too.
func (r routes) add(method, path string, handlers ...HandlerFunc) {
	chain := make([]gin.HandlerFunc, len(handlers))
	for i, h := range handlers {
		chain[i] = handle(h)
	}

	r.group.Handle(method, path, chain...)
	if method == http.MethodGet {
		r.group.Handle(http.MethodHead, path, chain...)
	}
}

// collectionsList is GET /api/collections: page, perPage, sort, filter and skipTotal
// as for records, over id, created, updated, name, system and type.
func (a *api) collectionsList(c *gin.Context) error {
	q := c.Request.URL.Query()
	opts := core.CollectionListOptions{}

	if raw := q.Get("page"); raw != "" {
		page, err := strconv.Atoi(raw)
		if err != nil {
			return NewBadRequestError("", err)
		}
		opts.Page = page
	}
	if raw := q.Get("perPage"); raw != "" {
		perPage, err := strconv.Atoi(raw)
		if err != nil {
			return NewBadRequestError("", err)
		}
		opts.PerPage = perPage
	}
	if raw := q.Get("skipTotal"); raw != "" {
		skip, err := strconv.ParseBool(raw)
		if err != nil {
			return NewBadRequestError("", err)
		}
		opts.SkipTotal = skip
	}
	opts.Filter = q.Get("filter")

	sort, err := parseCollectionSort(q.Get("sort"))
	if err != nil {
		return NewBadRequestError("", err)
	}
	opts.Sort = sort

	result, err := a.app.ListCollections(c.Request.Context(), opts)
	if err != nil {
		return NewBadRequestError("", err)
	}

	return writeJSON(c, http.StatusOK, result)
}

// parseCollectionSort parses "-created,name" (tools/search/sort.go ParseSortFromString).
func parseCollectionSort(raw string) ([]core.CollectionSortField, error) {
	var out []core.CollectionSortField
	for part := range strings.SplitSeq(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		field := core.CollectionSortField{Name: part}
		switch part[0] {
		case '-':
			field = core.CollectionSortField{Name: part[1:], Desc: true}
		case '+':
			field.Name = part[1:]
		}
		out = append(out, field)
	}
	if len(out) > maxSortExprs {
		return nil, errors.New("too many sort expressions")
	}

	return out, nil
}

// collectionView is GET /api/collections/{collection}: by id or name (any case).
func (a *api) collectionView(c *gin.Context) error {
	collection, err := a.app.FindCachedCollectionByNameOrID(c.Request.Context(), c.Param("collection"))
	if err != nil {
		return NewNotFoundError("", err)
	}

	return writeJSON(c, http.StatusOK, collection)
}

// collectionScaffolds is GET /api/collections/meta/scaffolds.
func (a *api) collectionScaffolds(c *gin.Context) error {
	scaffolds, err := a.app.CollectionScaffolds()
	if err != nil {
		return NewInternalServerError("", err)
	}

	return writeJSON(c, http.StatusOK, scaffolds)
}
