package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
	"github.com/pocketfleet/pocketfleet/instance/internal/realtime"
)

// Fixture accounts (shared/fixtures/pocketbase-v0.40/README.md).
const (
	rtAliceID = "w2bx8e6qg38uo33"
	rtBobID   = "lnunmjp2hn3cnvb"
)

// rtFixtureApp opens a fresh copy of the PocketBase fixture.
func rtFixtureApp(t testing.TB) *core.App {
	return apitest.NewTestApp(t, apitest.CopyFixture(t))
}

// rtFindRecord loads a record of the fixture, rules aside.
func rtFindRecord(t testing.TB, app *core.App, collection, id string) *core.Record {
	t.Helper()
	c, err := app.FindCollectionByNameOrID(t.Context(), collection)
	if err != nil {
		t.Fatal(err)
	}
	public := ""
	r, err := app.FindRecordByIDWithRule(t.Context(), c, id, &public, &core.RequestInfo{})
	if err != nil {
		t.Fatalf("finding %s/%s: %v", collection, id, err)
	}
	return r
}

// rtFirstRecordID returns the id of some record of collection that matches filter (SQL).
func rtFirstRecordID(t testing.TB, app *core.App, collection, where string) string {
	t.Helper()
	var id string
	if err := app.DB().Read().QueryRowContext(t.Context(), "SELECT id FROM "+collection+" WHERE "+where+" LIMIT 1").Scan(&id); err != nil {
		t.Fatalf("finding a %s record where %s: %v", collection, where, err)
	}
	return id
}

// rtAuthToken returns an auth token of the fixture user id.
func rtAuthToken(t testing.TB, app *core.App, id string) string {
	t.Helper()
	token, err := core.NewAuthToken(rtFindRecord(t, app, "users", id))
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// rtRegisterClient adds a realtime client bound to the loopback IP, as a GET would.
func rtRegisterClient(app *core.App, id string, auth *core.Record) *realtime.Client {
	c := realtime.NewClientWithID(id)
	c.Set("ip", "127.0.0.1")
	if auth != nil {
		c.Set("auth", auth)
	}
	httpapi.RealtimeBroker(app).Register(c)
	return c
}

func TestRealtimeSetSubscriptions(t *testing.T) {
	long := strings.Repeat("a", 2501)
	many := make([]string, 1001)
	for i := range many {
		many[i] = "t"
	}
	manyJSON, _ := json.Marshal(many)

	scenarios := []apitest.ApiScenario{
		{
			Name:           "empty body",
			Method:         http.MethodPost,
			URL:            "/api/realtime",
			Headers:        map[string]string{"Content-Type": "application/json"},
			Body:           strings.NewReader(`{}`),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"clientId":{"code":"validation_required","message":"Cannot be blank."}},"message":"Something went wrong while processing your request.","status":400}`,
		},
		{
			Name:           "too long client id, too long topic",
			Method:         http.MethodPost,
			URL:            "/api/realtime",
			Headers:        map[string]string{"Content-Type": "application/json"},
			Body:           strings.NewReader(`{"clientId":"` + strings.Repeat("x", 256) + `","subscriptions":["ok","` + long + `"]}`),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"clientId":{"code":"validation_length_out_of_range","message":"The length must be between 1 and 255.","params":{"max":255,"min":1}},"subscriptions":{"1":{"code":"validation_length_too_long","message":"The length must be no more than 2500.","params":{"max":2500,"min":0}}}},"message":"Something went wrong while processing your request.","status":400}`,
		},
		{
			Name:           "too many topics",
			Method:         http.MethodPost,
			URL:            "/api/realtime",
			Headers:        map[string]string{"Content-Type": "application/json"},
			Body:           strings.NewReader(`{"clientId":"x","subscriptions":` + string(manyJSON) + `}`),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{"subscriptions":{"code":"validation_length_too_long","message":"The length must be no more than 1000.","params":{"max":1000,"min":0}}},"message":"Something went wrong while processing your request.","status":400}`,
		},
		{
			Name:           "invalid JSON",
			Method:         http.MethodPost,
			URL:            "/api/realtime",
			Headers:        map[string]string{"Content-Type": "application/json"},
			Body:           strings.NewReader(`{"clientId":`),
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Something went wrong while processing your request.","status":400}`,
		},
		{
			Name:           "unknown client",
			Method:         http.MethodPost,
			URL:            "/api/realtime",
			Headers:        map[string]string{"Content-Type": "application/json"},
			Body:           strings.NewReader(`{"clientId":"nope","subscriptions":["tags/*"]}`),
			ExpectedStatus: http.StatusNotFound,
			ExpectedBody:   `{"data":{},"message":"Missing or invalid client id.","status":404}`,
		},
		{
			Name:    "guest sets the topics (case-insensitive keys)",
			Method:  http.MethodPost,
			URL:     "/api/realtime",
			Headers: map[string]string{"Content-Type": "application/json"},
			Body:    strings.NewReader(`{"CLIENTID":"c1","Subscriptions":["tags/*","","posts?options=%7B%22query%22%3A%7B%22a%22%3A1%7D%7D"]}`),
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				c := rtRegisterClient(app, "c1", nil)
				c.Subscribe("old")
			},
			ExpectedStatus: http.StatusNoContent,
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				c, err := httpapi.RealtimeBroker(app).ClientByID("c1")
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, s := range c.Subscriptions() {
					got = append(got, s.Topic)
				}
				want := []string{"tags/*", "posts?options=%7B%22query%22%3A%7B%22a%22%3A1%7D%7D"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("subscriptions (-want +got):\n%s", diff)
				}
				if c.Subscriptions("posts")[0].Options.Query["a"] != "1" {
					t.Errorf("options not parsed")
				}
				if a, _ := c.Get("auth").(*core.Record); a != nil {
					t.Errorf("guest bound auth %v", a.ID())
				}
			},
		},
		{
			Name:           "another IP than the stream's",
			Method:         http.MethodPost,
			URL:            "/api/realtime",
			Headers:        map[string]string{"Content-Type": "application/json"},
			Body:           strings.NewReader(`{"clientId":"c1","subscriptions":["tags/*"]}`),
			BeforeTestFunc: func(t testing.TB, app *core.App) { rtRegisterClient(app, "c1", nil).Set("ip", "10.1.2.3") },
			ExpectedStatus: http.StatusBadRequest,
			ExpectedBody:   `{"data":{},"message":"Invalid realtime client.","status":400}`,
		},
	}
	for _, s := range scenarios {
		s.Test(t)
	}

	// Auth binding: guest → auth is allowed, then only the same record.
	authScenarios := []struct {
		name   string
		bound  string // record id bound to the client, "" for guest
		caller string // record id of the request's token, "" for guest
		status int
	}{
		{"guest to alice", "", rtAliceID, http.StatusNoContent},
		{"alice again", rtAliceID, rtAliceID, http.StatusNoContent},
		{"alice to guest", rtAliceID, "", http.StatusForbidden},
		{"alice to bob", rtAliceID, rtBobID, http.StatusForbidden},
	}
	for _, tc := range authScenarios {
		var headers map[string]string
		s := apitest.ApiScenario{
			Name:           "auth " + tc.name,
			Method:         http.MethodPost,
			URL:            "/api/realtime",
			TestAppFactory: rtFixtureApp,
			Body:           strings.NewReader(`{"clientId":"c1","subscriptions":["posts/*"]}`),
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				var bound *core.Record
				if tc.bound != "" {
					bound = rtFindRecord(t, app, "users", tc.bound)
				}
				rtRegisterClient(app, "c1", bound)
				headers["Content-Type"] = "application/json"
				if tc.caller != "" {
					headers["Authorization"] = rtAuthToken(t, app, tc.caller)
				}
			},
			ExpectedStatus: tc.status,
		}
		headers = map[string]string{}
		s.Headers = headers
		if tc.status == http.StatusForbidden {
			s.ExpectedBody = `{"data":{},"message":"The current and the previous request authorization don't match.","status":403}`
		} else {
			s.AfterTestFunc = func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				c, _ := httpapi.RealtimeBroker(app).ClientByID("c1")
				if a, _ := c.Get("auth").(*core.Record); a == nil || a.ID() != tc.caller {
					t.Errorf("bound auth = %v, want %s", a, tc.caller)
				}
			}
		}
		s.Test(t)
	}
}

// sseStream reads server-sent events from a realtime connection.
type sseStream struct {
	res *http.Response
	r   *bufio.Reader
}

type sseEvent struct {
	ID, Event, Data string
}

func openRealtime(t testing.TB, ctx context.Context, baseURL string) *sseStream {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/api/realtime", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return &sseStream{res: res, r: bufio.NewReader(res.Body)}
}

// next reads one event; it fails the test after a timeout.
func (s *sseStream) next(t testing.TB) sseEvent {
	t.Helper()
	type result struct {
		ev  sseEvent
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var ev sseEvent
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				ch <- result{ev, err}
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				ch <- result{ev, nil}
				return
			case strings.HasPrefix(line, "id:"):
				ev.ID = line[3:]
			case strings.HasPrefix(line, "event:"):
				ev.Event = line[6:]
			case strings.HasPrefix(line, "data:"):
				ev.Data = line[5:]
			}
		}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("reading SSE event: %v (partial %+v)", r.err, r.ev)
		}
		return r.ev
	case <-time.After(5 * time.Second):
		t.Fatal("no SSE event within 5s")
	}
	return sseEvent{}
}

func postSubscriptions(t testing.TB, baseURL, clientID, token string, topics ...string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"clientId": clientID, "subscriptions": topics})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, baseURL+"/api/realtime", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("POST /api/realtime = %d %s", res.StatusCode, b)
	}
}

func TestRealtimeConnect(t *testing.T) {
	app := apitest.NewTestApp(t, "")
	srv := httptest.NewServer(httpapi.NewRouter(app))
	defer srv.Close()

	s := openRealtime(t, t.Context(), srv.URL)
	for name, want := range map[string]string{
		"Content-Type":      "text/event-stream",
		"Cache-Control":     "no-store",
		"X-Accel-Buffering": "no",
	} {
		if got := s.res.Header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}

	ev := s.next(t)
	if !regexp.MustCompile(`^[a-zA-Z0-9]{40}$`).MatchString(ev.ID) {
		t.Fatalf("id = %q, want 40 alphanumerics", ev.ID)
	}
	if ev.Event != "PB_CONNECT" || ev.Data != `{"clientId":"`+ev.ID+`"}` {
		t.Fatalf("first event = %+v", ev)
	}
	if n := httpapi.RealtimeBroker(app).TotalClients(); n != 1 {
		t.Fatalf("TotalClients = %d, want 1", n)
	}

	// Terminating the app (server shutdown) ends the stream.
	app.Terminate()
	if _, err := io.ReadAll(s.r); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
}

func TestRealtimeBroadcast(t *testing.T) {
	app := rtFixtureApp(t)
	srv := httptest.NewServer(httpapi.NewRouter(app))
	defer srv.Close()
	defer app.Terminate() // ends the streams before srv.Close waits for them

	fieldsOpt := "tags?options=" + url.QueryEscape(`{"query":{"fields":"id"}}`)

	guest := openRealtime(t, t.Context(), srv.URL)
	guestID := guest.next(t).ID
	postSubscriptions(t, srv.URL, guestID, "", "tags/*", fieldsOpt, "posts/*", "users/*", "other")

	alice := openRealtime(t, t.Context(), srv.URL)
	aliceClient := alice.next(t).ID
	postSubscriptions(t, srv.URL, aliceClient, rtAuthToken(t, app, rtAliceID), "users/"+rtAliceID, "posts")

	ctx := t.Context()

	// create on a public collection: both guest topics, in subscription order
	tagID := rtFirstRecordID(t, app, "tags", "1=1")
	tag := rtFindRecord(t, app, "tags", tagID)
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionCreate, Record: tag})

	ev := guest.next(t)
	if ev.ID != guestID || ev.Event != "tags/*" || !strings.HasPrefix(ev.Data, `{"record":{"collectionId":"pbc_1219621782","collectionName":"tags",`) || !strings.HasSuffix(ev.Data, `},"action":"create"}`) {
		t.Fatalf("tags/* event = %+v", ev)
	}
	ev = guest.next(t)
	if ev.Event != fieldsOpt || ev.Data != `{"record":{"id":"`+tagID+`"},"action":"create"}` {
		t.Fatalf("fields event = %+v", ev)
	}

	// an unpublished post of alice: the guest may not list it, alice may (bare topic)
	postID := rtFirstRecordID(t, app, "posts", "published = 0 AND author = '"+rtAliceID+"'")
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionUpdate, Record: rtFindRecord(t, app, "posts", postID)})
	ev = alice.next(t)
	if ev.Event != "posts" || !strings.Contains(ev.Data, `"id":"`+postID+`"`) || !strings.HasSuffix(ev.Data, `"action":"update"}`) {
		t.Fatalf("alice posts event = %+v", ev)
	}

	// alice's own record: she sees her email; the guest can't list users
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionUpdate, Record: rtFindRecord(t, app, "users", rtAliceID)})
	ev = alice.next(t)
	if ev.Event != "users/"+rtAliceID || !strings.Contains(ev.Data, `"email":"alice@example.com"`) {
		t.Fatalf("alice self event = %+v", ev)
	}

	// a prepared delete is checked before and sent after the commit
	pending := app.PrepareRecordDelete(ctx, tag)
	pending.Publish(ctx)
	ev = guest.next(t)
	if ev.Event != "tags/*" || !strings.HasSuffix(ev.Data, `"action":"delete"}`) {
		t.Fatalf("delete event = %+v", ev)
	}
	ev = guest.next(t)
	if ev.Event != fieldsOpt || ev.Data != `{"record":{"id":"`+tagID+`"},"action":"delete"}` {
		t.Fatalf("delete fields event = %+v", ev)
	}

	// nothing else was queued for the guest: the next event is a fresh one
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionCreate, Record: tag})
	if ev = guest.next(t); ev.Event != "tags/*" || !strings.HasSuffix(ev.Data, `"action":"create"}`) {
		t.Fatalf("guest received an unexpected event %+v", ev)
	}
	guest.next(t) // and its fields twin

	// an unprepared delete can't be rule-checked: a public rule passes, others don't
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionDelete, Record: rtFindRecord(t, app, "posts", postID)})
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionDelete, Record: tag})
	if ev = guest.next(t); ev.Event != "tags/*" || !strings.HasSuffix(ev.Data, `"action":"delete"}`) {
		t.Fatalf("unprepared delete event = %+v", ev)
	}
	guest.next(t)

	// a new tokenKey for alice unbinds her clients: they continue as guests
	aliceRT, err := httpapi.RealtimeBroker(app).ClientByID(aliceClient)
	if err != nil {
		t.Fatal(err)
	}
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionUpdate, Record: rtFindRecord(t, app, "users", rtAliceID)})
	alice.next(t) // her own record again
	if a, _ := aliceRT.Get("auth").(*core.Record); a == nil {
		t.Fatal("an update with the same tokenKey unbound the auth")
	}
	if _, err := app.DB().Write().ExecContext(ctx, "UPDATE users SET tokenKey = 'changed' WHERE id = ?", rtAliceID); err != nil {
		t.Fatal(err)
	}
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionUpdate, Record: rtFindRecord(t, app, "users", rtAliceID)})
	if a, _ := aliceRT.Get("auth").(*core.Record); a != nil {
		t.Fatal("a new tokenKey left the auth bound")
	}
}

func TestRealtimeTimeouts(t *testing.T) {
	tests := []struct {
		name           string
		idle, lifetime time.Duration
	}{
		{"idle", 150 * time.Millisecond, time.Minute},
		{"max lifetime", time.Minute, 150 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			restore := httpapi.SetRealtimeTimeouts(tc.idle, tc.lifetime)
			defer restore()

			app := apitest.NewTestApp(t, "")
			srv := httptest.NewServer(httpapi.NewRouter(app))
			defer srv.Close()

			start := time.Now()
			s := openRealtime(t, t.Context(), srv.URL)
			s.next(t) // PB_CONNECT
			if _, err := io.ReadAll(s.r); err != nil {
				t.Fatalf("stream did not end cleanly: %v", err)
			}
			if d := time.Since(start); d < 150*time.Millisecond || d > 10*time.Second {
				t.Errorf("stream ended after %v", d)
			}
			deadline := time.Now().Add(5 * time.Second)
			for httpapi.RealtimeBroker(app).TotalClients() != 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := httpapi.RealtimeBroker(app).TotalClients(); n != 0 {
				t.Errorf("TotalClients = %d after the stream ended, want 0", n)
			}
		})
	}
}

func TestRealtimeIdleTimerResetByMessages(t *testing.T) {
	restore := httpapi.SetRealtimeTimeouts(300*time.Millisecond, time.Minute)
	defer restore()

	app := apitest.NewTestApp(t, "")
	srv := httptest.NewServer(httpapi.NewRouter(app))
	defer srv.Close()
	defer app.Terminate()

	s := openRealtime(t, t.Context(), srv.URL)
	id := s.next(t).ID
	c, err := httpapi.RealtimeBroker(app).ClientByID(id)
	if err != nil {
		t.Fatal(err)
	}
	// a message every 150 ms keeps the stream open past the 300 ms idle timeout
	for i := range 4 {
		time.Sleep(150 * time.Millisecond)
		c.Send(realtime.Message{Name: "ping", Data: []byte(`{}`)})
		if ev := s.next(t); ev.Event != "ping" || ev.ID != id {
			t.Fatalf("message %d = %+v", i, ev)
		}
	}
}

// TestRealtimeServerTimeouts checks that the server's read and write timeouts (5 minutes
// in instance serve) don't cut a realtime stream.
func TestRealtimeServerTimeouts(t *testing.T) {
	app := apitest.NewTestApp(t, "")
	srv := httptest.NewUnstartedServer(httpapi.NewRouter(app))
	srv.Config.ReadTimeout = 100 * time.Millisecond
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()
	defer app.Terminate()

	s := openRealtime(t, t.Context(), srv.URL)
	id := s.next(t).ID
	c, err := httpapi.RealtimeBroker(app).ClientByID(id)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	c.Send(realtime.Message{Name: "late", Data: []byte(`{}`)})
	if ev := s.next(t); ev.Event != "late" {
		t.Fatalf("event after the server timeouts = %+v", ev)
	}
}

func TestRealtimeSubscriptionOptions(t *testing.T) {
	app := rtFixtureApp(t)
	srv := httptest.NewServer(httpapi.NewRouter(app))
	defer srv.Close()
	defer app.Terminate()

	tagID := rtFirstRecordID(t, app, "tags", "1=1")
	postID := rtFirstRecordID(t, app, "posts", "published = 1")
	opts := func(topic, rawJSON string) string { return topic + "?options=" + url.QueryEscape(rawJSON) }
	match := opts("tags/*", `{"query":{"filter":"id = '`+tagID+`'"}}`)
	noMatch := opts("tags/*", `{"query":{"filter":"id = 'nope'"}}`)
	superuserOnly := opts("tags/*", `{"query":{"filter":"@request.auth.id = ''"}}`)
	badFilter := opts("tags/*", `{"query":{"filter":"nope ~~ 1"}}`)
	// the options are @request.query/headers for the rule check
	header := opts("tags/"+tagID, `{"headers":{"X-Token":"t"},"query":{"fields":"id"}}`)

	s := openRealtime(t, t.Context(), srv.URL)
	id := s.next(t).ID
	postSubscriptions(t, srv.URL, id, "", noMatch, superuserOnly, badFilter, match, header)

	ctx := t.Context()
	tag := rtFindRecord(t, app, "tags", tagID)
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionUpdate, Record: tag})
	if ev := s.next(t); ev.Event != match {
		t.Fatalf("first event = %+v, want %s", ev, match)
	}
	if ev := s.next(t); ev.Event != header || ev.Data != `{"record":{"id":"`+tagID+`"},"action":"update"}` {
		t.Fatalf("second event = %+v", ev)
	}

	// expand follows the expanded collection's rules: a post with its tags
	expand := opts("posts/"+postID, `{"query":{"expand":"tags","fields":"id,expand.tags.id"}}`)
	postSubscriptions(t, srv.URL, id, "", expand)
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionUpdate, Record: rtFindRecord(t, app, "posts", postID)})
	ev := s.next(t)
	if ev.Event != expand || !strings.HasPrefix(ev.Data, `{"record":{"expand":{"tags":[{"id":"`) || !strings.HasSuffix(ev.Data, `"id":"`+postID+`"},"action":"update"}`) {
		t.Fatalf("expand event = %+v", ev)
	}
}

// TestRealtimeHead answers HEAD as PocketBase's GET pattern does: 200 with the stream's
// headers and no body; no client stays registered.
func TestRealtimeHead(t *testing.T) {
	s := apitest.ApiScenario{
		Method: http.MethodHead, URL: "/api/realtime",
		ExpectedStatus: http.StatusOK,
		ExpectedHeaders: map[string]string{
			"Content-Type":      "text/event-stream",
			"Cache-Control":     "no-store",
			"X-Accel-Buffering": "no",
		},
		NotExpectedHeaders: []string{"Content-Length"},
		AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
			if n := httpapi.RealtimeBroker(app).TotalClients(); n != 0 {
				t.Errorf("TotalClients = %d after HEAD, want 0", n)
			}
		},
	}
	s.Test(t)
}

// TestRealtimeWithoutHijack streams from the handler when the connection cannot be
// hijacked (HTTP/2, or here a recorder): PB_CONNECT is written, and the stream ends
// with the request.
func TestRealtimeWithoutHijack(t *testing.T) {
	app := apitest.NewTestApp(t, "")
	h := httpapi.NewRouter(app)

	ctx, cancel := context.WithCancel(t.Context())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/realtime", nil)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(rec, req)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for httpapi.RealtimeBroker(app).TotalClients() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("no client registered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done

	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/event-stream" {
		t.Errorf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if body := rec.Body.String(); !strings.HasPrefix(body, "id:") || !strings.Contains(body, "\nevent:PB_CONNECT\n") {
		t.Errorf("body = %q, want PB_CONNECT", body)
	}
	if n := httpapi.RealtimeBroker(app).TotalClients(); n != 0 {
		t.Errorf("TotalClients = %d after the request ended", n)
	}
}

// rtChangeUsersSecret gives the users collection a new token secret, as a superuser
// does from the dashboard to sign everyone out.
func rtChangeUsersSecret(t testing.TB, app *core.App) {
	t.Helper()
	users, err := app.FindCollectionByNameOrID(t.Context(), "users")
	if err != nil {
		t.Fatal(err)
	}
	users.Auth.AuthToken.Secret = strings.Repeat("n", 50)
	if err := app.SaveCollection(t.Context(), users); err != nil {
		t.Fatal(err)
	}
}

// TestRealtimeAuthCollectionSecretChange: a new token secret of an auth collection
// clears the auth of the realtime clients bound to its records (PocketBase's
// realtimeUnsetClientsAuthByCollection): they receive what a guest may see, and may
// bind another auth.
func TestRealtimeAuthCollectionSecretChange(t *testing.T) {
	app := rtFixtureApp(t)
	srv := httptest.NewServer(httpapi.NewRouter(app))
	defer srv.Close()
	defer app.Terminate()
	ctx := t.Context()

	alice := openRealtime(t, ctx, srv.URL)
	aliceClient := alice.next(t).ID
	postSubscriptions(t, srv.URL, aliceClient, rtAuthToken(t, app, rtAliceID), "posts", "tags/*")

	postID := rtFirstRecordID(t, app, "posts", "published = 0 AND author = '"+rtAliceID+"'")
	tag := rtFindRecord(t, app, "tags", rtFirstRecordID(t, app, "tags", "1=1"))
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionUpdate, Record: rtFindRecord(t, app, "posts", postID)})
	if ev := alice.next(t); ev.Event != "posts" || !strings.Contains(ev.Data, `"id":"`+postID+`"`) {
		t.Fatalf("alice's unpublished post before the change = %+v", ev)
	}

	rtChangeUsersSecret(t, app)

	// alice's own unpublished post is no longer hers to see: the next event is the tag
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionUpdate, Record: rtFindRecord(t, app, "posts", postID)})
	app.PublishRecordEvent(ctx, core.RecordEvent{Action: core.RecordActionUpdate, Record: tag})
	if ev := alice.next(t); ev.Event != "tags/*" {
		t.Fatalf("after the secret change alice received %+v, want the tag only", ev)
	}
	c, err := httpapi.RealtimeBroker(app).ClientByID(aliceClient)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := c.Get("auth").(*core.Record); a != nil {
		t.Fatal("the auth stayed bound after its collection's secret changed")
	}

	// and the client may now be bound to another record (a token signed with the new secret)
	postSubscriptions(t, srv.URL, aliceClient, rtAuthToken(t, app, rtBobID), "posts")
	if a, _ := c.Get("auth").(*core.Record); a == nil || a.ID() != rtBobID {
		t.Fatalf("bound auth after the rebind = %v, want bob", a)
	}
}

// TestRealtimeRebindAfterSecretChange: a POST from another record than the bound one is
// 403, unless the bound auth's collection changed its token secret since.
func TestRealtimeRebindAfterSecretChange(t *testing.T) {
	scenario := func(change bool, status int) apitest.ApiScenario {
		headers := map[string]string{"Content-Type": "application/json"}
		return apitest.ApiScenario{
			Name:           "alice to bob, secret changed: " + map[bool]string{true: "yes", false: "no"}[change],
			Method:         http.MethodPost,
			URL:            "/api/realtime",
			TestAppFactory: rtFixtureApp,
			Headers:        headers,
			Body:           strings.NewReader(`{"clientId":"c2","subscriptions":["posts/*"]}`),
			BeforeTestFunc: func(t testing.TB, app *core.App) {
				rtRegisterClient(app, "c2", rtFindRecord(t, app, "users", rtAliceID))
				if change {
					rtChangeUsersSecret(t, app)
				}
				headers["Authorization"] = rtAuthToken(t, app, rtBobID)
			},
			ExpectedStatus: status,
		}
	}
	forbidden := scenario(false, http.StatusForbidden)
	forbidden.ExpectedBody = `{"data":{},"message":"The current and the previous request authorization don't match.","status":403}`
	allowed := scenario(true, http.StatusNoContent)
	forbidden.Test(t)
	allowed.Test(t)
}

// TestRealtimeCascadeDeleteExpand: PocketBase deletes the root record first and then
// its cascade, expanding each cascaded record's delete event inside the transaction,
// so a comment deleted with its post no longer expands the post; the root's own event
// is expanded before anything is gone.
func TestRealtimeCascadeDeleteExpand(t *testing.T) {
	app := rtFixtureApp(t)
	srv := httptest.NewServer(httpapi.NewRouter(app))
	defer srv.Close()
	defer app.Terminate()

	postID := rtFirstRecordID(t, app, "posts", "published = 1 AND id IN (SELECT post FROM comments)")
	commentTopic := "comments/*?options=" + url.QueryEscape(`{"query":{"expand":"post","fields":"id,expand.post.id"}}`)
	postTopic := "posts/" + postID + "?options=" + url.QueryEscape(`{"query":{"expand":"comments_via_post","fields":"id,expand.comments_via_post.id"}}`)

	s := openRealtime(t, t.Context(), srv.URL)
	postSubscriptions(t, srv.URL, s.next(t).ID, "", commentTopic, postTopic)

	posts, err := app.FindCollectionByNameOrID(t.Context(), "posts")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.DeleteRecord(t.Context(), posts, postID); err != nil {
		t.Fatal(err)
	}

	var comments, post int
	for comments == 0 || post == 0 {
		ev := s.next(t)
		switch ev.Event {
		case commentTopic:
			comments++
			if !strings.HasPrefix(ev.Data, `{"record":{"expand":{},"id":`) {
				t.Errorf("cascaded comment event expands its deleted post: %s", ev.Data)
			}
		case postTopic:
			post++
			if !strings.Contains(ev.Data, `"comments_via_post":[{"id":`) {
				t.Errorf("root post event lacks its comments: %s", ev.Data)
			}
		default:
			t.Fatalf("unexpected event %+v", ev)
		}
	}
}
