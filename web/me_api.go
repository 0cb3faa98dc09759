package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

// ShopperData is what the shopper's own privacy API needs (docs/privacy.md);
// package bot/sqlite implements it.
type ShopperData interface {
	Consents(ctx context.Context, shopperID string) (bot.ConsentState, error)
	SetConsent(ctx context.Context, shopperID, kind string, granted bool, source string) (bot.ConsentState, error)
	ExportShopper(ctx context.Context, shopperID, ip string) (bot.DataExport, error)
	EraseShopper(ctx context.Context, shopperID, ip string) (bot.Erasure, error)
}

// closeErased is the close code of a shopper socket whose conversation was
// erased: the client starts a new conversation.
const closeErased = 4410

type shopperKey struct{}

// shopperOnly lets through requests with a valid shopper token in
// "Authorization: Bearer <token>" and puts the shopper id in the context.
// Visitors get 401 "shopper_required", bad tokens 401 "invalid_token".
// Browsers on a foreign origin are refused; the shop origins allowed to
// open the chat get CORS headers, since the widget calls from them.
func (s *Server) shopperOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.meCORS(w, r) {
			return
		}
		auth := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if auth == "" || (ok && strings.TrimSpace(tok) == "") {
			writeError(w, http.StatusUnauthorized, "shopper_required", "only a signed-in shopper has data here: sign in to the shop first")
			return
		}
		claims, err := s.deps.Tokens.Verify(strings.TrimSpace(tok))
		if !ok || err != nil {
			writeError(w, http.StatusUnauthorized, "invalid_token", "the shopper token is missing, malformed, expired or not signed by this shop")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), shopperKey{}, claims.Shopper)))
	})
}

// meCORS answers the origin checks of the me API; false means it has
// answered (refused, or a preflight).
func (s *Server) meCORS(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin != "" {
		if !s.checkOrigin(r) {
			writeError(w, http.StatusForbidden, "forbidden_origin", "this site may not use the shopper API")
			return false
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "Content-Disposition")
	}
	if r.Method == http.MethodOptions {
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "GET, PUT, DELETE")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}

func shopperFrom(r *http.Request) string {
	id, _ := r.Context().Value(shopperKey{}).(string)
	return id
}

// handleMeConsent answers GET /api/v1/me/consent: the current consent to
// personalised replies (off until turned on) and its history.
func handleMeConsent(data ShopperData, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := data.Consents(r.Context(), shopperFrom(r))
		if err != nil {
			log.Error("read consents", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "your choices could not be read")
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
}

// handleMeSetConsent answers PUT /api/v1/me/consent {"personalize": bool,
// "source": "widget"|"api"}: it records the choice and returns the new state.
func handleMeSetConsent(data ShopperData, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Personalize *bool  `json:"personalize"`
			Source      string `json:"source"`
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxMeBody)
		err := json.NewDecoder(r.Body).Decode(&in)
		if tooLarge(w, err) {
			return
		}
		if err != nil || in.Personalize == nil {
			writeError(w, http.StatusBadRequest, "invalid", `send {"personalize": true} or {"personalize": false}`)
			return
		}
		if in.Source != "widget" {
			in.Source = "api"
		}
		st, err := data.SetConsent(r.Context(), shopperFrom(r), bot.ConsentPersonalize, *in.Personalize, in.Source)
		if err != nil {
			log.Error("save consent", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "your choice could not be saved")
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
}

// handleMeExport answers GET /api/v1/me/data: everything stored about the
// shopper as a JSON attachment (bot.DataExport). The request is recorded
// and audited.
func handleMeExport(data ShopperData, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex, err := data.ExportShopper(r.Context(), shopperFrom(r), clientIP(r))
		if err != nil {
			log.Error("export shopper data", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "your data could not be exported")
			return
		}
		b, err := json.MarshalIndent(ex, "", "  ")
		if err != nil {
			log.Error("encode shopper data", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "your data could not be exported")
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Disposition", `attachment; filename="xiaoer-data-`+ex.GeneratedAt.Format(time.DateOnly)+`.json"`)
		w.WriteHeader(http.StatusOK)
		w.Write(append(b, '\n'))
	})
}

// handleMeErase answers DELETE /api/v1/me/data with the body
// {"confirm": true} (anything else is refused with 400
// "confirmation_required", so a stray request erases nothing). It erases
// the shopper's data, makes the handoff desk forget their conversations
// and closes their chat sockets (code 4410).
func (s *Server) handleMeErase(data ShopperData, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Confirm bool `json:"confirm"`
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxMeBody)
		err := json.NewDecoder(r.Body).Decode(&in)
		if tooLarge(w, err) {
			return
		}
		if err != nil || !in.Confirm {
			writeError(w, http.StatusBadRequest, "confirmation_required", `deleting your data needs the body {"confirm": true}`)
			return
		}
		e, err := data.EraseShopper(r.Context(), shopperFrom(r), clientIP(r))
		if err != nil {
			log.Error("erase shopper data", "err", err)
			writeError(w, http.StatusInternalServerError, "internal", "your data could not be deleted; nothing was changed")
			return
		}
		log.Info("shopper data erased", "request", e.Request.ID, "conversations", len(e.Conversations), "storage_only", e.StorageOnly)
		if s.deps.Desk != nil {
			if err := s.deps.Desk.Forget(r.Context(), e.Conversations); err != nil {
				log.Warn("forget erased conversations", "err", err)
			}
		}
		if s.deps.Hub != nil {
			s.deps.Hub.Forget(e.Conversations)
		}
		writeJSON(w, http.StatusOK, map[string]any{"erased": true, "request": e.Request, "storage_only": e.StorageOnly})
	})
}

// maxMeBody bounds the JSON body of the shopper's own API.
const maxMeBody = 4 << 10

// tooLarge answers 413 "too_large" and returns true when err says the
// body went over its http.MaxBytesReader limit.
func tooLarge(w http.ResponseWriter, err error) bool {
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		return false
	}
	writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the request body is larger than %d bytes", mbe.Limit))
	return true
}
