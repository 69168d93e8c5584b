package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// SocketName is the control socket's file name inside the state dir.
const SocketName = "agent.sock"

// Handler serves the local control API over which the `status` and `action`
// commands (and later the UI) talk to a running agent:
//
//	GET  /v1/status   Status JSON
//	POST /v1/action   Action JSON -> 200 {"ok":true} | 409 {"error":...} | 400
//	GET  /v1/events   server-sent events, one JSON event per message
func (e *Engine) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := e.Status(r.Context())
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("POST /v1/action", func(w http.ResponseWriter, r *http.Request) {
		var a Action
		dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "decode action: " + err.Error()})
			return
		}
		if err := e.Act(r.Context(), a); err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, ErrNotAllowed) {
				code = http.StatusConflict
			}
			writeJSON(w, code, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Time{})
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		ch, cancel := e.Bus.Subscribe(256)
		defer cancel()
		ping := time.NewTicker(15 * time.Second)
		defer ping.Stop()
		_, _ = io.WriteString(w, "retry: 2000\n\n")
		_ = rc.Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-ping.C:
				_, _ = io.WriteString(w, ": ping\n\n")
			case ev, ok := <-ch:
				if !ok {
					return
				}
				b, _ := json.Marshal(ev)
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type(), b)
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	})
	return mux
}

// Status returns the live status: the journal's view plus live progress.
func (e *Engine) Status(ctx context.Context) (Status, error) {
	st, err := ReadStatus(ctx, e.Journal, e.Current().ID)
	if err != nil {
		return st, err
	}
	st.Agent = "running"
	st.Progress = e.LastProgress()
	return st, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// ListenControl listens on the state dir's control socket, replacing a stale
// socket file left by a crashed agent.
func ListenControl(stateDir string) (net.Listener, error) {
	p := filepath.Join(stateDir, SocketName)
	if c, err := net.DialTimeout("unix", p, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("another agent is already serving %s", p)
	}
	_ = os.Remove(p)
	l, err := net.Listen("unix", p)
	if err != nil {
		return nil, fmt.Errorf("listen on control socket: %w", err)
	}
	_ = os.Chmod(p, 0o600)
	return l, nil
}

// Client talks to a running agent over its control socket.
type Client struct {
	hc *http.Client
}

// ErrNoAgent means no agent answers on the state dir's socket.
var ErrNoAgent = errors.New("no agent running")

// Dial returns a client for the agent serving stateDir, or ErrNoAgent.
func Dial(stateDir string) (*Client, error) {
	p := filepath.Join(stateDir, SocketName)
	c, err := net.DialTimeout("unix", p, 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w on %s", ErrNoAgent, p)
	}
	c.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", p)
	}}
	return &Client{hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

// Status fetches the live status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://agent/v1/status", nil)
	resp, err := c.hc.Do(req)
	if err != nil {
		return st, fmt.Errorf("query agent status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("query agent status: %s", readErr(resp))
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// Act sends an action. Refusals come back as errors wrapping ErrNotAllowed.
func (c *Client) Act(ctx context.Context, a Action) error {
	b, _ := json.Marshal(a)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://agent/v1/action", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("send action: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusConflict:
		return fmt.Errorf("%w: %s", ErrNotAllowed, trimNotAllowed(readErr(resp)))
	default:
		return errors.New(readErr(resp))
	}
}

func trimNotAllowed(s string) string {
	const p = "action not allowed: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// Events streams raw SSE data payloads until ctx ends.
func (c *Client) Events(ctx context.Context, fn func(typ string, data []byte)) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://agent/v1/events", nil)
	hc := *c.hc
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("subscribe to events: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	typ := ""
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte("event: ")):
			typ = string(line[7:])
		case bytes.HasPrefix(line, []byte("data: ")):
			fn(typ, append([]byte(nil), line[6:]...))
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}

func readErr(resp *http.Response) string {
	var m map[string]string
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &m) == nil && m["error"] != "" {
		return m["error"]
	}
	return fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(b))
}
