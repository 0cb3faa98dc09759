package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestSecurityHeaders: the demo shop page, the console, the admin page,
// the widget's files and the API all carry the strict CSP and the other
// security headers; the widget's files stay loadable by shop pages.
func TestSecurityHeaders(t *testing.T) {
	e := newConsoleEnv(t, Config{})
	for _, path := range []string{"/", "/console/", "/admin/", "/widget.js", "/widget.css", "/healthz", "/api/v1/console/board"} {
		resp, err := http.Get(e.hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, d)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "*") {
			t.Errorf("%s: CSP %q is not strict", path, csp)
		}
		want := map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "same-origin",
			"X-Frame-Options":        "DENY",
			"Permissions-Policy":     permissionsPolicy,
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
		if corp := h.Get("Cross-Origin-Resource-Policy"); corp != "" {
			t.Errorf("%s: Cross-Origin-Resource-Policy %q would stop shop pages loading the widget", path, corp)
		}
	}
}
