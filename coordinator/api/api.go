// Package api is the coordinator's HTTP API for agents: presigned URLs for the
// bucket, scoped to the agent's own prefixes and authenticated by its boot
// token, plus the certificate agents pin and a health check.
//
//	POST /api/v1/presign  {host, key, method, sha256, size} -> {method, url, headers, expires_at}
//	GET  /api/v1/ca       {fingerprint_sha256, pem}   (?format=pem: the PEM alone)
//	GET  /api/v1/info     {version, iperf_port, iperf_host, iperf_running} (boot token)
//	GET  /healthz         200 "ok" when the bucket answers, 503 otherwise
package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown/shakedown/coordinator/bucket"
)

// Presigner signs bucket requests (bucket.Store).
type Presigner interface {
	Presign(ctx context.Context, r bucket.PresignRequest) (bucket.Presigned, error)
}

// Config configures the API.
type Config struct {
	Tokens    *Tokens
	Presigner Presigner
	// CertPEM and Fingerprint are served by /api/v1/ca; empty when the
	// coordinator uses no certificate of its own.
	CertPEM     []byte
	Fingerprint string
	// TTL of presigned URLs (default 15 minutes).
	TTL time.Duration
	// Rate and Burst limit presign requests per token (default 20/s, burst 200).
	Rate  float64
	Burst int
	// MaxSize refuses PUTs declaring more bytes (default 5 GiB, the S3 limit
	// of a single PUT; agents do not use multipart uploads).
	MaxSize int64
	// Info describes the coordinator's services for GET /api/v1/info (the
	// iperf3 server the Network stage measures against); nil answers a zero
	// Info (no iperf3 server).
	Info func() Info
	// Health checks the bucket for /healthz; nil means always healthy.
	Health func(context.Context) error
	Log    *slog.Logger
	Now    func() time.Time
}

// PresignBody is the JSON body of POST /api/v1/presign.
type PresignBody struct {
	Host   string `json:"host"`
	Key    string `json:"key"`
	Method string `json:"method"`
	// SHA256 is the hex SHA-256 of the body, required for PUT.
	SHA256 string `json:"sha256,omitempty"`
	// Size is the body's length in bytes, required for PUT.
	Size *int64 `json:"size,omitempty"`
}

// Error is the JSON body of every error response.
type Error struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// CA is the JSON body of GET /api/v1/ca.
type CA struct {
	Fingerprint string `json:"fingerprint_sha256"`
	PEM         string `json:"pem"`
}

// Info is the JSON body of GET /api/v1/info: what an agent needs to know of
// the coordinator beyond the bucket.
type Info struct {
	Version string `json:"version,omitempty"`
	// IperfPort is the port of the coordinator's iperf3 server; 0 when it
	// runs none (--iperf-listen off, or iperf3 not installed).
	IperfPort int `json:"iperf_port"`
	// IperfHost is the address iperf3 is bound to when that is one address
	// (--iperf-listen 10.0.1.5:5201); empty when it listens on every
	// address, and the agent then uses the host it reached the API by.
	IperfHost string `json:"iperf_host,omitempty"`
	// IperfRunning says whether the server process is up right now (it is
	// restarted with backoff when it exits).
	IperfRunning bool `json:"iperf_running"`
}

type server struct {
	cfg Config
	lim *limiter
}

// New returns the API handler.
func New(cfg Config) http.Handler {
	if cfg.TTL <= 0 {
		cfg.TTL = 15 * time.Minute
	}
	if cfg.Rate == 0 {
		cfg.Rate = 20
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 200
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = 5 << 30
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &server{cfg: cfg, lim: newLimiter(cfg.Rate, cfg.Burst, cfg.Now)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/presign", s.presign)
	mux.HandleFunc("GET /api/v1/ca", s.ca)
	mux.HandleFunc("GET /api/v1/info", s.info)
	mux.HandleFunc("GET /healthz", s.health)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // URLs keep their & readable
	_ = enc.Encode(v)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, Error{Error: msg, Code: code})
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

func (s *server) presign(w http.ResponseWriter, r *http.Request) {
	id, ok := s.cfg.Tokens.Authenticate(bearer(r))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="shakedown"`)
		fail(w, http.StatusUnauthorized, "unauthorized", "missing or unknown boot token (Authorization: Bearer <token>)")
		s.cfg.Log.Warn("presign refused: bad token", "remote", r.RemoteAddr)
		return
	}
	if ok, wait := s.lim.allow(id.Name); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		fail(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("too many presign requests for this token; retry in %s", wait.Round(time.Millisecond)))
		return
	}
	var body PresignBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		fail(w, http.StatusBadRequest, "bad_request", "decode JSON body: "+err.Error())
		return
	}
	body.Method = strings.ToUpper(body.Method)
	switch body.Method {
	case http.MethodPut:
		if body.Size == nil || *body.Size < 0 || *body.Size > s.cfg.MaxSize {
			fail(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("PUT needs size between 0 and %d bytes", s.cfg.MaxSize))
			return
		}
		if len(body.SHA256) != 64 || strings.Trim(strings.ToLower(body.SHA256), "0123456789abcdef") != "" {
			fail(w, http.StatusBadRequest, "bad_request", "PUT needs sha256: the body's SHA-256 as 64 hex digits")
			return
		}
		body.SHA256 = strings.ToLower(body.SHA256)
	case http.MethodGet, http.MethodHead:
	default:
		fail(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("method %q: want PUT, GET or HEAD", body.Method))
		return
	}
	if id.Host != "" && body.Host != id.Host {
		s.refuse(w, id, body, fmt.Sprintf("this token is for host %q, not %q", id.Host, body.Host))
		return
	}
	if id.Host == "" && s.cfg.Tokens.HasOwnToken(body.Host) {
		s.refuse(w, id, body, fmt.Sprintf("host %q has its own token; the fleet token is not valid for it", body.Host))
		return
	}
	if err := CheckKey(body.Host, body.Key, body.Method); err != nil {
		s.refuse(w, id, body, err.Error())
		return
	}
	p, err := s.cfg.Presigner.Presign(r.Context(), bucket.PresignRequest{
		Method: body.Method, Key: body.Key, SHA256: body.SHA256, PublicHost: requestHost(r), TTL: s.cfg.TTL,
	})
	if err != nil {
		s.cfg.Log.Error("presign failed", "host", body.Host, "key", body.Key, "err", err)
		fail(w, http.StatusInternalServerError, "internal", "presign failed: "+err.Error())
		return
	}
	s.cfg.Log.Debug("presigned", "host", body.Host, "key", body.Key, "method", body.Method, "token", id.Name)
	writeJSON(w, http.StatusOK, p)
}

func (s *server) refuse(w http.ResponseWriter, id Identity, body PresignBody, msg string) {
	s.cfg.Log.Warn("presign refused", "host", body.Host, "key", body.Key, "method", body.Method, "token", id.Name, "err", msg)
	fail(w, http.StatusForbidden, "forbidden", msg)
}

// requestHost is the host part the agent used to reach us: an address it can
// reach, so the embedded S3 endpoint is presigned on the same host.
func requestHost(r *http.Request) string {
	h := r.Host
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.Trim(h, "[]")
}

func (s *server) ca(w http.ResponseWriter, r *http.Request) {
	if len(s.cfg.CertPEM) == 0 {
		fail(w, http.StatusNotFound, "not_found", "this coordinator has no certificate of its own (external S3 with a public CA)")
		return
	}
	if r.URL.Query().Get("format") == "pem" {
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(s.cfg.CertPEM)
		return
	}
	writeJSON(w, http.StatusOK, CA{Fingerprint: s.cfg.Fingerprint, PEM: string(s.cfg.CertPEM)})
}

// info needs a valid boot token (fleet or host), like presign: it reveals
// nothing secret, but an agent learns at boot that its token works.
func (s *server) info(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.cfg.Tokens.Authenticate(bearer(r)); !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="shakedown"`)
		fail(w, http.StatusUnauthorized, "unauthorized", "missing or unknown boot token (Authorization: Bearer <token>)")
		s.cfg.Log.Warn("info refused: bad token", "remote", r.RemoteAddr)
		return
	}
	var in Info
	if s.cfg.Info != nil {
		in = s.cfg.Info()
	}
	writeJSON(w, http.StatusOK, in)
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.cfg.Health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := s.cfg.Health(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "bucket unavailable: %v\n", err)
			return
		}
	}
	fmt.Fprintln(w, "ok")
}
