package core

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// viaRegex matches a back-relation segment, "<collection>_via_<relationField>".
var viaRegex = regexp.MustCompile(`^(\w+)_via_(\w+)$`)

// resolverRun resolves one identifier; it walks the path segment by segment, adding
// joins to the resolver and mirroring them in a multi-match subquery.
type resolverRun struct {
	resolver  *RecordFieldResolver
	fieldName string

	props           []string
	activeColl      string
	activeAlias     string
	allowHidden     bool
	nullifyMissing  bool
	withMultiMatch  bool
	multiMatchAlias string
	multiMatch      *search.MultiMatchSubquery
}

func newResolverRun(r *RecordFieldResolver, field string) *resolverRun {
	run := &resolverRun{resolver: r, fieldName: field}
	run.props = strings.Split(field, ".")
	run.activeColl = r.base.Name
	run.activeAlias = r.baseAlias
	run.allowHidden = r.allowHidden
	// @collection and @request are system paths: hidden fields are allowed there
	if run.props[0] == "@collection" || run.props[0] == "@request" {
		run.allowHidden = true
	}
	run.nullifyMissing = run.props[0] == "@request"
	run.multiMatch = &search.MultiMatchSubquery{
		TargetTableAlias: r.baseAlias,
		FromTableName:    search.Columnify(r.base.Name),
		FromTableAlias:   "__mm_" + r.baseAlias,
		Params:           search.Params{},
	}
	run.multiMatchAlias = run.multiMatch.FromTableAlias

	return run
}

func (run *resolverRun) nullResult() *search.ResolverResult {
	return &search.ResolverResult{Identifier: "NULL"}
}

func (run *resolverRun) run() (*search.ResolverResult, error) {
	r := run.resolver

	switch run.props[0] {
	case "@collection":
		return run.processCollectionField()
	case "@request":
		if r.info == nil {
			return run.nullResult(), nil
		}
		if strings.HasPrefix(run.fieldName, "@request.auth.") {
			return run.processRequestAuthField()
		}
		if strings.HasPrefix(run.fieldName, "@request.body.") && len(run.props) > 2 {
			name, modifier, err := splitModifier(run.props[2])
			if err != nil {
				return nil, err
			}
			bodyField := r.base.Fields.GetByName(name)
			if bodyField == nil {
				return r.staticValue(run.props[1:])
			}
			if rel, ok := bodyField.(*RelationField); ok && len(run.props) > 3 {
				return run.processBodyRelationField(rel)
			}
			if len(run.props) == 3 {
				switch modifier {
				case modifierEach:
					return run.processBodyEach(bodyField)
				case modifierLength:
					return run.processBodyLength(bodyField)
				case modifierLower:
					return run.processBodyLower(bodyField)
				case modifierChanged:
					return run.processBodyChanged(bodyField)
				}
			}
		}
		return r.staticValue(run.props[1:])
	}

	return run.processActiveProps()
}

func (run *resolverRun) processCollectionField() (*search.ResolverResult, error) {
	r := run.resolver
	if len(run.props) < 3 {
		return nil, fmt.Errorf("invalid @collection field path in %q", run.fieldName)
	}

	nameOrID, alias, hasAlias := strings.Cut(run.props[1], ":")
	collection, err := r.loadCollection(nameOrID)
	if err != nil {
		return nil, fmt.Errorf("failed to load collection %q from field path %q", run.props[1], run.fieldName)
	}

	run.activeColl = collection.Name
	if hasAlias && alias != "" {
		run.activeAlias = search.Columnify("__collection_alias_"+alias) + r.joinAliasSuffix
	} else {
		run.activeAlias = search.Columnify("__collection_"+collection.Name) + r.joinAliasSuffix
	}
	run.withMultiMatch = true

	table := search.QuoteIdent(search.Columnify(collection.Name))
	if err := r.registerJoin(search.Join{Table: table, Alias: run.activeAlias}, collection); err != nil {
		return nil, err
	}

	run.multiMatchAlias = "__mm" + run.activeAlias
	run.multiMatch.Joins = append(run.multiMatch.Joins, search.Join{Table: table, Alias: run.multiMatchAlias})

	run.props = run.props[2:]

	return run.processActiveProps()
}

func (run *resolverRun) processRequestAuthField() (*search.ResolverResult, error) {
	r := run.resolver
	if r.info == nil || r.info.Auth == nil || r.info.Auth.Collection() == nil {
		return run.nullResult(), nil
	}

	if len(run.props) == 3 {
		if name, _, err := splitModifier(run.props[2]); err == nil && plainRequestAuthFields[name] {
			return r.staticValue(run.props[1:])
		}
	}

	collection := r.info.Auth.Collection()
	run.activeColl = collection.Name
	run.activeAlias = "__auth_" + search.Columnify(collection.Name) + r.joinAliasSuffix

	name := search.NewParamName()
	err := r.registerJoin(search.Join{
		Table: search.QuoteIdent(search.Columnify(collection.Name)),
		Alias: run.activeAlias,
		On:    search.NewExpr(search.QuoteIdent(run.activeAlias, FieldNameID)+" = :"+name, search.Params{name: r.info.Auth.ID()}),
	}, collection)
	if err != nil {
		return nil, err
	}

	run.multiMatchAlias = "__mm_" + run.activeAlias
	name2 := search.NewParamName()
	run.multiMatch.Joins = append(run.multiMatch.Joins, search.Join{
		Table: search.QuoteIdent(search.Columnify(collection.Name)),
		Alias: run.multiMatchAlias,
		On:    search.NewExpr(search.QuoteIdent(run.multiMatchAlias, FieldNameID)+" = :"+name2, search.Params{name2: r.info.Auth.ID()}),
	})

	run.props = run.props[2:]

	return run.processActiveProps()
}

func (run *resolverRun) bodyValue(f Field) any {
	return run.resolver.info.Body[f.GetName()]
}

func (run *resolverRun) processBodyLower(f Field) (*search.ResolverResult, error) {
	name := search.NewParamName()
	return &search.ResolverResult{
		Identifier: "LOWER(:" + name + ")",
		Params:     search.Params{name: castToString(run.bodyValue(f))},
	}, nil
}

func (run *resolverRun) processBodyLength(f Field) (*search.ResolverResult, error) {
	if _, ok := f.(MultiValuer); !ok {
		return nil, fmt.Errorf("field %q doesn't support multivalue operations", f.GetName())
	}

	return &search.ResolverResult{Identifier: strconv.Itoa(len(toAnySlice(run.bodyValue(f))))}, nil
}

func (run *resolverRun) processBodyEach(f Field) (*search.ResolverResult, error) {
	mv, ok := f.(MultiValuer)
	if !ok {
		return nil, fmt.Errorf("field %q doesn't support multivalue operations", f.GetName())
	}

	raw, err := json.Marshal(toAnySlice(run.bodyValue(f)))
	if err != nil {
		return nil, fmt.Errorf("cannot serialize the data for field %q", f.GetName())
	}

	name := search.NewParamName()
	alias := "__dataEach_" + search.Columnify(f.GetName()) + "_je" + run.resolver.joinAliasSuffix
	if err := run.resolver.registerJoin(search.Join{Table: "json_each(:" + name + ")", Alias: alias}, nil); err != nil {
		return nil, err
	}

	result := &search.ResolverResult{
		Identifier: search.QuoteIdent(alias, "value"),
		Params:     search.Params{name: string(raw)},
	}

	if mv.IsMultiple() {
		run.withMultiMatch = true
	}
	if run.withMultiMatch {
		name2 := search.NewParamName()
		alias2 := "__mm" + alias
		run.multiMatch.Joins = append(run.multiMatch.Joins, search.Join{Table: "json_each(:" + name2 + ")", Alias: alias2})
		run.multiMatch.Params[name2] = string(raw)
		run.multiMatch.ValueIdentifier = search.QuoteIdent(alias2, "value")
		result.MultiMatchSubQuery = run.multiMatch
	}

	return result, nil
}

// processBodyChanged resolves @request.body.field:changed to a boolean SQL expression:
// the key was sent and its value differs from the stored one.
func (run *resolverRun) processBodyChanged(f Field) (*search.ResolverResult, error) {
	value, sent := run.resolver.info.Body[f.GetName()]
	if !sent {
		return &search.ResolverResult{Identifier: "FALSE"}, nil
	}

	var bound any
	switch v := value.(type) {
	case nil, string, bool, int, int64, float64:
		bound = v
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		bound = string(raw)
	}

	name := search.NewParamName()
	column := search.QuoteIdent(run.activeAlias, search.Columnify(f.GetName()))

	return &search.ResolverResult{
		Identifier: "(COALESCE(:" + name + ", '') IS NOT COALESCE(" + column + ", ''))",
		Params:     search.Params{name: bound},
	}, nil
}

func (run *resolverRun) processBodyRelationField(rel *RelationField) (*search.ResolverResult, error) {
	r := run.resolver
	relCollection, err := r.loadCollection(rel.CollectionID)
	if err != nil {
		return nil, fmt.Errorf("failed to load collection %q from data field %q", rel.CollectionID, rel.Name)
	}

	ids := toUniqueStringSlice(r.info.Body[rel.Name])
	if len(ids) == 0 {
		return run.nullResult(), nil
	}

	inExpr := func(alias string) search.Expr {
		params := search.Params{}
		holders := make([]string, len(ids))
		for i, id := range ids {
			name := search.NewParamName()
			params[name] = id
			holders[i] = ":" + name
		}
		return search.NewExpr(search.QuoteIdent(alias, FieldNameID)+" IN ("+strings.Join(holders, ", ")+")", params)
	}

	run.activeColl = relCollection.Name
	run.activeAlias = search.Columnify("__data_"+relCollection.Name+"_"+rel.Name) + r.joinAliasSuffix
	err = r.registerJoin(search.Join{Table: search.QuoteIdent(relCollection.Name), Alias: run.activeAlias, On: inExpr(run.activeAlias)}, relCollection)
	if err != nil {
		return nil, err
	}

	if rel.IsMultiple() {
		run.withMultiMatch = true
	}

	run.multiMatchAlias = search.Columnify("__data_mm_" + relCollection.Name + "_" + rel.Name)
	run.multiMatch.Joins = append(run.multiMatch.Joins, search.Join{
		Table: search.QuoteIdent(relCollection.Name), Alias: run.multiMatchAlias, On: inExpr(run.multiMatchAlias),
	})

	run.props = run.props[3:]

	return run.processActiveProps()
}

func (run *resolverRun) missing(format string, args ...any) (*search.ResolverResult, error) {
	if run.nullifyMissing {
		return run.nullResult(), nil
	}

	return nil, fmt.Errorf(format, args...)
}

func (run *resolverRun) processActiveProps() (*search.ResolverResult, error) {
	r := run.resolver
	total := len(run.props)

	for i, prop := range run.props {
		collection, err := r.loadCollection(run.activeColl)
		if err != nil {
			return nil, fmt.Errorf("failed to resolve field %q", prop)
		}

		if i == total-1 {
			return run.processLastProp(collection, prop)
		}

		field := collection.Fields.GetByName(prop)
		if field != nil && field.GetHidden() && !run.allowHidden {
			return nil, fmt.Errorf("non-filterable field %q", prop)
		}

		// json and geoPoint fields: the rest of the path is a JSON path
		if field != nil && (field.Type() == FieldTypeJSON || field.Type() == FieldTypeGeoPoint) {
			var jsonPath strings.Builder
			for j, p := range run.props[i+1:] {
				if _, err := strconv.Atoi(p); err == nil {
					jsonPath.WriteString("[" + search.Columnify(p) + "]")
					continue
				}
				if j > 0 {
					jsonPath.WriteString(".")
				}
				jsonPath.WriteString(search.Columnify(p))
			}
			column := search.Columnify(prop)
			result := &search.ResolverResult{
				NullFallback: search.NullFallbackDisabled,
				Identifier:   sqlJSONExtract(search.QuoteIdent(run.activeAlias, column), jsonPath.String()),
			}
			if run.withMultiMatch {
				run.multiMatch.ValueIdentifier = sqlJSONExtract(search.QuoteIdent(run.multiMatchAlias, column), jsonPath.String())
				result.MultiMatchSubQuery = run.multiMatch
			}
			return result, nil
		}

		if i >= maxNestedRels {
			return nil, fmt.Errorf("max nested relations reached for field %q", prop)
		}

		if field == nil {
			res, err := run.joinBackRelation(collection, prop)
			if err != nil || res != nil {
				return res, err
			}
			continue
		}

		rel, ok := field.(*RelationField)
		if !ok {
			return nil, fmt.Errorf("field %q is not a valid relation", prop)
		}
		relCollection, err := r.loadCollection(rel.CollectionID)
		if err != nil {
			return nil, fmt.Errorf("failed to load field %q collection", prop)
		}

		// rel.id of a single relation is the column itself
		if !rel.IsMultiple() && i == total-2 && run.props[i+1] == FieldNameID {
			return run.processLastProp(collection, rel.Name)
		}

		column := search.Columnify(rel.Name)
		prefixed := search.QuoteIdent(run.activeAlias, column)
		newAlias := run.activeAlias + "_" + column + r.joinAliasSuffix
		table := search.QuoteIdent(search.Columnify(relCollection.Name))

		if !rel.IsMultiple() {
			err := r.registerJoin(search.Join{Table: table, Alias: newAlias,
				On: search.NewExpr(search.QuoteIdent(newAlias, FieldNameID)+" = "+prefixed, nil)}, relCollection)
			if err != nil {
				return nil, err
			}
		} else {
			jeAlias := newAlias + "_je"
			if err := r.registerJoin(search.Join{Table: sqlJSONEach(prefixed), Alias: jeAlias}, nil); err != nil {
				return nil, err
			}
			err := r.registerJoin(search.Join{Table: table, Alias: newAlias,
				On: search.NewExpr(search.QuoteIdent(newAlias, FieldNameID)+" = "+search.QuoteIdent(jeAlias, "value"), nil)}, relCollection)
			if err != nil {
				return nil, err
			}
		}
		run.activeColl = relCollection.Name
		run.activeAlias = newAlias

		if rel.IsMultiple() {
			run.withMultiMatch = true
		}
		newAlias2 := run.multiMatchAlias + "_" + column
		prefixed2 := search.QuoteIdent(run.multiMatchAlias, column)
		if !rel.IsMultiple() {
			run.multiMatch.Joins = append(run.multiMatch.Joins, search.Join{Table: table, Alias: newAlias2,
				On: search.NewExpr(search.QuoteIdent(newAlias2, FieldNameID)+" = "+prefixed2, nil)})
		} else {
			jeAlias2 := run.multiMatchAlias + "_" + column + "_je"
			run.multiMatch.Joins = append(run.multiMatch.Joins,
				search.Join{Table: sqlJSONEach(prefixed2), Alias: jeAlias2},
				search.Join{Table: table, Alias: newAlias2,
					On: search.NewExpr(search.QuoteIdent(newAlias2, FieldNameID)+" = "+search.QuoteIdent(jeAlias2, "value"), nil)},
			)
		}
		run.multiMatchAlias = newAlias2
	}

	return nil, fmt.Errorf("failed to resolve field %q", run.fieldName)
}

// joinBackRelation joins the back-relation segment prop ("comments_via_post") of
// collection. It returns a result only when the segment resolves to NULL.
func (run *resolverRun) joinBackRelation(collection *Collection, prop string) (*search.ResolverResult, error) {
	r := run.resolver
	parts := viaRegex.FindStringSubmatch(prop)
	if len(parts) != 3 {
		return run.missing("failed to resolve field %q", prop)
	}

	backCollection, err := r.loadCollection(parts[1])
	if err != nil {
		return run.missing("failed to load back relation field %q collection", prop)
	}
	backField := backCollection.Fields.GetByName(parts[2])
	if backField == nil {
		return run.missing("missing back relation field %q", parts[2])
	}
	backRel, ok := backField.(*RelationField)
	if !ok {
		return run.missing("invalid back relation field %q", parts[2])
	}
	if backRel.GetHidden() && !run.allowHidden {
		return nil, fmt.Errorf("non-filterable back relation field %q", backRel.Name)
	}
	if backRel.CollectionID != collection.ID {
		return run.missing("invalid collection reference of a back relation field %q", backRel.Name)
	}

	cleanProp := search.Columnify(prop)
	cleanBackField := search.Columnify(backRel.Name)
	newAlias := run.activeAlias + "_" + cleanProp + r.joinAliasSuffix
	table := search.QuoteIdent(search.Columnify(backCollection.Name))

	multiple := backRel.IsMultiple() || !hasSingleColumnUniqueIndex(backCollection.Indexes, backRel.Name)

	on := func(alias, parentAlias string) search.Expr {
		if !multiple {
			return search.NewExpr(search.QuoteIdent(alias, cleanBackField)+" = "+search.QuoteIdent(parentAlias, FieldNameID), nil)
		}
		jeAlias := parentAlias + "_" + cleanProp + "_je"
		return search.NewExpr(search.QuoteIdent(parentAlias, FieldNameID)+" IN (SELECT "+search.QuoteIdent(jeAlias, "value")+
			" FROM "+sqlJSONEach(search.QuoteIdent(alias, cleanBackField))+" "+search.QuoteIdent(jeAlias)+")", nil)
	}

	if err := r.registerJoin(search.Join{Table: table, Alias: newAlias, On: on(newAlias, run.activeAlias)}, backCollection); err != nil {
		return nil, err
	}
	run.activeColl = backCollection.Name
	run.activeAlias = newAlias

	if multiple {
		run.withMultiMatch = true
	}
	newAlias2 := run.multiMatchAlias + "_" + cleanProp + r.joinAliasSuffix
	run.multiMatch.Joins = append(run.multiMatch.Joins, search.Join{Table: table, Alias: newAlias2,
		On: on(newAlias2, run.multiMatchAlias)})
	run.multiMatchAlias = newAlias2

	return nil, nil
}

func (run *resolverRun) processLastProp(collection *Collection, prop string) (*search.ResolverResult, error) {
	name, modifier, err := splitModifier(prop)
	if err != nil {
		return nil, err
	}

	field := collection.Fields.GetByName(name)
	if field == nil {
		return run.missing("unknown field %q", name)
	}
	if field.GetHidden() && !run.allowHidden {
		return nil, fmt.Errorf("non-filterable field %q", name)
	}
	if modifier == modifierIsset || modifier == modifierChanged {
		return nil, fmt.Errorf("the :%s modifier applies to @request.* fields only", modifier)
	}

	mv, isMulti := field.(MultiValuer)
	column := search.Columnify(field.GetName())

	if modifier == modifierLength && isMulti {
		result := &search.ResolverResult{Identifier: sqlJSONArrayLength(search.QuoteIdent(run.activeAlias, column))}
		if run.withMultiMatch {
			run.multiMatch.ValueIdentifier = sqlJSONArrayLength(search.QuoteIdent(run.multiMatchAlias, column))
			result.MultiMatchSubQuery = run.multiMatch
		}
		return result, nil
	}

	if modifier == modifierEach && isMulti {
		jeAlias := run.activeAlias + "_" + column + "_je" + run.resolver.joinAliasSuffix
		err := run.resolver.registerJoin(search.Join{Table: sqlJSONEach(search.QuoteIdent(run.activeAlias, column)), Alias: jeAlias}, nil)
		if err != nil {
			return nil, err
		}
		result := &search.ResolverResult{Identifier: search.QuoteIdent(jeAlias, "value")}
		if mv.IsMultiple() {
			run.withMultiMatch = true
		}
		if run.withMultiMatch {
			jeAlias2 := run.multiMatchAlias + "_" + column + "_je"
			run.multiMatch.Joins = append(run.multiMatch.Joins, search.Join{
				Table: sqlJSONEach(search.QuoteIdent(run.multiMatchAlias, column)), Alias: jeAlias2,
			})
			run.multiMatch.ValueIdentifier = search.QuoteIdent(jeAlias2, "value")
			result.MultiMatchSubQuery = run.multiMatch
		}
		return result, nil
	}

	if (modifier == modifierLength || modifier == modifierEach) && !isMulti {
		return nil, fmt.Errorf("field %q doesn't support the :%s modifier", name, modifier)
	}

	result := &search.ResolverResult{Identifier: search.QuoteIdent(run.activeAlias, column)}
	if run.withMultiMatch {
		run.multiMatch.ValueIdentifier = search.QuoteIdent(run.multiMatchAlias, column)
		result.MultiMatchSubQuery = run.multiMatch
	}

	// non-superusers only match the emails their owners made public
	if field.GetName() == FieldNameEmail && !run.allowHidden && collection.IsAuth() {
		alias := run.activeAlias
		result.AfterBuild = func(expr search.Expr) search.Expr {
			return search.Enclose(search.And(expr, search.NewExpr(search.QuoteIdent(alias, FieldNameEmailVisibility)+" = TRUE", nil)))
		}
	}

	// json values compare as their SQL equivalents
	if field.Type() == FieldTypeJSON {
		result.NullFallback = search.NullFallbackDisabled
		result.Identifier = sqlJSONExtract(search.QuoteIdent(run.activeAlias, column), "")
		if run.withMultiMatch {
			run.multiMatch.ValueIdentifier = sqlJSONExtract(search.QuoteIdent(run.multiMatchAlias, column), "")
		}
	}

	if modifier == modifierLower {
		result.Identifier = "LOWER(" + result.Identifier + ")"
		if run.withMultiMatch {
			run.multiMatch.ValueIdentifier = "LOWER(" + run.multiMatch.ValueIdentifier + ")"
		}
	}

	return result, nil
}
