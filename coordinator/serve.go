package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/version"
	"github.com/shakedown/shakedown/coordinator/api"
	"github.com/shakedown/shakedown/coordinator/bucket"
	"github.com/shakedown/shakedown/coordinator/dashboard"
	"github.com/shakedown/shakedown/coordinator/iperf"
)

type serveFlags struct {
	data       string
	listen     string
	s3Listen   string
	externalS3 string
	tlsSANs    string
	plainHTTP  bool
	ttl        time.Duration
	rate       float64
	burst      int
	logLevel   string
	iperf      string
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.data, "data", "", "data directory: certificate, tokens, credentials and the embedded bucket (required)")
	fs.StringVar(&f.listen, "listen", ":8443", "address of the dashboard and the agent API (HTTPS)")
	fs.StringVar(&f.s3Listen, "s3-listen", ":9000", "address of the embedded S3 endpoint (HTTPS); a fixed port")
	fs.StringVar(&f.externalS3, "external-s3", "", "YAML config of an external S3 endpoint to use instead of the embedded one")
	fs.StringVar(&f.tlsSANs, "tls-san", "", "extra comma-separated names/IPs for the certificate generated at first start")
	fs.BoolVar(&f.plainHTTP, "plain-http", false, "serve the dashboard and API over plain HTTP (behind a TLS proxy only: boot tokens travel in it)")
	fs.DurationVar(&f.ttl, "presign-ttl", 15*time.Minute, "lifetime of presigned URLs")
	fs.Float64Var(&f.rate, "rate", 20, "presign requests per second allowed per token (negative: unlimited)")
	fs.IntVar(&f.burst, "burst", 200, "presign request burst allowed per token")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.iperf, "iperf-listen", "", "iperf3 server for the agents' Network stage: ADDR:PORT, or off (default: the --listen host, port 5201)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if f.data == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "serve: --data DIR is required and no positional arguments are accepted")
		fs.Usage()
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		fmt.Fprintf(stderr, "serve: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := doServe(ctx, f, stdout, log); err != nil {
		log.Error("coordinator stopped", "err", err)
		return 1
	}
	return 0
}

func doServe(ctx context.Context, f serveFlags, stdout io.Writer, log *slog.Logger) error {
	// Every path is made absolute before the embedded S3 server starts: its
	// posix backend changes the working directory for good.
	dir, err := filepath.Abs(f.data)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	var sans []string
	for _, s := range strings.Split(f.tlsSANs, ",") {
		if s = strings.TrimSpace(s); s != "" {
			sans = append(sans, s)
		}
	}
	tf, err := bucket.EnsureTLS(dir, sans)
	if err != nil {
		return err
	}
	tokens, err := api.LoadTokens(dir)
	if err != nil {
		return err
	}
	tokens.Log = log
	iperfAddr, err := iperfListen(f.iperf, f.listen)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The iperf3 server for the Network stage. Its pid file path is absolute
	// (dir is): the embedded S3 server changes the working directory.
	var sup *iperf.Supervisor
	iperfDone := make(chan struct{})
	iperfLine := "off (--iperf-listen off): the agents' Network stage will skip"
	if iperfAddr != "" {
		sup, err = iperf.New(iperf.Config{Addr: iperfAddr, PIDFile: filepath.Join(dir, "iperf3.pid"), Log: log})
		switch {
		case errors.Is(err, iperf.ErrNotInstalled):
			log.Warn("iperf3 is not installed: no iperf3 server, the agents' Network stage will skip; apt-get install iperf3 and restart the coordinator", "err", err)
			iperfLine = "not installed (apt-get install iperf3): the agents' Network stage will skip"
			sup = nil
		case err != nil:
			return err
		default:
			iperfLine = iperfAddr
		}
	}
	if sup != nil {
		go func() {
			defer close(iperfDone)
			_ = sup.Run(ctx)
		}()
		defer func() { cancel(); <-iperfDone }()
	} else {
		close(iperfDone)
	}
	var store *bucket.Store
	var emb *bucket.Embedded
	if f.externalS3 != "" {
		ep, err := bucket.LoadExternalConfig(f.externalS3)
		if err != nil {
			return err
		}
		if store, err = bucket.NewStore(ep); err != nil {
			return err
		}
		bctx, bcancel := context.WithTimeout(ctx, 15*time.Second)
		if err := store.EnsureBucket(bctx); err != nil {
			// The coordinator still starts: /healthz and the dashboard say so.
			log.Error("external bucket not reachable at start", "url", ep.URL, "bucket", ep.Bucket, "err", err)
		}
		bcancel()
	} else {
		creds, err := bucket.EnsureCredentials(dir)
		if err != nil {
			return err
		}
		emb, err = bucket.StartEmbedded(ctx, bucket.EmbeddedConfig{Dir: dir, Listen: f.s3Listen, Creds: creds, TLS: tf, Log: log})
		if err != nil {
			return err
		}
		store = emb.Store
	}

	dash, err := dashboard.New(dashboard.Config{Bucket: store, Log: log})
	if err != nil {
		return err
	}
	rate := f.rate
	if rate < 0 {
		rate = -1 // api: a negative rate disables limiting
	}
	apiH := api.New(api.Config{
		Tokens: tokens, Presigner: store, CertPEM: tf.CertPEM, Fingerprint: tf.Fingerprint,
		TTL: f.ttl, Rate: rate, Burst: f.burst, Log: log,
		Health: store.Ping,
		Info: func() api.Info {
			in := api.Info{Version: version.Version}
			if sup != nil {
				in.IperfPort, in.IperfHost, in.IperfRunning = sup.Port(), sup.Host(), sup.Status().Running
			}
			return in
		},
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", apiH)
	mux.Handle("/healthz", apiH)
	mux.Handle("/", dash)

	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", f.listen, err)
	}
	scheme := "https"
	if f.plainHTTP {
		scheme = "http"
	} else {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{tf.Cert}, MinVersion: tls.VersionTLS12})
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	apiURL := scheme + "://" + ln.Addr().String()
	fmt.Fprintf(stdout, "shakedown coordinator\n")
	fmt.Fprintf(stdout, "api: %s\n", apiURL)
	fmt.Fprintf(stdout, "s3: %s bucket=%s\n", store.URL(), store.Bucket())
	fmt.Fprintf(stdout, "certificate: %s sha256:%s\n", tf.CertFile, tf.Fingerprint)
	fmt.Fprintf(stdout, "fleet token: %s\n", filepath.Join(dir, api.FleetTokenFile))
	if emb != nil {
		fmt.Fprintf(stdout, "s3 credentials: %s\n", filepath.Join(dir, "s3-credentials.yaml"))
	}
	fmt.Fprintf(stdout, "iperf3: %s\n", iperfLine)
	fmt.Fprintf(stdout, "kernel command line: shakedown.coordinator=%s://<this-host>:%s shakedown.ca=sha256:%s shakedown.token=<fleet token>\n",
		scheme, portOf(ln.Addr().String()), tf.Fingerprint)
	fmt.Fprintf(stdout, "ready\n")
	log.Info("coordinator ready", "api", apiURL, "s3", store.URL(), "bucket", store.Bucket())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	_ = srv.Shutdown(sctx)
	cancel()
	<-iperfDone // iperf3's process group is gone before serve returns
	if emb != nil {
		if err := emb.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("embedded s3 stopped", "err", err)
		}
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}

// iperfListen resolves --iperf-listen: "off" disables the server (""), an
// empty flag means the --listen host with port 5201.
func iperfListen(flagVal, apiListen string) (string, error) {
	switch v := strings.TrimSpace(flagVal); {
	case strings.EqualFold(v, "off"):
		return "", nil
	case v != "":
		if _, _, err := iperf.ParseAddr(v); err != nil {
			return "", fmt.Errorf("--iperf-listen: %w", err)
		}
		return v, nil
	}
	host, _, err := net.SplitHostPort(apiListen)
	if err != nil {
		return "", fmt.Errorf("--listen %q: %w", apiListen, err)
	}
	return net.JoinHostPort(host, strconv.Itoa(iperf.DefaultPort)), nil
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return p
}
