package core_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

var (
	idRe       = regexp.MustCompile(`^[a-z0-9]{15}$`)
	tokenKeyRe = regexp.MustCompile(`^[a-zA-Z0-9]{50}$`)
)

// storedSuperuser is a `_superusers` row as stored, secrets included.
type storedSuperuser struct {
	ID, Email, Password, TokenKey, Created, Updated string
	EmailVisibility, Verified                       int64
}

func readSuperuser(t *testing.T, app *core.App, email string) (storedSuperuser, bool) {
	t.Helper()
	var s storedSuperuser
	err := app.DB().Read().QueryRowContext(t.Context(),
		"SELECT id, email, password, tokenKey, created, updated, emailVisibility, verified FROM _superusers WHERE email = ?", email,
	).Scan(&s.ID, &s.Email, &s.Password, &s.TokenKey, &s.Created, &s.Updated, &s.EmailVisibility, &s.Verified)
	if errors.Is(err, sql.ErrNoRows) {
		return s, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return s, true
}

// tickingClock returns a clock that advances one second per call.
func tickingClock() func() time.Time {
	now := time.Date(2026, 11, 27, 3, 0, 0, 123_000_000, time.UTC)
	return func() time.Time {
		now = now.Add(time.Second)
		return now
	}
}

func newApp(t *testing.T) *core.App {
	t.Helper()
	app, err := core.New(t.Context(), core.Config{DataDir: filepath.Join(t.TempDir(), "pb_data"), Now: tickingClock(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Close() })
	return app
}

func checkStored(t *testing.T, s storedSuperuser, password string) {
	t.Helper()
	if !idRe.MatchString(s.ID) {
		t.Errorf("id = %q, want 15 of [a-z0-9]", s.ID)
	}
	if !tokenKeyRe.MatchString(s.TokenKey) {
		t.Errorf("tokenKey = %q, want 50 of [a-zA-Z0-9]", s.TokenKey)
	}
	if !strings.HasPrefix(s.Password, "$2a$10$") {
		t.Errorf("password hash = %q, want bcrypt cost 10", s.Password)
	}
	if !security.ComparePassword(s.Password, password) {
		t.Errorf("stored hash does not verify the password")
	}
	if s.Verified != 1 || s.EmailVisibility != 0 {
		t.Errorf("verified, emailVisibility = %d, %d; want 1, 0", s.Verified, s.EmailVisibility)
	}
	if !datetimeRe.MatchString(s.Created) || !datetimeRe.MatchString(s.Updated) {
		t.Errorf("created, updated = %q, %q; want PocketBase datetimes", s.Created, s.Updated)
	}
}

func validationCode(err error, field string) string {
	var verrs core.ValidationErrors
	if !errors.As(err, &verrs) {
		return ""
	}
	if e := verrs[field]; e != nil {
		return e.Code
	}
	return ""
}

func TestCreateSuperuser(t *testing.T) {
	app := newApp(t)
	ctx := t.Context()

	su, err := app.CreateSuperuser(ctx, "admin@example.com", "admin-pass-123")
	if err != nil {
		t.Fatal(err)
	}
	stored, ok := readSuperuser(t, app, "admin@example.com")
	if !ok {
		t.Fatal("superuser not stored")
	}
	checkStored(t, stored, "admin-pass-123")
	if stored.Created != stored.Updated {
		t.Errorf("created %q != updated %q on create", stored.Created, stored.Updated)
	}
	if su.ID != stored.ID || su.Email != stored.Email || su.Created != stored.Created || !su.Verified {
		t.Errorf("returned %+v, stored %+v", su, stored)
	}

	_, err = app.CreateSuperuser(ctx, "admin@example.com", "another-pass-1")
	if code := validationCode(err, "email"); code != "validation_not_unique" {
		t.Errorf("duplicate CreateSuperuser() error = %v, want email validation_not_unique", err)
	}

	// The email index is case-sensitive, as PocketBase's.
	if _, err := app.CreateSuperuser(ctx, "Admin@example.com", "another-pass-1"); err != nil {
		t.Errorf("CreateSuperuser(other case) error = %v", err)
	}
}

func TestSuperuserValidation(t *testing.T) {
	tests := []struct {
		name      string
		email     string
		password  string
		wantField string
		wantCode  string
	}{
		{name: "empty email", email: "", password: "12345678", wantField: "email", wantCode: "validation_required"},
		{name: "invalid email", email: "not-an-email", password: "12345678", wantField: "email", wantCode: "validation_is_email"},
		{name: "email without tld", email: "a@b", password: "12345678", wantField: "email", wantCode: "validation_is_email"},
		{name: "empty password", email: "a@example.com", password: "", wantField: "password", wantCode: "validation_required"},
		{name: "7 characters", email: "a@example.com", password: "1234567", wantField: "password", wantCode: "validation_min_text_constraint"},
		{name: "72 characters", email: "a@example.com", password: strings.Repeat("a", 72), wantField: "password", wantCode: "validation_max_text_constraint"},
		{name: "71 runes but 142 bytes", email: "a@example.com", password: strings.Repeat("é", 71), wantField: "password", wantCode: "validation_max_text_constraint"},
		{name: "8 characters", email: "a@example.com", password: "12345678"},
		{name: "8 runes counted as characters", email: "b@example.com", password: "éééééééé"},
		{name: "71 characters", email: "c@example.com", password: strings.Repeat("a", 71)},
	}

	ops := []struct {
		name string
		do   func(app *core.App, ctx context.Context, email, password string) error
	}{
		{"create", func(app *core.App, ctx context.Context, e, p string) error {
			_, err := app.CreateSuperuser(ctx, e, p)
			return err
		}},
		{"upsert", func(app *core.App, ctx context.Context, e, p string) error {
			_, err := app.UpsertSuperuser(ctx, e, p)
			return err
		}},
	}

	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			app := newApp(t)
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					err := op.do(app, t.Context(), tc.email, tc.password)
					if tc.wantCode == "" {
						if err != nil {
							t.Fatalf("error = %v, want none", err)
						}
						return
					}
					if code := validationCode(err, tc.wantField); code != tc.wantCode {
						t.Fatalf("error = %v, want %s on %s", err, tc.wantCode, tc.wantField)
					}
					if _, ok := readSuperuser(t, app, tc.email); ok {
						t.Fatal("invalid superuser was stored")
					}
				})
			}
		})
	}
}

func TestSuperuserValidationReportsEveryField(t *testing.T) {
	app := newApp(t)
	_, err := app.UpsertSuperuser(t.Context(), "nope", "short")
	if validationCode(err, "email") != "validation_is_email" || validationCode(err, "password") != "validation_min_text_constraint" {
		t.Fatalf("error = %v, want both email and password errors", err)
	}
	if got := err.Error(); got != "upserting superuser: email: must be a valid email address; password: Must be at least 8 character(s)" {
		t.Errorf("Error() = %q", got)
	}
}

func TestPasswordRulesComeFromTheStoredCollection(t *testing.T) {
	app := newApp(t)
	ctx := t.Context()

	// Tune _superusers' password field as a PocketBase admin could: min 10, cost 4.
	var raw string
	if err := app.DB().Read().QueryRowContext(ctx, "SELECT fields FROM _collections WHERE id = ?", core.SuperusersCollectionID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var fields []map[string]any
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		if f["name"] == "password" {
			f["min"], f["cost"] = 10, 4
		}
	}
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB().Write().ExecContext(ctx, "UPDATE _collections SET fields = ? WHERE id = ?", string(b), core.SuperusersCollectionID); err != nil {
		t.Fatal(err)
	}

	if _, err := app.CreateSuperuser(ctx, "a@example.com", "123456789"); validationCode(err, "password") != "validation_min_text_constraint" {
		t.Fatalf("9 characters with min 10: error = %v", err)
	}
	if _, err := app.CreateSuperuser(ctx, "a@example.com", "1234567890"); err != nil {
		t.Fatal(err)
	}
	stored, _ := readSuperuser(t, app, "a@example.com")
	if !strings.HasPrefix(stored.Password, "$2a$04$") {
		t.Errorf("hash = %q, want the collection's cost 4", stored.Password)
	}
}

// seedRefs adds one row per ref collection for the superuser and one for another record.
func seedRefs(t *testing.T, app *core.App, superuserID string) {
	t.Helper()
	ctx := t.Context()
	stmts := []string{
		"INSERT INTO _mfas (id, collectionRef, recordRef, method, created, updated) VALUES (?, ?, ?, 'password', '', '')",
		"INSERT INTO _otps (id, collectionRef, recordRef, password, sentTo, created, updated) VALUES (?, ?, ?, 'x', '', '', '')",
		"INSERT INTO _authOrigins (id, collectionRef, recordRef, fingerprint, created, updated) VALUES (?, ?, ?, 'fp', '', '')",
		"INSERT INTO _externalAuths (id, collectionRef, recordRef, provider, providerId, created, updated) VALUES (?, ?, ?, 'github', ?3, '', '')",
	}
	for i, stmt := range stmts {
		for j, rec := range []string{superuserID, "otherrecord0000"} {
			id := string(rune('a'+i)) + string(rune('a'+j)) + "0000000000000"
			if _, err := app.DB().Write().ExecContext(ctx, stmt, id, core.SuperusersCollectionID, rec); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func refCounts(t *testing.T, app *core.App, recordID string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"_mfas", "_otps", "_authOrigins", "_externalAuths"} {
		var n int
		if err := app.DB().Read().QueryRowContext(t.Context(), "SELECT count(*) FROM "+table+" WHERE recordRef = ?", recordID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func TestUpsertSuperuser(t *testing.T) {
	app := newApp(t)
	ctx := t.Context()

	created, err := app.UpsertSuperuser(ctx, "admin@example.com", "first-pass-1")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := readSuperuser(t, app, "admin@example.com")
	checkStored(t, before, "first-pass-1")
	seedRefs(t, app, before.ID)

	updated, err := app.UpsertSuperuser(ctx, "admin@example.com", "second-pass-2")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := readSuperuser(t, app, "admin@example.com")
	checkStored(t, after, "second-pass-2")

	if after.ID != before.ID || updated.ID != created.ID {
		t.Errorf("upsert of an existing email changed the id: %s -> %s", before.ID, after.ID)
	}
	if after.Created != before.Created || after.Updated <= before.Updated {
		t.Errorf("created %q -> %q, updated %q -> %q; want created kept, updated later", before.Created, after.Created, before.Updated, after.Updated)
	}
	if after.TokenKey == before.TokenKey {
		t.Error("tokenKey kept across a password change, want it renewed")
	}
	if security.ComparePassword(after.Password, "first-pass-1") {
		t.Error("old password still verifies")
	}

	// A password change drops auth origins, MFAs and OTPs, keeps external auths, and
	// leaves other records alone.
	want := map[string]int{"_mfas": 0, "_otps": 0, "_authOrigins": 0, "_externalAuths": 1}
	for table, n := range refCounts(t, app, after.ID) {
		if n != want[table] {
			t.Errorf("%s rows of the superuser = %d, want %d", table, n, want[table])
		}
	}
	for table, n := range refCounts(t, app, "otherrecord0000") {
		if n != 1 {
			t.Errorf("%s rows of another record = %d, want 1", table, n)
		}
	}

	// Same password again still renews the tokenKey, as PocketBase's upsert does.
	if _, err := app.UpsertSuperuser(ctx, "admin@example.com", "second-pass-2"); err != nil {
		t.Fatal(err)
	}
	again, _ := readSuperuser(t, app, "admin@example.com")
	if again.TokenKey == after.TokenKey {
		t.Error("tokenKey kept on a same-password upsert")
	}

	n, err := app.CountSuperusers(ctx)
	if err != nil || n != 1 {
		t.Errorf("CountSuperusers() = %d, %v; want 1", n, err)
	}
}

func TestUpdateSuperuserPassword(t *testing.T) {
	app := newApp(t)
	ctx := t.Context()

	_, err := app.UpdateSuperuserPassword(ctx, "missing@example.com", "some-pass-1")
	if !errors.Is(err, core.ErrSuperuserNotFound) || !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("UpdateSuperuserPassword(missing) error = %v, want ErrSuperuserNotFound", err)
	}

	if _, err := app.CreateSuperuser(ctx, "admin@example.com", "first-pass-1"); err != nil {
		t.Fatal(err)
	}
	before, _ := readSuperuser(t, app, "admin@example.com")

	if _, err := app.UpdateSuperuserPassword(ctx, "admin@example.com", "short"); validationCode(err, "password") == "" {
		t.Fatalf("UpdateSuperuserPassword(short) error = %v, want validation error", err)
	}

	su, err := app.UpdateSuperuserPassword(ctx, "admin@example.com", "second-pass-2")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := readSuperuser(t, app, "admin@example.com")
	checkStored(t, after, "second-pass-2")
	if after.TokenKey == before.TokenKey {
		t.Error("tokenKey kept, want it renewed")
	}
	if su.Updated != after.Updated || su.ID != before.ID {
		t.Errorf("returned %+v, stored %+v", su, after)
	}
}

func TestDeleteSuperuser(t *testing.T) {
	app := newApp(t)
	ctx := t.Context()

	if err := app.DeleteSuperuser(ctx, "missing@example.com"); !errors.Is(err, core.ErrSuperuserNotFound) {
		t.Fatalf("DeleteSuperuser(missing) error = %v, want ErrSuperuserNotFound", err)
	}

	if _, err := app.CreateSuperuser(ctx, "one@example.com", "pass-one-1"); err != nil {
		t.Fatal(err)
	}
	if err := app.DeleteSuperuser(ctx, "one@example.com"); !errors.Is(err, core.ErrLastSuperuser) {
		t.Fatalf("DeleteSuperuser(last) error = %v, want ErrLastSuperuser", err)
	}
	if _, ok := readSuperuser(t, app, "one@example.com"); !ok {
		t.Fatal("the last superuser was deleted")
	}

	if _, err := app.CreateSuperuser(ctx, "two@example.com", "pass-two-2"); err != nil {
		t.Fatal(err)
	}
	one, _ := readSuperuser(t, app, "one@example.com")
	seedRefs(t, app, one.ID)

	if err := app.DeleteSuperuser(ctx, "one@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, ok := readSuperuser(t, app, "one@example.com"); ok {
		t.Fatal("superuser still stored after delete")
	}
	for table, n := range refCounts(t, app, one.ID) {
		if n != 0 {
			t.Errorf("%s rows of the deleted superuser = %d, want 0", table, n)
		}
	}
	for table, n := range refCounts(t, app, "otherrecord0000") {
		if n != 1 {
			t.Errorf("%s rows of another record = %d, want 1", table, n)
		}
	}

	if err := app.DeleteSuperuser(ctx, "two@example.com"); !errors.Is(err, core.ErrLastSuperuser) {
		t.Fatalf("DeleteSuperuser(new last) error = %v, want ErrLastSuperuser", err)
	}
}

func TestInstallerSuperuser(t *testing.T) {
	app := newApp(t)
	ctx := t.Context()

	needs, err := app.NeedsSuperuser(ctx)
	if err != nil || !needs {
		t.Fatalf("NeedsSuperuser() on a fresh install = %v, %v; want true", needs, err)
	}

	// The placeholder PocketBase's installer creates does not count...
	if _, err := app.UpsertSuperuser(ctx, core.DefaultInstallerEmail, "installer-pass-1"); err != nil {
		t.Fatal(err)
	}
	if needs, _ := app.NeedsSuperuser(ctx); !needs {
		t.Fatal("NeedsSuperuser() = false with only the installer superuser")
	}

	// ... and the first real superuser replaces it.
	if _, err := app.CreateSuperuser(ctx, "admin@example.com", "admin-pass-123"); err != nil {
		t.Fatal(err)
	}
	if _, ok := readSuperuser(t, app, core.DefaultInstallerEmail); ok {
		t.Error("installer superuser kept after a real one was created")
	}
	if needs, _ := app.NeedsSuperuser(ctx); needs {
		t.Error("NeedsSuperuser() = true with a real superuser")
	}
}

func TestFixtureSuperuser(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	ctx := t.Context()

	su, err := app.FindSuperuserByEmail(ctx, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if su.ID != "52lyy8nw07kghoy" || !su.Verified || su.EmailVisibility || su.Created != "2026-11-27 02:58:53.287Z" {
		t.Errorf("fixture superuser = %+v", su)
	}
	if needs, _ := app.NeedsSuperuser(ctx); needs {
		t.Error("NeedsSuperuser() = true on the fixture")
	}

	fixture, _ := readSuperuser(t, app, "admin@example.com")

	t.Run("PocketBase's hash verifies with our compare", func(t *testing.T) {
		if !security.ComparePassword(fixture.Password, "admin-pass-123") {
			t.Error("fixture hash does not verify admin-pass-123")
		}
		if security.ComparePassword(fixture.Password, "admin-pass-124") {
			t.Error("fixture hash verifies a wrong password")
		}
	})

	t.Run("our hash has PocketBase's format and cost", func(t *testing.T) {
		if _, err := app.CreateSuperuser(ctx, "second@example.com", "admin-pass-123"); err != nil {
			t.Fatal(err)
		}
		ours, _ := readSuperuser(t, app, "second@example.com")
		fixtureCost, err := security.BcryptCost(fixture.Password)
		if err != nil {
			t.Fatal(err)
		}
		ourCost, err := security.BcryptCost(ours.Password)
		if err != nil {
			t.Fatal(err)
		}
		if ourCost != fixtureCost || ours.Password[:7] != fixture.Password[:7] || len(ours.Password) != len(fixture.Password) {
			t.Errorf("our hash %q vs fixture %q: want the same prefix, cost and length", ours.Password, fixture.Password)
		}
		if len(ours.TokenKey) != len(fixture.TokenKey) || len(ours.ID) != len(fixture.ID) {
			t.Errorf("our id/tokenKey lengths %d/%d, fixture %d/%d", len(ours.ID), len(ours.TokenKey), len(fixture.ID), len(fixture.TokenKey))
		}
	})

	t.Run("ids stay unique across auth collections", func(t *testing.T) {
		// alice's id lives in users; a new superuser must never reuse an auth id.
		var n int
		if err := app.DB().Read().QueryRowContext(ctx,
			"SELECT count(*) FROM _superusers s JOIN users u ON u.id = s.id").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d superuser ids shared with users", n)
		}
	})
}
