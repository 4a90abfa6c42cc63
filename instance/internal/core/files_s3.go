package core

import (
	"context"
	"fmt"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// newS3Store returns the Store of an S3 configuration.
func newS3Store(cfg S3Config) (*filesystem.S3, error) {
	return filesystem.NewS3(filesystem.S3Config{
		Endpoint:       cfg.Endpoint,
		Bucket:         cfg.Bucket,
		Region:         cfg.Region,
		AccessKey:      cfg.AccessKey,
		Secret:         cfg.Secret,
		ForcePathStyle: cfg.ForcePathStyle,
	})
}

// TestS3 checks an S3 configuration as PocketBase's settings test does: it uploads a
// small file under a random "pb_settings_test_" prefix, then deletes that prefix
// (which needs listing and deleting to work). The error says which step failed.
func (a *App) TestS3(ctx context.Context, cfg S3Config) error {
	store, err := newS3Store(cfg)
	if err != nil {
		return fmt.Errorf("failed to initialize the S3 filesystem: %w", err)
	}
	defer func() { _ = store.Close() }()

	suffix, err := security.RandomStringWithAlphabet(5, security.AlphabetAlphanumeric)
	if err != nil {
		return err
	}
	prefix := "pb_settings_test_" + suffix
	key := prefix + "/test.txt"
	if err := store.Upload(ctx, key, strings.NewReader("test"), "text/plain; charset=utf-8", nil); err != nil {
		// the key prefix is PocketBase's blob bucket error wrapper
		return fmt.Errorf("failed to upload a test file: [key: %s] %w", key, err)
	}
	if err := store.DeleteDir(ctx, prefix); err != nil {
		return fmt.Errorf("failed to delete a test file: %w", err)
	}

	return nil
}

// deleteStoredDir deletes everything stored under a "directory" key of the file
// store (a record's or a collection's files), logging failures.
func (a *App) deleteStoredDir(key string) {
	a.withCleanupStore("deleting stored files", func(ctx context.Context, store filesystem.Store) {
		if err := store.DeleteDir(ctx, key); err != nil {
			a.logger.Warn("deleting stored files", "key", key, "error", err)
		}
	})
}
