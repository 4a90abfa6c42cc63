package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
)

// TestBatchRealtimeCascade checks the realtime events of a committed batch whose
// deletes reach records created earlier in the same batch, as PocketBase publishes
// them: a tag deleted after a post was linked to it gives the post an update event,
// and a comment cascade-deleted with its post (both created in the batch) gets its
// delete event.
func TestBatchRealtimeCascade(t *testing.T) {
	tok := newTokens(t)
	app := batchApp(10, 3, 0, nil)(t)
	srv := httptest.NewServer(httpapi.NewRouter(app))
	defer srv.Close()
	defer app.Terminate()

	stream := openRealtime(t, t.Context(), srv.URL)
	clientID := stream.next(t).ID
	postSubscriptions(t, srv.URL, clientID, tok.admin, "tags/*", "posts/*", "comments/*")
	// a guest sees only published posts (or ones without an author): its rule is
	// checked in the batch transaction
	guest := openRealtime(t, t.Context(), srv.URL)
	postSubscriptions(t, srv.URL, guest.next(t).ID, "", "posts/*")

	const (
		tagID     = "rtcascadetag001"
		linkedID  = "rtcascadepost01"
		parentID  = "rtcascadepost02"
		commentID = "rtcascadecmt001"
	)
	body := batchBody(t,
		map[string]any{"method": "POST", "url": "/api/collections/tags/records", "body": map[string]any{"id": tagID, "label": "rt-c"}},
		map[string]any{"method": "POST", "url": "/api/collections/posts/records", "body": map[string]any{"id": linkedID, "title": "linked", "author": "w2bx8e6qg38uo33", "tags": []string{tagID}}},
		map[string]any{"method": "POST", "url": "/api/collections/posts/records", "body": map[string]any{"id": parentID, "title": "parent", "published": true}},
		map[string]any{"method": "POST", "url": "/api/collections/comments/records", "body": map[string]any{"id": commentID, "post": parentID, "text": "hi"}},
		map[string]any{"method": "DELETE", "url": "/api/collections/tags/records/" + tagID},
		map[string]any{"method": "DELETE", "url": "/api/collections/posts/records/" + parentID},
	)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api/batch", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", tok.admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("batch = %d", res.StatusCode)
	}

	want := []string{
		"tags/* create " + tagID,
		"posts/* create " + linkedID,
		"posts/* create " + parentID,
		"comments/* create " + commentID,
		"tags/* delete " + tagID,
		"posts/* update " + linkedID,
		"posts/* delete " + parentID,
		"comments/* delete " + commentID,
	}
	var got []string
	for range want {
		ev := stream.next(t)
		var msg struct {
			Action string         `json:"action"`
			Record map[string]any `json:"record"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &msg); err != nil {
			t.Fatalf("event %+v: %v", ev, err)
		}
		got = append(got, ev.Event+" "+msg.Action+" "+msg.Record["id"].(string))
		if msg.Action == "update" && msg.Record["id"] == linkedID {
			if tags, _ := msg.Record["tags"].([]any); len(tags) != 0 {
				t.Errorf("the unlinked post's update event still lists tags %v", tags)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("events =\n%q\nwant\n%q", got, want)
	}

	// the guest's first event is the published post's delete, prepared (and its rule
	// checked) while the batch transaction still held the post. The unpublished
	// post's events were filtered out; so was the published post's create, whose rule
	// is checked after the commit, when the post is gone (as in PocketBase).
	ev := guest.next(t)
	var msg struct {
		Action string         `json:"action"`
		Record map[string]any `json:"record"`
	}
	_ = json.Unmarshal([]byte(ev.Data), &msg)
	if msg.Action != "delete" || msg.Record["id"] != parentID {
		t.Errorf("guest event = %+v, want the published post's delete", ev)
	}
}
