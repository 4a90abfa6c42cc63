package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// PocketBase v0.40 reads and writes settings (and binds its fixed forms) with
// encoding/json/v2, whose rules differ from encoding/json's in ways a client can see.
// This file reproduces the ones that matter for flat forms and the settings:
//
//   - decoding merges into the existing value: members that are absent keep their value,
//     a JSON null resets a value to its zero value, a list is replaced as a whole;
//   - duplicate member names, invalid UTF-8, numbers with a fraction or an exponent for
//     an integer and any type mismatch are errors;
//   - request bodies match names case-insensitively, ignoring '_' and '-' (the
//     MatchCaseInsensitiveNames option of BindBody); the stored row matches exactly;
//   - encoding escapes strings as v2 does (\b and \f, U+2028 and U+2029 left as they are).

// maxJSONDepth is encoding/json/v2's nesting limit.
const maxJSONDepth = 10000

// errJSONDuplicateName reports an object member given twice.
var errJSONDuplicateName = errors.New("duplicate object member name")

// jsonObject is a JSON object with its members in input order.
type jsonObject []jsonMember

type jsonMember struct {
	name  string
	value any
}

// DecodeFormJSON decodes the first JSON value of data into dst, a pointer to a struct,
// as PocketBase v0.40 binds a JSON body into a fixed form (router.Event.BindBody):
// names match the json tags case-insensitively, ignoring '_' and '-'; members absent
// from data leave their field unchanged; a null resets a field; duplicate names, type
// mismatches and invalid UTF-8 are errors; anything after the first value is ignored.
func DecodeFormJSON(data []byte, dst any) error {
	return decodeJSON(data, dst, true)
}

// decodeJSON decodes data into dst (a non-nil pointer) with encoding/json/v2's
// semantics; foldNames selects the case-insensitive name matching of request bodies.
func decodeJSON(data []byte, dst any, foldNames bool) error {
	node, err := parseJSON(data)
	if err != nil {
		return err
	}

	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return errors.New("decoding json: the destination must be a non-nil pointer")
	}

	return decodeJSONValue(v.Elem(), node, foldNames)
}

// parseJSON parses the first JSON value of data into nil, bool, string, json.Number,
// []any and jsonObject values.
func parseJSON(data []byte) (any, error) {
	// Decoding into a RawMessage checks the syntax and the nesting depth of the first
	// value, and finds where it ends.
	var raw json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil {
		return nil, fmt.Errorf("decoding json: %w", err)
	}
	if !utf8.Valid(raw) {
		return nil, errors.New("decoding json: invalid UTF-8")
	}

	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()

	return parseJSONValue(dec, 0)
}

func parseJSONValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("decoding json: %w", err)
	}

	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxJSONDepth {
		return nil, errors.New("decoding json: exceeded max depth")
	}

	switch delim {
	case '{':
		obj := jsonObject{}
		seen := map[string]struct{}{}
		for dec.More() {
			nameTok, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("decoding json: %w", err)
			}
			name, _ := nameTok.(string)
			if _, dup := seen[name]; dup {
				return nil, fmt.Errorf("decoding json: %w %q", errJSONDuplicateName, name)
			}
			seen[name] = struct{}{}

			value, err := parseJSONValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj = append(obj, jsonMember{name: name, value: value})
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("decoding json: %w", err)
		}

		return obj, nil
	default: // '['
		list := []any{}
		for dec.More() {
			value, err := parseJSONValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, value)
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("decoding json: %w", err)
		}

		return list, nil
	}
}

// decodeJSONValue stores node into v with encoding/json/v2's rules.
func decodeJSONValue(v reflect.Value, node any, foldNames bool) error {
	if node == nil {
		v.SetZero()
		return nil
	}

	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeJSONValue(v.Elem(), node, foldNames)
	case reflect.Struct:
		obj, ok := node.(jsonObject)
		if !ok {
			return jsonTypeError(node, v.Type())
		}
		fields := jsonFieldsOf(v.Type())
		seen := make([]bool, len(fields))
		for _, m := range obj {
			i := matchJSONField(fields, m.name, foldNames)
			if i < 0 {
				continue // unknown members are ignored
			}
			if seen[i] {
				return fmt.Errorf("decoding json: %w %q", errJSONDuplicateName, m.name)
			}
			seen[i] = true
			if err := decodeJSONValue(v.Field(fields[i].index), m.value, foldNames); err != nil {
				return err
			}
		}
	case reflect.Slice:
		list, ok := node.([]any)
		if !ok {
			return jsonTypeError(node, v.Type())
		}
		out := reflect.MakeSlice(v.Type(), len(list), len(list))
		for i, item := range list {
			if err := decodeJSONValue(out.Index(i), item, foldNames); err != nil {
				return err
			}
		}
		v.Set(out)
	case reflect.String:
		s, ok := node.(string)
		if !ok {
			return jsonTypeError(node, v.Type())
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := node.(bool)
		if !ok {
			return jsonTypeError(node, v.Type())
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := node.(json.Number)
		if !ok {
			return jsonTypeError(node, v.Type())
		}
		// note: like json/v2, a fraction or an exponent ("1.0", "1e3") is an error.
		i, err := strconv.ParseInt(n.String(), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("decoding json: cannot store %s in %s: %w", n, v.Type(), err)
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		n, ok := node.(json.Number)
		if !ok {
			return jsonTypeError(node, v.Type())
		}
		f, err := strconv.ParseFloat(n.String(), v.Type().Bits())
		if err != nil {
			return fmt.Errorf("decoding json: cannot store %s in %s: %w", n, v.Type(), err)
		}
		v.SetFloat(f)
	case reflect.Interface:
		if v.NumMethod() > 0 {
			return fmt.Errorf("decoding json: unsupported type %s", v.Type())
		}
		v.Set(reflect.ValueOf(plainJSON(node)))
	case reflect.Map:
		obj, ok := node.(jsonObject)
		if !ok {
			return jsonTypeError(node, v.Type())
		}
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("decoding json: unsupported type %s", v.Type())
		}
		// as json/v2, the members are merged into a map that is already there
		if v.IsNil() {
			v.Set(reflect.MakeMapWithSize(v.Type(), len(obj)))
		}
		for _, m := range obj {
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := decodeJSONValue(elem, m.value, foldNames); err != nil {
				return err
			}
			v.SetMapIndex(reflect.ValueOf(m.name).Convert(v.Type().Key()), elem)
		}
	default:
		return fmt.Errorf("decoding json: unsupported type %s", v.Type())
	}

	return nil
}

// plainJSON turns a parsed node into the value json/v2 stores in an any: objects as
// map[string]any, arrays as []any, numbers as float64.
func plainJSON(node any) any {
	switch n := node.(type) {
	case jsonObject:
		out := make(map[string]any, len(n))
		for _, m := range n {
			out[m.name] = plainJSON(m.value)
		}
		return out
	case []any:
		out := make([]any, len(n))
		for i, item := range n {
			out[i] = plainJSON(item)
		}
		return out
	case json.Number:
		f, _ := n.Float64()
		return f
	default:
		return node
	}
}

func jsonTypeError(node any, t reflect.Type) error {
	kind := "number"
	switch node.(type) {
	case jsonObject:
		kind = "object"
	case []any:
		kind = "array"
	case string:
		kind = "string"
	case bool:
		kind = "boolean"
	}

	return fmt.Errorf("decoding json: cannot unmarshal JSON %s into Go %s", kind, t)
}

// jsonField is an exported struct field by its JSON name.
type jsonField struct {
	name   string
	folded string
	index  int
}

var (
	jsonFieldsCache sync.Map // reflect.Type → []jsonField
	formFieldsCache sync.Map // reflect.Type → []jsonField
)

// jsonFieldsOf returns the exported fields of struct type t with their json tag names
// (the Go name when untagged), in declaration order.
func jsonFieldsOf(t reflect.Type) []jsonField {
	return namedFieldsOf(t, &jsonFieldsCache, func(sf reflect.StructField) string {
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		return name
	})
}

// formFieldsOf returns the exported fields of struct type t by the names form values
// bind them with: the form tag, else the json tag (a json:"-" field included), else the
// Go name; a field tagged form:"-" is left out.
func formFieldsOf(t reflect.Type) []jsonField {
	return namedFieldsOf(t, &formFieldsCache, func(sf reflect.StructField) string {
		if name := sf.Tag.Get("form"); name != "" {
			return name
		}
		if name, _, _ := strings.Cut(sf.Tag.Get("json"), ","); name != "-" {
			return name
		}
		return ""
	})
}

// namedFieldsOf returns the exported fields of struct type t, in declaration order, by
// the names tagName gives them (the Go name when it gives ""; "-" leaves a field out),
// cached in cache.
func namedFieldsOf(t reflect.Type, cache *sync.Map, tagName func(reflect.StructField) string) []jsonField {
	if cached, ok := cache.Load(t); ok {
		return cached.([]jsonField)
	}

	var fields []jsonField
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name := tagName(sf)
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fields = append(fields, jsonField{name: name, folded: foldJSONName(name), index: i})
	}
	cache.Store(t, fields)

	return fields
}

// matchJSONField returns the index in fields of the field named name: an exact match
// first, then (when foldNames) the first whose folded name is equal; -1 when none.
func matchJSONField(fields []jsonField, name string, foldNames bool) int {
	for i, f := range fields {
		if f.name == name {
			return i
		}
	}
	if !foldNames {
		return -1
	}

	folded := foldJSONName(name)
	for i, f := range fields {
		if f.folded == folded {
			return i
		}
	}

	return -1
}

// foldJSONName is encoding/json/v2's case folding of names: '_' and '-' are dropped,
// ASCII letters upper-cased and other runes mapped to the smallest rune of their
// Unicode fold set.
func foldJSONName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == '_' || r == '-':
			continue
		case r < utf8.RuneSelf:
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
		default:
			r = smallestFoldRune(r)
		}
		b.WriteRune(r)
	}

	return b.String()
}

func smallestFoldRune(r rune) rune {
	for {
		next := unicode.SimpleFold(r)
		if next <= r {
			return next
		}
		r = next
	}
}

// DecodeFormValues decodes multipart or urlencoded values into dst, a pointer to a
// struct, as PocketBase v0.40 does for fixed forms (router.UnmarshalRequestData): a
// scalar field takes the first value of its name (form tag, else json tag; see
// formFieldsOf), a list of scalars takes all of
// them, nested structs are addressed with "parent.field" keys, lists of structs are left
// alone, and each "@jsonPayload" value is a JSON object decoded over the result with
// exact (case-sensitive) names.
//
// note: PocketBase replaces the key prefix at each nested struct rather than extending
// it ("backups.s3" fields are read from "s3.*" keys), and a prefix set by one struct
// field stays for the fields after it; both quirks are kept.
func DecodeFormValues(values map[string][]string, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return errors.New("decoding form: the destination must be a non-nil pointer to a struct")
	}
	if len(values) == 0 {
		return nil
	}

	if err := decodeFormStruct(values, v.Elem(), ""); err != nil {
		return err
	}

	for _, payload := range values[jsonPayloadField] {
		if err := decodeJSON([]byte(payload), dst, false); err != nil {
			return fmt.Errorf("decoding %s: %w", jsonPayloadField, err)
		}
	}

	return nil
}

// jsonPayloadField is the form field holding a JSON object (router.JSONPayloadKey).
const jsonPayloadField = "@jsonPayload"

func decodeFormStruct(values map[string][]string, v reflect.Value, prefix string) error {
	for _, f := range formFieldsOf(v.Type()) {
		fv := v.Field(f.index)
		ft := fv.Type()
		isList := ft.Kind() == reflect.Slice
		if isList {
			ft = ft.Elem()
		}

		if ft.Kind() == reflect.Struct {
			if isList {
				continue // PocketBase does not bind lists of structs from forms
			}
			prefix = f.name
			if err := decodeFormStruct(values, fv, prefix); err != nil {
				return err
			}
			continue
		}

		key := f.name
		if prefix != "" {
			key = prefix + "." + f.name
		}
		vals := values[key]
		if len(vals) == 0 {
			continue
		}

		if !isList {
			if err := setFormScalar(fv, vals[0]); err != nil {
				return fmt.Errorf("decoding form field %s: %w", key, err)
			}
			continue
		}
		out := reflect.MakeSlice(fv.Type(), len(vals), len(vals))
		for i, s := range vals {
			if err := setFormScalar(out.Index(i), s); err != nil {
				return fmt.Errorf("decoding form field %s: %w", key, err)
			}
		}
		fv.Set(out)
	}

	return nil
}

// setFormScalar parses s into v as PocketBase's setRegularReflectedValue does: an empty
// string is false or 0, integers accept base prefixes ("0x10").
func setFormScalar(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		if s == "" {
			s = "f"
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if s == "" {
			s = "0"
		}
		i, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			return err
		}
		v.SetInt(i)
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}

	return nil
}

// marshalSettingsJSON encodes v as PocketBase v0.40 does: compact, without HTML
// escaping and with json/v2's string escapes.
func marshalSettingsJSON(v any) ([]byte, error) {
	s, err := marshalJSON(v)
	if err != nil {
		return nil, err
	}

	return toV2StringEscapes([]byte(s)), nil
}

// toV2StringEscapes rewrites the string escapes on which encoding/json and
// encoding/json/v2 differ: v1 writes \u0008, \u000c, \u2028 and \u2029 where v2 writes
// \b, \f and the two separators unescaped.
func toV2StringEscapes(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u`)) {
		return b
	}

	out := make([]byte, 0, len(b))
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case !inString:
			inString = c == '"'
			out = append(out, c)
		case c == '"':
			inString = false
			out = append(out, c)
		case c == '\\' && i+1 < len(b):
			if b[i+1] == 'u' && i+5 < len(b) {
				replaced := true
				switch string(b[i+2 : i+6]) {
				case "0008":
					out = append(out, `\b`...)
				case "000c":
					out = append(out, `\f`...)
				case "2028":
					out = append(out, "\u2028"...)
				case "2029":
					out = append(out, "\u2029"...)
				default:
					replaced = false
				}
				if replaced {
					i += 5
					continue
				}
			}
			out = append(out, c, b[i+1])
			i++
		default:
			out = append(out, c)
		}
	}

	return out
}
