package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

const backupPushUsage = "instance backup push (--url URL | --dir PATH) --name NAME.zip [--keep-last N] [--max-age DURATION] [--result-file PATH]"

// manifestTimeFormat is RFC 3339 with milliseconds, so that backups pushed within the
// same second still sort by age.
const manifestTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// pushOptions is a validated `instance backup push` command line and environment.
type pushOptions struct {
	instance        *url.URL // or dir
	dir             string
	name            string
	keepLast        int
	maxAge          time.Duration
	email, password string
	bucket          *bucket
}

// backupPush runs `instance backup push`: a consistent PocketBase-format zip of the
// instance (over its API with --url, or of a stopped data directory with --dir) streamed
// to PF_S3_PREFIX+NAME with its manifest, then the retention of the prefix.
func (c *cli) backupPush(ctx context.Context, args []string) error {
	fs := c.newFlagSet(contract.BackupPushCommand, backupPushUsage)
	rawURL := fs.String(flagName(contract.FlagURL), "", "base URL of the running instance to back up")
	dir := fs.String(flagName(contract.FlagDir), "", "data directory of a stopped instance to back up (instead of --url)")
	name := fs.String(flagName(contract.FlagName), "", "object name of the backup, [a-z0-9_-]+.zip")
	keepLast := fs.Int(flagName(contract.FlagKeepLast), 0, "keep only the newest N backups of the prefix (0 keeps all)")
	maxAge := fs.String(flagName(contract.FlagMaxAge), "", "delete the backups of the prefix older than this Go duration, e.g. 720h (empty or 0 keeps all)")
	resultFile := fs.String(flagName(contract.FlagResultFile), "", "file to write the JSON result to, besides stdout")

	if err := c.parseBackupFlags(fs, args, resultFile); err != nil {
		return err
	}
	opts, err := c.pushOptions(*rawURL, *dir, *name, *keepLast, *maxAge)
	if err != nil {
		return c.finishBackup(contract.BackupResult{}, err, *resultFile)
	}

	res, err := c.push(ctx, opts)

	return c.finishBackup(res, err, *resultFile)
}

// pushOptions validates the push input up front, before anything is created.
func (c *cli) pushOptions(rawURL, dir, name string, keepLast int, maxAge string) (*pushOptions, error) {
	opts := &pushOptions{name: name, keepLast: keepLast}
	switch {
	case rawURL == "" && dir == "":
		return nil, errors.New("missing " + contract.FlagURL + " (a running instance) or " + contract.FlagDir + " (a stopped one's data directory)")
	case rawURL != "" && dir != "":
		return nil, errors.New(contract.FlagURL + " and " + contract.FlagDir + " exclude each other")
	case rawURL != "":
		u, err := parseInstanceURL(rawURL)
		if err != nil {
			return nil, err
		}
		opts.instance = u
	default:
		opts.dir = dir
	}
	if name == "" {
		return nil, errors.New("missing " + contract.FlagName)
	}
	if !core.IsValidBackupName(name) {
		return nil, fmt.Errorf("invalid %s %q: want at most %d of [a-z0-9_-] ending in .zip", contract.FlagName, name, core.MaxBackupNameLength)
	}
	if keepLast < 0 {
		return nil, fmt.Errorf("invalid %s %d: want 0 (keep all) or more", contract.FlagKeepLast, keepLast)
	}
	if maxAge != "" {
		d, err := time.ParseDuration(maxAge)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("invalid %s %q: want a Go duration such as 720h (0 keeps all)", contract.FlagMaxAge, maxAge)
		}
		opts.maxAge = d
	}

	var missing []string
	if opts.instance != nil {
		opts.email, opts.password = c.getenv(contract.EnvSuperuserEmail), c.getenv(contract.EnvSuperuserPassword)
		for _, v := range [][2]string{{contract.EnvSuperuserEmail, opts.email}, {contract.EnvSuperuserPassword, opts.password}} {
			if v[1] == "" {
				missing = append(missing, v[0])
			}
		}
	}
	b, err := c.bucketFromEnv()
	if err != nil {
		if len(missing) > 0 {
			return nil, fmt.Errorf("%w, %s", err, strings.Join(missing, ", "))
		}
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment variables: %s", strings.Join(missing, ", "))
	}
	opts.bucket = b

	return opts, nil
}

// push takes the backup, uploads it with its manifest and applies the retention. The
// result describes the stored backup even when the retention, or the deletion of the
// instance's local copy, then fails.
func (c *cli) push(ctx context.Context, opts *pushOptions) (res contract.BackupResult, err error) {
	logger := c.backupLogger()
	key := opts.bucket.prefix + opts.name
	createdAt := time.Now().UTC()

	sum := &hashCounter{h: sha256.New()}
	if opts.instance != nil {
		ic, createErr := createOnInstance(ctx, opts, logger)
		if createErr != nil {
			return res, createErr
		}
		// the instance's copy goes whatever happens, once the manifest is written
		// (note: err is the named result here)
		defer func() {
			if delErr := ic.deleteBackup(context.WithoutCancel(ctx), opts.name); delErr != nil {
				err = errors.Join(err, delErr)
			}
		}()
		if err := uploadFromInstance(ctx, ic, opts, key, sum); err != nil {
			return res, err
		}
	} else if err := pushFromDir(ctx, opts, key, sum, logger); err != nil {
		return res, err
	}

	res = contract.BackupResult{
		Location: opts.bucket.location(key), Key: key,
		SizeBytes: sum.n, SHA256: hex.EncodeToString(sum.h.Sum(nil)),
	}
	manifest := &contract.BackupManifest{
		Name: opts.name, CreatedAt: createdAt.Format(manifestTimeFormat),
		SizeBytes: res.SizeBytes, SHA256: res.SHA256, Format: contract.BackupFormat,
	}
	if err := opts.bucket.writeManifest(ctx, key, manifest); err != nil {
		// a zip without its manifest cannot be restored: remove it
		if delErr := opts.bucket.store.Delete(context.WithoutCancel(ctx), key); delErr != nil {
			err = errors.Join(err, fmt.Errorf("removing the uploaded zip: %w", delErr))
		}
		return contract.BackupResult{}, err
	}
	logger.Info("uploaded backup", slog.String("location", res.Location),
		slog.Int64("sizeBytes", res.SizeBytes), slog.String("sha256", res.SHA256))

	if opts.keepLast > 0 || opts.maxAge > 0 {
		pruned, err := applyRetention(ctx, opts.bucket, key, opts.keepLast, opts.maxAge, time.Now(), logger)
		res.Pruned = pruned
		if err != nil {
			return res, fmt.Errorf("the backup is stored, but the retention failed: %w", err)
		}
	}

	return res, nil
}

// hashCounter is the SHA-256 and the size of what is written to it.
type hashCounter struct {
	h hash.Hash
	n int64
}

func (hc *hashCounter) Write(p []byte) (int, error) {
	hc.n += int64(len(p))
	return hc.h.Write(p)
}

// createOnInstance logs in to the instance and has it write backups/<name>, a
// consistent snapshot taken while writes go on.
func createOnInstance(ctx context.Context, opts *pushOptions, logger *slog.Logger) (*instanceClient, error) {
	ic := newInstanceClient(opts.instance)
	if err := ic.login(ctx, opts.email, opts.password); err != nil {
		return nil, err
	}
	if err := ic.createBackup(ctx, opts.name); err != nil {
		return nil, err
	}
	logger.Info("created backup on the instance", slog.String("name", opts.name))

	return ic, nil
}

// uploadFromInstance streams the instance's backups/<name> to key through sum.
func uploadFromInstance(ctx context.Context, ic *instanceClient, opts *pushOptions, key string, sum *hashCounter) error {
	body, err := ic.openBackup(ctx, opts.name)
	if err != nil {
		return err
	}
	defer body.Close()

	return uploadZip(ctx, opts.bucket, key, io.TeeReader(body, sum))
}

// pushFromDir opens the stopped instance's data directory and streams its archive to key
// through sum; only the database snapshots touch the disk (in its temp directory).
func pushFromDir(ctx context.Context, opts *pushOptions, key string, sum *hashCounter, logger *slog.Logger) (err error) {
	if st, err := os.Stat(filepath.Join(opts.dir, contract.DataDBFile)); err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a data directory: no %s", opts.dir, contract.DataDBFile)
	}
	if err := refuseInUse(opts.dir); err != nil {
		return err
	}
	app, err := core.New(ctx, core.Config{DataDir: opts.dir, Logger: logger.With(slog.String("dir", opts.dir))})
	if err != nil {
		return fmt.Errorf("opening data directory: %w", err)
	}
	defer func() {
		if cerr := app.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing data directory: %w", cerr))
		}
	}()

	pr, pw := io.Pipe()
	written := make(chan struct{})
	go func() {
		defer close(written)
		pw.CloseWithError(app.WriteBackup(ctx, pw))
	}()
	err = uploadZip(ctx, opts.bucket, key, io.TeeReader(pr, sum))
	// an upload that stopped early unblocks the writer; the app closes after it
	_ = pr.CloseWithError(cmp.Or(err, io.ErrClosedPipe))
	<-written
	logger.Info("archived data directory", slog.String("dir", opts.dir))

	return err
}

// uploadZip streams r to the backup zip key.
func uploadZip(ctx context.Context, b *bucket, key string, r io.Reader) error {
	err := b.store.UploadStream(ctx, key, r, "application/zip", nil, filesystem.DefaultPartSize)
	if err != nil {
		return fmt.Errorf("uploading %s: %w", b.location(key), err)
	}

	return nil
}

// storedBackup is a backup zip of the prefix, for the retention.
type storedBackup struct {
	key       string
	createdAt time.Time
}

// applyRetention deletes the backups (zip and manifest) of the prefix beyond the newest
// keepLast or older than maxAge (each ignored when 0), newest first by the manifest's
// createdAt (the object's LastModified without a readable one). The newest backup and
// the one just pushed (justPushed) are never deleted. Only the ".zip" objects right under
// the prefix count. It returns the number of backups deleted.
func applyRetention(ctx context.Context, b *bucket, justPushed string, keepLast int, maxAge time.Duration, now time.Time, logger *slog.Logger) (int, error) {
	objects, err := b.store.List(ctx, b.prefix)
	if err != nil {
		return 0, fmt.Errorf("listing %s: %w", b.location(b.prefix), err)
	}
	var backups []storedBackup
	for _, o := range objects {
		rest := strings.TrimPrefix(o.Key, b.prefix)
		if strings.Contains(rest, "/") || !strings.HasSuffix(rest, ".zip") {
			continue
		}
		sb := storedBackup{key: o.Key, createdAt: o.ModTime}
		if m, err := b.readManifest(ctx, o.Key); err == nil {
			if t, err := time.Parse(time.RFC3339, m.CreatedAt); err == nil {
				sb.createdAt = t
			}
		}
		backups = append(backups, sb)
	}
	slices.SortFunc(backups, func(x, y storedBackup) int {
		return cmp.Or(y.createdAt.Compare(x.createdAt), strings.Compare(y.key, x.key))
	})

	pruned := 0
	var errs []error
	for i, sb := range backups {
		expired := (keepLast > 0 && i >= keepLast) || (maxAge > 0 && now.Sub(sb.createdAt) > maxAge)
		if i == 0 || sb.key == justPushed || !expired {
			continue
		}
		if err := b.store.Delete(ctx, sb.key); err != nil && !errors.Is(err, filesystem.ErrNotFound) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", sb.key, err))
			continue
		}
		if err := b.store.Delete(ctx, sb.key+contract.BackupManifestSuffix); err != nil && !errors.Is(err, filesystem.ErrNotFound) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", sb.key+contract.BackupManifestSuffix, err))
		}
		pruned++
		logger.Info("pruned backup", slog.String("key", sb.key), slog.String("createdAt", sb.createdAt.Format(time.RFC3339)))
	}

	return pruned, errors.Join(errs...)
}

// refuseInUse fails when another process has the databases of dir open.
func refuseInUse(dir string) error {
	inUse, err := core.DataDirInUse(dir)
	if err != nil {
		return err
	}
	if inUse {
		return fmt.Errorf("the data directory %s is in use by another process: stop the instance first", dir)
	}

	return nil
}

// flagName is the flag package's name of a contract flag ("--url" → "url").
func flagName(f string) string {
	return strings.TrimPrefix(f, "--")
}
