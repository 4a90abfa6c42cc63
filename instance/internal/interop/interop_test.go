// Package interop moves one data directory back and forth between our instance and stock
// PocketBase v0.40.4, the promise that lets a team move in and out: the directory
// PocketBase wrote (the shared fixture) is served and changed by our instance, then served
// by PocketBase, changed there, and served by ours again. At every hand-over the same
// requests must get the same answers from both (records, collections, settings, files and
// the sizes of their thumbs), each side's accounts must log in on the other, and a session
// token issued by one must still be valid on the other.
//
// PocketBase is built from the Go module proxy by hack/pocketbase.sh; `make test` passes
// its path in POCKETFLEET_POCKETBASE.
package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
)

// The fixture's accounts (its README).
const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin-pass-123"
	aliceEmail    = "alice@example.com"
	alicePassword = "alice-pass-123"
)

// pocketbaseEnv names the stock PocketBase binary.
const pocketbaseEnv = "POCKETFLEET_POCKETBASE"

func pocketbaseBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(pocketbaseEnv)
	if bin == "" {
		t.Fatalf("%s is not set: run `make test`, or set it to the output of hack/pocketbase.sh", pocketbaseEnv)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: %v", pocketbaseEnv, err)
	}
	return bin
}

// buildInstance returns our instance binary, built once for all the tests of the run
// into binDir.
func buildInstance(t *testing.T) string {
	t.Helper()
	bin, err := instanceBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// binDir holds the binaries the tests build; TestMain removes it.
var binDir string

var instanceBinary = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(binDir, "instance")
	out, err := exec.Command("go", "build", "-tags", "nomsgpack", "-o", bin, "github.com/pocketfleet/pocketfleet/instance").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building the instance: %w\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "interop-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running instance or PocketBase process serving a data directory.
type server struct {
	name string
	url  string
	cmd  *exec.Cmd
	out  *apitest.SyncBuffer
	done chan struct{}
}

// start serves dir with bin on a free loopback port and waits for /api/health.
func start(t *testing.T, name, bin, dir string) *server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()

	s := &server{name: name, url: "http://" + addr, out: &apitest.SyncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve", "--http", addr, "--dir", dir)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-s.done:
			t.Fatalf("%s exited before serving:\n%s", name, s.out)
		default:
		}
		if res, err := http.Get(s.url + "/api/health"); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
	}
	t.Fatalf("%s did not become healthy:\n%s", name, s.out)
	return nil
}

// stop interrupts the server and waits for it to exit, as an operator's rollout would.
func (s *server) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not stop on SIGINT:\n%s", s.name, s.out)
	}
}

// do sends a request and returns the status and body. body is JSON-encoded unless it is
// a *multipartBody.
func (s *server) do(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case *multipartBody:
		r, contentType = bytes.NewReader(b.buf.Bytes()), b.w.FormDataContentType()
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s %s: %v", s.name, method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, raw
}

// must sends a request that has to answer want and decodes the JSON answer into out.
func (s *server) must(t *testing.T, want int, method, path, token string, body, out any) {
	t.Helper()
	status, raw := s.do(t, method, path, token, body)
	if status != want {
		t.Fatalf("%s: %s %s = %d, want %d: %s", s.name, method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %s %s: decoding %s: %v", s.name, method, path, raw, err)
		}
	}
}

// login authenticates with a password and returns the token.
func (s *server) login(t *testing.T, collection, identity, password string) string {
	t.Helper()
	var auth struct {
		Token  string         `json:"token"`
		Record map[string]any `json:"record"`
	}
	s.must(t, http.StatusOK, http.MethodPost, "/api/collections/"+collection+"/auth-with-password", "",
		map[string]string{"identity": identity, "password": password}, &auth)
	if auth.Token == "" || auth.Record["email"] != identity {
		t.Fatalf("%s: login of %s answered %+v", s.name, identity, auth)
	}
	return auth.Token
}

// refresh checks that token is still a valid session: auth-refresh answers 200 with the
// same record.
func (s *server) refresh(t *testing.T, collection, token string) {
	t.Helper()
	var auth struct {
		Token  string         `json:"token"`
		Record map[string]any `json:"record"`
	}
	s.must(t, http.StatusOK, http.MethodPost, "/api/collections/"+collection+"/auth-refresh", token, nil, &auth)
	if auth.Token == "" || auth.Record["collectionName"] != collection {
		t.Fatalf("%s: refresh in %s answered %+v", s.name, collection, auth)
	}
}

type multipartBody struct {
	buf bytes.Buffer
	w   *multipart.Writer
}

// form builds a multipart body of fields and files (field name → file name → content).
func form(t *testing.T, fields map[string]string, files map[string]map[string][]byte) *multipartBody {
	t.Helper()
	b := &multipartBody{}
	b.w = multipart.NewWriter(&b.buf)
	for k, v := range fields {
		if err := b.w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for field, byName := range files {
		for name, content := range byName {
			part, err := b.w.CreateFormFile(field, name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = part.Write(content)
		}
	}
	if err := b.w.Close(); err != nil {
		t.Fatal(err)
	}
	return b
}

// snapshot is what a server answers to a fixed set of reads: JSON bodies decoded (so
// key order does not count), file bodies as bytes.
type snapshot map[string]any

// read takes the snapshot: every collection (as a superuser), every collection's records
// (as a superuser, as alice and as a guest), the posts with their expansions, the
// settings, and every file of every record.
func (s *server) read(t *testing.T, su, alice string) snapshot {
	t.Helper()
	snap := snapshot{}
	get := func(key, path, token string) any {
		status, raw := s.do(t, http.MethodGet, path, token, nil)
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: GET %s: %d %s", s.name, path, status, raw)
		}
		snap[key] = map[string]any{"status": status, "body": v}
		return v
	}
	get("settings", "/api/settings", su)
	list := get("collections", "/api/collections?perPage=500&sort=name", su).(map[string]any)
	for _, item := range list["items"].([]any) {
		c := item.(map[string]any)
		name := c["name"].(string)
		if strings.HasPrefix(name, "_") && name != "_superusers" {
			continue // logs of logins and one-time codes, not data a team moves
		}
		path := "/api/collections/" + name + "/records?perPage=500&sort=id"
		records := get("su:"+name, path, su).(map[string]any)
		get("alice:"+name, path, alice)
		get("guest:"+name, path, "")
		for _, r := range records["items"].([]any) {
			s.readFiles(t, snap, c, r.(map[string]any), su)
		}
	}
	get("alice:posts-expand", "/api/collections/posts/records?sort=-views,id&expand=author,tags&perPage=50", alice)
	get("su:posts-backrel", "/api/collections/posts/records?sort=id&expand=comments_via_post&perPage=50", su)
	return snap
}

// readFiles adds the bytes of every file of record r to the snapshot.
func (s *server) readFiles(t *testing.T, snap snapshot, c, r map[string]any, su string) {
	t.Helper()
	var fileToken string
	for _, f := range c["fields"].([]any) {
		field := f.(map[string]any)
		if field["type"] != "file" {
			continue
		}
		var names []string
		switch v := r[field["name"].(string)].(type) {
		case string:
			if v != "" {
				names = append(names, v)
			}
		case []any:
			for _, n := range v {
				names = append(names, n.(string))
			}
		}
		for _, name := range names {
			path := fmt.Sprintf("/api/files/%s/%s/%s", c["name"], r["id"], name)
			if field["protected"] == true {
				if fileToken == "" {
					var tok struct{ Token string }
					s.must(t, http.StatusOK, http.MethodPost, "/api/files/token", su, nil, &tok)
					fileToken = tok.Token
				}
				path += "?token=" + fileToken
			}
			key := "file:" + c["name"].(string) + "/" + r["id"].(string) + "/" + name
			status, raw := s.do(t, http.MethodGet, path, "", nil)
			snap[key] = fmt.Sprintf("%d %x", status, raw)
			// thumbs are encoded by each server's own image library: compare their
			// status, format and size, not their bytes
			thumbs, _ := field["thumbs"].([]any)
			for _, size := range thumbs {
				sep := "?"
				if strings.Contains(path, "?") {
					sep = "&"
				}
				status, raw := s.do(t, http.MethodGet, path+sep+"thumb="+size.(string), "", nil)
				cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
				snap[key+"?thumb="+size.(string)] = fmt.Sprintf("%d %s %dx%d %v", status, format, cfg.Width, cfg.Height, err)
			}
		}
	}
}

// snapshotHas reports whether a file entry of snap starts with prefix.
func snapshotHas(snap snapshot, prefix string) bool {
	for k, v := range snap {
		if s, ok := v.(string); ok && strings.HasPrefix(k, "file:") && strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// compare reports every key on which two snapshots differ.
func compare(t *testing.T, what string, want, got snapshot) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if diff := cmp.Diff(want[k], got[k]); diff != "" {
			t.Errorf("%s: %s differs (-before +after):\n%s", what, k, diff)
		}
	}
}

func TestMoveInAndOut(t *testing.T) {
	pbBin := pocketbaseBin(t)
	ourBin := buildInstance(t)
	dir := apitest.CopyFixture(t)

	// 1. PocketBase's data directory, served and changed by our instance.
	ours := start(t, "instance", ourBin, dir)
	su := ours.login(t, "_superusers", adminEmail, adminPassword)
	alice := ours.login(t, "users", aliceEmail, alicePassword)
	ours.writeSome(t, su, "ours")
	before := ours.read(t, su, alice)
	ours.stop(t)
	// the snapshot has to hold what it is meant to compare, or the comparisons below
	// would pass on nothing
	for _, want := range []string{"200 png 10x10 <nil>", "200 6174746163686d656e74"} {
		if !snapshotHas(before, want) {
			t.Fatalf("the snapshot has no file read as %q", want)
		}
	}

	// 2. Served by PocketBase: same answers, and the account our instance created logs in.
	pb := start(t, "pocketbase", pbBin, dir)
	pb.refresh(t, "users", alice) // a client's session survives the move
	pb.refresh(t, "_superusers", su)
	su = pb.login(t, "_superusers", adminEmail, adminPassword)
	alice = pb.login(t, "users", aliceEmail, alicePassword)
	pb.login(t, "users", "carol-ours@example.com", "carol-pass-123")
	compare(t, "our writes served by PocketBase", before, pb.read(t, su, alice))

	pb.writeSome(t, su, "pb")
	before = pb.read(t, su, alice)
	pb.stop(t)

	// 3. Back in our instance: PocketBase's changes are served the same, its account too.
	ours = start(t, "instance", ourBin, dir)
	ours.refresh(t, "users", alice)
	ours.refresh(t, "_superusers", su)
	su = ours.login(t, "_superusers", adminEmail, adminPassword)
	alice = ours.login(t, "users", aliceEmail, alicePassword)
	ours.login(t, "users", "carol-pb@example.com", "carol-pass-123")
	compare(t, "PocketBase's writes served by our instance", before, ours.read(t, su, alice))
	ours.stop(t)
	if t.Failed() {
		t.Logf("instance output:\n%s", ours.out)
	}
}

// pngImage encodes a w×h PNG image.
func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{R: uint8(x * 5), G: 128, B: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeSome makes the changes a team makes in a day, each server with its own names (tag
// "ours" or "pb"): a new collection of every field type with an index, records in it
// (one with files), a field added to and another renamed in it, a new user, an updated
// post, a deleted comment and a settings change.
func (s *server) writeSome(t *testing.T, su, tag string) {
	t.Helper()
	notes := "notes_" + tag
	var users struct{ ID string }
	s.must(t, http.StatusOK, http.MethodGet, "/api/collections/users", su, nil, &users)
	s.must(t, http.StatusOK, http.MethodPost, "/api/collections", su, map[string]any{
		"name":     notes,
		"type":     "base",
		"listRule": "@request.auth.id != ''",
		"viewRule": "@request.auth.id != ''",
		"fields": []map[string]any{
			{"name": "title", "type": "text", "required": true, "max": 100},
			{"name": "body", "type": "editor"},
			{"name": "rating", "type": "number", "onlyInt": true, "min": 0, "max": 10},
			{"name": "pinned", "type": "bool"},
			{"name": "contact", "type": "email"},
			{"name": "link", "type": "url"},
			{"name": "due", "type": "date"},
			{"name": "labels", "type": "select", "values": []string{"red", "green", "blue"}, "maxSelect": 2},
			{"name": "meta", "type": "json"},
			{"name": "owner", "type": "relation", "collectionId": users.ID, "maxSelect": 1, "cascadeDelete": false},
			{"name": "pictures", "type": "file", "maxSelect": 3, "maxSize": 1 << 20, "mimeTypes": []string{"image/png"}, "thumbs": []string{"10x10"}},
			{"name": "place", "type": "geoPoint"},
			{"name": "created", "type": "autodate", "onCreate": true},
			{"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true},
		},
		"indexes": []string{"CREATE INDEX `idx_" + notes + "_title` ON `" + notes + "` (`title`)"},
	}, nil)

	var alice struct {
		Items []struct{ ID string } `json:"items"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/collections/users/records?filter="+url.QueryEscape("email='"+aliceEmail+"'"), su, nil, &alice)
	for i := range 3 {
		s.must(t, http.StatusOK, http.MethodPost, "/api/collections/"+notes+"/records", su, map[string]any{
			"title": fmt.Sprintf("%s note %d", tag, i), "body": "<p>hello <b>world</b></p>", "rating": i * 3,
			"pinned": i%2 == 0, "contact": "x@example.com", "link": "https://example.com/" + tag,
			"due": "2026-12-0" + fmt.Sprint(i+1) + " 10:00:00.000Z", "labels": []string{"red", "blue"}[:1+i%2],
			"meta": map[string]any{"n": i, "tags": []string{"a", "b"}}, "owner": alice.Items[0].ID,
			"place": map[string]float64{"lon": 23.3 + float64(i), "lat": 42.7},
		}, nil)
	}
	s.must(t, http.StatusOK, http.MethodPost, "/api/collections/"+notes+"/records", su,
		form(t, map[string]string{"title": tag + " with pictures", "rating": "5"},
			map[string]map[string][]byte{"pictures": {"one.png": pngImage(t, 2, 1), "Two Words.png": pngImage(t, 40, 20)}}), nil)

	// schema changes on a collection with data: add a field, rename another
	var c map[string]any
	s.must(t, http.StatusOK, http.MethodGet, "/api/collections/"+notes, su, nil, &c)
	fields := c["fields"].([]any)
	for _, f := range fields {
		if f.(map[string]any)["name"] == "rating" {
			f.(map[string]any)["name"] = "score"
		}
	}
	fields = append(fields, map[string]any{"name": "extra_" + tag, "type": "text"})
	s.must(t, http.StatusOK, http.MethodPatch, "/api/collections/"+notes, su, map[string]any{"fields": fields}, nil)

	s.must(t, http.StatusOK, http.MethodPost, "/api/collections/users/records", su, map[string]any{
		"email": "carol-" + tag + "@example.com", "password": "carol-pass-123", "passwordConfirm": "carol-pass-123",
		"name": "Carol " + tag, "verified": true, "emailVisibility": true,
	}, nil)

	var posts struct {
		Items []struct{ ID string } `json:"items"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/collections/posts/records?sort=id&perPage=2", su, nil, &posts)
	s.must(t, http.StatusOK, http.MethodPatch, "/api/collections/posts/records/"+posts.Items[0].ID, su,
		map[string]any{"views+": 7, "title": "edited by " + tag}, nil)

	var comments struct {
		Items []struct{ ID string } `json:"items"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/collections/comments/records?sort=id&perPage=1", su, nil, &comments)
	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/collections/comments/records/"+comments.Items[0].ID, su, nil, nil)

	s.must(t, http.StatusOK, http.MethodPatch, "/api/settings", su,
		map[string]any{"meta": map[string]any{"appName": "moved by " + tag}}, nil)
}
