package search

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ganigeorgiev/fexpr"
)

// tokenFunction builds the operand of a filter function call such as geoDistance(...).
// resolveArg resolves one argument token the way a plain operand would be resolved.
type tokenFunction func(resolveArg func(fexpr.Token) (*ResolverResult, error), args []fexpr.Token) (*ResolverResult, error)

// maxStrftimeArgs caps strftime()'s arguments, as PocketBase does.
const maxStrftimeArgs = 10

var tokenFunctions = map[string]tokenFunction{
	"geoDistance": geoDistance,
	"strftime":    strftime,
}

// geoDistance(lonA, latA, lonB, latB) is the Haversine distance in km between two points.
// Arguments are identifiers (columns, NULL…) or numbers.
//
// note: like the SQLite functions it wraps, it applies no "match all" constraint to
// multi-valued arguments; the clamping into [-1, 1] avoids a NULL acos() for identical
// points due to rounding (PocketBase tools/search/token_functions.go).
func geoDistance(resolveArg func(fexpr.Token) (*ResolverResult, error), args []fexpr.Token) (*ResolverResult, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("[geoDistance] expected 4 arguments, got %d", len(args))
	}

	ids := make([]string, 4)
	params := make([]Params, 4)
	for i, arg := range args {
		if arg.Type != fexpr.TokenIdentifier && arg.Type != fexpr.TokenNumber {
			return nil, fmt.Errorf("[geoDistance] argument %d must be an identifier or number", i)
		}

		resolved, err := resolveArg(arg)
		if err != nil {
			return nil, fmt.Errorf("[geoDistance] failed to resolve argument %d: %w", i, err)
		}

		ids[i] = resolved.Identifier
		params[i] = resolved.Params
	}

	lonA, latA, lonB, latB := ids[0], ids[1], ids[2], ids[3]

	return &ResolverResult{
		NullFallback: NullFallbackDisabled,
		Identifier: "(6371 * acos(min(1, max(-1, " +
			"cos(radians(" + latA + ")) * cos(radians(" + latB + ")) * " +
			"cos(radians(" + lonB + ") - radians(" + lonA + ")) + " +
			"sin(radians(" + latA + ")) * sin(radians(" + latB + "))" +
			"))))",
		Params: mergeParams(params...),
	}, nil
}

// strftime(format, [timeValue, modifiers...]) is SQLite's strftime() with the result
// compared like PocketBase's non-nullable text/date fields (NULL equals the empty string).
// The format and the modifiers must be quoted texts; the time value is a text, a number
// or an identifier. A multi-valued time value keeps its "match all" constraint.
func strftime(resolveArg func(fexpr.Token) (*ResolverResult, error), args []fexpr.Token) (*ResolverResult, error) {
	total := len(args)
	if total < 1 {
		return nil, fmt.Errorf("[strftime] expected at least 1 arguments, got %d", total)
	}
	if total > maxStrftimeArgs {
		return nil, fmt.Errorf("[strftime] too many arguments (max allowed %d, got %d)", maxStrftimeArgs, total)
	}

	if args[0].Type != fexpr.TokenText {
		return nil, errors.New("[strftime] expects the first argument to be a format string")
	}

	format, err := resolveArg(args[0])
	if err != nil {
		return nil, fmt.Errorf("[strftime] failed to resolve format argument: %w", err)
	}

	if total == 1 {
		return &ResolverResult{
			NullFallback: NullFallbackEnforced,
			Identifier:   "strftime(" + format.Identifier + ")",
			Params:       format.Params,
		}, nil
	}

	switch args[1].Type {
	case fexpr.TokenText, fexpr.TokenIdentifier, fexpr.TokenNumber:
	default:
		return nil, errors.New("[strftime] expects the second argument to be of a valid time-value type")
	}

	timeValue, err := resolveArg(args[1])
	if err != nil {
		return nil, fmt.Errorf("[strftime] failed to resolve time-value argument: %w", err)
	}

	ids := []string{format.Identifier, timeValue.Identifier}
	params := []Params{format.Params, timeValue.Params}

	for i, arg := range args[2:] {
		if arg.Type != fexpr.TokenText {
			return nil, fmt.Errorf("[strftime] invalid modifier argument %d - can be only string", i)
		}

		modifier, err := resolveArg(arg)
		if err != nil {
			return nil, fmt.Errorf("[strftime] failed to resolve modifier argument %d: %w", i, err)
		}

		ids = append(ids, modifier.Identifier)
		params = append(params, modifier.Params)
	}

	result := &ResolverResult{
		NullFallback: NullFallbackEnforced,
		Identifier:   "strftime(" + strings.Join(ids, ",") + ")",
		Params:       mergeParams(params...),
	}

	if timeValue.MultiMatchSubQuery != nil {
		// the subquery selects strftime() over its own value instead of the plain one
		mm := timeValue.MultiMatchSubQuery.Clone()
		ids[1] = mm.ValueIdentifier
		mm.ValueIdentifier = "strftime(" + strings.Join(ids, ",") + ")"
		mm.Params = mergeParams(mm.Params, result.Params)
		result.MultiMatchSubQuery = mm
	}

	return result, nil
}
