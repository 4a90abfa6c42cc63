package search

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ganigeorgiev/fexpr"
)

// DefaultFilterExprLimit is the maximum number of comparisons in one filter.
const DefaultFilterExprLimit = 200

// FilterData is a filter expression in PocketBase's filter language (the fexpr grammar):
// comparisons joined with && and ||, parentheses, quoted texts, numbers, true/false/null,
// datetime macros (@now…) and the geoDistance()/strftime() functions.
//
// It may contain {:name} placeholders, replaced before parsing by the quoted literal of the
// matching value passed to [FilterData.BuildExpr], so a value can never change the
// expression's structure.
type FilterData string

// BuildOptions tunes [FilterData.BuildExprWithOptions].
type BuildOptions struct {
	// MaxExpressions caps the number of comparisons; 0 means [DefaultFilterExprLimit]
	// and a negative value rejects every comparison.
	MaxExpressions int
	// Now returns the time the datetime macros are computed from; nil means time.Now.
	Now func() time.Time
}

// BuildExpr parses the filter and returns the WHERE expression, resolving identifiers with
// resolver and binding every value as a parameter. Placeholders {:name} in the filter are
// replaced by the values of the first params map that has the key.
//
// The filter may contain at most [DefaultFilterExprLimit] comparisons. Every error wraps
// [ErrInvalidFilter].
func (f FilterData) BuildExpr(resolver FieldResolver, params ...Params) (Expr, error) {
	return f.BuildExprWithOptions(resolver, BuildOptions{}, params...)
}

// BuildExprWithOptions is [FilterData.BuildExpr] with a custom comparisons limit or clock.
func (f FilterData) BuildExprWithOptions(resolver FieldResolver, opts BuildOptions, params ...Params) (Expr, error) {
	expr, err := f.build(resolver, opts, params)
	if err != nil {
		return Expr{}, Classify(ErrInvalidFilter, err)
	}
	return expr, nil
}

func (f FilterData) build(resolver FieldResolver, opts BuildOptions, params []Params) (Expr, error) {
	if resolver == nil {
		return Expr{}, errors.New("missing field resolver")
	}

	raw, err := replacePlaceholders(string(f), params)
	if err != nil {
		return Expr{}, err
	}

	groups, err := parseFilter(raw)
	if err != nil {
		return Expr{}, err
	}

	b := &filterBuilder{resolver: resolver, remaining: opts.MaxExpressions, now: time.Now()}
	if b.remaining == 0 {
		b.remaining = DefaultFilterExprLimit
	}
	if opts.Now != nil {
		b.now = opts.Now()
	}

	return b.buildGroups(groups)
}

// parsedFilters caches parsed filters: the same API rules are parsed on every request.
var parsedFilters = struct {
	sync.RWMutex
	m map[string][]fexpr.ExprGroup
}{m: make(map[string][]fexpr.ExprGroup)}

// maxParsedFilters bounds the cache; once full, new filters are parsed every time.
const maxParsedFilters = 500

func parseFilter(raw string) ([]fexpr.ExprGroup, error) {
	parsedFilters.RLock()
	groups, ok := parsedFilters.m[raw]
	parsedFilters.RUnlock()
	if ok {
		return groups, nil
	}

	groups, err := fexpr.Parse(raw)
	if err != nil {
		return nil, err // fexpr's own words, as PocketBase shows them
	}

	parsedFilters.Lock()
	if len(parsedFilters.m) < maxParsedFilters {
		parsedFilters.m[raw] = groups
	}
	parsedFilters.Unlock()

	return groups, nil
}

// replacePlaceholders substitutes every {:name} with the filter-language literal of its
// value: null, a bool, a number or a double-quoted text.
func replacePlaceholders(raw string, params []Params) (string, error) {
	if len(params) == 0 || !strings.Contains(raw, "{:") {
		return raw, nil
	}

	var pairs []string
	for _, p := range params {
		keys := make([]string, 0, len(p))
		for k := range p {
			keys = append(keys, k)
		}
		slices.Sort(keys)

		for _, k := range keys {
			literal, err := placeholderLiteral(p[k])
			if err != nil {
				return "", fmt.Errorf("serializing placeholder %q: %w", k, err)
			}
			pairs = append(pairs, "{:"+k+"}", literal)
		}
	}

	return strings.NewReplacer(pairs...).Replace(raw), nil
}

func placeholderLiteral(value any) (string, error) {
	switch v := value.(type) {
	case nil:
		return "null", nil
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return toString(v), nil
	case string:
		return strconv.Quote(v), nil
	case []byte:
		return strconv.Quote(string(v)), nil
	case json.Number:
		return strconv.Quote(string(v)), nil
	case fmt.Stringer:
		return strconv.Quote(v.String()), nil
	case error:
		return strconv.Quote(v.Error()), nil
	}

	// anything else (slices, maps, structs) is compared as its JSON text
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(value); err != nil {
		return "", err
	}

	return strconv.Quote(strings.TrimSuffix(buf.String(), "\n")), nil
}

// toString converts scalar values to text the way PocketBase's cast.ToString does;
// other values become the empty string.
func toString(value any) string {
	switch v := value.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int8:
		return strconv.FormatInt(int64(v), 10)
	case int16:
		return strconv.FormatInt(int64(v), 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint:
		return strconv.FormatUint(uint64(v), 10)
	case uint8:
		return strconv.FormatUint(uint64(v), 10)
	case uint16:
		return strconv.FormatUint(uint64(v), 10)
	case uint32:
		return strconv.FormatUint(uint64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return string(v)
	case fmt.Stringer:
		return v.String()
	case error:
		return v.Error()
	}

	return ""
}

// filterBuilder turns a parsed filter into SQL.
type filterBuilder struct {
	resolver  FieldResolver
	remaining int
	now       time.Time
}

func (b *filterBuilder) buildGroups(groups []fexpr.ExprGroup) (Expr, error) {
	if len(groups) == 0 {
		return Expr{}, fexpr.ErrEmpty
	}

	// term is one built group with its cost class (cheapTerm, costlyTerm, likeTerm).
	type term struct {
		expr Expr
		cost int
	}
	terms := make([]term, 0, len(groups))
	onlyAnd := true
	for i, group := range groups {
		var (
			t   term
			err error
		)

		switch item := group.Item.(type) {
		case fexpr.Expr:
			if b.remaining <= 0 {
				return Expr{}, ErrFilterExprLimit
			}
			b.remaining--
			t.expr, err = b.buildComparison(item)
			t.cost = comparisonCost(item.Op)
		case fexpr.ExprGroup:
			t.expr, err = b.buildGroups([]fexpr.ExprGroup{item})
			t.cost = costlyTerm
		case []fexpr.ExprGroup:
			t.expr, err = b.buildGroups(item)
			t.cost = costlyTerm
		default:
			err = fmt.Errorf("unsupported expression item %T", item)
		}
		if err != nil {
			return Expr{}, err
		}
		terms = append(terms, t)
		onlyAnd = onlyAnd && (i == 0 || group.Join != fexpr.JoinOr)
	}

	// SQLite tests the terms of a full scan in the order they are written, so in a run of
	// ANDs the cheap comparisons go first and a row they reject never reaches a LIKE or a
	// subquery. AND commutes: the rows matched are the same.
	if onlyAnd {
		slices.SortStableFunc(terms, func(x, y term) int { return cmp.Compare(x.cost, y.cost) })
	}

	sqls := make([]string, 0, 2*len(groups)-1)
	params := make([]Params, 0, len(groups))
	for i, t := range terms {
		if i > 0 {
			if !onlyAnd && groups[i].Join == fexpr.JoinOr {
				sqls = append(sqls, "OR")
			} else {
				sqls = append(sqls, "AND")
			}
		}
		sqls = append(sqls, t.expr.SQL)
		params = append(params, t.expr.Params)
	}

	// note: a single comparison is already self-contained (a binary operator, or an
	// enclosed expression), so only groups of several need parentheses; AND binds tighter
	// than OR in both fexpr and SQL.
	if len(sqls) == 1 {
		return Expr{SQL: sqls[0], Params: mergeParams(params...)}, nil
	}

	return Expr{SQL: "(" + strings.Join(sqls, " ") + ")", Params: mergeParams(params...)}, nil
}

// Relative costs of filter terms, for ordering the terms of an AND.
const (
	cheapTerm  = 0 // a comparison of values
	costlyTerm = 1 // a nested group, or an any-of comparison (a subquery over the values)
	likeTerm   = 2 // a LIKE, which scans the text
)

// comparisonCost is the cost class of a comparison with the operator op.
func comparisonCost(op fexpr.SignOp) int {
	switch op {
	case fexpr.SignLike, fexpr.SignNlike, fexpr.SignAnyLike, fexpr.SignAnyNlike:
		return likeTerm
	case fexpr.SignAnyEq, fexpr.SignAnyNeq, fexpr.SignAnyLt, fexpr.SignAnyLte, fexpr.SignAnyGt, fexpr.SignAnyGte:
		return costlyTerm
	}
	return cheapTerm
}

func (b *filterBuilder) buildComparison(e fexpr.Expr) (Expr, error) {
	left, err := b.resolveToken(e.Left)
	if err != nil {
		return Expr{}, fmt.Errorf("invalid left operand %q - %w", e.Left.Literal, err)
	}

	right, err := b.resolveToken(e.Right)
	if err != nil {
		return Expr{}, fmt.Errorf("invalid right operand %q - %w", e.Right.Literal, err)
	}

	expr, err := buildResolversExpr(left, e.Op, right)
	if err != nil {
		return Expr{}, err
	}

	// a hook may return any expression (e.g. "x AND y"): keep it self-contained
	if left.AfterBuild != nil || right.AfterBuild != nil {
		expr = Enclose(expr)
	}

	return expr, nil
}

func (b *filterBuilder) resolveToken(token fexpr.Token) (*ResolverResult, error) {
	switch token.Type {
	case fexpr.TokenIdentifier:
		if value, ok := identifierMacro(token.Literal, b.now); ok {
			id, params := newParam(value)
			return &ResolverResult{Identifier: id, Params: params}, nil
		}

		result, err := b.resolver.Resolve(token.Literal)
		if err != nil || result == nil || result.Identifier == "" {
			// null, true and false are literals unless the resolver knows such a field
			switch strings.ToLower(token.Literal) {
			case "null":
				return &ResolverResult{Identifier: "NULL"}, nil
			case "true":
				return &ResolverResult{Identifier: "1"}, nil
			case "false":
				return &ResolverResult{Identifier: "0"}, nil
			}
			if err == nil {
				err = ErrUnknownField
			}
			return nil, err
		}

		return result, nil
	case fexpr.TokenText:
		id, params := newParam(token.Literal)
		return &ResolverResult{Identifier: id, Params: params}, nil
	case fexpr.TokenNumber:
		// note: invalid numbers are rejected by the scanner; PocketBase's cast falls back to 0
		n, _ := strconv.ParseFloat(token.Literal, 64)
		id, params := newParam(n)
		return &ResolverResult{Identifier: id, Params: params}, nil
	case fexpr.TokenFunction:
		fn, ok := tokenFunctions[token.Literal]
		if !ok {
			return nil, fmt.Errorf("unknown function %q", token.Literal)
		}
		args, _ := token.Meta.([]fexpr.Token)
		return fn(b.resolveToken, args)
	}

	return nil, fmt.Errorf("unsupported token type %q", token.Type)
}

// buildResolversExpr builds "left op right", including the multi-match constraint of
// multi-valued operands for the operators without "?".
func buildResolversExpr(left *ResolverResult, op fexpr.SignOp, right *ResolverResult) (Expr, error) {
	var expr Expr

	switch op {
	case fexpr.SignEq, fexpr.SignAnyEq:
		expr = equalExpr(true, left, right)
	case fexpr.SignNeq, fexpr.SignAnyNeq:
		expr = equalExpr(false, left, right)
	case fexpr.SignLike, fexpr.SignAnyLike:
		expr = likeExpr("LIKE", left, right)
	case fexpr.SignNlike, fexpr.SignAnyNlike:
		expr = likeExpr("NOT LIKE", left, right)
	case fexpr.SignLt, fexpr.SignAnyLt:
		expr = binaryExpr("<", left, right)
	case fexpr.SignLte, fexpr.SignAnyLte:
		expr = binaryExpr("<=", left, right)
	case fexpr.SignGt, fexpr.SignAnyGt:
		expr = binaryExpr(">", left, right)
	case fexpr.SignGte, fexpr.SignAnyGte:
		expr = binaryExpr(">=", left, right)
	default:
		return Expr{}, fmt.Errorf("unknown expression operator %q", op)
	}

	if !isAnyMatchOp(op) {
		var (
			mm  Expr
			err error
		)

		switch {
		case left.MultiMatchSubQuery != nil && right.MultiMatchSubQuery != nil:
			mm, err = manyVsManyExpr(left, op, right)
		case left.MultiMatchSubQuery != nil:
			mm, err = manyVsOneExpr(left.MultiMatchSubQuery, left.NullFallback, op, right, false)
		case right.MultiMatchSubQuery != nil:
			mm, err = manyVsOneExpr(right.MultiMatchSubQuery, right.NullFallback, op, left, true)
		}
		if err != nil {
			return Expr{}, err
		}

		if !mm.IsEmpty() {
			expr = Enclose(And(expr, mm))
		}
	}

	if left.AfterBuild != nil {
		expr = left.AfterBuild(expr)
	}
	if right.AfterBuild != nil {
		expr = right.AfterBuild(expr)
	}

	return expr, nil
}

func binaryExpr(op string, left, right *ResolverResult) Expr {
	return Expr{
		SQL:    left.Identifier + " " + op + " " + right.Identifier,
		Params: mergeParams(left.Params, right.Params),
	}
}

// equalExpr builds = (equal) or != so that NULL and the empty string compare as equal,
// using COALESCE only when neither side is known to be empty or non-empty.
//
// note: the first form below lets SQLite use an index where the second would scan, and
// != is "IS NOT" because "x != NULL" is NULL, not true (PocketBase tools/search/filter.go
// resolveEqualExpr):
//
//	a = '' OR a IS NULL
//	COALESCE(a, '') = ''
func equalExpr(equal bool, left, right *ResolverResult) Expr {
	equalOp, nullEqualOp, concatOp, nullExpr := "=", "IS", "OR", "IS NULL"
	if !equal {
		equalOp, nullEqualOp, concatOp, nullExpr = "IS NOT", "IS NOT", "AND", "IS NOT NULL"
	}

	// a IS b / a IS NOT b, e.g. for JSON values where null and "" differ
	if left.NullFallback == NullFallbackDisabled || right.NullFallback == NullFallbackDisabled {
		return Expr{
			SQL:    left.Identifier + " " + nullEqualOp + " " + right.Identifier,
			Params: mergeParams(left.Params, right.Params),
		}
	}

	isLeftEmpty := isEmptyIdentifier(left) ||
		(left.NullFallback == NullFallbackAuto && len(left.Params) == 1 && hasEmptyParamValue(left))
	isRightEmpty := isEmptyIdentifier(right) ||
		(right.NullFallback == NullFallbackAuto && len(right.Params) == 1 && hasEmptyParamValue(right))

	// an empty side is written as '' and its parameters are dropped
	l, lParams := left.Identifier, left.Params
	if isLeftEmpty {
		l, lParams = "''", nil
	}
	r, rParams := right.Identifier, right.Params
	if isRightEmpty {
		r, rParams = "''", nil
	}
	params := mergeParams(lParams, rParams)

	switch {
	case isLeftEmpty && isRightEmpty:
		return Expr{SQL: "'' " + equalOp + " ''", Params: params}
	case isKnownNonEmptyIdentifier(left) || isKnownNonEmptyIdentifier(right):
		// at least one side is known to be non-empty: compare directly
		return Expr{SQL: l + " " + equalOp + " " + r, Params: params}
	case isLeftEmpty:
		return Expr{SQL: "('' " + equalOp + " " + r + " " + concatOp + " " + r + " " + nullExpr + ")", Params: params}
	case isRightEmpty:
		return Expr{SQL: "(" + l + " " + equalOp + " '' " + concatOp + " " + l + " " + nullExpr + ")", Params: params}
	}

	return Expr{SQL: "COALESCE(" + l + ", '') " + equalOp + " COALESCE(" + r + ", '')", Params: params}
}

func hasEmptyParamValue(r *ResolverResult) bool {
	for _, v := range r.Params {
		switch v := v.(type) {
		case nil:
			return true
		case string:
			if v == "" {
				return true
			}
		}
	}
	return false
}

func isKnownNonEmptyIdentifier(r *ResolverResult) bool {
	if r.NullFallback == NullFallbackEnforced {
		return false
	}

	switch strings.ToLower(r.Identifier) {
	case "1", "0", "false", "true":
		return true
	}

	return len(r.Params) > 0 && !hasEmptyParamValue(r) && !isEmptyIdentifier(r)
}

func isEmptyIdentifier(r *ResolverResult) bool {
	switch strings.ToLower(r.Identifier) {
	case "", "null", "''", `""`, "``":
		return true
	}
	return false
}

func isAnyMatchOp(op fexpr.SignOp) bool {
	switch op {
	case fexpr.SignAnyEq, fexpr.SignAnyNeq, fexpr.SignAnyLike, fexpr.SignAnyNlike,
		fexpr.SignAnyLt, fexpr.SignAnyLte, fexpr.SignAnyGt, fexpr.SignAnyGte:
		return true
	}
	return false
}

// likeExpr builds "left [NOT] LIKE right ESCAPE '\'". A right side without parameters (a
// column) is wrapped in '%' in SQL; the text values of a right side with parameters are
// wrapped in '%' (their '%', '_' and '\' escaped) unless they hold an unescaped '%'.
func likeExpr(op string, left, right *ResolverResult) Expr {
	if len(right.Params) == 0 {
		return Expr{
			SQL:    left.Identifier + " " + op + " ('%' || " + right.Identifier + " || '%') ESCAPE '\\'",
			Params: mergeParams(left.Params),
		}
	}

	return Expr{
		SQL:    left.Identifier + " " + op + " " + right.Identifier + " ESCAPE '\\'",
		Params: mergeParams(left.Params, wrapLikeParams(right.Params)),
	}
}

func wrapLikeParams(params Params) Params {
	result := make(Params, len(params))
	for k, v := range params {
		s := toString(v)
		if !containsUnescapedPercent(s) {
			s = "%" + escapeLikeWildcards(s) + "%"
		}
		result[k] = s
	}
	return result
}

// containsUnescapedPercent reports whether s has a '%' not preceded by an escaping '\'
// ("\\" is an escaped backslash).
func containsUnescapedPercent(s string) bool {
	escaped := false
	for i := 0; i < len(s); i++ {
		switch {
		case escaped:
			escaped = false
		case s[i] == '\\':
			escaped = true
		case s[i] == '%':
			return true
		}
	}
	return false
}

// escapeLikeWildcards escapes the '%', '_' and '\' of s that are not already escaped,
// so that s matches literally in a LIKE with ESCAPE '\'.
//
// note: this follows PocketBase's escapeUnescapedChars exactly: s is scanned from the end
// and each special character takes the character before it as its escape, keeping a '\'
// there or inserting one, and that character is not examined itself. So "a_b" becomes
// "a\_b" and "\_" stays, but in "__" the first '_' stays a wildcard ("_\_"); kept for
// identical results.
func escapeLikeWildcards(s string) string {
	rs := []rune(s)
	reversed := make([]rune, 0, len(rs)+4)

	for i := len(rs) - 1; i >= 0; i-- {
		c := rs[i]
		reversed = append(reversed, c)
		if c != '%' && c != '_' && c != '\\' {
			continue
		}

		if i == 0 {
			reversed = append(reversed, '\\')
			break
		}

		// the previous character is the escape of c
		i--
		if rs[i] != '\\' {
			reversed = append(reversed, '\\')
		}
		reversed = append(reversed, rs[i])
	}

	slices.Reverse(reversed)

	return string(reversed)
}

// randomAlias returns a fresh alias for the multi-match subqueries.
func randomAlias(prefix string) string {
	return prefix + NewParamName()[1:9]
}

// manyVsOneExpr requires "value op other" to hold for every value of the multi-valued
// operand: NOT EXISTS a value for which it does not hold. With inverse the multi-valued
// operand is on the right.
func manyVsOneExpr(sub *MultiMatchSubquery, nullFallback NullFallbackPreference, op fexpr.SignOp, other *ResolverResult, inverse bool) (Expr, error) {
	subExpr, err := sub.Build()
	if err != nil {
		return Expr{}, err
	}

	alias := randomAlias("__sm")

	value := &ResolverResult{
		NullFallback: nullFallback,
		Identifier:   QuoteIdent(alias, "multiMatchValue"),
		AfterBuild:   Not, // the counter-example
	}
	plainOther := &ResolverResult{Identifier: other.Identifier, Params: other.Params}

	var where Expr
	if inverse {
		where, err = buildResolversExpr(plainOther, op, value)
	} else {
		where, err = buildResolversExpr(value, op, plainOther)
	}
	if err != nil {
		return Expr{}, err
	}

	return Expr{
		SQL:    "NOT EXISTS (SELECT 1 FROM (" + subExpr.SQL + ") " + QuoteIdent(alias) + " WHERE " + where.SQL + ")",
		Params: mergeParams(subExpr.Params, where.Params),
	}, nil
}

// manyVsManyExpr requires "l op r" to hold for every pair of values of two multi-valued
// operands.
func manyVsManyExpr(left *ResolverResult, op fexpr.SignOp, right *ResolverResult) (Expr, error) {
	leftSub, err := left.MultiMatchSubQuery.Build()
	if err != nil {
		return Expr{}, err
	}
	rightSub, err := right.MultiMatchSubQuery.Build()
	if err != nil {
		return Expr{}, err
	}

	lAlias := randomAlias("__ml")
	rAlias := randomAlias("__mr")

	where, err := buildResolversExpr(
		&ResolverResult{
			NullFallback: left.NullFallback,
			Identifier:   QuoteIdent(lAlias, "multiMatchValue"),
		},
		op,
		&ResolverResult{
			NullFallback: right.NullFallback,
			Identifier:   QuoteIdent(rAlias, "multiMatchValue"),
			AfterBuild:   Not, // the counter-example
		},
	)
	if err != nil {
		return Expr{}, err
	}

	return Expr{
		SQL: "NOT EXISTS (SELECT 1 FROM (" + leftSub.SQL + ") " + QuoteIdent(lAlias) +
			" LEFT JOIN (" + rightSub.SQL + ") " + QuoteIdent(rAlias) + " WHERE " + where.SQL + ")",
		Params: mergeParams(leftSub.Params, rightSub.Params, where.Params),
	}, nil
}
