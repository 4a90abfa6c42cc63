package realtime

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// optionsParam is the query parameter of a topic that holds its JSON options.
const optionsParam = "options"

// SubscriptionOptions are the request options of one subscription, sent by the JS SDK
// as `topic?options=<url-encoded JSON>`: they become @request.query.* and
// @request.headers.* when the realtime API checks a record's rules, and `expand`,
// `fields` and `filter` shape what is sent.
type SubscriptionOptions struct {
	// Query holds the query parameters, every value cast to a string; nil when none.
	Query map[string]string
	// Headers holds the headers keyed by their snake_cased name ("X-Token" is
	// "x_token"), every value cast to a string; nil when none.
	Headers map[string]string
}

// Subscription is one topic of a client with its parsed options.
type Subscription struct {
	// Topic is the exact subscription string, options included; it is the event name
	// of the messages sent for it.
	Topic string
	// Options are the parsed `options` of the topic.
	Options SubscriptionOptions
}

// Base returns the topic without its options query, e.g. "demo/*" for
// `demo/*?options=…`: the part that names what is subscribed to.
func (s Subscription) Base() string {
	return topicBase(s.Topic)
}

func topicBase(topic string) string {
	if i := strings.IndexByte(topic, '?'); i >= 0 {
		return topic[:i]
	}

	return topic
}

// ParseSubscription parses a subscription string: a topic with optional
// `?options=<JSON>` (PocketBase's subscriptions.Client.Subscribe). Options that are
// not valid JSON, or a topic that is not a valid URL reference, give no options, never
// an error; query and header values are cast to strings as PocketBase does (numbers
// in their shortest form, booleans as true/false, null and objects as "").
//
//	s := realtime.ParseSubscription(`demo/*?options={"query":{"page":2},"headers":{"X-Token":"t"}}`)
//	// s.Options.Query["page"] == "2", s.Options.Headers["x_token"] == "t"
func ParseSubscription(topic string) Subscription {
	sub := Subscription{Topic: topic}
	if !strings.Contains(topic, "?") {
		return sub
	}

	u, err := url.Parse(topic)
	if err != nil {
		return sub
	}
	raw := u.Query().Get(optionsParam)
	if raw == "" {
		return sub
	}

	// note: invalid options are ignored, as PocketBase ignores the Unmarshal error; a
	// query or headers of the wrong type is left out. The keys are matched exactly,
	// as PocketBase's encoding/json/v2 matches them ("Query" is not "query").
	var parts map[string]json.RawMessage
	_ = json.Unmarshal([]byte(raw), &parts)
	var opts struct{ Query, Headers map[string]any }
	if q, ok := parts["query"]; ok {
		_ = json.Unmarshal(q, &opts.Query)
	}
	if h, ok := parts["headers"]; ok {
		_ = json.Unmarshal(h, &opts.Headers)
	}

	if len(opts.Query) > 0 {
		sub.Options.Query = make(map[string]string, len(opts.Query))
		for k, v := range opts.Query {
			sub.Options.Query[k] = castString(v)
		}
	}
	if len(opts.Headers) > 0 {
		sub.Options.Headers = make(map[string]string, len(opts.Headers))
		for k, v := range opts.Headers {
			sub.Options.Headers[Snakecase(k)] = castString(v)
		}
	}

	return sub
}

// castString converts a decoded JSON value to a string the way PocketBase's cast.ToString
// does for the values JSON can hold.
func castString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default: // nil, objects and arrays
		return ""
	}
}

// Snakecase converts a header name to its snake_case key, as PocketBase's
// inflector.Snakecase: the name is split at every run of characters other than ASCII
// letters and digits, an underscore goes before an upper-case letter that follows a
// non upper-case one (abbreviations stay whole), and the result is lower-cased.
//
//	realtime.Snakecase("X-Token")  // "x_token"
//	realtime.Snakecase("myTestDB") // "my_test_db"
func Snakecase(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)

	for word := range strings.FieldsFuncSeq(s, func(r rune) bool { return !isASCIIWordChar(r) || r == '_' }) {
		if b.Len() > 0 {
			b.WriteByte('_')
		}
		prevUpper := false
		for i, r := range word {
			upper := unicode.IsUpper(r)
			if upper && i > 0 && !prevUpper {
				b.WriteByte('_')
			}
			prevUpper = upper
			b.WriteRune(unicode.ToLower(r))
		}
	}

	return b.String()
}

func isASCIIWordChar(r rune) bool {
	return r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
}
