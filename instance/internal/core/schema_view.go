package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// This file derives the fields of a view collection from its SELECT and keeps its SQL
// view, as PocketBase's core/view.go does.

// errViewMissingID is PocketBase's error for a view query without an id column.
var errViewMissingID = errors.New("missing required id column (you can use `(ROW_NUMBER() OVER()) as id` if you don't have one)")

// tableInfoRow is one row of PRAGMA table_info.
type tableInfoRow struct {
	name, typ string
}

func tableInfo(ctx context.Context, q sqlitedb.Querier, name string) ([]tableInfoRow, error) {
	rows, err := q.QueryContext(ctx, "SELECT `name`, `type` FROM pragma_table_info(?)", name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	var info []tableInfoRow
	for rows.Next() {
		var r tableInfoRow
		if err := rows.Scan(&r.name, &r.typ); err != nil {
			return nil, err
		}
		info = append(info, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(info) == 0 {
		return nil, fmt.Errorf("empty table info probably due to invalid or missing table %s", name)
	}

	return info, nil
}

// saveView (re)creates the SQL view name as SELECT * FROM (query), and checks that it
// resolves (SQLite accepts views over missing tables until they are used).
func saveView(ctx context.Context, tx *sql.Tx, name, query string) error {
	if err := execAll(ctx, tx, "DROP VIEW IF EXISTS "+quoteIdent(name)); err != nil {
		return err
	}

	query = strings.Trim(strings.TrimSpace(query), ";")
	if len(splitTopLevel(query, ';')) > 1 {
		return errors.New("multiple statements are not supported")
	}

	// note: the extra SELECT discourages running several statements.
	if err := execAll(ctx, tx, "CREATE VIEW "+quoteIdent(name)+" AS SELECT * FROM ("+query+")"); err != nil {
		return err
	}
	if _, err := tableInfo(ctx, tx, name); err != nil {
		_ = execAll(ctx, tx, "DROP VIEW IF EXISTS "+quoteIdent(name))
		return err
	}

	return nil
}

// queryTableInfo dry-runs a SELECT through a temporary view and returns its columns.
func queryTableInfo(ctx context.Context, tx *sql.Tx, query string) ([]tableInfoRow, error) {
	suffix, err := security.RandomString(6)
	if err != nil {
		return nil, err
	}
	temp := "_temp_" + suffix

	if _, err := tx.ExecContext(ctx, "SAVEPOINT view_dry_run"); err != nil {
		return nil, err
	}
	rollback := func() {
		_, _ = tx.ExecContext(ctx, "ROLLBACK TO view_dry_run")
		_, _ = tx.ExecContext(ctx, "RELEASE view_dry_run")
	}

	if err := saveView(ctx, tx, temp, query); err != nil {
		rollback()
		return nil, err
	}
	info, err := tableInfo(ctx, tx, temp)
	if err != nil {
		rollback()
		return nil, err
	}
	if err := execAll(ctx, tx, "DROP VIEW IF EXISTS "+quoteIdent(temp), "RELEASE view_dry_run"); err != nil {
		rollback()
		return nil, err
	}

	return info, nil
}

// createViewFields derives a view collection's fields from its query: the id column is
// a primary key text field, COUNT()/TOTAL() columns are numbers, CAST(… AS type)
// columns get the matching type, columns of a known collection are copies of its
// fields (an "id" column of another collection is a relation to it), and anything else
// is a json field. The fields found before an error are returned with it.
func createViewFields(ctx context.Context, tx *sql.Tx, query string) (FieldsList, error) {
	result := NewFieldsList()

	suggested, err := parseQueryToFields(ctx, tx, query)
	if err != nil {
		return result, err
	}

	info, err := queryTableInfo(ctx, tx, query)
	if err != nil {
		return result, err
	}

	hasID := false
	for _, row := range info {
		if row.name == FieldNameID {
			hasID = true
		}
		if f, ok := suggested[row.name]; ok {
			result.Add(f)
		} else {
			result.Add(defaultViewField(row.name))
		}
	}
	if !hasID {
		return result, errViewMissingID
	}

	return result, nil
}

func defaultViewField(name string) Field {
	return &JSONField{fieldBase: fieldBase{Name: name}, MaxSize: 1}
}

var castRegex = regexp.MustCompile(`(?is)^cast\s*\(.*\s+as\s+(\w+)\s*\)$`)

// parseQueryToFields suggests a field per selected column (by alias).
func parseQueryToFields(ctx context.Context, q sqlitedb.Querier, query string) (map[string]Field, error) {
	parsed, err := parseViewQuery(ctx, q, query)
	if err != nil {
		return nil, err
	}

	result := make(map[string]Field, len(parsed))
	for alias, qf := range parsed {
		result[alias] = qf.field
	}

	return result, nil
}

// viewQueryField is a selected column of a view query: its suggested field and, for a
// column copied from a collection field, that collection and field.
type viewQueryField struct {
	field      Field
	collection *Collection
	original   Field
}

// parseViewQuery suggests a field per selected column (by alias), with where the
// copied columns come from.
func parseViewQuery(ctx context.Context, q sqlitedb.Querier, query string) (map[string]viewQueryField, error) {
	p := &identifiersParser{}
	if err := p.parse(query); err != nil {
		return nil, err
	}

	collections, err := findCollectionsByIdentifiers(ctx, q, p.tables)
	if err != nil {
		return nil, err
	}

	var mainAlias string
	if len(p.tables) > 0 {
		mainAlias = p.tables[0].alias
	}

	result := make(map[string]viewQueryField, len(p.columns))
	for _, col := range p.columns {
		// a "*" or "t.*" column (no valid SQL aliases a wildcard)
		if col.alias == "*" {
			return nil, errors.New("wildcard columns (*) are not supported - manually type the collection field names you want the view query to have")
		}

		lower := strings.ToLower(col.original)

		if col.alias == FieldNameID {
			result[col.alias] = viewQueryField{field: &TextField{
				fieldBase:  fieldBase{Name: col.alias, System: true},
				Required:   true,
				PrimaryKey: true,
				Pattern:    defaultIDPattern,
			}}
			continue
		}

		if strings.HasPrefix(lower, "count(") {
			result[col.alias] = viewQueryField{field: &NumberField{fieldBase: fieldBase{Name: col.alias}, OnlyInt: true}}
			continue
		}
		if strings.HasPrefix(lower, "total(") {
			result[col.alias] = viewQueryField{field: &NumberField{fieldBase: fieldBase{Name: col.alias}}}
			continue
		}

		if m := castRegex.FindStringSubmatch(lower); len(m) == 2 {
			switch m[1] {
			case "real", "integer", "int", "decimal", "numeric":
				result[col.alias] = viewQueryField{field: &NumberField{fieldBase: fieldBase{Name: col.alias}}}
				continue
			case "text":
				result[col.alias] = viewQueryField{field: &TextField{fieldBase: fieldBase{Name: col.alias}}}
				continue
			case "boolean", "bool":
				result[col.alias] = viewQueryField{field: &BoolField{fieldBase: fieldBase{Name: col.alias}}}
				continue
			}
		}

		parts := strings.Split(col.original, ".")
		var fieldName string
		var collection *Collection
		if len(parts) == 2 {
			fieldName = parts[1]
			collection = collections[parts[0]]
		} else {
			fieldName = parts[0]
			collection = collections[mainAlias]
		}

		if collection == nil {
			result[col.alias] = viewQueryField{field: defaultViewField(col.alias)}
			continue
		}

		var field Field
		for _, f := range collection.Fields {
			if strings.EqualFold(f.GetName(), fieldName) {
				field = f
				break
			}
		}
		if field == nil {
			result[col.alias] = viewQueryField{field: defaultViewField(col.alias)}
			continue
		}

		if strings.EqualFold(fieldName, FieldNameID) {
			result[col.alias] = viewQueryField{field: &RelationField{
				fieldBase:    fieldBase{Name: col.alias},
				MaxSelect:    1,
				CollectionID: collection.ID,
			}}
			continue
		}

		clone, err := cloneField(field)
		if err != nil {
			return nil, err
		}
		suffix, err := security.RandomString(4)
		if err != nil {
			return nil, err
		}
		clone.SetID("_clone_" + suffix)
		clone.SetName(col.alias)
		result[col.alias] = viewQueryField{field: clone, collection: collection, original: field}
	}

	return result, nil
}

func cloneField(f Field) (Field, error) {
	raw, err := marshalField(f)
	if err != nil {
		return nil, err
	}

	return unmarshalField(raw)
}

// findCollectionsByIdentifiers maps the query's table aliases to their collections
// (matched by exact name).
func findCollectionsByIdentifiers(ctx context.Context, q sqlitedb.Querier, tables []identifier) (map[string]*Collection, error) {
	all, err := findAllCollections(ctx, q)
	if err != nil {
		return nil, err
	}

	result := make(map[string]*Collection, len(tables))
	for _, table := range tables {
		if strings.Contains(table.alias, "(") {
			continue // an expression
		}
		for _, c := range all {
			if c.Name == table.original {
				result[table.alias] = c
			}
		}
	}

	return result, nil
}

// normalizeViewQueryID wraps the query when its id column is not TEXT, so that record
// ids are always strings (PocketBase issue #3110).
func normalizeViewQueryID(ctx context.Context, tx *sql.Tx, query string) (string, error) {
	query = strings.Trim(strings.TrimSpace(query), ";")

	info, err := queryTableInfo(ctx, tx, query)
	if err != nil {
		return "", err
	}
	for _, row := range info {
		if strings.EqualFold(row.name, FieldNameID) && strings.EqualFold(row.typ, "TEXT") {
			return query, nil
		}
	}

	p := &identifiersParser{}
	if err := p.parse(query); err != nil {
		return "", err
	}
	columns := make([]string, 0, len(p.columns))
	for _, col := range p.columns {
		if col.alias == FieldNameID {
			columns = append(columns, fmt.Sprintf("CAST(%s as TEXT) %s", quoteIdent(col.alias), quoteIdent(col.alias)))
		} else {
			columns = append(columns, quoteIdent(col.alias))
		}
	}

	return fmt.Sprintf("SELECT %s FROM (%s)", strings.Join(columns, ","), query), nil
}

// identifiersParser extracts the selected columns and the FROM/JOIN tables of a
// SELECT, loosely (PocketBase's identifiersParser).
type identifiersParser struct {
	columns []identifier
	tables  []identifier
}

type identifier struct {
	original, alias string
}

var (
	joinReplaceRegex     = regexp.MustCompile(`(?im)\s+(full\s+outer\s+join|left\s+outer\s+join|right\s+outer\s+join|full\s+join|cross\s+join|inner\s+join|outer\s+join|left\s+join|right\s+join|join)\s+?`)
	discardReplaceRegex  = regexp.MustCompile(`(?im)\s+(where|group\s+by|having|order|limit|with)\s+?`)
	commentsReplaceRegex = regexp.MustCompile(`(?m)(\/\*[\s\S]*?\*\/)|(--.+$)`)
)

func (p *identifiersParser) parse(query string) error {
	str := strings.Trim(strings.TrimSpace(query), ";")
	str = commentsReplaceRegex.ReplaceAllString(str, " ")
	str = joinReplaceRegex.ReplaceAllString(str, " __pb_join__ ")
	str = discardReplaceRegex.ReplaceAllString(str, " __pb_discard__ ")

	var (
		skip                  bool
		partType              string
		active                *strings.Builder
		selects, froms, joins strings.Builder
	)

	for _, token := range splitKeepSeparators(str) {
		trimmed := strings.ToLower(strings.TrimSpace(token))
		switch trimmed {
		case "select":
			skip, partType, active = false, "select", &selects
		case "distinct":
			continue
		case "from":
			skip, partType, active = false, "from", &froms
		case "__pb_join__":
			skip = false
			if partType == "join" {
				joins.WriteString(",")
			}
			partType, active = "join", &joins
		case "__pb_discard__":
			skip = true
		default:
			if partType == "join" && trimmed == "on" {
				skip = true
			}
			if !skip && active != nil {
				active.WriteString(" ")
				active.WriteString(token)
			}
		}
	}

	var err error
	if p.columns, err = extractIdentifiers(selects.String()); err != nil {
		return err
	}
	if p.tables, err = extractIdentifiers(froms.String()); err != nil {
		return err
	}
	joined, err := extractIdentifiers(joins.String())
	if err != nil {
		return err
	}
	p.tables = append(p.tables, joined...)

	return nil
}

func extractIdentifiers(raw string) ([]identifier, error) {
	var result []identifier
	for _, item := range splitTopLevel(raw, ',') {
		parts := splitTopLevel(item, ' ', '\n', '\t')
		id, err := identifierFromParts(parts)
		if err != nil {
			return nil, err
		}
		result = append(result, id)
	}

	return result, nil
}

func identifierFromParts(parts []string) (identifier, error) {
	var result identifier

	switch len(parts) {
	case 3:
		if !strings.EqualFold(parts[1], "as") {
			return result, fmt.Errorf(`invalid identifier part - expected "as", got %v`, parts[1])
		}
		result.original, result.alias = parts[0], parts[2]
	case 2:
		result.original, result.alias = parts[0], parts[1]
	case 1:
		sub := strings.Split(parts[0], ".")
		result.original, result.alias = parts[0], sub[len(sub)-1]
	default:
		return result, fmt.Errorf("invalid identifier parts %v", parts)
	}

	result.original = trimRawIdentifier(result.original, "")
	// note: single quotes are trimmed from aliases too, which SQLite accepts there
	result.alias = trimRawIdentifier(result.alias, "'")

	return result, nil
}

func trimRawIdentifier(raw, extra string) string {
	parts := strings.Split(raw, ".")
	for i := range parts {
		parts[i] = strings.Trim(parts[i], "`\"[];"+extra)
	}

	return strings.Join(parts, ".")
}
