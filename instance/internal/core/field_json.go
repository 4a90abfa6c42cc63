package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// jsonMaxSizeDefault is what a json field's maxSize of 0 means (1 MiB).
const jsonMaxSizeDefault int64 = 1 << 20

// JSONField is a "json" field: any JSON value, stored as its text.
type JSONField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// MaxSize is the largest value in bytes; 0 means 1 MiB.
	MaxSize int64 `json:"maxSize"`
	// Required rejects null, "", [] and {}.
	Required bool `json:"required"`
}

// Type implements Field.
func (f *JSONField) Type() string { return FieldTypeJSON }

// ColumnType implements Field.
func (f *JSONField) ColumnType() string { return "JSON DEFAULT NULL" }

// PrepareValue implements Field. A string is taken as JSON when it looks like JSON
// (true, false, null, a number, "…", […] or {…} that parses), otherwise it is stored as
// a JSON string; any other value is encoded. The result is json.RawMessage (nil for
// empty, written as null).
func (f *JSONField) PrepareValue(raw any) any {
	switch v := raw.(type) {
	case nil:
		return json.RawMessage(nil)
	case json.RawMessage:
		if len(v) == 0 {
			return json.RawMessage(nil)
		}
		return v
	case []byte:
		if len(v) == 0 {
			return json.RawMessage(nil)
		}
		return json.RawMessage(slices.Clone(v))
	case string:
		return json.RawMessage(normalizeJSONString(v))
	}

	encoded, err := json.Marshal(raw)
	if err != nil {
		return json.RawMessage(nil)
	}

	return json.RawMessage(encoded)
}

// normalizeJSONString applies PocketBase's multipart-friendly rules for a plain
// string json value.
func normalizeJSONString(s string) string {
	switch {
	case s == "":
		return strconv.Quote(s)
	case s == "null" || s == "true" || s == "false":
		return s
	case (s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '"' || s[0] == '[' || s[0] == '{':
		if json.Valid([]byte(s)) {
			return s
		}
	}

	return strconv.Quote(s)
}

// DriverValue implements Field: the JSON text, or NULL when empty.
func (f *JSONField) DriverValue(value any) (any, error) {
	raw, _ := f.PrepareValue(value).(json.RawMessage)
	if len(raw) == 0 {
		return nil, nil
	}

	return string(raw), nil
}

// OutputValue implements Field: the compacted JSON, null when empty.
func (f *JSONField) OutputValue(value any) any {
	raw, _ := f.PrepareValue(value).(json.RawMessage)
	if len(raw) == 0 {
		return json.RawMessage("null")
	}

	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return json.RawMessage("null")
	}

	return json.RawMessage(buf.Bytes())
}

// CalculateMaxBodySize returns the largest accepted value in bytes.
func (f *JSONField) CalculateMaxBodySize() int64 {
	if f.MaxSize <= 0 {
		return jsonMaxSizeDefault
	}

	return f.MaxSize
}

var emptyJSONValues = []string{"null", `""`, "[]", "{}", ""}

// ValidateValue implements Field.
func (f *JSONField) ValidateValue(_ context.Context, _ ValueContext, value any) error {
	raw, ok := value.(json.RawMessage)
	if !ok {
		return errUnsupportedValueType()
	}

	if maxSize := f.CalculateMaxBodySize(); int64(len(raw)) > maxSize {
		return newValidationError("validation_json_size_limit",
			fmt.Sprintf("The maximum allowed JSON size is %d bytes", maxSize), map[string]any{"maxSize": maxSize})
	}
	if len(raw) > 0 && !json.Valid(raw) {
		return newValidationError("validation_invalid_json", "Must be a valid json value", nil)
	}
	if f.Required && slices.Contains(emptyJSONValues, strings.TrimSpace(string(raw))) {
		return errRequired()
	}

	return nil
}

// ValidateSettings implements Field.
func (f *JSONField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	errs := NestedErrors{}
	f.validateBase(errs)
	errs.addErr("maxSize", checkSize(f.MaxSize))

	return errs.orNil()
}

// GeoPoint is a geoPoint value; its JSON keys come in this order.
type GeoPoint struct {
	// Lon is the longitude.
	Lon float64 `json:"lon"`
	// Lat is the latitude.
	Lat float64 `json:"lat"`
}

// GeoPointField is a "geoPoint" field: a {lon, lat} pair. Required means not (0, 0).
type GeoPointField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// Required rejects the point (0, 0).
	Required bool `json:"required"`
}

// Type implements Field.
func (f *GeoPointField) Type() string { return FieldTypeGeoPoint }

// ColumnType implements Field.
func (f *GeoPointField) ColumnType() string { return `JSON DEFAULT '{"lon":0,"lat":0}' NOT NULL` }

// PrepareValue implements Field: an object with lon/lat, or its JSON text; anything
// else is the zero point.
func (f *GeoPointField) PrepareValue(raw any) any {
	switch v := raw.(type) {
	case GeoPoint:
		return v
	case *GeoPoint:
		if v != nil {
			return *v
		}
	case map[string]any:
		return geoPointOf(v)
	case string:
		return geoPointOfJSON([]byte(v))
	case []byte:
		return geoPointOfJSON(v)
	case json.RawMessage:
		return geoPointOfJSON(v)
	}

	return GeoPoint{}
}

// geoPointOfJSON decodes a JSON object into a point as PocketBase's encoding/json/v2
// decoding into its GeoPoint does: members are read in order, unknown names are
// skipped, null leaves a coordinate alone, and decoding stops, keeping what was read
// before, at the first coordinate that is not a number, a repeated name or a syntax
// error.
func geoPointOfJSON(raw []byte) GeoPoint {
	var p GeoPoint
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return p
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return p
		}
		name, _ := tok.(string)
		if seen[name] {
			return p
		}
		seen[name] = true
		var v any
		if err := dec.Decode(&v); err != nil {
			return p
		}
		if !setCoordinate(&p, name, v) {
			return p
		}
	}

	return p
}

// geoPointOf reads the point of an object as geoPointOfJSON does, "lon" first.
//
// note: PocketBase encodes the object with encoding/json/v2, whose map order is
// random, before decoding it, so for {"lon":"x","lat":2} it answers (0,0) or (0,2) at
// random; reading "lon" first gives one of its answers, always the same.
func geoPointOf(m map[string]any) GeoPoint {
	var p GeoPoint
	for _, name := range []string{"lon", "lat"} {
		if v, ok := m[name]; ok && !setCoordinate(&p, name, v) {
			break
		}
	}

	return p
}

// setCoordinate sets p's coordinate name ("lon" or "lat", any other name is skipped)
// to v, and reports false when v is not a number (nor null) and decoding stops.
func setCoordinate(p *GeoPoint, name string, v any) bool {
	if name != "lon" && name != "lat" || v == nil {
		return true
	}
	var f float64
	switch n := v.(type) {
	case float64, float32, int, int64, int32, uint, uint64, uint32:
		f = castToFloat64(n)
	case json.Number:
		parsed, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return false
		}
		f = parsed
	default:
		return false
	}
	if name == "lon" {
		p.Lon = f
	} else {
		p.Lat = f
	}

	return true
}

// DriverValue implements Field.
func (f *GeoPointField) DriverValue(value any) (any, error) {
	raw, err := json.Marshal(f.PrepareValue(value))
	if err != nil {
		return nil, fmt.Errorf("encoding geo point: %w", err)
	}

	return string(raw), nil
}

// OutputValue implements Field.
func (f *GeoPointField) OutputValue(value any) any { return f.PrepareValue(value) }

// ValidateValue implements Field.
func (f *GeoPointField) ValidateValue(_ context.Context, _ ValueContext, value any) error {
	p, ok := value.(GeoPoint)
	if !ok {
		return errUnsupportedValueType()
	}
	if p.Lat == 0 && p.Lon == 0 {
		if f.Required {
			return errRequired()
		}
		return nil
	}
	if p.Lat < -90 || p.Lat > 90 {
		return newValidationError("validation_invalid_latitude", "Latitude must be between -90 and 90 degrees.", nil)
	}
	if p.Lon < -180 || p.Lon > 180 {
		return newValidationError("validation_invalid_longitude", "Longitude must be between -180 and 180 degrees.", nil)
	}

	return nil
}

// ValidateSettings implements Field.
func (f *GeoPointField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	errs := NestedErrors{}
	f.validateBase(errs)

	return errs.orNil()
}

// Bcrypt cost limits (golang.org/x/crypto/bcrypt MinCost and MaxCost).
const (
	bcryptMinCost = 4
	bcryptMaxCost = 31
)

// PasswordValue is a password field value: the bcrypt hash, plus the plain text while
// a new password is being set.
type PasswordValue struct {
	// Hash is the stored bcrypt hash.
	Hash string
	// Plain is the new password, empty when unchanged.
	Plain string
}

// PasswordField is a "password" field: a bcrypt hash, never written to record JSON.
type PasswordField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// Pattern is a regular expression a new password must match, if set.
	Pattern string `json:"pattern"`
	// Min is the minimum length in characters.
	Min int64 `json:"min"`
	// Max is the maximum length in characters; 0 means 71.
	Max int64 `json:"max"`
	// Cost is the bcrypt cost; 0 means 10.
	Cost int64 `json:"cost"`
	// Required rejects an empty hash.
	Required bool `json:"required"`
}

// Type implements Field.
func (f *PasswordField) Type() string { return FieldTypePassword }

// ColumnType implements Field.
func (f *PasswordField) ColumnType() string { return columnText }

// PrepareValue implements Field: a stored value is a hash.
func (f *PasswordField) PrepareValue(raw any) any {
	switch v := raw.(type) {
	case PasswordValue:
		return v
	case *PasswordValue:
		if v != nil {
			return *v
		}
		return PasswordValue{}
	}

	return PasswordValue{Hash: castToString(raw)}
}

// SetPlain returns the value for a new plain password, hashed with the field's cost.
func (f *PasswordField) SetPlain(plain string) (PasswordValue, error) {
	if plain == "" {
		return PasswordValue{}, nil
	}
	cost := int(f.Cost)
	if cost <= 0 {
		cost = security.DefaultBcryptCost
	}
	hash, err := security.HashPassword(plain, cost)
	if err != nil && !errors.Is(err, security.ErrPasswordTooLong) {
		return PasswordValue{}, err
	}

	return PasswordValue{Hash: hash, Plain: plain}, nil
}

// DriverValue implements Field: the hash.
func (f *PasswordField) DriverValue(value any) (any, error) {
	pv, _ := f.PrepareValue(value).(PasswordValue)
	return pv.Hash, nil
}

// OutputValue implements Field: passwords are never output.
func (f *PasswordField) OutputValue(any) any { return nil }

// ValidateValue implements Field.
func (f *PasswordField) ValidateValue(_ context.Context, _ ValueContext, value any) error {
	pv, ok := value.(PasswordValue)
	if !ok {
		return errUnsupportedValueType()
	}
	if f.Required && pv.Hash == "" && pv.Plain == "" {
		return errRequired()
	}
	if pv.Plain == "" {
		return nil
	}

	n := int64(utf8.RuneCountInString(pv.Plain))
	if n < f.Min {
		return newValidationError("validation_min_text_constraint", fmt.Sprintf("Must be at least %d character(s)", f.Min), nil)
	}
	maxLen := f.Max
	if maxLen <= 0 {
		maxLen = passwordMaxDefault
	}
	if n > maxLen {
		return newValidationError("validation_max_text_constraint", fmt.Sprintf("Must be less than %d character(s)", maxLen), nil)
	}
	if f.Pattern != "" {
		if ok, _ := regexp.MatchString(f.Pattern, pv.Plain); !ok {
			return newValidationError("validation_invalid_format", "Invalid value format", nil)
		}
	}

	return nil
}

// ValidateSettings implements Field.
func (f *PasswordField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	errs := NestedErrors{}
	f.validateBase(errs)

	switch {
	case f.Min < 0:
		errs["min"] = errMinThreshold(1)
	default:
		errs.addErr("min", checkMaxInt(f.Min, passwordMaxDefault))
	}
	switch {
	case f.Max != 0 && f.Max < f.Min:
		errs["max"] = errMinThreshold(f.Min)
	default:
		errs.addErr("max", checkMaxInt(f.Max, passwordMaxDefault))
	}
	switch {
	case f.Cost != 0 && f.Cost < bcryptMinCost:
		errs["cost"] = errMinThreshold(bcryptMinCost)
	default:
		errs.addErr("cost", checkMaxInt(f.Cost, bcryptMaxCost))
	}
	errs.addErr("pattern", validateRegex(f.Pattern))

	return errs.orNil()
}
