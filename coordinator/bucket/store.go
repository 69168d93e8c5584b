// Package bucket is the coordinator's view of the results bucket: the embedded
// S3 server (versitygw, posix backend, same process) or an external S3 endpoint
// (Ceph RGW, MinIO, AWS), and a Store that presigns, lists and reads objects in
// it with the bucket's root credentials. Agents never see those credentials;
// they get presigned URLs through coordinator/api.
package bucket

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// DefaultBucket is the bucket name of the embedded server.
const DefaultBucket = "shakedown"

// ErrNotFound is returned when an object does not exist.
var ErrNotFound = errors.New("object not found")

// Endpoint says where the bucket is and how to reach it.
type Endpoint struct {
	// URL is the S3 endpoint, e.g. https://10.0.0.1:9000. Path-style addressing.
	URL       string
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	// CAPEM, when set, is the only trust root for the endpoint's certificate
	// (the embedded server's self-signed certificate, or a private CA).
	CAPEM []byte
	// PublicHostFromRequest, for the embedded server listening on every
	// interface: presigned URLs use the host name the agent used to reach the
	// coordinator (with the S3 port), since that is an address the agent can
	// reach. False for external endpoints, whose URL is fixed.
	PublicHostFromRequest bool
}

// Store reads, lists and presigns objects in one bucket.
type Store struct {
	ep      Endpoint
	base    *url.URL
	tr      *http.Transport
	client  *minio.Client // for the endpoint's own host
	mu      sync.Mutex
	signers map[string]*minio.Client // per public host, for presigning only
}

// NewStore builds a Store. It does no network I/O.
func NewStore(ep Endpoint) (*Store, error) {
	if ep.Bucket == "" {
		ep.Bucket = DefaultBucket
	}
	if ep.Region == "" {
		ep.Region = "us-east-1"
	}
	u, err := url.Parse(ep.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("bucket endpoint %q: want http(s)://host[:port]", ep.URL)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(ep.CAPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ep.CAPEM) {
			return nil, fmt.Errorf("bucket endpoint CA: no certificate in PEM")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	s := &Store{ep: ep, base: u, tr: tr, signers: map[string]*minio.Client{}}
	s.client, err = s.newClient(u.Host)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) newClient(host string) (*minio.Client, error) {
	c, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(s.ep.AccessKey, s.ep.SecretKey, ""),
		Secure:       s.base.Scheme == "https",
		Region:       s.ep.Region, // set, so presigning never asks the server for the location
		BucketLookup: minio.BucketLookupPath,
		Transport:    s.tr,
		// Checksums are sent as trailers (required by versitygw for checksummed puts).
		TrailingHeaders: true,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", host, err)
	}
	return c, nil
}

// Bucket is the bucket name.
func (s *Store) Bucket() string { return s.ep.Bucket }

// URL is the endpoint URL.
func (s *Store) URL() string { return s.ep.URL }

// Client is the root-credential minio client (for tests and tools).
func (s *Store) Client() *minio.Client { return s.client }

// EnsureBucket creates the bucket when it does not exist.
func (s *Store) EnsureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.ep.Bucket)
	if err != nil {
		return fmt.Errorf("check bucket %s: %w", s.ep.Bucket, err)
	}
	if ok {
		return nil
	}
	if err := s.client.MakeBucket(ctx, s.ep.Bucket, minio.MakeBucketOptions{Region: s.ep.Region}); err != nil {
		return fmt.Errorf("create bucket %s: %w", s.ep.Bucket, err)
	}
	return nil
}

// Ping checks that the bucket answers (for health checks).
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.ep.Bucket)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", s.ep.Bucket, err)
	}
	if !ok {
		return fmt.Errorf("bucket %s does not exist", s.ep.Bucket)
	}
	return nil
}

// Presigned is a presigned request: the agent sends Method to URL with exactly
// Headers (they are part of the signature) before Expires.
type Presigned struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Expires time.Time         `json:"expires_at"`
}

// PresignRequest describes what to presign.
type PresignRequest struct {
	Method string // PUT, GET or HEAD
	Key    string
	// SHA256 (hex) is required for PUT: it is signed into the request as
	// x-amz-checksum-sha256, so the server refuses a body that does not match.
	SHA256 string
	// PublicHost is the host (no port) the agent reached the coordinator at;
	// used only when the endpoint has PublicHostFromRequest.
	PublicHost string
	TTL        time.Duration
}

// Presign signs one request.
func (s *Store) Presign(ctx context.Context, r PresignRequest) (Presigned, error) {
	c := s.client
	if s.ep.PublicHostFromRequest && r.PublicHost != "" {
		host := net.JoinHostPort(strings.Trim(r.PublicHost, "[]"), s.base.Port())
		if s.base.Port() == "" {
			host = r.PublicHost
		}
		var err error
		if c, err = s.signer(host); err != nil {
			return Presigned{}, err
		}
	}
	hdr := http.Header{}
	switch r.Method {
	case http.MethodPut:
		sum, err := hex.DecodeString(r.SHA256)
		if err != nil || len(sum) != 32 {
			return Presigned{}, fmt.Errorf("presign PUT: sha256 must be 64 hex digits")
		}
		hdr.Set("x-amz-checksum-sha256", base64.StdEncoding.EncodeToString(sum))
		hdr.Set("x-amz-sdk-checksum-algorithm", "SHA256")
	case http.MethodHead:
		// The agent verifies an upload by reading back the stored checksum.
		hdr.Set("x-amz-checksum-mode", "ENABLED")
	case http.MethodGet:
	default:
		return Presigned{}, fmt.Errorf("presign: method %q not allowed", r.Method)
	}
	now := time.Now()
	u, err := c.PresignHeader(ctx, r.Method, s.ep.Bucket, r.Key, r.TTL, nil, hdr)
	if err != nil {
		return Presigned{}, fmt.Errorf("presign %s %s: %w", r.Method, r.Key, err)
	}
	out := Presigned{Method: r.Method, URL: u.String(), Headers: map[string]string{}, Expires: now.Add(r.TTL).UTC()}
	for k := range hdr {
		out.Headers[strings.ToLower(k)] = hdr.Get(k)
	}
	return out, nil
}

func (s *Store) signer(host string) (*minio.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.signers[host]; ok {
		return c, nil
	}
	if len(s.signers) > 64 { // bounded: hosts come from requests
		s.signers = map[string]*minio.Client{}
	}
	c, err := s.newClient(host)
	if err != nil {
		return nil, err
	}
	s.signers[host] = c
	return c, nil
}

// Object is one listed object.
type Object struct {
	Key          string
	Size         int64
	LastModified time.Time
}

// List lists every object under prefix (recursively).
func (s *Store) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	for o := range s.client.ListObjects(ctx, s.ep.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, o.Err)
		}
		out = append(out, Object{Key: o.Key, Size: o.Size, LastModified: o.LastModified})
	}
	return out, nil
}

// Get reads a whole object of at most limit bytes.
func (s *Store) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	rc, _, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", key, limit)
	}
	return b, nil
}

// Open streams an object; the caller closes it. The size is -1 if unknown.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	obj, err := s.client.GetObject(ctx, s.ep.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, 0, fmt.Errorf("get %s: %w", key, ErrNotFound)
		}
		return nil, 0, fmt.Errorf("get %s: %w", key, err)
	}
	return obj, st.Size, nil
}
