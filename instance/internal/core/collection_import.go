package core

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// ErrNothingToImport is returned by ImportCollections for an empty list.
var ErrNothingToImport = errors.New("no collections to import")

// ImportCollections imports collections in one transaction (PocketBase's
// ImportCollections): each entry is matched to an existing collection by id, then by
// name, and merged over it, or creates a new collection. With deleteMissing, every
// non-system collection and field that the import does not list is deleted, data
// included. Views are saved last. A validation failure is NestedErrors with
// "collections": validation_collections_import_failure.
func (a *App) ImportCollections(ctx context.Context, toImport []map[string]any, deleteMissing bool) error {
	if len(toImport) == 0 {
		return ErrNothingToImport
	}

	renames := map[string]string{}
	err := a.data.Tx(ctx, func(tx *sql.Tx) error {
		return a.importCollections(ctx, tx, toImport, deleteMissing, renames)
	})
	a.invalidateCollections()
	if err != nil {
		return err
	}

	return a.renameRateLimitLabels(ctx, renames)
}

type importedCollection struct {
	c                *Collection
	created, updated string
}

// importCollections imports inside tx and records the renamed collections (old name →
// new name) in renames.
func (a *App) importCollections(ctx context.Context, tx *sql.Tx, toImport []map[string]any, deleteMissing bool, renames map[string]string) error {
	imported := make([]importedCollection, 0, len(toImport))
	mapped := make(map[string]*Collection, len(toImport))

	for _, data := range toImport {
		c, err := prepareImport(ctx, tx, data, deleteMissing)
		if err != nil {
			return err
		}
		c.noIntegrityChecks = true
		imported = append(imported, importedCollection{
			c:       c,
			created: ParseDateTime(data["created"]),
			updated: ParseDateTime(data["updated"]),
		})
		mapped[c.ID] = c
	}

	// views last: their queries may use the other collections
	slices.SortStableFunc(imported, func(x, y importedCollection) int {
		rank := func(c *Collection) int {
			if c.IsView() {
				return 1
			}
			return -1
		}
		if r := cmp.Compare(rank(x.c), rank(y.c)); r != 0 {
			return r
		}
		if r := cmp.Compare(x.created, y.created); r != 0 {
			return r
		}
		return cmp.Compare(x.updated, y.updated)
	})

	existing, err := queryCollections(ctx, tx, "SELECT "+collectionColumns+" FROM `_collections` ORDER BY `updated` ASC, `rowid` ASC")
	if err != nil {
		return err
	}
	mappedExisting := make(map[string]*Collection, len(existing))
	for _, c := range existing {
		mappedExisting[c.ID] = c
	}

	if deleteMissing {
		for _, c := range existing {
			if mapped[c.ID] != nil || c.System {
				continue
			}
			if err := deleteCollection(ctx, tx, c, false); err != nil {
				return err
			}
		}
	}

	for _, item := range imported {
		if old := mappedExisting[item.c.ID]; old != nil {
			renames[old.Name] = item.c.Name
		}
		if err := a.saveCollection(ctx, tx, item.c, false); err != nil {
			return fmt.Errorf("failed to save collection %q: %w", item.c.Name, err)
		}
	}

	for _, item := range imported {
		original := mappedExisting[item.c.ID]
		if original == nil {
			original = item.c
		}
		if err := a.validateCollection(ctx, tx, item.c, original); err != nil {
			var verrs NestedErrors
			if !errors.As(err, &verrs) {
				return err
			}
			return NestedErrors{"collections": newValidationError("validation_collections_import_failure",
				fmt.Sprintf("Data validations failed for collection %q (%s):\n%s", item.c.Name, item.c.ID, marshalIndentMessages(verrs)), nil)}
		}
	}

	return nil
}

// prepareImport builds the collection one import entry describes.
func prepareImport(ctx context.Context, tx *sql.Tx, data map[string]any, deleteMissing bool) (*Collection, error) {
	identifier := castToString(data["id"])
	if identifier == "" {
		identifier = castToString(data["name"])
	}

	existing, err := findCollection(ctx, tx, identifier)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}

	if existing == nil {
		raw, err := json.Marshal(data)
		if err != nil {
			return nil, err
		}
		c := &Collection{}
		if err := json.Unmarshal(raw, c); err != nil {
			return nil, err
		}
		return c, nil
	}

	c, err := existing.Clone()
	if err != nil {
		return nil, err
	}
	if data["fields"] == nil && deleteMissing {
		data["fields"] = []any{}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, err
	}

	// keep the existing fields the import does not list (system ones always)
	for _, f := range existing.Fields {
		if !f.GetSystem() && deleteMissing {
			continue
		}
		if c.Fields.GetByID(f.GetID()) != nil {
			continue
		}
		// reuse the id of a same-named field of the same type, so that its column
		// is kept instead of dropped and re-added
		if found := c.Fields.GetByName(f.GetName()); found != nil && found.Type() == f.Type() {
			found.SetID(f.GetID())
		}
		clone, err := cloneField(f)
		if err != nil {
			return nil, err
		}
		c.Fields.Add(clone)
	}

	return c, nil
}

// CollectionScaffolds returns the blank base, auth and view collections the dashboard
// starts from (GET /api/collections/meta/scaffolds): no id or name, the default
// fields, indexes and options. The auth indexes are named after a random id, as
// PocketBase does.
func (a *App) CollectionScaffolds() (map[string]*Collection, error) {
	randomID, err := security.RandomStringWithAlphabet(10, security.AlphabetLowerAlphanumeric)
	if err != nil {
		return nil, err
	}

	out := make(map[string]*Collection, 3)
	for _, typ := range []string{CollectionTypeBase, CollectionTypeAuth, CollectionTypeView} {
		c := &Collection{ID: randomID, Type: typ, Fields: FieldsList{}, Indexes: []string{}}
		if typ == CollectionTypeAuth {
			if c.Auth, err = NewAuthOptions(); err != nil {
				return nil, err
			}
		}
		c.initDefaultFields()
		c.ID = ""
		out[typ] = c
	}

	return out, nil
}
