package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path"
)

// DeleteRecord deletes the record of c with the given id in one write transaction,
// with PocketBase's side effects: every relation field pointing at it loses the id, a
// record whose cascadeDelete relation becomes empty is deleted in turn, and a required
// (non-cascading) relation that would become empty fails the whole delete with
// ErrRequiredRelation; an auth record's external auths, MFAs, OTPs and auth origins are
// deleted with it. Deleting the only superuser fails with ErrLastSuperuser, a missing
// record with ErrRecordNotFound, a view record with ErrViewRecordsReadOnly. The stored
// files of every deleted record are removed once the transaction has committed, then a
// delete event is published for each deleted record (prepared before the commit, see
// PrepareRecordDelete), and an update event for each record that only lost the id.
// With a ctx from RunInTransaction, the delete joins that transaction and its
// after-commit work waits for it.
func (a *App) DeleteRecord(ctx context.Context, c *Collection, id string) error {
	if c.IsView() {
		return ErrViewRecordsReadOnly
	}

	var (
		deleted, updated []recordRef
		pending          []*PendingRecordDelete
	)
	err := a.writeTx(ctx, func(tx *sql.Tx) error {
		// note: read through tx, so that a batch sees the record as its earlier
		// requests left it.
		root, err := findRecordWhere(ctx, tx, c, "`id` = ?", id)
		if err != nil {
			return err
		}

		if c.Name == CollectionNameSuperusers {
			total, err := countSuperusers(ctx, tx)
			if err != nil {
				return err
			}
			if total == 1 {
				return ErrLastSuperuser
			}
		}

		d := &recordDeleter{app: a, tx: tx, deleted: map[string]map[string]bool{}}
		if err = d.delete(ctx, c, []string{id}); err != nil {
			return err
		}
		deleted = d.order

		// The read pool still sees the rows (the transaction has not committed), so
		// the delete events are prepared now, with each record as it was, and the
		// records whose relations lost a deleted id are found.
		committed := committedContext(ctx)
		if updated, err = a.unlinkedRecords(committed, d); err != nil {
			return err
		}
		pending = pending[:0]
		for _, ref := range deleted {
			record := root
			if ref != (recordRef{c.ID, id}) {
				record, err = a.findCommittedRecord(committed, ref)
				if errors.Is(err, ErrRecordNotFound) && scopeOf(ctx) != nil {
					// note: created earlier in the same batch: nothing committed
					// ever held it, so there is no stored row to prepare from.
					continue
				}
				if err != nil {
					return err
				}
			}
			pending = append(pending, a.PrepareRecordDelete(committed, record))
		}

		return nil
	})
	if err != nil {
		return fmt.Errorf("deleting record %s of %s: %w", id, c.Name, err)
	}

	a.afterCommit(ctx, func(ctx context.Context) {
		for _, ref := range deleted {
			a.deleteStoredDir(path.Join(ref.collectionID, ref.recordID))
		}
		for _, p := range pending {
			p.Publish(ctx)
		}
		for _, ref := range updated {
			if record, err := a.findCommittedRecord(ctx, ref); err == nil {
				a.PublishRecordEvent(ctx, RecordEvent{Action: RecordActionUpdate, Record: record})
			}
		}
	})

	return nil
}

// unlinkedRecords returns the records that the deleter d unlinked without deleting
// them: the kept records whose relation fields, as last committed, hold a deleted id.
// They get an update event once the delete commits, as PocketBase saves them.
func (a *App) unlinkedRecords(ctx context.Context, d *recordDeleter) ([]recordRef, error) {
	all, err := a.CachedCollections(ctx)
	if err != nil {
		return nil, err
	}

	var out []recordRef
	seen := map[recordRef]bool{}
	for _, ref := range all {
		if ref.IsView() {
			continue
		}
		for _, f := range ref.Fields {
			rel, ok := f.(*RelationField)
			if !ok || len(d.deleted[rel.CollectionID]) == 0 {
				continue
			}
			ids, err := committedReferences(ctx, a, ref, rel, d.deleted[rel.CollectionID])
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				r := recordRef{ref.ID, id}
				if !d.isDeleted(ref.ID, id) && !seen[r] {
					seen[r] = true
					out = append(out, r)
				}
			}
		}
	}

	return out, nil
}

// committedReferences returns the ids of ref's records whose relation field rel held
// one of the deleted ids, as last committed.
func committedReferences(ctx context.Context, a *App, ref *Collection, rel *RelationField, deleted map[string]bool) ([]string, error) {
	rows, err := a.data.Read().QueryContext(ctx, "SELECT `id`, "+quoteIdent(rel.Name)+" FROM "+quoteIdent(ref.Name))
	if err != nil {
		return nil, fmt.Errorf("reading references of %s.%s: %w", ref.Name, rel.Name, err)
	}
	defer rows.Close()

	var ids []string
	for rows.Next() {
		var (
			id  string
			raw sql.NullString
		)
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, err
		}
		for _, v := range toUniqueStringSlice(raw.String) {
			if deleted[v] {
				ids = append(ids, id)
				break
			}
		}
	}

	return ids, rows.Err()
}

// findCommittedRecord reads a record through the read pool, which sees the last
// committed state.
func (a *App) findCommittedRecord(ctx context.Context, ref recordRef) (*Record, error) {
	c, err := a.FindCachedCollectionByNameOrID(ctx, ref.collectionID)
	if err != nil {
		return nil, err
	}

	return findRecordWhere(ctx, a.data.Read(), c, "`id` = ?", ref.recordID)
}
