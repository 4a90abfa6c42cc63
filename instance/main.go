// Command instance is pocketfleet's tenant server: a from-scratch server that is
// wire-compatible with PocketBase v0.40 and opens PocketBase data directories as they are.
//
// Usage:
//
//	instance serve [--http 127.0.0.1:8090] [--dir pb_data] [--metrics-http ADDR]
//	instance superuser upsert|create|update EMAIL PASS [--dir pb_data]
//	instance superuser delete|otp EMAIL [--dir pb_data]
//	instance superuser ips [IP|SUBNET...] [--dir pb_data]
//	instance backup push (--url URL | --dir PATH) --name NAME.zip [--keep-last N] [--max-age DURATION] [--result-file PATH]
//	instance backup restore --dir PATH --key KEY [--if-empty] [--result-file PATH]
//	instance --version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
	"github.com/pocketfleet/pocketfleet/instance/internal/metrics"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const (
	defaultHTTPAddr = "127.0.0.1:8090"
	// shutdownTimeout bounds the graceful shutdown of the listeners.
	shutdownTimeout = 10 * time.Second
)

const usage = `instance: a PocketBase v0.40 compatible server.

Usage:
  instance serve [--http 127.0.0.1:8090] [--dir pb_data] [--metrics-http ADDR]
  instance superuser upsert EMAIL PASS [--dir pb_data]   creates, or updates if the email exists, a superuser
  instance superuser create EMAIL PASS [--dir pb_data]   creates a new superuser
  instance superuser update EMAIL PASS [--dir pb_data]   changes the password of a superuser
  instance superuser delete EMAIL [--dir pb_data]        deletes a superuser
  instance superuser otp EMAIL [--dir pb_data]           creates a one-time password for a superuser
  instance superuser ips [IP|SUBNET...] [--dir pb_data]  sets (or, with none, clears) the superuser IP allow-list
  instance backup push (--url URL | --dir PATH) --name NAME.zip [--keep-last N] [--max-age DURATION] [--result-file PATH]
      streams a consistent backup zip of a running instance (or of a stopped one's data
      directory) to PF_S3_PREFIX+NAME with a NAME.zip.json manifest, then prunes the prefix
  instance backup restore --dir PATH --key KEY [--if-empty] [--result-file PATH]
      downloads the backup KEY, verifies it against its manifest and restores it into the
      data directory of a stopped instance (--if-empty: only when it has no data.db)
  instance --version

Environment (serve): ` + contract.EnvSuperuserEmail + ` and ` + contract.EnvSuperuserPassword + `, when both set,
upsert that superuser before serving.
Environment (backup): ` + contract.EnvS3Endpoint + `, ` + contract.EnvS3Bucket + `, ` + contract.EnvS3AccessKeyID + ` and
` + contract.EnvS3SecretAccessKey + ` (required), ` + contract.EnvS3Region + `, ` + contract.EnvS3Prefix + `, ` + contract.EnvS3ForcePathStyle + `;
push --url also ` + contract.EnvSuperuserEmail + ` and ` + contract.EnvSuperuserPassword + `.
The backup commands print a JSON result as their last stdout line (and to --result-file).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// cli carries the process environment of one run.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// run executes the command line args (without the program name) and returns the exit
// code. Serving stops when ctx is cancelled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv}

	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return 0
	}

	var err error
	switch args[0] {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "-v", "--version", "-version", "version":
		fmt.Fprintf(stdout, "instance version %s\n", version)
		return 0
	case contract.ServeCommand:
		err = c.serve(ctx, args[1:])
	case "superuser":
		err = c.superuser(ctx, args[1:])
	case contract.BackupCommand:
		err = c.backup(ctx, args[1:])
	default:
		fmt.Fprintf(stderr, "Error: unknown command %q for \"instance\"\nRun 'instance --help' for usage.\n", args[0])
		return 1
	}

	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}

	return 0
}

// newFlagSet returns a flag set that reports to stderr and returns its errors.
func (c *cli) newFlagSet(name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: %s\n\nFlags:\n", usageLine)
		fs.PrintDefaults()
	}

	return fs
}

// parseInterspersed parses flags that may come before, between or after positional
// arguments (cobra style) and returns the positional ones. Everything after "--" is
// positional, e.g. a password that starts with "-".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}

	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}

	return append(positional, rest...), nil
}

// openApp opens the data directory, creating and bootstrapping it if needed; the
// settings encryption key comes from contract.EnvEncryptionKey.
func openApp(ctx context.Context, dir string, logger *slog.Logger) (*core.App, error) {
	return openAppWithKey(ctx, dir, logger, "")
}

// openAppWithKey is openApp with the settings encryption key given ("" for the
// contract.EnvEncryptionKey environment variable).
func openAppWithKey(ctx context.Context, dir string, logger *slog.Logger, encryptionKey string) (*core.App, error) {
	app, err := core.New(ctx, core.Config{DataDir: dir, Logger: logger, EncryptionKey: encryptionKey})
	if err != nil {
		return nil, fmt.Errorf("opening data directory: %w", err)
	}

	return app, nil
}

// pbServeFlags are the flags of `pocketbase serve` (and its global flags) that a
// PocketBase command line may carry, so that one runs unchanged. --origins and
// --encryptionEnv work as in PocketBase; --https and domain arguments are refused with a
// reason; the others configure features this instance does not have (JS hooks, Go
// migrations, pb_public, dev logging) and are accepted, with a warning when set.
type pbServeFlags struct {
	originsList   *string
	https         *string
	encryptionEnv *string
	ignored       map[string]*string
}

func pocketbaseServeFlags(fs *flag.FlagSet) *pbServeFlags {
	f := &pbServeFlags{
		originsList:   fs.String("origins", "*", "CORS allowed domain origins, comma separated (PocketBase's flag)"),
		https:         fs.String("https", "", "not supported: TLS is terminated in front of the instance"),
		encryptionEnv: fs.String("encryptionEnv", "", "the environment variable whose 32-character value encrypts the stored settings (default "+contract.EnvEncryptionKey+")"),
		ignored:       map[string]*string{},
	}
	for _, name := range []string{"hooksDir", "hooksPool", "migrationsDir", "publicDir", "queryTimeout"} {
		f.ignored[name] = fs.String(name, "", "accepted for PocketBase command lines; no effect here")
	}
	for _, name := range []string{"dev", "automigrate", "hooksWatch", "indexFallback"} {
		v := new(string)
		fs.Var(boolFlag{v}, name, "accepted for PocketBase command lines; no effect here")
		f.ignored[name] = v
	}

	return f
}

// boolFlag is a flag that may be given bare (--dev) or with a value (--dev=false), kept
// as text.
type boolFlag struct{ v *string }

func (b boolFlag) String() string {
	if b.v == nil {
		return ""
	}
	return *b.v
}

func (b boolFlag) Set(s string) error { *b.v = s; return nil }

func (boolFlag) IsBoolFlag() bool { return true }

func (f *pbServeFlags) origins() []string {
	var out []string
	for o := range strings.SplitSeq(*f.originsList, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}

	return out
}

func (f *pbServeFlags) warnIgnored(logger *slog.Logger) {
	for name, v := range f.ignored {
		if *v != "" {
			logger.Warn("flag accepted for PocketBase compatibility has no effect here", slog.String("flag", "--"+name), slog.String("value", *v))
		}
	}
}

// superuser runs `instance superuser upsert|create|update|delete|otp|ips`, with
// PocketBase's arguments and messages (cmd/superuser.go).
func (c *cli) superuser(ctx context.Context, args []string) error {
	fs := c.newFlagSet("superuser", "instance superuser upsert|create|update EMAIL PASS | delete|otp EMAIL | ips [IP|SUBNET...] [--dir pb_data]")
	dir := fs.String(strings.TrimPrefix(contract.FlagDir, "--"), contract.DefaultLocalDataDir, "the PocketBase data directory")
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) == 0 {
		return errors.New("missing superuser action: upsert, create, update, delete, otp or ips")
	}
	action, positional := positional[0], positional[1:]

	switch action {
	case "upsert", "create", "update":
		if len(positional) != 2 {
			return errors.New("missing email and password arguments")
		}
		if !isEmail(positional[0]) {
			return errors.New("missing or invalid email address")
		}
	case "delete", "otp":
		if len(positional) != 1 || !isEmail(positional[0]) {
			return errors.New("invalid or missing email address")
		}
	case "ips":
	default:
		return fmt.Errorf("unknown superuser action %q: want upsert, create, update, delete, otp or ips", action)
	}

	logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := openApp(ctx, *dir, logger)
	if err != nil {
		return err
	}
	defer app.Close()

	if action == "ips" {
		return c.superuserIPs(ctx, app, positional)
	}

	email := positional[0]
	switch action {
	case "upsert":
		if _, err := app.UpsertSuperuser(ctx, email, positional[1]); err != nil {
			return fmt.Errorf("failed to upsert superuser account: %w", err)
		}
		fmt.Fprintf(c.stdout, "Successfully saved superuser %q!\n", email)
	case "create":
		if _, err := app.CreateSuperuser(ctx, email, positional[1]); err != nil {
			return fmt.Errorf("failed to create new superuser account: %w", err)
		}
		fmt.Fprintf(c.stdout, "Successfully created new superuser %q!\n", email)
	case "update":
		_, err := app.UpdateSuperuserPassword(ctx, email, positional[1])
		if errors.Is(err, core.ErrSuperuserNotFound) {
			return fmt.Errorf("superuser with email %q doesn't exist", email)
		}
		if err != nil {
			return fmt.Errorf("failed to change superuser %q password: %w", email, err)
		}
		fmt.Fprintf(c.stdout, "Successfully changed superuser %q password!\n", email)
	case "delete":
		err := app.DeleteSuperuser(ctx, email)
		if errors.Is(err, core.ErrSuperuserNotFound) {
			fmt.Fprintf(c.stdout, "superuser %q is missing or already deleted\n", email)
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to delete superuser %q: %w", email, err)
		}
		fmt.Fprintf(c.stdout, "Successfully deleted superuser %q!\n", email)
	case "otp":
		return c.superuserOTP(ctx, app, email)
	}

	return nil
}

// isEmail is PocketBase's is.EmailFormat check of the CLI's email argument.
func isEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && addr.Name == ""
}

// superuserOTP creates a one-time password for a superuser and prints it, for a
// superuser locked out of a collection with OTP enabled (`pocketbase superuser otp`).
func (c *cli) superuserOTP(ctx context.Context, app *core.App, email string) error {
	coll, err := app.FindCachedCollectionByNameOrID(ctx, core.CollectionNameSuperusers)
	if err != nil {
		return fmt.Errorf("failed to fetch %q collection: %w", core.CollectionNameSuperusers, err)
	}
	record, err := app.FindAuthRecordByEmail(ctx, coll, email)
	if err != nil {
		return fmt.Errorf("superuser with email %q doesn't exist", email)
	}
	if !coll.Auth.OTP.Enabled {
		return errors.New("OTP auth is not enabled for the _superusers collection")
	}
	id, pass, err := app.CreateRecordOTP(ctx, record)
	if err != nil {
		return fmt.Errorf("failed to create OTP: %w", err)
	}
	fmt.Fprintf(c.stdout, "Successfully created OTP for superuser %q:\n├─ Id:    %s\n├─ Pass:  %s\n└─ Valid: %ds\n\n",
		email, id, pass, coll.Auth.OTP.Duration)

	return nil
}

// superuserIPs sets settings.superuserIPs (none clears it), so that a superuser locked
// out by the allow-list can get back in from the host (`pocketbase superuser ips`).
func (c *cli) superuserIPs(ctx context.Context, app *core.App, ips []string) error {
	s := app.Settings()
	s.SuperuserIPs = append([]string{}, ips...)
	if err := app.SaveSettings(ctx, s); err != nil {
		return fmt.Errorf("failed to update SuperuserIPs setting: %w", err)
	}
	if len(ips) == 0 {
		fmt.Fprintln(c.stdout, "Successfully cleared SuperuserIPs setting!")
		return nil
	}
	fmt.Fprintln(c.stdout, "Successfully updated SuperuserIPs setting:")
	for i, ip := range ips {
		branch := "├─"
		if i == len(ips)-1 {
			branch = "└─"
		}
		fmt.Fprintf(c.stdout, "%s %s\n", branch, ip)
	}

	return nil
}

// serve runs `instance serve` until ctx is cancelled.
func (c *cli) serve(ctx context.Context, args []string) error {
	fs := c.newFlagSet(contract.ServeCommand, "instance serve [--http 127.0.0.1:8090] [--dir pb_data] [--metrics-http ADDR] [--origins ORIGIN,...] [--encryptionEnv VAR]")
	httpAddr := fs.String(strings.TrimPrefix(contract.FlagHTTP, "--"), defaultHTTPAddr, "TCP address of the API server")
	dir := fs.String(strings.TrimPrefix(contract.FlagDir, "--"), contract.DefaultLocalDataDir, "the PocketBase data directory")
	metricsAddr := fs.String(strings.TrimPrefix(contract.FlagMetricsHTTP, "--"), "", "TCP address of the Prometheus metrics listener (off when empty)")
	pb := pocketbaseServeFlags(fs)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return fmt.Errorf("serve takes no domain arguments (%q): automatic TLS certificates are not supported; "+
			"serve plain HTTP with --http and terminate TLS in front (the operator's Ingress does)", positional)
	}
	if *pb.https != "" {
		return errors.New("--https is not supported: serve plain HTTP with --http and terminate TLS in front (the operator's Ingress does)")
	}

	logger := slog.New(slog.NewJSONHandler(c.stderr, nil))
	pb.warnIgnored(logger)

	encryptionKey := ""
	if *pb.encryptionEnv != "" {
		if encryptionKey = c.getenv(*pb.encryptionEnv); encryptionKey == "" {
			return fmt.Errorf("--encryptionEnv %s: the variable is empty or not set", *pb.encryptionEnv)
		}
	}

	app, err := openAppWithKey(ctx, *dir, logger, encryptionKey)
	if err != nil {
		return err
	}
	defer func() {
		if err := app.Close(); err != nil {
			logger.Error("closing data directory", slog.String("error", err.Error()))
		}
	}()

	// PocketBase starts its cron scheduler on serve only; app.Close stops it and writes
	// the queued request logs.
	app.StartCron()

	// The bootstrap superuser is upserted while the server already listens (its
	// password hash takes most of the start-up time); requests other than a guest's
	// health check wait for it. Shutdown waits for it too.
	bootstrapped := make(chan struct{})
	bootstrapErr := make(chan error, 1)
	go func() {
		defer close(bootstrapped)
		if err := c.bootstrap(context.WithoutCancel(ctx), app, logger, *dir); err != nil {
			bootstrapErr <- err
		}
	}()
	defer func() { <-bootstrapped }()

	// A base context for the requests, cancelled first on shutdown so that long-lived
	// requests (realtime streams, later) end.
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()

	// The metrics are recorded only when they are served, on their own listener.
	routerOpts := []httpapi.Option{httpapi.WithAllowedOrigins(pb.origins())}
	var appMetrics *metrics.Metrics
	if *metricsAddr != "" {
		appMetrics = metrics.New()
		routerOpts = append(routerOpts, httpapi.WithMetrics(appMetrics))
	}

	apiLn, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *httpAddr, err)
	}
	servers := []*listener{{
		name: "api",
		addr: *httpAddr,
		ln:   apiLn,
		srv: &http.Server{
			Handler: untilBootstrapped(httpapi.NewRouter(app, routerOpts...), bootstrapped),
			// PocketBase's generous limits, for large uploads and downloads.
			ReadHeaderTimeout: time.Minute,
			ReadTimeout:       5 * time.Minute,
			WriteTimeout:      5 * time.Minute,
			BaseContext:       func(net.Listener) context.Context { return baseCtx },
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		},
	}}

	if *metricsAddr != "" {
		metricsLn, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			_ = apiLn.Close()
			return fmt.Errorf("listening on %s: %w", *metricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET "+contract.MetricsPath, appMetrics.Handler())
		servers = append(servers, &listener{
			name: "metrics",
			addr: *metricsAddr,
			ln:   metricsLn,
			srv: &http.Server{
				Handler:           mux,
				ReadHeaderTimeout: 10 * time.Second,
				ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
			},
		})
	}

	c.printBanner(servers)
	logger.Info("server started", slog.String("http", apiLn.Addr().String()), slog.String("dir", *dir))

	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() {
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serving %s: %w", s.name, err)
				return
			}
			errc <- nil
		}()
	}

	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case serveErr = <-errc:
	case serveErr = <-bootstrapErr:
	}

	cancelBase()
	// note: hijacked realtime streams are not the server's to wait for: terminating the
	// app ends them.
	app.Terminate()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.srv.Shutdown(shutdownCtx); err != nil {
			serveErr = errors.Join(serveErr, fmt.Errorf("shutting down %s: %w", s.name, err))
		}
	}

	return serveErr
}

// listener is one HTTP server and the socket it serves.
type listener struct {
	name string
	addr string // as configured
	ln   net.Listener
	srv  *http.Server
}

// bootstrap upserts the bootstrap superuser, then prints how to create one when there is
// none.
func (c *cli) bootstrap(ctx context.Context, app *core.App, logger *slog.Logger, dir string) error {
	if err := c.bootstrapSuperuser(ctx, app, logger); err != nil {
		return err
	}
	needs, err := app.NeedsSuperuser(ctx)
	if err != nil {
		return err
	}
	if needs {
		fmt.Fprintf(c.stderr, "No superuser exists yet. Create one with:\n  instance superuser upsert EMAIL PASS --dir %s\n", dir)
	}

	return nil
}

// untilBootstrapped holds every request but a guest's health check until bootstrapped is
// closed, so that no request sees the data directory before its bootstrap superuser.
func untilBootstrapped(next http.Handler, bootstrapped <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-bootstrapped:
		default:
			guestHealth := (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
				r.URL.Path == contract.HealthPath && r.Header.Get("Authorization") == ""
			if !guestHealth {
				select {
				case <-bootstrapped:
				case <-r.Context().Done():
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// bootstrapSuperuser upserts the superuser named by the contract environment variables,
// when both are set. Only the email is logged.
func (c *cli) bootstrapSuperuser(ctx context.Context, app *core.App, logger *slog.Logger) error {
	email := c.getenv(contract.EnvSuperuserEmail)
	password := c.getenv(contract.EnvSuperuserPassword)

	switch {
	case email == "" && password == "":
		return nil
	case email == "" || password == "":
		logger.Warn("ignoring the bootstrap superuser: both variables must be set",
			slog.String("emailVariable", contract.EnvSuperuserEmail),
			slog.String("passwordVariable", contract.EnvSuperuserPassword))
		return nil
	}

	if _, err := app.UpsertSuperuser(ctx, email, password); err != nil {
		return fmt.Errorf("upserting the superuser from %s: %w", contract.EnvSuperuserEmail, err)
	}
	logger.Info("upserted the bootstrap superuser", slog.String("email", email))

	return nil
}

// printBanner prints the served URLs, as PocketBase's start banner does.
func (c *cli) printBanner(servers []*listener) {
	baseURL := "http://" + displayAddr(servers[0].addr, servers[0].ln.Addr())
	fmt.Fprintf(c.stdout, "Server started at %s\n", baseURL)

	lines := []string{fmt.Sprintf("REST API:  %s/api/", baseURL)}
	for _, s := range servers[1:] {
		lines = append(lines, fmt.Sprintf("Metrics:   http://%s%s", displayAddr(s.addr, s.ln.Addr()), contract.MetricsPath))
	}
	for i, l := range lines {
		branch := "├─"
		if i == len(lines)-1 {
			branch = "└─"
		}
		fmt.Fprintf(c.stdout, "%s %s\n", branch, l)
	}
}

// displayAddr is the host:port to print for a listener: the configured host (127.0.0.1
// when none was given, as PocketBase does) with the port actually bound, so that
// "--http 127.0.0.1:0" prints the real port.
func displayAddr(configured string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(configured)
	if err != nil || host == "" {
		host = "127.0.0.1"
	}
	_, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return bound.String()
	}

	return net.JoinHostPort(host, port)
}
