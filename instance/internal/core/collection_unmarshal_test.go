package core_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// TestUnmarshalNewAuthCollectionWithID checks that a blank collection decoded from JSON
// with an explicit id (as imports decode new collections) names its default indexes
// after that id, as PocketBase's NewCollection(type, name, id).
func TestUnmarshalNewAuthCollectionWithID(t *testing.T) {
	var c core.Collection
	if err := json.Unmarshal([]byte(`{"id":"myauthcollection","name":"members","type":"auth"}`), &c); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CREATE UNIQUE INDEX `idx_tokenKey_myauthcollection` ON `members` (`tokenKey`)",
		"CREATE UNIQUE INDEX `idx_email_myauthcollection` ON `members` (`email`) WHERE `email` != ''",
	}
	if c.ID != "myauthcollection" || !slices.Equal(c.Indexes, want) {
		t.Errorf("id %q, indexes %q; want myauthcollection, %q", c.ID, c.Indexes, want)
	}
}
