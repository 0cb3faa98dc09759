package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/xiaoer-cs/xiaoer/handoff"
)

// AuditLog reads the append-only audit log (who saw which personal data).
type AuditLog interface {
	AuditLog(ctx context.Context, limit int) ([]handoff.AuditEntry, error)
}

// handleAuditLog answers GET /api/v1/admin/audit?limit=N (default 200, at
// most 1000), newest first. There is no route that changes a row.
func handleAuditLog(a AuditLog, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := 200
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				writeError(w, http.StatusBadRequest, "invalid", "limit must be 1 to 1000")
				return
			}
			limit = n
		}
		rows, err := a.AuditLog(r.Context(), limit)
		if err != nil {
			log.Error("read the audit log", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "the audit log could not be read")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"entries": rows})
	})
}
