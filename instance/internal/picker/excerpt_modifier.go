package picker

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// excludedTags are elements whose content never shows in an excerpt.
var excludedTags = []string{
	"head", "style", "script", "iframe", "embed", "applet", "object",
	"svg", "img", "picture", "dialog", "template", "button", "form",
	"textarea", "input", "select", "option",
}

// inlineTags are elements that do not separate words; every other element does.
var inlineTags = []string{
	"a", "abbr", "acronym", "b", "bdo", "big", "br", "button",
	"cite", "code", "em", "i", "label", "q", "small", "span",
	"strong", "strike", "sub", "sup", "time",
}

// excerptModifier is :excerpt(max, withEllipsis?): the plain text of an HTML string,
// whitespace collapsed, cut to max characters, with "..." appended when cut and asked.
type excerptModifier struct {
	max          int
	withEllipsis bool
}

var _ Modifier = (*excerptModifier)(nil)

func newExcerptModifier(args ...string) (*excerptModifier, error) {
	switch {
	case len(args) == 0:
		return nil, errors.New("excerpt: max argument is required - expected (max, withEllipsis?)")
	case len(args) > 2:
		return nil, errors.New("excerpt: too many arguments - expected (max, withEllipsis?)")
	}

	m := &excerptModifier{max: toInt(args[0])}
	if m.max <= 0 {
		return nil, fmt.Errorf("excerpt: max argument must be > 0, got %q", args[0])
	}
	if len(args) > 1 {
		m.withEllipsis = toBool(args[1])
	}

	return m, nil
}

// Modify implements [Modifier]. Non-string values (e.g. a missing expand) are returned
// unchanged.
func (m *excerptModifier) Modify(value any) (any, error) {
	s, ok := value.(string)
	if !ok {
		return value, nil
	}

	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return "", fmt.Errorf("excerpt: parsing html: %w", err)
	}

	w := &textWriter{limit: m.max + 2}
	w.walk(doc)

	result := strings.TrimSpace(w.buf.String())

	if len(result) > m.max {
		if runes := []rune(result); len(runes) > m.max {
			result = strings.TrimSpace(string(runes[:m.max]))
			if m.withEllipsis {
				result += "..."
			}
		}
	}

	return result, nil
}

// textWriter collects the visible text of an HTML tree with one space between blocks.
type textWriter struct {
	buf       strings.Builder
	prevSpace bool
	// limit stops the walk into further children once the text is longer, in bytes.
	//
	// note: PocketBase compares the byte length with max+2 while max counts runes, so
	// multi-byte text may end before max runes; kept for identical excerpts.
	limit int
}

func (w *textWriter) walk(n *html.Node) {
	if n.Type == html.TextNode {
		text := collapseSpaces(n.Data)
		if w.prevSpace {
			text = strings.TrimLeft(text, " ")
		}
		if text != "" {
			w.prevSpace = strings.HasSuffix(text, " ")
			w.buf.WriteString(text)
		}
	}

	if w.buf.Len() > w.limit {
		return
	}

	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && slices.Contains(excludedTags, c.Data) {
			continue
		}

		isBlock := c.Type == html.ElementNode && !slices.Contains(inlineTags, c.Data)

		if isBlock {
			w.space()
		}
		w.walk(c)
		if isBlock {
			w.space()
		}
	}
}

func (w *textWriter) space() {
	if !w.prevSpace {
		w.buf.WriteByte(' ')
		w.prevSpace = true
	}
}

// collapseSpaces replaces every run of \t, \n, \f, \r and ' ' with one space (the RE2
// \s class).
func collapseSpaces(s string) string {
	var b strings.Builder
	b.Grow(len(s))

	inSpace := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\t', '\n', '\f', '\r', ' ':
			if !inSpace {
				b.WriteByte(' ')
				inSpace = true
			}
		default:
			b.WriteByte(s[i])
			inSpace = false
		}
	}

	return b.String()
}
