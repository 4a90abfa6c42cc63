// Package contract holds the names that the operator and the instance binary share: the
// port, the health path, the data directory layout, the command line and the environment
// variables that bootstrap a tenant. It is the only instance package the operator may
// import, so it depends on the standard library alone.
package contract

// Binary and command line.
const (
	// BinaryPath is where the instance binary lives in its container image.
	BinaryPath = "/instance"
	// ServeCommand is the sub-command that starts the HTTP server.
	ServeCommand = "serve"
	// FlagHTTP is the flag naming the address the server listens on.
	FlagHTTP = "--http"
	// FlagDir is the flag naming the data directory.
	FlagDir = "--dir"
	// FlagMetricsHTTP is the flag naming the address of the separate Prometheus listener.
	FlagMetricsHTTP = "--metrics-http"
)

// Network.
const (
	// HTTPPort is the port the tenant API listens on inside the pod.
	HTTPPort = 8090
	// HTTPPortName is the name of the API port on the container and the Service.
	HTTPPortName = "http"
	// MetricsPort is the port of the Prometheus listener, kept apart from the tenant API
	// so that a tenant URL never exposes it.
	MetricsPort = 9090
	// MetricsPortName is the name of the metrics port on the container and the Service.
	MetricsPortName = "metrics"
	// HealthPath answers 200 once the instance serves requests, as PocketBase's does.
	HealthPath = "/api/health"
	// MetricsPath is where the metrics listener serves Prometheus text.
	MetricsPath = "/metrics"
)

// Data directory layout, PocketBase's own so that a pb_data moves in and out unchanged.
const (
	// DataDir is where the operator mounts the tenant's volume.
	DataDir = "/pb_data"
	// DefaultLocalDataDir is the data directory used when none is given on the command line.
	DefaultLocalDataDir = "pb_data"
	// DataDBFile is the main SQLite database inside the data directory.
	DataDBFile = "data.db"
	// AuxiliaryDBFile holds logs and other non-essential data.
	AuxiliaryDBFile = "auxiliary.db"
	// StorageDir holds uploaded files.
	StorageDir = "storage"
	// BackupsDir holds local backups.
	BackupsDir = "backups"
)

// Environment variables read by the instance at start-up.
const (
	// EnvSuperuserEmail and EnvSuperuserPassword, when both are set, make the instance
	// create or update that superuser before it starts serving.
	EnvSuperuserEmail = "PB_SUPERUSER_EMAIL"
	// EnvSuperuserPassword is the password of the bootstrap superuser.
	EnvSuperuserPassword = "PB_SUPERUSER_PASSWORD"
	// EnvEncryptionKey, when set, is the 32-character key that encrypts the stored settings.
	EnvEncryptionKey = "PB_ENCRYPTION_KEY"
)

// Keys of the superuser Secret that the operator generates.
const (
	// SecretKeyEmail is the Secret key holding the superuser email.
	SecretKeyEmail = "email"
	// SecretKeyPassword is the Secret key holding the superuser password.
	SecretKeyPassword = "password"
)

// Process identity inside the container image.
const (
	// RunAsUser is the numeric non-root user the instance runs as.
	RunAsUser = 65532
	// RunAsGroup is the numeric group the instance runs as and the volume's fsGroup.
	RunAsGroup = 65532
)

// ServeArgs returns the container arguments that start the instance serving on the given
// address with the given data directory.
func ServeArgs(addr, dir string) []string {
	return []string{ServeCommand, FlagHTTP, addr, FlagDir, dir}
}
