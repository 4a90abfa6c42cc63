package core

import (
	"regexp"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

var mailWhitespaceRe = regexp.MustCompile(`\s+`)

// mailTextSkipTags are left out of the plain text with their content.
var mailTextSkipTags = []string{
	"style", "script", "iframe", "applet", "object", "svg", "img",
	"button", "form", "textarea", "input", "select", "option", "template",
}

// mailTextInlineTags do not start a new line.
var mailTextInlineTags = []string{"a", "span", "small", "strike", "strong", "sub", "sup", "em", "b", "u", "i"}

// html2Text converts an HTML mail body to its plain-text alternative as PocketBase's
// mailer does (tools/mailer/html2text.go): whitespace runs collapse to one space, block
// elements and <br> start a new line ("\r\n"), list items get a "- " prefix and links
// become "[text](href)".
func html2Text(htmlDocument string) (string, error) {
	doc, err := html.Parse(strings.NewReader(htmlDocument))
	if err != nil {
		return "", err
	}

	var out strings.Builder
	canAddNewLine := false

	var walk func(n *html.Node, w *strings.Builder)
	walk = func(n *html.Node, w *strings.Builder) {
		isLink := n.Type == html.ElementNode && n.Data == "a"
		if isLink {
			w = &strings.Builder{}
		}

		switch n.Type {
		case html.TextNode:
			txt := mailWhitespaceRe.ReplaceAllString(n.Data, " ")
			if !canAddNewLine {
				txt = strings.TrimLeft(txt, " ")
			}
			if txt != "" {
				w.WriteString(txt)
				canAddNewLine = true
			}
		case html.ElementNode:
			if n.Data == "br" || (canAddNewLine && !slices.Contains(mailTextInlineTags, n.Data)) {
				w.WriteString("\r\n")
				canAddNewLine = false
			}
			if n.Data == "li" {
				w.WriteString("- ")
			}
		}

		for child := n.FirstChild; child != nil; child = child.NextSibling {
			if child.Type != html.ElementNode || !slices.Contains(mailTextSkipTags, child.Data) {
				walk(child, w)
			}
		}

		if isLink {
			label := strings.TrimSpace(w.String())
			if label == "" {
				label = "LINK"
			}
			out.WriteString("[" + label + "]")
			for _, attr := range n.Attr {
				if attr.Key == "href" {
					if attr.Val != "" {
						out.WriteString("(" + attr.Val + ")")
					}
					break
				}
			}
		}
	}
	walk(doc, &out)

	return strings.TrimSpace(out.String()), nil
}
