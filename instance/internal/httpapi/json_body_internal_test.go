package httpapi

import (
	"testing"
)

func TestDecodeBodyJSON(t *testing.T) {
	tests := []struct {
		name, body string
		ok         bool
	}{
		{"object", `{"a":1}`, true},
		{"trailing garbage after the first value", `{"a":1} x`, true},
		{"a second value", `{"a":1}{"a":2}`, true},
		{"null", `null`, true},
		{"repeated name", `{"a":1,"a":2}`, false},
		{"repeated escaped name", `{"a":1,"\u0061":2}`, false},
		{"repeated nested name", `{"a":{"b":1,"b":2}}`, false},
		{"repeated name in an array's object", `{"a":[{"b":1},{"b":1,"b":2}]}`, false},
		{"same name in sibling objects", `{"a":{"b":1},"c":{"b":1},"d":[{"b":1},{"b":2}]}`, true},
		{"invalid utf-8", "{\"a\":\"\xff\"}", false},
		{"surrogate pair", `{"a":"\ud83d\ude00"}`, true},
		{"lone high surrogate", `{"a":"\ud800"}`, false},
		{"lone low surrogate", `{"a":"\udc00x"}`, false},
		{"high surrogate then a letter", `{"a":"\ud800\u0061"}`, false},
		{"escaped backslash before u", `{"a":"\\ud800"}`, true},
		{"array", `[1]`, false},
		{"truncated", `{"a":`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst map[string]any
			err := decodeBodyJSON([]byte(tt.body), &dst)
			if (err == nil) != tt.ok {
				t.Errorf("decodeBodyJSON(%s) error = %v, want ok %v", tt.body, err, tt.ok)
			}
		})
	}
}

func TestUnmarshalStrictJSONRejectsTrailingData(t *testing.T) {
	var dst map[string]any
	if err := unmarshalStrictJSON([]byte(`{"a":1} x`), &dst); err == nil {
		t.Error("an @jsonPayload with trailing data was accepted")
	}
}
