package core_test

import (
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// TestVerifiedUpgradeDropsExternalAuths: the pre-hijacking hook. A record that becomes
// verified loses the OAuth2 links made while it was unverified and gets a new tokenKey;
// without links the tokenKey stays.
func TestVerifiedUpgradeDropsExternalAuths(t *testing.T) {
	const aliceID, bobID = "w2bx8e6qg38uo33", "lnunmjp2hn3cnvb" // alice verified, bob not
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	ctx := t.Context()

	find := func(id string) *core.Record {
		t.Helper()
		r, err := app.FindRecordByID(ctx, "users", id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	links := func(id string) int {
		t.Helper()
		var n int
		if err := app.DB().Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM _externalAuths WHERE recordRef = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	setVerified := func(id string, verified bool) {
		t.Helper()
		users, err := app.FindCollectionByNameOrID(ctx, "users")
		if err != nil {
			t.Fatal(err)
		}
		u, err := app.NewRecordUpdate(ctx, users, id)
		if err != nil {
			t.Fatal(err)
		}
		u.SetAccess(core.RecordAccessSuperuser)
		u.Load(map[string]any{"verified": verified})
		if _, err := app.SaveRecord(ctx, u); err != nil {
			t.Fatal(err)
		}
	}

	bob := find(bobID)
	if err := app.CreateExternalAuth(ctx, bob, "github", "123"); err != nil {
		t.Fatal(err)
	}
	if err := app.CreateExternalAuth(ctx, bob, "oidc", "abc"); err != nil {
		t.Fatal(err)
	}
	setVerified(bobID, true)
	if got := links(bobID); got != 0 {
		t.Errorf("bob keeps %d links after verification", got)
	}
	if find(bobID).TokenKey() == bob.TokenKey() {
		t.Error("bob's tokenKey did not change")
	}

	// an already verified record keeps its links on other updates
	alice := find(aliceID)
	if err := app.CreateExternalAuth(ctx, alice, "github", "456"); err != nil {
		t.Fatal(err)
	}
	setVerified(aliceID, true)
	if got := links(aliceID); got != 1 {
		t.Errorf("alice has %d links, want 1", got)
	}

	// unverified -> verified without links: the tokenKey stays
	setVerified(aliceID, false)
	key := find(aliceID).TokenKey()
	execDelete := "DELETE FROM _externalAuths WHERE recordRef = ?"
	if _, err := app.DB().Write().ExecContext(ctx, execDelete, aliceID); err != nil {
		t.Fatal(err)
	}
	setVerified(aliceID, true)
	if find(aliceID).TokenKey() != key {
		t.Error("the tokenKey changed without links to drop")
	}

	// the same identity cannot be linked twice in a collection
	if err := app.CreateExternalAuth(ctx, find(bobID), "github", "456"); err != nil {
		t.Fatalf("relinking a dropped identity: %v", err)
	}
	if err := app.CreateExternalAuth(ctx, find(aliceID), "github", "456"); err == nil {
		t.Error("an identity was linked to two records")
	}
}
