package core

import (
	"regexp"
	"strings"
)

var (
	indexRegex       = regexp.MustCompile(`(?im)create\s+(unique\s+)?\s*index\s*(if\s+not\s+exists\s+)?(\S*)\s+on\s+(\S*)\s*\(([\s\S]*)\)(?:\s*where\s+([\s\S]*))?`)
	indexColumnRegex = regexp.MustCompile(`(?im)^([\s\S]+?)(?:\s+collate\s+([\w]+))?(?:\s+(asc|desc))?$`)
)

// identTrimChars are stripped around parsed index identifiers.
const identTrimChars = "`\"'[]\r\n\t\f\v "

// IndexColumn is one column (or expression) of a parsed index.
type IndexColumn struct {
	// Name is the column name or expression.
	Name string
	// Collate is the collation, if any.
	Collate string
	// Sort is "ASC", "DESC" or "".
	Sort string
}

// Index is a parsed CREATE INDEX statement (PocketBase's dbutils.Index).
type Index struct {
	// Unique is set for CREATE UNIQUE INDEX.
	Unique bool
	// Optional is set for IF NOT EXISTS.
	Optional bool
	// SchemaName is the schema, if the index name was qualified.
	SchemaName string
	// IndexName is the index name.
	IndexName string
	// TableName is the indexed table (replaced by the collection name on save).
	TableName string
	// Columns are the indexed columns.
	Columns []IndexColumn
	// Where is the partial index condition.
	Where string
}

// IsValid reports whether the index has a name, a table and columns.
func (idx Index) IsValid() bool {
	return idx.IndexName != "" && idx.TableName != "" && len(idx.Columns) > 0
}

// Build returns the CREATE INDEX statement in PocketBase's canonical form, the text it
// executes (and SQLite keeps in sqlite_master): quoted identifiers, and one column per
// line when there are several. It returns "" for an invalid index.
func (idx Index) Build() string {
	if !idx.IsValid() {
		return ""
	}

	var sb strings.Builder
	sb.WriteString("CREATE ")
	if idx.Unique {
		sb.WriteString("UNIQUE ")
	}
	sb.WriteString("INDEX ")
	if idx.Optional {
		sb.WriteString("IF NOT EXISTS ")
	}
	if idx.SchemaName != "" {
		sb.WriteString("`" + idx.SchemaName + "`.")
	}
	sb.WriteString("`" + idx.IndexName + "` ON `" + idx.TableName + "` (")

	if len(idx.Columns) > 1 {
		sb.WriteString("\n  ")
	}

	hasCol := false
	for _, col := range idx.Columns {
		name := strings.TrimSpace(col.Name)
		if name == "" {
			continue
		}
		if hasCol {
			sb.WriteString(",\n  ")
		}
		if strings.Contains(col.Name, "(") || strings.Contains(col.Name, " ") {
			sb.WriteString(name) // an expression
		} else {
			sb.WriteString("`" + name + "`")
		}
		if col.Collate != "" {
			sb.WriteString(" COLLATE " + col.Collate)
		}
		if col.Sort != "" {
			sb.WriteString(" " + strings.ToUpper(col.Sort))
		}
		hasCol = true
	}

	if hasCol && len(idx.Columns) > 1 {
		sb.WriteString("\n")
	}
	sb.WriteString(")")

	if idx.Where != "" {
		sb.WriteString(" WHERE " + idx.Where)
	}

	return sb.String()
}

// ParseIndex parses a CREATE INDEX statement; an unparseable one gives an invalid
// Index.
func ParseIndex(expr string) Index {
	var result Index

	m := indexRegex.FindStringSubmatch(expr)
	if len(m) != 7 {
		return result
	}

	result.Unique = strings.TrimSpace(m[1]) != ""
	result.Optional = strings.TrimSpace(m[2]) != ""

	nameParts := splitTopLevel(m[3], '.')
	if len(nameParts) == 2 {
		result.SchemaName = strings.Trim(nameParts[0], identTrimChars)
		result.IndexName = strings.Trim(nameParts[1], identTrimChars)
	} else if len(nameParts) > 0 {
		result.IndexName = strings.Trim(nameParts[0], identTrimChars)
	}

	result.TableName = strings.Trim(m[4], identTrimChars)

	for _, col := range splitTopLevel(m[5], ',') {
		cm := indexColumnRegex.FindStringSubmatch(col)
		if len(cm) != 4 {
			continue
		}
		name := strings.Trim(cm[1], identTrimChars)
		if name == "" {
			continue
		}
		result.Columns = append(result.Columns, IndexColumn{
			Name:    name,
			Collate: strings.TrimSpace(cm[2]),
			Sort:    strings.ToUpper(cm[3]),
		})
	}

	result.Where = strings.TrimSpace(m[6])

	return result
}

// hasSingleColumnUniqueIndex reports whether a unique index is on exactly this column
// (case-insensitive; a WHERE clause is allowed).
func hasSingleColumnUniqueIndex(indexes []string, column string) bool {
	for _, raw := range indexes {
		idx := ParseIndex(raw)
		if idx.Unique && len(idx.Columns) == 1 && strings.EqualFold(idx.Columns[0].Name, column) {
			return true
		}
	}

	return false
}

// splitTopLevel splits s at any of seps outside quotes and parentheses and trims each
// part (PocketBase's tools/tokenizer). Empty parts are dropped.
func splitTopLevel(s string, seps ...rune) []string {
	var parts []string
	for _, p := range tokenizeTopLevel(s, string(seps), false) {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}

// splitKeepSeparators splits at commas and whitespace outside quotes and parentheses,
// keeping the separators as their own tokens (tools/tokenizer with KeepSeparator).
func splitKeepSeparators(s string) []string {
	return tokenizeTopLevel(s, ", \n\t", true)
}

// tokenizeTopLevel splits s at any rune of seps found outside quotes ('…', "…", `…`,
// […]) and parentheses. It returns the non-empty pieces between separators, untrimmed,
// and with keepSeps each separator as a token of its own.
func tokenizeTopLevel(s, seps string, keepSeps bool) []string {
	var (
		tokens []string
		cur    strings.Builder
		quote  rune
		depth  int
	)
	flush := func() {
		if cur.Len() > 0 {
			tokens = append(tokens, cur.String())
			cur.Reset()
		}
	}

	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"' || r == '`':
			quote = r
		case r == '[':
			quote = ']'
		case r == '(':
			depth++
		case r == ')':
			if depth > 0 {
				depth--
			}
		case depth == 0 && strings.ContainsRune(seps, r):
			flush()
			if keepSeps {
				tokens = append(tokens, string(r))
			}
			continue
		}
		cur.WriteRune(r)
	}
	flush()

	return tokens
}
