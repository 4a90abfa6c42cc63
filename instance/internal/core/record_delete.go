package core

import (
	"context"
	"database/sql"
	"fmt"
	"path"
	"slices"
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

		// The delete events are prepared while the transaction still holds each row,
		// with the record as it was, as PocketBase's realtime prepares them before
		// each delete of a cascade: inside a batch, ctx reads through the transaction,
		// so a record created earlier in the batch is seen too.
		prepared := map[recordRef]*PendingRecordDelete{}
		d := &recordDeleter{app: a, tx: tx, deleted: map[string]map[string]bool{}}
		d.beforeDelete = func(dc *Collection, did string) error {
			if dc.ID == c.ID && did == id {
				prepared[recordRef{dc.ID, did}] = a.PrepareRecordDelete(ctx, root)
				return nil
			}
			record, err := findRecordWhere(ctx, tx, dc, "`id` = ?", did)
			if err != nil {
				return err
			}
			// PocketBase deletes the root first, then cascades, and expands a cascaded
			// record's event inside its transaction: the records of this delete are
			// gone from its expand (its rules are still checked on the committed state)
			gone := withExpandGone(ctx, func(collectionID, recordID string) bool {
				return (collectionID != dc.ID || recordID != did) && d.isDeleted(collectionID, recordID)
			})
			prepared[recordRef{dc.ID, did}] = a.PrepareRecordDelete(gone, record)
			return nil
		}
		if err = d.delete(ctx, c, []string{id}); err != nil {
			return err
		}

		deleted = d.order
		pending = make([]*PendingRecordDelete, 0, len(deleted))
		for _, ref := range deleted {
			pending = append(pending, prepared[ref])
		}
		// every kept record that lost a deleted id was saved: it gets an update event
		updated = slices.DeleteFunc(d.unlinked, func(r recordRef) bool { return d.isDeleted(r.collectionID, r.recordID) })

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

// findCommittedRecord reads a record through the read pool, which sees the last
// committed state.
func (a *App) findCommittedRecord(ctx context.Context, ref recordRef) (*Record, error) {
	c, err := a.FindCachedCollectionByNameOrID(ctx, ref.collectionID)
	if err != nil {
		return nil, err
	}

	return findRecordWhere(ctx, a.data.Read(), c, "`id` = ?", ref.recordID)
}
