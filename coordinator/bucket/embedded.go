package bucket

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/embedgw"
	"gopkg.in/yaml.v3"
)

// Credentials are the bucket's root credentials. For the embedded server they
// are generated at first start and kept in DIR/s3-credentials.yaml (0600).
type Credentials struct {
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
}

// EnsureCredentials loads DIR/s3-credentials.yaml, generating it on first start.
func EnsureCredentials(dir string) (Credentials, error) {
	path := filepath.Join(dir, "s3-credentials.yaml")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		c := Credentials{AccessKey: "SHAKEDOWN" + strings.ToUpper(randomHex(6)), SecretKey: randomHex(24)}
		out, _ := yaml.Marshal(c)
		hdr := "# Root credentials of the embedded S3 bucket. Keep secret: agents never need them.\n"
		if err := writeFileAtomic(path, append([]byte(hdr), out...), 0o600); err != nil {
			return Credentials{}, err
		}
		return c, nil
	}
	if err != nil {
		return Credentials{}, fmt.Errorf("read credentials: %w", err)
	}
	if err := checkPrivate(path); err != nil {
		return Credentials{}, err
	}
	var c Credentials
	if err := yaml.Unmarshal(b, &c); err != nil {
		return Credentials{}, fmt.Errorf("parse %s: %w", path, err)
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return Credentials{}, fmt.Errorf("%s: access_key and secret_key are required", path)
	}
	return c, nil
}

// checkPrivate refuses a secret file readable by group or others.
func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o: secrets must not be readable by group or others (chmod 600)", path, fi.Mode().Perm())
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

// EmbeddedConfig configures the embedded S3 server.
type EmbeddedConfig struct {
	// Dir is the coordinator's data directory (absolute or relative to the
	// working directory at call time). Objects live in DIR/objects/<bucket>/<key>
	// as plain files, their metadata in DIR/metadata (not "objects-meta": versitygw refuses a sidecar dir whose path string starts with the root).
	Dir string
	// Listen is host:port for the S3 endpoint; a concrete port is required.
	Listen string
	Creds  Credentials
	TLS    *TLSFiles
	Log    *slog.Logger
}

// Embedded is a running embedded S3 server.
type Embedded struct {
	Store *Store
	done  chan error
}

// StartEmbedded starts versitygw with its posix backend in this process and
// waits until the bucket answers, creating it if needed.
//
// The posix backend changes the process's working directory to DIR/objects
// and then resolves every object path relative to it, so the working
// directory must stay there while the server runs: callers must not rely on
// relative paths afterwards (the coordinator makes all its paths absolute
// first). Only one embedded server can run per process.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	root := filepath.Join(dir, "objects")
	metaDir := filepath.Join(dir, "metadata")
	for _, d := range []string{root, metaDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil || port == "" || port == "0" {
		return nil, fmt.Errorf("s3 listen address %q: want host:port with a fixed port", cfg.Listen)
	}
	sc, err := meta.NewSideCar(metaDir)
	if err != nil {
		return nil, fmt.Errorf("s3 metadata dir: %w", err)
	}
	be, err := posix.New(root, sc, posix.PosixOpts{SideCarDir: metaDir})
	if err != nil {
		return nil, fmt.Errorf("s3 posix backend: %w", err)
	}
	gw := &embedgw.Config{
		RootUserAccess:    cfg.Creds.AccessKey,
		RootUserSecret:    cfg.Creds.SecretKey,
		Region:            "us-east-1",
		Ports:             []string{cfg.Listen},
		MaxConnections:    250,
		MaxRequests:       100,
		MultipartMaxParts: 10000,
		Quiet:             true,
	}
	scheme := "http"
	var caPEM []byte
	if cfg.TLS != nil {
		gw.CertFile, gw.KeyFile = cfg.TLS.CertFile, cfg.TLS.KeyFile
		scheme = "https"
		caPEM = cfg.TLS.CertPEM
	}
	connectHost := host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		connectHost = "127.0.0.1"
	}
	store, err := NewStore(Endpoint{
		URL:                   scheme + "://" + net.JoinHostPort(connectHost, port),
		Region:                "us-east-1",
		Bucket:                DefaultBucket,
		AccessKey:             cfg.Creds.AccessKey,
		SecretKey:             cfg.Creds.SecretKey,
		CAPEM:                 caPEM,
		PublicHostFromRequest: true,
	})
	if err != nil {
		return nil, err
	}
	e := &Embedded{Store: store, done: make(chan error, 1)}
	go func() {
		err := embedgw.RunVersityGW(ctx, be, gw)
		be.Shutdown()
		e.done <- err
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-e.done:
			return nil, fmt.Errorf("embedded s3 server: %w", err)
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := store.EnsureBucket(pctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("embedded s3 server did not come up on %s: %w", cfg.Listen, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cfg.Log.Info("embedded s3 ready", "url", store.URL(), "bucket", store.Bucket(), "dir", root)
	return e, nil
}

// Wait blocks until the server stops (after its context ends) and returns its error.
func (e *Embedded) Wait() error { return <-e.done }
