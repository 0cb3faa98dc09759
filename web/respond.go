package web

import (
	"encoding/json"
	"net/http"
)

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// apiError is the body of every API error: a stable code and a message.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, msg
	writeJSON(w, status, e)
}

// handleMethodNotAllowed answers 405 "method_not_allowed" with the Allow
// header, for routes where the mux's default (HEAD served as GET) would
// have side effects.
func handleMethodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use one of "+allow)
	})
}

// contentSecurityPolicy is the CSP of every response, pages and API
// alike: scripts, styles, sockets and API calls only from this server,
// images from it or data: URLs (no outside image can carry chat text
// away), no plugins, no <base> rewriting, forms posting only here, and no
// framing by any site (clickjacking of the console and admin pages).
// Pages hold no inline script or style, so none is allowed.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// permissionsPolicy turns off the powerful browser features no page of
// ours uses, so injected content could not ask for them either.
const permissionsPolicy = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

// securityHeaders sets the headers every response carries: the CSP, no
// MIME sniffing, no referrer to other sites, no framing (X-Frame-Options
// for browsers without frame-ancestors), the permissions policy, and a
// browsing-context group of our own. It sets no Cross-Origin-Resource-
// Policy: shop pages load /widget.js and /widget.css from here.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", permissionsPolicy)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}
