package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector/tool"
)

var unsafeName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9._-]+`) })

// testDisk runs the surface test and fio on one gated disk.
func testDisk(ctx context.Context, env *stage.Env, d *gatedDisk, th stage.Params) diskOutcome {
	o := diskOutcome{d: d, summary: map[string]any{"device": d.cand.Disk.Name, "wipe_probe": d.report.Verdict}}
	if d.override != nil {
		o.findings = append(o.findings, stage.Finding{Code: "WipeProbeOverridden", Severity: stage.Warning, Subject: d.identity,
			Message: fmt.Sprintf("wipe-probe found %s; overridden by %s: %s", d.report.Summary(), d.override.Who, d.override.Reason)})
	}
	name := unsafeName().ReplaceAllString(d.cand.Disk.Name, "_")
	scratch := filepath.Join(env.WorkDir, "storage-"+name)
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		o.err = fmt.Errorf("create scratch dir: %w", err)
		return o
	}
	size, _, err := d.handle.State()
	if err != nil {
		o.err = err
		return o
	}
	if size <= 0 {
		o.failed = append(o.failed, "device lost / I/O error: the device reports size 0")
		return o
	}

	// 1. Surface test.
	bad, lost, err := surface(ctx, env, d, size, scratch, &o)
	if err != nil {
		o.err = err
		return o
	}
	switch {
	case lost != "":
		o.failed = append(o.failed, "device lost / I/O error: "+lost)
		o.findings = append(o.findings, stage.Finding{Code: "DeviceLost", Severity: stage.Critical, Subject: d.identity, Message: lost})
		return o // no point running fio on a lost device
	case bad > 0:
		o.failed = append(o.failed, fmt.Sprintf("badblocks found %d bad blocks", bad))
		o.findings = append(o.findings, stage.Finding{Code: "BadBlocks", Severity: stage.Critical, Subject: d.identity,
			Message: fmt.Sprintf("badblocks found %d bad blocks (list in badblocks-%s.txt)", bad, name)})
	}

	// 2. fio.
	fio(ctx, env, d, size, scratch, name, th, &o)
	return o
}

// surface runs badblocks over the planned segments. It returns the number of
// bad blocks, or a non-empty "lost" reason when the device disappeared,
// became read-only or badblocks could not complete.
func surface(ctx context.Context, env *stage.Env, d *gatedDisk, size int64, scratch string, o *diskOutcome) (int, string, error) {
	bs := BlockSize(size, d.cand.Disk.LogicalSectorSize)
	ioBlocks := int64(env.Params.Size(ParamIOSize)) / bs
	if ioBlocks < 1 {
		ioBlocks = 64 // badblocks' own default
	}
	var budget int64
	if env.Params.String(ParamSurface) == "bounded" {
		budget = int64(env.Params.Size(ParamBudget))
	}
	plan := Plan(size, bs, budget, env.Params.Int(ParamSegments))
	var planned int64
	for _, s := range plan {
		planned += (s.Last - s.First + 1) * bs
	}
	o.summary["badblocks_block_size"] = bs
	o.summary["badblocks_blocks_at_once"] = ioBlocks
	o.summary["surface_bytes"] = planned
	o.summary["surface_segments"] = len(plan)

	listPath := filepath.Join(scratch, "badblocks.txt")
	var allBad []byte
	badCount := 0
	t0 := env.Clock()
	var doneBytes int64
	for i, seg := range plan {
		segBytes := (seg.Last - seg.First + 1) * bs
		_ = os.Remove(listPath)
		pw := &progressWriter{report: func(p BadblocksProgress) {
			done := float64(doneBytes) + p.Percent/100*float64(segBytes)
			env.Progress(d.identity, done, float64(planned), "bytes",
				fmt.Sprintf("badblocks segment %d/%d: %s %.1f%% (%d/%d/%d errors)", i+1, len(plan), p.Phase, p.Percent, p.Read, p.Write, p.Corrupt))
		}}
		out, err := env.Tools.Run(ctx, tool.Cmd{Tool: "badblocks", Args: BadblocksArgs(d.handle.Path(), listPath, bs, ioBlocks, seg, env.AllowDestructive),
			Stderr: pw, MaxCapture: 1 << 20})
		if err != nil {
			if errors.Is(err, tool.ErrNotFound) {
				return 0, "", fmt.Errorf("badblocks is not installed: %w", err)
			}
			return 0, "", fmt.Errorf("run badblocks: %w", err)
		}
		list, rerr := os.ReadFile(listPath)
		if rerr != nil && !os.IsNotExist(rerr) {
			return 0, "", fmt.Errorf("read badblocks list: %w", rerr)
		}
		blocks, perr := ParseBadBlocks(bytes.NewReader(list))
		if perr != nil {
			return 0, "", perr
		}
		badCount += len(blocks)
		allBad = append(allBad, list...)
		doneBytes += segBytes
		// A device that vanished or turned read-only makes every block
		// "bad": report it as what it is.
		if lost := lostReason(d.handle); lost != "" {
			writeList(env, o, scratch, d, allBad)
			return badCount, lost, nil
		}
		if out.ExitCode != 0 {
			writeList(env, o, scratch, d, allBad)
			return badCount, fmt.Sprintf("badblocks exited %d: %s", out.ExitCode, lastLine(out.Stderr)), nil
		}
	}
	secs := env.Clock().Sub(t0).Seconds()
	o.summary["badblocks_seconds"] = secs
	o.summary["bad_blocks"] = badCount
	passes := 1.0
	if env.AllowDestructive {
		passes = 8 // four patterns, each written and read back
	}
	ms := []stage.Measurement{{Kind: "badblocks", Subject: d.identity, Name: "bad_blocks", Value: float64(badCount)}}
	if secs > 0 {
		ms = append(ms, stage.Measurement{Kind: "badblocks", Subject: d.identity, Name: "throughput",
			Value: float64(planned) * passes / secs, Unit: "B/s"})
	}
	if err := env.Measure(ms...); err != nil {
		return 0, "", err
	}
	if badCount > 0 {
		writeList(env, o, scratch, d, allBad)
	}
	return badCount, "", nil
}

func writeList(env *stage.Env, o *diskOutcome, _ string, d *gatedDisk, list []byte) {
	if len(list) == 0 {
		return
	}
	name := "badblocks-" + unsafeName().ReplaceAllString(d.cand.Disk.Name, "_") + ".txt"
	if a, err := env.WriteArtifact(name, list, "text/plain"); err == nil {
		o.artifacts = append(o.artifacts, a)
	}
}

// lostReason checks the open device after a tool ran.
func lostReason(h Handle) string {
	size, ro, err := h.State()
	switch {
	case err != nil:
		return "cannot read the device state: " + err.Error()
	case size == 0:
		return "the device disappeared (size 0)"
	case ro:
		return "the device became read-only"
	}
	return ""
}

func lastLine(b []byte) string {
	b = bytes.TrimRight(b, "\n\x08 ")
	if i := bytes.LastIndexAny(b, "\n\x08"); i >= 0 {
		b = b[i+1:]
	}
	s := string(bytes.TrimSpace(b))
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// fio runs the random-I/O benchmark and checks the per-class IOPS floor.
func fio(ctx context.Context, env *stage.Env, d *gatedDisk, size int64, scratch, name string, th stage.Params, o *diskOutcome) {
	fsize := int64(env.Params.Size(ParamFioSize))
	if fsize <= 0 || fsize > size {
		fsize = size
	}
	runtime := env.Params.Duration(ParamFioTime)
	if runtime <= 0 {
		runtime = 60 * time.Second
	}
	outPath := filepath.Join(scratch, "fio.json")
	_ = os.Remove(outPath)
	env.Progress(d.identity, 0, runtime.Seconds(), "s", "fio 4k random I/O")
	out, err := env.Tools.Run(ctx, tool.Cmd{Tool: "fio", Args: FioArgs(d.handle.Path(), outPath, fsize, runtime, env.AllowDestructive),
		Timeout: runtime + 5*time.Minute})
	if err != nil {
		if errors.Is(err, tool.ErrNotFound) {
			o.err = fmt.Errorf("fio is not installed: %w", err)
			return
		}
		o.err = fmt.Errorf("run fio: %w", err)
		return
	}
	data, rerr := os.ReadFile(outPath)
	if rerr != nil || len(bytes.TrimSpace(data)) == 0 {
		data = out.Stdout // older fio ignores --output with some engines
	}
	artName := "fio-" + name + ".json"
	if a, err := env.WriteArtifact(artName, data, "application/json"); err == nil {
		o.artifacts = append(o.artifacts, a)
	}
	res, perr := ParseFio(bytes.NewReader(data))
	lost := lostReason(d.handle)
	switch {
	case lost != "":
		o.failed = append(o.failed, "device lost / I/O error during fio: "+lost)
		o.findings = append(o.findings, stage.Finding{Code: "DeviceLost", Severity: stage.Critical, Subject: d.identity, Message: lost})
		return
	case perr != nil && out.ExitCode != 0:
		o.failed = append(o.failed, fmt.Sprintf("device lost / I/O error: fio exited %d: %s", out.ExitCode, lastLine(out.Stderr)))
		return
	case perr != nil:
		o.err = perr
		return
	case res.Error != 0 || out.ExitCode != 0:
		o.failed = append(o.failed, fmt.Sprintf("device lost / I/O error: fio job error %d (exit %d): %s", res.Error, out.ExitCode, lastLine(out.Stderr)))
		o.findings = append(o.findings, stage.Finding{Code: "IOError", Severity: stage.Critical, Subject: d.identity,
			Message: fmt.Sprintf("fio reported I/O error %d", res.Error)})
		return
	}
	fm := []stage.Measurement{
		{Kind: "fio", Subject: d.identity, Name: "iops_read", Value: res.ReadIOPS, Unit: "IOPS"},
		{Kind: "fio", Subject: d.identity, Name: "iops_write", Value: res.WriteIOPS, Unit: "IOPS"},
		{Kind: "fio", Subject: d.identity, Name: "iops_total", Value: res.TotalIOPS(), Unit: "IOPS"},
		{Kind: "fio", Subject: d.identity, Name: "p99_read_us", Value: float64(res.ReadP99.Microseconds()), Unit: "us"},
		{Kind: "fio", Subject: d.identity, Name: "p99_write_us", Value: float64(res.WriteP99.Microseconds()), Unit: "us"},
	}
	if err := env.Measure(fm...); err != nil {
		o.err = err
		return
	}
	class := d.cand.Disk.Class
	if d.want.Class != "" {
		class = d.want.Class
	}
	floorName := "fio_iops_floor_" + class
	if _, ok := th[floorName]; !ok {
		floorName = "fio_iops_floor_hdd" // unknown class: the most lenient floor, and say so
		o.findings = append(o.findings, stage.Finding{Code: "UnknownDiskClass", Severity: stage.Warning, Subject: d.identity,
			Message: fmt.Sprintf("disk class %q unknown; used the hdd IOPS floor", class)})
	}
	floor := th.Float(floorName)
	o.summary["fio_iops_total"] = res.TotalIOPS()
	o.summary["fio_p99_us"] = res.P99().Microseconds()
	o.summary["fio_iops_floor"] = floor
	if res.TotalIOPS() < floor {
		o.failed = append(o.failed, fmt.Sprintf("fio %.0f IOPS is below the %s floor %.0f", res.TotalIOPS(), floorName, floor))
		o.findings = append(o.findings, stage.Finding{Code: "SlowDisk", Severity: stage.Critical, Subject: d.identity,
			Message: fmt.Sprintf("fio 4k randrw %.0f IOPS < %s %.0f", res.TotalIOPS(), floorName, floor)})
	}
	if max := th.Float("fio_p99_ms_max"); max > 0 && float64(res.P99().Microseconds())/1000 > max {
		o.failed = append(o.failed, fmt.Sprintf("fio p99 latency %.1f ms is above fio_p99_ms_max %.1f", float64(res.P99().Microseconds())/1000, max))
		o.findings = append(o.findings, stage.Finding{Code: "SlowDisk", Severity: stage.Critical, Subject: d.identity,
			Message: fmt.Sprintf("fio p99 latency %s above %.1f ms", res.P99(), max)})
	}
}
