package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Errors of collection deletion and truncation.
var (
	// ErrSystemCollection is returned when deleting a system collection.
	ErrSystemCollection = errors.New("system collections cannot be deleted")
	// ErrCollectionReferenced is returned when other collections' relation fields
	// point at the collection being deleted.
	ErrCollectionReferenced = errors.New("failed to delete due to existing relation references")
	// ErrViewDependency is returned when a view collection's query depends on the
	// collection being deleted.
	ErrViewDependency = errors.New("failed to delete due to existing view dependency")
	// ErrTruncateView is returned when truncating a view collection.
	ErrTruncateView = errors.New("view collections cannot be truncated since they don't store their own records")
	// ErrRequiredRelation is returned when deleting records would empty a required,
	// non-cascading relation of another record.
	ErrRequiredRelation = errors.New("the record is part of a required relation reference")
)

// storageDir is the data directory's file storage folder (PocketBase's pb_data/storage).
const storageDir = "storage"

// DeleteCollection deletes a collection with its records table (or SQL view) and
// stored files. It refuses system collections, collections that other collections'
// relation fields point at, and collections a view depends on.
func (a *App) DeleteCollection(ctx context.Context, c *Collection) error {
	err := a.data.Tx(ctx, func(tx *sql.Tx) error {
		return deleteCollection(ctx, tx, c, !c.noIntegrityChecks)
	})
	a.invalidateCollections()
	if err != nil {
		return err
	}

	a.deleteStoredDir(c.ID)

	return nil
}

func deleteCollection(ctx context.Context, tx *sql.Tx, c *Collection, integrityChecks bool) error {
	if c.System {
		return fmt.Errorf("[%s] %w", c.Name, ErrSystemCollection)
	}

	if integrityChecks {
		refs, err := findCollectionReferences(ctx, tx, c, c.ID)
		if err != nil {
			return fmt.Errorf("[%s] failed to check collection references: %w", c.Name, err)
		}
		if len(refs) > 0 {
			return fmt.Errorf("[%s] %w: %s", c.Name, ErrCollectionReferenced, strings.Join(referenceNames(refs), ", "))
		}
	}

	drop := "DROP TABLE IF EXISTS "
	if c.IsView() {
		drop = "DROP VIEW IF EXISTS "
	}
	if err := execAll(ctx, tx, drop+quoteIdent(c.Name)); err != nil {
		return fmt.Errorf("[%s] dropping records table: %w", c.Name, err)
	}

	if integrityChecks {
		if err := resaveViews(ctx, tx, c.ID, true); err != nil {
			return fmt.Errorf("[%s] %w: %w", c.Name, ErrViewDependency, err)
		}
	}

	if _, err := tx.ExecContext(ctx, "DELETE FROM `_collections` WHERE `id` = ?", c.ID); err != nil {
		return fmt.Errorf("[%s] deleting collection row: %w", c.Name, err)
	}

	return nil
}

// referenceNames returns the names of the referencing collections, sorted.
func referenceNames(refs []CollectionReference) []string {
	names := make([]string, len(refs))
	for i, ref := range refs {
		names[i] = ref.Collection.Name
	}
	slices.Sort(names)

	return names
}

// TruncateCollection deletes every record of a base or auth collection in one
// transaction, with PocketBase's record delete side effects: relation references to
// the records are removed (cascading deletes where the field says so, failing with
// ErrRequiredRelation where a required relation would become empty), the auth
// records' MFAs, OTPs, auth origins and external auths are deleted, and so are their
// stored files.
func (a *App) TruncateCollection(ctx context.Context, c *Collection) error {
	if c.IsView() {
		return ErrTruncateView
	}

	var deleted []recordRef
	err := a.data.Tx(ctx, func(tx *sql.Tx) error {
		deleted = deleted[:0]
		ids, err := recordIDs(ctx, tx, c)
		if err != nil {
			return err
		}
		d := &recordDeleter{app: a, tx: tx, deleted: map[string]map[string]bool{}}
		if err := d.delete(ctx, c, ids); err != nil {
			return err
		}
		deleted = d.order
		return nil
	})
	if err != nil {
		return err
	}

	for _, ref := range deleted {
		a.deleteStoredDir(path.Join(ref.collectionID, ref.recordID))
	}

	return nil
}

type recordRef struct {
	collectionID, recordID string
}

func recordIDs(ctx context.Context, tx *sql.Tx, c *Collection) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT `id` FROM "+quoteIdent(c.Name))
	if err != nil {
		return nil, fmt.Errorf("listing records of %s: %w", c.Name, err)
	}
	defer rows.Close()

	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}

	return ids, rows.Err()
}

// recordDeleter deletes records with their relation side effects, remembering what
// it deleted so that cascades terminate.
type recordDeleter struct {
	app     *App
	tx      *sql.Tx
	deleted map[string]map[string]bool // collection id -> record ids
	order   []recordRef
	// beforeDelete, when set, runs for each record right before its row is deleted
	// (the transaction still holds it).
	beforeDelete func(c *Collection, id string) error
	// unlinked lists the records whose relation fields lost a deleted id, in order,
	// each once (one may be deleted later in the same cascade).
	unlinked []recordRef
}

func (d *recordDeleter) isDeleted(collectionID, id string) bool {
	return d.deleted[collectionID][id]
}

func (d *recordDeleter) delete(ctx context.Context, c *Collection, ids []string) error {
	var pending []string
	for _, id := range ids {
		if !d.isDeleted(c.ID, id) {
			pending = append(pending, id)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	if d.deleted[c.ID] == nil {
		d.deleted[c.ID] = map[string]bool{}
	}
	for _, id := range pending {
		d.deleted[c.ID][id] = true
		d.order = append(d.order, recordRef{c.ID, id})
	}

	all, err := findAllCollections(ctx, d.tx)
	if err != nil {
		return err
	}
	for _, ref := range all {
		if ref.IsView() {
			continue
		}
		for _, f := range ref.Fields {
			rel, ok := f.(*RelationField)
			if !ok || rel.CollectionID != c.ID {
				continue
			}
			if err := d.unlink(ctx, ref, rel, pending); err != nil {
				return err
			}
		}
	}

	if c.IsAuth() {
		for _, table := range []string{CollectionNameExternalAuths, CollectionNameMFAs, CollectionNameOTPs, CollectionNameAuthOrigins} {
			for _, id := range pending {
				if err := deleteRecordRefs(ctx, d.tx, table, c.ID, id); err != nil {
					return err
				}
			}
		}
	}

	for _, id := range pending {
		if d.beforeDelete != nil {
			if err := d.beforeDelete(c, id); err != nil {
				return err
			}
		}
		if _, err := d.tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(c.Name)+" WHERE `id` = ?", id); err != nil {
			return fmt.Errorf("deleting record %s of %s: %w", id, c.Name, err)
		}
	}

	return nil
}

// unlink removes the deleted ids from field rel of collection ref's records.
func (d *recordDeleter) unlink(ctx context.Context, ref *Collection, rel *RelationField, ids []string) error {
	rows, err := d.tx.QueryContext(ctx, "SELECT `id`, "+quoteIdent(rel.Name)+" FROM "+quoteIdent(ref.Name))
	if err != nil {
		return fmt.Errorf("reading references of %s.%s: %w", ref.Name, rel.Name, err)
	}

	type change struct {
		id     string
		values []string
	}
	var changes []change
	for rows.Next() {
		var id string
		var raw sql.NullString
		if err := rows.Scan(&id, &raw); err != nil {
			_ = rows.Close()
			return err
		}
		if d.isDeleted(ref.ID, id) {
			continue
		}
		values := toUniqueStringSlice(raw.String)
		kept := slices.DeleteFunc(slices.Clone(values), func(v string) bool { return slices.Contains(ids, v) })
		if len(kept) != len(values) {
			changes = append(changes, change{id, kept})
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}

	for _, ch := range changes {
		switch {
		case len(ch.values) == 0 && rel.CascadeDelete:
			if err := d.delete(ctx, ref, []string{ch.id}); err != nil {
				return err
			}
		case len(ch.values) == 0 && rel.Required:
			return fmt.Errorf("%w (%s.%s of record %s)", ErrRequiredRelation, ref.Name, rel.Name, ch.id)
		default:
			if err := d.setRelation(ctx, ref, rel, ch.id, ch.values); err != nil {
				return err
			}
		}
	}

	return nil
}

// setRelation stores a new relation value and bumps the record's onUpdate autodates.
func (d *recordDeleter) setRelation(ctx context.Context, ref *Collection, rel *RelationField, id string, values []string) error {
	value, err := rel.DriverValue(values)
	if err != nil {
		return err
	}

	sets := []string{quoteIdent(rel.Name) + " = ?"}
	args := []any{value}
	now := d.app.nowDateTime()
	for _, f := range ref.Fields {
		if auto, ok := f.(*AutodateField); ok && auto.OnUpdate {
			sets = append(sets, quoteIdent(auto.Name)+" = ?")
			args = append(args, now)
		}
	}
	args = append(args, id)

	_, err = d.tx.ExecContext(ctx, "UPDATE "+quoteIdent(ref.Name)+" SET "+strings.Join(sets, ", ")+" WHERE `id` = ?", args...)
	if err != nil {
		return fmt.Errorf("updating %s.%s of record %s: %w", ref.Name, rel.Name, id, err)
	}
	if r := (recordRef{ref.ID, id}); !slices.Contains(d.unlinked, r) {
		d.unlinked = append(d.unlinked, r)
	}

	return nil
}
