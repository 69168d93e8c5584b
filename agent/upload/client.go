package upload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// presigned mirrors the coordinator's answer to POST /api/v1/presign.
type presigned struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

type presignBody struct {
	Host   string `json:"host"`
	Key    string `json:"key"`
	Method string `json:"method"`
	SHA256 string `json:"sha256,omitempty"`
	Size   *int64 `json:"size,omitempty"`
}

// refusedError is a permanent refusal (the coordinator said 400/403, or
// the spooled data no longer matches its manifest): retrying cannot help.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// retryAfterError carries the coordinator's Retry-After on 429.
type retryAfterError struct {
	wait time.Duration
	msg  string
}

func (e *retryAfterError) Error() string { return e.msg }

// newHTTPClient trusts the coordinator by pinned certificate fingerprint
// (SHA-256 of the DER, hex, optional "sha256:" prefix), by a CA PEM, or, when
// neither is given, by the system roots. A pinned fingerprint is accepted
// whatever the certificate's names; any other certificate must verify against
// the system roots plus CAPEM for the dialled name (an external S3 endpoint).
func newHTTPClient(caPEM []byte, pin string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if len(caPEM) > 0 && !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("upload: CA PEM holds no certificate")
	}
	pin = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(pin), "sha256:"))
	pin = strings.ReplaceAll(pin, ":", "")
	if pin != "" {
		if b, err := hex.DecodeString(pin); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("upload: CA fingerprint %q: want 64 hex digits", pin)
		}
	}
	tlsCfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if pin != "" {
		tlsCfg.InsecureSkipVerify = true // replaced by VerifyConnection below
		tlsCfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no peer certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if hex.EncodeToString(sum[:]) == pin {
				return nil
			}
			opts := x509.VerifyOptions{Roots: pool, DNSName: cs.ServerName, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
				return fmt.Errorf("certificate is neither the pinned one (sha256:%s) nor trusted: %w", pin, err)
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 nil, // the coordinator and the bucket are on the provisioning network
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       60 * time.Second,
	}
	return &http.Client{Transport: tr}, nil
}

// NewHTTPClient returns a client that trusts the coordinator as the uploader
// does (pinned fingerprint, CA PEM, or the system roots), for the agent's
// other calls to the coordinator's API (GET /api/v1/info).
func NewHTTPClient(caPEM []byte, pin string) (*http.Client, error) {
	return newHTTPClient(caPEM, pin)
}

// presign asks the coordinator for a presigned request.
func (u *Uploader) presign(ctx context.Context, method, key, sum string, size int64) (presigned, error) {
	body := presignBody{Host: u.cfg.HostID, Key: key, Method: method}
	if method == http.MethodPut {
		body.SHA256, body.Size = sum, &size
	}
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.cfg.Coordinator+"/api/v1/presign", bytes.NewReader(b))
	if err != nil {
		return presigned{}, &refusedError{msg: "presign: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+u.cfg.Token)
	resp, err := u.hc.Do(req)
	if err != nil {
		return presigned{}, fmt.Errorf("presign %s %s: %w", method, key, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		var p presigned
		if err := json.Unmarshal(raw, &p); err != nil || p.URL == "" {
			return presigned{}, fmt.Errorf("presign %s %s: bad answer %q", method, key, short(raw))
		}
		return p, nil
	}
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	if e.Error == "" {
		e.Error = short(raw)
	}
	msg := fmt.Sprintf("presign %s %s: coordinator said %d: %s", method, key, resp.StatusCode, e.Error)
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusForbidden:
		// 401 is not here: a token the coordinator forgot (data dir lost)
		// is fixed on the coordinator, and the uploads must then resume.
		return presigned{}, &refusedError{msg: msg}
	case http.StatusTooManyRequests:
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return presigned{}, &retryAfterError{wait: time.Duration(max(secs, 1)) * time.Second, msg: msg}
	}
	return presigned{}, errors.New(msg)
}

// do sends a presigned request with its signed headers.
func (u *Uploader) do(ctx context.Context, p presigned, body io.Reader, size int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Method, err)
	}
	if body != nil {
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	resp, err := u.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL, signature included
		}
		return nil, fmt.Errorf("%s %s: %w", p.Method, redact(p.URL), err)
	}
	return resp, nil
}

// s3Error extracts <Code> and <Message> from an S3 error body.
func s3Error(resp *http.Response) string {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	code := between(string(raw), "<Code>", "</Code>")
	msg := between(string(raw), "<Message>", "</Message>")
	if code == "" && msg == "" {
		return fmt.Sprintf("%d %s", resp.StatusCode, short(raw))
	}
	return fmt.Sprintf("%d %s: %s", resp.StatusCode, code, msg)
}

func between(s, a, b string) string {
	_, rest, ok := strings.Cut(s, a)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, b)
	return v
}

func short(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// redact drops the query (the signature) from a URL for logs and errors.
func redact(u string) string {
	s, _, _ := strings.Cut(u, "?")
	return s
}
