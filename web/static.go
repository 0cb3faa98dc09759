package web

import (
	"embed"
	"io/fs"
	"net/http"
)

// staticFiles are the demo shop page and the chat widget: plain JavaScript
// and CSS, served as they are, with no build step.
//
//go:embed static
var staticFiles embed.FS

// handleStatic serves the embedded files at the root: / is the demo shop
// page, /widget.js the widget that shops embed with one script tag.
func handleStatic() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		// The embed pattern above guarantees the folder exists.
		return http.NotFoundHandler()
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
