package core_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func TestNormalizeExpands(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{""}, []string{}},
		{[]string{"a, b ,a"}, []string{"a", "b"}},
		{[]string{"a", "a.b", "a.b.c", "d"}, []string{"a.b.c", "d"}},
		// the deprecated back-relation form stays: PocketBase expands it under that key
		{[]string{"comments(post).author"}, []string{"comments(post).author"}},
		{[]string{"a . b"}, []string{"a.b"}},
		{[]string{".a.,b.c."}, []string{"a", "b.c"}},
		{[]string{"a\tb"}, []string{"a\tb"}},
	}
	for _, tt := range tests {
		if got := core.NormalizeExpands(tt.in...); !slices.Equal(got, tt.want) {
			t.Errorf("NormalizeExpands(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExpandRecords(t *testing.T) {
	app, alice, guest, superuser := resolverFixture(t)
	posts, err := app.FindCachedCollectionByNameOrID(t.Context(), "posts")
	if err != nil {
		t.Fatal(err)
	}

	load := func(t *testing.T) *core.Record {
		t.Helper()
		r, err := app.FindRecordByIDWithRule(t.Context(), posts, "hxjy4dmsjikjbj4", nil, superuser)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	t.Run("viewRule per expanded record", func(t *testing.T) {
		for _, tc := range []struct {
			name       string
			info       *core.RequestInfo
			wantAuthor bool
		}{{"guest", guest, false}, {"alice", alice, true}, {"superuser", superuser, true}} {
			r := load(t)
			if err := app.ExpandRecords(t.Context(), []*core.Record{r}, []string{"author", "tags"}, tc.info); err != nil {
				t.Fatal(err)
			}
			_, hasAuthor := r.Expand()["author"].(*core.Record)
			if hasAuthor != tc.wantAuthor {
				t.Errorf("%s: author expanded = %v, want %v", tc.name, hasAuthor, tc.wantAuthor)
			}
			if tags, _ := r.Expand()["tags"].([]*core.Record); len(tags) != 2 || tags[0].ID() != "s2cej12938cf3n3" {
				t.Errorf("%s: tags = %v", tc.name, r.Expand()["tags"])
			}
		}
	})

	t.Run("nested and merged paths", func(t *testing.T) {
		r := load(t)
		err := app.ExpandRecords(t.Context(), []*core.Record{r}, core.NormalizeExpands("comments_via_post.author", "comments_via_post.post"), superuser)
		if err != nil {
			t.Fatal(err)
		}
		comments, _ := r.Expand()["comments_via_post"].([]*core.Record)
		if len(comments) != 3 {
			t.Fatalf("comments = %v", r.Expand())
		}
		for _, c := range comments {
			if _, ok := c.Expand()["author"].(*core.Record); !ok {
				t.Errorf("comment %s: author not expanded", c.ID())
			}
			if p, ok := c.Expand()["post"].(*core.Record); !ok || p.ID() != r.ID() {
				t.Errorf("comment %s: post not expanded", c.ID())
			}
		}
	})

	t.Run("unknown path and depth limit", func(t *testing.T) {
		r := load(t)
		if err := app.ExpandRecords(t.Context(), []*core.Record{r}, []string{"nope"}, superuser); err == nil {
			t.Error("unknown path: no error")
		}
		if r.Expand() != nil {
			t.Errorf("expand = %v, want none", r.Expand())
		}
	})

	t.Run("the deprecated back-relation form, under its own key", func(t *testing.T) {
		r := load(t)
		if err := app.ExpandRecords(t.Context(), []*core.Record{r}, core.NormalizeExpands("comments(post)"), superuser); err != nil {
			t.Fatal(err)
		}
		if comments, _ := r.Expand()["comments(post)"].([]*core.Record); len(comments) != 3 {
			t.Errorf("expand = %v, want 3 comments under comments(post)", r.Expand())
		}
	})

	t.Run("a path deeper than 6 relations is expanded 6 deep", func(t *testing.T) {
		r := load(t)
		deep := "comments_via_post.post.comments_via_post.post.comments_via_post.post.comments_via_post"
		if err := app.ExpandRecords(t.Context(), []*core.Record{r}, []string{deep}, superuser); err != nil {
			t.Fatalf("7 levels: %v", err)
		}
		level := []*core.Record{r}
		for i, name := range strings.Split(deep, ".")[:6] {
			var next []*core.Record
			for _, rec := range level {
				switch v := rec.Expand()[name].(type) {
				case *core.Record:
					next = append(next, v)
				case []*core.Record:
					next = append(next, v...)
				}
			}
			if len(next) == 0 {
				t.Fatalf("level %d (%s): nothing expanded", i+1, name)
			}
			level = next
		}
		for _, rec := range level {
			if _, ok := rec.Expand()["comments_via_post"]; ok {
				t.Errorf("record %s at level 6 has a 7th level", rec.ID())
			}
		}
	})
}
