package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

const backupRestoreUsage = "instance backup restore --dir PATH --key KEY [--if-empty] [--result-file PATH]"

// backupRestore runs `instance backup restore`: the zip KEY and its manifest are
// downloaded, the zip is verified against the manifest (size, SHA-256) and restored into
// the data directory of a stopped instance (core.RestoreDir: validated before anything is
// touched, entries swapped inside the directory, the old ones put back on failure).
func (c *cli) backupRestore(ctx context.Context, args []string) error {
	fset := c.newFlagSet(contract.BackupRestoreCommand, backupRestoreUsage)
	dir := fset.String(flagName(contract.FlagDir), "", "data directory to restore into (its instance stopped)")
	key := fset.String(flagName(contract.FlagKey), "", "object key of the backup zip")
	ifEmpty := fset.Bool(flagName(contract.FlagIfEmpty), false, "do nothing when the data directory already holds "+contract.DataDBFile)
	resultFile := fset.String(flagName(contract.FlagResultFile), "", "file to write the JSON result to, besides stdout")

	if err := c.parseBackupFlags(fset, args, resultFile); err != nil {
		return err
	}
	b, err := c.restoreOptions(*dir, *key)
	if err != nil {
		return c.finishBackup(contract.BackupResult{}, err, *resultFile)
	}

	res, err := c.restore(ctx, b, *dir, *key, *ifEmpty)

	return c.finishBackup(res, err, *resultFile)
}

// restoreOptions validates the restore input up front and returns the bucket.
func (c *cli) restoreOptions(dir, key string) (*bucket, error) {
	switch {
	case dir == "":
		return nil, errors.New("missing " + contract.FlagDir)
	case key == "":
		return nil, errors.New("missing " + contract.FlagKey)
	case strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") || strings.Contains(key, "//") ||
		strings.ContainsAny(key, "\\\x00") || strings.HasSuffix(key, contract.BackupManifestSuffix):
		return nil, fmt.Errorf("invalid %s %q: want the object key of a backup zip", contract.FlagKey, key)
	}

	return c.bucketFromEnv()
}

// restore runs the restore; the data directory is untouched unless the verified archive
// is swapped in whole.
func (c *cli) restore(ctx context.Context, b *bucket, dir, key string, ifEmpty bool) (contract.BackupResult, error) {
	logger := c.backupLogger()
	res := contract.BackupResult{Location: b.location(key), Key: key}

	if ifEmpty {
		_, err := os.Lstat(filepath.Join(dir, contract.DataDBFile))
		if err == nil {
			logger.Info("the data directory holds a database: nothing to restore", slog.String("dir", dir))
			res.Skipped = true
			return res, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return res, fmt.Errorf("checking the data directory: %w", err)
		}
	}
	if err := refuseInUse(dir); err != nil {
		return res, err
	}

	m, err := b.readManifest(ctx, key)
	if err != nil {
		return res, err
	}
	if m.Format != contract.BackupFormat {
		return res, fmt.Errorf("unsupported backup format %q: want %q", m.Format, contract.BackupFormat)
	}
	if m.SizeBytes <= 0 || len(m.SHA256) != sha256.Size*2 {
		return res, fmt.Errorf("the manifest of %s has no valid size and sha256", key)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, fmt.Errorf("creating the data directory: %w", err)
	}
	zipPath, err := downloadVerified(ctx, b, key, dir, m)
	if zipPath != "" {
		defer os.Remove(zipPath)
	}
	if err != nil {
		return res, err
	}
	logger.Info("downloaded and verified backup", slog.String("location", res.Location), slog.Int64("sizeBytes", m.SizeBytes))

	if err := core.RestoreDir(ctx, dir, zipPath); err != nil {
		return res, fmt.Errorf("restoring into %s: %w", dir, err)
	}
	logger.Info("restored backup", slog.String("location", res.Location), slog.String("dir", dir))
	res.SizeBytes, res.SHA256 = m.SizeBytes, m.SHA256

	return res, nil
}

// downloadVerified downloads the zip key into the temp directory of the data directory
// (the volume with room) and checks it against the manifest. It returns the file's path
// whenever one was created, for the caller to remove.
func downloadVerified(ctx context.Context, b *bucket, key, dir string, m *contract.BackupManifest) (string, error) {
	r, err := b.store.Open(ctx, key)
	if errors.Is(err, filesystem.ErrNotFound) {
		return "", fmt.Errorf("no backup %s", b.location(key))
	}
	if err != nil {
		return "", fmt.Errorf("downloading %s: %w", b.location(key), err)
	}
	defer r.Close()

	f, err := core.CreateTempFile(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	// one byte more than the manifest says tells a longer object
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, m.SizeBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return f.Name(), fmt.Errorf("downloading %s: %w", b.location(key), err)
	}
	if n != m.SizeBytes {
		return f.Name(), fmt.Errorf("backup %s does not match its manifest: %d bytes, want %d", key, n, m.SizeBytes)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, m.SHA256) {
		return f.Name(), fmt.Errorf("backup %s does not match its manifest: sha256 %s, want %s", key, got, m.SHA256)
	}

	return f.Name(), nil
}
