package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

// maxResultError bounds the error message of a BackupResult, so the whole result stays
// well inside a termination message.
const maxResultError = 800

// backup runs `instance backup push|restore`: both print a contract.BackupResult as the
// last stdout line and write it to --result-file; a failure is also returned (exit 1).
func (c *cli) backup(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("missing backup action: " + contract.BackupPushCommand + " or " + contract.BackupRestoreCommand)
	}
	switch args[0] {
	case contract.BackupPushCommand:
		return c.backupPush(ctx, args[1:])
	case contract.BackupRestoreCommand:
		return c.backupRestore(ctx, args[1:])
	default:
		return fmt.Errorf("unknown backup action %q: want %s or %s", args[0], contract.BackupPushCommand, contract.BackupRestoreCommand)
	}
}

// parseBackupFlags parses the flags of a backup command, which takes no arguments. A
// command line error is reported as the command's result, in the --result-file found
// however far the parsing went; flag.ErrHelp is returned as it is.
func (c *cli) parseBackupFlags(fs *flag.FlagSet, args []string, resultFile *string) error {
	positional, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		return c.finishBackup(contract.BackupResult{}, err, resultFileArg(args))
	case len(positional) > 0:
		return c.finishBackup(contract.BackupResult{}, fmt.Errorf("backup %s takes no arguments, got %q", fs.Name(), positional), *resultFile)
	}

	return nil
}

// finishBackup completes res with err and the time, prints it and writes it to
// resultFile (when set), and returns err (or the failure to write the result).
func (c *cli) finishBackup(res contract.BackupResult, err error, resultFile string) error {
	res.CompletedAt = time.Now().UTC().Format(time.RFC3339)
	if err != nil {
		res.Error = truncateUTF8(err.Error(), maxResultError)
	}
	b, mErr := json.Marshal(res)
	if mErr != nil {
		return errors.Join(err, mErr)
	}
	fmt.Fprintln(c.stdout, string(b))
	if resultFile != "" {
		// note: the termination message file exists already; O_TRUNC overwrites it
		if wErr := os.WriteFile(resultFile, b, 0o644); wErr != nil {
			err = errors.Join(err, fmt.Errorf("writing the result file: %w", wErr))
		}
	}

	return err
}

// resultFileArg finds the --result-file value in args that the flags could not be
// parsed from, so that even a command line error reaches the result file.
func resultFileArg(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != flagName(contract.FlagResultFile) {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}

	return ""
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}

	return s + "…"
}

// backupLogger logs the progress of a backup command to stderr (the Job's log).
func (c *cli) backupLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// bucket is the S3 location of the backups, from the contract environment.
type bucket struct {
	store  *filesystem.S3
	name   string
	prefix string
}

// bucketFromEnv reads the contract.EnvS3* variables; every missing one is named.
func (c *cli) bucketFromEnv() (*bucket, error) {
	var missing []string
	get := func(name string) string {
		v := c.getenv(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	cfg := filesystem.S3Config{
		Endpoint:  get(contract.EnvS3Endpoint),
		Bucket:    get(contract.EnvS3Bucket),
		AccessKey: get(contract.EnvS3AccessKeyID),
		Secret:    get(contract.EnvS3SecretAccessKey),
		Region:    c.getenv(contract.EnvS3Region),
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment variables: %s", strings.Join(missing, ", "))
	}
	if v := c.getenv(contract.EnvS3ForcePathStyle); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%s must be true or false, got %q", contract.EnvS3ForcePathStyle, v)
		}
		cfg.ForcePathStyle = b
	}
	prefix := c.getenv(contract.EnvS3Prefix)
	if prefix != "" && (!strings.HasSuffix(prefix, "/") || strings.HasPrefix(prefix, "/") ||
		strings.Contains(prefix, "//") || strings.ContainsAny(prefix, "\\\x00")) {
		return nil, fmt.Errorf("%s must be a relative key prefix ending in \"/\", got %q", contract.EnvS3Prefix, prefix)
	}
	store, err := filesystem.NewS3(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", contract.EnvS3Endpoint, contract.EnvS3Bucket, err)
	}

	return &bucket{store: store, name: cfg.Bucket, prefix: prefix}, nil
}

// location is the s3:// URL of key.
func (b *bucket) location(key string) string {
	return "s3://" + b.name + "/" + key
}

// maxManifestSize bounds the manifest read from the bucket.
const maxManifestSize = 64 << 10

// readManifest reads and checks the manifest of the backup zip key.
func (b *bucket) readManifest(ctx context.Context, key string) (*contract.BackupManifest, error) {
	r, err := b.store.Open(ctx, key+contract.BackupManifestSuffix)
	if errors.Is(err, filesystem.ErrNotFound) {
		return nil, fmt.Errorf("no manifest %s", key+contract.BackupManifestSuffix)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the manifest: %w", err)
	}
	defer r.Close()

	raw, err := io.ReadAll(io.LimitReader(r, maxManifestSize))
	if err != nil {
		return nil, fmt.Errorf("reading the manifest: %w", err)
	}
	var m contract.BackupManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decoding the manifest %s: %w", key+contract.BackupManifestSuffix, err)
	}

	return &m, nil
}

// writeManifest stores m next to the backup zip key.
func (b *bucket) writeManifest(ctx context.Context, key string, m *contract.BackupManifest) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := b.store.Upload(ctx, key+contract.BackupManifestSuffix, bytes.NewReader(raw), "application/json", nil); err != nil {
		return fmt.Errorf("uploading the manifest: %w", err)
	}

	return nil
}
