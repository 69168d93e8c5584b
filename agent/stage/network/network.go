// Package network is the Network stage: iperf3 throughput from this host to
// the iperf3 server the coordinator hosts (seed: `iperf3 -c <coordinator> -p
// <port> -t 10 -J`), judged against a floor derived from the NIC's negotiated
// speed (threshold network_floor_fraction) or an absolute floor
// (network_floor_mbps).
package network

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// Stage is the Network stage.
type Stage struct{}

func init() { stage.Register(Stage{}) }

// Name implements stage.Stage.
func (Stage) Name() string { return "Network" }

// Destructive implements stage.Stage.
func (Stage) Destructive() bool { return false }

// DefaultTimeout implements stage.Stage.
func (Stage) DefaultTimeout() time.Duration { return 5 * time.Minute }

// Params implements stage.Parameterised.
func (Stage) Params() []stage.Param {
	return []stage.Param{
		{Name: "server", Kind: stage.KindString, Help: "iperf3 server as host or host:port (default: none; the coordinator's when the agent runs with one)"},
		{Name: "duration", Kind: stage.KindDuration, Default: "10s", ByProfile: map[string]string{"safe": "5s", "quick": "5s"}, Help: "iperf3 -t per direction"},
		{Name: "parallel", Kind: stage.KindInt, Default: "1", Help: "iperf3 -P parallel streams (raise for 25G+ links)"},
		{Name: "reverse", Kind: stage.KindBool, Default: "true", Help: "also measure the receive direction (iperf3 -R)"},
		{Name: "nic", Kind: stage.KindString, Help: "NIC whose speed sets the floor (default: the interface that routes to the server)"},
	}
}

// FactServer is the fact key under which the agent stores the coordinator's
// iperf3 endpoint ("host:port") when it runs with a coordinator.
const FactServer = "iperf_server"

const defaultPort = "5201"

// Run implements stage.Stage.
func (Stage) Run(ctx context.Context, env *stage.Env) (stage.Result, error) {
	server := env.Params.String("server")
	if server == "" {
		if _, err := env.Fact(FactServer, &server); err != nil {
			return stage.Result{}, err
		}
	}
	if server == "" {
		return stage.Result{Status: stage.Skip, Reason: "no_server",
			Message: "no iperf3 server configured: run the agent with a coordinator, or set --stage.network.server=HOST[:PORT]"}, nil
	}
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		host, port = server, defaultPort
	}
	if _, err := strconv.Atoi(port); err != nil {
		return stage.Result{}, fmt.Errorf("network: server %q: bad port", server)
	}
	if _, err := env.Tools.LookPath("iperf3"); err != nil {
		return stage.Result{}, fmt.Errorf("network: iperf3 is required: %w", err)
	}
	var inv collector.Inventory
	if _, err := env.Fact("inventory", &inv); err != nil {
		return stage.Result{}, err
	}
	nicName, speed := pickNIC(env, &inv, host)
	label := nicName
	if label == "" {
		label = "default"
	}
	floor, floorWhy := floorBps(env.Thresholds, speed)

	res := stage.Result{Status: stage.Pass, Summary: map[string]any{"server": net.JoinHostPort(host, port), "nic": nicName}}
	if speed != nil {
		res.Summary["nic_speed_mbps"] = *speed
	}
	dirs := []bool{false}
	if env.Params.Bool("reverse") {
		dirs = append(dirs, true)
	}
	var msgs []string
	for _, reverse := range dirs {
		dir, suffix := "send", ""
		if reverse {
			dir, suffix = "receive", "-reverse"
		}
		args := []string{"-c", host, "-p", port, "-t", strconv.Itoa(int(env.Params.Duration("duration").Seconds())), "-J"}
		if p := env.Params.Int("parallel"); p > 1 {
			args = append(args, "-P", strconv.Itoa(p))
		}
		if reverse {
			args = append(args, "-R")
		}
		env.Progress(label, 0, env.Params.Duration("duration").Seconds(), "s", "iperf3 "+dir+" to "+host)
		out, err := env.Tools.Run(ctx, tool.Cmd{Tool: "iperf3", Args: args, Timeout: env.Params.Duration("duration") + time.Minute})
		if err != nil {
			return res, fmt.Errorf("network: %w", err)
		}
		art, err := env.WriteArtifact("iperf-"+safeName(label)+suffix+".json", out.Stdout, "application/json")
		if err != nil {
			return res, err
		}
		res.Artifacts = append(res.Artifacts, art)
		ir, perr := parseIperf(bytes.NewReader(out.Stdout))
		if perr != nil {
			return res, fmt.Errorf("network: iperf3 exit %d: %w (stderr: %s)", out.ExitCode, perr, strings.TrimSpace(string(out.Stderr)))
		}
		if ir.Error != "" {
			res.Status = stage.Fail
			res.Reason = "unreachable"
			res.Findings = append(res.Findings, stage.Finding{Code: "IperfError", Severity: stage.Critical, Subject: label,
				Message: fmt.Sprintf("iperf3 %s to %s: %s", dir, net.JoinHostPort(host, port), ir.Error)})
			msgs = append(msgs, dir+": "+ir.Error)
			continue
		}
		now := env.Clock()
		ms := []stage.Measurement{
			{Kind: "iperf", Subject: label, Name: dir + "_bits_per_second", Value: ir.ReceivedBps, Unit: "bit/s", Time: now},
		}
		if ir.Retransmits != nil {
			ms = append(ms, stage.Measurement{Kind: "iperf", Subject: label, Name: dir + "_retransmits", Value: float64(*ir.Retransmits), Time: now})
		}
		res.Measurements = append(res.Measurements, ms...)
		res.Summary[dir+"_mbps"] = ir.ReceivedBps / 1e6
		got := fmt.Sprintf("%s %.0f Mbit/s", dir, ir.ReceivedBps/1e6)
		switch {
		case floor == 0:
			if res.Status == stage.Pass {
				res.Status = stage.Warn
			}
			res.Findings = append(res.Findings, stage.Finding{Code: "NoFloor", Severity: stage.Warning, Subject: label,
				Message: fmt.Sprintf("%s recorded but not judged: %s", got, floorWhy)})
			msgs = append(msgs, got+" (not judged)")
		case ir.ReceivedBps < floor:
			res.Status = stage.Fail
			res.Reason = "below_floor"
			res.Findings = append(res.Findings, stage.Finding{Code: "BelowFloor", Severity: stage.Critical, Subject: label,
				Message: fmt.Sprintf("%s is below the floor of %.0f Mbit/s (%s)", got, floor/1e6, floorWhy)})
			msgs = append(msgs, got+fmt.Sprintf(" < floor %.0f", floor/1e6))
		default:
			msgs = append(msgs, got+fmt.Sprintf(" >= floor %.0f", floor/1e6))
		}
	}
	res.Message = fmt.Sprintf("%s via %s: %s", net.JoinHostPort(host, port), label, strings.Join(msgs, "; "))
	return res, nil
}

// floorBps returns the throughput floor in bit/s and how it was derived; 0
// means no floor could be set.
func floorBps(th stage.Params, speedMbps *int) (float64, string) {
	frac, abs := th.Float("network_floor_fraction"), th.Float("network_floor_mbps")
	if speedMbps != nil && *speedMbps > 0 && frac > 0 {
		f := frac * float64(*speedMbps) * 1e6
		if abs*1e6 > f {
			return abs * 1e6, fmt.Sprintf("network_floor_mbps %.0f", abs)
		}
		return f, fmt.Sprintf("%.0f%% of the negotiated %d Mbit/s", frac*100, *speedMbps)
	}
	if abs > 0 {
		return abs * 1e6, fmt.Sprintf("network_floor_mbps %.0f (NIC speed unknown)", abs)
	}
	return 0, "the NIC's negotiated speed is unknown and no network_floor_mbps is set"
}

// pickNIC chooses the NIC whose speed sets the floor: the nic param, else the
// inventory NIC owning the local address that routes to host.
func pickNIC(env *stage.Env, inv *collector.Inventory, host string) (string, *int) {
	want := env.Params.String("nic")
	if want == "" {
		want = routeInterface(host)
	}
	for _, n := range inv.NICs {
		if n.Name == want {
			return n.Name, n.SpeedMbps
		}
	}
	return want, nil
}

// routeInterface finds the interface whose address the kernel picks to reach
// host (a UDP "connect" sends nothing).
func routeInterface(host string) string {
	c, err := net.Dial("udp", net.JoinHostPort(host, "9"))
	if err != nil {
		return ""
	}
	defer c.Close()
	la, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok {
		return ""
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	sort.Slice(ifs, func(i, j int) bool { return ifs[i].Index < ifs[j].Index })
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.Equal(la.IP) {
				return ifc.Name
			}
		}
	}
	return ""
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ' ' {
			return '_'
		}
		return r
	}, s)
}
