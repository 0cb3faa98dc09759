package web

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/xiaoer-cs/xiaoer/handoff"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// The agent console's REST API (docs/console-api.md), for staff with the
// conversations permission (routes.go). Each handler is one Desk method
// called for the signed-in staff member; the desk checks access, so a
// conversation an agent may not see answers 404 like one that does not exist.

// maxConsoleBody bounds a console request's JSON body.
const maxConsoleBody = 64 << 10

// staffOf is the signed-in staff member as the desk knows them: shoppers
// see the display name (else the username) on agent messages; the audit
// log records the username, role and address.
func staffOf(u auth.User, ip string) handoff.Staff {
	name := strings.TrimSpace(u.DisplayName)
	if name == "" {
		name = u.Username
	}
	return handoff.Staff{ID: u.ID, Name: name, Admin: u.Role == auth.RoleAdmin,
		Username: u.Username, Role: string(u.Role), IP: ip}
}

// staffFrom returns the staff member of a request that passed auth.Require.
func staffFrom(r *http.Request) handoff.Staff {
	u, _ := auth.UserFrom(r.Context())
	return staffOf(u, clientIP(r))
}

// deskError maps a desk error to an HTTP status, a stable code and a
// message for people; ok is false for an unexpected error, which the
// caller logs and answers as internal without saying more.
func deskError(err error) (status int, code, msg string, ok bool) {
	switch {
	case errors.Is(err, handoff.ErrNotFound):
		return http.StatusNotFound, "not_found", "no such conversation, or not one you may see", true
	case errors.Is(err, handoff.ErrTaken):
		return http.StatusConflict, "taken", "someone else took it first", true
	case errors.Is(err, handoff.ErrNotYours):
		return http.StatusConflict, "not_yours", "this conversation is not assigned to you", true
	case errors.Is(err, handoff.ErrShortcutTaken):
		return http.StatusConflict, "shortcut_taken", "another canned reply has this shortcut and language", true
	case errors.Is(err, handoff.ErrNoAgent):
		return http.StatusConflict, "no_agent", "that agent cannot take it now", true
	case errors.Is(err, handoff.ErrInvalid):
		// The desk wraps ErrInvalid with what is wrong, meant for people.
		msg := strings.TrimPrefix(err.Error(), handoff.ErrInvalid.Error())
		msg = strings.TrimLeft(msg, ": ")
		if msg == "" {
			msg = "the request is not valid"
		}
		return http.StatusBadRequest, "invalid", msg, true
	case errors.Is(err, handoff.ErrNoModel):
		return http.StatusNotImplemented, "no_model", "no model is configured to draft replies", true
	}
	return http.StatusInternalServerError, "internal", "the desk could not do that", false
}

// writeDeskError answers a desk error; unexpected ones are logged, and
// their text never reaches the client.
func writeDeskError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, code, msg, ok := deskError(err)
	if !ok {
		log.Error("console api", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, status, code, msg)
}

// pathInt64 reads the {id} path value of canned replies and agents; a
// malformed one answers 404, like an unknown one.
func pathInt64(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusNotFound, "not_found", "no such item")
		return 0, false
	}
	return id, true
}

// clientIP is the address the request came from, for the audit log: the
// peer's, or with Config.TrustForwardedFor the one the proxy forwarded
// (withClientIP puts it in RemoteAddr).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// boardJSON and viewJSON send every list as an array, never null.
func boardJSON(b handoff.Board) handoff.Board {
	b.Tickets, b.Queue, b.Mine = nonNilSlice(b.Tickets), nonNilSlice(b.Queue), nonNilSlice(b.Mine)
	b.Me = agentJSON(b.Me)
	agents := make([]handoff.Agent, 0, len(b.Agents))
	for _, a := range b.Agents {
		agents = append(agents, agentJSON(a))
	}
	b.Agents = agents
	return b
}

func agentJSON(a handoff.Agent) handoff.Agent {
	a.Langs = nonNilSlice(a.Langs)
	return a
}

type viewJSON struct {
	handoff.View
	// Messages shadows View.Messages: protocol-v1 message objects.
	Messages []messageJSON `json:"messages"`
}

func toViewJSON(v handoff.View) viewJSON {
	out := viewJSON{View: v, Messages: make([]messageJSON, 0, len(v.Messages))}
	for _, m := range v.Messages {
		out.Messages = append(out.Messages, toMessageJSON(m))
	}
	out.Notes, out.Orders = nonNilSlice(v.Notes), nonNilSlice(v.Orders)
	return out
}

func handleConsoleBoard(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := desk.Board(r.Context(), staffFrom(r))
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, boardJSON(b))
	})
}

func handleConsoleConversation(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := desk.Conversation(r.Context(), staffFrom(r), r.PathValue("id"))
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, toViewJSON(v))
	})
}

func handleConsoleClaim(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := desk.Claim(r.Context(), staffFrom(r), r.PathValue("id"))
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"case": c})
	})
}

// handleConsoleReply answers POST .../messages {"client_id", "text"}: 201
// with the stored message, which the desk then delivers to the shopper;
// 200 with the same message for a resend of the same client_id.
func handleConsoleReply(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			ClientID string `json:"client_id"`
			Text     string `json:"text"`
		}
		if !decodeJSON(w, r, maxConsoleBody, &in) {
			return
		}
		if !clientIDPattern.MatchString(in.ClientID) {
			writeError(w, http.StatusBadRequest, "invalid", "client_id must be 1 to 128 printable ASCII characters")
			return
		}
		m, created, err := desk.Reply(r.Context(), staffFrom(r), r.PathValue("id"), in.ClientID, in.Text)
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		status := http.StatusCreated
		if !created {
			status = http.StatusOK // a resend: the message stored the first time
		}
		writeJSON(w, status, map[string]any{"message": toMessageJSON(m)})
	})
}

func handleConsoleNote(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Text string `json:"text"`
		}
		if !decodeJSON(w, r, maxConsoleBody, &in) {
			return
		}
		n, err := desk.AddNote(r.Context(), staffFrom(r), r.PathValue("id"), in.Text)
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"note": n})
	})
}

// handleConsoleTransfer answers POST .../transfer {"to": agentID}; 0
// sends the conversation back to the queue.
func handleConsoleTransfer(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			To *int64 `json:"to"`
		}
		if !decodeJSON(w, r, maxConsoleBody, &in) {
			return
		}
		if in.To == nil || *in.To < 0 {
			writeError(w, http.StatusBadRequest, "invalid", "to must be an agent's id, or 0 for the queue")
			return
		}
		c, err := desk.Transfer(r.Context(), staffFrom(r), r.PathValue("id"), *in.To)
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"case": c})
	})
}

func handleConsoleClose(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Resolution string `json:"resolution"`
		}
		if !decodeJSON(w, r, maxConsoleBody, &in) {
			return
		}
		c, err := desk.Close(r.Context(), staffFrom(r), r.PathValue("id"), in.Resolution)
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"case": c})
	})
}

// handleConsoleReveal answers POST .../reveal {"fields": [...]} with the
// unmasked values; the desk writes an audit row with the client's address.
func handleConsoleReveal(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Fields []string `json:"fields"`
		}
		if !decodeJSON(w, r, maxConsoleBody, &in) {
			return
		}
		if len(in.Fields) == 0 {
			writeError(w, http.StatusBadRequest, "invalid", "fields must name at least one of phone, email, address, contact")
			return
		}
		vals, err := desk.Reveal(r.Context(), staffFrom(r), r.PathValue("id"), in.Fields, clientIP(r))
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		if vals == nil {
			vals = map[string]string{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"values": vals})
	})
}

func handleConsoleSuggestions(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := desk.Suggest(r.Context(), staffFrom(r), r.PathValue("id"))
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		s.Entries = nonNilSlice(s.Entries)
		writeJSON(w, http.StatusOK, s)
	})
}

func handleConsoleDraft(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		text, err := desk.Draft(r.Context(), staffFrom(r), r.PathValue("id"))
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"text": text})
	})
}

// handleConsolePresence answers PUT /presence {"status"} with 204.
func handleConsolePresence(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Status handoff.Presence `json:"status"`
		}
		if !decodeJSON(w, r, maxConsoleBody, &in) {
			return
		}
		if !in.Status.Valid() {
			writeError(w, http.StatusBadRequest, "invalid", "status must be online, away or offline")
			return
		}
		if err := desk.SetPresence(r.Context(), staffFrom(r).ID, in.Status); err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleConsoleCanned(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := desk.Canned(r.Context())
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"canned": nonNilSlice(list)})
	})
}

// cannedIn is a canned reply as the console writes it.
type cannedIn struct {
	Shortcut string `json:"shortcut"`
	Lang     string `json:"lang"`
	Title    string `json:"title"`
	Text     string `json:"text"`
}

// handleConsoleSaveCanned answers POST /canned (201) and PUT /canned/{id}
// (200) with {"canned": the stored reply}.
func handleConsoleSaveCanned(desk *handoff.Desk, log *slog.Logger, create bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id int64
		if !create {
			var ok bool
			if id, ok = pathInt64(w, r); !ok {
				return
			}
		}
		var in cannedIn
		if !decodeJSON(w, r, maxConsoleBody, &in) {
			return
		}
		c, err := desk.SaveCanned(r.Context(), staffName(r), handoff.Canned{ID: id, Shortcut: in.Shortcut, Lang: in.Lang, Title: in.Title, Text: in.Text})
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		status := http.StatusOK
		if create {
			status = http.StatusCreated
		}
		writeJSON(w, status, map[string]any{"canned": c})
	})
}

func handleConsoleDeleteCanned(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathInt64(w, r)
		if !ok {
			return
		}
		if err := desk.DeleteCanned(r.Context(), id); err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleConsoleSetAgent answers PATCH /agents/{id} {"langs", "max_chats"}:
// both are required, since the desk sets them together.
func handleConsoleSetAgent(desk *handoff.Desk, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathInt64(w, r)
		if !ok {
			return
		}
		var in struct {
			Langs    []string `json:"langs"`
			MaxChats *int     `json:"max_chats"`
		}
		if !decodeJSON(w, r, maxConsoleBody, &in) {
			return
		}
		if in.Langs == nil || in.MaxChats == nil {
			writeError(w, http.StatusBadRequest, "invalid", "langs and max_chats are both required")
			return
		}
		a, err := desk.SetAgent(r.Context(), id, in.Langs, *in.MaxChats)
		if err != nil {
			writeDeskError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"agent": agentJSON(a)})
	})
}
