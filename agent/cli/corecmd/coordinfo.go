package corecmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/engine"
	"github.com/shakedown/shakedown/agent/journal"
	"github.com/shakedown/shakedown/agent/stage/network"
)

// coordInfo mirrors the coordinator's GET /api/v1/info (coordinator/api.Info;
// not imported, so the agent does not link the coordinator's S3 server).
type coordInfo struct {
	Version      string `json:"version"`
	IperfPort    int    `json:"iperf_port"`
	IperfHost    string `json:"iperf_host"`
	IperfRunning bool   `json:"iperf_running"`
}

// fetchCoordInfo asks the coordinator at base (https://HOST:PORT) what it
// serves besides the bucket.
func fetchCoordInfo(ctx context.Context, hc *http.Client, base, token string) (coordInfo, error) {
	var in coordInfo
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/api/v1/info", nil)
	if err != nil {
		return in, fmt.Errorf("coordinator info: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return in, fmt.Errorf("coordinator info: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return in, fmt.Errorf("coordinator info: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		return in, fmt.Errorf("coordinator info: %s: %s", resp.Status, e.Error)
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return in, fmt.Errorf("coordinator info: decode answer: %w", err)
	}
	if in.IperfPort < 0 || in.IperfPort > 65535 {
		return in, fmt.Errorf("coordinator info: iperf_port %d out of range", in.IperfPort)
	}
	return in, nil
}

// iperfServer is the "host:port" the Network stage should measure against:
// the address iperf3 is bound to when the coordinator names one, else the host
// the agent reaches the coordinator by. "" when there is no iperf3 server.
func iperfServer(base string, in coordInfo) string {
	if in.IperfPort == 0 {
		return ""
	}
	host := in.IperfHost
	if host == "" {
		u, err := url.Parse(base)
		if err != nil || u.Hostname() == "" {
			return ""
		}
		host = u.Hostname()
	}
	return net.JoinHostPort(host, strconv.Itoa(in.IperfPort))
}

// beforeNetwork reports whether the Network stage of run is still ahead
// (or being retried), so its server fact is still worth setting.
func beforeNetwork(run journal.Run) bool {
	st := run.State
	if st == engine.FailedHolding {
		st = run.FailedStage
	}
	if st == engine.Booting {
		return true
	}
	for _, s := range engine.Order {
		if s == st {
			return true
		}
		if s == "Network" {
			return false
		}
	}
	return false
}

// setIperfFact asks the coordinator for its iperf3 server, once per run and
// agent process, and stores it as the run's network.FactServer fact, so the
// Network stage measures against the coordinator. It is tried at every
// transition until Network has run; a failure is logged and tried again at the
// next one.
func (h *uploadHook) setIperfFact(ctx context.Context, run journal.Run) {
	if h.info == nil || run.ID == "" || h.iperfRun == run.ID || !beforeNetwork(run) {
		return
	}
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	in, err := h.info(ictx)
	if err != nil {
		h.log.Warn("cannot ask the coordinator for its iperf3 server (tried again at the next transition)", "run", run.ID, "err", err)
		if !h.iperfWarned {
			h.iperfWarned = true
			fmt.Fprintf(h.out, "%v (the Network stage needs the coordinator's iperf3 server; tried again at the next state)\n", err)
		}
		return
	}
	h.iperfRun = run.ID
	server := iperfServer(h.coordinator, in)
	if server == "" {
		fmt.Fprintln(h.out, "coordinator: no iperf3 server there (--iperf-listen off, or iperf3 not installed): the Network stage will skip unless --stage.network.server is set")
		return
	}
	now := time.Now().UTC()
	if h.e.Now != nil {
		now = h.e.Now().UTC()
	}
	if err := h.e.Journal.PutFact(context.WithoutCancel(ctx), run.ID, network.FactServer, server, now); err != nil {
		h.iperfRun = ""
		h.log.Error("cannot record the iperf3 server fact", "run", run.ID, "err", err)
		return
	}
	note := ""
	if !in.IperfRunning {
		note = " (not running right now: the coordinator restarts it)"
	}
	h.log.Info("iperf3 server of the coordinator recorded", "run", run.ID, "server", server, "running", in.IperfRunning)
	fmt.Fprintf(h.out, "coordinator: the Network stage measures against its iperf3 server %s%s\n", server, note)
}

// infoFunc returns the hook's info call over hc.
func infoFunc(hc *http.Client, base, token string) func(context.Context) (coordInfo, error) {
	return func(ctx context.Context) (coordInfo, error) { return fetchCoordInfo(ctx, hc, base, token) }
}
