package picker_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/picker"
)

const fuzzDoc = `{
	"id": "r1", "title": "<p>Hello <b>world</b></p>", "n": 1.5, "ok": true, "none": null,
	"rel": {"id": "u1", "name": "N", "sub": {"id": "s1", "tags": ["a", "b"]}},
	"expand": {"author": {"id": "u1", "email": "e"}, "tags": [{"id": "t1", "name": "a"}, {"id": "t2"}]},
	"list": [1, "x", {"id": 3}], "objects": [{"id": 1, "v": "<i>x</i>"}, "y", {"v": 2}]
}`

// FuzzFields checks that no fields expression panics, that picking never adds keys or
// changes unmodified values, and that the input is left untouched.
func FuzzFields(f *testing.F) {
	for _, seed := range []string{
		"", "*", "id,title", "*,expand.author.id", "rel.*,rel.sub.id", "title:excerpt(5,true)",
		"*:excerpt(3)", "objects.v:excerpt(1)", "a:unknown", "title:excerpt(", "'a,b'", "rel.,rel..id",
		"\x00id", "id\x00,title", "expand.tags.id,,  , list.id",
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, raw string) {
		var data any
		if err := json.Unmarshal([]byte(fuzzDoc), &data); err != nil {
			t.Fatal(err)
		}
		before, _ := json.Marshal(data)

		got, err := picker.Pick(data, raw)

		after, _ := json.Marshal(data)
		if string(before) != string(after) {
			t.Fatalf("input modified by %q", raw)
		}
		if err != nil {
			return
		}

		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("result not serializable: %v", err)
		}
		assertSubset(t, raw, data, got, strings.Contains(raw, ":"))
	})
}

// assertSubset fails when picked has a key that original lacks, or (without modifiers) a
// leaf value that differs from the original.
func assertSubset(t *testing.T, raw string, original, picked any, modified bool) {
	t.Helper()

	switch p := picked.(type) {
	case map[string]any:
		o, ok := original.(map[string]any)
		if !ok {
			t.Fatalf("%q: object where the input has %T", raw, original)
		}
		for k, v := range p {
			ov, ok := o[k]
			if !ok {
				t.Fatalf("%q: key %q added", raw, k)
			}
			assertSubset(t, raw, ov, v, modified)
		}
	case []any:
		o, ok := original.([]any)
		if !ok || len(o) != len(p) {
			t.Fatalf("%q: list changed", raw)
		}
		for i := range p {
			assertSubset(t, raw, o[i], p[i], modified)
		}
	default:
		if modified {
			return
		}
		a, _ := json.Marshal(original)
		b, _ := json.Marshal(picked)
		if string(a) != string(b) {
			t.Fatalf("%q: value changed from %s to %s", raw, a, b)
		}
	}
}
