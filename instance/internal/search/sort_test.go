package search_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

func TestParseSortFromString(t *testing.T) {
	tests := []struct {
		value string
		want  []search.SortField
	}{
		{"", []search.SortField{{Name: "", Direction: search.SortAsc}}},
		{"test", []search.SortField{{Name: "test", Direction: search.SortAsc}}},
		{"+test", []search.SortField{{Name: "test", Direction: search.SortAsc}}},
		{"-test", []search.SortField{{Name: "test", Direction: search.SortDesc}}},
		{"test1,-test2,+test3", []search.SortField{
			{Name: "test1", Direction: search.SortAsc},
			{Name: "test2", Direction: search.SortDesc},
			{Name: "test3", Direction: search.SortAsc},
		}},
		{"@random,-@rowid", []search.SortField{
			{Name: "@random", Direction: search.SortAsc},
			{Name: "@rowid", Direction: search.SortDesc},
		}},
		{" -created , title ,", []search.SortField{
			{Name: "created", Direction: search.SortDesc},
			{Name: "title", Direction: search.SortAsc},
			{Name: "", Direction: search.SortAsc},
		}},
		{"--x", []search.SortField{{Name: "-x", Direction: search.SortDesc}}},
	}

	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, search.ParseSortFromString(tc.value)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSortFieldBuildExpr(t *testing.T) {
	resolver := search.NewSimpleFieldResolver("test1", `^test2_\w+$`, `^data\.\w+$`)

	tests := []struct {
		field   search.SortField
		want    string
		wantErr bool
	}{
		{field: search.SortField{Name: "test1", Direction: search.SortAsc}, want: "`test1` ASC"},
		{field: search.SortField{Name: "test2_x", Direction: search.SortDesc}, want: "`test2_x` DESC"},
		{field: search.SortField{Name: "data.a", Direction: search.SortDesc}, want: "JSON_EXTRACT(`data`, '$.a') DESC"},
		{field: search.SortField{Name: "@random", Direction: search.SortDesc}, want: "RANDOM()"},
		{field: search.SortField{Name: "@rowid", Direction: search.SortDesc}, want: "`_rowid_` DESC"},
		{field: search.SortField{Name: "", Direction: search.SortAsc}, wantErr: true},
		{field: search.SortField{Name: "unknown", Direction: search.SortAsc}, wantErr: true},
		{field: search.SortField{Name: "test1", Direction: "ASC; DROP TABLE x"}, wantErr: true},
		{field: search.SortField{Name: "test1", Direction: "asc"}, wantErr: true},
	}

	for _, tc := range tests {
		t.Run(tc.field.Name+" "+tc.field.Direction, func(t *testing.T) {
			got, err := tc.field.BuildExpr(resolver)
			if tc.wantErr {
				if !errors.Is(err, search.ErrInvalidSortField) {
					t.Fatalf("expected ErrInvalidSortField, got %q, %v", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("identifiers with parameters or NULL are rejected", func(t *testing.T) {
		for _, r := range []fixedResolver{
			{result: &search.ResolverResult{Identifier: ":abc", Params: search.Params{"abc": 1}}},
			{result: &search.ResolverResult{Identifier: "NULL"}},
			{result: &search.ResolverResult{}},
			{},
		} {
			if got, err := (search.SortField{Name: "x", Direction: search.SortAsc}).BuildExpr(r); err == nil {
				t.Errorf("expected an error, got %q", got)
			}
		}
	})
}
