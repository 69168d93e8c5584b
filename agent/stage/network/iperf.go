package network

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// iperfResult is what we take from `iperf3 -J`.
type iperfResult struct {
	Error          string
	Reverse        bool
	Streams        int
	Seconds        float64
	SentBps        float64
	ReceivedBps    float64
	Retransmits    *int
	LocalHost      string
	RemoteHost     string
	IntervalBps    []float64 // per-interval receiver-side throughput
	ReceivedBytes  float64
	SenderCPUPct   *float64
	ReceiverCPUPct *float64
}

type iperfJSON struct {
	Start struct {
		Connected []struct {
			LocalHost  string `json:"local_host"`
			RemoteHost string `json:"remote_host"`
		} `json:"connected"`
		TestStart struct {
			NumStreams int     `json:"num_streams"`
			Duration   float64 `json:"duration"`
			Reverse    int     `json:"reverse"`
		} `json:"test_start"`
	} `json:"start"`
	Intervals []struct {
		Sum struct {
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum"`
	} `json:"intervals"`
	End struct {
		SumSent *struct {
			Seconds       float64 `json:"seconds"`
			Bytes         float64 `json:"bytes"`
			BitsPerSecond float64 `json:"bits_per_second"`
			Retransmits   *int    `json:"retransmits"`
		} `json:"sum_sent"`
		SumReceived *struct {
			Seconds       float64 `json:"seconds"`
			Bytes         float64 `json:"bytes"`
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
		CPU *struct {
			HostTotal   float64 `json:"host_total"`
			RemoteTotal float64 `json:"remote_total"`
		} `json:"cpu_utilization_percent"`
	} `json:"end"`
	Error string `json:"error"`
}

// parseIperf parses iperf3's JSON output (-J). iperf3 reports failures such as
// "unable to connect to server" in the "error" field, sometimes with exit
// status 0, so Error must be checked as well as the sums. Output that is not
// JSON, or JSON without results, is an error: it never reads as zero throughput.
func parseIperf(r io.Reader) (iperfResult, error) {
	b, err := io.ReadAll(io.LimitReader(r, 32<<20))
	if err != nil {
		return iperfResult{}, fmt.Errorf("read iperf3 output: %w", err)
	}
	if i := bytes.IndexByte(b, '{'); i > 0 {
		b = b[i:] // tolerate a warning line before the JSON
	}
	var j iperfJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return iperfResult{}, fmt.Errorf("parse iperf3 JSON: %w", err)
	}
	res := iperfResult{Error: j.Error, Reverse: j.Start.TestStart.Reverse == 1, Streams: j.Start.TestStart.NumStreams}
	if len(j.Start.Connected) > 0 {
		res.LocalHost, res.RemoteHost = j.Start.Connected[0].LocalHost, j.Start.Connected[0].RemoteHost
	}
	if j.Error != "" {
		return res, nil
	}
	if j.End.SumSent == nil || j.End.SumReceived == nil {
		return res, fmt.Errorf("parse iperf3 JSON: no end.sum_sent/sum_received (output truncated?)")
	}
	res.Seconds = j.End.SumReceived.Seconds
	res.SentBps, res.ReceivedBps = j.End.SumSent.BitsPerSecond, j.End.SumReceived.BitsPerSecond
	res.ReceivedBytes = j.End.SumReceived.Bytes
	res.Retransmits = j.End.SumSent.Retransmits
	if j.End.CPU != nil {
		h, rm := j.End.CPU.HostTotal, j.End.CPU.RemoteTotal
		if res.Reverse {
			res.ReceiverCPUPct, res.SenderCPUPct = &h, &rm
		} else {
			res.SenderCPUPct, res.ReceiverCPUPct = &h, &rm
		}
	}
	for _, iv := range j.Intervals {
		res.IntervalBps = append(res.IntervalBps, iv.Sum.BitsPerSecond)
	}
	return res, nil
}
