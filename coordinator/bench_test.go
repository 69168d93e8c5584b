package main

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shakedown/shakedown/coordinator/bucket"
)

// BenchmarkUploadVsS3cmd uploads one file of SHAKEDOWN_BENCH_MB (default 128)
// MiB to the embedded bucket over TLS, through the agent's uploader (spool
// copy, presign, checksummed PUT, HEAD verify) and with `s3cmd put` (what an
// operator would otherwise run), and reports both in MB/s.
func BenchmarkUploadVsS3cmd(b *testing.B) {
	mb := 128
	if v, err := strconv.Atoi(os.Getenv("SHAKEDOWN_BENCH_MB")); err == nil && v > 0 {
		mb = v
	}
	dir := b.TempDir()
	c := startCoordinator(b, dir)
	src := filepath.Join(b.TempDir(), "blob")
	data := make([]byte, mb<<20)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		b.Fatal(err)
	}
	u := newUploader(b, c, "bench", b.TempDir())
	runUploader(b, u)
	var ours, theirs time.Duration
	_, s3cmdErr := exec.LookPath("s3cmd")
	creds, _ := bucket.EnsureCredentials(dir)
	hostport := strings.TrimPrefix(c.s3, "https://")
	cfg := filepath.Join(b.TempDir(), "s3cfg")
	os.WriteFile(cfg, []byte("[default]\naccess_key = "+creds.AccessKey+"\nsecret_key = "+creds.SecretKey+
		"\nhost_base = "+hostport+"\nhost_bucket = "+hostport+"\nuse_https = True\nca_certs_file = "+
		filepath.Join(dir, "tls", "cert.pem")+"\nbucket_location = us-east-1\nsignature_v2 = False\n"), 0o600)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := u.Enqueue("runs/bench/r"+strconv.Itoa(i)+"/blob", src); err != nil {
			b.Fatal(err)
		}
		if err := flush(u, 10*time.Minute); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
		if s3cmdErr == nil {
			start = time.Now()
			out, err := exec.Command("s3cmd", "-c", cfg, "--no-progress", "put", src, "s3://shakedown/runs/bench/s3cmd"+strconv.Itoa(i)).CombinedOutput()
			if err != nil {
				b.Fatalf("s3cmd put: %v\n%s", err, out)
			}
			theirs += time.Since(start)
		}
	}
	b.StopTimer()
	mbps := func(d time.Duration) float64 { return float64(b.N) * float64(len(data)) / 1e6 / d.Seconds() }
	b.ReportMetric(mbps(ours), "uploader_MB/s")
	if s3cmdErr == nil {
		b.ReportMetric(mbps(theirs), "s3cmd_MB/s")
		b.ReportMetric(mbps(ours)/mbps(theirs), "ratio")
	}
}
