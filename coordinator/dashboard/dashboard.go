// Package dashboard is the coordinator's operator page: hosts and their runs,
// rebuilt from the bucket on every request (the coordinator keeps no run state
// the bucket cannot rebuild), with verdict badges and links to each run's
// report, proxied from the bucket.
package dashboard

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown/shakedown/coordinator/bucket"
	"github.com/shakedown/shakedown/web"
)

// Bucket is what the dashboard needs from bucket.Store.
type Bucket interface {
	Lister
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
	Bucket() string
}

// Config configures the dashboard.
type Config struct {
	Bucket Bucket
	// RunsPerHost bounds the runs listed per host (default 20).
	RunsPerHost int
	Log         *slog.Logger
	Now         func() time.Time
}

type page struct {
	Bucket    string
	Generated time.Time
	Hosts     []HostView
	Errors    []string
}

type handler struct {
	cfg  Config
	tmpl *template.Template
}

// New returns the dashboard handler: GET / (the page), GET /o/<key> (an
// object of runs/ or hosts/, proxied from the bucket) and GET /static/.
func New(cfg Config) (http.Handler, error) {
	if cfg.RunsPerHost <= 0 {
		cfg.RunsPerHost = 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tmpl, err := web.Templates(template.FuncMap{
		"ts": func(t time.Time) string {
			if t.IsZero() {
				return "–"
			}
			return t.UTC().Format("2006-01-02 15:04:05Z")
		},
		"objectURL": ObjectURL,
	}, "dashboard.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard templates: %w", err)
	}
	h := &handler{cfg: cfg, tmpl: tmpl}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.index)
	mux.HandleFunc("GET /o/", h.object)
	mux.Handle("GET /static/", web.Static("/static/"))
	return mux, nil
}

// ObjectURL is the dashboard's link to a bucket object.
func ObjectURL(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/o/" + strings.Join(segs, "/")
}

func securityHeaders(w http.ResponseWriter) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Frame-Options", "DENY")
}

func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	p := page{Bucket: h.cfg.Bucket.Bucket(), Generated: h.cfg.Now()}
	hosts, err := collect(ctx, h.cfg.Bucket, h.cfg.RunsPerHost)
	if err != nil {
		h.cfg.Log.Error("dashboard: list bucket", "err", err)
		p.Errors = append(p.Errors, "The bucket could not be listed: "+err.Error())
	}
	p.Hosts = hosts
	securityHeaders(w)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
	}
	if err := h.tmpl.Execute(w, p); err != nil {
		h.cfg.Log.Error("dashboard: render", "err", err)
	}
}

// object proxies one object from the bucket. Only clean keys under runs/ and
// hosts/ are served. HTML (report.html) is served in a CSP sandbox, so a
// report, which comes from an agent, cannot act as the coordinator's origin.
func (h *handler) object(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/o/")
	if !cleanKey(key) {
		http.Error(w, "not an object of runs/ or hosts/", http.StatusNotFound)
		return
	}
	rc, size, err := h.cfg.Bucket.Open(r.Context(), key)
	if errors.Is(err, bucket.ErrNotFound) {
		http.Error(w, "no such object: "+key, http.StatusNotFound)
		return
	}
	if err != nil {
		h.cfg.Log.Error("dashboard: open object", "key", key, "err", err)
		http.Error(w, "bucket: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer rc.Close()
	securityHeaders(w)
	w.Header().Set("Cache-Control", "no-store")
	ext := strings.ToLower(path.Ext(key))
	switch ext {
	case ".html", ".htm":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "sandbox allow-scripts allow-popups; frame-ancestors 'none'")
	case ".json", ".jsonl":
		w.Header().Set("Content-Type", "application/json")
	case ".txt", ".log", ".yaml", ".yml", ".csv":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	default:
		ct := mime.TypeByExtension(ext)
		if ct == "" || strings.HasPrefix(ct, "text/html") || strings.Contains(ct, "javascript") || strings.Contains(ct, "svg") {
			ct = "application/octet-stream"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(path.Base(key)))
	}
	if size >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	}
	if _, err := io.Copy(w, rc); err != nil {
		h.cfg.Log.Warn("dashboard: copy object", "key", key, "err", err)
	}
}

func cleanKey(key string) bool {
	if !strings.HasPrefix(key, "runs/") && !strings.HasPrefix(key, "hosts/") || len(key) > 1024 {
		return false
	}
	for _, s := range strings.Split(key, "/") {
		if s == "" || s == "." || s == ".." {
			return false
		}
	}
	return !strings.ContainsAny(key, "\\\x00")
}
