package core_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// modifiersCollection is a base collection with one field of each modifiable kind.
func modifiersCollection(t *testing.T) *core.Collection {
	t.Helper()
	c := &core.Collection{}
	err := json.Unmarshal([]byte(`{"name":"demo","type":"base","fields":[
		{"name":"title","type":"text"},
		{"name":"code","type":"text","autogeneratePattern":"[0-9]{4}"},
		{"name":"n","type":"number"},
		{"name":"one","type":"select","values":["a","b","c"],"maxSelect":1},
		{"name":"many","type":"select","values":["a","b","c"],"maxSelect":3},
		{"name":"rel","type":"relation","collectionId":"x","maxSelect":5},
		{"name":"files","type":"file","maxSelect":5},
		{"name":"secret","type":"password"},
		{"name":"created","type":"autodate","onCreate":true}
	]}`), c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestResolveRecordModifiers(t *testing.T) {
	c := modifiersCollection(t)
	stored := map[string]any{
		"id": "abc", "title": "old", "code": "", "n": 10.0, "one": "a", "many": []string{"a", "b"},
		"rel": []string{"r1", "r2"}, "files": []string{"f1.txt", "f2.txt"}, "created": "2020-01-01 00:00:00.000Z",
	}

	tests := []struct {
		name    string
		current map[string]any
		data    map[string]any
		want    map[string]any
	}{
		{
			name: "plain values are prepared; unknown keys are kept",
			data: map[string]any{"title": 5.0, "n": "7", "one": []any{"a", "c"}, "many": "b", "other": "x"},
			want: map[string]any{"title": "5", "n": 7.0, "one": "c", "many": []string{"b"}, "other": "x"},
		},
		{
			name:    "number + and -",
			current: stored,
			data:    map[string]any{"n+": 5.0, "n-": "2"},
			want:    map[string]any{"n": 13.0},
		},
		{
			name:    "list append, prepend and remove",
			current: stored,
			data:    map[string]any{"many+": "c", "+rel": []any{"r0"}, "rel-": "r2", "files-": []any{"f1.txt"}},
			want:    map[string]any{"many": []string{"a", "b", "c"}, "rel": []string{"r0", "r1"}, "files": []string{"f2.txt"}},
		},
		{
			name:    "the plain key applies before its modifiers",
			current: stored,
			data:    map[string]any{"many+": []any{"c"}, "many": []any{"a"}},
			want:    map[string]any{"many": []string{"a", "c"}},
		},
		{
			name:    "appending an existing value keeps one",
			current: stored,
			data:    map[string]any{"many+": "a"},
			want:    map[string]any{"many": []string{"a", "b"}},
		},
		{
			name: "modifiers on a new record start from the zero value",
			data: map[string]any{"n+": 3.0, "many-": "a", "rel+": "r9"},
			want: map[string]any{"n": 3.0, "many": []string{}, "rel": []string{"r9"}},
		},
		{
			name:    "autodate values are ignored",
			current: stored,
			data:    map[string]any{"created": "2030-01-01 00:00:00.000Z"},
			want:    map[string]any{"created": "2020-01-01 00:00:00.000Z"},
		},
		{
			name: "a password shows its plain text",
			data: map[string]any{"secret": "s3cret"},
			want: map[string]any{"secret": "s3cret"},
		},
		{
			name: "modifiers of fields that do not support them are unknown keys",
			data: map[string]any{"title+": "x", "one:autogenerate": "y"},
			want: map[string]any{"title+": "x", "one:autogenerate": "y"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := core.ResolveRecordModifiers(c, tc.current, tc.data)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveRecordModifiersAutogenerate(t *testing.T) {
	c := modifiersCollection(t)
	got := core.ResolveRecordModifiers(c, nil, map[string]any{"code:autogenerate": "pre-"})
	code, _ := got["code"].(string)
	if !strings.HasPrefix(code, "pre-") || len(code) != len("pre-")+4 {
		t.Errorf("code = %q, want pre- and 4 generated digits", code)
	}
	if _, ok := got["code:autogenerate"]; ok {
		t.Errorf("the modifier key was kept: %v", got)
	}
}
