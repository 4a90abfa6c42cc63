// Package search turns PocketBase's list query language into SQL fragments for SQLite:
// the filter grammar (fexpr), the sort list and the page/perPage pagination, the way
// PocketBase v0.40's tools/search does it.
//
// The package builds SQL, it never runs domain queries. Every value that comes from a
// request (a quoted text, a number, a datetime macro, a {:placeholder} replacement) is
// bound as a named parameter (":name" in the SQL, [database/sql.Named] in [Expr.Args]);
// the only SQL text that reaches the output is produced by this package or by a
// [FieldResolver], which is the single place where identifiers are allow-listed.
//
// The main entry points are:
//
//   - [FilterData.BuildExpr] for filters and API rules (limits: [DefaultFilterExprLimit]
//     comparisons per filter, [MaxFilterLength] bytes per client filter);
//   - [ParseSortFromString] and [SortField.BuildExpr] for the sort list;
//   - [Provider], which combines a base [SelectQuery], filters, sort and pagination into
//     the items and count queries, and [Plan.Result] for the response shape;
//   - [FieldResolver], implemented by core's record resolver and by the allow-list
//     [SimpleFieldResolver].
//
// Only the standard library and github.com/ganigeorgiev/fexpr are imported: the package
// is a leaf and never imports other instance packages.
package search
