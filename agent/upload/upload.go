// Package upload is the agent's uploader: it copies every result file into a
// local spool at once and drains the spool to the bucket in the background,
// so a run never blocks on the bucket and nothing is lost in an outage.
//
// The agent holds no bucket credentials. For each object it asks the
// coordinator (POST /api/v1/presign, boot token) for a presigned PUT whose
// signature covers the object's SHA-256 (x-amz-checksum-sha256), so the
// bucket refuses a body that does not match. After the PUT it reads the
// object's metadata back (presigned HEAD with x-amz-checksum-mode) and
// compares the stored SHA-256 and size; only then is the spool entry deleted.
// Failures are retried with jittered exponential backoff, capped.
package upload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrNotFound is returned by Get when the object does not exist.
var ErrNotFound = errors.New("object not found in bucket")

// ErrRejected is wrapped by Flush when entries were refused for good and
// remain in SpoolDir/rejected.
var ErrRejected = errors.New("uploads rejected")

// Config configures an Uploader.
type Config struct {
	// Coordinator is the coordinator's base URL, e.g. https://10.0.0.1:8443.
	Coordinator string
	// Token is the boot token (kernel command line shakedown.token=).
	Token string
	// HostID names this host; keys must be under runs/<HostID>/ or hosts/<HostID>/.
	HostID string
	// CAFingerprint pins the coordinator's certificate (hex SHA-256 of the
	// DER, "sha256:" prefix and colons allowed); CAPEM trusts a CA. Either,
	// both or neither (system roots).
	CAFingerprint string
	CAPEM         []byte
	// SpoolDir holds pending uploads; it survives a restart of the agent when
	// it is on persistent storage.
	SpoolDir string
	Log      *slog.Logger
	// MinBackoff and MaxBackoff bound the retry delay (defaults 500 ms, 30 s).
	MinBackoff, MaxBackoff time.Duration
	// GetLimit bounds what Get reads (default 64 MiB).
	GetLimit int64
	// HTTPClient replaces the client built from CAFingerprint/CAPEM.
	HTTPClient *http.Client
}

// Status is a snapshot for status pages.
type Status struct {
	Pending      int
	PendingBytes int64
	Rejected     int
	Uploaded     int
	// LastError is the last failure, cleared by the next success.
	LastError   string
	LastSuccess time.Time
}

// Uploader spools and uploads objects. Enqueue may be called from any
// goroutine; exactly one Run drains the spool.
type Uploader struct {
	cfg      Config
	hc       *http.Client
	queue    string
	rejected string

	mu       sync.Mutex
	seq      uint64
	entries  []entry // pending, oldest first
	inflight uint64  // seq being uploaded, 0 if none
	nRej     int
	uploaded int
	lastErr  string
	lastOK   time.Time
	changed  chan struct{} // closed and replaced on every state change
	wake     chan struct{} // buffered 1: a new entry arrived
}

// New opens (or creates) the spool and loads what an earlier agent left in it.
func New(cfg Config) (*Uploader, error) {
	if cfg.Coordinator == "" || cfg.HostID == "" || cfg.SpoolDir == "" {
		return nil, errors.New("upload: Coordinator, HostID and SpoolDir are required")
	}
	cfg.Coordinator = strings.TrimRight(cfg.Coordinator, "/")
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.GetLimit <= 0 {
		cfg.GetLimit = 64 << 20
	}
	u := &Uploader{
		cfg:      cfg,
		hc:       cfg.HTTPClient,
		queue:    filepath.Join(cfg.SpoolDir, queueDir),
		rejected: filepath.Join(cfg.SpoolDir, rejectedDir),
		changed:  make(chan struct{}),
		wake:     make(chan struct{}, 1),
	}
	if u.hc == nil {
		hc, err := newHTTPClient(cfg.CAPEM, cfg.CAFingerprint)
		if err != nil {
			return nil, err
		}
		u.hc = hc
	}
	for _, d := range []string{u.queue, u.rejected} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("upload: create spool: %w", err)
		}
	}
	entries, seq, err := scanQueue(u.queue, u.rejected)
	if err != nil {
		return nil, err
	}
	u.entries, u.seq = entries, seq
	if rdes, err := os.ReadDir(u.rejected); err == nil {
		for _, de := range rdes {
			if strings.HasSuffix(de.Name(), ".json") {
				u.nRej++
			}
		}
	}
	if len(entries) > 0 {
		cfg.Log.Info("upload spool has pending objects from before", "count", len(entries))
	}
	return u, nil
}

// Enqueue copies the file at path into the spool for upload as key and
// returns once the copy is durable; it never waits for the bucket. A later
// Enqueue of the same key supersedes a copy still waiting (e.g. each
// checkpoint.json). The caller may change or delete path afterwards.
func (u *Uploader) Enqueue(key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("upload: enqueue %s: %w", key, err)
	}
	defer f.Close()
	return u.enqueue(key, f)
}

// EnqueueBytes is Enqueue for content in memory.
func (u *Uploader) EnqueueBytes(key string, data []byte) error {
	return u.enqueue(key, bytes.NewReader(data))
}

func (u *Uploader) enqueue(key string, r io.Reader) error {
	if key == "" || strings.HasPrefix(key, "/") {
		return fmt.Errorf("upload: enqueue: invalid key %q", key)
	}
	tmp, sum, size, err := writeSpoolCopy(u.queue, r)
	if err != nil {
		return fmt.Errorf("upload: enqueue %s: %w", key, err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seq++
	e := entry{seq: u.seq, Manifest: Manifest{Key: key, SHA256: sum, Size: size, EnqueuedAt: time.Now().UTC()}}
	data := filepath.Join(u.queue, e.name()+".data")
	if err := os.Rename(tmp, data); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("upload: enqueue %s: %w", key, err)
	}
	if err := writeJSONFile(filepath.Join(u.queue, e.name()+".json"), e.Manifest); err != nil {
		os.Remove(data)
		return fmt.Errorf("upload: enqueue %s: %w", key, err)
	}
	if err := syncDir(u.queue); err != nil {
		return fmt.Errorf("upload: enqueue %s: sync spool: %w", key, err)
	}
	// Supersede older waiting copies of the key; one in flight finishes first,
	// and this newer one is uploaded after it, so the newest content wins.
	kept := u.entries[:0]
	for _, old := range u.entries {
		if old.Key == key && old.seq != u.inflight {
			u.removeFiles(old)
			continue
		}
		kept = append(kept, old)
	}
	u.entries = append(kept, e)
	u.notifyLocked()
	select {
	case u.wake <- struct{}{}:
	default:
	}
	return nil
}

func (u *Uploader) removeFiles(e entry) {
	os.Remove(filepath.Join(u.queue, e.name()+".json")) // manifest first: data alone is garbage
	os.Remove(filepath.Join(u.queue, e.name()+".data"))
}

func (u *Uploader) notifyLocked() {
	close(u.changed)
	u.changed = make(chan struct{})
}

// Pending returns the number of objects waiting and their total size.
func (u *Uploader) Pending() (n int, bytes int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, e := range u.entries {
		bytes += e.Size
	}
	return len(u.entries), bytes
}

// Status returns a snapshot for status pages.
func (u *Uploader) Status() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := Status{Pending: len(u.entries), Rejected: u.nRej, Uploaded: u.uploaded, LastError: u.lastErr, LastSuccess: u.lastOK}
	for _, e := range u.entries {
		s.PendingBytes += e.Size
	}
	return s
}

// Flush waits until the spool is empty or ctx ends. It returns an error
// wrapping ErrRejected when entries were refused for good (they stay in
// SpoolDir/rejected), and ctx's error, with what is still pending, when ctx
// ends first. Run must be running for the spool to drain.
func (u *Uploader) Flush(ctx context.Context) error {
	for {
		u.mu.Lock()
		n, rej, ch, last := len(u.entries), u.nRej, u.changed, u.lastErr
		u.mu.Unlock()
		if n == 0 {
			if rej > 0 {
				return fmt.Errorf("upload: %d object(s) refused, kept in %s: %w", rej, u.rejected, ErrRejected)
			}
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if last != "" {
				return fmt.Errorf("upload: %d object(s) still pending (last error: %s): %w", n, last, ctx.Err())
			}
			return fmt.Errorf("upload: %d object(s) still pending: %w", n, ctx.Err())
		}
	}
}

// Run drains the spool until ctx ends. It returns ctx's error.
func (u *Uploader) Run(ctx context.Context) error {
	failures := 0
	for {
		u.mu.Lock()
		var e entry
		ok := len(u.entries) > 0
		if ok {
			e = u.entries[0]
			u.inflight = e.seq
		}
		u.mu.Unlock()
		if !ok {
			select {
			case <-u.wake:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		start := time.Now()
		err := u.upload(ctx, e)
		if ctx.Err() != nil {
			u.setInflight(0)
			return ctx.Err()
		}
		var refused *refusedError
		switch {
		case err == nil:
			failures = 0
			u.done(e, "")
			u.cfg.Log.Info("uploaded", "key", e.Key, "size", e.Size, "duration_seconds", time.Since(start).Seconds())
			continue
		case errors.As(err, &refused):
			failures = 0
			u.cfg.Log.Error("upload refused for good; kept in spool/rejected", "key", e.Key, "err", err)
			u.done(e, err.Error())
			continue
		}
		failures++
		wait := backoff(failures, u.cfg.MinBackoff, u.cfg.MaxBackoff)
		var ra *retryAfterError
		if errors.As(err, &ra) && ra.wait > wait {
			wait = ra.wait
		}
		u.mu.Lock()
		u.inflight = 0
		u.lastErr = err.Error()
		u.notifyLocked()
		u.mu.Unlock()
		u.cfg.Log.Warn("upload failed; will retry", "key", e.Key, "attempt", failures, "retry_in_seconds", wait.Seconds(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

func (u *Uploader) setInflight(seq uint64) {
	u.mu.Lock()
	u.inflight = seq
	u.mu.Unlock()
}

// done removes an entry from the queue: uploaded (reason "") or rejected.
func (u *Uploader) done(e entry, reason string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if reason == "" {
		u.removeFiles(e)
		u.uploaded++
		u.lastErr = ""
		u.lastOK = time.Now()
	} else {
		e.Rejected = reason
		name := e.name()
		if err := os.Rename(filepath.Join(u.queue, name+".data"), filepath.Join(u.rejected, name+".data")); err != nil {
			u.cfg.Log.Error("move rejected upload", "key", e.Key, "err", err)
		}
		if err := writeJSONFile(filepath.Join(u.rejected, name+".json"), e.Manifest); err != nil {
			u.cfg.Log.Error("move rejected upload", "key", e.Key, "err", err)
		}
		os.Remove(filepath.Join(u.queue, name+".json"))
		u.nRej++
		u.lastErr = reason
	}
	for i := range u.entries {
		if u.entries[i].seq == e.seq {
			u.entries = append(u.entries[:i], u.entries[i+1:]...)
			break
		}
	}
	u.inflight = 0
	u.notifyLocked()
}

// backoff is min(max, base*2^(n-1)) scaled by a random factor in [0.5, 1).
func backoff(n int, base, maxWait time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	return time.Duration(float64(d) * (0.5 + rand.Float64()/2))
}

// upload puts one spooled object and verifies it.
func (u *Uploader) upload(ctx context.Context, e entry) error {
	path := filepath.Join(u.queue, e.name()+".data")
	f, err := os.Open(path)
	if err != nil {
		return &refusedError{msg: fmt.Sprintf("spool data of %s: %v", e.Key, err)}
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() != e.Size {
		// A truncated or grown spool file would fail every PUT forever.
		return &refusedError{msg: fmt.Sprintf("spool data of %s changed on disk (size %v, manifest %d, %v)", e.Key, sizeOf(fi), e.Size, err)}
	}
	put, err := u.presign(ctx, http.MethodPut, e.Key, e.SHA256, e.Size)
	if err != nil {
		return err
	}
	resp, err := u.do(ctx, put, f, e.Size)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		msg := s3Error(resp)
		resp.Body.Close()
		// A refused checksum with intact spool data is the bucket's problem
		// (retry); with changed spool data it is ours, and permanent.
		if sum, _, herr := hashFile(path); herr == nil && sum != e.SHA256 {
			return &refusedError{msg: fmt.Sprintf("PUT %s: spooled data changed on disk (sha256 %s, manifest %s): %s", e.Key, sum, e.SHA256, msg)}
		}
		return fmt.Errorf("PUT %s: %s", e.Key, msg)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return u.verify(ctx, e)
}

func sizeOf(fi os.FileInfo) int64 {
	if fi == nil {
		return -1
	}
	return fi.Size()
}

// verify reads the object's metadata back and compares SHA-256 and size. A
// bucket that stores no checksum gets the object read back in full and hashed.
func (u *Uploader) verify(ctx context.Context, e entry) error {
	head, err := u.presign(ctx, http.MethodHead, e.Key, "", 0)
	if err != nil {
		return err
	}
	resp, err := u.do(ctx, head, nil, 0)
	if err != nil {
		return fmt.Errorf("verify %s: %w", e.Key, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("verify %s: HEAD said %d", e.Key, resp.StatusCode)
	}
	if resp.ContentLength != e.Size {
		return fmt.Errorf("verify %s: stored size %d, want %d", e.Key, resp.ContentLength, e.Size)
	}
	want, _ := hex.DecodeString(e.SHA256)
	if got := resp.Header.Get("x-amz-checksum-sha256"); got != "" {
		if got != base64.StdEncoding.EncodeToString(want) {
			return fmt.Errorf("verify %s: stored sha256 %s, want %s", e.Key, got, base64.StdEncoding.EncodeToString(want))
		}
		return nil
	}
	// No stored checksum (an S3 without checksum support): read it back.
	get, err := u.presign(ctx, http.MethodGet, e.Key, "", 0)
	if err != nil {
		return err
	}
	resp, err = u.do(ctx, get, nil, 0)
	if err != nil {
		return fmt.Errorf("verify %s: %w", e.Key, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("verify %s: GET said %d", e.Key, resp.StatusCode)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return fmt.Errorf("verify %s: read back: %w", e.Key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
		return fmt.Errorf("verify %s: read back sha256 %s, want %s", e.Key, got, e.SHA256)
	}
	return nil
}

// Get reads an object (e.g. hosts/<host>/spec.yaml or an earlier run's
// checkpoint) through a presigned GET. It returns an error wrapping
// ErrNotFound when the object does not exist.
func (u *Uploader) Get(ctx context.Context, key string) ([]byte, error) {
	p, err := u.presign(ctx, http.MethodGet, key, "", 0)
	if err != nil {
		return nil, fmt.Errorf("upload: get %s: %w", key, err)
	}
	resp, err := u.do(ctx, p, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("upload: get %s: %w", key, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("upload: get %s: %w", key, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("upload: get %s: %s", key, s3Error(resp))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, u.cfg.GetLimit+1))
	if err != nil {
		return nil, fmt.Errorf("upload: get %s: %w", key, err)
	}
	if int64(len(b)) > u.cfg.GetLimit {
		return nil, fmt.Errorf("upload: get %s: larger than %d bytes", key, u.cfg.GetLimit)
	}
	return b, nil
}
