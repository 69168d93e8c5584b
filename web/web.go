// Package web holds the HTML templates and static assets shared by the
// coordinator's dashboard (and, later, the agent's local UI and the report),
// embedded in the binaries. Pages are server-rendered with html/template, which
// escapes every value for its context; they need no JavaScript.
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Templates parses the named template files (e.g. "dashboard.html") from
// templates/ with the given functions.
func Templates(funcs template.FuncMap, names ...string) (*template.Template, error) {
	patterns := make([]string, len(names))
	for i, n := range names {
		patterns[i] = "templates/" + n
	}
	return template.New(names[0]).Funcs(funcs).ParseFS(templates, patterns...)
}

// Static serves the static assets (CSS) under the given URL prefix, e.g.
// mux.Handle("GET /static/", web.Static("/static/")).
func Static(prefix string) http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	fsrv := http.StripPrefix(prefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fsrv.ServeHTTP(w, r)
	})
}
