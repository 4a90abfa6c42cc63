package core

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// This file holds the value coercions of §4.1: how PocketBase turns request input
// (JSON values, or the inferred strings of multipart/urlencoded bodies) and database
// values into field values. They follow github.com/spf13/cast, which PocketBase uses.

var inferNumberChars = regexp.MustCompile(`^[\-\.\d]+$`)

// InferFormValue types one multipart/urlencoded value the way PocketBase's router does
// (tools/router/unmarshal_request_data.go inferValue): "true" and "false" become
// booleans, a numeric string becomes a float64 only when formatting the number gives
// back exactly the same string ("0001", "1e3", "0.0" and "-0" stay strings), and
// anything else stays a string.
func InferFormValue(raw string) any {
	switch raw {
	case "":
		return raw
	case "true":
		return true
	case "false":
		return false
	}

	if (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) && inferNumberChars.MatchString(raw) {
		v, err := strconv.ParseFloat(raw, 64)
		if err == nil && strconv.FormatFloat(v, 'f', -1, 64) == raw {
			return v
		}
	}

	return raw
}

// castToString is cast.ToString: numbers in their shortest form, booleans as
// true/false, nil and unsupported types as "".
func castToString(v any) string {
	switch s := v.(type) {
	case nil:
		return ""
	case string:
		return s
	case []byte:
		return string(s)
	case bool:
		return strconv.FormatBool(s)
	case float64:
		return strconv.FormatFloat(s, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(s), 'f', -1, 32)
	case int:
		return strconv.Itoa(s)
	case int64:
		return strconv.FormatInt(s, 10)
	case int32:
		return strconv.FormatInt(int64(s), 10)
	case uint:
		return strconv.FormatUint(uint64(s), 10)
	case uint64:
		return strconv.FormatUint(s, 10)
	case json.Number:
		return s.String()
	case json.RawMessage:
		return string(s)
	case fmt.Stringer:
		return s.String()
	case error:
		return s.Error()
	}

	return ""
}

// castToFloat64 is cast.ToFloat64: strings are parsed (anything unparseable is 0),
// booleans are 1 or 0.
func castToFloat64(v any) float64 {
	switch n := v.(type) {
	case nil:
		return 0
	case float64:
		return n
	case float32:
		return float64(n)
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case int32:
		return float64(n)
	case uint:
		return float64(n)
	case uint64:
		return float64(n)
	case bool:
		if n {
			return 1
		}
		return 0
	case string:
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return 0
		}
		return f
	case []byte:
		return castToFloat64(string(n))
	case json.Number:
		return castToFloat64(string(n))
	}

	return 0
}

// castToBool is cast.ToBool: strings through strconv.ParseBool ("1", "t", "TRUE", ...;
// anything else is false), numbers are true when not zero.
func castToBool(v any) bool {
	switch b := v.(type) {
	case nil:
		return false
	case bool:
		return b
	case string:
		parsed, err := strconv.ParseBool(b)
		return err == nil && parsed
	case []byte:
		return castToBool(string(b))
	case json.Number:
		return castToBool(string(b))
	case float64, float32, int, int64, int32, uint, uint64:
		f := castToFloat64(b)
		return f != 0 && !math.IsNaN(f)
	}

	return false
}

// toUniqueStringSlice is PocketBase's list.ToUniqueStringSlice: a string (or a JSON
// array of strings) or a list becomes a list of non-empty, unique strings, in order.
func toUniqueStringSlice(v any) []string {
	var result []string

	switch val := v.(type) {
	case nil:
	case []string:
		result = val
	case string:
		if val == "" {
			break
		}
		if strings.Contains(val, "[") {
			if err := json.Unmarshal([]byte(val), &result); err != nil {
				result = []string{val}
			}
		} else {
			result = []string{val}
		}
	case json.RawMessage:
		_ = json.Unmarshal(val, &result)
	case []byte:
		return toUniqueStringSlice(string(val))
	case []any:
		result = make([]string, 0, len(val))
		for _, item := range val {
			result = append(result, castToString(item))
		}
	default:
		result = []string{castToString(val)}
	}

	return nonzeroUniques(result)
}

// nonzeroUniques drops empty and repeated strings, keeping the first occurrence.
func nonzeroUniques(list []string) []string {
	out := make([]string, 0, len(list))
	seen := make(map[string]struct{}, len(list))
	for _, s := range list {
		if s == "" {
			continue
		}
		if _, ok := seen[s]; ok {
			continue
		}
		seen[s] = struct{}{}
		out = append(out, s)
	}

	return out
}

// dateLayouts are the layouts cast.ToTime tries after DateTimeLayout.
var dateLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05",
	time.RFC1123Z,
	time.RFC1123,
	time.RFC822Z,
	time.RFC822,
	time.RFC850,
	time.ANSIC,
	time.UnixDate,
	time.RubyDate,
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02",
	"02 Jan 2006",
	"2006-01-02T15:04:05-0700",
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	time.Kitchen,
	time.Stamp,
	time.StampMilli,
	time.StampMicro,
	time.StampNano,
}

// ParseDateTime is PocketBase's types.ParseDateTime: it returns the value formatted
// with DateTimeLayout in UTC, or "" when it is empty or cannot be parsed (PocketBase
// drops unparseable dates silently). Integers are Unix seconds; JSON numbers (floats)
// are formatted as strings first and so never parse.
func ParseDateTime(v any) string {
	var t time.Time

	switch d := v.(type) {
	case nil:
		return ""
	case time.Time:
		t = d
	case int:
		t = time.Unix(int64(d), 0)
	case int64:
		t = time.Unix(d, 0)
	case int32:
		t = time.Unix(int64(d), 0)
	default:
		s := castToString(d)
		if s == "" {
			return ""
		}
		t = parseDateString(s)
	}

	if t.IsZero() {
		return ""
	}

	return FormatDateTime(t)
}

func parseDateString(s string) time.Time {
	if t, err := time.Parse(DateTimeLayout, s); err == nil {
		return t
	}
	for _, layout := range dateLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t
		}
	}

	return time.Time{}
}
