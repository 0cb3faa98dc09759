package web

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xiaoer-cs/xiaoer/knowledge"
	"github.com/xiaoer-cs/xiaoer/web/shoptoken"
)

// handleHealth answers 200 when the store and the index are ready, 503 otherwise.
func handleHealth(ready func(ctx context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

type searchHit struct {
	ID         string  `json:"id"`
	Question   string  `json:"question"`
	Answer     string  `json:"answer"`
	Category   string  `json:"category,omitempty"`
	Locale     string  `json:"locale,omitempty"`
	Score      float64 `json:"score"`
	Confidence float64 `json:"confidence"`
	// Matched are the query's words (or Chinese characters) the entry
	// matched, as written; Phrasing is the entry's phrasing that matched
	// best. For an ops "try a question" box.
	Matched  []string `json:"matched,omitempty"`
	Phrasing string   `json:"phrasing,omitempty"`
}

type searchResponse struct {
	Hits       []searchHit `json:"hits"`
	Answerable bool        `json:"answerable"`
}

// handleKBSearch answers GET /api/v1/kb/search?q=...&limit=N[&locale=zh-CN|en][&category=C][&tag=T...]
// with the ranked entries and whether the bot would answer with the top one.
func handleKBSearch(kb Searcher, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := strings.TrimSpace(r.URL.Query().Get("q"))
		if q == "" {
			writeError(w, http.StatusBadRequest, "invalid", "the q parameter is required")
			return
		}
		if len(q) > 8000 {
			writeError(w, http.StatusBadRequest, "invalid", "the query is too long")
			return
		}
		limit := 5
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 50 {
				writeError(w, http.StatusBadRequest, "invalid", "limit must be a number from 1 to 50")
				return
			}
			limit = n
		}
		locale, ok := knowledge.NormalizeLocale(r.URL.Query().Get("locale"))
		if !ok {
			writeError(w, http.StatusBadRequest, "invalid", "locale must be zh-CN or en")
			return
		}
		res, err := kb.Search(r.Context(), q, knowledge.SearchOptions{Limit: limit, Locale: locale,
			Category: r.URL.Query().Get("category"), Tags: r.URL.Query()["tag"]})
		if err != nil {
			log.Error("kb search", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "search failed")
			return
		}
		out := searchResponse{Hits: []searchHit{}, Answerable: res.Answerable}
		for _, h := range res.Hits {
			out.Hits = append(out.Hits, searchHit{ID: h.ID, Question: h.Question, Answer: h.Answer, Category: h.Category,
				Locale: h.Locale, Score: h.Score, Confidence: h.Confidence, Matched: h.Matched, Phrasing: h.Phrasing})
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// handleDemoToken signs a token for one of the demo shoppers, so the demo
// page can chat as them. It exists only with --demo.
func handleDemoToken(tokens *shoptoken.Signer, shoppers []string, ttl time.Duration, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("shopper")
		if !slices.Contains(shoppers, id) {
			writeError(w, http.StatusNotFound, "not_found", "no such demo shopper")
			return
		}
		tok, err := tokens.Sign(id, ttl)
		if err != nil {
			log.Error("sign demo token", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "could not sign a token")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"token": tok})
	})
}
