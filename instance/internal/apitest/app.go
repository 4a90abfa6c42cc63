package apitest

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// FixtureEnv names an environment variable that may point at the PocketBase v0.40.4
// fixture data directory; without it the fixture is looked up as
// shared/fixtures/pocketbase-v0.40/pb_data in the working directory's ancestors.
const FixtureEnv = "POCKETFLEET_PB_FIXTURE"

const fixtureRel = "shared/fixtures/pocketbase-v0.40/pb_data"

// fixtureDir returns the path of the shared PocketBase v0.40.4 fixture data directory.
//
// note: it is unexported on purpose. Even a read-only SQLite connection creates -shm
// and -wal files beside a WAL database, so the fixture is only ever copied, never
// opened in place.
func fixtureDir(t testing.TB) string {
	t.Helper()

	if dir := os.Getenv(FixtureEnv); dir != "" {
		return dir
	}

	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("getting working directory: %v", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		candidate := filepath.Join(dir, fixtureRel)
		if st, err := os.Stat(filepath.Join(candidate, "data.db")); err == nil && st.Mode().IsRegular() {
			return candidate
		}
		if parent := filepath.Dir(dir); parent == dir {
			break
		}
	}

	t.Fatalf("PocketBase fixture %s not found above %s; set %s", fixtureRel, wd, FixtureEnv)
	return ""
}

// ExpectedDir returns the fixture's expected/ directory (beside its pb_data): the
// responses PocketBase v0.40.4 sent, to compare ours with. It is only read.
func ExpectedDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(filepath.Dir(fixtureDir(t)), "expected")
}

// CopyFixture copies the fixture data directory into a new temporary directory, with
// writable permissions, and returns the copy's path.
func CopyFixture(t testing.TB) string {
	t.Helper()

	dst := filepath.Join(t.TempDir(), "pb_data")
	if err := copyDir(fixtureDir(t), dst); err != nil {
		t.Fatalf("copying fixture: %v", err)
	}

	return dst
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)

		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// NewTestApp opens an app on dir (a new empty temporary directory when dir is "") and
// closes it when the test ends. Its logs are discarded.
func NewTestApp(t testing.TB, dir string) *core.App {
	t.Helper()

	if dir == "" {
		dir = filepath.Join(t.TempDir(), "pb_data")
	}

	app, err := core.New(t.Context(), core.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("opening test app: %v", err)
	}
	t.Cleanup(func() {
		if err := app.Close(); err != nil {
			t.Errorf("closing test app: %v", err)
		}
	})

	return app
}
