package web

import "net/http"

// routes is the whole HTTP surface of the server, in one place.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", handleHealth(s.deps.Ready))
	mux.Handle("GET /ws/chat", s.handleChat())
	mux.Handle("GET /api/v1/kb/search", handleKBSearch(s.deps.KB, s.log))
	if s.cfg.Demo {
		mux.Handle("GET /api/v1/demo/token", handleDemoToken(s.deps.Tokens, s.cfg.DemoShoppers, s.cfg.DemoTokenTTL, s.log))
	}
	mux.Handle("GET /", handleStatic())
	return securityHeaders(mux)
}
