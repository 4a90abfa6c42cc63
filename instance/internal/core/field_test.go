package core_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func ptrF(v float64) *float64 { return &v }

// code returns the validation code of err ("" for nil).
func code(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ve *core.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("not a validation error: %v", err)
	}

	return ve.Code
}

func TestFieldValues(t *testing.T) {
	text := &core.TextField{Min: 3, Max: 5, Pattern: "^[a-z]+$"}
	text.Name = "t"
	required := &core.TextField{Required: true}
	number := &core.NumberField{Min: ptrF(1), Max: ptrF(10), OnlyInt: true}
	reqNumber := &core.NumberField{Required: true}
	boolean := &core.BoolField{Required: true}
	email := &core.EmailField{DomainOptions: core.DomainOptions{OnlyDomains: []string{"example.com"}}}
	url := &core.URLField{DomainOptions: core.DomainOptions{ExceptDomains: []string{"bad.example"}}}
	editor := &core.EditorField{MaxSize: 4}
	date := &core.DateField{Min: "2024-01-01 00:00:00.000Z"}
	sel := &core.SelectField{Values: []string{"a", "b", "c"}, MaxSelect: 2}
	single := &core.SelectField{Values: []string{"a", "b"}}
	jsonF := &core.JSONField{MaxSize: 10, Required: true}
	geo := &core.GeoPointField{Required: true}
	rel := &core.RelationField{MinSelect: 2, MaxSelect: 3}
	file := &core.FileField{MaxSelect: 2}

	tests := []struct {
		name  string
		field core.Field
		raw   any
		want  any // prepared value
		code  string
	}{
		{"text ok", text, "abcd", "abcd", ""},
		{"text number input", text, 12.5, "12.5", "validation_invalid_format"},
		{"text too short", text, "ab", "ab", "validation_min_text_constraint"},
		{"text too long (runes)", text, "abcdéf", "abcdéf", "validation_max_text_constraint"},
		{"text empty optional", text, nil, "", ""},
		{"text required", required, "", "", "validation_required"},
		{"text default max 5000", required, strings.Repeat("x", 5001), strings.Repeat("x", 5001), "validation_max_text_constraint"},
		{"number cast", number, "7", 7.0, ""},
		{"number garbage is 0", number, "abc", 0.0, ""},
		{"number decimal", number, 2.5, 2.5, "validation_only_int_constraint"},
		{"number below min", number, -1.0, -1.0, "validation_min_number_constraint"},
		{"number above max", number, 11.0, 11.0, "validation_max_number_constraint"},
		{"number bool", reqNumber, true, 1.0, ""},
		{"number required zero", reqNumber, "0", 0.0, "validation_required"},
		{"bool strings", boolean, "1", true, ""},
		{"bool required", boolean, "false", false, "validation_required"},
		{"bool number", boolean, 2.0, true, ""},
		{"email ok", email, "a@example.com", "a@example.com", ""},
		{"email format", email, "nope", "nope", "validation_is_email"},
		{"email domain", email, "a@other.com", "a@other.com", "validation_email_domain_not_allowed"},
		{"url ok", url, "https://good.example/x", "https://good.example/x", ""},
		{"url bad", url, "not a url", "not a url", "validation_invalid_url"},
		{"url domain", url, "https://bad.example", "https://bad.example", "validation_url_domain_not_allowed"},
		// govalidator.IsURL, as PocketBase: an upper-case scheme is not a scheme, a port has up to 5 digits
		{"url upper-case scheme", url, "HTTP://GOOD.EXAMPLE", "HTTP://GOOD.EXAMPLE", "validation_invalid_url"},
		{"url 5-digit port", url, "https://good.example:99999", "https://good.example:99999", ""},
		{"url 6-digit port", url, "https://good.example:123456", "https://good.example:123456", "validation_invalid_url"},
		{"url without scheme", url, "good.example/x", "good.example/x", ""},
		{"editor size", editor, "<p>x</p>", "<p>x</p>", "validation_content_size_limit"},
		{"date layout", date, "2024-05-06 07:08:09.123Z", "2024-05-06 07:08:09.123Z", ""},
		{"date rfc3339", date, "2024-05-06T07:08:09Z", "2024-05-06 07:08:09.000Z", ""},
		{"date only", date, "2024-05-06", "2024-05-06 00:00:00.000Z", ""},
		{"date garbage is empty", date, "tomorrow", "", ""},
		{"date json number is empty", date, 1700000000.0, "", ""},
		{"date before min", date, "2023-12-31", "2023-12-31 00:00:00.000Z", "validation_min_greater_equal_than_required"},
		{"select multi dedupe", sel, []any{"a", "b", "a", ""}, []string{"a", "b"}, ""},
		{"select too many", sel, []any{"a", "b", "c"}, []string{"a", "b", "c"}, "validation_too_many_values"},
		{"select invalid", sel, "z", []string{"z"}, "validation_invalid_value"},
		{"select json array string", sel, `["b","c"]`, []string{"b", "c"}, ""},
		{"select single keeps last", single, []any{"a", "b"}, "b", ""},
		{"json number string", jsonF, "12", json.RawMessage("12"), ""},
		{"json plain string", jsonF, "hi", json.RawMessage(`"hi"`), ""},
		{"json object", jsonF, map[string]any{"a": 1.0}, json.RawMessage(`{"a":1}`), ""},
		{"json required empty", jsonF, "[]", json.RawMessage("[]"), "validation_required"},
		{"json too big", jsonF, `{"aaaaaaaa":1}`, json.RawMessage(`{"aaaaaaaa":1}`), "validation_json_size_limit"},
		{"geo map", geo, map[string]any{"lon": 10.0, "lat": 20.0}, core.GeoPoint{Lon: 10, Lat: 20}, ""},
		{"geo string", geo, `{"lon":1,"lat":95}`, core.GeoPoint{Lon: 1, Lat: 95}, "validation_invalid_latitude"},
		{"geo lon", geo, `{"lon":181,"lat":0}`, core.GeoPoint{Lon: 181}, "validation_invalid_longitude"},
		{"geo required", geo, nil, core.GeoPoint{}, "validation_required"},
		// PocketBase decodes the point as JSON: decoding stops at a coordinate that is not a
		// number, keeping what was read before
		{"geo string coordinate after a number", geo, `{"lat":2,"lon":"1.5"}`, core.GeoPoint{Lat: 2}, ""},
		{"geo string coordinate first", geo, `{"lon":"1.5","lat":2}`, core.GeoPoint{}, "validation_required"},
		{"geo null coordinate", geo, `{"lon":null,"lat":2,"alt":"x"}`, core.GeoPoint{Lat: 2}, ""},
		{"geo map reads lon first", geo, map[string]any{"lat": 2.0, "lon": "1.5"}, core.GeoPoint{}, "validation_required"},
		{"geo keys match exactly", geo, map[string]any{"Lon": 1.0, "lat": 2.0}, core.GeoPoint{Lat: 2}, ""},
		{"geo repeated name stops", geo, `{"lon":1,"lat":2,"lon":3}`, core.GeoPoint{Lon: 1, Lat: 2}, ""},
		{"geo syntax error keeps what was read", geo, `{"lon":1,"lat":`, core.GeoPoint{Lon: 1}, ""},
		{"relation too few", rel, "r1", []string{"r1"}, "validation_not_enough_values"},
		{"relation too many", rel, []any{"a", "b", "c", "d"}, []string{"a", "b", "c", "d"}, "validation_too_many_values"},
		{"file new name", file, "x.txt", []string{"x.txt"}, "validation_invalid_file"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.field.PrepareValue(tt.raw)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PrepareValue(%#v) = %#v, want %#v", tt.raw, got, tt.want)
			}
			err := tt.field.ValidateValue(t.Context(), core.ValueContext{IsNew: true}, got)
			if c := code(t, err); c != tt.code {
				t.Errorf("ValidateValue = %q (%v), want %q", c, err, tt.code)
			}
		})
	}
}

func TestFieldOutputAndStorage(t *testing.T) {
	multi := &core.SelectField{Values: []string{"a", "b"}, MaxSelect: 2}
	jsonF := &core.JSONField{}
	geo := &core.GeoPointField{}

	stored, err := multi.DriverValue([]string{"a", "b"})
	if err != nil || stored != `["a","b"]` {
		t.Errorf("select DriverValue = %v, %v", stored, err)
	}
	if out := multi.OutputValue(`["a","b"]`); !reflect.DeepEqual(out, []string{"a", "b"}) {
		t.Errorf("select OutputValue = %#v", out)
	}
	if out, _ := json.Marshal(multi.OutputValue(nil)); string(out) != "[]" {
		t.Errorf("empty multi select = %s, want []", out)
	}
	if v, _ := jsonF.DriverValue(nil); v != nil {
		t.Errorf("empty json stored as %#v, want NULL", v)
	}
	if out, _ := json.Marshal(jsonF.OutputValue(nil)); string(out) != "null" {
		t.Errorf("empty json output = %s", out)
	}
	if out, _ := json.Marshal(jsonF.OutputValue(`{ "a" : [1, 2] }`)); string(out) != `{"a":[1,2]}` {
		t.Errorf("json output not compacted: %s", out)
	}
	if out, _ := json.Marshal(geo.OutputValue(nil)); string(out) != `{"lon":0,"lat":0}` {
		t.Errorf("geo output = %s", out)
	}
	if v, _ := geo.DriverValue(map[string]any{"lat": 1.5, "lon": 2}); v != `{"lon":2,"lat":1.5}` {
		t.Errorf("geo stored = %v", v)
	}
	if out, _ := json.Marshal((&core.NumberField{}).OutputValue(123456.0)); string(out) != "123456" {
		t.Errorf("number output = %s", out)
	}
	if out := (&core.PasswordField{}).OutputValue("$2a$10$x"); out != nil {
		t.Errorf("password output = %v, want nil", out)
	}
}

func TestFieldColumnTypes(t *testing.T) {
	tests := []struct {
		field core.Field
		want  string
	}{
		{&core.TextField{}, "TEXT DEFAULT '' NOT NULL"},
		{&core.TextField{PrimaryKey: true}, "TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL"},
		{&core.NumberField{}, "NUMERIC DEFAULT 0 NOT NULL"},
		{&core.BoolField{}, "BOOLEAN DEFAULT FALSE NOT NULL"},
		{&core.EmailField{}, "TEXT DEFAULT '' NOT NULL"},
		{&core.URLField{}, "TEXT DEFAULT '' NOT NULL"},
		{&core.EditorField{}, "TEXT DEFAULT '' NOT NULL"},
		{&core.DateField{}, "TEXT DEFAULT '' NOT NULL"},
		{&core.AutodateField{}, "TEXT DEFAULT '' NOT NULL"},
		{&core.SelectField{MaxSelect: 1}, "TEXT DEFAULT '' NOT NULL"},
		{&core.SelectField{MaxSelect: 2}, "JSON DEFAULT '[]' NOT NULL"},
		{&core.FileField{MaxSelect: 5}, "JSON DEFAULT '[]' NOT NULL"},
		{&core.RelationField{}, "TEXT DEFAULT '' NOT NULL"},
		{&core.JSONField{}, "JSON DEFAULT NULL"},
		{&core.PasswordField{}, "TEXT DEFAULT '' NOT NULL"},
		{&core.GeoPointField{}, `JSON DEFAULT '{"lon":0,"lat":0}' NOT NULL`},
	}
	for _, tt := range tests {
		if got := tt.field.ColumnType(); got != tt.want {
			t.Errorf("%s: ColumnType = %q, want %q", tt.field.Type(), got, tt.want)
		}
	}
	if got, want := len(core.FieldTypes()), 14; got != want {
		t.Errorf("%d field types registered, want %d", got, want)
	}
}

// settingsErrors validates one field's options inside a collection and returns the
// flattened "key: code" list.
func settingsErrors(t *testing.T, f core.Field) string {
	t.Helper()
	c := &core.Collection{Fields: core.FieldsList{f}}
	err := f.ValidateSettings(t.Context(), &core.SettingsContext{
		Collection:     c,
		FindCollection: func(string) (*core.Collection, error) { return nil, core.ErrCollectionNotFound },
	})
	if err == nil {
		return ""
	}
	var nested core.NestedErrors
	if !errors.As(err, &nested) {
		t.Fatalf("not NestedErrors: %v", err)
	}

	return flatten("", nested)
}

func flatten(prefix string, errs core.NestedErrors) string {
	var parts []string
	for _, key := range sortedKeys(errs) {
		switch v := errs[key].(type) { //nolint:errorlint // the tree holds its nodes unwrapped
		case core.NestedErrors:
			parts = append(parts, flatten(prefix+key+".", v))
		case *core.ValidationError:
			parts = append(parts, prefix+key+":"+v.Code)
		default:
			parts = append(parts, fmt.Sprintf("%s%s:%v", prefix, key, v))
		}
	}

	return strings.Join(parts, ",")
}

func sortedKeys(m core.NestedErrors) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}

	return keys
}

func named[F core.Field](f F, id, name string) F {
	f.SetID(id)
	f.SetName(name)
	return f
}

func TestFieldSettings(t *testing.T) {
	tests := []struct {
		name  string
		field core.Field
		want  string
	}{
		{"valid text", named(&core.TextField{Min: 1, Max: 2}, "t1", "title"), ""},
		{"missing name", named(&core.TextField{}, "t1", ""), "name:validation_required"},
		{"bad name", named(&core.TextField{}, "t1", "a-b"), "name:validation_match_invalid"},
		{"reserved name", named(&core.BoolField{}, "t1", "collectionName"), "name:validation_not_in_invalid"},
		{"via name", named(&core.BoolField{}, "t1", "a_via_b"), "name:validation_found_via"},
		{"long name", named(&core.BoolField{}, "t1", strings.Repeat("a", 101)), "name:validation_length_out_of_range"},
		{"missing id", named(&core.BoolField{}, "", "x"), "id:validation_required"},
		{"text min/max", named(&core.TextField{Min: 5, Max: 2}, "t1", "x"), "max:validation_min_greater_equal_than_required"},
		{"text bad pattern", named(&core.TextField{Pattern: "("}, "t1", "x"), "pattern:validation_invalid_regex"},
		{"pk must be id", named(&core.TextField{PrimaryKey: true, Required: true, Pattern: "^a$"}, "t1", "x"), "name:validation_in_invalid"},
		{"pk needs pattern", named(&core.TextField{PrimaryKey: true, Required: true}, "t1", "id"), "pattern:validation_required"},
		{"autogenerate conflicts", named(&core.TextField{Max: 2, AutogeneratePattern: "[a-z]{5}"}, "t1", "x"), "autogeneratePattern:validation_invalid_autogenerate_pattern_value"},
		{"number onlyInt min", named(&core.NumberField{Min: ptrF(1.5), OnlyInt: true}, "n", "x"), "min:validation_only_int_constraint"},
		{"number max < min", named(&core.NumberField{Min: ptrF(5), Max: ptrF(1)}, "n", "x"), "max:validation_min_number_constraint"},
		{"number max 0 < min", named(&core.NumberField{Min: ptrF(5), Max: ptrF(0)}, "n", "x"), "max:validation_min_number_constraint"},
		{"select needs values", named(&core.SelectField{}, "s", "x"), "values:validation_required"},
		{"select maxSelect", named(&core.SelectField{Values: []string{"a"}, MaxSelect: 3}, "s", "x"), "maxSelect:validation_max_less_equal_than_required"},
		{"relation collection", named(&core.RelationField{CollectionID: "nope"}, "r", "x"), "collectionId:validation_field_relation_missing_collection"},
		{"relation required collection", named(&core.RelationField{MinSelect: 2}, "r", "x"), "collectionId:validation_required,maxSelect:validation_required"},
		{"file thumbs", named(&core.FileField{Thumbs: []string{"100x100", "0x0", "abc"}}, "f", "x"), "thumbs.1:validation_not_in_invalid,thumbs.2:validation_match_invalid"},
		{"file negative", named(&core.FileField{MaxSize: -1}, "f", "x"), "maxSize:validation_min_greater_equal_than_required"},
		{"email domains both", named(&core.EmailField{DomainOptions: core.DomainOptions{OnlyDomains: []string{"a.com"}, ExceptDomains: []string{"b.com"}}}, "e", "x"), "exceptDomains:validation_empty,onlyDomains:validation_empty"},
		{"url bad domain", named(&core.URLField{DomainOptions: core.DomainOptions{OnlyDomains: []string{"not a domain"}}}, "u", "x"), "onlyDomains.0:validation_is_domain"},
		{"password limits", named(&core.PasswordField{Min: 80, Cost: 2}, "p", "x"), "cost:validation_min_greater_equal_than_required,min:validation_max_less_equal_than_required"},
		{"autodate needs a flag", named(&core.AutodateField{}, "a", "x"), "onCreate:validation_required,onUpdate:validation_required"},
		{"date max before min is accepted", named(&core.DateField{Min: "2024-02-01 00:00:00.000Z", Max: "2024-01-01 00:00:00.000Z"}, "d", "x"), ""},
		{"json negative size", named(&core.JSONField{MaxSize: -5}, "j", "x"), "maxSize:validation_min_greater_equal_than_required"},
		{"valid geo", named(&core.GeoPointField{}, "g", "x"), ""},
		{"valid editor", named(&core.EditorField{MaxSize: 10}, "e", "x"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := settingsErrors(t, tt.field); got != tt.want {
				t.Errorf("errors = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFieldsListIDs(t *testing.T) {
	var l core.FieldsList
	raw := `[{"type":"text","name":"title"},{"type":"text","name":"title","max":5},{"type":"number","name":"n","id":"custom"},{"type":"bool","name":"b"}]`
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(l.FieldNames(), ","); got != "title,n,b" {
		t.Errorf("names = %s (same-name fields without ids collapse)", got)
	}
	if got := l.GetByName("title").GetID(); got != "text724990059" {
		t.Errorf("title id = %s", got)
	}
	if got := l.GetByName("title").(*core.TextField).Max; got != 5 {
		t.Errorf("title max = %d, want the later definition", got)
	}
	if got := l.GetByName("n").GetID(); got != "custom" {
		t.Errorf("explicit id lost: %s", got)
	}

	var bad core.FieldsList
	if err := json.Unmarshal([]byte(`[{"type":"nope","name":"x"}]`), &bad); err == nil {
		t.Error("unknown field type accepted")
	}

	out := marshalNoEscape(t, core.FieldsList{named(&core.SelectField{Values: []string{"<a&b>"}}, "s", "x")})
	if want := `[{"help":"","hidden":false,"id":"s","maxSelect":0,"name":"x","presentable":false,"required":false,"system":false,"type":"select","values":["<a&b>"]}]`; string(out) != want {
		t.Errorf("field JSON = %s\nwant %s", out, want)
	}
}

func TestRandomStringByRegex(t *testing.T) {
	for _, pattern := range []string{"[a-z0-9]{15}", "[a-zA-Z0-9]{50}", "^abc-[0-9]{3}(x|y)?$", `\d{4}`} {
		for range 20 {
			s, err := core.RandomStringByRegex(pattern)
			if err != nil {
				t.Fatalf("%s: %v", pattern, err)
			}
			f := &core.TextField{Pattern: pattern}
			if err := f.ValidatePlainValue(s); err != nil {
				t.Errorf("%s generated %q that does not match", pattern, s)
			}
		}
	}
}
