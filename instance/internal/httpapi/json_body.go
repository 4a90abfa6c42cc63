package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeBodyJSON decodes a JSON request body into dst as PocketBase's BindBody does
// (encoding/json/v2 UnmarshalDecode over a jsontext.Decoder): only the first JSON value
// is read, so whatever follows it (`{"a":1} x`) is ignored, while a repeated object name
// at any depth or invalid UTF-8 fails the whole body.
func decodeBodyJSON(body []byte, dst any) error {
	raw, err := firstBodyJSON(body)
	if err != nil {
		return err
	}

	return unmarshalStrictJSON(raw, dst)
}

// firstBodyJSON returns the first JSON value of a request body, as PocketBase's BindBody
// reads it: whatever follows it is ignored; a syntax error, a repeated object name,
// invalid UTF-8 or half a surrogate pair in the value is an error.
func firstBodyJSON(body []byte) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&raw); err != nil {
		return nil, fmt.Errorf("decoding the JSON body: %w", err)
	}
	if err := checkStrictJSON(raw); err != nil {
		return nil, err
	}

	return raw, nil
}

// unmarshalStrictJSON decodes data, one JSON value and nothing after it, into dst as
// encoding/json/v2's Unmarshal does (PocketBase's @jsonPayload): a repeated object name,
// invalid UTF-8 or a \u escape of half a surrogate pair is an error.
func unmarshalStrictJSON(data []byte, dst any) error {
	if err := checkStrictJSON(data); err != nil {
		return err
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("decoding JSON: %w", err)
	}

	return nil
}

// checkStrictJSON fails when data is not one JSON value that encoding/json/v2 accepts:
// syntax errors, trailing data, invalid UTF-8, half a surrogate pair or a repeated
// object name.
func checkStrictJSON(data []byte) error {
	if !utf8.Valid(data) || !pairedSurrogates(data) {
		return errors.New("decoding JSON: invalid UTF-8")
	}
	if !json.Valid(data) {
		return errors.New("decoding JSON: invalid syntax or trailing data")
	}

	return checkUniqueNames(data)
}

// checkUniqueNames fails when an object of the JSON value raw repeats a name (compared
// unescaped, as encoding/json/v2 does).
func checkUniqueNames(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	// one entry per open object (its names so far) or array (nil)
	var open []map[string]bool
	expectName := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("decoding JSON: %w", err)
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				open = append(open, map[string]bool{})
				expectName = true
				continue
			case '[':
				open = append(open, nil)
				expectName = false
				continue
			default:
				open = open[:len(open)-1]
			}
		case string:
			if expectName {
				names := open[len(open)-1]
				if names[t] {
					return fmt.Errorf("decoding JSON: duplicate name %q", t)
				}
				names[t] = true
				expectName = false
				continue
			}
		}
		// a value ended: inside an object a name comes next
		expectName = len(open) > 0 && open[len(open)-1] != nil
	}
}

// pairedSurrogates reports whether every \u escape of a surrogate in the JSON text data
// is half of a pair (a high one followed by a low one). Outside strings a valid JSON
// text has no backslash, so the escapes are found by scanning for them.
func pairedSurrogates(data []byte) bool {
	escape := func(at int) (rune, bool) {
		if at+6 > len(data) || data[at] != '\\' || data[at+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(data[at+2:at+6]), 16, 16)
		return rune(n), err == nil
	}
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		r, ok := escape(i)
		if !ok {
			i++ // another escape: skip its character (it may be a backslash)
			continue
		}
		i += 5
		switch {
		case utf16.IsSurrogate(r) && r >= 0xdc00:
			return false // a low half alone
		case utf16.IsSurrogate(r):
			low, ok := escape(i + 1)
			if !ok || !utf16.IsSurrogate(low) || low < 0xdc00 {
				return false
			}
			i += 6
		}
	}

	return true
}
