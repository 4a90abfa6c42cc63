package core

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// FieldsList is the ordered field list of a collection (PocketBase's FieldsList).
type FieldsList []Field

// NewFieldsList returns a list of fields with PocketBase's add rules applied (see Add).
func NewFieldsList(fields ...Field) FieldsList {
	l := make(FieldsList, 0, len(fields))
	for _, f := range fields {
		l.add(f)
	}

	return l
}

// GetByID returns the field with this id, or nil.
func (l FieldsList) GetByID(id string) Field {
	for _, f := range l {
		if f.GetID() == id {
			return f
		}
	}

	return nil
}

// GetByName returns the field with this name (case-sensitive), or nil.
func (l FieldsList) GetByName(name string) Field {
	for _, f := range l {
		if f.GetName() == name {
			return f
		}
	}

	return nil
}

// FieldNames returns the field names in order.
func (l FieldsList) FieldNames() []string {
	names := make([]string, len(l))
	for i, f := range l {
		names[i] = f.GetName()
	}

	return names
}

// Add appends fields, or replaces in place the field with the same id. A field
// without an id gets "<type><crc32(name)>" (with a numeric suffix on a clash) and
// replaces the field with the same name, keeping that field's id.
func (l *FieldsList) Add(fields ...Field) {
	for _, f := range fields {
		l.add(f)
	}
}

func (l *FieldsList) add(f Field) {
	replaceByName := false
	if f.GetID() == "" {
		replaceByName = true
		baseID := fieldID(f.Type(), f.GetName())
		id := baseID
		for i := 2; i < 1000; i++ {
			if l.GetByID(id) == nil {
				break
			}
			id = baseID + strconv.Itoa(i)
		}
		f.SetID(id)
	}

	for i, existing := range *l {
		if replaceByName {
			if name := f.GetName(); name != "" && existing.GetName() == name {
				f.SetID(existing.GetID())
				(*l)[i] = f
				return
			}
		} else if existing.GetID() == f.GetID() {
			(*l)[i] = f
			return
		}
	}

	*l = append(*l, f)
}

// Prepend inserts f first (used for the default id field).
func (l *FieldsList) Prepend(f Field) {
	rest := *l
	*l = NewFieldsList(append([]Field{f}, rest...)...)
}

// RemoveByID removes the field with this id, if any.
func (l *FieldsList) RemoveByID(id string) {
	*l = slices.DeleteFunc(*l, func(f Field) bool { return f.GetID() == id })
}

// Clone returns a deep copy of the list.
func (l FieldsList) Clone() (FieldsList, error) {
	raw, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	var out FieldsList
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}

	return out, nil
}

// MarshalJSON implements json.Marshaler: each field is an object with sorted keys,
// "type" included; nil lists are written as [].
func (l FieldsList) MarshalJSON() ([]byte, error) {
	// note: joined by hand so that nothing HTML-escapes the items.
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, f := range l {
		raw, err := marshalField(f)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(raw)
	}
	buf.WriteByte(']')

	return buf.Bytes(), nil
}

// marshalField encodes one field as PocketBase does: its options flattened into one
// object with sorted keys, plus "type".
func marshalField(f Field) (json.RawMessage, error) {
	raw, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encoding field %s: %w", f.GetName(), err)
	}

	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	data := map[string]any{}
	if err := dec.Decode(&data); err != nil {
		return nil, fmt.Errorf("encoding field %s: %w", f.GetName(), err)
	}
	data["type"] = f.Type()
	for _, key := range listOptionKeys(reflect.TypeOf(f)) {
		if data[key] == nil {
			data[key] = []any{} // v0.40 writes nil lists as []
		}
	}

	out, err := marshalJSON(data)
	if err != nil {
		return nil, err
	}

	return json.RawMessage(out), nil
}

// UnmarshalJSON implements json.Unmarshaler: each object is decoded into the field
// type its "type" names; an unknown type is an error. Fields are added with Add, so
// ids are generated and same-name fields without ids collapse.
func (l *FieldsList) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*l = FieldsList{}
		return nil
	}

	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return err
	}

	list := FieldsList{}
	for i, raw := range raws {
		f, err := unmarshalField(raw)
		if err != nil {
			return &FieldUnmarshalError{Pointer: "/" + strconv.Itoa(i), Err: err}
		}
		list.add(f)
	}
	*l = list

	return nil
}

// FieldUnmarshalError is a field object that could not be decoded, at Pointer (a JSON
// pointer, "/fields/1" in a collection). Its message is the one PocketBase's
// encoding/json/v2 gives, which imports report as their raw error.
type FieldUnmarshalError struct {
	Pointer string
	Err     error
}

func (e *FieldUnmarshalError) Error() string {
	return fmt.Sprintf("json: cannot unmarshal JSON object into Go core.fieldWithType within %q: %v", e.Pointer, e.Err)
}

func (e *FieldUnmarshalError) Unwrap() error { return e.Err }

func unmarshalField(raw json.RawMessage) (Field, error) {
	var typed struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &typed); err != nil {
		return nil, fmt.Errorf("failed to unmarshal field type: %w", err)
	}

	f := NewField(typed.Type)
	if f == nil {
		return nil, fmt.Errorf("missing or unknown field type in %s", raw)
	}
	if err := json.Unmarshal(raw, f); err != nil {
		return nil, fmt.Errorf("failed to unmarshal field: %w", err)
	}

	return f, nil
}

// listOptionKeysCache maps a field type to the JSON keys of its list options.
var listOptionKeysCache sync.Map

// listOptionKeys returns the JSON keys of the slice-typed options of a field type
// (including those of embedded structs).
func listOptionKeys(t reflect.Type) []string {
	if cached, ok := listOptionKeysCache.Load(t); ok {
		keys, _ := cached.([]string)
		return keys
	}

	var keys []string
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			sf := t.Field(i)
			if sf.Anonymous {
				walk(sf.Type)
				continue
			}
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name != "" && name != "-" && sf.Type.Kind() == reflect.Slice {
				keys = append(keys, name)
			}
		}
	}
	walk(t)
	listOptionKeysCache.Store(t, keys)

	return keys
}
