package controller

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

// keepFailedBackups is how many failed PocketBaseBackups of an instance are kept once a
// newer backup succeeded: enough to read why the last attempts failed, few enough that a
// broken schedule does not pile them up. Failed backups newer than the newest success are
// always kept, since they are what BackupHealthy reports.
const keepFailedBackups = 3

// prunedBackups returns the backups of one instance that retention drops, by the rule
// the push Job applies to the objects in the bucket: completed backups newest first, the
// newest always kept, the others dropped at index keepLast or beyond, or when older than
// maxAge at the time the newest completed. Only backups written to dest (endpoint,
// bucket and prefix) are dropped, since those are the only objects the Job prunes.
// Failed backups beyond the newest keepFailedBackups that are older than the newest
// success are dropped as well.
func prunedBackups(backups []pbv1alpha1.PocketBaseBackup, ret pbv1alpha1.BackupRetention, dest pbv1alpha1.S3Destination) ([]*pbv1alpha1.PocketBaseBackup, error) {
	var maxAge time.Duration
	if ret.MaxAge != nil {
		d, err := time.ParseDuration(*ret.MaxAge)
		if err != nil {
			return nil, fmt.Errorf("parsing retention.maxAge: %w", err)
		}
		maxAge = d
	}
	var completed, failed []*pbv1alpha1.PocketBaseBackup
	for i := range backups {
		b := &backups[i]
		if b.Status.CompletedAt == nil || !b.DeletionTimestamp.IsZero() {
			continue
		}
		switch b.Status.Phase {
		case pbv1alpha1.BackupCompleted:
			completed = append(completed, b)
		case pbv1alpha1.BackupFailed:
			failed = append(failed, b)
		}
	}
	newestFirst := func(a, b *pbv1alpha1.PocketBaseBackup) int { return compareFinished(b, a) }
	slices.SortFunc(completed, newestFirst)
	slices.SortFunc(failed, newestFirst)

	if len(completed) == 0 {
		return nil, nil
	}
	newestSuccess := completed[0].Status.CompletedAt.Time
	var drop []*pbv1alpha1.PocketBaseBackup
	inDest := slices.DeleteFunc(slices.Clone(completed), func(b *pbv1alpha1.PocketBaseBackup) bool {
		return !sameDestination(b.Status.Destination, dest)
	})
	for i, b := range inDest {
		if i == 0 {
			continue
		}
		tooMany := ret.KeepLast != nil && i >= int(*ret.KeepLast)
		tooOld := maxAge > 0 && inDest[0].Status.CompletedAt.Sub(b.Status.CompletedAt.Time) > maxAge
		if tooMany || tooOld {
			drop = append(drop, b)
		}
	}
	for i, b := range failed {
		if i >= keepFailedBackups && b.Status.CompletedAt.Time.Before(newestSuccess) {
			drop = append(drop, b)
		}
	}
	return drop, nil
}

// sameDestination reports whether a backup was written under dest's endpoint, bucket
// and (resolved) prefix.
func sameDestination(got *pbv1alpha1.S3Destination, dest pbv1alpha1.S3Destination) bool {
	if got == nil {
		return false
	}
	prefix := func(d pbv1alpha1.S3Destination) string {
		if d.Prefix == nil {
			return ""
		}
		return *d.Prefix
	}
	return got.Endpoint == dest.Endpoint && got.Bucket == dest.Bucket && prefix(*got) == prefix(dest)
}

// compareFinished orders finished backups by completion time; within the same second
// (the API's precision) the one created later is the newer.
func compareFinished(a, b *pbv1alpha1.PocketBaseBackup) int {
	return cmp.Or(a.Status.CompletedAt.Compare(b.Status.CompletedAt.Time),
		a.CreationTimestamp.Compare(b.CreationTimestamp.Time),
		cmp.Compare(a.Name, b.Name))
}
