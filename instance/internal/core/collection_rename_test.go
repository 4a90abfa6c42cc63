package core_test

import (
	"slices"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// TestRenameFollowsRateLimitLabels checks that renaming a collection, by a save or by an
// import, renames its "<name>:" rate limit rules and leaves the others alone, as
// PocketBase's settings hook does.
func TestRenameFollowsRateLimitLabels(t *testing.T) {
	app := newFixtureLikeApp(t, false)
	s := app.Settings()
	s.RateLimits.Rules = []core.RateLimitRule{
		{Label: "posts:create", MaxRequests: 1, Duration: 1},
		{Label: "postsx:create", MaxRequests: 1, Duration: 1},
		{Label: "*:auth", MaxRequests: 1, Duration: 1},
	}
	if err := app.SaveSettings(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	labels := func() []string {
		var out []string
		for _, r := range app.Settings().RateLimits.Rules {
			out = append(out, r.Label)
		}
		return out
	}

	if err := patchPosts(t, app, `{"name":"articles"}`); err != nil {
		t.Fatalf("renaming: %v", err)
	}
	if got, want := labels(), []string{"articles:create", "postsx:create", "*:auth"}; !slices.Equal(got, want) {
		t.Errorf("after rename: labels = %q, want %q", got, want)
	}

	articles, err := app.FindCollectionByNameOrID(t.Context(), "articles")
	if err != nil {
		t.Fatal(err)
	}
	err = app.ImportCollections(t.Context(), []map[string]any{{"id": articles.ID, "name": "stories", "type": "base"}}, false)
	if err != nil {
		t.Fatalf("importing: %v", err)
	}
	if got, want := labels(), []string{"stories:create", "postsx:create", "*:auth"}; !slices.Equal(got, want) {
		t.Errorf("after import: labels = %q, want %q", got, want)
	}
}
