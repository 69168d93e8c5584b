package bucket

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// TLSFiles are the coordinator's self-signed certificate and key under the
// data directory. One certificate serves both the embedded S3 endpoint and the
// coordinator's own API, so an agent pins a single fingerprint.
type TLSFiles struct {
	CertFile string
	KeyFile  string
	// CertPEM is the certificate as PEM, for GET /api/v1/ca.
	CertPEM []byte
	// Fingerprint is the SHA-256 of the certificate's DER bytes, lower-case hex.
	Fingerprint string
	// Cert is the parsed pair, ready for a tls.Config.
	Cert tls.Certificate
}

// Fingerprint returns the lower-case hex SHA-256 of a DER certificate: the
// value agents pin (shakedown.ca=sha256:<hex> on the kernel command line).
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// EnsureTLS loads DIR/tls/cert.pem and key.pem, generating a self-signed
// ECDSA P-256 certificate on first start. extraSANs (host names or IP
// addresses) are added to the loopback names, the host name and every local
// interface address when the certificate is generated; an existing certificate
// is never replaced, since agents may have pinned it.
func EnsureTLS(dir string, extraSANs []string) (*TLSFiles, error) {
	tdir := filepath.Join(dir, "tls")
	if err := os.MkdirAll(tdir, 0o700); err != nil {
		return nil, fmt.Errorf("create tls dir: %w", err)
	}
	certFile := filepath.Join(tdir, "cert.pem")
	keyFile := filepath.Join(tdir, "key.pem")
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	switch {
	case certErr == nil && keyErr == nil:
	case errors.Is(certErr, os.ErrNotExist) && errors.Is(keyErr, os.ErrNotExist):
		if err := generateCert(certFile, keyFile, extraSANs); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("tls: need both %s and %s (cert: %v, key: %v); remove the leftover one to regenerate", certFile, keyFile, certErr, keyErr)
	}
	return LoadTLS(certFile, keyFile)
}

// LoadTLS reads a certificate/key pair and computes its fingerprint.
func LoadTLS(certFile, keyFile string) (*TLSFiles, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load tls pair: %w", err)
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	return &TLSFiles{
		CertFile:    certFile,
		KeyFile:     keyFile,
		CertPEM:     certPEM,
		Fingerprint: Fingerprint(pair.Certificate[0]),
		Cert:        pair,
	}, nil
}

func generateCert(certFile, keyFile string, extraSANs []string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("generate serial: %w", err)
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "shakedown coordinator " + host, Organization: []string{"shakedown"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	names := append([]string{"localhost", "127.0.0.1", "::1"}, extraSANs...)
	if host != "" {
		names = append(names, host)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLinkLocalUnicast() {
				names = append(names, ipn.IP.String())
			}
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	if err := writeFileAtomic(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// writeFileAtomic writes data to a temporary file with the given mode, syncs
// it and renames it into place, so a crash never leaves a half-written secret.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
