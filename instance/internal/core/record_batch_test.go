package core_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// txEvents records the record events of app as "action collection".
func txEvents(app *core.App) func() []string {
	var (
		mu     sync.Mutex
		events []string
	)
	app.OnRecordChange(func(_ context.Context, e core.RecordEvent) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e.Action+" "+e.Record.Collection().Name)
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(events)
	}
}

func txSave(ctx context.Context, t *testing.T, app *core.App, form *core.RecordUpsert, data map[string]any) (*core.Record, error) {
	t.Helper()
	form.SetAccess(core.RecordAccessSuperuser)
	form.Load(form.ResolveBody(data))
	return app.SaveRecord(ctx, form)
}

// TestRunInTransactionCommit joins several writes in one transaction: later writes see
// the earlier ones (a relation to a tag created in the same transaction, an update of
// it), and the events wait for the commit.
func TestRunInTransactionCommit(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	events := txEvents(app)
	tags, _ := app.FindCachedCollectionByNameOrID(t.Context(), "tags")
	posts, _ := app.FindCachedCollectionByNameOrID(t.Context(), "posts")

	var tagID, postID string
	err := app.RunInTransaction(t.Context(), func(ctx context.Context) error {
		tag, err := txSave(ctx, t, app, core.NewRecordCreate(tags), map[string]any{"label": "in-tx"})
		if err != nil {
			return err
		}
		tagID = tag.ID()

		post, err := txSave(ctx, t, app, core.NewRecordCreate(posts), map[string]any{
			"title": "Tx post", "author": "w2bx8e6qg38uo33", "tags": []any{tagID},
		})
		if err != nil {
			return err
		}
		postID = post.ID()

		update, err := app.NewRecordUpdate(ctx, tags, tagID)
		if err != nil {
			return err
		}
		if _, err := txSave(ctx, t, app, update, map[string]any{"label": "in-tx-2"}); err != nil {
			return err
		}

		if _, err := app.FindRecordByID(ctx, "posts", postID); err != nil {
			t.Errorf("the transaction does not see its own post: %v", err)
		}
		if _, err := app.FindRecordByID(t.Context(), "posts", postID); !errors.Is(err, core.ErrRecordNotFound) {
			t.Errorf("the read pool sees the uncommitted post: %v", err)
		}
		if got := events(); len(got) != 0 {
			t.Errorf("events before the commit: %q", got)
		}

		return app.DeleteRecord(ctx, tags, tagID)
	})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := app.FindRecordByID(t.Context(), "posts", postID); err != nil {
		t.Errorf("committed post not found: %v", err)
	}
	if _, err := app.FindRecordByID(t.Context(), "tags", tagID); !errors.Is(err, core.ErrRecordNotFound) {
		t.Errorf("deleted tag found: %v", err)
	}
	// the post created in the transaction lost the deleted tag: PocketBase saves it, so
	// it gets an update event too
	want := []string{"create tags", "create posts", "update tags", "delete tags", "update posts"}
	if got := events(); !slices.Equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}

// TestRunInTransactionRollback fails the transaction after a create, an update that
// drops a file and a delete: nothing is stored, no file is removed, no event is sent.
func TestRunInTransactionRollback(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	events := txEvents(app)
	tags, _ := app.FindCachedCollectionByNameOrID(t.Context(), "tags")
	posts, _ := app.FindCachedCollectionByNameOrID(t.Context(), "posts")
	const postID = "hxjy4dmsjikjbj4" // alice's, with a cover and comments
	cover := filepath.Join(app.DataDir(), "storage", posts.ID, postID, "cover1_92p15tvmg7.png")

	failure := errors.New("later request failed")
	err := app.RunInTransaction(t.Context(), func(ctx context.Context) error {
		if _, err := txSave(ctx, t, app, core.NewRecordCreate(tags), map[string]any{"label": "rolled-back"}); err != nil {
			return err
		}
		update, err := app.NewRecordUpdate(ctx, posts, postID)
		if err != nil {
			return err
		}
		if _, err := txSave(ctx, t, app, update, map[string]any{"cover": ""}); err != nil {
			return err
		}
		if err := app.DeleteRecord(ctx, posts, "lkfm1e29gmk6gfe"); err != nil {
			return err
		}
		return failure
	})
	if !errors.Is(err, failure) {
		t.Fatalf("err = %v, want %v", err, failure)
	}

	if n := countRows(t, app.DB().Read(), "tags WHERE label = 'rolled-back'"); n != 0 {
		t.Errorf("%d rolled-back tags stored", n)
	}
	if n := countRows(t, app.DB().Read(), "posts WHERE id = 'lkfm1e29gmk6gfe'"); n != 1 {
		t.Errorf("deleted post rows = %d, want 1", n)
	}
	if _, err := os.Stat(cover); err != nil {
		t.Errorf("the cover was removed by a rolled-back update: %v", err)
	}
	if got := events(); len(got) != 0 {
		t.Errorf("events = %q, want none", got)
	}
}

// TestRunInTransactionCascadeEvents deletes a post created in the same transaction,
// with a comment (also created there) that cascades: both get their delete event after
// the commit, as PocketBase prepares each delete while the transaction holds the row.
func TestRunInTransactionCascadeEvents(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	events := txEvents(app)
	posts, _ := app.FindCachedCollectionByNameOrID(t.Context(), "posts")
	comments, _ := app.FindCachedCollectionByNameOrID(t.Context(), "comments")

	err := app.RunInTransaction(t.Context(), func(ctx context.Context) error {
		post, err := txSave(ctx, t, app, core.NewRecordCreate(posts), map[string]any{"title": "Short-lived"})
		if err != nil {
			return err
		}
		if _, err := txSave(ctx, t, app, core.NewRecordCreate(comments), map[string]any{"post": post.ID(), "text": "gone too"}); err != nil {
			return err
		}
		return app.DeleteRecord(ctx, posts, post.ID())
	})
	if err != nil {
		t.Fatal(err)
	}

	want := []string{"create posts", "create comments", "delete posts", "delete comments"}
	if got := events(); !slices.Equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}
