package pii

import (
	"context"
	"log/slog"
)

// LogHandler is a slog.Handler that masks personal data in every record
// before the handler it wraps sees it: the message, string attributes, and
// the text of errors, Stringers and other values (in groups too). Phones,
// e-mails, addresses, ID and bank-card numbers become kind placeholders
// such as [PHONE] (unnumbered: a log line must not let anyone match
// placeholders across lines). Wrap the process's handler with it, so that
// no log line carries unmasked personal data whatever the caller passed.
type LogHandler struct {
	next slog.Handler
}

// NewLogHandler returns a LogHandler that writes masked records to next.
func NewLogHandler(next slog.Handler) *LogHandler {
	return &LogHandler{next: next}
}

// Enabled reports whether next handles records of the level.
func (h *LogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle masks r and passes it on.
func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs masks attrs once, when they are attached.
func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = maskAttr(a)
	}
	return &LogHandler{next: h.next.WithAttrs(masked)}
}

// WithGroup opens a group on the wrapped handler.
func (h *LogHandler) WithGroup(name string) slog.Handler {
	return &LogHandler{next: h.next.WithGroup(name)}
}

// maskAttr masks one attribute's value; numbers, booleans, times and
// durations cannot carry personal data as text and pass unchanged.
func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		masked := make([]slog.Attr, len(group))
		for i, g := range group {
			masked[i] = maskAttr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(masked...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case nil:
			return a
		case error:
			return slog.String(a.Key, Redact(x.Error()))
		default:
			// Render as the text handler would and mask that: a struct or
			// slice may hold a phone number as well as a string can.
			return slog.String(a.Key, Redact(v.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// Redact returns s with every piece of personal data replaced by the
// placeholder of its kind, unnumbered: [PHONE], [EMAIL], [ADDRESS],
// [IDCARD], [CARD]. Unlike a Masker it remembers nothing, so it suits logs.
func Redact(s string) string {
	return replace(s, Find(s), func(f Finding) string { return "[" + f.Kind + "]" })
}
