package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// collectionDelete is DELETE /api/collections/{collection} → 204. A refused delete
// is 400 "Failed to delete collection[ probably due to existing reference in a, b]."
func (a *api) collectionDelete(c *gin.Context) error {
	ctx := c.Request.Context()
	collection, err := a.app.FindCachedCollectionByNameOrID(ctx, c.Param("collection"))
	if err != nil {
		return NewNotFoundError("", err)
	}

	if err := a.app.DeleteCollection(ctx, collection); err != nil {
		msg := "Failed to delete collection"
		if refs, _ := a.app.FindCollectionReferences(ctx, collection); len(refs) > 0 {
			names := make([]string, len(refs))
			for i, ref := range refs {
				names[i] = ref.Collection.Name
			}
			slices.Sort(names)
			msg += " probably due to existing reference in " + strings.Join(names, ", ")
		}
		return NewBadRequestError(msg, err)
	}

	c.Status(http.StatusNoContent)

	return nil
}

// collectionTruncate is DELETE /api/collections/{collection}/truncate → 204.
func (a *api) collectionTruncate(c *gin.Context) error {
	ctx := c.Request.Context()
	collection, err := a.app.FindCachedCollectionByNameOrID(ctx, c.Param("collection"))
	if err != nil {
		return NewNotFoundError("", err)
	}
	if collection.IsView() {
		return NewBadRequestError("View collections cannot be truncated since they don't store their own records.", nil)
	}

	if err := a.app.TruncateCollection(ctx, collection); err != nil {
		return NewBadRequestError("Failed to truncate collection (most likely due to required cascade delete record references).", err)
	}

	c.Status(http.StatusNoContent)

	return nil
}

// collectionsImport is PUT /api/collections/import with {"collections":[…],
// "deleteMissing":bool} → 204 (apis/collection_import.go).
func (a *api) collectionsImport(c *gin.Context) error {
	var form struct {
		Collections   []map[string]any `json:"collections"`
		DeleteMissing bool             `json:"deleteMissing"`
	}
	if _, err := bindForm(c, &form, "An error occurred while loading the submitted data."); err != nil {
		return err
	}
	if len(form.Collections) == 0 {
		apiErr := NewBadRequestError("An error occurred while validating the submitted data.", nil)
		apiErr.Data = map[string]any{"collections": collectionErrorItem{Code: "validation_required", Message: "Cannot be blank."}}
		return apiErr
	}

	err := a.app.ImportCollections(c.Request.Context(), form.Collections, form.DeleteMissing)
	if err == nil {
		c.Status(http.StatusNoContent)
		return nil
	}

	apiErr := NewBadRequestError("Failed to import collections.", err)
	if data, ok := validationData(err); ok {
		apiErr.Data = data
		return apiErr
	}
	apiErr.Data = map[string]any{"collections": collectionErrorItem{
		Code:    "validation_collections_import_failure",
		Message: Sentenize("Failed to import the collections configuration. Raw error:\n" + err.Error()),
	}}

	return apiErr
}
