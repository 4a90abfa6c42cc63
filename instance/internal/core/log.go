package core

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// LogsTable is the auxiliary.db table of the stored logs (core.LogsTableName).
const LogsTable = "_logs"

// Log limits of PocketBase v0.40 (core/log_model.go).
const (
	// defaultMaxLogDataSize is the serialized data size above which it is truncated
	// when settings.logs.maxDataSize is 0.
	defaultMaxLogDataSize = 16 << 10
	// maxLogMessageSize is the longest message stored, in bytes.
	maxLogMessageSize = 8000
	// logTruncatedKey marks data that was truncated.
	logTruncatedKey = "__pb_truncated__"
)

// Log batching. PocketBase's logger.BatchHandler writes 200 logs at most every 3s
// (core/base.go initLogger); the logs are kept as long here, in larger batches: under
// load, a commit of auxiliary.db's four indexes per 200 rows was a fifth of the CPU.
const (
	logBatchSize     = 1000
	logFlushInterval = 3 * time.Second
	// logInsertRows is how many rows one INSERT statement writes.
	logInsertRows = 100
)

// Log levels, slog's (PocketBase stores slog levels).
const (
	LogLevelDebug = int(slog.LevelDebug)
	LogLevelInfo  = int(slog.LevelInfo)
	LogLevelWarn  = int(slog.LevelWarn)
	LogLevelError = int(slog.LevelError)
)

// Log is one `_logs` row as the logs API returns it; the field order is PocketBase's
// key order (`id, created, data, message, level`).
type Log struct {
	// ID is the 15 characters row id.
	ID string `json:"id"`
	// Created is the log time in PocketBase's datetime format.
	Created string `json:"created"`
	// Data is the JSON object of attributes, as stored.
	Data json.RawMessage `json:"data"`
	// Message is the log message.
	Message string `json:"message"`
	// Level is the slog level (-4 debug, 0 info, 4 warn, 8 error).
	Level int `json:"level"`
}

// LogEntry is a log to store.
type LogEntry struct {
	// Time is when the log happened; zero means now.
	Time time.Time
	// Level is the slog level.
	Level int
	// Message is the log message.
	Message string
	// Data holds the attributes; nil is {}.
	Data map[string]any
}

// logWriter batches the logs and writes them to auxiliary.db off the caller's path: a
// batch is written when it reaches logBatchSize, every logFlushInterval, and on Close.
type logWriter struct {
	mu      sync.Mutex
	pending []LogEntry
	// writeMu serializes the writes of batches.
	writeMu sync.Mutex
	// kick asks the writer goroutine for an early flush.
	kick chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

// AddLog queues a log for writing, as PocketBase's logger does: nothing is kept when
// settings.logs.maxDays is 0 or the level is below settings.logs.minLevel. It never
// blocks on the database.
func (a *App) AddLog(entry LogEntry) {
	s := a.Settings().Logs
	if s.MaxDays <= 0 || entry.Level < s.MinLevel {
		return
	}
	if entry.Time.IsZero() {
		entry.Time = a.now()
	}

	w := &a.maint.logs
	w.mu.Lock()
	w.pending = append(w.pending, entry)
	full := len(w.pending) >= logBatchSize
	w.mu.Unlock()

	if full && w.kick != nil {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// FlushLogs writes the queued logs now.
func (a *App) FlushLogs(ctx context.Context) error {
	w := &a.maint.logs
	w.writeMu.Lock()
	defer w.writeMu.Unlock()

	w.mu.Lock()
	batch := w.pending
	w.pending = nil
	w.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}

	release := a.HoldData()
	defer release()

	// note: as PocketBase does, logs are dropped when logging was turned off meanwhile.
	if a.Settings().Logs.MaxDays <= 0 {
		return nil
	}

	return a.insertLogs(ctx, batch)
}

// startLogWriter starts the goroutine that flushes the logs periodically.
func (a *App) startLogWriter() {
	w := &a.maint.logs
	w.kick = make(chan struct{}, 1)
	w.done = make(chan struct{})
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		ticker := time.NewTicker(logFlushInterval)
		defer ticker.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-ticker.C:
			case <-w.kick:
			}
			if err := a.FlushLogs(context.Background()); err != nil {
				a.processLogger.Warn("writing logs", slog.String("error", err.Error()))
			}
		}
	}()
}

// applyLogSettings applies settings.logs to the stored logs, as PocketBase's logger
// does on every settings reload: the logs older than maxDays or below minLevel are
// deleted, and auxiliary.db is vacuumed when logging is off (maxDays 0). SaveSettings
// runs it once the new settings are stored; failures are logged only.
//
// note: it does not hold the data directory: SaveSettings runs inside requests, which
// hold it already.
func (a *App) applyLogSettings(ctx context.Context, cfg LogsConfig) {
	_, err := a.aux.Write().ExecContext(ctx,
		"DELETE FROM `"+LogsTable+"` WHERE `created` <= ? OR `level` < ?",
		FormatDateTime(a.now().AddDate(0, 0, -cfg.MaxDays)), cfg.MinLevel)
	if err != nil {
		a.logger.Debug("Failed to cleanup old logs", slog.String("error", err.Error()))
	}
	if cfg.MaxDays == 0 {
		if _, err := a.aux.Write().ExecContext(ctx, "VACUUM"); err != nil {
			a.logger.Debug("Failed to VACUUM aux database", slog.String("error", err.Error()))
		}
	}
}

// stopLogWriter stops the writer goroutine and writes what is left.
func (a *App) stopLogWriter() {
	w := &a.maint.logs
	if w.done != nil {
		close(w.done)
		w.wg.Wait()
		w.done = nil
	}
	if err := a.FlushLogs(context.Background()); err != nil {
		a.processLogger.Warn("writing logs on shutdown", slog.String("error", err.Error()))
	}
}

// insertLogs writes a batch in one auxiliary.db transaction.
func (a *App) insertLogs(ctx context.Context, batch []LogEntry) error {
	maxDataSize := a.Settings().Logs.MaxDataSize
	if maxDataSize <= 0 {
		maxDataSize = defaultMaxLogDataSize
	}

	type row struct {
		id, created, message, data string
		level                      int
	}
	rows := make([]row, 0, len(batch))
	for _, e := range batch {
		id, err := security.RandomStringWithAlphabet(15, security.AlphabetLowerAlphanumeric)
		if err != nil {
			return err
		}
		data, err := encodeLogData(e.Data, maxDataSize)
		if err != nil {
			a.processLogger.Warn("encoding log data", slog.String("error", err.Error()))
			data = "{}"
		}
		message := e.Message
		if len(message) > maxLogMessageSize {
			message = message[:maxLogMessageSize]
		}
		rows = append(rows, row{id: id, created: FormatDateTime(e.Time), message: message, data: data, level: e.Level})
	}

	return a.aux.Tx(ctx, func(tx *sql.Tx) error {
		args := make([]any, 0, 5*min(len(rows), logInsertRows))
		for chunk := range slices.Chunk(rows, logInsertRows) {
			args = args[:0]
			for _, r := range chunk {
				args = append(args, r.id, r.level, r.message, r.data, r.created)
			}
			if _, err := tx.ExecContext(ctx, logInsertSQL(len(chunk)), args...); err != nil {
				return fmt.Errorf("writing logs: %w", err)
			}
		}
		return nil
	})
}

// logInsertSQL is the INSERT of n log rows in one statement.
func logInsertSQL(n int) string {
	const head = "INSERT INTO `" + LogsTable + "` (`id`, `level`, `message`, `data`, `created`) VALUES "
	if n == logInsertRows {
		logInsertFull.once.Do(func() { logInsertFull.sql = head + logInsertValues(n) })
		return logInsertFull.sql
	}
	return head + logInsertValues(n)
}

// logInsertFull is the statement of a full chunk, built once.
var logInsertFull struct {
	once sync.Once
	sql  string
}

func logInsertValues(n int) string {
	return strings.Repeat("(?, ?, ?, ?, ?), ", n-1) + "(?, ?, ?, ?, ?)"
}

// encodeLogData encodes data as a JSON object (map keys sorted). When the result is
// larger than maxSize it is cut at maxSize, the members decoded before the cut are
// kept and "__pb_truncated__":true is added (PocketBase v0.40 Log.DBExport).
func encodeLogData(data map[string]any, maxSize int64) (string, error) {
	if len(data) == 0 {
		return "{}", nil
	}

	raw, err := marshalLogJSON(data)
	if err != nil {
		return "", err
	}
	if int64(len(raw)) <= maxSize {
		return string(raw), nil
	}

	truncated := decodePartialObject(raw[:maxSize])
	truncated[logTruncatedKey] = true
	raw, err = marshalLogJSON(truncated)
	if err != nil {
		return "", err
	}

	return string(raw), nil
}

func marshalLogJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding log data: %w", err)
	}

	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// decodePartialObject decodes the complete members of a JSON object cut short.
func decodePartialObject(raw []byte) map[string]any {
	out := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return out
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		key, ok := tok.(string)
		if !ok {
			return out
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return out
		}
		out[key] = v
	}

	return out
}
