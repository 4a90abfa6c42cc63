package core

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUniqueIndexErrors(t *testing.T) {
	c := &Collection{Name: "tags", Fields: NewFieldsList(
		&TextField{fieldBase: fieldBase{Name: "id"}},
		&TextField{fieldBase: fieldBase{Name: "label"}},
		&TextField{fieldBase: fieldBase{Name: "slug"}},
	)}

	tests := []struct {
		name string
		err  error
		want map[string]string
	}{
		{"one column", errors.New("constraint failed: UNIQUE constraint failed: tags.label (2067)"), map[string]string{"label": "validation_not_unique"}},
		{"two columns", errors.New("UNIQUE constraint failed: tags.label, tags.slug"), map[string]string{"label": "validation_not_unique", "slug": "validation_not_unique"}},
		{"primary key", errors.New("UNIQUE constraint failed: tags.id (1555)"), map[string]string{"id": "validation_not_unique"}},
		{"table name in another case", errors.New("UNIQUE constraint failed: TAGS.label"), map[string]string{"label": "validation_not_unique"}},
		{"another table", errors.New("UNIQUE constraint failed: posts.label"), nil},
		{"not a field", errors.New("UNIQUE constraint failed: tags.other"), nil},
		{"another constraint", errors.New("NOT NULL constraint failed: tags.label"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got map[string]string
			if errs := uniqueIndexErrors(tc.err, c); errs != nil {
				got = map[string]string{}
				for k, v := range errs {
					got[k] = v.Code
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
