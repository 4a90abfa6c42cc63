package core

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// marshalJSON encodes v as PocketBase v0.40 stores it: compact, no HTML escaping, no
// trailing newline. Struct fields keep declaration order and map keys are sorted.
func marshalJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("encoding json: %w", err)
	}

	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}
