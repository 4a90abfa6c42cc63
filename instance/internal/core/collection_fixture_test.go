package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// collectionsExpectedItems returns the raw items of expected/collections-list.body.
func collectionsExpectedItems(t *testing.T) []json.RawMessage {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(apitest.ExpectedDir(t), "collections-list.body"))
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}

	return list.Items
}

func marshalNoEscape(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}

	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// TestFixtureCollectionsRoundTrip loads every collection of a copy of the PocketBase
// v0.40.4 fixture and checks that each marshals byte for byte as PocketBase listed it.
func TestFixtureCollectionsRoundTrip(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))

	list, err := app.CachedCollections(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sorted := slices.Clone(list)
	slices.SortFunc(sorted, func(a, b *core.Collection) int { return strings.Compare(a.Name, b.Name) })

	want := collectionsExpectedItems(t)
	if len(sorted) != len(want) {
		t.Fatalf("got %d collections, want %d", len(sorted), len(want))
	}
	for i, c := range sorted {
		got := marshalNoEscape(t, c)
		if !bytes.Equal(got, want[i]) {
			t.Errorf("collection %s:\n got: %s\nwant: %s", c.Name, got, want[i])
		}
	}

	// the whole items array too, as the list endpoint writes it
	page, err := app.ListCollections(context.Background(), core.CollectionListOptions{
		PerPage: 100, Sort: []core.CollectionSortField{{Name: "name"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := marshalNoEscape(t, page)
	body, err := os.ReadFile(filepath.Join(apitest.ExpectedDir(t), "collections-list.body"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Errorf("list page differs from expected/collections-list.body:\n got: %s\nwant: %s", got, body)
	}
}

// TestCachedCollectionsConcurrentUse marshals and looks up the shared cached
// collections from several goroutines (run with -race).
func TestCachedCollectionsConcurrentUse(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	ctx := t.Context()

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				list, err := app.CachedCollections(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				for _, c := range list {
					if _, err := json.Marshal(c); err != nil {
						t.Error(err)
					}
				}
				if _, err := app.FindCachedCollectionByNameOrID(ctx, "POSTS"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
