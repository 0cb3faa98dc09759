package web

import (
	"net/http"

	"github.com/xiaoer-cs/xiaoer/bot/ingest"
	"github.com/xiaoer-cs/xiaoer/knowledge"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// routes is the whole HTTP surface of the server, in one place.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", handleHealth(s.deps.Ready))
	mux.Handle("GET /ws/chat", s.handleChat())
	mux.Handle("GET /api/v1/kb/search", handleKBSearch(s.deps.KB, s.log))
	if s.cfg.Demo {
		mux.Handle("GET /api/v1/demo/token", handleDemoToken(s.deps.Tokens, s.cfg.DemoShoppers, s.cfg.DemoTokenTTL, s.log))
	}
	if ing, tokens := s.deps.Ingest, s.deps.ServiceTokens; ing != nil && tokens != nil {
		// The shop's backend pushes its data (docs/ingest.md), with a service token.
		log := s.log.With("api", "ingest")
		for _, kind := range ingest.Kinds {
			mux.Handle("POST /api/v1/ingest/"+kind+"s", handleIngest(kind, ing, tokens, s.cfg.MaxIngestBytes, s.cfg.MaxIngestRecords, log))
		}
	}
	if data := s.deps.Privacy; data != nil && s.deps.Tokens != nil {
		// The shopper's own data (docs/privacy.md): shopper token only.
		me := func(pattern string, h http.Handler) { mux.Handle(pattern, s.shopperOnly(h)) }
		log := s.log.With("api", "me")
		me("GET /api/v1/me/consent", handleMeConsent(data, log))
		me("PUT /api/v1/me/consent", handleMeSetConsent(data, log))
		me("GET /api/v1/me/data", handleMeExport(data, log))
		// GET patterns also match HEAD, and every export is recorded and
		// audited: a HEAD (a link checker, a prefetch) must not be one.
		mux.Handle("HEAD /api/v1/me/data", handleMethodNotAllowed("GET, DELETE, OPTIONS"))
		me("DELETE /api/v1/me/data", s.handleMeErase(data, log))
		me("OPTIONS /api/v1/me/{rest...}", http.NotFoundHandler()) // shopperOnly answers preflights
	}
	if a := s.deps.Auth; a != nil {
		// Staff accounts (docs/accounts.md); each maker carries its own protection.
		mux.Handle("POST /api/v1/auth/login", a.HandleLogin())
		mux.Handle("POST /api/v1/auth/logout", a.HandleLogout())
		mux.Handle("GET /api/v1/auth/me", a.HandleMe())
		mux.Handle("GET /api/v1/admin/users", a.HandleListUsers())
		mux.Handle("POST /api/v1/admin/users", a.HandleCreateUser())
		mux.Handle("PATCH /api/v1/admin/users/{id}", a.HandleUpdateUser())
	}
	if kb, a := s.deps.Admin, s.deps.Auth; kb != nil && a != nil {
		// The knowledge-base admin API (docs/admin-api.md): roles with the kb
		// permission only, CSRF-checked by the middleware.
		kbAdmin := func(pattern string, h http.Handler) { mux.Handle(pattern, a.Require(auth.PermKB)(h)) }
		log, who := s.log.With("api", "kb-admin"), staffName
		kbAdmin("GET /api/v1/admin/kb/entries", handleKBList(kb, log))
		kbAdmin("POST /api/v1/admin/kb/entries", handleKBCreate(kb, who, log))
		kbAdmin("GET /api/v1/admin/kb/entries/{id}", handleKBGet(kb, log))
		kbAdmin("PUT /api/v1/admin/kb/entries/{id}", handleKBUpdate(kb, who, log))
		kbAdmin("DELETE /api/v1/admin/kb/entries/{id}", handleKBAction(kb, who, log, knowledge.ActionDelete))
		kbAdmin("POST /api/v1/admin/kb/entries/{id}/disable", handleKBAction(kb, who, log, knowledge.ActionDisable))
		kbAdmin("POST /api/v1/admin/kb/entries/{id}/enable", handleKBAction(kb, who, log, knowledge.ActionEnable))
		kbAdmin("POST /api/v1/admin/kb/entries/{id}/restore", handleKBAction(kb, who, log, knowledge.ActionRestore))
		kbAdmin("GET /api/v1/admin/kb/entries/{id}/versions", handleKBVersions(kb, log))
		kbAdmin("GET /api/v1/admin/kb/entries/{id}/diff", handleKBDiff(kb, log))
		kbAdmin("POST /api/v1/admin/kb/entries/{id}/rollback", handleKBRollback(kb, who, log))
		kbAdmin("GET /api/v1/admin/kb/facets", handleKBFacets(kb, log))
		kbAdmin("POST /api/v1/admin/kb/import", handleKBImport(kb, who, log))
		kbAdmin("GET /api/v1/admin/kb/export", handleKBExport(kb, log))
		kbAdmin("GET /api/v1/admin/kb/try", handleKBTry(kb, log))
		kbAdmin("GET /api/v1/admin/kb/synonyms", handleKBSynonyms(kb, log))
		kbAdmin("PUT /api/v1/admin/kb/synonyms", handleKBSetSynonyms(kb, who, log))
		kbAdmin("GET /api/v1/admin/kb/regression", handleKBRegressionList(kb, log))
		kbAdmin("POST /api/v1/admin/kb/regression", handleKBRegressionAdd(kb, who, log))
		kbAdmin("DELETE /api/v1/admin/kb/regression/{id}", handleKBRegressionDelete(kb, log))
		kbAdmin("POST /api/v1/admin/kb/regression/run", handleKBRegressionRun(kb, log))
		kbAdmin("GET /api/v1/admin/kb/gaps", handleKBGaps(kb, log))
		kbAdmin("POST /api/v1/admin/kb/gaps/{id}/entry", handleKBGapToEntry(kb, who, log))
		kbAdmin("POST /api/v1/admin/kb/gaps/{id}/alternate", handleKBGapToAlternate(kb, who, log))
		kbAdmin("POST /api/v1/admin/kb/gaps/{id}/dismiss", handleKBGapStatus(kb, who, log, knowledge.GapDismissed))
		kbAdmin("POST /api/v1/admin/kb/gaps/{id}/reopen", handleKBGapStatus(kb, who, log, knowledge.GapOpen))
	}
	if desk, a := s.deps.Desk, s.deps.Auth; desk != nil && a != nil {
		// The agent console (docs/console-api.md): roles with the
		// conversations permission; canned-reply writes and agent settings
		// need the settings permission (admins, who have both). The desk checks which
		// conversations each one may see. CSRF-checked by the middleware.
		console := func(pattern string, h http.Handler) { mux.Handle(pattern, a.Require(auth.PermConversations)(h)) }
		settings := func(pattern string, h http.Handler) { mux.Handle(pattern, a.Require(auth.PermSettings)(h)) }
		log := s.log.With("api", "console")
		console("GET /api/v1/console/board", handleConsoleBoard(desk, log))
		console("GET /api/v1/console/conversations/{id}", handleConsoleConversation(desk, log))
		console("POST /api/v1/console/conversations/{id}/claim", handleConsoleClaim(desk, log))
		console("POST /api/v1/console/conversations/{id}/messages", handleConsoleReply(desk, log))
		console("POST /api/v1/console/conversations/{id}/notes", handleConsoleNote(desk, log))
		console("POST /api/v1/console/conversations/{id}/transfer", handleConsoleTransfer(desk, log))
		console("POST /api/v1/console/conversations/{id}/close", handleConsoleClose(desk, log))
		console("POST /api/v1/console/conversations/{id}/reveal", handleConsoleReveal(desk, log))
		console("GET /api/v1/console/conversations/{id}/suggestions", handleConsoleSuggestions(desk, log))
		console("POST /api/v1/console/conversations/{id}/draft", handleConsoleDraft(desk, log))
		console("PUT /api/v1/console/presence", handleConsolePresence(desk, log))
		console("GET /api/v1/console/canned", handleConsoleCanned(desk, log))
		settings("POST /api/v1/console/canned", handleConsoleSaveCanned(desk, log, true))
		settings("PUT /api/v1/console/canned/{id}", handleConsoleSaveCanned(desk, log, false))
		settings("DELETE /api/v1/console/canned/{id}", handleConsoleDeleteCanned(desk, log))
		settings("PATCH /api/v1/console/agents/{id}", handleConsoleSetAgent(desk, log))
		if s.deps.Audit != nil {
			// Read only: no route changes or deletes audit rows.
			settings("GET /api/v1/admin/audit", handleAuditLog(s.deps.Audit, log))
			for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
				mux.Handle(m+" /api/v1/admin/audit", http.NotFoundHandler())
				mux.Handle(m+" /api/v1/admin/audit/{rest...}", http.NotFoundHandler())
			}
		}
		mux.Handle("GET /ws/agent", s.handleAgent())
		// The console page itself: static files, signed in through the API.
		mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
		mux.Handle("GET /console/", handleStatic())
	} else {
		mux.Handle("GET /console/", http.NotFoundHandler())
	}
	mux.Handle("GET /", handleStatic())
	return securityHeaders(s.withClientIP(mux))
}

// staffName is the signed-in staff member's username, recorded in the
// knowledge base's history.
func staffName(r *http.Request) string {
	u, _ := auth.UserFrom(r.Context())
	return u.Username
}
