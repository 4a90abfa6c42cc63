package core_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// fixtureExpectedItems returns the records of a list response recorded from PocketBase, keyed
// by id, as the exact bytes PocketBase sent.
func fixtureExpectedItems(t *testing.T, name string) map[string]string {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(apitest.ExpectedDir(t), name+".body"))
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	items := map[string]string{}
	for _, raw := range list.Items {
		var rec struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		items[rec.ID] = string(raw)
	}
	if len(items) == 0 {
		t.Fatalf("%s has no items", name)
	}
	return items
}

// encodeRecordJSON writes v as the HTTP layer does: no HTML escaping, no trailing newline.
func encodeRecordJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// TestRecordPublicExportMatchesPocketBase serializes the fixture's records and compares
// them byte for byte with what PocketBase v0.40.4 sent for the same records: every field
// type (posts), a view collection (post_stats), a base collection with a unique index
// (tags) and auth records seen by their owner.
func TestRecordPublicExportMatchesPocketBase(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))

	tests := []struct {
		name       string
		expected   string
		collection string
		opts       core.ExportOptions
	}{
		{name: "posts, every field type, guest", expected: "posts-guest", collection: "posts"},
		{name: "view collection", expected: "stats-view", collection: "post_stats"},
		{name: "tags", expected: "tags-list", collection: "pbc_1219621782"},
		{name: "users, alice as herself", expected: "users-alice-self", collection: "USERS", opts: core.ExportOptions{ShowEmail: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for id, want := range fixtureExpectedItems(t, tc.expected) {
				rec, err := app.FindRecordByID(t.Context(), tc.collection, id)
				if err != nil {
					t.Fatalf("FindRecordByID(%s, %s): %v", tc.collection, id, err)
				}
				if got := encodeRecordJSON(t, rec.PublicExport(tc.opts)); got != want {
					t.Errorf("record %s:\n got %s\nwant %s", id, got, want)
				}
			}
		})
	}
}

func TestRecordPublicExportVisibility(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))

	alice, err := app.FindRecordByID(t.Context(), "users", "w2bx8e6qg38uo33")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := app.FindRecordByID(t.Context(), "_pb_users_auth_", "lnunmjp2hn3cnvb")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := app.FindRecordByID(t.Context(), "_superusers", "52lyy8nw07kghoy")
	if err != nil {
		t.Fatal(err)
	}

	const bobBase = `"avatar":"","collectionId":"_pb_users_auth_","collectionName":"users","created":"2026-11-27 02:58:55.236Z",`
	tests := []struct {
		name   string
		record *core.Record
		opts   core.ExportOptions
		want   string
	}{
		{
			name: "email hidden from others when emailVisibility is false", record: bob,
			want: `{` + bobBase + `"emailVisibility":false,"id":"lnunmjp2hn3cnvb","name":"Bob","updated":"2026-11-27 02:58:55.236Z","verified":false}`,
		},
		{
			name: "email shown to the owner or a superuser", record: bob, opts: core.ExportOptions{ShowEmail: true},
			want: `{` + bobBase + `"email":"bob@example.com","emailVisibility":false,"id":"lnunmjp2hn3cnvb","name":"Bob","updated":"2026-11-27 02:58:55.236Z","verified":false}`,
		},
		{
			name: "password and tokenKey never, even with hidden fields shown", record: bob, opts: core.ExportOptions{ShowHidden: true, ShowEmail: true},
			want: `{` + bobBase + `"email":"bob@example.com","emailVisibility":false,"id":"lnunmjp2hn3cnvb","name":"Bob","updated":"2026-11-27 02:58:55.236Z","verified":false}`,
		},
		{
			name: "email visible to everyone with emailVisibility", record: alice,
			want: `{"avatar":"","collectionId":"_pb_users_auth_","collectionName":"users","created":"2026-11-27 02:58:55.116Z","email":"alice@example.com","emailVisibility":true,"id":"w2bx8e6qg38uo33","name":"Alice","updated":"2026-11-27 02:58:55.116Z","verified":true}`,
		},
		{
			name: "superuser in an auth response", record: admin, opts: core.ExportOptions{ShowHidden: true, ShowEmail: true},
			want: `{"collectionId":"pbc_3142635823","collectionName":"_superusers","created":"2026-11-27 02:58:53.287Z","email":"admin@example.com","emailVisibility":false,"id":"52lyy8nw07kghoy","updated":"2026-11-27 02:58:53.287Z","verified":true}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := encodeRecordJSON(t, tc.record.PublicExport(tc.opts)); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestRecordPublicExportPasswordFields: PocketBase exports a password field of a base
// collection as its plain value, which a stored record never has, so the key is
// written empty (hidden ones to superusers only) and the hash never.
func TestRecordPublicExportPasswordFields(t *testing.T) {
	c, err := core.NewCollection(core.CollectionTypeBase, "secrets")
	if err != nil {
		t.Fatal(err)
	}
	pin, hidden := &core.PasswordField{}, &core.PasswordField{}
	pin.SetName("pin")
	hidden.SetName("code")
	hidden.SetHidden(true)
	c.Fields.Add(pin, hidden)
	rec := core.NewRecordFromRow(c, map[string]any{"id": "secret000000001", "pin": "$2a$10$hash", "code": "$2a$10$hash"})

	for _, tc := range []struct {
		opts core.ExportOptions
		want string
	}{
		{core.ExportOptions{}, `{"collectionId":"` + c.ID + `","collectionName":"secrets","id":"secret000000001","pin":""}`},
		{core.ExportOptions{ShowHidden: true}, `{"code":"","collectionId":"` + c.ID + `","collectionName":"secrets","id":"secret000000001","pin":""}`},
	} {
		if got := encodeRecordJSON(t, rec.PublicExport(tc.opts)); got != tc.want {
			t.Errorf("PublicExport(%+v):\n got %s\nwant %s", tc.opts, got, tc.want)
		}
	}
}

func TestRecordValueNormalization(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))

	// Odd stored values, as other writers may leave them, read back as PocketBase does.
	_, err := app.DB().Write().ExecContext(t.Context(), "UPDATE posts SET "+
		"views = '12.50', rating = 'abc', published = 'true', publishAt = '2026-01-02T03:04:05Z', "+
		"status = '[\"a\",\"b\"]', channels = 'web', tags = '[\"x\",\"\",\"x\",\"y\"]', meta = '', "+
		"location = 'garbage', cover = '' WHERE id = 'hxjy4dmsjikjbj4'")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := app.FindRecordByID(t.Context(), "posts", "hxjy4dmsjikjbj4")
	if err != nil {
		t.Fatal(err)
	}

	out := rec.PublicExport(core.ExportOptions{})
	tests := []struct {
		field string
		want  string
	}{
		{"views", `12.5`},
		{"rating", `0`},
		{"published", `true`},
		{"publishAt", `"2026-01-02 03:04:05.000Z"`},
		{"status", `"b"`},
		{"channels", `["web"]`},
		{"tags", `["x","y"]`},
		{"meta", `null`},
		{"location", `{"lon":0,"lat":0}`},
		{"cover", `""`},
	}
	for _, tc := range tests {
		if got := encodeRecordJSON(t, out[tc.field]); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.field, got, tc.want)
		}
	}
}

func TestFindRecordByIDNotFound(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))

	if _, err := app.FindRecordByID(t.Context(), "users", "missing"); !errors.Is(err, core.ErrRecordNotFound) {
		t.Errorf("missing record: error = %v, want ErrRecordNotFound", err)
	}
	if _, err := app.FindRecordByID(t.Context(), "nope", "missing"); !errors.Is(err, core.ErrCollectionNotFound) {
		t.Errorf("missing collection: error = %v, want ErrCollectionNotFound", err)
	}
}
