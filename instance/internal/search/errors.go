package search

import "errors"

// Sentinel errors. Every error returned by [FilterData.BuildExpr] wraps ErrInvalidFilter
// (plus a more specific sentinel where one applies); an HTTP layer maps all of them to
// PocketBase's generic 400.
var (
	// ErrInvalidFilter wraps every filter parse or build failure.
	ErrInvalidFilter = errors.New("invalid filter")
	// ErrUnknownField is returned by resolvers for fields that do not exist or are not
	// allowed.
	ErrUnknownField = errors.New("unknown or not allowed field")
	// ErrFilterExprLimit is returned when a filter has more comparisons than allowed
	// ([DefaultFilterExprLimit] by default).
	ErrFilterExprLimit = errors.New("max filter expressions limit reached")
	// ErrFilterLengthLimit is returned by [Provider] for a filter longer than
	// [MaxFilterLength].
	ErrFilterLengthLimit = errors.New("max filter length limit reached")
	// ErrSortExprLimit is returned by [Provider] for more than [DefaultSortExprLimit]
	// sort fields.
	ErrSortExprLimit = errors.New("max sort expressions limit reached")
	// ErrSortFieldLengthLimit is returned by [Provider] for a sort field name longer than
	// [MaxSortFieldLength].
	ErrSortFieldLengthLimit = errors.New("max sort field length limit reached")
	// ErrInvalidSortField is returned by [SortField.BuildExpr] for a field that does not
	// resolve to a column or expression without parameters.
	ErrInvalidSortField = errors.New("invalid sort field")
	// ErrEmptyQuery is returned by [Provider.Build] when no base query was set.
	ErrEmptyQuery = errors.New("search query is not set")
	// ErrInvalidQueryParam is returned by [Provider.Parse] for a page, perPage or
	// skipTotal value that does not parse.
	ErrInvalidQueryParam = errors.New("invalid search query parameter")
)

// Classify returns err with sentinel attached for errors.Is, without changing its text.
// PocketBase shows raw filter errors to clients (a collection's "Invalid rule. Raw
// error: …"), so their wording has to be PocketBase's, while callers still tell the
// kinds of failure apart by sentinel.
func Classify(sentinel, err error) error {
	if err == nil || errors.Is(err, sentinel) {
		return err
	}
	return &classified{sentinel: sentinel, err: err}
}

type classified struct{ sentinel, err error }

func (e *classified) Error() string   { return e.err.Error() }
func (e *classified) Unwrap() []error { return []error{e.sentinel, e.err} }
