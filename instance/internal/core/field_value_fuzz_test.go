package core_test

import (
	"encoding/json"
	"regexp"
	"strconv"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

var numericChars = regexp.MustCompile(`^-?[\d.]+$`)

// FuzzInferFormValue checks the multipart/urlencoded value inference of §4.1 and the
// field coercions fed with its results: booleans only from "true"/"false", numbers only
// when they format back to the exact input, and nothing lost when a text field
// stringifies the inferred value. The seed corpus is in testdata/fuzz.
func FuzzInferFormValue(f *testing.F) {
	for _, seed := range []string{
		"", "true", "false", "True", "0", "-0", "0001", "1e3", "0.0", "12.5", "-12.5", ".5",
		"1.", "abc", "Infinity", "NaN", "9007199254740993", "123456", "-", "--1", "1.2.3",
	} {
		f.Add(seed)
	}

	text := &core.TextField{}
	number := &core.NumberField{}
	boolean := &core.BoolField{}
	jsonField := &core.JSONField{}
	sel := &core.SelectField{MaxSelect: 3}

	f.Fuzz(func(t *testing.T, raw string) {
		v := core.InferFormValue(raw)

		switch got := v.(type) {
		case bool:
			if raw != "true" && raw != "false" {
				t.Fatalf("%q inferred as bool %v", raw, got)
			}
		case float64:
			if strconv.FormatFloat(got, 'f', -1, 64) != raw || !numericChars.MatchString(raw) {
				t.Fatalf("%q inferred as number %v", raw, got)
			}
		case string:
			if got != raw {
				t.Fatalf("%q inferred as a different string %q", raw, got)
			}
			if raw != "" && numericChars.MatchString(raw) {
				if n, err := strconv.ParseFloat(raw, 64); err == nil && strconv.FormatFloat(n, 'f', -1, 64) == raw {
					t.Fatalf("%q is a canonical number but stayed a string", raw)
				}
			}
		default:
			t.Fatalf("%q inferred as %T", raw, v)
		}

		// a text field gets back exactly what was sent
		if s := text.PrepareValue(v); s != raw {
			t.Fatalf("text field: %q -> %#v -> %q", raw, v, s)
		}

		n, ok := number.PrepareValue(v).(float64)
		if !ok {
			t.Fatalf("number field gave %T", number.PrepareValue(v))
		}
		if f, isNum := v.(float64); isNum && n != f {
			t.Fatalf("number field changed %v to %v", f, n)
		}

		if _, ok := boolean.PrepareValue(v).(bool); !ok {
			t.Fatalf("bool field gave %T", boolean.PrepareValue(v))
		}

		out, err := json.Marshal(jsonField.OutputValue(jsonField.PrepareValue(v)))
		if err != nil || !json.Valid(out) {
			t.Fatalf("json field: %q -> invalid output %q (%v)", raw, out, err)
		}

		if list, ok := sel.PrepareValue(v).([]string); !ok {
			t.Fatalf("multi select gave %T", sel.PrepareValue(v))
		} else {
			for _, item := range list {
				if item == "" {
					t.Fatalf("multi select kept an empty value for %q", raw)
				}
			}
		}
	})
}
