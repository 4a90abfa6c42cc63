package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recProbe is one step of TestSameRecordAnswersAsPocketBase: a probe sent to both
// servers, with what the record tests need on top of it.
type recProbe struct {
	probe
	// file: the answer is a file (GET/HEAD /api/files/...): compare its status, its
	// headers and, for images, their format and size instead of their bytes
	file bool
	// header is sent with a file probe (Range)
	header map[string]string
	// save remembers the values of the answer's field save[1] as vars save[0].0, .1, …
	// (each server its own: stored file names carry a random suffix)
	save [2]string
	// hook runs instead of a request, once per server (logins, file tokens)
	hook func(t *testing.T, s *server, vars, tokens map[string]string)
}

// Stored file names are `<name>_<10 random [a-z0-9]><.ext>`, and a name shorter than 3
// characters gets 10 more random characters first (`a` becomes `a<10>_<10>.txt`):
// paddedName and randomSuffix match those random parts, wherever a name appears
// (values, messages, headers).
var (
	paddedName   = regexp.MustCompile(`[a-z0-9]{10}(?:_[a-z0-9]{10})+\b`)
	randomSuffix = regexp.MustCompile(`_[a-z0-9]{10}\b`)
)

// maskName replaces the random parts of the stored file names in s. Collection ids
// (pbc_1125843985), error codes (validation_max_text_constraint) and system
// collection names (_superusers) look alike and are kept.
func maskName(s string) string {
	if strings.HasPrefix(s, "pbc_") || strings.HasPrefix(s, "validation_") || strings.HasPrefix(s, "_") {
		return s
	}
	return randomSuffix.ReplaceAllString(paddedName.ReplaceAllString(s, "<rand>_<rand>"), "_<rand>")
}

// maskFileNames replaces the random parts of every stored file name in v, so that both
// servers' names compare: `hello_2mvosm3ben.txt` becomes `hello_<rand>.txt`.
func maskFileNames(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = maskFileNames(val)
		}
	case []any:
		for i, val := range x {
			x[i] = maskFileNames(val)
		}
	case string:
		return maskName(x)
	}
	return v
}

// substitute replaces every {var} of s by the server's own value.
func substitute(s string, vars map[string]string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// askFile fetches a file and makes its answer comparable: status, headers that matter,
// the image format and size of images, the bytes of the rest.
func (s *server) askFile(t *testing.T, p probe, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), p.method, s.url+p.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %s: %v", s.name, p.name, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	ctype := res.Header.Get("Content-Type")
	head := map[string]any{"Content-Type": ctype}
	for _, h := range []string{"Content-Disposition", "Content-Security-Policy", "Cache-Control", "X-Frame-Options", "Content-Range", "Accept-Ranges"} {
		head[h] = maskName(strings.Trim(strings.TrimPrefix(strings.TrimPrefix(res.Header.Get(h), "inline; filename="), "attachment; filename="), `"`))
		if strings.HasPrefix(res.Header.Get(h), "attachment") {
			head[h] = "attachment " + head[h].(string)
		}
	}
	a := answer{Status: res.StatusCode, Body: head}
	switch {
	case strings.HasPrefix(ctype, "image/") && ctype != "image/svg+xml" && p.method != http.MethodHead:
		cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
		a.Text = fmt.Sprintf("%s %dx%d %v", format, cfg.Width, cfg.Height, err)
	case strings.HasPrefix(ctype, "application/json"):
		var v any
		if err := json.Unmarshal(raw, &v); err == nil {
			head["json"] = v
		}
	default:
		a.Text = string(raw)
	}
	return a
}

// encodedImage encodes a w×h image as "jpeg" or "gif".
func encodedImage(t *testing.T, format string, w, h int) string {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
	for x := range w {
		img.Set(x, x%h, color.RGBA{R: uint8(x * 7), G: 90, B: 30, A: 255})
	}
	var buf bytes.Buffer
	var err error
	if format == "gif" {
		err = gif.Encode(&buf, img, nil)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// part is one part of a multipart body.
type part struct {
	name, file, ctype, value string
}

// mpBody encodes parts with a fixed boundary, so both servers get the same bytes.
func mpBody(t *testing.T, parts ...part) string {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary("drecboundary0123456789"); err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.file == "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.file))
			ct := p.ctype
			if ct == "" {
				ct = "application/octet-stream"
			}
			h.Set("Content-Type", ct)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = pw.Write([]byte(p.value))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

const multipartType = "multipart/form-data; boundary=drecboundary0123456789"

// TestSameRecordAnswersAsPocketBase sends the same record writes (every field type's
// input coercions and validation errors, auth records, multipart bodies and files, file
// downloads and thumbs, deletes with cascades and blocking references, batches) to our
// instance and to stock PocketBase, each serving its own copy of the fixture, and
// requires the same answers (generated ids, times, tokens and random file name suffixes
// masked) with the same key order.
func TestSameRecordAnswersAsPocketBase(t *testing.T) {
	pair := startPair(t)
	ours, pb := pair.ours, pair.pb
	oursTokens, pbTokens := pair.oursTokens, pair.pbTokens
	// the probes' {su}, {alice} and {bob} are the servers' own session tokens
	oursVars, pbVars := maps.Clone(oursTokens), maps.Clone(pbTokens)
	known := pair.known

	n := 0
	for _, p := range recordProbes(t) {
		if p.hook != nil {
			p.hook(t, pb, pbVars, pbTokens)
			p.hook(t, ours, oursVars, oursTokens)
			continue
		}
		n++
		run := func(s *server, vars, tokens map[string]string) answer {
			q := p.probe
			q.path = substitute(q.path, vars)
			if b, ok := q.body.(string); ok {
				q.body = substitute(b, vars)
			} else if q.body != nil {
				raw, err := json.Marshal(q.body)
				if err != nil {
					t.Fatal(err)
				}
				q.body = substitute(string(raw), vars)
			}
			var a answer
			if p.file {
				a = s.askFile(t, q, p.header)
			} else {
				a = s.ask(t, q, tokens, known)
			}
			if p.save[0] != "" {
				if m, ok := a.Body.(map[string]any); ok {
					switch v := m[p.save[1]].(type) {
					case string:
						vars[p.save[0]+".0"] = v
					case []any:
						for i, name := range v {
							vars[fmt.Sprintf("%s.%d", p.save[0], i)] = fmt.Sprint(name)
						}
					}
				}
			}
			a.Body = maskFileNames(a.Body)
			return a
		}
		want := run(pb, pbVars, pbTokens)
		got := run(ours, oursVars, oursTokens)
		if p.shapeOnly {
			want.Body, got.Body = nil, nil
		}
		if p.anyOrder || strings.Contains(p.path, "fields=") {
			// PocketBase's picker and its batch answers re-encode Go maps with
			// encoding/json/v2, whose order is random: there is no key order to match
			want.Keys, got.Keys = "", ""
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: %s %s as %q differs (-pocketbase +ours):\n%s", p.name, p.method, p.path, p.as, diff)
		}
	}
	t.Logf("%d record probes", n)
	if t.Failed() {
		t.Logf("instance output:\n%s", ours.out)
	}
}

// The fixture's tags and one of alice's posts with a cover and an attachment.
const (
	tagGo     = "s2cej12938cf3n3"
	tagK8s    = "1f4pvfozmqdkis3"
	tagSQL    = "4mc6mb7m44flme3"
	alicePost = "hxjy4dmsjikjbj4"
)

// recordProbes are the steps of TestSameRecordAnswersAsPocketBase, in order. Writes
// change both servers' data the same way (every record id is given), so later reads
// see the same state.
func recordProbes(t *testing.T) []recProbe {
	t.Helper()
	var ps []recProbe
	add := func(name, method, path, as string, body ...any) {
		p := recProbe{probe: probe{name: name, method: method, path: path, as: as}}
		if len(body) > 0 {
			p.body = body[0]
		}
		ps = append(ps, p)
	}
	form := func(name, method, path, as string, parts ...part) {
		ps = append(ps, recProbe{probe: probe{name: name, method: method, path: path, as: as, body: mpBody(t, parts...), ctype: multipartType}})
	}
	file := func(name, method, path string) {
		ps = append(ps, recProbe{probe: probe{name: name, method: method, path: path}, file: true})
	}
	saving := func(prefix, field string) { ps[len(ps)-1].save = [2]string{prefix, field} }
	hook := func(f func(t *testing.T, s *server, vars, tokens map[string]string)) {
		ps = append(ps, recProbe{hook: f})
	}
	const (
		post, patch, del, get = http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodGet
		colls                 = "/api/collections"
		all                   = "/api/collections/drec_all/records"
		req                   = "/api/collections/drec_req/records"
		mem                   = "/api/collections/drec_members/records"
		par                   = "/api/collections/drec_parent/records"
		chd                   = "/api/collections/drec_child/records"
		posts                 = "/api/collections/posts/records"
	)
	f := func(id, name, typ string, opts ...any) map[string]any {
		m := map[string]any{"id": id, "name": name, "type": typ}
		for i := 0; i+1 < len(opts); i += 2 {
			m[opts[i].(string)] = opts[i+1]
		}
		return m
	}
	autodates := []map[string]any{
		f("dcreated", "created", "autodate", "onCreate", true),
		f("dupdated", "updated", "autodate", "onCreate", true, "onUpdate", true),
	}

	// collections of this test (their JSON is the collections helper's area: shape only)
	allFields := append([]map[string]any{
		f("dt", "t", "text", "max", 10),
		f("dtp", "tp", "text", "pattern", "^[a-z]+$", "min", 2),
		f("dn", "n", "number", "min", -100, "max", 100),
		f("dni", "ni", "number", "onlyInt", true),
		f("db", "b", "bool"),
		f("de", "e", "email", "onlyDomains", []string{"example.com"}),
		f("du", "u", "url", "exceptDomains", []string{"bad.com"}),
		f("dd", "d", "date", "min", "2000-01-01 00:00:00.000Z", "max", "2100-01-01 00:00:00.000Z"),
		f("ds1", "s1", "select", "values", []string{"a", "b", "c"}, "maxSelect", 1),
		f("dsm", "sm", "select", "values", []string{"a", "b", "c", "d"}, "maxSelect", 3),
		f("dj", "j", "json", "maxSize", 50),
		f("dg", "g", "geoPoint"),
		f("dr1", "r1", "relation", "collectionId", "pbc_1219621782", "maxSelect", 1),
		f("drm", "rm", "relation", "collectionId", "pbc_1219621782", "maxSelect", 2),
		f("df1", "f1", "file", "maxSelect", 1, "maxSize", 100, "mimeTypes", []string{"text/plain"}),
		f("dfm", "fm", "file", "maxSelect", 3, "maxSize", 100000, "thumbs", []string{"20x20", "0x10", "10x0f", "8x8t"}),
		f("dfp", "fp", "file", "maxSelect", 2, "protected", true),
		f("ded", "ed", "editor", "maxSize", 30),
		f("dh", "h", "text", "hidden", true),
	}, autodates...)
	reqFields := append([]map[string]any{
		f("rt", "t", "text", "required", true),
		f("rn", "n", "number", "required", true),
		f("rb", "b", "bool", "required", true),
		f("re", "e", "email", "required", true),
		f("ru", "u", "url", "required", true),
		f("rd", "d", "date", "required", true),
		f("rs1", "s1", "select", "values", []string{"a", "b"}, "maxSelect", 1, "required", true),
		f("rsm", "sm", "select", "values", []string{"a", "b"}, "maxSelect", 2, "required", true),
		f("rj", "j", "json", "required", true),
		f("rg", "g", "geoPoint", "required", true),
		f("rr", "r", "relation", "collectionId", "pbc_1219621782", "maxSelect", 5, "minSelect", 2, "required", true),
		f("rf", "f", "file", "maxSelect", 1, "required", true),
		f("red", "ed", "editor", "required", true),
	}, autodates...)
	anyone := map[string]any{"listRule": "", "createRule": "", "updateRule": "", "deleteRule": "@request.auth.id != ''", "viewRule": "@request.auth.id != ''"}
	with := func(m map[string]any, extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	ps = append(ps,
		recProbe{probe: probe{name: "create drec_all", method: post, path: colls, as: "su", shapeOnly: true,
			body: with(anyone, map[string]any{"id": "pbc_drec_all", "name": "drec_all", "type": "base", "fields": allFields})}},
		recProbe{probe: probe{name: "create drec_req", method: post, path: colls, as: "su", shapeOnly: true,
			body: with(anyone, map[string]any{"id": "pbc_drec_req", "name": "drec_req", "type": "base", "fields": reqFields})}},
		recProbe{probe: probe{name: "create drec_members", method: post, path: colls, as: "su", shapeOnly: true,
			body: map[string]any{"id": "pbc_drec_mem", "name": "drec_members", "type": "auth", "listRule": "", "viewRule": "", "createRule": "",
				"updateRule": "id = @request.auth.id || @request.auth.collectionName = 'users'",
				"deleteRule": "id = @request.auth.id || @request.auth.collectionName = 'users'", "manageRule": "@request.auth.collectionName = 'users'",
				"fields": []map[string]any{f("mnick", "nick", "text")}}}},
		recProbe{probe: probe{name: "create drec_parent", method: post, path: colls, as: "su", shapeOnly: true,
			body: map[string]any{"id": "pbc_drec_par", "name": "drec_parent", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "deleteRule": "",
				"fields": []map[string]any{f("pt", "t", "text")}}}},
		recProbe{probe: probe{name: "create drec_child", method: post, path: colls, as: "su", shapeOnly: true,
			body: map[string]any{"id": "pbc_drec_chd", "name": "drec_child", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "deleteRule": "",
				"fields": []map[string]any{
					f("cp", "p", "relation", "collectionId", "pbc_drec_par", "maxSelect", 1, "required", true),
					f("cpm", "pm", "relation", "collectionId", "pbc_drec_par", "maxSelect", 3),
					f("cpc", "pc", "relation", "collectionId", "pbc_drec_par", "maxSelect", 2, "cascadeDelete", true),
				}}}},
	)

	// value coercions: each body creates one record with an explicit id
	id := 0
	nextID := func() string { id++; return fmt.Sprintf("drecall%08d", id) }
	coercions := []map[string]any{
		// note: a geoPoint object with a coordinate that is not a number is not sent as an
		// object: PocketBase re-encodes it in random key order first (see core.geoPointOf)
		{"t": 123, "n": "12.5", "ni": "7", "b": "true", "e": "a@example.com", "s1": []string{"a", "b"}, "sm": "b", "j": "{\"x\":1}", "g": "{\"lat\":2,\"lon\":\"1.5\"}", "d": "2024-01-02"},
		{"t": true, "n": true, "b": "1", "j": "abc"},
		{"t": 1.5, "n": "abc", "b": 1, "j": []any{1, "2"}},
		{"t": nil, "n": nil, "b": nil, "j": nil, "s1": nil, "sm": nil, "g": nil, "d": nil, "r1": nil, "rm": nil, "e": nil, "u": nil},
		{"t": "", "n": "", "b": "", "j": "", "s1": "", "sm": "", "d": "", "r1": "", "rm": "", "e": "", "u": ""},
		{"b": "0", "n": "-0", "j": true},
		{"b": "false", "n": " 4 ", "j": 1.50},
		{"b": "yes", "n": "1e2", "j": "null"},
		{"b": 0, "n": 1e2, "j": "\"quoted\""},
		{"b": []any{true}, "n": []any{1}, "t": []any{"a"}},
		{"t": map[string]any{"a": 1}, "j": map[string]any{"b": []any{1, 2}, "a": nil}},
		{"d": "2024-01-02 03:04:05"},
		{"d": "2024-01-02T03:04:05Z"},
		{"d": "2024-01-02T03:04:05.123+02:00"},
		{"d": "2024-01-02 03:04:05.123Z"},
		{"d": 1700000000},
		{"d": "1700000000"},
		{"d": "nope"},
		{"d": "2024-13-45"},
		{"d": "1999-12-31 23:59:59.999Z"},
		{"d": "2100-01-01 00:00:00.001Z"},
		{"g": "{\"lon\":1,\"lat\":2}"},
		{"g": map[string]any{"lon": 1}},
		{"g": map[string]any{"lat": 100, "lon": 0}},
		{"g": map[string]any{"lat": 0, "lon": -181}},
		{"g": map[string]any{"lat": 1, "lon": 2, "x": "y"}},
		{"g": []any{1, 2}},
		{"g": "nope"},
		{"g": "{\"lon\":\"x\",\"lat\":1}"},
		{"sm": []string{"a", "a", "b"}},
		{"sm": []string{"a", "b", "c", "d"}},
		{"sm": []string{"x"}},
		{"sm": []string{}},
		{"sm": "a,b"},
		{"s1": "x"},
		{"s1": []string{"a", "c"}},
		{"s1": []string{}},
		{"r1": tagGo, "rm": []string{tagGo, tagGo, tagK8s}},
		{"r1": []string{tagGo, tagK8s}},
		{"r1": "nope"},
		{"rm": []string{tagGo, tagK8s, tagSQL}},
		{"rm": tagSQL},
		{"rm": []string{"nope", tagGo}},
		{"e": "nope"},
		{"e": "x@other.com"},
		{"e": "X@Example.com"},
		{"u": "nope"},
		{"u": "http://bad.com/x"},
		{"u": "ftp://example.com/x"},
		{"u": "https://sub.bad.com"},
		{"t": "01234567890"},
		{"t": "ünïcödé✓✓✓✓"},
		{"t": "ünïcödé✓✓✓✓✓"},
		{"tp": "A"},
		{"tp": "ab1"},
		{"tp": "abc"},
		{"tp": "a"},
		{"ed": "<p>0123456789012345678901234567890</p>"},
		{"ed": 5},
		{"ni": 1.5},
		{"ni": "2.0"},
		{"n": 101},
		{"n": -100.5},
		{"n": 100},
		{"j": "{\"toolong\":\"0123456789012345678901234567890123456789\"}"},
		{"j": "{broken"},
		{"j": map[string]any{"toolong": "0123456789012345678901234567890123456789"}},
		{"nope": 1, "t": "unknown"},
		{"t": "many", "n": 101, "ni": 1.5, "e": "nope", "u": "nope", "s1": "x", "sm": []string{"x"}, "r1": "nope", "g": map[string]any{"lat": 100}, "tp": "A", "ed": "0123456789012345678901234567890123"},
		{"created": "2020-01-01 00:00:00.000Z", "updated": "2020-01-01 00:00:00.000Z", "t": "autodate"},
		{"collectionId": "x", "collectionName": "y", "expand": map[string]any{"a": 1}, "t": "meta"},
		{"f1": "nope.txt", "fm": []string{"a.png"}},
		{"f1": nil, "fm": nil},
		{"n": "NaN"},
		{"n": "Inf"},
		{"n": "-Infinity"},
		{"n": "0x10"},
		{"n": "1_000"},
		{"n": 9007199254740993},
		{"n": "1e400"},
		{"ni": 12345678901234567890.0},
		{"b": "TRUE"},
		{"b": "t"},
		{"b": "on"},
		{"b": 2},
		{"b": 0.5},
		{"d": "2024-01-02T03:04:05"},
		{"d": "2024-01-02 03:04"},
		{"d": "2024-01-02T03:04:05.123456789Z"},
		{"d": " 2024-01-02 "},
		{"d": 0},
		{"d": "20240102"},
		{"d": "2024-01-02T03:04:05+05:30"},
		{"d": "Tue, 02 Jan 2024 03:04:05 GMT"},
		{"t": 1e21},
		{"t": 0.30000000000000004},
		{"t": 100000},
		{"t": json.Number("-0")},
		{"t": []any{1, 2}},
		{"j": 12345678901234567890.0},
		{"j": "  {\"a\" : 1 }  "},
		{"j": "[1, 2, 3]"},
		{"j": "'single'"},
		{"j": " true"},
		{"s1": "A"},
		{"s1": " a"},
		{"sm": []any{"a", 1, nil, true}},
		{"u": "HTTP://EXAMPLE.COM"},
		{"u": "https://example.com:99999"},
		{"u": "example.com"},
		{"u": "mailto:a@example.com"},
		{"e": "a@b"},
		{"e": "Alice <a@example.com>"},
		{"e": "a@EXAMPLE.COM"},
		{"e": " a@example.com"},
		{"ed": "<script>alert(1)</script>"},
		{"r1": " " + tagGo},
		{"rm": tagGo + "," + tagK8s},
		{"rm": []any{tagGo, nil, ""}},
		{"g": map[string]any{"lon": nil, "lat": 3}},
		{"g": "{\"lon\":null,\"lat\":true}"},
		{"g": map[string]any{"lon": 1, "lat": 2, "alt": 3}},
		{"g": "{\"lon\":1,\"lat\":2,\"lon\":3}"},
		{"g": map[string]any{"lon": json.Number("1e400")}},
		{"n": json.Number("1e400")},
		{"n": json.Number("-0")},
		{"tp": ""},
		{"tp": nil},
		{"g": "{\"lon\":1,\"lat\":"},
		{"g": "{\"lon\":1,\"lat\":2}garbage"},
		{"g": "{\"lat\":1,\"lon\":\"2\",\"lat\":3}"},
		{"u": "http://localhost:8090/x"},
		{"u": "http://127.0.0.1/x"},
		{"u": "http://[::1]:80/"},
		{"u": "http://under_score.example.com"},
		{"u": "https://example.com./x"},
		{"u": "https://bücher.example/x"},
		{"u": "/relative/path"},
		{"u": "a.b"},
		{"u": "x:80"},
		{"u": "https://user:pass@example.com/x?q=1#f"},
		{"u": "wss://example.com"},
		{"u": "javascript:alert(1)"},
		{"u": "https://-bad-.example.com"},
		{"u": "https://example"},
	}
	for i, body := range coercions {
		b := with(body, map[string]any{"id": nextID()})
		add(fmt.Sprintf("coerce %d as su", i), post, all, "su", b)
		// the same body as a guest, with its own id
		b = with(body, map[string]any{"id": nextID()})
		add(fmt.Sprintf("coerce %d as guest", i), post, all, "", b)
	}
	add("hidden by su", post, all, "su", map[string]any{"id": "drechidden00001", "h": "hidden value", "t": "hid"})
	add("hidden by guest", post, all, "", map[string]any{"id": "drechidden00002", "h": "hidden value", "t": "hid"})
	add("hidden by guest, view", get, all+"/drechidden00002", "su", nil)
	// view one as guest, as a user and as the superuser (hidden field)
	for _, as := range []string{"", "alice", "su"} {
		add("view coerced "+as, get, all+"/drecall00000001", as)
		add("view hidden "+as, get, all+"/drechidden00001", as)
	}
	add("list coerced", get, all+"?perPage=200&sort=id", "su")
	add("list coerced as guest", get, all+"?perPage=200&sort=id", "")

	// id rules
	for i, v := range []any{"", "short", "UPPERCASEIDXXXX", "has-dash0000000", "drecall000000001", 123456789012345, "drecall00000001", "_pb_users_auth_"} {
		add(fmt.Sprintf("id rule %d", i), post, all, "su", map[string]any{"id": v, "t": "id"})
	}
	add("id on a view", get, "/api/collections/post_stats/records/"+alicePost, "")
	add("update change id", patch, all+"/drecall00000001", "su", map[string]any{"id": "drecallchanged1"})
	add("update same id", patch, all+"/drecall00000001", "su", map[string]any{"id": "drecall00000001", "t": "same id"})

	// required fields
	add("required, empty", post, req, "su", map[string]any{})
	add("required, zeros", post, req, "su", map[string]any{"t": "", "n": 0, "b": false, "e": "", "u": "", "d": "", "s1": "", "sm": []string{},
		"j": nil, "g": map[string]any{"lon": 0, "lat": 0}, "r": []string{}, "ed": ""})
	add("required, min select", post, req, "su", map[string]any{"t": "x", "n": 1, "b": true, "e": "a@b.co", "u": "https://x.io", "d": "2024-01-01",
		"s1": "a", "sm": "a", "j": 0, "g": map[string]any{"lon": 1, "lat": 0}, "r": []string{tagGo}, "ed": "x"})
	add("required, json false", post, req, "su", map[string]any{"j": false})
	add("required, json empty string", post, req, "su", map[string]any{"j": ""})
	add("required, json empty array", post, req, "su", map[string]any{"j": []any{}})
	add("required, json empty object", post, req, "su", map[string]any{"j": map[string]any{}})
	form("required, multipart", post, req, "su",
		part{name: "t", value: "x"}, part{name: "n", value: "1"}, part{name: "b", value: "true"}, part{name: "e", value: "a@b.co"},
		part{name: "u", value: "https://x.io"}, part{name: "d", value: "2024-01-01"}, part{name: "s1", value: "a"}, part{name: "sm", value: "a"},
		part{name: "sm", value: "b"}, part{name: "j", value: "0"}, part{name: "g", value: `{"lon":1,"lat":1}`}, part{name: "r", value: tagGo},
		part{name: "r", value: tagK8s}, part{name: "ed", value: "x"}, part{name: "id", value: "drecreq00000001"},
		part{name: "f", file: "req.txt", ctype: "text/plain", value: "required file"})
	saving("req", "f")
	add("required, clear file", patch, req+"/drecreq00000001", "su", map[string]any{"f": nil})
	add("required, delete file", patch, req+"/drecreq00000001", "su", map[string]any{"f-": "{req.0}"})
	add("required, unset", patch, req+"/drecreq00000001", "su", map[string]any{"t": "", "n": 0, "b": false, "r-": []string{tagGo}})

	// modifiers
	base := "drecall00000001"
	add("modifier setup", patch, all+"/"+base, "su", map[string]any{"n": 10, "sm": []string{"a"}, "rm": []string{tagGo}, "s1": "a", "r1": tagGo})
	for i, body := range []map[string]any{
		{"n+": 5},
		{"n-": "2"},
		{"n+": "x"},
		{"n+": 200},
		{"n": 5, "n+": 2},
		{"n+": 2, "n": 5},
		{"ni+": 1.5},
		{"+sm": "c"},
		{"sm+": []string{"d"}},
		{"sm-": []string{"a"}},
		// note: not {"sm+": …, "sm-": …}: PocketBase applies the keys by length, and
		// keys of the same length in random (map) order
		{"sm": []string{"a", "b"}, "sm-": "a"},
		{"sm+": []string{"a", "b", "c"}},
		{"sm-": "nope"},
		{"s1+": "b"},
		{"s1-": "b"},
		{"+s1": "c"},
		{"rm+": tagK8s},
		{"rm+": tagSQL},
		{"rm-": []string{tagGo, tagK8s}},
		{"+rm": []string{tagSQL, tagGo}},
		{"r1-": tagGo},
		{"r1+": "nope"},
		{"t+": "x", "t-": "y", "+t": "z"},
		{"b+": true},
		{"j+": 1},
		{"g+": map[string]any{"lon": 1}},
		{"d+": 1},
		{"fm-": "nope.png"},
		{"nope+": 1},
		{"n+": nil},
		{"sm+": nil},
	} {
		add(fmt.Sprintf("modifier %d", i), patch, all+"/"+base, "su", body)
	}
	add("modifier as guest", patch, all+"/"+base, "", map[string]any{"n-": 1, "h": "set by guest"})
	add("hidden set by su", patch, all+"/"+base, "su", map[string]any{"h": "set by su"})
	add("hidden filter by guest", get, all+"?filter="+q("h = 'set by su'"), "")
	add("update unknown record", patch, all+"/drecallnope0000", "su", map[string]any{"t": "x"})
	add("update malformed", patch, all+"/"+base, "su", "{")
	add("update array", patch, all+"/"+base, "su", "[1]")
	add("update empty", patch, all+"/"+base, "su", map[string]any{})
	add("update wrong content type", patch, all+"/"+base, "su", "t=x")
	ps[len(ps)-1].ctype = "text/plain"
	ps = append(ps, recProbe{probe: probe{name: "update urlencoded", method: patch, path: all + "/" + base, as: "su",
		body: "t=urlenc&n=7&sm=a&sm=b&j=%7B%22a%22%3A1%7D&g=%7B%22lon%22%3A3%2C%22lat%22%3A4%7D&b=on", ctype: "application/x-www-form-urlencoded"}})

	// raw bodies: how each server reads JSON, content types
	raw := func(name, body, ctype string) {
		ps = append(ps, recProbe{probe: probe{name: name, method: post, path: all, as: "su", body: body, ctype: ctype}})
	}
	raw("raw duplicate keys", `{"id":"drecraw00000001","t":"a","t":"b"}`, "")
	raw("raw invalid utf-8", "{\"id\":\"drecraw00000002\",\"t\":\"a\xffb\"}", "")
	raw("raw trailing garbage", `{"id":"drecraw00000003","t":"a"} x`, "")
	raw("raw two objects", `{"id":"drecraw00000004","t":"a"}{"t":"b"}`, "")
	raw("raw null", `null`, "")
	raw("raw string", `"x"`, "")
	raw("raw empty", ``, "")
	raw("raw whitespace", `  `, "")
	raw("raw charset", `{"id":"drecraw00000005","t":"cs"}`, "application/json; charset=utf-8")
	raw("raw upper-case type", `{"id":"drecraw00000006","t":"uc"}`, "APPLICATION/JSON")
	raw("raw text/json", `{"id":"drecraw00000007","t":"tj"}`, "text/json")
	raw("raw vendor json", `{"id":"drecraw00000008","t":"vj"}`, "application/vnd.api+json")
	raw("raw urlencoded json payload", "@jsonPayload="+url.QueryEscape(`{"id":"drecraw00000009","t":"up"}`)+"&n=4", "application/x-www-form-urlencoded")
	raw("raw urlencoded arrays", "id=drecraw00000010&sm=a&sm=b&sm%2B=c&rm="+tagGo, "application/x-www-form-urlencoded")
	raw("raw big integer in json", `{"id":"drecraw00000021","j":12345678901234567890,"n":9007199254740993}`, "")
	raw("raw nested duplicate keys", `{"id":"drecraw00000022","j":{"a":1,"a":2}}`, "")
	raw("raw escaped duplicate keys", `{"id":"drecraw00000023","t":"a","\u0074":"b"}`, "")
	raw("raw lone surrogate", `{"id":"drecraw00000024","t":"\ud800"}`, "")
	raw("raw number then garbage", `5x`, "")
	form("multipart payload with duplicate keys", post, all, "su", part{name: "@jsonPayload", value: `{"id":"drecraw00000025","t":"a","t":"b"}`})
	form("multipart payload with trailing data", post, all, "su", part{name: "@jsonPayload", value: `{"id":"drecraw00000026"} x`})
	raw("raw deep nesting", strings.Repeat("[", 10001)+strings.Repeat("]", 10001), "")
	raw("raw escaped key", `{"id":"drecraw00000011","\u0074":"escaped key"}`, "")
	raw("raw case of keys", `{"id":"drecraw00000012","T":"upper key","N":5}`, "")
	ps = append(ps,
		recProbe{probe: probe{name: "urlencoded with query values", method: post, path: all + "?t=fromquery&n=3&sm=c", as: "su",
			body: "id=drecraw00000015&sm=a", ctype: "application/x-www-form-urlencoded"}},
		recProbe{probe: probe{name: "multipart with query values", method: post, path: all + "?t=fromquery&n=3&sm=c&expand=rm", as: "su",
			body: mpBody(t, part{name: "id", value: "drecraw00000016"}, part{name: "sm", value: "a"}), ctype: multipartType}},
		recProbe{probe: probe{name: "json with query values", method: post, path: all + "?t=fromquery", as: "su",
			body: map[string]any{"id": "drecraw00000017"}}},
		recProbe{probe: probe{name: "upper-case multipart type", method: post, path: all, as: "su",
			body: mpBody(t, part{name: "id", value: "drecraw00000018"}), ctype: strings.ToUpper(multipartType)}},
		recProbe{probe: probe{name: "json type with bad params", method: post, path: all, as: "su",
			body: `{"id":"drecraw00000019"}`, ctype: "application/json; =bad"}},
		recProbe{probe: probe{name: "json-ish type", method: post, path: all, as: "su",
			body: `{"id":"drecraw00000020"}`, ctype: "application/jsonx"}},
		recProbe{probe: probe{name: "xml", method: post, path: all, as: "su",
			body: `<a><t>x</t></a>`, ctype: "application/xml"}},
	)
	form("multipart payload not an object", post, all, "su", part{name: "@jsonPayload", value: "[1]"})
	form("multipart bracket names", post, all, "su", part{name: "id", value: "drecraw00000013"}, part{name: "sm[]", value: "a"}, part{name: "sm", value: "b"})
	form("multipart empty value", post, all, "su", part{name: "id", value: "drecraw00000014"}, part{name: "n", value: ""}, part{name: "b", value: ""},
		part{name: "sm", value: ""}, part{name: "j", value: ""}, part{name: "g", value: ""}, part{name: "d", value: ""})
	ps = append(ps, recProbe{probe: probe{name: "multipart without boundary", method: post, path: all, as: "su", body: "x", ctype: "multipart/form-data"}})
	ps = append(ps, recProbe{probe: probe{name: "multipart broken", method: post, path: all, as: "su", body: "--drecboundary0123456789\r\nbroken", ctype: multipartType}})

	// which check comes first
	for _, c := range []struct{ name, method, path, as string }{
		{"malformed on a view", post, "/api/collections/post_stats/records", "su"},
		{"malformed on a superuser-only create", post, "/api/collections/tags/records", "alice"},
		{"malformed on a superuser-only update", patch, "/api/collections/tags/records/" + tagGo, "alice"},
		{"malformed on a superuser-only update of a missing record", patch, "/api/collections/tags/records/nopenopenopenop", "alice"},
		{"malformed on a superuser-only delete", del, "/api/collections/tags/records/" + tagGo, "alice"},
		{"malformed update of a missing record", patch, all + "/nopenopenopenop", "su"},
		{"malformed delete of a missing record", del, all + "/nopenopenopenop", "su"},
		{"malformed on a missing collection", post, "/api/collections/nope/records", "su"},
		{"malformed update of a hidden record", patch, posts + "/qtb81lm075pd3no", "alice"},
	} {
		add(c.name, c.method, c.path, c.as, "{")
		add(c.name+" (wrong type)", c.method, c.path, c.as, "x")
		ps[len(ps)-1].ctype = "text/plain"
	}

	// expand and fields on write responses
	add("create with expand", post, all+"?expand=r1,rm", "su", map[string]any{"id": "drecexpand00001", "r1": tagGo, "rm": []string{tagK8s, tagSQL}})
	add("create with fields", post, all+"?expand=rm&fields=id,rm,expand.rm.label", "su", map[string]any{"id": "drecexpand00002", "rm": []string{tagK8s}})
	add("update with expand", patch, all+"/drecexpand00001?expand=r1", "su", map[string]any{"r1": tagSQL})
	add("update with bad expand", patch, all+"/drecexpand00001?expand=nope", "su", map[string]any{"t": "x"})
	add("update with excerpt", patch, all+"/drecexpand00001?fields=ed:excerpt(5,true)", "su", map[string]any{"ed": "<p>hello world</p>"})
	add("create failing with expand", post, all+"?expand=r1", "su", map[string]any{"id": "drecexpand00003", "r1": "nope"})
	add("create post with expand", post, posts+"?expand=author,tags", "alice", map[string]any{"id": "drecpost0000001", "title": "With expand",
		"author": aliceID, "tags": []string{tagGo}})
	add("update post with back-relation expand", patch, posts+"/"+alicePost+"?expand=comments_via_post&fields=id,expand.comments_via_post.id", "alice", map[string]any{"views+": 1})
	add("post update, author hidden from rule", patch, posts+"/drecpost0000001?expand=author", "alice", map[string]any{"author": bobID})

	// multipart bodies and files
	png1, png2 := string(pngImage(t, 40, 20)), string(pngImage(t, 12, 30))
	form("multipart create", post, all, "su",
		part{name: "id", value: "drecfile0000001"}, part{name: "t", value: "form"}, part{name: "n", value: "5"}, part{name: "b", value: "true"},
		part{name: "sm", value: "a"}, part{name: "sm", value: "b"}, part{name: "j", value: `{"a":1}`}, part{name: "g", value: `{"lon":1,"lat":2}`},
		part{name: "d", value: "2024-05-06 07:08:09"}, part{name: "rm", value: tagGo},
		part{name: "fm", file: "one.png", ctype: "image/png", value: png1}, part{name: "fm", file: "Two Words.PNG", ctype: "image/png", value: png2},
		part{name: "f1", file: "hello.txt", ctype: "text/plain", value: "hello"},
		part{name: "fp", file: "secret.txt", ctype: "text/plain", value: "secret"})
	saving("ff", "fm")
	for i, v := range []string{"j", "abc", "true", "null", "12", `"q"`, "[1,2", ""} {
		form(fmt.Sprintf("multipart json %d", i), post, all, "su", part{name: "id", value: fmt.Sprintf("drecjson%07d", i)}, part{name: "j", value: v})
	}
	form("multipart json payload", post, all, "su", part{name: "@jsonPayload", value: `{"id":"drecfile0000002","t":"payload","sm":["c"],"n":3}`},
		part{name: "t", value: "field"}, part{name: "f1", file: "p.txt", ctype: "text/plain", value: "payload"})
	form("multipart json payload broken", post, all, "su", part{name: "@jsonPayload", value: `{"id":`})
	form("multipart two payloads", post, all, "su", part{name: "@jsonPayload", value: `{"id":"drecfile0000003","t":"one"}`},
		part{name: "@jsonPayload", value: `{"n":4}`})
	form("multipart wrong mime", post, all, "su", part{name: "f1", file: "x.txt", ctype: "text/plain", value: png1})
	form("multipart too large", post, all, "su", part{name: "f1", file: "big.txt", ctype: "text/plain", value: strings.Repeat("x", 101)})
	form("multipart too many", post, all, "su",
		part{name: "fm", file: "a.png", value: png1}, part{name: "fm", file: "b.png", value: png1},
		part{name: "fm", file: "c.png", value: png1}, part{name: "fm", file: "d.png", value: png1})
	form("multipart two files in a single field", post, all, "su",
		part{name: "id", value: "drecfile0000004"}, part{name: "f1", file: "a.txt", value: "a"}, part{name: "f1", file: "b.txt", value: "b"})
	form("multipart unknown file field", post, all, "su", part{name: "id", value: "drecfile0000005"}, part{name: "nope", file: "a.txt", value: "a"},
		part{name: "t", file: "t.txt", value: "t as a file"})
	form("multipart names", post, all, "su", part{name: "id", value: "drecfile0000006"},
		part{name: "fm", file: "My File (1).Final.PNG", value: png1}, part{name: "fm", file: "../../etc/passwd.png", value: png2},
		part{name: "fm", file: "x.png", value: png1})
	saving("names", "fm")
	form("multipart more names", post, all, "su", part{name: "id", value: "drecfile0000007"},
		part{name: "fm", file: "ünïcödé файл.png", value: png1}, part{name: "fm", file: strings.Repeat("long", 40) + ".png", value: png2},
		part{name: "fm", file: "noext", value: png1})
	form("multipart name only dots", post, all, "su", part{name: "id", value: "drecfile0000008"},
		part{name: "fm", file: "...", value: png1}, part{name: "fm", file: ".hidden", value: png1}, part{name: "fm", file: "a.tar.gz", value: png1})
	form("multipart empty file", post, all, "su", part{name: "id", value: "drecfile0000009"}, part{name: "fm", file: "empty.png", value: ""})
	form("multipart append", patch, all+"/drecfile0000001", "su", part{name: "fm+", file: "three.png", value: png1})
	saving("ff", "fm")
	form("multipart append too many", patch, all+"/drecfile0000001", "su", part{name: "fm+", file: "four.png", value: png1})
	form("multipart merge", patch, all+"/drecfile0000001", "su", part{name: "fm", value: "{ff.0}"}, part{name: "fm", file: "five.png", value: png2})
	saving("ff", "fm")
	form("multipart replace single", patch, all+"/drecfile0000001", "su", part{name: "f1", file: "again.txt", ctype: "text/plain", value: "again"})
	saving("f1", "f1")
	form("multipart prepend", patch, all+"/drecfile0000006", "su", part{name: "+fm", file: "first.png", value: png1}, part{name: "fm-", value: "{names.0}"},
		part{name: "fm-", value: "{names.1}"})
	saving("names", "fm")
	add("view file record", get, all+"/drecfile0000001", "su")
	saving("ff", "fm")
	add("delete a file by name", patch, all+"/drecfile0000006", "su", map[string]any{"fm-": []string{"{names.0}"}})
	add("delete files by setting []", patch, all+"/drecfile0000006", "su", map[string]any{"fm": []string{}})
	add("keep a subset of files", patch, all+"/drecfile0000001", "su", map[string]any{"fm": []string{"{ff.1}", "{ff.0}"}})
	saving("ff", "fm")
	add("set an unknown file name", patch, all+"/drecfile0000001", "su", map[string]any{"fm": []string{"{ff.0}", "nope.png"}})
	add("clear single file with empty string", patch, all+"/drecfile0000002", "su", map[string]any{"f1": ""})
	add("delete the cover of alice's post", patch, posts+"/"+alicePost, "alice", map[string]any{"cover-": "cover1_92p15tvmg7.png"})

	// files: downloads, thumbs, protected files, HEAD
	fpath := "/api/files/drec_all/drecfile0000001/"
	for _, qs := range []string{"", "?thumb=20x20", "?thumb=0x10", "?thumb=10x0f", "?thumb=8x8t", "?thumb=100x100", "?thumb=30x30", "?thumb=nope",
		"?download=1", "?download=true", "?download=0", "?thumb=20x20&download=1"} {
		file("file "+qs, get, fpath+"{ff.0}"+qs)
	}
	file("file head", http.MethodHead, fpath+"{ff.0}")
	file("file head thumb", http.MethodHead, fpath+"{ff.0}?thumb=20x20")
	file("file by collection id", get, "/api/files/pbc_drec_all/drecfile0000001/{ff.1}?thumb=0x10")
	file("text file", get, fpath+"{f1.0}")
	file("text file thumb", get, fpath+"{f1.0}?thumb=100x100")
	file("text file download", get, fpath+"{f1.0}?download=1")
	file("deleted file", get, fpath+"{names.0}")
	file("file of another record", get, "/api/files/drec_all/drecfile0000002/{ff.0}")
	file("file unknown collection", get, "/api/files/nope/drecfile0000001/{ff.0}")
	file("fixture png", get, "/api/files/posts/lkfm1e29gmk6gfe/cover2_l5d0k3bh8p.png")
	file("fixture png thumb", get, "/api/files/posts/lkfm1e29gmk6gfe/cover2_l5d0k3bh8p.png?thumb=100x100")
	file("fixture deleted cover", get, "/api/files/posts/"+alicePost+"/cover1_92p15tvmg7.png")
	add("protected file name", get, all+"/drecfile0000001?fields=fp", "su")
	saving("fp", "fp")
	file("protected without token", get, fpath+"{fp.0}")
	file("protected bad token", get, fpath+"{fp.0}?token=nope")
	hook(func(t *testing.T, s *server, vars, tokens map[string]string) {
		t.Helper()
		for _, as := range []string{"su", "alice"} {
			var tok struct{ Token string }
			s.must(t, http.StatusOK, http.MethodPost, "/api/files/token", tokens[as], nil, &tok)
			vars["ftoken."+as] = tok.Token
		}
	})
	file("protected with user token", get, fpath+"{fp.0}?token={ftoken.alice}")
	file("protected with su token", get, fpath+"{fp.0}?token={ftoken.su}&download=1")
	file("protected with auth token", get, fpath+"{fp.0}?token={alice}")
	file("protected fixture as alice", get, "/api/files/posts/"+alicePost+"/notes1_ww0dglkzj2.txt?token={ftoken.alice}")
	file("protected fixture of bob as alice", get, "/api/files/posts/lkfm1e29gmk6gfe/notes2_iyjzur0du0.txt?token={ftoken.alice}")
	for _, qs := range []string{"?download=yes", "?download=false", "?download=", "?download=TRUE", "?download=t", "?thumb=20X20", "?thumb=%2020x20",
		"?thumb=20x20&thumb=0x10", "?thumb=020x020", "?thumb=20x20f", "?thumb=0x0"} {
		file("file "+qs, get, fpath+"{ff.0}"+qs)
	}
	// files served through a view collection
	ps = append(ps, recProbe{probe: probe{name: "create drec_fileview", method: post, path: colls, as: "su", shapeOnly: true,
		body: map[string]any{"id": "pbc_drec_fv", "name": "drec_fileview", "type": "view", "listRule": "", "viewRule": "",
			"viewQuery": "SELECT id, fm, fp, f1 FROM drec_all"}}})
	add("view record with files", get, "/api/collections/drec_fileview/records/drecfile0000001", "")
	file("file through a view", get, "/api/files/drec_fileview/drecfile0000001/{ff.0}")
	file("thumb through a view", get, "/api/files/drec_fileview/drecfile0000001/{ff.0}?thumb=20x20")
	file("protected file through a view", get, "/api/files/drec_fileview/drecfile0000001/{fp.0}?token={ftoken.alice}")
	file("protected file through a view without token", get, "/api/files/drec_fileview/drecfile0000001/{fp.0}")
	form("multipart file part without a file name", post, all, "su", part{name: "id", value: "drecnoname00001"}, part{name: "fm", value: "not a file"})
	form("multipart json array of names", post, all, "su", part{name: "id", value: "drecnoname00002"}, part{name: "sm", value: `["a","b"]`},
		part{name: "rm", value: `["` + tagGo + `","` + tagK8s + `"]`})
	add("file token as user", post, "/api/files/token", "alice", nil)
	ps[len(ps)-1].shapeOnly = true

	// auth records
	memUser := func(extra map[string]any) map[string]any {
		return with(map[string]any{"email": "m1@example.com", "password": "member-pass-1", "passwordConfirm": "member-pass-1"}, extra)
	}
	add("member, missing all", post, mem, "", map[string]any{})
	add("member, no confirm", post, mem, "", map[string]any{"email": "m1@example.com", "password": "member-pass-1"})
	add("member, mismatch", post, mem, "", memUser(map[string]any{"passwordConfirm": "x"}))
	add("member, short", post, mem, "", memUser(map[string]any{"password": "short", "passwordConfirm": "short"}))
	add("member, long", post, mem, "", memUser(map[string]any{"password": strings.Repeat("p", 72), "passwordConfirm": strings.Repeat("p", 72)}))
	add("member, bad email", post, mem, "", memUser(map[string]any{"email": "nope"}))
	add("member, verified by guest", post, mem, "", memUser(map[string]any{"verified": true}))
	add("member, tokenKey by guest", post, mem, "", memUser(map[string]any{"id": "drecmember00001", "tokenKey": "x", "emailVisibility": "1", "nick": "m1"}))
	add("member, taken email", post, mem, "", memUser(map[string]any{"id": "drecmember00009"}))
	add("member, id of a user", post, mem, "", memUser(map[string]any{"id": aliceID, "email": "m9@example.com"}))
	add("member, email of a user", post, mem, "", memUser(map[string]any{"id": "drecmember00008", "email": aliceEmail, "nick": "same email as alice"}))
	add("member, verified by manager", post, mem, "alice", memUser(map[string]any{"id": "drecmember00002", "email": "m2@example.com", "verified": true}))
	add("member, tokenKey by su", post, mem, "su", memUser(map[string]any{"id": "drecmember00003", "email": "m3@example.com", "tokenKey": "short"}))
	add("member, tokenKey by su long", post, mem, "su", memUser(map[string]any{"id": "drecmember00003", "email": "m3@example.com", "tokenKey": strings.Repeat("k", 40)}))
	add("member, oldPassword on create", post, mem, "", memUser(map[string]any{"id": "drecmember00004", "email": "m4@example.com", "oldPassword": "x"}))
	add("member, multibyte password over 72 bytes", post, mem, "", memUser(map[string]any{"id": "drecmember00014", "email": "m14@example.com",
		"password": strings.Repeat("é", 40), "passwordConfirm": strings.Repeat("é", 40)}))
	add("member, multibyte password over 72 bytes as su", post, mem, "su", memUser(map[string]any{"id": "drecmember00017", "email": "m17@example.com",
		"password": strings.Repeat("é", 40), "passwordConfirm": strings.Repeat("é", 40)}))
	add("member, multibyte password over 72 bytes, manager", post, mem, "alice", memUser(map[string]any{"id": "drecmember00018", "email": "m18@example.com",
		"password": strings.Repeat("é", 40), "passwordConfirm": strings.Repeat("é", 40)}))
	add("member, multibyte password of 8 runes", post, mem, "", memUser(map[string]any{"id": "drecmember00015", "email": "m15@example.com",
		"password": strings.Repeat("é", 8), "passwordConfirm": strings.Repeat("é", 8)}))
	add("member, password with spaces", post, mem, "", memUser(map[string]any{"id": "drecmember00016", "email": "m16@example.com",
		"password": "        ", "passwordConfirm": "        "}))
	add("member, upper-case taken email", post, mem, "", memUser(map[string]any{"id": "drecmember00010", "email": "M1@EXAMPLE.COM"}))
	add("member, numeric password", post, mem, "", memUser(map[string]any{"id": "drecmember00011", "email": "m11@example.com", "password": 123456789, "passwordConfirm": "123456789"}))
	add("member, email with spaces", post, mem, "", memUser(map[string]any{"id": "drecmember00012", "email": " m12@example.com "}))
	add("member, emailVisibility and verified strings", post, mem, "su", memUser(map[string]any{"id": "drecmember00013", "email": "m13@example.com",
		"emailVisibility": "yes", "verified": "1"}))
	form("member, multipart", post, mem, "", part{name: "id", value: "drecmember00005"}, part{name: "email", value: "m5@example.com"},
		part{name: "password", value: "member-pass-5"}, part{name: "passwordConfirm", value: "member-pass-5"}, part{name: "emailVisibility", value: "false"})
	for _, as := range []string{"", "bob", "alice", "su"} {
		add("view member "+as, get, mem+"/drecmember00001", as)
		add("view hidden-email member "+as, get, mem+"/drecmember00005", as)
		add("list members "+as, get, mem+"?sort=id", as)
	}
	hook(func(t *testing.T, s *server, vars, tokens map[string]string) {
		t.Helper()
		tokens["m1"] = s.login(t, "drec_members", "m1@example.com", "member-pass-1")
		tokens["m5"] = s.login(t, "drec_members", "m5@example.com", "member-pass-5")
	})
	add("member views self", get, mem+"/drecmember00005", "m5")
	add("member views other", get, mem+"/drecmember00002", "m5")
	add("member changes email", patch, mem+"/drecmember00001", "m1", map[string]any{"email": "m1b@example.com"})
	add("member sets verified", patch, mem+"/drecmember00001", "m1", map[string]any{"verified": true})
	add("member sets same verified", patch, mem+"/drecmember00001", "m1", map[string]any{"verified": false, "email": "m1@example.com"})
	add("member password without old", patch, mem+"/drecmember00001", "m1", map[string]any{"password": "member-pass-1b", "passwordConfirm": "member-pass-1b"})
	add("member password wrong old", patch, mem+"/drecmember00001", "m1", map[string]any{"oldPassword": "nope", "password": "member-pass-1b", "passwordConfirm": "member-pass-1b"})
	add("member password mismatch", patch, mem+"/drecmember00001", "m1", map[string]any{"oldPassword": "member-pass-1", "password": "member-pass-1b", "passwordConfirm": "x"})
	add("member password only confirm", patch, mem+"/drecmember00001", "m1", map[string]any{"passwordConfirm": "x"})
	add("member emailVisibility", patch, mem+"/drecmember00001", "m1", map[string]any{"emailVisibility": false, "nick": "own"})
	add("member updates other", patch, mem+"/drecmember00005", "m1", map[string]any{"nick": "other"})
	add("member password", patch, mem+"/drecmember00001", "m1", map[string]any{"oldPassword": "member-pass-1", "password": "member-pass-1b", "passwordConfirm": "member-pass-1b"})
	add("member old token after password change", get, mem+"/drecmember00001", "m1")
	add("manager changes email", patch, mem+"/drecmember00005", "alice", map[string]any{"email": "m5b@example.com", "verified": true})
	add("manager changes password", patch, mem+"/drecmember00005", "alice", map[string]any{"password": "member-pass-5b", "passwordConfirm": "member-pass-5b"})
	add("manager sets a password over 72 bytes", patch, mem+"/drecmember00003", "alice", map[string]any{"password": strings.Repeat("é", 40),
		"passwordConfirm": strings.Repeat("é", 40)})
	add("manager changes tokenKey", patch, mem+"/drecmember00005", "alice", map[string]any{"tokenKey": strings.Repeat("z", 40)})
	add("su changes email to taken", patch, mem+"/drecmember00005", "su", map[string]any{"email": "m2@example.com"})
	add("su sets emailVisibility string", patch, mem+"/drecmember00005", "su", map[string]any{"emailVisibility": "true", "verified": "0"})
	add("member deleted by manager", del, mem+"/drecmember00002", "alice", nil)
	add("member deletes self", del, mem+"/drecmember00005", "m5", nil)
	add("user updates own name", patch, "/api/collections/users/records/"+aliceID, "alice", map[string]any{"name": "Alice B", "verified": true})
	add("user sets tokenKey", patch, "/api/collections/users/records/"+aliceID, "alice", map[string]any{"tokenKey": strings.Repeat("t", 40), "name": "Alice C"})
	add("user after tokenKey", get, "/api/collections/users/records/"+aliceID, "alice")
	add("su changes bob's email", patch, "/api/collections/users/records/"+bobID, "su", map[string]any{"email": "bob2@example.com", "emailVisibility": true})
	form("user avatar wrong type", patch, "/api/collections/users/records/"+aliceID, "alice", part{name: "avatar", file: "a.txt", ctype: "text/plain", value: "text"})
	form("user avatar", patch, "/api/collections/users/records/"+aliceID, "alice", part{name: "avatar", file: "me.png", ctype: "image/png", value: png2})
	form("su avatar svg", patch, "/api/collections/users/records/"+bobID, "su", part{name: "avatar", file: "me.svg", ctype: "image/svg+xml",
		value: `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>`})
	saving("svg", "avatar")
	file("svg file", get, "/api/files/users/"+bobID+"/{svg.0}")
	file("svg thumb", get, "/api/files/users/"+bobID+"/{svg.0}?thumb=100x100")

	// modifiers on create, rules that read the body, autogenerated text
	add("create with modifiers", post, all, "su", map[string]any{"id": "drecmodcreate01", "n+": 5, "n-": 1, "sm+": []string{"a", "b"}, "+sm": "c",
		"rm+": tagGo, "s1+": "b", "fm-": "x.png"})
	add("create with set and modifier", post, all, "su", map[string]any{"id": "drecmodcreate02", "n": 3, "n+": 5, "sm": []string{"d"}, "sm-": "d", "sm+": "a"})
	ps = append(ps, recProbe{probe: probe{name: "create drec_rules", method: post, path: colls, as: "su", shapeOnly: true,
		body: map[string]any{"id": "pbc_drec_rul", "name": "drec_rules", "type": "base", "listRule": "", "viewRule": "",
			"createRule": "@request.body.n > 5 && @request.body.sm:length < 3 && @request.body.a:isset = false",
			"updateRule": "@request.body.t:isset = false && @request.body.n:changed = false && (@request.body.sm:each != 'x')",
			"deleteRule": "@request.query.sure = 'yes'",
			"fields": []map[string]any{
				f("ut", "t", "text"), f("un", "n", "number"), f("usm", "sm", "select", "values", []string{"a", "b", "c", "x"}, "maxSelect", 4),
				f("ua", "a", "text", "autogeneratePattern", "[a-z]{6}", "hidden", true), f("uh", "h", "text", "hidden", true),
			}}}})
	rules := "/api/collections/drec_rules/records"
	for i, body := range []map[string]any{
		{"n": 3},
		{"n": "7"},
		{"n": 7, "sm": []string{"a", "b", "c"}},
		{"n+": 7},
		{"n": 7, "a": "given"},
		{"n": 7, "id": "drecrules000001", "sm": []string{"a"}},
		{"n": 7, "id": "drecrules000002", "h": "hidden by guest"},
	} {
		// note: the autogenerated text "a" is random: hidden, so that guests never see it
		add(fmt.Sprintf("rules create %d", i), post, rules, "", body)
	}
	add("rules view autogenerated", get, rules+"/drecrules000001?fields=id,n,sm", "")
	for i, body := range []map[string]any{
		{"t": "x"},
		{"n": 8},
		{"n": 7, "sm": []string{"b"}},
		{"n+": 0},
		{"n-": 1},
		{"sm+": "x"},
		{"sm": []string{"a", "x"}},
		{"sm+": "c"},
		{},
	} {
		add(fmt.Sprintf("rules update %d", i), patch, rules+"/drecrules000001", "", body)
	}
	add("rules update as su", patch, rules+"/drecrules000001?fields=id,t", "su", map[string]any{"t": "by su"})
	add("rules autogenerate modifier", patch, rules+"/drecrules000001?fields=id", "su", map[string]any{"a:autogenerate": "pre"})
	add("rules autogenerate modifier on a field without a pattern", patch, rules+"/drecrules000001?fields=id,t", "su", map[string]any{"t:autogenerate": "pre"})
	add("rules delete refused", del, rules+"/drecrules000001", "", nil)
	add("rules delete", del, rules+"/drecrules000001?sure=yes", "", nil)
	add("put a record", http.MethodPut, all+"/drecall00000001", "su", map[string]any{})
	add("hidden dropped for a guest update", patch, all+"/drecall00000003", "", map[string]any{"h": "by guest", "t": "guest"})
	add("hidden after guest update", get, all+"/drecall00000003?fields=h,t", "su")

	// superusers
	su := "/api/collections/_superusers/records"
	add("superuser create as guest", post, su, "", map[string]any{"email": "su2@example.com", "password": "su2-pass-1234", "passwordConfirm": "su2-pass-1234"})
	add("superuser create as user", post, su, "alice", map[string]any{"email": "su2@example.com", "password": "su2-pass-1234", "passwordConfirm": "su2-pass-1234"})
	add("superuser create", post, su, "su", map[string]any{"id": "drecsuperuser01", "email": "su2@example.com", "password": "su2-pass-1234",
		"passwordConfirm": "su2-pass-1234", "emailVisibility": false, "verified": false})
	add("superuser view", get, su+"/drecsuperuser01", "su")
	add("superuser password without old", patch, su+"/drecsuperuser01", "su", map[string]any{"password": "su2-pass-5678", "passwordConfirm": "su2-pass-5678"})
	add("superuser delete", del, su+"/drecsuperuser01", "su", nil)

	// more file shapes: jpeg and gif thumbs, ranges, a record deleted with its files
	jpg, gif := encodedImage(t, "jpeg", 30, 16), encodedImage(t, "gif", 16, 30)
	form("jpeg and gif", post, all, "su", part{name: "id", value: "drecimages00001"},
		part{name: "fm", file: "photo.jpg", ctype: "image/jpeg", value: jpg}, part{name: "fm", file: "anim.gif", ctype: "image/gif", value: gif},
		part{name: "fm", file: "photo.jpeg", value: jpg})
	saving("img", "fm")
	ipath := "/api/files/drec_all/drecimages00001/"
	for _, i := range []string{"0", "1", "2"} {
		for _, qs := range []string{"", "?thumb=20x20", "?thumb=0x10", "?thumb=10x0f", "?thumb=8x8t", "?thumb=100x100", "?thumb=20x20b"} {
			file("image "+i+qs, get, ipath+"{img."+i+"}"+qs)
		}
	}
	ps = append(ps,
		recProbe{probe: probe{name: "range", method: get, path: ipath + "{img.0}"}, file: true, header: map[string]string{"Range": "bytes=0-9"}},
		recProbe{probe: probe{name: "range past the end", method: get, path: ipath + "{img.0}"}, file: true, header: map[string]string{"Range": "bytes=99999-"}},
		recProbe{probe: probe{name: "range of a thumb", method: get, path: ipath + "{img.0}?thumb=20x20"}, file: true, header: map[string]string{"Range": "bytes=0-3"}},
	)
	file("head of a missing file", http.MethodHead, ipath+"nope.png")
	add("delete a record with files", del, all+"/drecimages00001", "su", nil)
	file("file of a deleted record", get, ipath+"{img.0}")
	add("view record fields", get, "/api/collections/post_stats/records/lkfm1e29gmk6gfe?fields=id,comments", "")
	add("view record expand", get, "/api/collections/post_stats/records/lkfm1e29gmk6gfe?expand=id", "")

	// content types of downloads, sniffed mime types of uploads
	form("files of many types", post, all, "su", part{name: "id", value: "drectypes000001"},
		part{name: "fm", file: "style.css", ctype: "text/css", value: "body{color:red}"},
		part{name: "fm", file: "app.js", value: "console.log(1)"},
		part{name: "fm", file: "page.html", value: "<html><body>hi</body></html>"})
	saving("types", "fm")
	form("files of more types", post, all, "su", part{name: "id", value: "drectypes000002"},
		part{name: "fm", file: "mod.mjs", value: "export default 1"},
		part{name: "fm", file: "data.json", value: `{"a":1}`},
		part{name: "fm", file: "doc.pdf", value: "%PDF-1.4\n%EOF"})
	saving("types2", "fm")
	for _, i := range []string{"0", "1", "2"} {
		file("type "+i, get, "/api/files/drec_all/drectypes000001/{types."+i+"}")
		file("type2 "+i, get, "/api/files/drec_all/drectypes000002/{types2."+i+"}")
	}
	tiny := string(pngImage(t, 1, 1))
	form("png in a text/plain field", post, all, "su", part{name: "f1", file: "tiny.txt", ctype: "text/plain", value: tiny})
	form("html in a text/plain field", post, all, "su", part{name: "f1", file: "page.txt", ctype: "text/plain", value: "<html><body>x</body></html>"})
	form("text with a charset", post, all, "su", part{name: "id", value: "drectypes000003"}, part{name: "f1", file: "utf.txt", ctype: "text/plain; charset=utf-8", value: "ünïcödé"})

	// expand on writes: what the caller may see
	add("comment on bob's post with expand", post, "/api/collections/comments/records?expand=post,post.author,author", "alice",
		map[string]any{"id": "dreccomment0001", "post": "lkfm1e29gmk6gfe", "author": bobID, "text": "hi"})
	add("comment with fields", post, "/api/collections/comments/records?fields=id,expand.post.title&expand=post", "alice",
		map[string]any{"id": "dreccomment0002", "post": "lkfm1e29gmk6gfe", "text": "hi"})
	add("auth record update with expand and fields", patch, "/api/collections/users/records/"+aliceID+"?fields=id,email,name", "alice", map[string]any{"name": "Alice D"})

	// custom id rules and a view collection with a relation
	ps = append(ps,
		recProbe{probe: probe{name: "create drec_ids", method: post, path: colls, as: "su", shapeOnly: true,
			body: map[string]any{"id": "pbc_drec_ids", "name": "drec_ids", "type": "base", "listRule": "", "viewRule": "", "createRule": "",
				"fields": []map[string]any{
					f("text3208210256", "id", "text", "primaryKey", true, "system", true, "required", true, "min", 3, "max", 20,
						"pattern", "^[a-z_]+$", "autogeneratePattern", "[a-z]{8}"),
					f("idt", "t", "text"),
				}}}},
		recProbe{probe: probe{name: "create drec_view", method: post, path: colls, as: "su", shapeOnly: true,
			body: map[string]any{"id": "pbc_drec_vw", "name": "drec_view", "type": "view", "listRule": "", "viewRule": "",
				"viewQuery": "SELECT c.id, c.post, c.text, c.author FROM comments c"}}},
	)
	ids := "/api/collections/drec_ids/records"
	for i, v := range []any{"ab", "abc", "has_underscore", "UPPER", "waytoolongforthisidfield", "with-dash", "", 12345} {
		add(fmt.Sprintf("custom id %d", i), post, ids, "", map[string]any{"id": v, "t": "x"})
	}
	add("custom id taken", post, ids, "", map[string]any{"id": "abc"})
	add("custom id view", get, ids+"/abc", "")
	view := "/api/collections/drec_view/records"
	add("view with relation expand", get, view+"?sort=id&perPage=3&expand=post,author", "")
	add("view with relation filter", get, view+"?filter="+q("post.title ~ 'number 2'")+"&sort=id&fields=id,post", "")
	add("view record with expand", get, view+"/dreccomment0001?expand=post.author", "alice")
	add("view create", post, view, "su", map[string]any{"text": "x"})

	// unique indexes of every shape
	ps = append(ps, recProbe{probe: probe{name: "create drec_uniq", method: post, path: colls, as: "su", shapeOnly: true,
		body: map[string]any{"id": "pbc_drec_unq", "name": "drec_uniq", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
			"fields": []map[string]any{f("ua", "a", "text"), f("ub", "b", "text"), f("uc", "c", "text"), f("ud", "d", "number"), f("ue", "e", "text")},
			"indexes": []string{
				"CREATE UNIQUE INDEX idx_drec_uniq_a ON drec_uniq (a)",
				"CREATE UNIQUE INDEX idx_drec_uniq_bc ON drec_uniq (b, c)",
				"CREATE UNIQUE INDEX idx_drec_uniq_d ON drec_uniq (d) WHERE d > 0",
				"CREATE UNIQUE INDEX idx_drec_uniq_e ON drec_uniq (e COLLATE NOCASE)",
			}}}})
	uniq := "/api/collections/drec_uniq/records"
	for i, body := range []map[string]any{
		{"id": "drecuniq0000001", "a": "a1", "b": "b1", "c": "c1", "d": 1, "e": "Mixed"},
		{"a": "a1"},
		{"a": "a2", "b": "b1", "c": "c1"},
		{"a": "a3", "b": "b1", "c": "c2"},
		{"a": "a4", "d": 1},
		{"a": "a5", "d": 0},
		{"a": "a6", "d": 0},
		{"a": "a7", "e": "MIXED"},
		{"a": "a1", "b": "b1", "c": "c1", "d": 1, "e": "mixed"},
		{"a": "", "b": ""},
		{"a": "", "b": ""},
	} {
		p := recProbe{probe: probe{name: fmt.Sprintf("unique %d", i), method: post, path: uniq, body: body}}
		if body["id"] == nil {
			p.body = with(body, map[string]any{"id": fmt.Sprintf("drecuniq%07d", i+1)})
		}
		ps = append(ps, p)
	}
	add("unique on update", patch, uniq+"/drecuniq0000004", "", map[string]any{"a": "a1", "b": "b1", "c": "c1"})

	// auth records seen through a relation
	ps = append(ps, recProbe{probe: probe{name: "create drec_refs", method: post, path: colls, as: "su", shapeOnly: true,
		body: map[string]any{"id": "pbc_drec_ref", "name": "drec_refs", "type": "base", "listRule": "", "viewRule": "", "createRule": "",
			"fields": []map[string]any{f("rfm", "m", "relation", "collectionId", "pbc_drec_mem", "maxSelect", 5)}}}})
	add("refs to members", post, "/api/collections/drec_refs/records?expand=m", "", map[string]any{"id": "drecrefs0000001",
		"m": []string{"drecmember00001", "drecmember00003", "drecmember00013"}})
	for _, as := range []string{"", "alice", "m1", "su"} {
		add("members through a relation "+as, get, "/api/collections/drec_refs/records/drecrefs0000001?expand=m", as)
	}

	// file modifiers with names in JSON
	add("file append by name", patch, all+"/drecfile0000001", "su", map[string]any{"fm+": "nope.png"})
	add("file prepend existing name", patch, all+"/drecfile0000001", "su", map[string]any{"+fm": "{ff.0}"})
	add("file remove unknown name", patch, all+"/drecfile0000001", "su", map[string]any{"fm-": []string{"nope.png", "{ff.1}"}})
	saving("ff", "fm")
	form("upload and remove together", patch, all+"/drecfile0000001", "su", part{name: "fm-", value: "{ff.0}"},
		part{name: "fm+", file: "six.png", value: png1}, part{name: "f1", file: "seven.txt", ctype: "text/plain", value: "seven"}, part{name: "f1-", value: "{f1.0}"})
	add("superuser without confirm", post, "/api/collections/_superusers/records", "su", map[string]any{"id": "drecsuperuser02", "email": "su3@example.com",
		"password": "su3-pass-1234"})

	// a password field in a base collection
	ps = append(ps, recProbe{probe: probe{name: "create drec_pw", method: post, path: colls, as: "su", shapeOnly: true,
		body: map[string]any{"id": "pbc_drec_pw", "name": "drec_pw", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
			"fields": []map[string]any{f("pwp", "pw", "password", "min", 6), f("pwh", "pwh", "password", "hidden", true), f("pwt", "t", "text")}}}})
	pw := "/api/collections/drec_pw/records"
	add("password field create", post, pw, "", map[string]any{"id": "drecpassword001", "pw": "secret-1", "pwh": "hidden-1", "t": "x"})
	add("password field create as su", post, pw, "su", map[string]any{"id": "drecpassword002", "pw": "secret-2", "pwh": "hidden-2"})
	add("password field too short", post, pw, "", map[string]any{"id": "drecpassword003", "pw": "short"})
	add("password field view", get, pw+"/drecpassword001", "")
	add("password field view as su", get, pw+"/drecpassword001", "su")
	add("password field update", patch, pw+"/drecpassword001", "", map[string]any{"pw": "secret-3"})
	add("password field update other", patch, pw+"/drecpassword001", "su", map[string]any{"t": "y"})
	add("password field filter", get, pw+"?filter="+q("pw = 'secret-3'"), "")
	add("password field list as su", get, pw+"?sort=id", "su")

	// a hidden relation: expand and write responses
	ps = append(ps, recProbe{probe: probe{name: "create drec_hiddenrel", method: post, path: colls, as: "su", shapeOnly: true,
		body: map[string]any{"id": "pbc_drec_hr", "name": "drec_hiddenrel", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
			"fields": []map[string]any{f("hrr", "hr", "relation", "collectionId", "pbc_1219621782", "maxSelect", 2, "hidden", true), f("hrt", "t", "text")}}}})
	hr := "/api/collections/drec_hiddenrel/records"
	add("hidden relation create as guest", post, hr+"?expand=hr", "", map[string]any{"id": "drechiddenrel01", "hr": []string{tagGo}, "t": "g"})
	add("hidden relation create as su", post, hr+"?expand=hr", "su", map[string]any{"id": "drechiddenrel02", "hr": []string{tagGo}, "t": "s"})
	for _, as := range []string{"", "su"} {
		add("hidden relation expand "+as, get, hr+"/drechiddenrel02?expand=hr", as)
		add("hidden relation filter "+as, get, hr+"?filter="+q("hr.label = 'go'"), as)
	}
	add("hidden relation update as guest", patch, hr+"/drechiddenrel02?expand=hr", "", map[string]any{"hr+": tagK8s, "t": "u"})

	// the default file size limit (5 MiB) of a field with maxSize 0
	form("file over the default size", post, all, "su", part{name: "id", value: "drecbigfile0001"},
		part{name: "fp", file: "big.bin", value: strings.Repeat("x", 5<<20+1)})
	form("file of the default size", post, all, "su", part{name: "id", value: "drecbigfile0002"},
		part{name: "fp", file: "big.bin", value: strings.Repeat("x", 5<<20)})

	// expanding into a collection only superusers may view, or only some records of
	ps = append(ps,
		recProbe{probe: probe{name: "create drec_private", method: post, path: colls, as: "su", shapeOnly: true,
			body: map[string]any{"id": "pbc_drec_prv", "name": "drec_private", "type": "base", "viewRule": "t = 'open'",
				"fields": []map[string]any{f("pvt", "t", "text")}}}},
		recProbe{probe: probe{name: "create drec_pubref", method: post, path: colls, as: "su", shapeOnly: true,
			body: map[string]any{"id": "pbc_drec_pub", "name": "drec_pubref", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
				"fields": []map[string]any{f("pbp", "p", "relation", "collectionId", "pbc_drec_prv", "maxSelect", 3),
					f("pbq", "q", "relation", "collectionId", "pbc_drec_prv", "maxSelect", 1)}}}},
	)
	add("private open", post, "/api/collections/drec_private/records", "su", map[string]any{"id": "drecprivate0001", "t": "open"})
	add("private closed", post, "/api/collections/drec_private/records", "su", map[string]any{"id": "drecprivate0002", "t": "closed"})
	pub := "/api/collections/drec_pubref/records"
	add("pubref create with expand", post, pub+"?expand=p,q", "", map[string]any{"id": "drecpubref00001", "p": []string{"drecprivate0002", "drecprivate0001"}, "q": "drecprivate0002"})
	for _, as := range []string{"", "su"} {
		add("pubref expand "+as, get, pub+"/drecpubref00001?expand=p,q", as)
		add("pubref list expand "+as, get, pub+"?expand=q", as)
	}
	for i, fields := range []string{"*,expand.p.t", "expand.*", "id,expand.p.*", "*:excerpt(3)", "expand.p.t:excerpt(2,true),id", "expand", "nope.nope"} {
		add(fmt.Sprint("pubref write with fields ", i), patch, pub+"/drecpubref00001?expand=p,q&fields="+q(fields), "su", map[string]any{})
	}
	add("head of a record", http.MethodHead, pub+"/drecpubref00001", "")
	add("head of a list", http.MethodHead, pub, "")
	add("head of a missing record", http.MethodHead, pub+"/nopenopenopenop", "")
	add("options of a record", http.MethodOptions, pub+"/drecpubref00001", "")
	add("pubref update to closed only", patch, pub+"/drecpubref00001?expand=p", "", map[string]any{"p": []string{"drecprivate0002"}})

	// system collections written by a superuser
	for _, c := range []struct {
		name string
		body map[string]any
	}{
		{"_authOrigins", map[string]any{"id": "drecorigin00001", "collectionRef": "_pb_users_auth_", "recordRef": bobID, "fingerprint": "x"}},
		{"_externalAuths", map[string]any{"id": "drecexternal001", "collectionRef": "_pb_users_auth_", "recordRef": bobID, "provider": "google", "providerId": "1"}},
		{"_mfas", map[string]any{"id": "drecmfa00000001", "collectionRef": "_pb_users_auth_", "recordRef": bobID, "method": "password"}},
		{"_otps", map[string]any{"id": "drecotp00000001", "collectionRef": "_pb_users_auth_", "recordRef": bobID, "password": "123456", "sentTo": ""}},
	} {
		add("system create "+c.name, post, "/api/collections/"+c.name+"/records", "su", c.body)
		add("system create as user "+c.name, post, "/api/collections/"+c.name+"/records", "bob", c.body)
		add("system update "+c.name, patch, "/api/collections/"+c.name+"/records/"+c.body["id"].(string), "su", map[string]any{"recordRef": aliceID})
		add("system delete "+c.name, del, "/api/collections/"+c.name+"/records/"+c.body["id"].(string), "su", nil)
	}

	// deletes: cascades and references that block
	add("parent 1", post, par, "", map[string]any{"id": "drecparent00001", "t": "one"})
	add("parent 2", post, par, "", map[string]any{"id": "drecparent00002", "t": "two"})
	add("parent 3", post, par, "", map[string]any{"id": "drecparent00003", "t": "three"})
	add("child, missing required", post, chd, "", map[string]any{"id": "drecchild000001"})
	add("child 1", post, chd, "", map[string]any{"id": "drecchild000001", "p": "drecparent00001", "pm": []string{"drecparent00002", "drecparent00003"}})
	add("child 2", post, chd, "", map[string]any{"id": "drecchild000002", "p": "drecparent00003", "pc": []string{"drecparent00002"}})
	add("child 3", post, chd, "", map[string]any{"id": "drecchild000003", "p": "drecparent00003", "pc": []string{"drecparent00002", "drecparent00001"}})
	add("delete required parent", del, par+"/drecparent00001", "", nil)
	add("still there", get, par+"/drecparent00001", "")
	add("delete optional and cascade parent", del, par+"/drecparent00002", "", nil)
	add("children after cascade", get, chd+"?sort=id", "")
	add("delete required parent 3", del, par+"/drecparent00003", "", nil)
	add("children left", get, chd+"?sort=id", "")
	add("delete unknown", del, par+"/drecparentnope0", "", nil)
	add("delete with expand", del, chd+"/drecchild000001?expand=p", "", nil)
	add("delete with body", del, par+"/drecparent00001", "", map[string]any{"x": 1})
	add("delete view record", del, "/api/collections/post_stats/records/"+alicePost, "su", nil)
	add("update view record", patch, "/api/collections/post_stats/records/"+alicePost, "su", map[string]any{"title": "x"})
	add("delete a tag used by posts", del, "/api/collections/tags/records/"+tagSQL, "su", nil)
	add("posts after tag delete", get, posts+"?sort=id&fields=id,tags", "su")
	add("comments of alice's post", get, "/api/collections/comments/records?sort=id&filter="+q("post = '"+alicePost+"'"), "")
	add("delete alice's post (cascade)", del, posts+"/"+alicePost, "alice", nil)
	add("comments after cascade", get, "/api/collections/comments/records?sort=id&filter="+q("post = '"+alicePost+"'"), "")
	add("post stats after cascade", get, "/api/collections/post_stats/records?sort=id", "")
	file("file of deleted post", get, "/api/files/posts/"+alicePost+"/notes1_ww0dglkzj2.txt?token={ftoken.su}")
	add("delete user referenced by posts", del, "/api/collections/users/records/"+bobID, "su", nil)
	add("posts of bob after delete", get, posts+"?sort=id&fields=id,author", "su")

	// a cascade that meets a required reference further down
	ps = append(ps,
		recProbe{probe: probe{name: "create drec_gc", method: post, path: colls, as: "su", shapeOnly: true,
			body: map[string]any{"id": "pbc_drec_gc", "name": "drec_gc", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "deleteRule": "",
				"fields": []map[string]any{f("gcp", "p", "relation", "collectionId", "pbc_drec_par", "maxSelect", 1, "required", true, "cascadeDelete", true)}}}},
		recProbe{probe: probe{name: "create drec_gg", method: post, path: colls, as: "su", shapeOnly: true,
			body: map[string]any{"id": "pbc_drec_gg", "name": "drec_gg", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "deleteRule": "",
				"fields": []map[string]any{f("ggc", "c", "relation", "collectionId", "pbc_drec_gc", "maxSelect", 1, "required", true)}}}},
	)
	add("chain parent", post, par, "", map[string]any{"id": "drecparent00005", "t": "chain"})
	add("chain child", post, "/api/collections/drec_gc/records", "", map[string]any{"id": "drecgc000000001", "p": "drecparent00005"})
	add("chain grandchild", post, "/api/collections/drec_gg/records", "", map[string]any{"id": "drecgg000000001", "c": "drecgc000000001"})
	add("delete the chain's parent", del, par+"/drecparent00005", "", nil)
	add("chain child still there", get, "/api/collections/drec_gc/records/drecgc000000001", "")
	add("delete the chain's grandchild", del, "/api/collections/drec_gg/records/drecgg000000001", "", nil)
	add("delete the chain's parent again", del, par+"/drecparent00005", "", nil)
	add("chain child cascaded", get, "/api/collections/drec_gc/records/drecgc000000001", "")
	add("user referenced by a required relation", post, colls, "su", map[string]any{"id": "pbc_drec_own", "name": "drec_owned", "type": "base",
		"fields": []map[string]any{f("ow", "owner", "relation", "collectionId", "_pb_users_auth_", "maxSelect", 1, "required", true)}})
	ps[len(ps)-1].shapeOnly = true
	add("owned record", post, "/api/collections/drec_owned/records", "su", map[string]any{"id": "drecowned000001", "owner": aliceID})
	add("delete its owner", del, "/api/collections/users/records/"+aliceID, "su", nil)

	// a required multiple relation: a delete passes while other ids remain
	ps = append(ps, recProbe{probe: probe{name: "create drec_multi", method: post, path: colls, as: "su", shapeOnly: true,
		body: map[string]any{"id": "pbc_drec_mul", "name": "drec_multi", "type": "base", "listRule": "", "viewRule": "", "createRule": "",
			"fields": []map[string]any{f("mup", "ps", "relation", "collectionId", "pbc_drec_par", "maxSelect", 3, "required", true)}}}})
	add("multi parent a", post, par, "", map[string]any{"id": "drecparent00006", "t": "a"})
	add("multi parent b", post, par, "", map[string]any{"id": "drecparent00007", "t": "b"})
	add("multi child", post, "/api/collections/drec_multi/records", "", map[string]any{"id": "drecmulti000001", "ps": []string{"drecparent00006", "drecparent00007"}})
	add("delete one of two required", del, par+"/drecparent00006", "", nil)
	add("multi child after", get, "/api/collections/drec_multi/records/drecmulti000001", "")
	add("delete the last required", del, par+"/drecparent00007", "", nil)

	// a collection relating to itself, with cascades in a cycle
	selfID := f("text3208210256", "id", "text", "autogeneratePattern", "[a-z0-9]{15}", "max", 15, "min", 15, "pattern", "^[a-z0-9]+$",
		"primaryKey", true, "required", true, "system", true)
	// note: a relation to a view collection is refused (collections' area)
	selfStat := f("sv", "stat", "text")
	ps = append(ps,
		recProbe{probe: probe{name: "create drec_self", method: post, path: colls, as: "su", shapeOnly: true,
			body: map[string]any{"id": "pbc_drec_self", "name": "drec_self", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
				"deleteRule": "", "fields": []map[string]any{selfID, selfStat}}}},
		recProbe{probe: probe{name: "relate drec_self to itself", method: patch, path: colls + "/drec_self", as: "su", shapeOnly: true,
			body: map[string]any{"fields": []map[string]any{selfID, selfStat,
				f("sn", "next", "relation", "collectionId", "pbc_drec_self", "maxSelect", 1, "cascadeDelete", true)}}}},
	)
	self := "/api/collections/drec_self/records"
	add("self a", post, self, "", map[string]any{"id": "drecself0000001"})
	add("self b", post, self+"?expand=next", "", map[string]any{"id": "drecself0000002", "next": "drecself0000001"})
	add("self c", post, self+"?expand=next.next", "", map[string]any{"id": "drecself0000003", "next": "drecself0000002"})
	add("self a to b", patch, self+"/drecself0000001?expand=next.next.next", "", map[string]any{"next": "drecself0000002"})
	add("self expand deeper than 6", get, self+"/drecself0000001?expand="+strings.Repeat("next.", 7)+"next", "")
	add("self expand fields deep", get, self+"/drecself0000001?expand=next.next&fields=id,expand.next.expand.next.id", "")
	add("self back-relation expand", get, self+"/drecself0000001?expand=drec_self_via_next.next,next.drec_self_via_next", "")
	add("self legacy back-relation expand", get, self+"/drecself0000002?expand=drec_self(next)", "")
	add("self expand on a write with a back-relation", patch, self+"/drecself0000002?expand=drec_self_via_next&fields=id,expand", "", map[string]any{})
	add("self expand with dots around", get, self+"/drecself0000001?expand=.next.", "")
	add("self expand twice", get, self+"/drecself0000001?expand=next&expand=drec_self_via_next", "")
	add("self expand with a tab", get, self+"/drecself0000001?expand=next%09", "")
	add("self to itself", patch, self+"/drecself0000003", "", map[string]any{"next": "drecself0000003"})
	add("self delete in a cycle", del, self+"/drecself0000001", "", nil)
	add("self left", get, self+"?sort=id", "")
	add("self delete a self loop", del, self+"/drecself0000003", "", nil)
	add("self none left", get, self+"?sort=id", "")

	add("parent 4", post, par, "", map[string]any{"id": "drecparent00004", "t": "four"})
	add("child 4", post, chd, "", map[string]any{"id": "drecchild000004", "p": "drecparent00004", "pm": []string{"drecparent00004"}})

	// batch
	batch := "/api/batch"
	add("batch disabled", post, batch, "su", map[string]any{"requests": []map[string]any{{"method": "POST", "url": par, "body": map[string]any{"t": "x"}}}})
	ps = append(ps, recProbe{probe: probe{name: "enable batch", method: patch, path: "/api/settings", as: "su", shapeOnly: true,
		body: map[string]any{"batch": map[string]any{"enabled": true, "maxRequests": 4, "timeout": 5, "maxBodySize": 0}}}})
	anyOrder := func(name string, as string, body any) {
		ps = append(ps, recProbe{probe: probe{name: name, method: post, path: batch, as: as, body: body, anyOrder: true}})
	}
	anyOrder("batch no requests", "su", map[string]any{})
	anyOrder("batch requests null", "su", map[string]any{"requests": nil})
	anyOrder("batch malformed", "su", "{")
	anyOrder("batch bad items", "su", map[string]any{"requests": []map[string]any{{"method": "NOPE", "url": par}, {"method": "POST"},
		{"method": "POST", "url": "/" + strings.Repeat("x", 2001)}}})
	anyOrder("batch too many", "su", map[string]any{"requests": []map[string]any{{"method": "POST", "url": par}, {"method": "POST", "url": par},
		{"method": "POST", "url": par}, {"method": "POST", "url": par}, {"method": "POST", "url": par}}})
	anyOrder("batch unknown action", "su", map[string]any{"requests": []map[string]any{{"method": "GET", "url": par}}})
	anyOrder("batch unknown collection", "su", map[string]any{"requests": []map[string]any{{"method": "POST", "url": "/api/collections/nope/records", "body": map[string]any{}}}})
	anyOrder("batch create+update+upsert+delete", "su", map[string]any{"requests": []map[string]any{
		{"method": "POST", "url": par + "?fields=id,t", "body": map[string]any{"id": "drecbatch000001", "t": "b1"}},
		{"method": "PATCH", "url": par + "/drecbatch000001", "body": map[string]any{"t": "b1 changed"}},
		{"method": "PUT", "url": par, "body": map[string]any{"id": "drecbatch000002", "t": "upsert created"}},
		{"method": "PUT", "url": chd + "?expand=p", "body": map[string]any{"id": "drecbatch000003", "p": "drecbatch000001"}},
	}})
	anyOrder("batch upsert update and delete", "su", map[string]any{"requests": []map[string]any{
		{"method": "PUT", "url": par, "body": map[string]any{"id": "drecbatch000002", "t": "upsert updated"}},
		{"method": "DELETE", "url": chd + "/drecbatch000003"},
		{"method": "DELETE", "url": par + "/drecbatch000002"},
	}})
	anyOrder("batch upsert without id", "su", map[string]any{"requests": []map[string]any{{"method": "PUT", "url": par, "body": map[string]any{"t": "no id"}}}})
	ps[len(ps)-1].shapeOnly = true // a new random id
	anyOrder("batch failing item rolls back", "su", map[string]any{"requests": []map[string]any{
		{"method": "POST", "url": par, "body": map[string]any{"id": "drecbatch000004", "t": "rolled back"}},
		{"method": "DELETE", "url": par + "/drecbatch000001"},
		{"method": "POST", "url": chd, "body": map[string]any{"id": "drecbatch000005"}},
	}})
	add("rolled back create", get, par+"/drecbatch000004", "")
	add("rolled back delete", get, par+"/drecbatch000001", "")
	anyOrder("batch delete blocked", "su", map[string]any{"requests": []map[string]any{{"method": "DELETE", "url": par + "/drecbatch000001"}}})
	anyOrder("batch rule fails", "", map[string]any{"requests": []map[string]any{{"method": "PATCH", "url": posts + "/qtb81lm075pd3no", "body": map[string]any{"title": "x"}}}})
	anyOrder("batch missing record", "su", map[string]any{"requests": []map[string]any{{"method": "PATCH", "url": par + "/nopenopenopenop", "body": map[string]any{"t": "x"}}}})
	anyOrder("batch header auth ignored", "", map[string]any{"requests": []map[string]any{{"method": "POST", "url": posts, "headers": map[string]any{"Authorization": "{alice}"},
		"body": map[string]any{"title": "xyz", "author": aliceID}}}})
	anyOrder("batch as user", "alice", map[string]any{"requests": []map[string]any{{"method": "POST", "url": posts + "?expand=author", "body": map[string]any{"id": "drecbatchpost01", "title": "batch post", "author": aliceID}}}})
	anyOrder("batch item body not object", "su", map[string]any{"requests": []map[string]any{{"method": "POST", "url": par, "body": "x"}}})
	ps = append(ps, recProbe{probe: probe{name: "batch multipart", method: post, path: batch, as: "su", anyOrder: true, ctype: multipartType,
		body: mpBody(t, part{name: "@jsonPayload", value: `{"requests":[{"method":"POST","url":"` + all + `","body":{"id":"drecbatchfile01","t":"bf"}},` +
			`{"method":"POST","url":"` + all + `","body":{"id":"drecbatchfile02"}}]}`},
			part{name: "requests.0.fm", file: "batch.png", value: png1}, part{name: "requests[1].f1", file: "b.txt", ctype: "text/plain", value: "batch text"},
			part{name: "requests.1.t", value: "ignored?"})}})
	ps = append(ps, recProbe{probe: probe{name: "batch multipart bad file", method: post, path: batch, as: "su", anyOrder: true, ctype: multipartType,
		body: mpBody(t, part{name: "@jsonPayload", value: `{"requests":[{"method":"POST","url":"` + all + `","body":{"id":"drecbatchfile03"}}]}`},
			part{name: "requests.0.f1", file: "b.png", ctype: "image/png", value: png1})}})
	ps = append(ps, recProbe{probe: probe{name: "batch multipart requests value", method: post, path: batch, as: "su", anyOrder: true, ctype: multipartType,
		body: mpBody(t, part{name: "requests", value: "x"})}})
	ps = append(ps, recProbe{probe: probe{name: "batch multipart with a query payload", method: post, path: batch + "?@jsonPayload=" +
		url.QueryEscape(`{"requests":[{"method":"POST","url":"`+par+`","body":{"id":"drecbatch000018"}}]}`), as: "su", anyOrder: true, ctype: multipartType,
		body: mpBody(t, part{name: "x", value: "y"})}})
	ps = append(ps, recProbe{probe: probe{name: "batch multipart no payload", method: post, path: batch, as: "su", anyOrder: true, ctype: multipartType,
		body: mpBody(t, part{name: "requests.0.f1", file: "b.txt", value: "x"})}})
	anyOrder("batch trailing data", "su", `{"requests":[{"method":"POST","url":"`+par+`","body":{"id":"drecbatch000010"}}]} trailing`)
	anyOrder("batch duplicate names", "su", `{"requests":[{"method":"POST","url":"`+par+`","body":{"id":"drecbatch000011","t":"a","t":"b"}}]}`)
	anyOrder("batch upper-case names", "su", `{"Requests":[{"Method":"POST","URL":"`+par+`","Body":{"id":"drecbatch000012","t":"upper"}}]}`)
	anyOrder("batch big integer", "su", `{"requests":[{"method":"POST","url":"`+all+`","body":{"id":"drecbatch000013","j":12345678901234567890}}]}`)
	for _, ct := range []string{"APPLICATION/JSON", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded"} {
		ps = append(ps, recProbe{probe: probe{name: "batch as " + ct, method: post, path: batch, as: "su", anyOrder: true, ctype: ct,
			body: `{"requests":[{"method":"POST","url":"` + par + `","body":{"id":"drecbatch000014","t":"ct"}}]}`}})
	}
	for i, body := range []string{"requests=x", "@jsonPayload=" + url.QueryEscape(`{"requests":[{"method":"POST","url":"`+par+`","body":{"id":"drecbatch000015"}}]}`),
		"@jsonPayload=" + url.QueryEscape(`{"Requests":[{"method":"POST","url":"`+par+`","body":{"id":"drecbatch000016"}}]}`),
		"@jsonPayload=" + url.QueryEscape(`{"requests":[{"Method":"POST","URL":"`+par+`","Body":{"id":"drecbatch000017"}}]}`),
		"other=1"} {
		ps = append(ps, recProbe{probe: probe{name: fmt.Sprint("batch urlencoded ", i), method: post, path: batch, as: "su", anyOrder: true,
			ctype: "application/x-www-form-urlencoded", body: body}})
	}
	anyOrder("batch query values", "su", map[string]any{"requests": []map[string]any{
		{"method": "POST", "url": all + "?t=fromquery&n=5&sm=a&fields=id,t,n,sm,j", "body": map[string]any{"id": "drecbatch000019", "sm": "b", "j": 12345678901234567890.0}},
		{"method": "PATCH", "url": all + "/drecbatch000019?t=again&fields=t", "body": map[string]any{"t": "body"}},
		{"method": "PATCH", "url": all + "/drecbatch000019?j=%7B%22a%22%3A1%7D&fields=j", "headers": map[string]any{"Content-Type": "text/plain"}},
	}})
	for i, u := range []string{par + "#frag", par + "/", par + "/drecparent00004/", "/api/collections/drec%5Fparent/records", "/api/collections/pbc_drec_par/records",
		"/api/collections/drec_parent/records?", "//api/collections/drec_parent/records", "/api/collections/drec_parent/records/../records",
		"/api/collections/drec_parent/records?expand=nope#x"} {
		anyOrder(fmt.Sprint("batch url ", i), "su", map[string]any{"requests": []map[string]any{{"method": "POST", "url": u,
			"body": map[string]any{"id": fmt.Sprintf("drecbatchurl%03d", i)}}}})
	}
	for i, m := range []string{"PUT", "DELETE", "PATCH"} {
		anyOrder(fmt.Sprint("batch method on the wrong url ", i), "su", map[string]any{"requests": []map[string]any{{"method": m, "url": par + "/drecparent00004/x"}}})
	}
	anyOrder("batch put with an id in the url", "su", map[string]any{"requests": []map[string]any{{"method": "PUT", "url": par + "/drecparent00004", "body": map[string]any{"t": "x"}}}})
	anyOrder("batch delete without an id", "su", map[string]any{"requests": []map[string]any{{"method": "DELETE", "url": par}}})
	anyOrder("batch duplicate tokenKey", "su", map[string]any{"requests": []map[string]any{{"method": "PATCH", "url": mem + "/drecmember00013",
		"body": map[string]any{"tokenKey": strings.Repeat("k", 40)}}}})
	anyOrder("batch delete really blocked", "su", map[string]any{"requests": []map[string]any{{"method": "DELETE", "url": par + "/drecparent00004"}}})
	anyOrder("batch nested", "su", map[string]any{"requests": []map[string]any{{"method": "POST", "url": "/api/batch", "body": map[string]any{"requests": []any{}}}}})
	anyOrder("batch bad expand", "su", map[string]any{"requests": []map[string]any{{"method": "POST", "url": par + "?expand=nope&fields=t", "body": map[string]any{"id": "drecbatch000006", "t": "exp"}}}})
	anyOrder("batch auth record", "", map[string]any{"requests": []map[string]any{{"method": "POST", "url": mem, "body": map[string]any{"id": "drecbatchmember", "email": "mb@example.com",
		"password": "member-pass-b", "passwordConfirm": "member-pass-b"}}, {"method": "PATCH", "url": mem + "/drecbatchmember", "body": map[string]any{"nick": "batch"}}}})
	anyOrder("batch upsert of another's post", "bob", map[string]any{"requests": []map[string]any{{"method": "PUT", "url": posts, "body": map[string]any{"id": "qtb81lm075pd3no", "title": "upserted"}}}})
	anyOrder("batch upsert bad id", "su", map[string]any{"requests": []map[string]any{{"method": "PUT", "url": par, "body": map[string]any{"id": "BAD", "t": "x"}}}})
	anyOrder("batch lower-case method", "su", map[string]any{"requests": []map[string]any{{"method": "post", "url": par, "body": map[string]any{"id": "drecbatch000007", "t": "lower"}}}})
	anyOrder("batch url without leading slash", "su", map[string]any{"requests": []map[string]any{{"method": "POST", "url": "api/collections/drec_parent/records", "body": map[string]any{"id": "drecbatch000008"}}}})
	anyOrder("batch full url", "su", map[string]any{"requests": []map[string]any{{"method": "POST", "url": "http://example.com/api/collections/drec_parent/records", "body": map[string]any{"id": "drecbatch000009"}}}})
	anyOrder("batch view collection", "su", map[string]any{"requests": []map[string]any{{"method": "POST", "url": "/api/collections/post_stats/records", "body": map[string]any{}}}})
	ps = append(ps, recProbe{probe: probe{name: "batch small body limit", method: patch, path: "/api/settings", as: "su", shapeOnly: true,
		body: map[string]any{"batch": map[string]any{"enabled": true, "maxRequests": 4, "timeout": 5, "maxBodySize": 200}}}})
	anyOrder("batch over the body limit", "su", map[string]any{"requests": []map[string]any{{"method": "POST", "url": par, "body": map[string]any{"t": strings.Repeat("x", 300)}}}})
	ps = append(ps, recProbe{probe: probe{name: "batch disabled again", method: patch, path: "/api/settings", as: "su", shapeOnly: true,
		body: map[string]any{"batch": map[string]any{"enabled": false, "maxRequests": 4}}}})
	anyOrder("batch after disabling", "su", map[string]any{"requests": []map[string]any{{"method": "POST", "url": par}}})
	add("batch files stored", get, all+"/drecbatchfile01", "su")
	add("batch files stored 2", get, all+"/drecbatchfile02", "su")

	// last, as they end sessions: an email change of a verified user, the only superuser
	add("su changes a verified user's email", patch, "/api/collections/users/records/"+aliceID, "su", map[string]any{"email": "alice2@example.com"})
	add("su changes a verified user's email and keeps verified", patch, "/api/collections/users/records/"+aliceID, "su",
		map[string]any{"email": "alice3@example.com", "verified": true})
	add("old session after the email change", get, "/api/collections/users/records/"+aliceID, "alice")
	add("delete the only superuser", del, "/api/collections/_superusers/records/52lyy8nw07kghoy", "su", nil)
	add("superusers left", get, "/api/collections/_superusers/records", "su")

	for i := range ps {
		if ps[i].name == "" && ps[i].hook == nil {
			ps[i].name = fmt.Sprint(i)
		}
	}
	return ps
}
