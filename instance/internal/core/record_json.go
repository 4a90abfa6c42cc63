package core

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Record is one row of a collection's table, its values normalized by field type the
// way PocketBase's fields prepare them when a record is loaded (core/field_*.go
// PrepareValue). Columns with no field are dropped.
type Record struct {
	collection *Collection
	values     map[string]any

	// expand holds the expanded relations (record_expand.go): *Record or []*Record
	// values keyed by relation path segment; nil when nothing was expanded.
	expand map[string]any
	// ignoreEmailVisibility writes the email of an auth record even when
	// emailVisibility is false (the requester itself, a superuser, a manager).
	ignoreEmailVisibility bool
}

// NewRecordFromRow builds a record of collection c from a row's column values, as the
// SQLite driver returns them (int64, float64, string, []byte, bool, time.Time or nil).
func NewRecordFromRow(c *Collection, row map[string]any) *Record {
	r := &Record{collection: c, values: make(map[string]any, len(c.Fields))}
	for _, f := range c.Fields {
		r.values[f.GetName()] = normalizeRecordValue(f, row[f.GetName()])
	}

	return r
}

// Collection returns the record's collection.
func (r *Record) Collection() *Collection {
	return r.collection
}

// Get returns the normalized value of a field (nil for an unknown field).
func (r *Record) Get(name string) any {
	return r.values[name]
}

// GetString returns a field value as a string ("" when it is not one).
func (r *Record) GetString(name string) string {
	s, _ := r.values[name].(string)
	return s
}

// GetBool returns a field value as a bool (false when it is not one).
func (r *Record) GetBool(name string) bool {
	b, _ := r.values[name].(bool)
	return b
}

// ID returns the record id.
func (r *Record) ID() string {
	return r.GetString(FieldNameID)
}

// Email returns an auth record's email.
func (r *Record) Email() string {
	return r.GetString(FieldNameEmail)
}

// TokenKey returns an auth record's tokenKey, the per-record part of its token keys.
func (r *Record) TokenKey() string {
	return r.GetString(FieldNameTokenKey)
}

// PasswordHash returns an auth record's bcrypt password hash.
func (r *Record) PasswordHash() string {
	return r.GetString(FieldNamePassword)
}

// IsSuperuser reports whether the record belongs to _superusers.
func (r *Record) IsSuperuser() bool {
	return r.collection.Name == CollectionNameSuperusers
}

// ExportOptions says what PublicExport may reveal; the HTTP layer sets them from who
// asks (apis/record_helpers.go autoResolveRecordsFlags).
type ExportOptions struct {
	// ShowHidden writes hidden fields too; PocketBase does so for superusers. The
	// password and tokenKey of auth records stay out regardless, and password fields
	// are written empty.
	ShowHidden bool
	// ShowEmail writes an auth record's email even when emailVisibility is false: for
	// the record itself, a superuser, a manager, and in every auth response.
	ShowEmail bool
}

// PublicExport returns the record as PocketBase writes it in API responses
// (core/record_model.go PublicExport): every visible field plus collectionId and
// collectionName, and "expand" when relations were expanded (exported with the same
// options). Encoded with encoding/json, the map gives PocketBase's sorted keys.
func (r *Record) PublicExport(opts ExportOptions) map[string]any {
	out := make(map[string]any, len(r.collection.Fields)+2)
	for _, f := range r.collection.Fields {
		if f.GetHidden() && !opts.ShowHidden {
			continue
		}
		if f.Type() == FieldTypePassword {
			// PocketBase exports a password field's plain value, which a stored record
			// never has: the key is there, the hash is not
			out[f.GetName()] = ""
			continue
		}
		out[f.GetName()] = r.values[f.GetName()]
	}

	if r.collection.IsAuth() {
		delete(out, FieldNamePassword)
		delete(out, FieldNameTokenKey)
		if !opts.ShowEmail && !r.ignoreEmailVisibility && !r.GetBool(FieldNameEmailVisibility) {
			delete(out, FieldNameEmail)
		}
	}

	out["collectionId"] = r.collection.ID
	out["collectionName"] = r.collection.Name

	if r.expand != nil {
		out[FieldNameExpand] = exportExpand(r.expand, opts)
	}

	return out
}

// geoPointValue is a geoPoint field value; its JSON keys come in PocketBase's order.
type geoPointValue struct {
	// Lon is the longitude.
	Lon float64 `json:"lon"`
	// Lat is the latitude.
	Lat float64 `json:"lat"`
}

// normalizeRecordValue turns a column value into the field's value type.
func normalizeRecordValue(f Field, raw any) any {
	switch f.Type() {
	case "text", "editor", "email", "url", "password":
		return rvString(raw)
	case "number":
		return rvFloat(raw)
	case "bool":
		return rvBool(raw)
	case "date", "autodate":
		return rvDateTime(raw)
	case "select", "file", "relation":
		list := rvUniqueStrings(raw)
		if m, ok := f.(MultiValuer); ok && m.IsMultiple() {
			return list
		}
		// PocketBase keeps the last value of a list stored in a single-value field.
		if len(list) == 0 {
			return ""
		}
		return list[len(list)-1]
	case "json":
		return rvJSON(raw)
	case "geoPoint":
		return rvGeoPoint(raw)
	default:
		if b, ok := raw.([]byte); ok {
			return string(b)
		}
		return raw
	}
}

func rvString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return FormatDateTime(x)
	default:
		return ""
	}
}

func rvFloat(v any) float64 {
	var f float64
	switch x := v.(type) {
	case int64:
		f = float64(x)
	case float64:
		f = x
	case bool:
		if x {
			f = 1
		}
	case string, []byte:
		// note: like cast.ToFloat64, an unparsable string is 0.
		f, _ = strconv.ParseFloat(strings.TrimSpace(rvString(x)), 64)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}

	return f
}

func rvBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string, []byte:
		b, _ := strconv.ParseBool(rvString(x))
		return b
	default:
		return false
	}
}

// rvDateTimeLayouts are the stored datetime forms accepted on read; anything else is
// written as "", as PocketBase does with an unparsable value.
var rvDateTimeLayouts = []string{
	DateTimeLayout,
	"2006-01-02 15:04:05Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

func rvDateTime(v any) string {
	switch x := v.(type) {
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return FormatDateTime(x)
	case int64:
		return FormatDateTime(time.Unix(x, 0))
	case float64:
		return FormatDateTime(time.Unix(int64(x), 0))
	}

	s := strings.TrimSpace(rvString(v))
	if s == "" {
		return ""
	}
	for _, layout := range rvDateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return FormatDateTime(t)
		}
	}

	return ""
}

// rvUniqueStrings is PocketBase's list.ToUniqueStringSlice: a JSON array of strings, or
// a single value, without empty strings and duplicates.
func rvUniqueStrings(v any) []string {
	var items []string
	switch x := v.(type) {
	case nil:
	case []string:
		items = x
	case string, []byte:
		s := rvString(x)
		if s == "" {
			break
		}
		if !strings.Contains(s, "[") || json.Unmarshal([]byte(s), &items) != nil {
			items = []string{s}
		}
	default:
		items = []string{rvString(x)}
	}

	out := make([]string, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, s := range items {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}

	return out
}

// rvJSON returns a json field value as compacted raw JSON; an empty value is null.
//
// note: a stored text that is not valid JSON is written as a JSON string rather than
// breaking the whole response.
func rvJSON(v any) json.RawMessage {
	var b []byte
	switch x := v.(type) {
	case nil:
		return json.RawMessage("null")
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		enc, err := json.Marshal(x)
		if err != nil {
			return json.RawMessage("null")
		}
		return enc
	}

	if len(bytes.TrimSpace(b)) == 0 {
		return json.RawMessage("null")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		enc, _ := json.Marshal(string(b))
		return enc
	}

	return buf.Bytes()
}

func rvGeoPoint(v any) geoPointValue {
	var p geoPointValue
	s := rvString(v)
	if s == "" {
		return p
	}
	// note: an unparsable value is the zero point, as PocketBase's geoPointValue.Scan leaves it.
	_ = json.Unmarshal([]byte(s), &p)

	return p
}
