package contract

import "strconv"

// The backup Jobs: the operator runs the instance image with `instance backup push` (a
// consistent PocketBase-format zip of a tenant, streamed to S3-compatible storage, then
// retention applied to the tenant's prefix) and `instance backup restore` (a verified zip
// from S3 extracted into a data directory whose pod is stopped). Both print one
// BackupResult as JSON and write it to the result file, which the operator points at the
// container's termination message, so it reads the outcome from the Job's pod.
const (
	// BackupCommand is the instance subcommand of the backup Jobs.
	BackupCommand = "backup"
	// BackupPushCommand takes a backup and uploads it: `instance backup push`.
	BackupPushCommand = "push"
	// BackupRestoreCommand downloads, verifies and restores one: `instance backup restore`.
	BackupRestoreCommand = "restore"

	// FlagURL is the base URL of the running instance a push backs up
	// (e.g. http://acme.team-acme.svc:8090); the superuser credentials come from
	// EnvSuperuserEmail and EnvSuperuserPassword.
	FlagURL = "--url"
	// FlagName is the object name of a pushed backup, ending in ".zip"; the object key is
	// the S3 prefix followed by the name.
	FlagName = "--name"
	// FlagKey is the full object key of the backup a restore reads.
	FlagKey = "--key"
	// FlagKeepLast is the count retention of a push: after the upload, the backups under
	// the prefix beyond the newest N are deleted (0 keeps all).
	FlagKeepLast = "--keep-last"
	// FlagMaxAge is the age retention of a push: backups older than this Go duration are
	// deleted (0 keeps all). The newest backup is never deleted by retention.
	FlagMaxAge = "--max-age"
	// FlagResultFile is where the BackupResult JSON is written besides stdout.
	FlagResultFile = "--result-file"
	// FlagIfEmpty makes a restore do nothing (and succeed) when the data directory
	// already holds a database: the bootstrap of a clone is then idempotent.
	FlagIfEmpty = "--if-empty"

	// TerminationMessagePath is the container's termination message file.
	TerminationMessagePath = "/dev/termination-log"

	// BackupManifestSuffix names the manifest object written next to each backup zip:
	// "<prefix><name>.zip" has "<prefix><name>.zip.json" (a BackupManifest).
	BackupManifestSuffix = ".json"
)

// Environment of the backup Jobs: where the bucket is. The credentials come from the
// user's Secret (SecretKeyS3AccessKeyID, SecretKeyS3SecretAccessKey).
const (
	// EnvS3Endpoint is the S3 service URL (http or https).
	EnvS3Endpoint = "PF_S3_ENDPOINT"
	// EnvS3Bucket is the bucket name.
	EnvS3Bucket = "PF_S3_BUCKET"
	// EnvS3Region is the signing region ("" means us-east-1).
	EnvS3Region = "PF_S3_REGION"
	// EnvS3Prefix is the key prefix of the tenant's backups, ending in "/" when not empty.
	EnvS3Prefix = "PF_S3_PREFIX"
	// EnvS3ForcePathStyle is "true" to put the bucket in the path (MinIO, versitygw).
	EnvS3ForcePathStyle = "PF_S3_FORCE_PATH_STYLE"
	// EnvS3AccessKeyID is the access key id.
	EnvS3AccessKeyID = "AWS_ACCESS_KEY_ID"
	// EnvS3SecretAccessKey is the secret access key.
	EnvS3SecretAccessKey = "AWS_SECRET_ACCESS_KEY"
)

// Keys of the user's S3 credentials Secret.
const (
	// SecretKeyS3AccessKeyID is the Secret key holding the access key id.
	SecretKeyS3AccessKeyID = "accessKeyId"
	// SecretKeyS3SecretAccessKey is the Secret key holding the secret access key.
	SecretKeyS3SecretAccessKey = "secretAccessKey"
)

// BackupResult is the outcome of a push or a restore, as JSON on stdout and in the result
// file. It stays well under the 4096 bytes of a termination message.
type BackupResult struct {
	// Location is the backup's URL, s3://bucket/key.
	Location string `json:"location,omitempty"`
	// Key is the object key of the backup zip.
	Key string `json:"key,omitempty"`
	// SizeBytes is the size of the zip.
	SizeBytes int64 `json:"sizeBytes,omitempty"`
	// SHA256 is the hex SHA-256 of the zip.
	SHA256 string `json:"sha256,omitempty"`
	// CompletedAt is when the command finished (RFC 3339, UTC).
	CompletedAt string `json:"completedAt,omitempty"`
	// Pruned counts the backups a push's retention deleted.
	Pruned int `json:"pruned,omitempty"`
	// Skipped is true when a restore with FlagIfEmpty found a database and did nothing.
	Skipped bool `json:"skipped,omitempty"`
	// Error says why the command failed (exit code 1); empty on success. A push whose
	// backup was stored but whose retention, or the deletion of the instance's local copy,
	// failed reports Error together with Location, Key, SizeBytes and SHA256 of the stored
	// backup; a push that stored nothing reports no Key.
	Error string `json:"error,omitempty"`
}

// BackupManifest is the JSON object stored next to each backup zip.
type BackupManifest struct {
	// Name is the backup's object name ("<name>.zip").
	Name string `json:"name"`
	// CreatedAt is when the snapshot was taken (RFC 3339, UTC).
	CreatedAt string `json:"createdAt"`
	// SizeBytes and SHA256 describe the zip; a restore verifies both.
	SizeBytes int64  `json:"sizeBytes"`
	SHA256    string `json:"sha256"`
	// Format is "pocketbase-zip/v1": data.db, auxiliary.db and storage/ as PocketBase's
	// own backups, so stock PocketBase restores it too.
	Format string `json:"format"`
}

// BackupFormat is the BackupManifest.Format of the zips pushed by this version.
const BackupFormat = "pocketbase-zip/v1"

// BackupPushArgs returns the container arguments of a push Job.
func BackupPushArgs(url, name string, keepLast int, maxAge string) []string {
	args := []string{BackupCommand, BackupPushCommand, FlagURL, url, FlagName, name, FlagResultFile, TerminationMessagePath}
	if keepLast > 0 {
		args = append(args, FlagKeepLast, strconv.Itoa(keepLast))
	}
	if maxAge != "" {
		args = append(args, FlagMaxAge, maxAge)
	}
	return args
}

// BackupRestoreArgs returns the container arguments of a restore Job into dir.
func BackupRestoreArgs(dir, key string, ifEmpty bool) []string {
	args := []string{BackupCommand, BackupRestoreCommand, FlagDir, dir, FlagKey, key, FlagResultFile, TerminationMessagePath}
	if ifEmpty {
		args = append(args, FlagIfEmpty)
	}
	return args
}
