package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// The knowledge-base admin API, for ops staff behind a login with the kb
// permission (routes.go). Every handler takes what it needs; who returns
// the logged-in user's name, recorded in the entries' history.

// maxEntryBody bounds a JSON entry in a request.
const maxEntryBody = 256 << 10

// entryJSON is an entry as the admin API reads and writes it.
type entryJSON struct {
	ID         string   `json:"id"`
	Locale     string   `json:"locale"`
	Question   string   `json:"question"`
	Alternates []string `json:"alternates"`
	Answer     string   `json:"answer"`
	Category   string   `json:"category"`
	Tags       []string `json:"tags"`
	Disabled   bool     `json:"disabled"`
}

func (e entryJSON) entry() knowledge.Entry {
	return knowledge.Entry{ID: e.ID, Locale: e.Locale, Question: e.Question, Alternates: e.Alternates,
		Answer: e.Answer, Category: e.Category, Tags: e.Tags, Disabled: e.Disabled}
}

func toEntryJSON(e knowledge.Entry) entryJSON {
	return entryJSON{ID: e.ID, Locale: e.Locale, Question: e.Question, Alternates: nonNil(e.Alternates),
		Answer: e.Answer, Category: e.Category, Tags: nonNil(e.Tags), Disabled: e.Disabled}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// recordJSON is an entry with its history bookkeeping.
type recordJSON struct {
	entryJSON
	Version   int       `json:"version"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
	CreatedAt time.Time `json:"created_at"`
	Deleted   bool      `json:"deleted"`
	// Flags are what the safe-content check changed or found (knowledge.Sanitize).
	Flags []knowledge.Flag `json:"flags"`
}

func toRecordJSON(r knowledge.Record) recordJSON {
	flags := r.Flags
	if flags == nil {
		flags = []knowledge.Flag{}
	}
	return recordJSON{entryJSON: toEntryJSON(r.Entry), Version: r.Version, UpdatedBy: r.UpdatedBy,
		UpdatedAt: r.UpdatedAt, CreatedAt: r.CreatedAt, Deleted: r.Deleted, Flags: flags}
}

// decodeJSON reads a JSON body of at most limit bytes into v, refusing
// unknown fields; on failure it answers 400 and returns false.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the request body is larger than %d bytes", limit))
			return false
		}
		writeError(w, http.StatusBadRequest, "invalid", "the request body is not valid JSON for this request: "+strings.TrimPrefix(err.Error(), "json: "))
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "invalid", "the request body has data after the JSON value")
		return false
	}
	return true
}

// problemJSON is one thing wrong with the input.
type problemJSON struct {
	Line int    `json:"line,omitempty"`
	ID   string `json:"id,omitempty"`
	// Item is the 1-based position of the entry (JSON array), case or
	// synonym group the problem is about; absent for a whole-file problem.
	Item    int    `json:"item,omitempty"`
	Where   string `json:"where,omitempty"`
	Message string `json:"message"`
}

// writeKBError maps knowledge errors to HTTP: invalid input 400 with every
// problem listed, unknown ids 404, conflicts 409, a worse regression set
// 409 with the cases that broke; anything else is logged and answered 500.
func writeKBError(w http.ResponseWriter, log *slog.Logger, err error) {
	var fe *knowledge.FileError
	switch {
	case errors.As(err, &fe):
		ps := make([]problemJSON, 0, len(fe.Problems))
		for _, p := range fe.Problems {
			ps = append(ps, problemJSON{Line: p.Line, ID: p.ID, Item: max(p.Index+1, 0), Where: p.Where, Message: p.Msg})
		}
		msg := "the input has a problem"
		if len(ps) == 1 {
			msg = ps[0].Message
		} else if len(ps) > 1 {
			msg = fmt.Sprintf("the input has %d problems; nothing was saved", len(ps))
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error": map[string]any{"code": "invalid", "message": msg, "problems": ps},
		})
	case errors.Is(err, knowledge.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such entry, version, case or gap")
	case errors.Is(err, knowledge.ErrExists):
		writeError(w, http.StatusConflict, "id_taken", "an entry with this id exists (a deleted one counts: restore it instead); choose another id")
	case errors.Is(err, knowledge.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", "the entry was changed by someone else since you opened it; reload and redo your change")
	default:
		if re, ok := knowledge.IsRegression(err); ok {
			writeJSON(w, http.StatusConflict, map[string]any{
				"error": map[string]any{"code": "regression",
					"message": fmt.Sprintf("refused: the saved regression set gets worse (hit@1 %.3f → %.3f); nothing was changed", re.Before.Hit1, re.After.Hit1),
					"before":  summary(re.Before), "after": summary(re.After), "failures": re.NewFailures},
			})
			return
		}
		log.Error("knowledge base admin", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "the knowledge base could not do that")
	}
}

// regressionSummary is a regression run without its per-case results.
type regressionSummary struct {
	Cases       int     `json:"cases"`
	Passed      int     `json:"passed"`
	Hit1        float64 `json:"hit1"`
	OOSDeclined float64 `json:"oos_declined"`
}

func summary(r knowledge.RegressionReport) regressionSummary {
	return regressionSummary{Cases: r.Cases, Passed: r.Passed, Hit1: r.Hit1, OOSDeclined: r.OOSDeclined}
}

// queryInt reads an integer query parameter within [lo, hi], or def when absent.
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be a number from %d to %d", name, lo, hi)
	}
	return n, nil
}

func handleKBList(kb *knowledge.Base, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		offset, err := queryInt(r, "offset", 0, 0, 1<<30)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		limit, err := queryInt(r, "limit", knowledge.DefaultPage, 1, knowledge.MaxPage)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		recs, total, err := kb.List(r.Context(), knowledge.EntryFilter{Text: strings.TrimSpace(q.Get("text")), Locale: q.Get("locale"),
			Category: q.Get("category"), Tag: q.Get("tag"), Status: q.Get("status"), Offset: offset, Limit: limit})
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		out := make([]recordJSON, 0, len(recs))
		for _, rec := range recs {
			out = append(out, toRecordJSON(rec))
		}
		writeJSON(w, http.StatusOK, map[string]any{"entries": out, "total": total, "offset": offset, "limit": limit})
	})
}

func handleKBGet(kb *knowledge.Base, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, err := kb.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusOK, toRecordJSON(rec))
	})
}

func handleKBCreate(kb *knowledge.Base, who func(*http.Request) string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in entryJSON
		if !decodeJSON(w, r, maxEntryBody, &in) {
			return
		}
		rec, err := kb.Create(r.Context(), in.entry(), who(r))
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, toRecordJSON(rec))
	})
}

func handleKBUpdate(kb *knowledge.Base, who func(*http.Request) string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			entryJSON
			// Version is the version the editor started from; a stale one
			// is refused with 409 rather than overwriting someone's change.
			Version int `json:"version"`
		}
		if !decodeJSON(w, r, maxEntryBody, &in) {
			return
		}
		id := r.PathValue("id")
		if in.ID != "" && in.ID != id {
			writeError(w, http.StatusBadRequest, "invalid", "the id in the body differs from the id in the path; ids cannot be changed")
			return
		}
		if in.Version <= 0 {
			writeError(w, http.StatusBadRequest, "invalid", "version (the version you edited) is required")
			return
		}
		in.ID = id
		rec, err := kb.Update(r.Context(), in.entry(), in.Version, who(r))
		if errors.Is(err, knowledge.ErrConflict) {
			// Say who changed it: the stale editor gets the current record.
			if cur, gerr := kb.Get(r.Context(), id); gerr == nil {
				writeJSON(w, http.StatusConflict, map[string]any{"error": map[string]any{"code": "conflict",
					"message": fmt.Sprintf("%s changed this entry (now version %d) since you opened version %d; reload and redo your change", cur.UpdatedBy, cur.Version, in.Version),
					"current": toRecordJSON(cur)}})
				return
			}
		}
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusOK, toRecordJSON(rec))
	})
}

// handleKBAction answers POST .../entries/{id}/{disable|enable|restore} and
// DELETE .../entries/{id}.
func handleKBAction(kb *knowledge.Base, who func(*http.Request) string, log *slog.Logger, action string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, by := r.PathValue("id"), who(r)
		var (
			rec knowledge.Record
			err error
		)
		switch action {
		case knowledge.ActionDisable:
			rec, err = kb.SetDisabled(r.Context(), id, true, by)
		case knowledge.ActionEnable:
			rec, err = kb.SetDisabled(r.Context(), id, false, by)
		case knowledge.ActionDelete:
			rec, err = kb.Delete(r.Context(), id, by)
		case knowledge.ActionRestore:
			rec, err = kb.Restore(r.Context(), id, by)
		}
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusOK, toRecordJSON(rec))
	})
}

type versionJSON struct {
	Version int       `json:"version"`
	Action  string    `json:"action"`
	From    int       `json:"from,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Deleted bool      `json:"deleted"`
	Entry   entryJSON `json:"entry"`
	// Changes are what this version changed from the one before it.
	Changes []knowledge.FieldDiff `json:"changes"`
}

func handleKBVersions(kb *knowledge.Base, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vs, err := kb.History(r.Context(), r.PathValue("id"))
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		out := make([]versionJSON, 0, len(vs))
		for i, v := range vs {
			var prev knowledge.Entry
			if i+1 < len(vs) {
				prev = vs[i+1].Entry
			}
			changes := knowledge.Diff(prev, v.Entry)
			if changes == nil {
				changes = []knowledge.FieldDiff{}
			}
			out = append(out, versionJSON{Version: v.Version, Action: v.Action, From: v.From, By: v.By, At: v.At,
				Deleted: v.Deleted, Entry: toEntryJSON(v.Entry), Changes: changes})
		}
		writeJSON(w, http.StatusOK, map[string]any{"versions": out})
	})
}

// handleKBDiff answers GET .../entries/{id}/diff?from=N&to=M (to defaults
// to the current version).
func handleKBDiff(kb *knowledge.Base, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vs, err := kb.History(r.Context(), r.PathValue("id"))
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		from, err := queryInt(r, "from", 0, 1, 1<<30)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		to, err := queryInt(r, "to", vs[0].Version, 1, 1<<30)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		find := func(n int) (knowledge.Version, bool) {
			for _, v := range vs {
				if v.Version == n {
					return v, true
				}
			}
			return knowledge.Version{}, false
		}
		a, okA := find(from)
		b, okB := find(to)
		if !okA || !okB {
			writeError(w, http.StatusNotFound, "not_found", "no such version")
			return
		}
		changes := knowledge.Diff(a.Entry, b.Entry)
		if changes == nil {
			changes = []knowledge.FieldDiff{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "changes": changes})
	})
}

func handleKBRollback(kb *knowledge.Base, who func(*http.Request) string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Version int `json:"version"`
		}
		if !decodeJSON(w, r, 4<<10, &in) {
			return
		}
		rec, err := kb.Rollback(r.Context(), r.PathValue("id"), in.Version, who(r))
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusOK, toRecordJSON(rec))
	})
}

func handleKBFacets(kb *knowledge.Base, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := kb.Facets(r.Context())
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusOK, f)
	})
}

// handleKBImport answers POST /api/v1/admin/kb/import?format=csv|json|md
// [&replace=1][&dry_run=1]: the body is the file. All or nothing; refused
// with 409 when the saved regression set gets worse.
func handleKBImport(kb *knowledge.Base, who func(*http.Request) string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		format, err := knowledge.ParseFormat(q.Get("format"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		if l := q.Get("locale"); l != "" && l != "any" {
			if _, ok := knowledge.NormalizeLocale(l); !ok {
				writeError(w, http.StatusBadRequest, "invalid", "locale must be zh-CN, en or any")
				return
			}
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, knowledge.MaxFileSize))
		if tooLarge(w, err) {
			return
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", "could not read the body")
			return
		}
		entries, err := knowledge.ReadEntriesWith(bytes.NewReader(body), format, knowledge.ReadOptions{Locale: q.Get("locale")})
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		rep, err := kb.Import(r.Context(), entries, knowledge.ImportOptions{
			Replace: boolParam(q.Get("replace")), DryRun: boolParam(q.Get("dry_run")), By: who(r)})
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		flagged := rep.Flagged
		if flagged == nil {
			flagged = []knowledge.EntryFlags{}
		}
		out := map[string]any{"entries": rep.Entries, "created": rep.Created, "updated": rep.Updated,
			"unchanged": rep.Unchanged, "deleted": rep.Deleted, "dry_run": rep.DryRun, "flagged": flagged}
		if rep.After != nil {
			out["regression_before"], out["regression_after"] = summary(*rep.Before), summary(*rep.After)
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func boolParam(v string) bool {
	b, _ := strconv.ParseBool(v)
	return b
}

// handleKBExport answers GET /api/v1/admin/kb/export?format=csv|json|md
// with every entry that is not deleted, as a download.
func handleKBExport(kb *knowledge.Base, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		format, err := knowledge.ParseFormat(r.URL.Query().Get("format"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		entries, err := kb.Entries(r.Context())
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		var buf bytes.Buffer
		if err := knowledge.WriteEntries(&buf, format, entries); err != nil {
			writeError(w, http.StatusUnprocessableEntity, "unexportable", err.Error())
			return
		}
		w.Header().Set("Content-Type", format.ContentType())
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="faq-%s.%s"`, time.Now().UTC().Format("20060102-150405"), format.Ext()))
		w.Header().Set("Cache-Control", "no-store")
		w.Write(buf.Bytes())
	})
}

// tryHit is a search hit with what ops need to see why it ranked.
type tryHit struct {
	entryJSON
	Score      float64  `json:"score"`
	Confidence float64  `json:"confidence"`
	Matched    []string `json:"matched"`
	Phrasing   string   `json:"phrasing,omitempty"`
	// Similarity is the embedding similarity, when embeddings are in use.
	Similarity float64 `json:"similarity,omitempty"`
}

// handleKBTry answers GET /api/v1/admin/kb/try?q=...[&locale=][&category=][&tag=...][&limit=]:
// the ranked matches with their scores, the words that matched, and
// whether the bot would answer.
func handleKBTry(kb *knowledge.Base, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		text := strings.TrimSpace(q.Get("q"))
		if text == "" {
			writeError(w, http.StatusBadRequest, "invalid", "the q parameter is required")
			return
		}
		limit, err := queryInt(r, "limit", 10, 1, knowledge.MaxLimit)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		locale, ok := knowledge.NormalizeLocale(q.Get("locale"))
		if !ok {
			writeError(w, http.StatusBadRequest, "invalid", "locale must be zh-CN or en")
			return
		}
		res, err := kb.Search(r.Context(), text, knowledge.SearchOptions{Limit: limit, Locale: locale,
			Category: q.Get("category"), Tags: q["tag"]})
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		hits := make([]tryHit, 0, len(res.Hits))
		for _, h := range res.Hits {
			hits = append(hits, tryHit{entryJSON: toEntryJSON(h.Entry),
				Score: h.Score, Confidence: h.Confidence, Matched: nonNil(h.Matched), Phrasing: h.Phrasing, Similarity: h.Similarity})
		}
		writeJSON(w, http.StatusOK, map[string]any{"answerable": res.Answerable, "threshold": res.Threshold, "hits": hits})
	})
}

func handleKBRegressionList(kb *knowledge.Base, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs, err := kb.RegressionCases(r.Context())
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"cases": cs})
	})
}

func handleKBRegressionAdd(kb *knowledge.Base, who func(*http.Request) string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Query      string `json:"query"`
			ExpectedID string `json:"expected_id"`
			Locale     string `json:"locale"`
			Note       string `json:"note"`
		}
		if !decodeJSON(w, r, 16<<10, &in) {
			return
		}
		c, err := kb.AddRegressionCase(r.Context(), knowledge.RegressionCase{Query: in.Query, ExpectedID: in.ExpectedID,
			Locale: in.Locale, Note: in.Note, CreatedBy: who(r)})
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, c)
	})
}

func handleKBRegressionDelete(kb *knowledge.Base, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			writeError(w, http.StatusNotFound, "not_found", "no such case")
			return
		}
		if err := kb.DeleteRegressionCase(r.Context(), id); err != nil {
			writeKBError(w, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleKBRegressionRun(kb *knowledge.Base, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, err := kb.RunRegression(r.Context())
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		if rep.Results == nil {
			rep.Results = []knowledge.CaseResult{}
		}
		writeJSON(w, http.StatusOK, rep)
	})
}

func handleKBGaps(kb *knowledge.Base, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, err := queryInt(r, "limit", knowledge.DefaultPage, 1, knowledge.MaxPage)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		locale := ""
		if l := r.URL.Query().Get("locale"); l != "" {
			var ok bool
			if locale, ok = knowledge.NormalizeLocale(l); !ok {
				writeError(w, http.StatusBadRequest, "invalid", "locale must be zh-CN or en")
				return
			}
		}
		gaps, err := kb.Gaps(r.Context(), knowledge.GapFilter{Status: r.URL.Query().Get("status"), Locale: locale, Limit: limit})
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"gaps": gaps})
	})
}

// gapID reads the {id} path value; on failure it answers 404.
func gapID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", "no such gap")
		return 0, false
	}
	return id, true
}

// handleKBGapToEntry answers POST .../gaps/{id}/entry with a new entry
// (its question defaults to the gap's wording).
func handleKBGapToEntry(kb *knowledge.Base, who func(*http.Request) string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := gapID(w, r)
		if !ok {
			return
		}
		var in entryJSON
		if !decodeJSON(w, r, maxEntryBody, &in) {
			return
		}
		rec, err := kb.GapToEntry(r.Context(), id, in.entry(), who(r))
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, toRecordJSON(rec))
	})
}

// handleKBGapToAlternate answers POST .../gaps/{id}/alternate
// {"entry_id", "phrasing"}: the gap's wording (or the phrasing given)
// becomes an alternate phrasing of the entry.
func handleKBGapToAlternate(kb *knowledge.Base, who func(*http.Request) string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := gapID(w, r)
		if !ok {
			return
		}
		var in struct {
			EntryID  string `json:"entry_id"`
			Phrasing string `json:"phrasing"`
		}
		if !decodeJSON(w, r, 16<<10, &in) {
			return
		}
		rec, err := kb.GapToAlternate(r.Context(), id, in.EntryID, in.Phrasing, who(r))
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusOK, toRecordJSON(rec))
	})
}

// handleKBGapStatus answers POST .../gaps/{id}/dismiss and .../reopen.
func handleKBGapStatus(kb *knowledge.Base, who func(*http.Request) string, log *slog.Logger, status string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := gapID(w, r)
		if !ok {
			return
		}
		g, err := kb.SetGapStatus(r.Context(), id, status, who(r))
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusOK, g)
	})
}

func handleKBSynonyms(kb *knowledge.Base, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := kb.Synonyms(r.Context())
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusOK, list)
	})
}

// handleKBSetSynonyms answers PUT /api/v1/admin/kb/synonyms {"groups": [...]}:
// the list replaces the one in force, from the next search on.
func handleKBSetSynonyms(kb *knowledge.Base, who func(*http.Request) string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Groups []knowledge.SynonymGroup `json:"groups"`
		}
		if !decodeJSON(w, r, 1<<20, &in) {
			return
		}
		list, err := kb.SetSynonyms(r.Context(), in.Groups, who(r))
		if err != nil {
			writeKBError(w, log, err)
			return
		}
		writeJSON(w, http.StatusOK, list)
	})
}
