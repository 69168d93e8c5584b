package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// Token files under the coordinator's data directory.
const (
	// FleetTokenFile holds one token, generated at first start, that any
	// host may use for its own prefixes (the host id is taken from the
	// request). Convenient for one PXE command line for every host.
	FleetTokenFile = "fleet-token"
	// HostTokensFile optionally maps host ids to their own tokens:
	//
	//	hosts:
	//	  4c4c4544-0042-3510-8052-b4c04f4e3732: 9f2c...
	//
	// A host token is only valid for its host, and a host listed here cannot
	// be used with the fleet token. The file is re-read when it changes.
	HostTokensFile = "host-tokens.yaml"
)

// Identity is who a token belongs to.
type Identity struct {
	// Host is the only host the token is valid for; empty for the fleet token.
	Host string
	// Name identifies the token in logs and rate limits without revealing it.
	Name string
}

// Tokens authenticates boot tokens.
type Tokens struct {
	// Log, when set, reports a host token file that failed to reload.
	Log   *slog.Logger
	dir   string
	fleet [32]byte

	mu       sync.Mutex
	hostMod  time.Time
	hostSize int64
	hostIno  uint64
	byHash   map[[32]byte]string // token hash -> host
	perHost  map[string]bool
}

// GenerateToken returns 32 random bytes as hex.
func GenerateToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

// LoadTokens reads DIR/fleet-token (creating it, mode 0600, on first start)
// and DIR/host-tokens.yaml (optional). It returns the fleet token too, so the
// caller can print where to find it.
func LoadTokens(dir string) (*Tokens, error) {
	path := filepath.Join(dir, FleetTokenFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		tok := GenerateToken()
		if err := os.WriteFile(path+".tmp", []byte(tok+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write fleet token: %w", err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			return nil, fmt.Errorf("write fleet token: %w", err)
		}
		b = []byte(tok)
	} else if err != nil {
		return nil, fmt.Errorf("read fleet token: %w", err)
	}
	if err := checkPrivate(path); err != nil {
		return nil, err
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 {
		return nil, fmt.Errorf("%s: token shorter than 16 characters", path)
	}
	t := &Tokens{dir: dir, fleet: sha256.Sum256([]byte(tok))}
	if err := t.reloadHosts(); err != nil {
		return nil, err
	}
	return t, nil
}

func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o: tokens must not be readable by group or others (chmod 600)", path, fi.Mode().Perm())
	}
	return nil
}

// reloadHosts re-reads the host token file when its size or mtime changed.
// Callers hold t.mu or own t exclusively.
func (t *Tokens) reloadHosts() error {
	path := filepath.Join(t.dir, HostTokensFile)
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		t.byHash, t.perHost, t.hostMod, t.hostSize, t.hostIno = nil, nil, time.Time{}, 0, 0
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	ino := inode(fi)
	if fi.ModTime().Equal(t.hostMod) && fi.Size() == t.hostSize && ino == t.hostIno && t.byHash != nil {
		return nil
	}
	if err := checkPrivate(path); err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	var f struct {
		Hosts map[string]string `yaml:"hosts"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	byHash := map[[32]byte]string{}
	perHost := map[string]bool{}
	for host, tok := range f.Hosts {
		if !ValidHostID(host) {
			return fmt.Errorf("%s: invalid host id %q", path, host)
		}
		if len(strings.TrimSpace(tok)) < 16 {
			return fmt.Errorf("%s: token of host %q shorter than 16 characters", path, host)
		}
		byHash[sha256.Sum256([]byte(strings.TrimSpace(tok)))] = host
		perHost[host] = true
	}
	t.byHash, t.perHost, t.hostMod, t.hostSize, t.hostIno = byHash, perHost, fi.ModTime(), fi.Size(), ino
	return nil
}

// inode tells a file replaced by rename from the old one even when size and
// mtime match.
func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// Authenticate maps a presented token to its identity.
func (t *Tokens) Authenticate(token string) (Identity, bool) {
	if token == "" {
		return Identity{}, false
	}
	h := sha256.Sum256([]byte(token))
	name := "token:" + hex.EncodeToString(h[:4])
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.reloadHosts(); err != nil && t.Log != nil {
		// Keep the last good table: a broken edit must not lock every host out.
		t.Log.Error("host tokens not reloaded; keeping the previous table", "err", err)
	}
	if host, ok := t.byHash[h]; ok {
		return Identity{Host: host, Name: name}, true
	}
	if h == t.fleet {
		return Identity{Name: "fleet"}, true
	}
	return Identity{}, false
}

// HasOwnToken reports whether host has an entry in the host token file.
func (t *Tokens) HasOwnToken(host string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.perHost[host]
}

// AddHostToken generates a token for host in DIR/host-tokens.yaml (created
// with mode 0600) and returns it. An existing entry is replaced only when
// rotate is set. A running coordinator picks the change up on the next request.
func AddHostToken(dir, host string, rotate bool) (string, error) {
	if !ValidHostID(host) {
		return "", fmt.Errorf("invalid host id %q", host)
	}
	path := filepath.Join(dir, HostTokensFile)
	var f struct {
		Hosts map[string]string `yaml:"hosts"`
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := checkPrivate(path); err != nil {
			return "", err
		}
		if err := yaml.Unmarshal(b, &f); err != nil {
			return "", fmt.Errorf("parse %s: %w", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if f.Hosts == nil {
		f.Hosts = map[string]string{}
	}
	if _, ok := f.Hosts[host]; ok && !rotate {
		return "", fmt.Errorf("host %q already has a token in %s (rotate to replace it)", host, path)
	}
	tok := GenerateToken()
	f.Hosts[host] = tok
	out, err := yaml.Marshal(f)
	if err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return tok, nil
}
