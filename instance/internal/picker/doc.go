// Package picker implements PocketBase's ?fields= response picker (tools/picker): it keeps
// only the listed keys of a decoded JSON value, with dotted paths for nested keys, "*"
// for all keys of a level and the :excerpt(max, withEllipsis) modifier that turns HTML
// into a short plain-text excerpt.
//
// It works on values decoded from JSON (map[string]any, []any and scalars) and never
// modifies its input. It is a leaf package: it imports the standard library and
// golang.org/x/net/html only.
package picker
