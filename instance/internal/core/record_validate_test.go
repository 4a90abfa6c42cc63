package core_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

const (
	rsAliceID = "w2bx8e6qg38uo33"
	rsAdminID = "52lyy8nw07kghoy"
)

// errorCodes returns field → code of a ValidationErrors (nil for no error).
func errorCodes(t *testing.T, err error) map[string]string {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs core.ValidationErrors
	if !errors.As(err, &errs) {
		t.Fatalf("want ValidationErrors, got %T: %v", err, err)
	}
	out := map[string]string{}
	for k, v := range errs {
		out[k] = v.Code
	}
	return out
}

func TestSaveRecordAuthForm(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	users, err := app.FindCachedCollectionByNameOrID(t.Context(), "users")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		update bool
		access core.RecordAccess
		data   map[string]any
		want   map[string]string
	}{
		{
			name: "create needs password and passwordConfirm",
			data: map[string]any{"email": "x@example.com"},
			want: map[string]string{"password": "validation_required", "passwordConfirm": "validation_required"},
		},
		{
			name: "create with mismatching confirmation",
			data: map[string]any{"email": "x@example.com", "password": "12345678", "passwordConfirm": "87654321"},
			want: map[string]string{"passwordConfirm": "validation_values_mismatch"},
		},
		{
			name: "create cannot set verified without manage access",
			data: map[string]any{"email": "x@example.com", "password": "12345678", "passwordConfirm": "12345678", "verified": true},
			want: map[string]string{"verified": "validation_values_mismatch"},
		},
		{
			name:   "managers may set verified",
			access: core.RecordAccessManager,
			data:   map[string]any{"email": "x@example.com", "password": "12345678", "passwordConfirm": "12345678", "verified": true},
		},
		{
			name: "field validation follows the form",
			data: map[string]any{"email": "bad", "password": "1234", "passwordConfirm": "1234"},
			want: map[string]string{"email": "validation_is_email", "password": "validation_min_text_constraint"},
		},
		{
			name:   "update without changes",
			update: true,
			data:   map[string]any{"name": "Alice A."},
		},
		{
			name:   "update of the email needs manage access",
			update: true,
			data:   map[string]any{"email": "other@example.com"},
			want:   map[string]string{"email": "validation_values_mismatch"},
		},
		{
			name:   "password change without oldPassword",
			update: true,
			data:   map[string]any{"password": "new-pass-123", "passwordConfirm": "new-pass-123"},
			want:   map[string]string{"oldPassword": "validation_required"},
		},
		{
			name:   "oldPassword alone needs the new password",
			update: true,
			data:   map[string]any{"oldPassword": "alice-pass-123"},
			want:   map[string]string{"password": "validation_required", "passwordConfirm": "validation_required"},
		},
		{
			name:   "wrong oldPassword",
			update: true,
			data:   map[string]any{"password": "new-pass-123", "passwordConfirm": "new-pass-123", "oldPassword": "nope-nope"},
			want:   map[string]string{"oldPassword": "validation_invalid_old_password"},
		},
		{
			name:   "superusers need no oldPassword",
			update: true,
			access: core.RecordAccessSuperuser,
			data:   map[string]any{"password": "new-pass-123", "passwordConfirm": "new-pass-123", "email": "alice2@example.com"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := apitest.NewTestApp(t, apitest.CopyFixture(t))
			form := core.NewRecordCreate(users)
			if tc.update {
				form, err = app.NewRecordUpdate(t.Context(), users, rsAliceID)
				if err != nil {
					t.Fatal(err)
				}
			}
			form.SetAccess(tc.access)
			form.Load(form.ResolveBody(maps.Clone(tc.data)))

			_, err := app.SaveRecord(t.Context(), form)
			got := errorCodes(t, err)
			if !maps.Equal(got, tc.want) {
				t.Errorf("errors = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSaveRecordStampsAndTokenKey(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	users, err := app.FindCachedCollectionByNameOrID(t.Context(), "users")
	if err != nil {
		t.Fatal(err)
	}
	before, err := app.FindRecordByID(t.Context(), "users", rsAliceID)
	if err != nil {
		t.Fatal(err)
	}

	form, err := app.NewRecordUpdate(t.Context(), users, rsAliceID)
	if err != nil {
		t.Fatal(err)
	}
	form.SetAccess(core.RecordAccessSuperuser)
	form.Load(form.ResolveBody(map[string]any{"email": "alice2@example.com"}))
	saved, err := app.SaveRecord(t.Context(), form)
	if err != nil {
		t.Fatal(err)
	}

	after, err := app.FindRecordByID(t.Context(), "users", rsAliceID)
	if err != nil {
		t.Fatal(err)
	}
	if after.TokenKey() == before.TokenKey() {
		t.Errorf("an email change kept the tokenKey")
	}
	if after.GetString("created") != before.GetString("created") {
		t.Errorf("created changed: %s → %s", before.GetString("created"), after.GetString("created"))
	}
	if after.GetString("updated") == before.GetString("updated") || saved.GetString("updated") != after.GetString("updated") {
		t.Errorf("updated = %s (saved %s), was %s", after.GetString("updated"), saved.GetString("updated"), before.GetString("updated"))
	}
}

func TestDeleteRecordErrors(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	find := func(name string) *core.Collection {
		c, err := app.FindCachedCollectionByNameOrID(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	tests := []struct {
		name       string
		collection string
		id         string
		want       error
	}{
		{"missing record", "posts", "missingmissingm", core.ErrRecordNotFound},
		{"view record", "post_stats", "hxjy4dmsjikjbj4", core.ErrViewRecordsReadOnly},
		{"last superuser", "_superusers", rsAdminID, core.ErrLastSuperuser},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := app.DeleteRecord(t.Context(), find(tc.collection), tc.id)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}

	// a delete that fails half-way (a required reference found after the cascade
	// started) changes nothing
	comments, err := app.FindCollectionByNameOrID(t.Context(), "comments")
	if err != nil {
		t.Fatal(err)
	}
	comments.Fields.GetByName("post").(*core.RelationField).CascadeDelete = false
	if err := app.SaveCollection(t.Context(), comments); err != nil {
		t.Fatal(err)
	}
	err = app.DeleteRecord(t.Context(), find("users"), rsAliceID)
	if err != nil {
		t.Fatalf("deleting alice: %v", err)
	}
	err = app.DeleteRecord(t.Context(), find("posts"), "hxjy4dmsjikjbj4")
	if !errors.Is(err, core.ErrRequiredRelation) {
		t.Fatalf("err = %v, want ErrRequiredRelation", err)
	}
	if _, err := app.FindRecordByID(t.Context(), "posts", "hxjy4dmsjikjbj4"); err != nil {
		t.Errorf("the post is gone after a failed delete: %v", err)
	}
	var ids []string
	rows, err := app.DB().Read().QueryContext(t.Context(), "SELECT id FROM comments WHERE post = ?", "hxjy4dmsjikjbj4")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(ids) != 3 || !slices.Contains(ids, "avbbx3ggtt0y8ne") {
		t.Errorf("comments of the post = %v", ids)
	}
}

// TestSaveRecordPasswordOverBcryptLimit checks a password within the field's 71
// characters but over bcrypt's 72 bytes: it is refused, never stored unhashed.
func TestSaveRecordPasswordOverBcryptLimit(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	users, err := app.FindCachedCollectionByNameOrID(t.Context(), "users")
	if err != nil {
		t.Fatal(err)
	}

	long := strings.Repeat("é", 40) // 40 characters, 80 bytes
	form := core.NewRecordCreate(users)
	form.Load(form.ResolveBody(map[string]any{"email": "long@example.com", "password": long, "passwordConfirm": long}))
	_, err = app.SaveRecord(t.Context(), form)
	if got := errorCodes(t, err); got["password"] != "validation_invalid_value" {
		t.Errorf("errors = %v, want password validation_invalid_value", got)
	}
}
