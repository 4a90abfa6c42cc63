package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/httpapi"
)

const (
	batchTagsID = "pbc_1219621782"
	newTagID    = "batchtag0000001"
)

// batchApp returns a fixture app with batch requests enabled and its record events
// recorded into events.
func batchApp(maxRequests int, timeout, maxBodySize int64, events *[]string) func(t testing.TB) *core.App {
	return func(t testing.TB) *core.App {
		app := fixtureApp(t)
		s := app.Settings()
		s.Batch = core.BatchConfig{Enabled: true, MaxRequests: maxRequests, Timeout: timeout, MaxBodySize: maxBodySize}
		if err := app.SaveSettings(t.Context(), s); err != nil {
			t.Fatal(err)
		}
		if events != nil {
			var mu sync.Mutex
			app.OnRecordChange(func(_ context.Context, e core.RecordEvent) {
				mu.Lock()
				defer mu.Unlock()
				*events = append(*events, e.Action+" "+e.Record.Collection().Name+" "+e.Record.ID())
			})
		}
		return app
	}
}

// batchBody encodes {"requests": requests}.
func batchBody(t testing.TB, requests ...map[string]any) *bytes.Reader {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"requests": requests})
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(raw)
}

func TestBatch(t *testing.T) {
	tok := newTokens(t)

	var (
		okEvents, failEvents []string
	)
	okBody := batchBody(t,
		map[string]any{"method": "POST", "url": "/api/collections/tags/records?fields=id,label",
			"body": map[string]any{"id": newTagID, "label": "batch"}},
		map[string]any{"method": "POST", "url": "/api/collections/posts/records?fields=title,tags",
			"body": map[string]any{"title": "Batch post", "author": aliceID, "tags": []string{newTagID}}},
		map[string]any{"method": "PATCH", "url": "/api/collections/tags/records/" + newTagID,
			"body": map[string]any{"label": "batch-2"}},
		map[string]any{"method": "PUT", "url": "/api/collections/tags/records?fields=id,label",
			"body": map[string]any{"id": rwTagK8s, "label": "k8s"}},
		map[string]any{"method": "PUT", "url": "/api/collections/tags/records?fields=label",
			"body": map[string]any{"label": "upserted"}},
		map[string]any{"method": "DELETE", "url": "/api/collections/posts/records/" + rwBobPost},
	)

	scenarios := []apitest.ApiScenario{
		{
			Name:   "disabled by default",
			Method: http.MethodPost, URL: "/api/batch",
			Body: batchBody(t, map[string]any{"method": "POST", "url": "/api/collections/tags/records"}), Headers: rwHeaders(tok.admin),
			TestAppFactory: fixtureApp,
			ExpectedStatus: 403, ExpectedBody: rwErr(403, "Batch requests are not allowed.", "{}"),
		},
		{
			Name:   "no requests",
			Method: http.MethodPost, URL: "/api/batch",
			Body: strings.NewReader(`{}`), Headers: rwHeaders(""),
			TestAppFactory: batchApp(5, 3, 0, nil),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Invalid batch request data.",
				`{"requests":{"code":"validation_required","message":"Cannot be blank."}}`),
		},
		{
			Name:   "more requests than maxRequests; keys match case-insensitively",
			Method: http.MethodPost, URL: "/api/batch",
			Body:           strings.NewReader(`{"REQUESTS":[{"method":"DELETE","url":"/a"},{"method":"DELETE","url":"/b"},{"method":"DELETE","url":"/c"}]}`),
			Headers:        rwHeaders(""),
			TestAppFactory: batchApp(2, 3, 0, nil),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Invalid batch request data.",
				`{"requests":{"code":"validation_length_too_long","message":"The length must be no more than 2.","params":{"max":2,"min":0}}}`),
		},
		{
			Name:   "invalid items",
			Method: http.MethodPost, URL: "/api/batch",
			Body:           strings.NewReader(`{"requests":[{"method":"post","url":""},{"Method":"GET","URL":"/x"},{"url":"/` + strings.Repeat("x", 2000) + `"}]}`),
			Headers:        rwHeaders(""),
			TestAppFactory: batchApp(5, 3, 0, nil),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Invalid batch request data.", `{"requests":{`+
				`"0":{"method":{"code":"validation_in_invalid","message":"Must be a valid value."},"url":{"code":"validation_required","message":"Cannot be blank."}},`+
				`"2":{"method":{"code":"validation_required","message":"Cannot be blank."},"url":{"code":"validation_length_too_long","message":"The length must be no more than 2000.","params":{"max":2000,"min":0}}}}}`),
		},
		{
			Name:   "malformed JSON",
			Method: http.MethodPost, URL: "/api/batch",
			Body: strings.NewReader(`{"requests":[`), Headers: rwHeaders(""),
			TestAppFactory: batchApp(5, 3, 0, nil),
			ExpectedStatus: 400, ExpectedBody: rwErr(400, "Failed to read the submitted batch data.", "{}"),
		},
		{
			Name:   "body over settings.batch.maxBodySize",
			Method: http.MethodPost, URL: "/api/batch",
			Body: batchBody(t, map[string]any{"method": "POST", "url": "/api/collections/tags/records", "body": map[string]any{"label": strings.Repeat("x", 200)}}), Headers: rwHeaders(""),
			TestAppFactory: batchApp(5, 3, 100, nil),
			ExpectedStatus: 413, ExpectedBody: rwErr(413, "Request entity too large.", "{}"),
		},
		{
			Name:   "create, create with a relation to it, update, upsert both ways and delete in one transaction",
			Method: http.MethodPost, URL: "/api/batch",
			Body: okBody, Headers: rwHeaders(tok.admin),
			TestAppFactory: batchApp(10, 3, 0, &okEvents),
			ExpectedStatus: 200,
			ExpectedContent: []string{
				`[{"body":{"id":"` + newTagID + `","label":"batch"},"status":200},`,
				`{"body":{"tags":["` + newTagID + `"],"title":"Batch post"},"status":200},`,
				`{"body":{"collectionId":"` + batchTagsID + `","collectionName":"tags","id":"` + newTagID + `","label":"batch-2"},"status":200},`,
				`{"body":{"id":"` + rwTagK8s + `","label":"k8s"},"status":200},`,
				`{"body":{"label":"upserted"},"status":200},`,
				`{"body":null,"status":204}]`,
			},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if got := rwColumn(t, app, "tags", "label", newTagID); got != "batch-2" {
					t.Errorf("new tag label = %q", got)
				}
				if n := rwCount(t, app, "tags", "label = ?", "upserted"); n != 1 {
					t.Errorf("%d upserted tags", n)
				}
				if n := rwCount(t, app, "posts", "id = ?", rwBobPost); n != 0 {
					t.Errorf("deleted post still stored")
				}
				if n := rwCount(t, app, "posts", "title = ? AND tags LIKE ?", "Batch post", "%"+newTagID+"%"); n != 1 {
					t.Errorf("%d batch posts", n)
				}
				want := []string{"create tags " + newTagID, "create posts", "update tags " + newTagID, "update tags " + rwTagK8s, "create tags", "delete posts " + rwBobPost}
				if len(okEvents) < len(want) {
					t.Fatalf("events = %q, want at least %q", okEvents, want)
				}
				for i, w := range want {
					if !strings.HasPrefix(okEvents[i], w) {
						t.Errorf("event %d = %q, want %q…", i, okEvents[i], w)
					}
				}
			},
		},
		{
			Name:   "a failing request rolls back the ones before it and publishes nothing",
			Method: http.MethodPost, URL: "/api/batch",
			Body: batchBody(t,
				map[string]any{"method": "POST", "url": "/api/collections/posts/records", "body": map[string]any{"title": "Rolled back", "author": aliceID}},
				map[string]any{"method": "PATCH", "url": "/api/collections/posts/records/" + rwBobPost, "body": map[string]any{"title": "Hijacked"}},
			),
			Headers:        rwHeaders(tok.alice),
			TestAppFactory: batchApp(10, 3, 0, &failEvents),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Batch transaction failed.", `{"requests":{"1":{"code":"batch_request_failed","message":"Batch request failed.",`+
				`"response":{"data":{},"message":"The requested resource wasn't found.","status":404}}}}`),
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := rwCount(t, app, "posts", "title = ?", "Rolled back"); n != 0 {
					t.Errorf("%d rolled-back posts stored", n)
				}
				if len(failEvents) != 0 {
					t.Errorf("events = %q, want none", failEvents)
				}
			},
		},
		{
			Name:   "validation errors of the failed request are in its response",
			Method: http.MethodPost, URL: "/api/batch",
			Body: batchBody(t,
				map[string]any{"method": "POST", "url": "/api/collections/tags/records", "body": map[string]any{"label": "fresh"}},
				map[string]any{"method": "POST", "url": "/api/collections/tags/records", "body": map[string]any{"label": "fresh"}},
			),
			Headers:        rwHeaders(tok.admin),
			TestAppFactory: batchApp(10, 3, 0, nil),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Batch transaction failed.", `{"requests":{"1":{"code":"batch_request_failed","message":"Batch request failed.",`+
				`"response":{"data":{"label":{"code":"validation_not_unique","message":"Value must be unique."}},"message":"Failed to create record.","status":400}}}}`),
		},
		{
			Name:   "an unknown action fails",
			Method: http.MethodPost, URL: "/api/batch",
			Body:           batchBody(t, map[string]any{"method": "GET", "url": "/api/collections/tags/records"}),
			Headers:        rwHeaders(tok.admin),
			TestAppFactory: batchApp(10, 3, 0, nil),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Batch transaction failed.", `{"requests":{"0":{"code":"batch_request_failed","message":"Batch request failed.",`+
				`"response":{"data":{},"message":"Something went wrong while processing your request.","status":400}}}}`),
		},
		{
			Name:   "a sub-request's Authorization header is ignored",
			Method: http.MethodPost, URL: "/api/batch",
			Body: batchBody(t, map[string]any{"method": "POST", "url": "/api/collections/tags/records",
				"headers": map[string]string{"Authorization": tok.admin}, "body": map[string]any{"label": "guest"}}),
			Headers:        rwHeaders(""),
			TestAppFactory: batchApp(10, 3, 0, nil),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Batch transaction failed.", `{"requests":{"0":{"code":"batch_request_failed","message":"Batch request failed.",`+
				`"response":{"data":{},"message":"Only superusers can perform this action.","status":403}}}}`),
		},
		{
			Name:   "a missing collection is the single route's error without the body-limit middleware",
			Method: http.MethodPost, URL: "/api/batch",
			Body:           batchBody(t, map[string]any{"method": "POST", "url": "/api/collections/missing/records"}),
			Headers:        rwHeaders(tok.admin),
			TestAppFactory: batchApp(10, 3, 0, nil),
			ExpectedStatus: 400,
			ExpectedBody: rwErr(400, "Batch transaction failed.", `{"requests":{"0":{"code":"batch_request_failed","message":"Batch request failed.",`+
				`"response":{"data":{},"message":"Missing collection context.","status":404}}}}`),
		},
		{
			Name:   "a sub-request is multipart, so its query values bind under the body's",
			Method: http.MethodPost, URL: "/api/batch",
			Body: batchBody(t,
				map[string]any{"method": "POST", "url": "/api/collections/tags/records?label=from-query&fields=label", "body": map[string]any{}},
				map[string]any{"method": "POST", "url": "/api/collections/tags/records?label=ignored&fields=label", "body": map[string]any{"label": "from-body"}}),
			Headers:        rwHeaders(tok.admin),
			TestAppFactory: batchApp(10, 3, 0, nil),
			ExpectedStatus: 200,
			ExpectedBody:   `[{"body":{"label":"from-query"},"status":200},{"body":{"label":"from-body"},"status":200}]`,
		},
		{
			Name:   "the Content-Type prefix is case-sensitive, as in PocketBase's BindBody",
			Method: http.MethodPost, URL: "/api/batch",
			Body:           batchBody(t, map[string]any{"method": "POST", "url": "/api/collections/tags/records", "body": map[string]any{"label": "upper"}}),
			Headers:        map[string]string{"Authorization": tok.admin, "Content-Type": "APPLICATION/JSON"},
			TestAppFactory: batchApp(10, 3, 0, nil),
			ExpectedStatus: 400, ExpectedBody: rwErr(400, "Failed to read the submitted batch data.", "{}"),
		},
		{
			Name:   "a requests form value cannot fill the requests",
			Method: http.MethodPost, URL: "/api/batch",
			Body:           strings.NewReader("requests=x"),
			Headers:        map[string]string{"Authorization": tok.admin, "Content-Type": "application/x-www-form-urlencoded"},
			TestAppFactory: batchApp(10, 3, 0, nil),
			ExpectedStatus: 400, ExpectedBody: rwErr(400, "Failed to read the submitted batch data.", "{}"),
		},
		{
			Name:   "@jsonPayload names are case-sensitive",
			Method: http.MethodPost, URL: "/api/batch",
			Body:           strings.NewReader(url.Values{"@jsonPayload": {`{"Requests":[{"method":"POST","url":"/api/collections/tags/records"}]}`}}.Encode()),
			Headers:        map[string]string{"Authorization": tok.admin, "Content-Type": "application/x-www-form-urlencoded"},
			TestAppFactory: batchApp(10, 3, 0, nil),
			ExpectedStatus: 400,
			ExpectedBody:   rwErr(400, "Invalid batch request data.", `{"requests":{"code":"validation_required","message":"Cannot be blank."}}`),
		},
		{
			Name:   "multipart body with @jsonPayload, as the SDK sends it",
			Method: http.MethodPost, URL: "/api/batch",
			Body:           multipartBatch(t, `{"requests":[{"method":"POST","url":"/api/collections/tags/records?fields=label","body":{"label":"from-multipart"}}]}`),
			Headers:        map[string]string{"Authorization": tok.admin, "Content-Type": multipartBatchType},
			TestAppFactory: batchApp(10, 3, 0, nil),
			ExpectedStatus: 200, ExpectedBody: `[{"body":{"label":"from-multipart"},"status":200}]`,
		},
		{
			Name:   "files under requests.N.<field> go to request N",
			Method: http.MethodPost, URL: "/api/batch",
			Body: multipartBatch(t, `{"requests":[`+
				`{"method":"POST","url":"/api/collections/tags/records","body":{"label":"with-files"}},`+
				`{"method":"POST","url":"/api/collections/posts/records?fields=title,cover","body":{"title":"With a cover","author":"`+aliceID+`"}}]}`,
				"requests.1.cover", "red.png"),
			Headers:         map[string]string{"Authorization": tok.admin, "Content-Type": multipartBatchType},
			TestAppFactory:  batchApp(10, 3, 0, nil),
			ExpectedStatus:  200,
			ExpectedContent: []string{`"label":"with-files"`, `{"body":{"cover":"red_`, `.png","title":"With a cover"},"status":200}`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, body []byte) {
				// as in PocketBase, the sub-request gets the file by its stored name, which
				// the record handler names again
				if !regexp.MustCompile(`"cover":"red_[a-z0-9]{10}_[a-z0-9]{10}\.png"`).Match(body) {
					t.Errorf("the cover is not named twice: %s", body)
				}
				if n := storedFiles(t, app, "red_"); n != 1 {
					t.Fatalf("stored red_*.png files = %d, want 1", n)
				}
			},
		},
		{
			Name:   "a failing item removes the files an earlier item stored",
			Method: http.MethodPost, URL: "/api/batch",
			Body: multipartBatch(t, `{"requests":[`+
				`{"method":"POST","url":"/api/collections/posts/records","body":{"title":"With a cover","author":"`+aliceID+`"}},`+
				`{"method":"POST","url":"/api/collections/missing/records","body":{}}]}`,
				"requests.0.cover", "red.png"),
			Headers:         map[string]string{"Authorization": tok.admin, "Content-Type": multipartBatchType},
			TestAppFactory:  batchApp(10, 3, 0, nil),
			ExpectedStatus:  400,
			ExpectedContent: []string{`"1":{"code":"batch_request_failed"`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				if n := storedFiles(t, app, "red_"); n != 0 {
					t.Fatalf("stored red_*.png files after the rollback = %d, want 0", n)
				}
			},
		},
	}

	for _, s := range scenarios {
		s.Test(t)
	}
}

const multipartBatchBoundary = "batchboundary"

var multipartBatchType = "multipart/form-data; boundary=" + multipartBatchBoundary

// multipartBatch builds a multipart batch body: payload under @jsonPayload, then files
// given as part name, file name pairs.
func multipartBatch(t testing.TB, payload string, files ...string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(multipartBatchBoundary); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteField("@jsonPayload", payload); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(files); i += 2 {
		part, err := w.CreateFormFile(files[i], files[i+1])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = part.Write(redPNG(t))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// TestBatchTimeout runs a batch longer than settings.batch.timeout (one second): it
// is rolled back with PocketBase's generic failure.
func TestBatchTimeout(t *testing.T) {
	requests := make([]map[string]any, 40)
	for i := range requests {
		email := "slow" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.com"
		requests[i] = map[string]any{"method": "POST", "url": "/api/collections/users/records",
			"body": map[string]any{"email": email, "password": "slow-pass-123", "passwordConfirm": "slow-pass-123"}}
	}
	s := apitest.ApiScenario{
		Method: http.MethodPost, URL: "/api/batch",
		Body: batchBody(t, requests...), Headers: rwHeaders(""),
		TestAppFactory: func(t testing.TB) *core.App {
			app := batchApp(50, 1, 0, nil)(t)
			// a high bcrypt cost makes each create slow on any machine
			execSQL(t, app, "UPDATE _collections SET fields = json_replace(fields, '$[1].cost', 13) WHERE name = 'users'")
			if _, err := app.ReloadCachedCollections(t.Context()); err != nil {
				t.Fatal(err)
			}
			return app
		},
		ExpectedStatus: 400,
		ExpectedBody:   rwErr(400, "Batch transaction failed.", "{}"),
		AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
			if n := rwCount(t, app, "users", "email LIKE ?", "slow%"); n != 0 {
				t.Errorf("%d users stored", n)
			}
		},
	}
	s.Test(t)
}

// TestBatchRealtime checks what a realtime subscriber sees: nothing from a batch that
// rolls back, and each change of a committed batch, in order.
func TestBatchRealtime(t *testing.T) {
	tok := newTokens(t)
	app := batchApp(10, 3, 0, nil)(t)
	srv := httptest.NewServer(httpapi.NewRouter(app))
	defer srv.Close()
	defer app.Terminate()

	stream := openRealtime(t, t.Context(), srv.URL)
	id := stream.next(t).ID
	postSubscriptions(t, srv.URL, id, "", "tags/*")

	send := func(body *bytes.Reader) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api/batch", body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", tok.admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	failed := batchBody(t,
		map[string]any{"method": "POST", "url": "/api/collections/tags/records", "body": map[string]any{"label": "rt-rolled-back"}},
		map[string]any{"method": "DELETE", "url": "/api/collections/tags/records/missingmissing1"},
	)
	if code := send(failed); code != http.StatusBadRequest {
		t.Fatalf("failing batch = %d", code)
	}
	ok := batchBody(t,
		map[string]any{"method": "POST", "url": "/api/collections/tags/records", "body": map[string]any{"id": newTagID, "label": "rt-1"}},
		map[string]any{"method": "PATCH", "url": "/api/collections/tags/records/" + newTagID, "body": map[string]any{"label": "rt-2"}},
	)
	if code := send(ok); code != http.StatusOK {
		t.Fatalf("batch = %d", code)
	}

	// the first event is the committed batch's create: the rolled-back one sent none
	for _, want := range []string{`"label":"rt-1"},"action":"create"}`, `"label":"rt-2"},"action":"update"}`} {
		ev := stream.next(t)
		if ev.Event != "tags/*" || !strings.Contains(ev.Data, want) {
			t.Fatalf("event = %+v, want one containing %s", ev, want)
		}
	}
}

// redPNG is a real 2x2 PNG image.
func redPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	draw.Draw(img, img.Bounds(), &image.Uniform{C: color.RGBA{R: 255, A: 255}}, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// storedFiles counts the files under the app's storage/ whose names start with prefix
// (sidecars and thumbs left out).
func storedFiles(t testing.TB, app *core.App, prefix string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(app.DataDir(), "storage"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), prefix) && !strings.HasSuffix(d.Name(), ".attrs") &&
			!strings.Contains(p, "thumbs_") {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
