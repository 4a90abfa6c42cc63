package search

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"
)

// Limits and defaults of the list parameters (PocketBase tools/search/provider.go).
const (
	// DefaultPerPage is the page size when perPage is missing or <= 0.
	DefaultPerPage = 30
	// MaxPerPage is the largest page size; larger values are clamped.
	MaxPerPage = 1000
	// DefaultSortExprLimit is the maximum number of sort fields.
	DefaultSortExprLimit = 8
	// MaxFilterLength is the maximum length in bytes of one client filter.
	MaxFilterLength = 3500
	// MaxSortFieldLength is the maximum length in bytes of one sort field name.
	MaxSortFieldLength = 255
)

// URL query parameter names read by [Provider.Parse].
const (
	PageQueryParam      = "page"
	PerPageQueryParam   = "perPage"
	SortQueryParam      = "sort"
	FilterQueryParam    = "filter"
	SkipTotalQueryParam = "skipTotal"
)

// Result is the JSON shape of a list response; the keys come in PocketBase's order.
type Result struct {
	Items      any `json:"items"`
	Page       int `json:"page"`
	PerPage    int `json:"perPage"`
	TotalItems int `json:"totalItems"`
	TotalPages int `json:"totalPages"`
}

// Provider collects the list parameters of a request and builds the SQL of the page and
// of the total count. It does not run them: see [Provider.Build] and [Plan.Result].
type Provider struct {
	resolver           FieldResolver
	query              *SelectQuery
	countCol           string
	uniqueKey          string
	sort               []SortField
	filter             []FilterData
	page               int
	perPage            int
	skipTotal          bool
	maxFilterExprLimit int
	maxSortExprLimit   int
	now                func() time.Time
}

// NewProvider returns a Provider that resolves fields with resolver, with page 1, perPage
// [DefaultPerPage] and the default limits.
func NewProvider(resolver FieldResolver) *Provider {
	return &Provider{
		resolver:           resolver,
		countCol:           "id",
		page:               1,
		perPage:            DefaultPerPage,
		maxFilterExprLimit: DefaultFilterExprLimit,
		maxSortExprLimit:   DefaultSortExprLimit,
	}
}

// Query sets the base query (table, joins, conditions such as the API rule). It is
// cloned by Build, never modified.
func (p *Provider) Query(query *SelectQuery) *Provider {
	p.query = query
	return p
}

// RowidColumn is SQLite's rowid of a table, for [Provider.CountCol].
const RowidColumn = "_rowid_"

// CountCol sets the column counted (DISTINCT) for the total; default "id".
// [RowidColumn] counts the rows of a rowid table.
func (p *Provider) CountCol(name string) *Provider {
	p.countCol = name
	return p
}

// UniqueKey names a field that identifies a row of a rowid table (a record's "id").
// A sort that starts descending on another field and ends with it is a total order,
// which lets Build read the rows newest first ([SelectQuery.ReverseScan]): the result is
// the same, only cheaper to sort. Set it only when no index can serve the sort (the
// subquery hides indexes from the ORDER BY). Empty (the default) disables that.
func (p *Provider) UniqueKey(name string) *Provider {
	p.uniqueKey = name
	return p
}

// Page sets the page number; values <= 0 become 1 in Build.
func (p *Provider) Page(page int) *Provider {
	p.page = page
	return p
}

// PerPage sets the page size; values <= 0 become [DefaultPerPage] and values above
// [MaxPerPage] are clamped in Build.
func (p *Provider) PerPage(perPage int) *Provider {
	p.perPage = perPage
	return p
}

// SkipTotal disables the count query; the result then has -1 totals.
func (p *Provider) SkipTotal(skipTotal bool) *Provider {
	p.skipTotal = skipTotal
	return p
}

// Sort replaces the sort fields.
func (p *Provider) Sort(fields []SortField) *Provider {
	p.sort = fields
	return p
}

// AddSort appends a sort field.
func (p *Provider) AddSort(field SortField) *Provider {
	p.sort = append(p.sort, field)
	return p
}

// Filter replaces the filters.
func (p *Provider) Filter(filters []FilterData) *Provider {
	p.filter = filters
	return p
}

// AddFilter appends a filter; an empty one is ignored. Filters are combined with AND.
func (p *Provider) AddFilter(filter FilterData) *Provider {
	if filter != "" {
		p.filter = append(p.filter, filter)
	}
	return p
}

// MaxFilterExprLimit changes the comparisons limit, applied to each filter separately.
func (p *Provider) MaxFilterExprLimit(limit int) *Provider {
	p.maxFilterExprLimit = limit
	return p
}

// MaxSortExprLimit changes the sort fields limit.
func (p *Provider) MaxSortExprLimit(limit int) *Provider {
	p.maxSortExprLimit = limit
	return p
}

// Clock sets the time source of the datetime macros; nil means time.Now.
func (p *Provider) Clock(now func() time.Time) *Provider {
	p.now = now
	return p
}

// Parse reads page, perPage, sort, filter and skipTotal from a raw URL query string.
// See [Provider.ParseValues].
func (p *Provider) Parse(rawQuery string) error {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidQueryParam, err)
	}
	return p.ParseValues(values)
}

// ParseValues reads page, perPage, sort, filter and skipTotal (first values, empty ones
// ignored). page and perPage must be integers and skipTotal a strconv.ParseBool value;
// sort and filter are appended to the existing ones.
func (p *Provider) ParseValues(values url.Values) error {
	if raw := values.Get(SkipTotalQueryParam); raw != "" {
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%w %s: %w", ErrInvalidQueryParam, SkipTotalQueryParam, err)
		}
		p.SkipTotal(v)
	}

	if raw := values.Get(PageQueryParam); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%w %s: %w", ErrInvalidQueryParam, PageQueryParam, err)
		}
		p.Page(v)
	}

	if raw := values.Get(PerPageQueryParam); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%w %s: %w", ErrInvalidQueryParam, PerPageQueryParam, err)
		}
		p.PerPage(v)
	}

	if raw := values.Get(SortQueryParam); raw != "" {
		for _, field := range ParseSortFromString(raw) {
			p.AddSort(field)
		}
	}

	if raw := values.Get(FilterQueryParam); raw != "" {
		p.AddFilter(FilterData(raw))
	}

	return nil
}

// Plan is the SQL of one list request, ready to be run by the caller.
type Plan struct {
	// Items selects the requested page.
	Items Expr
	// Count selects the total number of matching rows as a single integer; it is empty
	// when SkipTotal is set.
	Count Expr
	// Page is the normalized page number (>= 1).
	Page int
	// PerPage is the normalized page size (1..MaxPerPage).
	PerPage int
	// SkipTotal reports whether the total is skipped.
	SkipTotal bool
}

// Build checks the limits, resolves the filters and the sort, lets the resolver update the
// query (joins) and returns the items and count queries with the normalized pagination.
func (p *Provider) Build() (*Plan, error) {
	if p.query == nil {
		return nil, ErrEmptyQuery
	}
	if p.resolver == nil {
		return nil, errors.New("missing field resolver")
	}

	query := p.query.Clone()
	opts := BuildOptions{MaxExpressions: p.maxFilterExprLimit, Now: p.now}
	if opts.MaxExpressions <= 0 {
		// note: PocketBase rejects every filter with a limit <= 0; keep that meaning
		opts.MaxExpressions = -1
	}

	for _, f := range p.filter {
		if len(f) > MaxFilterLength {
			return nil, fmt.Errorf("%w: %w", ErrInvalidFilter, ErrFilterLengthLimit)
		}

		expr, err := f.BuildExprWithOptions(p.resolver, opts)
		if err != nil {
			return nil, err
		}
		query.AndWhere(expr)
	}

	if len(p.sort) > p.maxSortExprLimit {
		return nil, ErrSortExprLimit
	}
	for _, field := range p.sort {
		if len(field.Name) > MaxSortFieldLength {
			return nil, ErrSortFieldLengthLimit
		}

		term, err := field.BuildExpr(p.resolver)
		if err != nil {
			return nil, err
		}
		if field.Name == RowidSortKey {
			// qualify the rowid with the main table: joined tables have one too
			term = QuoteIdent(query.TableAlias(), "_rowid_") + " " + field.Direction
		}
		query.AndOrderBy(term)
	}

	if err := p.resolver.UpdateQuery(query); err != nil {
		return nil, fmt.Errorf("updating the search query: %w", err)
	}

	plan := &Plan{
		Page:      max(p.page, 1),
		PerPage:   p.perPage,
		SkipTotal: p.skipTotal,
	}
	if plan.PerPage <= 0 {
		plan.PerPage = DefaultPerPage
	}
	plan.PerPage = min(plan.PerPage, MaxPerPage)

	if !p.skipTotal {
		count := query.Clone()
		count.Distinct = false
		count.Selects = []string{"COUNT(DISTINCT " + QuoteIdent(query.TableAlias(), p.countCol) + ")"}
		if p.countCol == RowidColumn && !query.Distinct && len(query.Joins) == 0 {
			// note: without joins every row is a distinct row of the table, with a
			// distinct non-null rowid: COUNT(*) is the same number, and SQLite counts a
			// whole table from its b-tree instead of reading every rowid into a set
			count.Selects = []string{"COUNT(*)"}
		}
		count.OrderBy = nil
		count.Limit, count.Offset = 0, 0
		plan.Count = count.Build()
	}

	query.Limit = int64(plan.PerPage)
	query.Offset = offset(plan.Page, plan.PerPage)
	query.ReverseScan = p.reverseScan()
	plan.Items = query.Build()

	return plan, nil
}

// reverseScan reports whether the sort is a total order (it ends with the unique key)
// that starts descending on another field, over the table's own columns.
func (p *Provider) reverseScan() bool {
	if p.uniqueKey == "" || len(p.sort) < 2 {
		return false
	}
	// note: a sort on the unique key alone walks its index, with no sort at all
	first, last := p.sort[0], p.sort[len(p.sort)-1]
	if first.Direction != SortDesc || first.Name == p.uniqueKey || last.Name != p.uniqueKey {
		return false
	}
	for _, field := range p.sort {
		// note: the subquery has no _rowid_ column; RANDOM() orders nothing
		if field.Name == RowidSortKey || field.Name == RandomSortKey {
			return false
		}
	}

	return true
}

// offset returns perPage*(page-1), saturated at math.MaxInt64.
func offset(page, perPage int) int64 {
	pages := int64(page) - 1
	if pages > math.MaxInt64/int64(perPage) {
		return math.MaxInt64
	}
	return pages * int64(perPage)
}

// Result returns the response for the fetched page items and the total from the count
// query (ignored when the total is skipped: both totals are then -1). A nil items becomes
// an empty list.
func (pl *Plan) Result(items any, totalItems int) *Result {
	if items == nil {
		items = []any{}
	}

	result := &Result{
		Items:      items,
		Page:       pl.Page,
		PerPage:    pl.PerPage,
		TotalItems: -1,
		TotalPages: -1,
	}

	if !pl.SkipTotal {
		result.TotalItems = totalItems
		result.TotalPages = 0
		if pl.PerPage > 0 {
			result.TotalPages = int(math.Ceil(float64(totalItems) / float64(pl.PerPage)))
		}
	}

	return result
}
