package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// Request contexts, the values of @request.context.
const (
	RequestContextDefault       = "default"
	RequestContextExpand        = "expand"
	RequestContextRealtime      = "realtime"
	RequestContextProtectedFile = "protectedFile"
	RequestContextBatch         = "batch"
	RequestContextOAuth2        = "oauth2"
	RequestContextOTP           = "otp"
	RequestContextPassword      = "password"
)

// Filter modifiers (§6.3).
const (
	modifierIsset   = "isset"
	modifierChanged = "changed"
	modifierLength  = "length"
	modifierEach    = "each"
	modifierLower   = "lower"
)

// maxNestedRels is the deepest relation path a filter may walk (and expand nest).
const maxNestedRels = 6

// RequestInfo is what API rules and filters see of a request as @request.* (PocketBase's
// core.RequestInfo). Query and Headers hold the first value of each key; header names are
// lowercased with "-" replaced by "_".
type RequestInfo struct {
	// Auth is the authenticated record, nil for a guest.
	Auth *Record
	// Query holds the URL query parameters.
	Query map[string]string
	// Headers holds the request headers, keyed by normalized name.
	Headers map[string]string
	// Body holds the submitted data (after field modifiers), nil when none.
	Body map[string]any
	// Method is the HTTP method, e.g. "GET".
	Method string
	// Context is one of the RequestContext* values.
	Context string
}

// HasSuperuserAuth reports whether the request is authenticated as a superuser.
func (info *RequestInfo) HasSuperuserAuth() bool {
	return info != nil && info.Auth != nil && info.Auth.IsSuperuser()
}

// NormalizeHeaderName turns a header name into its @request.headers key: lowercased,
// with "-" replaced by "_".
func NormalizeHeaderName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "-", "_")
}

// recordResolverAllowedFields are the identifier shapes the record resolver accepts.
var recordResolverAllowedFields = []*regexp.Regexp{
	regexp.MustCompile(`^\w+[\w.:]*$`),
	regexp.MustCompile(`^@request\.context$`),
	regexp.MustCompile(`^@request\.method$`),
	regexp.MustCompile(`^@request\.auth\.[\w.:]*\w+$`),
	regexp.MustCompile(`^@request\.body\.[\w.:]*\w+$`),
	regexp.MustCompile(`^@request\.query\.[\w.:]*\w+$`),
	regexp.MustCompile(`^@request\.headers\.[\w.:]*\w+$`),
	regexp.MustCompile(`^@collection\.\w+(:\w+)?\.[\w.:]*\w+$`),
}

// plainRequestAuthFields resolve from the auth record itself, without a join.
var plainRequestAuthFields = map[string]bool{
	FieldNameID: true, FieldNameCollectionID: true, FieldNameCollectionName: true,
	FieldNameEmail: true, FieldNameEmailVisibility: true, FieldNameVerified: true,
}

// CollectionFinder resolves a collection by id or name.
type CollectionFinder func(nameOrID string) (*Collection, error)

// RecordFieldResolver resolves the identifiers of filters, sorts and API rules over the
// records of one collection (PocketBase's core.RecordFieldResolver, §6.2–§6.5): fields,
// relation paths (LEFT JOINs, json_each for multiple relations), back-relations
// `collection_via_field`, @collection.*, @request.* and the modifiers.
//
// A resolver accumulates the joins of the identifiers it resolved; UpdateQuery adds
// them to the query. It is not safe for concurrent use.
type RecordFieldResolver struct {
	find        CollectionFinder
	base        *Collection
	baseAlias   string
	info        *RequestInfo
	static      map[string]any
	allowHidden bool
	joins       []search.Join
	// ruleJoins are the collection joins registered while hidden fields were not
	// allowed: UpdateQuery restricts the query by their collections' listRules.
	ruleJoins []ruleJoin
	// joinAliasSuffix keeps the join aliases of a listRule resolved over a join apart
	// from the aliases of the query it restricts.
	joinAliasSuffix string
}

// ruleJoin is a join of a collection whose listRule restricts the query.
type ruleJoin struct {
	collection *Collection
	alias      string
}

var _ search.FieldResolver = (*RecordFieldResolver)(nil)

// NewRecordFieldResolver returns a resolver over the records of base for a request (nil
// for none: every @request.* is then NULL). allowHidden lets hidden fields be used, as
// rules and superusers may.
func NewRecordFieldResolver(find CollectionFinder, base *Collection, info *RequestInfo, allowHidden bool) *RecordFieldResolver {
	r := &RecordFieldResolver{
		find:        find,
		base:        base,
		baseAlias:   search.Columnify(base.Name),
		info:        info,
		allowHidden: allowHidden,
	}

	r.static = map[string]any{}
	if info != nil {
		r.static["context"] = info.Context
		r.static["method"] = info.Method
		r.static["query"] = stringMapToAny(info.Query)
		r.static["headers"] = stringMapToAny(info.Headers)
		r.static["body"] = info.Body
		r.static["auth"] = nil
		if info.Auth != nil {
			r.static["auth"] = info.Auth.PublicExport(ExportOptions{ShowHidden: true, ShowEmail: true})
		}
	}

	return r
}

func stringMapToAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}

	return out
}

// SetAllowHiddenFields changes whether hidden fields may be used.
func (r *RecordFieldResolver) SetAllowHiddenFields(allow bool) { r.allowHidden = allow }

// UpdateQuery implements search.FieldResolver: it adds the joins of the resolved
// identifiers, with DISTINCT, then restricts the query by the listRule of every
// collection joined while hidden fields were not allowed (PocketBase's UpdateQuery).
//
// Multi-match subqueries are not restricted, as in PocketBase.
func (r *RecordFieldResolver) UpdateQuery(q *search.SelectQuery) error {
	if len(r.joins) > 0 {
		q.Distinct = true
		for _, j := range r.joins {
			replaced := false
			for i := range q.Joins {
				if q.Joins[i].Alias == j.Alias {
					q.Joins[i] = j
					replaced = true
					break
				}
			}
			if !replaced {
				q.Joins = append(q.Joins, j)
			}
		}
	}

	for _, j := range r.ruleJoins {
		if err := r.updateQueryWithCollectionListRule(j.collection, j.alias, q); err != nil {
			return err
		}
	}

	return nil
}

// updateQueryWithCollectionListRule ANDs to q the listRule of c resolved over its join
// aliased alias, or'ed with an empty id: a missing relation (a NULL join row) passes, a
// present one only when the requester may list it, so that "a.x != 1 || b.x != 1" still
// matches a record without b. Rules are resolved with hidden fields allowed; their own
// joins get a fresh alias suffix. An empty rule restricts nothing.
//
// The condition sits at the top level of the query, not in the join: a joined record
// the requester may not list excludes the whole row rather than looking absent.
func (r *RecordFieldResolver) updateQueryWithCollectionListRule(c *Collection, alias string, q *search.SelectQuery) error {
	if r.allowHidden || c == nil || c.ListRule == nil || *c.ListRule == "" {
		return nil
	}

	sub := *r
	sub.joins = nil
	sub.ruleJoins = nil
	sub.base = c
	sub.baseAlias = alias
	sub.allowHidden = true
	sub.joinAliasSuffix = "_" + search.NewParamName()

	// note: the newlines end a trailing // comment of the rule
	expr, err := search.FilterData("id='' || (\n" + *c.ListRule + "\n)").BuildExpr(&sub)
	if err != nil {
		return fmt.Errorf("failed to build %q ListRule join subquery filter expression: %w", c.Name, err)
	}
	q.AndWhere(expr)

	if len(sub.joins) > 0 {
		q.Distinct = true
		q.Joins = append(q.Joins, sub.joins...)
	}

	return nil
}

// Resolve implements search.FieldResolver.
func (r *RecordFieldResolver) Resolve(field string) (*search.ResolverResult, error) {
	allowed := false
	for _, re := range recordResolverAllowedFields {
		if re.MatchString(field) {
			allowed = true
			break
		}
	}
	if !allowed {
		return nil, search.Classify(search.ErrUnknownField, fmt.Errorf("failed to resolve field %q", field))
	}

	run := newResolverRun(r, field)
	res, err := run.run()
	if err != nil {
		return nil, search.Classify(search.ErrUnknownField, err)
	}

	return res, nil
}

func (r *RecordFieldResolver) loadCollection(nameOrID string) (*Collection, error) {
	if nameOrID == r.base.Name || nameOrID == r.base.ID {
		return r.base, nil
	}
	if r.find == nil {
		return nil, ErrCollectionNotFound
	}

	return r.find(nameOrID)
}

// registerJoin adds a join, replacing an earlier one with the same alias. c is the
// joined collection, nil for a table expression (json_each). While hidden fields are not
// allowed (a non-superuser's filter and sort, a realtime filter), a collection join
// subjects the query to the collection's listRule (see UpdateQuery), and a collection
// with a null listRule cannot be joined at all (PocketBase's registerJoin).
func (r *RecordFieldResolver) registerJoin(j search.Join, c *Collection) error {
	if !r.allowHidden && c != nil {
		if c.ListRule == nil {
			return fmt.Errorf("%q fields can be accessed only when allowHiddenFields is enabled or by superusers", c.Name)
		}
		r.registerRuleJoin(c, j.Alias)
	}

	for i := range r.joins {
		if r.joins[i].Alias == j.Alias {
			r.joins[i] = j
			return nil
		}
	}
	r.joins = append(r.joins, j)

	return nil
}

// registerRuleJoin records that the join aliased alias is restricted by c's listRule.
func (r *RecordFieldResolver) registerRuleJoin(c *Collection, alias string) {
	for i := range r.ruleJoins {
		if r.ruleJoins[i].alias == alias {
			r.ruleJoins[i].collection = c
			return
		}
	}
	r.ruleJoins = append(r.ruleJoins, ruleJoin{collection: c, alias: alias})
}

// staticValue resolves a @request.* path to a bound value (§6.2): a missing path is
// NULL; :isset tells whether it exists; :lower lowercases it.
func (r *RecordFieldResolver) staticValue(path []string) (*search.ResolverResult, error) {
	if len(path) == 0 {
		return nil, errors.New("at least one path key should be provided")
	}
	path = append([]string(nil), path...)

	last, modifier, err := splitModifier(path[len(path)-1])
	if err != nil {
		return nil, err
	}
	path[len(path)-1] = last

	value, lookupErr := extractNestedValue(r.static, path...)

	if modifier == modifierIsset {
		if lookupErr != nil {
			return &search.ResolverResult{Identifier: "FALSE"}, nil
		}
		return &search.ResolverResult{Identifier: "TRUE"}, nil
	}
	// a request value takes no modifier but :isset and :lower, whatever its value
	if modifier != "" && modifier != modifierLower {
		return nil, fmt.Errorf("invalid modifier sequence %s:%s", last, modifier)
	}

	switch v := value.(type) {
	case nil:
		return &search.ResolverResult{Identifier: "NULL"}, nil
	case string:
		// numeric strings of number fields (multipart bodies) compare as numbers
		if f := r.base.Fields.GetByName(last); f != nil && f.Type() == FieldTypeNumber {
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				value = n
			}
		}
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
	case json.RawMessage:
		var decoded any
		if json.Unmarshal(v, &decoded) == nil {
			switch d := decoded.(type) {
			case nil:
				return &search.ResolverResult{Identifier: "NULL"}, nil
			case string, bool, float64:
				value = d
			default:
				value = string(v)
			}
		} else {
			value = string(v)
		}
	case fmt.Stringer:
		value = v.String()
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			value = ""
		} else {
			value = string(raw)
		}
	}

	name := search.NewParamName()
	id := ":" + name
	if modifier == modifierLower {
		id = "LOWER(" + id + ")"
	}

	return &search.ResolverResult{Identifier: id, Params: search.Params{name: value}}, nil
}

// splitModifier splits "name:modifier"; an unknown modifier is an error.
func splitModifier(combined string) (string, string, error) {
	parts := strings.Split(combined, ":")
	if len(parts) != 2 {
		return combined, "", nil
	}

	switch parts[1] {
	case modifierIsset, modifierChanged, modifierEach, modifierLength, modifierLower:
		return parts[0], parts[1], nil
	}

	return "", "", fmt.Errorf("unknown modifier in %q", combined)
}

// extractNestedValue walks maps and slices along keys; a missing key is an error.
func extractNestedValue(data any, keys ...string) (any, error) {
	if len(keys) == 0 {
		return nil, errors.New("at least one key should be provided")
	}

	switch v := data.(type) {
	case map[string]any:
		next, ok := v[keys[0]]
		if !ok {
			return nil, fmt.Errorf("invalid key path - missing key %q", keys[0])
		}
		if len(keys) == 1 {
			return next, nil
		}
		return extractNestedValue(next, keys[1:]...)
	case map[string]string:
		next, ok := v[keys[0]]
		if !ok {
			return nil, fmt.Errorf("invalid key path - missing key %q", keys[0])
		}
		if len(keys) == 1 {
			return next, nil
		}
		return extractNestedValue(next, keys[1:]...)
	case []any:
		return extractSliceValue(v, keys)
	case []string:
		items := make([]any, len(v))
		for i, s := range v {
			items[i] = s
		}
		return extractSliceValue(items, keys)
	case json.RawMessage:
		var decoded any
		if err := json.Unmarshal(v, &decoded); err != nil {
			return nil, fmt.Errorf("failed to unmarshal raw JSON: %w", err)
		}
		return extractNestedValue(decoded, keys...)
	case nil:
		return nil, fmt.Errorf("invalid key path - missing key %q", keys[0])
	default:
		// structs (e.g. geoPoint values) are walked as their JSON
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("expected map or array, got %T", data)
		}
		var decoded any
		if err := json.Unmarshal(raw, &decoded); err != nil {
			return nil, err
		}
		if _, ok := decoded.(map[string]any); !ok {
			if _, ok := decoded.([]any); !ok {
				return nil, fmt.Errorf("expected map or array, got %T", data)
			}
		}
		return extractNestedValue(decoded, keys...)
	}
}

func extractSliceValue(items []any, keys []string) (any, error) {
	idx, err := strconv.Atoi(keys[0])
	if err != nil || idx < 0 || idx >= len(items) {
		return nil, fmt.Errorf("invalid key path - invalid or missing array index %q", keys[0])
	}
	if len(keys) == 1 {
		return items[idx], nil
	}

	return extractNestedValue(items[idx], keys[1:]...)
}

// toAnySlice returns value as a list: nil is empty, a scalar is a one-item list.
func toAnySlice(value any) []any {
	switch v := value.(type) {
	case nil:
		return []any{}
	case []any:
		return v
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	default:
		return []any{v}
	}
}

// SQL helpers over possibly non-JSON columns (PocketBase's dbutils for SQLite).

// sqlJSONEach is json_each over a column holding a JSON array, or a single value.
func sqlJSONEach(column string) string {
	return "json_each(CASE WHEN iif(json_valid(" + column + "), json_type(" + column + ")='array', FALSE) THEN " +
		column + " ELSE json_array(" + column + ") END)"
}

// sqlJSONArrayLength is the number of items of a column holding a JSON array, a single
// value (1) or nothing (0).
func sqlJSONArrayLength(column string) string {
	return "json_array_length(CASE WHEN iif(json_valid(" + column + "), json_type(" + column + ")='array', FALSE) THEN " +
		column + " ELSE (CASE WHEN " + column + " = '' OR " + column + " IS NULL THEN json_array() ELSE json_array(" +
		column + ") END) END)"
}

// sqlJSONExtract extracts path ("", "a.b", "[0].c") from a column that may hold JSON
// or plain text.
func sqlJSONExtract(column, path string) string {
	if path != "" && !strings.HasPrefix(path, "[") {
		path = "." + path
	}

	return "(CASE WHEN json_valid(" + column + ") THEN JSON_EXTRACT(" + column + ", '$" + path +
		"') ELSE JSON_EXTRACT(json_object('pb', " + column + "), '$.pb" + path + "') END)"
}
