package core

import (
	"context"

	"github.com/pocketfleet/pocketfleet/instance/internal/oauth2"
)

// validateSystemRefs applies PocketBase's save-time checks of the auth system
// collections (recordRefHooks and the `_externalAuths` provider check, which run before
// the field validators): collectionRef must name an auth collection, recordRef a
// record of it, and an `_externalAuths` provider one of the known providers. Only the
// first failure is reported, under its field.
func (a *App) validateSystemRefs(ctx context.Context, u *RecordUpsert) ValidationErrors {
	switch u.collection.Name {
	case CollectionNameExternalAuths, CollectionNameMFAs, CollectionNameOTPs, CollectionNameAuthOrigins:
	default:
		return nil
	}

	collectionID := castToString(u.values["collectionRef"])
	if err := a.validateAuthCollectionRef(ctx, collectionID); err != nil {
		return ValidationErrors{"collectionRef": err}
	}
	if err := a.validateRecordRef(ctx, collectionID, castToString(u.values["recordRef"])); err != nil {
		return ValidationErrors{"recordRef": err}
	}
	if u.collection.Name == CollectionNameExternalAuths {
		switch provider := castToString(u.values["provider"]); {
		case provider == "":
			return ValidationErrors{"provider": errRequired()}
		case !oauth2.Exists(provider):
			return ValidationErrors{"provider": errIn()}
		}
	}

	return nil
}

// validateAuthCollectionRef checks that id is the id of an auth collection.
func (a *App) validateAuthCollectionRef(ctx context.Context, id string) *ValidationError {
	if id == "" {
		return errRequired()
	}
	list, err := a.CachedCollections(ctx)
	if err != nil {
		return newValidationError("validation_invalid_collection_id", "Missing or invalid collection.", nil)
	}
	for _, c := range list {
		if c.ID != id {
			continue
		}
		if !c.IsAuth() {
			return newValidationError("validation_invalid_collection_type", "Invalid collection type - must be "+CollectionTypeAuth+".", nil)
		}
		return nil
	}

	return newValidationError("validation_invalid_collection_id", "Missing or invalid collection.", nil)
}

// validateRecordRef checks that id is a record of the collection named or with the id
// collectionNameOrID.
func (a *App) validateRecordRef(ctx context.Context, collectionNameOrID, id string) *ValidationError {
	if id == "" {
		return errRequired()
	}
	c, err := a.FindCachedCollectionByNameOrID(ctx, collectionNameOrID)
	if err != nil {
		return newValidationError("validation_invalid_collection", "Missing or invalid collection.", nil)
	}
	var exists int
	err = a.reader(ctx).QueryRowContext(ctx, "SELECT 1 FROM "+quoteIdent(c.Name)+" WHERE `id` = ? LIMIT 1", id).Scan(&exists)
	if err != nil || exists == 0 {
		// a missing row and a failed query alike, as PocketBase
		return newValidationError("validation_invalid_record", "Missing or invalid record.", nil)
	}

	return nil
}
