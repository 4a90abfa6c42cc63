package picker_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/picker"
)

// decode turns a JSON text into the value the picker works on.
func decode(t testing.TB, raw string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return v
}

func encode(t testing.TB, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

const nestedData = `{
	"a": 1, "b": 2, "c": "test",
	"anySlice": [
		{"A": [1, 2, 3], "B": ["1", "2", 3], "C": "test", "D": {"DA": 1, "DB": 2}},
		{"A": "test"}
	],
	"mapSlice": [
		{"A": [1, 2, 3], "B": ["1", "2", 3], "C": "test", "D": [{"DA": 1}]},
		{"B": ["1", "2", 3], "D": [{"DA": 2}, {"DA": 3}, {"DB": 4}]}
	],
	"fullMap": [
		{"A": [1, 2, 3], "B": ["1", "2", 3], "C": "test"},
		{"B": ["1", "2", 3], "D": [{"DA": 2}, {"DA": 3}]}
	]
}`

const relData = `{"id": "123", "title": "lorem", "rel": {"id": "456", "title": "rel_title", "sub": {"id": "789", "title": "sub_title"}}}`

func TestPick(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		fields  string
		wantErr bool
		want    string
	}{
		{name: "empty fields", data: `{"a":1,"b":2,"c":"test"}`, fields: "", want: `{"a":1,"b":2,"c":"test"}`},
		{name: "only separators", data: `{"a":1}`, fields: " , ,", want: `{"a":1}`},
		{name: "missing fields", data: `{"a":1,"b":2,"c":"test"}`, fields: "missing", want: `{}`},
		{name: "non object data", data: `"test"`, fields: "a,b,test", want: `"test"`},
		{name: "list of non objects", data: `["a","b","test"]`, fields: "a,test", want: `["a","b","test"]`},
		{name: "empty list", data: `[]`, fields: "a", want: `[]`},
		{name: "existing and missing fields, trimmed", data: `{"a":1,"b":2,"c":"test"}`, fields: "a,  c  ,missing", want: `{"a":1,"c":"test"}`},
		{
			name:   "list of objects",
			data:   `[{"a":11,"b":11,"c":"test1"},{"a":22,"b":22,"c":"test2"}]`,
			fields: "a,c",
			want:   `[{"a":11,"c":"test1"},{"a":22,"c":"test2"}]`,
		},
		{
			name:   "list with a non object after an object",
			data:   `[{"a":1,"b":2},"x",3]`,
			fields: "a",
			want:   `[{"a":1},"x",3]`,
		},
		{
			name:   "nested fields through objects and lists",
			data:   nestedData,
			fields: "a, c, anySlice.A, mapSlice.C, mapSlice.D.DA, anySlice.D,fullMap",
			want: `{"a":1,"anySlice":[{"A":[1,2,3],"D":{"DA":1,"DB":2}},{"A":"test"}],"c":"test",` +
				`"fullMap":[{"A":[1,2,3],"B":["1","2",3],"C":"test"},{"B":["1","2",3],"D":[{"DA":2},{"DA":3}]}],` +
				`"mapSlice":[{"C":"test","D":[{"DA":1}]},{"D":[{"DA":2},{"DA":3},{}]}]}`,
		},
		{name: "subpath of a scalar keeps the scalar", data: `{"a":"x","b":1}`, fields: "a.b", want: `{"a":"x"}`},
		{name: "key and subpath keep the whole key", data: relData, fields: "rel,rel.id", want: `{"rel":{"id":"456","sub":{"id":"789","title":"sub_title"},"title":"rel_title"}}`},
		{name: "repeated segment names", data: `{"a":{"a":{"b":1,"c":2}}}`, fields: "a.a.b", want: `{"a":{"a":{"b":1}}}`},
		{name: "root wildcard", data: `{"a":11,"b":11,"c":"test1"}`, fields: "*", want: `{"a":11,"b":11,"c":"test1"}`},
		{name: "root wildcard with nested exception", data: relData, fields: "*,rel.id", want: `{"id":"123","rel":{"id":"456"},"title":"lorem"}`},
		{name: "sub wildcard", data: relData, fields: "id,rel.*", want: `{"id":"123","rel":{"id":"456","sub":{"id":"789","title":"sub_title"},"title":"rel_title"}}`},
		{name: "sub wildcard with nested exception", data: relData, fields: "id,rel.*,rel.sub.id", want: `{"id":"123","rel":{"id":"456","sub":{"id":"789"},"title":"rel_title"}}`},
		{
			name:   "expand picking",
			data:   `{"id":"r1","title":"t","expand":{"author":{"id":"u1","name":"N","email":"e"},"tags":[{"id":"t1","name":"a"},{"id":"t2","name":"b"}]}}`,
			fields: "*,expand.author.name,expand.tags.id",
			want:   `{"expand":{"author":{"name":"N"},"tags":[{"id":"t1"},{"id":"t2"}]},"id":"r1","title":"t"}`,
		},
		{name: "invalid excerpt modifier", data: `{"a":1}`, fields: "*:excerpt", wantErr: true},
		{name: "unknown modifier", data: `{"a":1}`, fields: "a:unknown(1)", wantErr: true},
		{name: "empty modifier", data: `{"a":1}`, fields: "a:", wantErr: true},
		{name: "unbalanced parenthesis", data: `{"a":1}`, fields: "a:excerpt(1", wantErr: true},
		{name: "unbalanced quote", data: `{"a":1}`, fields: "a,'b", wantErr: true},
		{
			name:   "valid excerpt modifiers",
			data:   `{"id":"123","title":"lorem","rel":{"id":"456","title":"<p>rel_title</p>","sub":{"id":"789","title":"sub_title"}}}`,
			fields: "*:excerpt(2),rel.title:excerpt(3, true)",
			want:   `{"id":"12","rel":{"title":"rel..."},"title":"lo"}`,
		},
		{name: "excerpt on non strings", data: `{"a":12345,"b":null,"c":[1]}`, fields: "*:excerpt(2)", want: `{"a":12345,"b":null,"c":[1]}`},
		{name: "modifier arguments with spaces", data: `{"d":"<b>Hello</b> world"}`, fields: "d:excerpt( 7 , 1 )", want: `{"d":"Hello w..."}`},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := decode(t, tc.data)
			before := encode(t, data)

			got, err := picker.Pick(data, tc.fields)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("expected an error, got %s", encode(t, got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}

			if s := encode(t, got); s != tc.want {
				t.Fatalf("got  %s\nwant %s", s, tc.want)
			}
			if after := encode(t, data); after != before {
				t.Fatalf("the input was modified:\n%s\n%s", before, after)
			}
		})
	}
}

func TestPickResult(t *testing.T) {
	data := decode(t, `{"items":[{"a":11,"b":11,"c":"test1"},{"a":22,"b":22,"c":"test2"}],"page":1,"perPage":10,"totalItems":20,"totalPages":30}`)

	got, err := picker.PickResult(data, "a,c,missing")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"items":[{"a":11,"c":"test1"},{"a":22,"c":"test2"}],"page":1,"perPage":10,"totalItems":20,"totalPages":30}`
	if s := encode(t, got); s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}

	got, err = picker.PickResult(data, "*")
	if err != nil {
		t.Fatal(err)
	}
	if s, w := encode(t, got), encode(t, data); s != w {
		t.Fatalf("got  %s\nwant %s", s, w)
	}

	// a non-list value is picked as a whole
	got, err = picker.PickResult([]any{map[string]any{"a": 1, "b": 2}}, "a")
	if err != nil {
		t.Fatal(err)
	}
	if s := encode(t, got); s != `[{"a":1}]` {
		t.Fatalf("got %s", s)
	}
}

type brokenModifierValue struct{}

func (brokenModifierValue) MarshalJSON() ([]byte, error) { return []byte(`1`), nil }

func TestPickModifierErrorIsWrapped(t *testing.T) {
	// the excerpt modifier cannot fail on strings; the sentinel is still part of the API
	if !errors.Is(errors.Join(picker.ErrInvalidModifierData), picker.ErrInvalidModifierData) {
		t.Fatal("sentinel mismatch")
	}

	got, err := picker.Pick(map[string]any{"a": brokenModifierValue{}}, "a:excerpt(3)")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.(map[string]any)["a"].(brokenModifierValue); !ok {
		t.Fatalf("non-string value modified: %#v", got)
	}
}
