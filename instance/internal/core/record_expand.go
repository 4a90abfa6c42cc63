package core

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// maxBackRelExpand is the most back-related records expanded per record.
const maxBackRelExpand = 1000

// Expand returns the expanded relations of the record (nil when none).
func (r *Record) Expand() map[string]any {
	return r.expand
}

// exportExpand exports expanded records for the record JSON.
func exportExpand(expand map[string]any, opts ExportOptions) map[string]any {
	out := make(map[string]any, len(expand))
	for k, v := range expand {
		switch x := v.(type) {
		case *Record:
			out[k] = x.PublicExport(opts)
		case []*Record:
			list := make([]map[string]any, len(x))
			for i, r := range x {
				list[i] = r.PublicExport(opts)
			}
			out[k] = list
		}
	}

	return out
}

// legacyBackRelRegex matches the deprecated back-relation segment
// "collection(field)", which PocketBase still expands (under that very key).
var legacyBackRelRegex = regexp.MustCompile(`^(\w+)\((\w+)\)$`)

// NormalizeExpands splits comma-separated expand values into paths as PocketBase's
// normalizeExpands does: spaces removed, leading and trailing dots trimmed, duplicates
// and the paths another path extends ("a" with "a.b") dropped.
func NormalizeExpands(raw ...string) []string {
	var paths []string
	seen := map[string]bool{}
	for _, value := range raw {
		for part := range strings.SplitSeq(value, ",") {
			part = strings.Trim(strings.ReplaceAll(part, " ", ""), ".")
			if part == "" || seen[part] {
				continue
			}
			seen[part] = true
			paths = append(paths, part)
		}
	}

	out := make([]string, 0, len(paths))
	for _, p := range paths {
		extended := false
		for _, other := range paths {
			if strings.HasPrefix(other, p+".") {
				extended = true
				break
			}
		}
		if !extended {
			out = append(out, p)
		}
	}

	return out
}

// ExpandRecords expands the relation paths (§3.3.5) on records, which all belong to
// the same collection. Each related record is fetched only when its collection's
// viewRule lets the request see it (context "expand"). Paths that do not resolve are
// skipped; their errors are returned joined, for logging.
func (a *App) ExpandRecords(ctx context.Context, records []*Record, paths []string, info *RequestInfo) error {
	if len(records) == 0 || len(paths) == 0 {
		return nil
	}

	expandInfo := &RequestInfo{Context: RequestContextExpand, Method: "GET"}
	if info != nil {
		clone := *info
		clone.Context = RequestContextExpand
		expandInfo = &clone
	}

	var errs []error
	for _, path := range paths {
		if err := a.expandPath(ctx, records, path, expandInfo, 1); err != nil {
			errs = append(errs, fmt.Errorf("expanding %q: %w", path, err))
		}
	}

	return errors.Join(errs...)
}

// expandTarget is how one path segment relates records to the related collection.
type expandTarget struct {
	collection *Collection
	multiple   bool
	// idsOf returns the related ids of a record (direct relations).
	idsOf func(r *Record) []string
	// back is the back-relation field (nil for a direct relation).
	back *RelationField
}

func (a *App) resolveExpandTarget(ctx context.Context, c *Collection, name string) (*expandTarget, error) {
	if f := c.Fields.GetByName(name); f != nil {
		rel, ok := f.(*RelationField)
		if !ok {
			return nil, fmt.Errorf("field %q is not a relation", name)
		}
		relCollection, err := a.FindCachedCollectionByNameOrID(ctx, rel.CollectionID)
		if err != nil {
			return nil, fmt.Errorf("loading the collection of %q: %w", name, err)
		}
		return &expandTarget{
			collection: relCollection,
			multiple:   rel.IsMultiple(),
			idsOf:      func(r *Record) []string { return toUniqueStringSlice(r.Get(rel.Name)) },
		}, nil
	}

	parts := viaRegex.FindStringSubmatch(name)
	if strings.Contains(name, "(") {
		parts = legacyBackRelRegex.FindStringSubmatch(name)
	}
	if len(parts) != 3 {
		return nil, fmt.Errorf("unknown field %q", name)
	}
	backCollection, err := a.FindCachedCollectionByNameOrID(ctx, parts[1])
	if err != nil {
		return nil, fmt.Errorf("loading the back relation collection of %q: %w", name, err)
	}
	backRel, ok := backCollection.Fields.GetByName(parts[2]).(*RelationField)
	if !ok || backRel.CollectionID != c.ID {
		return nil, fmt.Errorf("invalid back relation %q", name)
	}

	return &expandTarget{
		collection: backCollection,
		multiple:   backRel.IsMultiple() || !hasSingleColumnUniqueIndex(backCollection.Indexes, backRel.Name),
		back:       backRel,
	}, nil
}

func (a *App) expandPath(ctx context.Context, records []*Record, path string, info *RequestInfo, level int) error {
	if level > maxNestedRels {
		// as PocketBase: the rest of a path deeper than 6 relations is ignored, the
		// levels above it are expanded
		return nil
	}
	name, rest, _ := strings.Cut(path, ".")

	c := records[0].collection
	target, err := a.resolveExpandTarget(ctx, c, name)
	if err != nil {
		return err
	}

	// once the whole path resolved, every record gets an expand object, even if empty;
	// a path whose nested part fails leaves none (as PocketBase, which initialises it
	// only after the nested expansion)
	initExpand := func() {
		for _, r := range records {
			if r.expand == nil {
				r.expand = map[string]any{}
			}
		}
	}

	rule := target.collection.ViewRule
	if !info.HasSuperuserAuth() && rule == nil {
		// PocketBase's fetch fails here, so the records get no expand object
		return fmt.Errorf("only superusers can view collection %q records", target.collection.Name)
	}
	ruleExpr := ""
	if !info.HasSuperuserAuth() {
		ruleExpr = *rule
	}

	related, relatedIDs, err := a.fetchExpandRelated(ctx, records, target, ruleExpr, info)
	if gone, ok := ctx.Value(expandGoneKey{}).(func(collectionID, id string) bool); ok {
		related = slices.DeleteFunc(related, func(r *Record) bool { return gone(r.Collection().ID, r.ID()) })
	}
	if err != nil {
		return err
	}
	if len(related) == 0 {
		initExpand()
		return nil
	}

	if rest != "" {
		if err := a.expandPath(ctx, related, rest, info, level+1); err != nil {
			return err
		}
	}
	initExpand()

	byID := make(map[string]*Record, len(related))
	for _, r := range related {
		byID[r.ID()] = r
	}

	for _, r := range records {
		var list []*Record
		for _, id := range relatedIDs(r) {
			if rel, ok := byID[id]; ok {
				list = append(list, rel)
			}
		}
		if len(list) == 0 {
			continue
		}
		mergePreviousExpand(r.expand[name], list)
		if target.multiple {
			r.expand[name] = list
		} else {
			r.expand[name] = list[0]
		}
	}

	return nil
}

// expandGoneKey is the context key of withExpandGone.
type expandGoneKey struct{}

// withExpandGone returns ctx in which ExpandRecords leaves out the records for which
// gone reports true: records a cascading delete has already removed, in PocketBase's
// order, while the committed state still holds them.
func withExpandGone(ctx context.Context, gone func(collectionID, id string) bool) context.Context {
	return context.WithValue(ctx, expandGoneKey{}, gone)
}

// fetchExpandRelated loads the related records of records allowed by ruleExpr, and
// returns them with a function giving each record's related ids in order.
func (a *App) fetchExpandRelated(ctx context.Context, records []*Record, target *expandTarget, ruleExpr string, info *RequestInfo) ([]*Record, func(*Record) []string, error) {
	if target.back == nil {
		var all []string
		seen := map[string]bool{}
		for _, r := range records {
			for _, id := range target.idsOf(r) {
				if !seen[id] {
					seen[id] = true
					all = append(all, id)
				}
			}
		}
		related, err := a.findRecordsByIDs(ctx, target.collection, all, ruleExpr, info)
		if err != nil {
			return nil, nil, err
		}
		return related, target.idsOf, nil
	}

	// back-relation: the records of the other collection pointing at these records
	mainIDs := make([]string, len(records))
	for i, r := range records {
		mainIDs[i] = r.ID()
	}

	c := target.collection
	q := RecordQuery(c)
	table := q.TableAlias()
	je := "__expand_je"
	in := inIDs(je, mainIDs)
	in.SQL = strings.Replace(in.SQL, search.QuoteIdent(je, FieldNameID), search.QuoteIdent(je, "value"), 1)
	q.AndWhere(search.NewExpr("EXISTS (SELECT 1 FROM "+sqlJSONEach(search.QuoteIdent(table, target.back.Name))+" "+
		search.QuoteIdent(je)+" WHERE "+in.SQL+")", in.Params))
	if ruleExpr != "" {
		resolver := a.NewRecordFieldResolver(ctx, c, info, true)
		expr, err := search.FilterData(ruleExpr).BuildExpr(resolver)
		if err != nil {
			return nil, nil, fmt.Errorf("building the %s rule: %w", c.Name, err)
		}
		q.AndWhere(expr)
		if err := resolver.UpdateQuery(q); err != nil {
			return nil, nil, err
		}
	}
	q.AndOrderBy(search.QuoteIdent(table, "_rowid_") + " ASC")

	related, err := a.QueryRecords(ctx, c, q.Build())
	if err != nil {
		return nil, nil, err
	}

	idsByMain := map[string][]string{}
	for _, rel := range related {
		for _, mainID := range toUniqueStringSlice(rel.Get(target.back.Name)) {
			if len(idsByMain[mainID]) < maxBackRelExpand {
				idsByMain[mainID] = append(idsByMain[mainID], rel.ID())
			}
		}
	}

	return related, func(r *Record) []string { return idsByMain[r.ID()] }, nil
}

// mergePreviousExpand keeps what an earlier path expanded on the same related records
// ("a.b" then "a.c" both expand "a").
func mergePreviousExpand(previous any, list []*Record) {
	var old []*Record
	switch x := previous.(type) {
	case *Record:
		old = []*Record{x}
	case []*Record:
		old = x
	}
	if len(old) == 0 {
		return
	}

	byID := make(map[string]*Record, len(old))
	for _, r := range old {
		byID[r.ID()] = r
	}
	for _, r := range list {
		prev, ok := byID[r.ID()]
		if !ok || prev == r || prev.expand == nil {
			continue
		}
		if r.expand == nil {
			r.expand = map[string]any{}
		}
		for k, v := range prev.expand {
			if _, exists := r.expand[k]; !exists {
				r.expand[k] = v
			}
		}
	}
}
