package core

import (
	"maps"
	"slices"
	"strings"
)

// Record body modifiers (§3.3.3): a key may name a field with a modifier instead of the
// plain field name.
const (
	// modifierAppend is "field+": append to a list, add to a number.
	modifierAppend = "+"
	// modifierSubtract is "field-": remove from a list, subtract from a number.
	modifierSubtract = "-"
	// modifierAutogenerate is "field:autogenerate" on text fields: the given prefix plus a
	// value generated from the autogenerate pattern.
	modifierAutogenerate = ":autogenerate"
)

// setterFunc stores a raw request value into values (prepared field values).
type setterFunc func(values map[string]any, raw any)

// findSetter returns how key sets a field of c (PocketBase's SetterFinder), with the
// field it targets, or nil when key names no field nor a field modifier.
func findSetter(c *Collection, key string) (Field, setterFunc) {
	for _, f := range c.Fields {
		if setter := fieldSetter(f, key); setter != nil {
			return f, setter
		}
	}

	return nil, nil
}

// fieldSetter returns the setter of key for field f, or nil when key does not target f.
func fieldSetter(f Field, key string) setterFunc {
	name := f.GetName()

	switch f := f.(type) {
	case *AutodateField:
		if key == name {
			// note: autodate values are set by the server only; a client value is
			// consumed and ignored (PocketBase's noopSetter).
			return func(map[string]any, any) {}
		}
	case *TextField:
		switch key {
		case name:
			return func(values map[string]any, raw any) { values[name] = castToString(raw) }
		case name + modifierAutogenerate:
			return func(values map[string]any, raw any) {
				v := castToString(raw)
				if generated, err := f.Autogenerate(); err == nil {
					v += generated
				}
				values[name] = v
			}
		}
	case *NumberField:
		switch key {
		case name:
			return func(values map[string]any, raw any) { values[name] = castToFloat64(raw) }
		case name + modifierAppend:
			return func(values map[string]any, raw any) {
				values[name] = castToFloat64(values[name]) + castToFloat64(raw)
			}
		case name + modifierSubtract:
			return func(values map[string]any, raw any) {
				values[name] = castToFloat64(values[name]) - castToFloat64(raw)
			}
		}
	case *PasswordField:
		if key == name {
			return func(values map[string]any, raw any) {
				values[name] = PasswordValue{Plain: castToString(raw)}
			}
		}
	case *SelectField, *RelationField, *FileField:
		return listSetter(f, key)
	default:
		if key == name {
			return func(values map[string]any, raw any) { values[name] = f.PrepareValue(raw) }
		}
	}

	return nil
}

// listSetter is the setter of the select, relation and file fields: "field" replaces,
// "+field" prepends, "field+" appends and "field-" removes values.
func listSetter(f Field, key string) setterFunc {
	name := f.GetName()
	set := func(values map[string]any, list []string) {
		values[name] = f.PrepareValue(list)
	}

	switch key {
	case name:
		return func(values map[string]any, raw any) { values[name] = f.PrepareValue(raw) }
	case modifierAppend + name:
		return func(values map[string]any, raw any) {
			set(values, append(toUniqueStringSlice(raw), toUniqueStringSlice(values[name])...))
		}
	case name + modifierAppend:
		return func(values map[string]any, raw any) {
			set(values, append(toUniqueStringSlice(values[name]), toUniqueStringSlice(raw)...))
		}
	case name + modifierSubtract:
		return func(values map[string]any, raw any) {
			remove := toUniqueStringSlice(raw)
			set(values, slices.DeleteFunc(toUniqueStringSlice(values[name]), func(v string) bool {
				return slices.Contains(remove, v)
			}))
		}
	}

	return nil
}

// ResolveRecordModifiers returns a copy of data in which every key that names a field of
// c, with or without a modifier, is replaced by the field name holding the resulting
// prepared value, computed over current (the stored prepared values; nil or empty for a
// new record). Keys that name no field are kept as they are. This is PocketBase's
// Record.ReplaceModifiers: the result is what rules see as @request.body.
//
// Keys are applied shortest first, so "tags" is set before "tags+" appends to it.
func ResolveRecordModifiers(c *Collection, current, data map[string]any) map[string]any {
	if len(data) == 0 {
		return data
	}

	out := maps.Clone(data)
	values := maps.Clone(current)
	if values == nil {
		values = map[string]any{}
	}

	keys := slices.Collect(maps.Keys(data))
	slices.SortStableFunc(keys, func(a, b string) int {
		if d := len(a) - len(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})

	for _, key := range keys {
		f, setter := findSetter(c, key)
		if f == nil {
			continue
		}
		if _, ok := values[f.GetName()]; !ok {
			values[f.GetName()] = f.PrepareValue(nil)
		}
		setter(values, data[key])
		delete(out, key)
		out[f.GetName()] = bodyValue(f, values[f.GetName()])
	}

	return out
}

// bodyValue is how a prepared value appears in @request.body: the plain text of a new
// password, the value itself otherwise.
func bodyValue(f Field, value any) any {
	if pv, ok := value.(PasswordValue); ok && f.Type() == FieldTypePassword {
		return pv.Plain
	}

	return value
}
