package core

import (
	"context"
	"fmt"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// ValidateRule checks that rule (a filter expression) resolves over collection c, with
// find loading the other collections; @request.* paths resolve to NULL (they may be
// missing in any request), as PocketBase validates rules without a request. It is used to validate API rules on collection save.
func ValidateRule(find CollectionFinder, c *Collection, rule string) error {
	if rule == "" {
		return nil
	}
	// note: an empty request, not none, as PocketBase validates: @request.* paths are
	// then resolved (and their modifiers checked) instead of all reading as NULL
	resolver := NewRecordFieldResolver(find, c, &RequestInfo{}, true)
	if _, err := search.FilterData(rule).BuildExpr(resolver); err != nil {
		return err
	}

	return nil
}

// CanAccessRecord reports whether rule lets the request access record (PocketBase's
// CanAccessRecord): superusers always, a null rule nobody else, "" everyone, and an
// expression when the stored record matches it.
func (a *App) CanAccessRecord(ctx context.Context, record *Record, info *RequestInfo, rule *string) (bool, error) {
	switch {
	case info.HasSuperuserAuth():
		return true, nil
	case rule == nil:
		return false, nil
	case *rule == "":
		return true, nil
	}

	matched, err := a.recordsMatchingRule(ctx, record.Collection(), []string{record.ID()}, *rule, info)
	if err != nil {
		return false, err
	}

	return matched[record.ID()], nil
}

// recordsMatchingRule returns which of c's records ids match the rule expression.
func (a *App) recordsMatchingRule(ctx context.Context, c *Collection, ids []string, rule string, info *RequestInfo) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}

	resolver := a.NewRecordFieldResolver(ctx, c, info, true)
	expr, err := search.FilterData(rule).BuildExpr(resolver)
	if err != nil {
		return nil, fmt.Errorf("building the %s rule: %w", c.Name, err)
	}

	q := RecordQuery(c)
	q.Selects = []string{search.QuoteIdent(q.TableAlias(), FieldNameID)}
	q.AndWhere(inIDs(q.TableAlias(), ids))
	q.AndWhere(expr)
	if err := resolver.UpdateQuery(q); err != nil {
		return nil, err
	}
	built := q.Build()

	rows, err := a.reader(ctx).QueryContext(ctx, built.SQL, built.Args()...)
	if err != nil {
		return nil, fmt.Errorf("checking the %s rule: %w", c.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}

	return out, rows.Err()
}

// ResolveRecordsVisibility marks which auth records (expanded ones included) show
// their email to the request regardless of emailVisibility, as PocketBase's
// autoResolveRecordsFlags: for a superuser, the requester itself, and the records
// whose collection's manageRule the request satisfies.
func (a *App) ResolveRecordsVisibility(ctx context.Context, records []*Record, info *RequestInfo) error {
	byCollection := map[*Collection][]*Record{}
	var walk func(list []*Record)
	walk = func(list []*Record) {
		for _, r := range list {
			if r == nil {
				continue
			}
			if r.collection.IsAuth() {
				byCollection[r.collection] = append(byCollection[r.collection], r)
			}
			for _, v := range r.expand {
				switch x := v.(type) {
				case *Record:
					walk([]*Record{x})
				case []*Record:
					walk(x)
				}
			}
		}
	}
	walk(records)

	for c, list := range byCollection {
		switch {
		case info.HasSuperuserAuth():
			for _, r := range list {
				r.ignoreEmailVisibility = true
			}
			continue
		case info != nil && info.Auth != nil:
			for _, r := range list {
				if r.ID() == info.Auth.ID() && r.collection.ID == info.Auth.collection.ID {
					r.ignoreEmailVisibility = true
				}
			}
		}

		rule := c.Auth.ManageRule
		if rule == nil || info == nil || info.Auth == nil {
			continue
		}
		if *rule == "" {
			for _, r := range list {
				r.ignoreEmailVisibility = true
			}
			continue
		}
		ids := make([]string, 0, len(list))
		for _, r := range list {
			ids = append(ids, r.ID())
		}
		matched, err := a.recordsMatchingRule(ctx, c, ids, *rule, info)
		if err != nil {
			return err
		}
		for _, r := range list {
			if matched[r.ID()] {
				r.ignoreEmailVisibility = true
			}
		}
	}

	return nil
}
