package search_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

func TestProviderParse(t *testing.T) {
	tests := []struct {
		query     string
		wantErr   bool
		wantPage  int
		wantPer   int
		wantSkip  bool
		wantItems string
	}{
		{query: "", wantPage: 1, wantPer: 30, wantItems: "SELECT * FROM `test` LIMIT 30"},
		{query: "page=abc", wantErr: true},
		{query: "page=1.5", wantErr: true},
		{query: "perPage=abc", wantErr: true},
		{query: "skipTotal=maybe", wantErr: true},
		{query: "filter=%zz", wantErr: true},
		{query: "page=0&perPage=0", wantPage: 1, wantPer: 30, wantItems: "SELECT * FROM `test` LIMIT 30"},
		{query: "page=-3&perPage=-1", wantPage: 1, wantPer: 30, wantItems: "SELECT * FROM `test` LIMIT 30"},
		{query: "page=3&perPage=10", wantPage: 3, wantPer: 10, wantItems: "SELECT * FROM `test` LIMIT 10 OFFSET 20"},
		{query: "perPage=1001", wantPage: 1, wantPer: 1000, wantItems: "SELECT * FROM `test` LIMIT 1000"},
		{query: "skipTotal=1&page=", wantPage: 1, wantPer: 30, wantSkip: true, wantItems: "SELECT * FROM `test` LIMIT 30"},
		{query: "skipTotal=F", wantPage: 1, wantPer: 30, wantItems: "SELECT * FROM `test` LIMIT 30"},
		{
			query:     "sort=-test1,test2&filter=test1>1&page=2&perPage=5",
			wantPage:  2,
			wantPer:   5,
			wantItems: "SELECT * FROM `test` WHERE `test1` > :P ORDER BY `test1` DESC, `test2` ASC LIMIT 5 OFFSET 5",
		},
		{query: "sort=-@rowid", wantPage: 1, wantPer: 30, wantItems: "SELECT * FROM `test` ORDER BY `test`.`_rowid_` DESC LIMIT 30"},
		{query: "sort=unknown", wantErr: true},
		{query: "filter=unknown=1", wantErr: true},
		{query: "sort=test1,", wantErr: true},
	}

	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			p := search.NewProvider(search.NewSimpleFieldResolver("test1", "test2")).Query(search.NewSelectQuery("test"))

			err := p.Parse(tc.query)
			var plan *search.Plan
			if err == nil {
				plan, err = p.Build()
			}
			if tc.wantErr {
				if err == nil {
					t.Fatalf("expected an error, got %+v", plan)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}

			if plan.Page != tc.wantPage || plan.PerPage != tc.wantPer || plan.SkipTotal != tc.wantSkip {
				t.Errorf("got page %d perPage %d skipTotal %v", plan.Page, plan.PerPage, plan.SkipTotal)
			}
			if diff := cmp.Diff(tc.wantItems, normalizeSQL(plan.Items.SQL)); diff != "" {
				t.Errorf("items SQL mismatch (-want +got):\n%s", diff)
			}
			if plan.SkipTotal != plan.Count.IsEmpty() {
				t.Errorf("count query %q with skipTotal %v", plan.Count.SQL, plan.SkipTotal)
			}
		})
	}
}

func TestProviderBuild(t *testing.T) {
	resolver := &postsResolver{}

	base := search.NewSelectQuery("posts")
	base.Selects = []string{"`posts`.*"}
	base.AndWhere(search.NewExpr("`posts`.`flag` = :rule", search.Params{"rule": 1}))

	plan, err := search.NewProvider(resolver).
		Query(base).
		AddFilter("tags:each ?= 'a'").
		AddFilter("").
		AddFilter("count > 1").
		AddSort(search.SortField{Name: "title", Direction: search.SortDesc}).
		AddSort(search.SortField{Name: "@rowid", Direction: search.SortAsc}).
		Page(2).
		PerPage(10).
		Build()
	if err != nil {
		t.Fatal(err)
	}

	wantItems := "SELECT DISTINCT `posts`.* FROM `posts` LEFT JOIN json_each(`posts`.`tags`) `__je_tags` " +
		"WHERE (`posts`.`flag` = :rule) AND (`__je_tags`.`value` = :P) AND (`posts`.`count` > :P) " +
		"ORDER BY `posts`.`title` DESC, `posts`.`_rowid_` ASC LIMIT 10 OFFSET 10"
	if diff := cmp.Diff(wantItems, normalizeSQL(plan.Items.SQL)); diff != "" {
		t.Errorf("items SQL mismatch (-want +got):\n%s", diff)
	}

	wantCount := "SELECT COUNT(DISTINCT `posts`.`id`) FROM `posts` LEFT JOIN json_each(`posts`.`tags`) `__je_tags` " +
		"WHERE (`posts`.`flag` = :rule) AND (`__je_tags`.`value` = :P) AND (`posts`.`count` > :P)"
	if diff := cmp.Diff(wantCount, normalizeSQL(plan.Count.SQL)); diff != "" {
		t.Errorf("count SQL mismatch (-want +got):\n%s", diff)
	}

	assertParamsReferenced(t, plan.Items)
	assertParamsReferenced(t, plan.Count)

	if len(base.Where) != 1 || base.Distinct || len(base.Joins) != 0 || len(base.OrderBy) != 0 {
		t.Fatalf("the base query was modified: %+v", base)
	}
}

func TestProviderLimits(t *testing.T) {
	resolver := search.NewSimpleFieldResolver(`^\w+$`)
	query := search.NewSelectQuery("test")

	tests := []struct {
		name     string
		provider *search.Provider
		wantErr  error
	}{
		{name: "no query", provider: search.NewProvider(resolver), wantErr: search.ErrEmptyQuery},
		{
			name:     "filter at the length limit",
			provider: search.NewProvider(resolver).Query(query).AddFilter(search.FilterData("a = '" + strings.Repeat("x", search.MaxFilterLength-6) + "'")),
		},
		{
			name:     "filter over the length limit",
			provider: search.NewProvider(resolver).Query(query).AddFilter(search.FilterData("a = '" + strings.Repeat("x", search.MaxFilterLength-5) + "'")),
			wantErr:  search.ErrFilterLengthLimit,
		},
		{
			name:     "too many comparisons",
			provider: search.NewProvider(resolver).Query(query).AddFilter(search.FilterData(strings.Repeat("a = 1 && ", 200) + "a = 1")),
			wantErr:  search.ErrFilterExprLimit,
		},
		{
			name:     "custom comparisons limit",
			provider: search.NewProvider(resolver).Query(query).MaxFilterExprLimit(1).AddFilter("a = 1 && b = 2"),
			wantErr:  search.ErrFilterExprLimit,
		},
		{
			name:     "sort fields at the limit",
			provider: search.NewProvider(resolver).Query(query).Sort(search.ParseSortFromString("a,b,c,d,e,f,g,h")),
		},
		{
			name:     "too many sort fields",
			provider: search.NewProvider(resolver).Query(query).Sort(search.ParseSortFromString("a,b,c,d,e,f,g,h,i")),
			wantErr:  search.ErrSortExprLimit,
		},
		{
			name:     "custom sort limit",
			provider: search.NewProvider(resolver).Query(query).MaxSortExprLimit(1).Sort(search.ParseSortFromString("a,b")),
			wantErr:  search.ErrSortExprLimit,
		},
		{
			name:     "sort field at the length limit",
			provider: search.NewProvider(resolver).Query(query).AddSort(search.SortField{Name: strings.Repeat("a", search.MaxSortFieldLength), Direction: search.SortAsc}),
		},
		{
			name:     "sort field over the length limit",
			provider: search.NewProvider(resolver).Query(query).AddSort(search.SortField{Name: strings.Repeat("a", search.MaxSortFieldLength+1), Direction: search.SortAsc}),
			wantErr:  search.ErrSortFieldLengthLimit,
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.provider.Build()
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("expected %v, got %v", tc.wantErr, err)
			}
		})
	}
}

func TestPlanResult(t *testing.T) {
	tests := []struct {
		name  string
		plan  search.Plan
		items any
		total int
		want  string
	}{
		{
			name:  "totals",
			plan:  search.Plan{Page: 2, PerPage: 3},
			items: []map[string]any{{"id": "a"}},
			total: 7,
			want:  `{"items":[{"id":"a"}],"page":2,"perPage":3,"totalItems":7,"totalPages":3}`,
		},
		{
			name:  "no items",
			plan:  search.Plan{Page: 1, PerPage: 30},
			items: nil,
			want:  `{"items":[],"page":1,"perPage":30,"totalItems":0,"totalPages":0}`,
		},
		{
			name:  "skipTotal",
			plan:  search.Plan{Page: 1, PerPage: 30, SkipTotal: true},
			items: []string{},
			total: 99,
			want:  `{"items":[],"page":1,"perPage":30,"totalItems":-1,"totalPages":-1}`,
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(tc.plan.Result(tc.items, tc.total))
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tc.want {
				t.Fatalf("got %s, want %s", raw, tc.want)
			}
		})
	}
}

func TestProviderHugePage(t *testing.T) {
	plan, err := search.NewProvider(search.NewSimpleFieldResolver()).
		Query(search.NewSelectQuery("test")).
		Page(math.MaxInt).
		PerPage(1000).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	if want := "SELECT * FROM `test` LIMIT 1000 OFFSET 9223372036854775807"; plan.Items.SQL != want {
		t.Fatalf("got %q, want %q", plan.Items.SQL, want)
	}
}
