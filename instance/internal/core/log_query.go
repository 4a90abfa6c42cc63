package core

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// ErrLogNotFound is returned by FindLogByID for a missing log.
var ErrLogNotFound = fmt.Errorf("log not found: %w", sql.ErrNoRows)

// logFilterFields are the fields the logs API filters and sorts on (apis/logs.go).
var logFilterFields = []string{
	"id", "created", "level", "message", "data",
	`^data\.[\w\.\:]*\w+$`,
}

const logColumns = "`id`, `created`, `data`, `message`, `level`"

// NewLogsFieldResolver returns the resolver of the logs filters.
func NewLogsFieldResolver() *search.SimpleFieldResolver {
	return search.NewSimpleFieldResolver(logFilterFields...)
}

// ListLogs returns a page of logs for the list parameters in query (page, perPage,
// sort, filter, skipTotal), as GET /api/logs does. "@rowid" sorts fall back to
// "created", as PocketBase does for its dashboard.
func (a *App) ListLogs(ctx context.Context, query url.Values) (*search.Result, error) {
	params := url.Values{}
	for k, v := range query {
		params[k] = v
	}
	if s := params.Get(search.SortQueryParam); s != "" {
		params.Set(search.SortQueryParam, strings.ReplaceAll(s, search.RowidSortKey, "created"))
	}

	base := search.NewSelectQuery(LogsTable)
	base.Selects = []string{logColumns}
	provider := search.NewProvider(NewLogsFieldResolver()).Query(base).Clock(a.now)
	if err := provider.ParseValues(params); err != nil {
		return nil, err
	}
	plan, err := provider.Build()
	if err != nil {
		return nil, err
	}

	items, err := a.queryLogs(ctx, plan.Items.SQL, plan.Items.Args()...)
	if err != nil {
		return nil, err
	}

	total := 0
	if !plan.SkipTotal {
		if err := a.aux.Read().QueryRowContext(ctx, plan.Count.SQL, plan.Count.Args()...).Scan(&total); err != nil {
			return nil, fmt.Errorf("counting logs: %w", err)
		}
	}

	return plan.Result(items, total), nil
}

// FindLogByID returns one log, or ErrLogNotFound.
func (a *App) FindLogByID(ctx context.Context, id string) (*Log, error) {
	logs, err := a.queryLogs(ctx, "SELECT "+logColumns+" FROM `"+LogsTable+"` WHERE `id` = ? LIMIT 1", id)
	if err != nil {
		return nil, err
	}
	if len(logs) == 0 {
		return nil, ErrLogNotFound
	}

	return logs[0], nil
}

func (a *App) queryLogs(ctx context.Context, query string, args ...any) ([]*Log, error) {
	rows, err := a.aux.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing logs: %w", err)
	}
	defer rows.Close()

	logs := []*Log{}
	for rows.Next() {
		var (
			l    Log
			data sql.NullString
		)
		if err := rows.Scan(&l.ID, &l.Created, &data, &l.Message, &l.Level); err != nil {
			return nil, fmt.Errorf("scanning log: %w", err)
		}
		l.Data = normalizeLogData(data.String)
		logs = append(logs, &l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing logs: %w", err)
	}

	return logs, nil
}

// LogsStatsItem is the number of logs of one hour; the field order is the key order.
type LogsStatsItem struct {
	// Date is the hour, in PocketBase's datetime format.
	Date string `json:"date"`
	// Total is the number of logs in that hour.
	Total int `json:"total"`
}

// LogsStats returns the number of logs per hour, oldest first, for the logs matching
// filter (all when empty), as GET /api/logs/stats does. An invalid filter is an error
// wrapping search.ErrInvalidFilter (or another search error).
func (a *App) LogsStats(ctx context.Context, filter string) ([]LogsStatsItem, error) {
	query := "SELECT count(`id`) AS total, strftime('%Y-%m-%d %H:00:00', `created`) AS date FROM `" + LogsTable + "`"
	var args []any
	if filter != "" {
		expr, err := search.FilterData(filter).BuildExprWithOptions(NewLogsFieldResolver(),
			search.BuildOptions{MaxExpressions: search.DefaultFilterExprLimit, Now: a.now})
		if err != nil {
			return nil, err
		}
		query += " WHERE " + expr.SQL
		args = expr.Args()
	}
	query += " GROUP BY date ORDER BY date ASC"

	rows, err := a.aux.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("computing logs stats: %w", err)
	}
	defer rows.Close()

	stats := []LogsStatsItem{}
	for rows.Next() {
		var (
			item LogsStatsItem
			date sql.NullString
		)
		if err := rows.Scan(&item.Total, &date); err != nil {
			return nil, fmt.Errorf("scanning logs stats: %w", err)
		}
		if t, err := time.Parse(time.DateTime, date.String); err == nil {
			item.Date = FormatDateTime(t)
		}
		stats = append(stats, item)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("computing logs stats: %w", err)
	}

	return stats, nil
}

// DeleteOldLogs deletes the logs created at or before createdBefore (core.DeleteOldLogs).
func (a *App) DeleteOldLogs(ctx context.Context, createdBefore time.Time) error {
	_, err := a.aux.Write().ExecContext(ctx,
		"DELETE FROM `"+LogsTable+"` WHERE `created` <= ?", FormatDateTime(createdBefore))
	if err != nil {
		return fmt.Errorf("deleting old logs: %w", err)
	}

	return nil
}

// DeleteAllLogs deletes every log and vacuums auxiliary.db, as DELETE /api/logs does in
// v0.40. A failing VACUUM is logged only.
func (a *App) DeleteAllLogs(ctx context.Context) error {
	// note: drop the queued logs too, they predate the truncate.
	a.maint.logs.mu.Lock()
	a.maint.logs.pending = nil
	a.maint.logs.mu.Unlock()

	if _, err := a.aux.Write().ExecContext(ctx, "DELETE FROM `"+LogsTable+"`"); err != nil {
		return fmt.Errorf("deleting all logs: %w", err)
	}
	if _, err := a.aux.Write().ExecContext(ctx, "VACUUM"); err != nil {
		a.logger.Warn("Failed to VACUUM aux database", "error", err.Error())
	}

	return nil
}

// normalizeLogData re-encodes a stored data object with sorted keys, as PocketBase's
// JSONMap writes it; anything that is not an object is {}.
func normalizeLogData(raw string) json.RawMessage {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return json.RawMessage("{}")
	}
	out, err := marshalLogJSON(m)
	if err != nil {
		return json.RawMessage("{}")
	}

	return out
}
