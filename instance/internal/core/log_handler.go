package core

import (
	"context"
	"errors"
	"log/slog"
)

// logsHandler is the slog handler that stores the app logger's records in `_logs`, as
// PocketBase's logger.BatchHandler does (core/base.go initLogger): each record becomes
// a log with its attributes as data (groups as nested objects, errors as their
// message), queued by AddLog, so settings.logs.minLevel and maxDays apply. Nothing is
// stored before the settings are loaded (PocketBase drops the logs of an app that is
// not bootstrapped yet).
type logsHandler struct {
	app *App
	// parent, group and attrs make the WithGroup/WithAttrs chain (PocketBase's).
	parent *logsHandler
	group  string
	attrs  []slog.Attr
}

// Enabled reports whether a record of level would be stored.
func (h *logsHandler) Enabled(_ context.Context, level slog.Level) bool {
	s := h.app.settings.current.Load()

	return s != nil && s.Logs.MaxDays > 0 && int(level) >= s.Logs.MinLevel
}

// WithGroup returns a handler that puts the attributes under name.
func (h *logsHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}

	return &logsHandler{app: h.app, parent: h, group: name}
}

// WithAttrs returns a handler that adds attrs to every record.
func (h *logsHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}

	return &logsHandler{app: h.app, parent: h, attrs: attrs}
}

// Handle queues r as a log.
func (h *logsHandler) Handle(ctx context.Context, r slog.Record) error {
	switch {
	case h.group != "":
		attrs := make([]any, 0, len(h.attrs)+r.NumAttrs())
		for _, a := range h.attrs {
			attrs = append(attrs, a)
		}
		r.Attrs(func(a slog.Attr) bool {
			attrs = append(attrs, a)
			return true
		})
		r = slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.AddAttrs(slog.Group(h.group, attrs...))
	case len(h.attrs) > 0:
		r = r.Clone()
		r.AddAttrs(h.attrs...)
	}
	if h.parent != nil {
		return h.parent.Handle(ctx, r)
	}

	data := make(map[string]any, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		resolveLogAttr(data, a)
		return true
	})
	h.app.AddLog(LogEntry{Time: r.Time, Level: int(r.Level), Message: r.Message, Data: data})

	return nil
}

// resolveLogAttr adds a to data: a group as a nested object (empty ones left out), an
// error as its message (validation errors as an object of them), anything else as is.
func resolveLogAttr(data map[string]any, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		group := map[string]any{}
		for _, sub := range a.Value.Group() {
			resolveLogAttr(group, sub)
		}
		if len(group) > 0 {
			data[a.Key] = group
		}
		return
	}

	v := a.Value.Any()
	if err, ok := v.(error); ok {
		if verrs, ok := errors.AsType[ValidationErrors](err); ok {
			out := make(map[string]any, len(verrs))
			for k, e := range verrs {
				out[k] = e.Message
			}
			data[a.Key] = map[string]any{"data": out, "raw": err.Error()}
			return
		}
		data[a.Key] = err.Error()
		return
	}
	data[a.Key] = v
}

// teeHandler sends each record to both handlers (the process's stderr logger and
// logsHandler), each under its own level.
type teeHandler struct {
	a, b slog.Handler
}

func (t teeHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return t.a.Enabled(ctx, level) || t.b.Enabled(ctx, level)
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var errA, errB error
	if t.a.Enabled(ctx, r.Level) {
		errA = t.a.Handle(ctx, r.Clone())
	}
	if t.b.Enabled(ctx, r.Level) {
		errB = t.b.Handle(ctx, r)
	}

	return errors.Join(errA, errB)
}

func (t teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return teeHandler{a: t.a.WithAttrs(attrs), b: t.b.WithAttrs(attrs)}
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{a: t.a.WithGroup(name), b: t.b.WithGroup(name)}
}
