package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// OCPOptions tune WriteOCP.
type OCPOptions struct {
	// Bucket names the S3 bucket artifacts live in (file URIs are
	// s3://<Bucket>/runs/<host>/<run-id>/artifacts/<name>); default "shakedown".
	Bucket string
	// CommandLine is the agent's command line for testRunStart.
	CommandLine string
}

// ocpLine is one line of the output: exactly one of the three payloads.
type ocpLine struct {
	SchemaVersion    *ocpVersion    `json:"schemaVersion,omitempty"`
	TestRunArtifact  map[string]any `json:"testRunArtifact,omitempty"`
	TestStepArtifact map[string]any `json:"testStepArtifact,omitempty"`
	SequenceNumber   int            `json:"sequenceNumber"`
	Timestamp        string         `json:"timestamp"`
}

type ocpVersion struct {
	Major int `json:"major"`
	Minor int `json:"minor"`
}

type ocpWriter struct {
	w   *bufio.Writer
	seq int
	err error
}

func ocpTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (o *ocpWriter) emit(l ocpLine, at time.Time) {
	if o.err != nil {
		return
	}
	l.SequenceNumber = o.seq
	l.Timestamp = ocpTime(at)
	o.seq++
	b, err := json.Marshal(l)
	if err != nil {
		o.err = fmt.Errorf("encode OCP line %d: %w", l.SequenceNumber, err)
		return
	}
	if _, err := o.w.Write(append(b, '\n')); err != nil {
		o.err = fmt.Errorf("write OCP line: %w", err)
	}
}

func (o *ocpWriter) run(kind string, v any, at time.Time) {
	o.emit(ocpLine{TestRunArtifact: map[string]any{kind: v}}, at)
}

func (o *ocpWriter) step(id, kind string, v any, at time.Time) {
	o.emit(ocpLine{TestStepArtifact: map[string]any{"testStepId": id, kind: v}}, at)
}

// thresholdFor maps a measurement to the threshold that judges it, as an OCP
// validator: (threshold name, validator type). Only the limits the stages
// apply to exactly this measurement are listed.
func thresholdFor(kind, name string) (string, string, bool) {
	switch {
	case kind == "thermal":
		return "max_temp_c", "LESS_THAN", true
	case kind == "smart" && strings.Contains(name, "temp"):
		return "disk_max_temp_c", "LESS_THAN", true
	case kind == "gpu" && strings.Contains(name, "temp"):
		return "gpu_max_temp_c", "LESS_THAN", true
	case kind == "badblocks" && name == "bad_blocks":
		return "", "EQUAL", true
	}
	return "", "", false
}

// WriteOCP renders the report as OCP Test & Validation output (spec 2.0), one
// JSON object per line: schemaVersion, testRunStart with dutInfo, one test
// step per stage (measurements with validators, measurement series for
// sampled kinds, diagnoses per finding and component, files for artifacts,
// errors for stages that could not decide), and testRunEnd.
func WriteOCP(w io.Writer, r *Report, opt OCPOptions) error {
	if opt.Bucket == "" {
		opt.Bucket = "shakedown"
	}
	o := &ocpWriter{w: bufio.NewWriter(w)}
	start := r.Run.CreatedAt
	if start.IsZero() {
		start = r.GeneratedAt
	}
	o.emit(ocpLine{SchemaVersion: &ocpVersion{Major: 2, Minor: 0}}, start)

	hw, hwIDs := ocpHardware(r)
	dut := map[string]any{
		"dutInfoId": orStr(r.Host.ID, "unknown"),
		"name":      orStr(r.Host.Hostname, orStr(strings.TrimSpace(r.Host.Vendor+" "+r.Host.Product), r.Host.ID)),
		"softwareInfos": []map[string]any{{
			"softwareInfoId": "shakedown-agent", "name": "shakedown-agent",
			"version": orStr(r.Run.AgentVersion, "unknown"), "softwareType": "APPLICATION",
		}},
		"hardwareInfos": hw,
		"metadata":      map[string]any{"host_id_source": r.Host.IDSource, "uuid": r.Host.UUID, "serial": r.Host.Serial},
	}
	if p := strings.TrimSpace(r.Host.Vendor + " " + r.Host.Product); p != "" {
		dut["platformInfos"] = []map[string]any{{"info": p}}
	}
	if r.Host.BIOS != "" {
		dut["softwareInfos"] = append(dut["softwareInfos"].([]map[string]any), map[string]any{
			"softwareInfoId": "bios", "name": "BIOS", "version": r.Host.BIOS, "softwareType": "FIRMWARE"})
	}
	params := map[string]any{"profile": r.Run.Profile, "run_id": r.Run.ID}
	if len(r.Thresholds) > 0 {
		params["thresholds"] = r.Thresholds
	}
	cmd := opt.CommandLine
	if cmd == "" {
		cmd = "shakedown-agent run --profile " + r.Run.Profile
	}
	o.run("testRunStart", map[string]any{
		"name": "shakedown", "version": orStr(r.Run.AgentVersion, "unknown"), "commandLine": cmd,
		"parameters": params, "dutInfo": dut,
		"metadata": map[string]any{"run_id": r.Run.ID, "report_schema": Schema, "report_version": Version},
	}, start)

	for i, s := range r.Stages {
		id := strconv.Itoa(i + 1)
		at := start
		if s.StartedAt != nil {
			at = *s.StartedAt
		}
		end := at
		if s.CompletedAt != nil {
			end = *s.CompletedAt
		}
		o.step(id, "testStepStart", map[string]any{"name": s.Name}, at)
		ocpStep(o, r, s, id, at, end, hwIDs, opt)
		o.step(id, "testStepEnd", map[string]any{"status": stepStatus(s)}, end)
	}

	end := r.GeneratedAt
	status, result := "COMPLETE", "PASS"
	switch r.Verdict.Result {
	case ResultFail:
		result = "FAIL"
	case ResultHeld, ResultIncomplete:
		status, result = "ERROR", "NOT_APPLICABLE"
		o.run("log", map[string]any{"severity": "WARNING", "message": r.Verdict.Headline}, end)
	}
	o.run("testRunEnd", map[string]any{"status": status, "result": result}, end)
	if o.err != nil {
		return o.err
	}
	return o.w.Flush()
}

func stepStatus(s Stage) string {
	switch {
	case s.Status == "skip" || s.Status == "pending":
		return "SKIP"
	case s.Status == "running":
		return "ERROR"
	case s.Reason == "error" || s.Reason == "timeout" || s.Reason == "interrupted" || s.Reason == "canceled":
		return "ERROR"
	}
	return "COMPLETE"
}

func ocpStep(o *ocpWriter, r *Report, s Stage, id string, at, end time.Time, hwIDs map[string]string, opt OCPOptions) {
	switch s.Status {
	case "pending":
		o.step(id, "log", map[string]any{"severity": "INFO", "message": "not run: " + notRunWhy(r)}, at)
		return
	case "skip":
		o.step(id, "log", map[string]any{"severity": "INFO", "message": "skipped: " + strings.TrimSpace(s.Reason+" "+s.Message)}, at)
	}
	for _, a := range s.Earlier {
		o.step(id, "log", map[string]any{"severity": "WARNING",
			"message": fmt.Sprintf("attempt %d: %s %s: %s", a.Attempt, a.Status, a.Reason, a.Message)}, a.StartedAt)
	}
	// Measurements of this stage.
	for _, a := range r.Measurements {
		if a.Stage != s.Name {
			continue
		}
		base := a.Kind + "." + a.Name
		if a.Count == 1 {
			o.step(id, "measurement", ocpMeasurement(r, a, base, a.Last, hwIDs), a.LastAt)
			continue
		}
		o.step(id, "measurement", ocpMeasurement(r, a, base+".max", a.Max, hwIDs), a.LastAt)
		o.step(id, "measurement", ocpMeasurement(r, a, base+".min", a.Min, hwIDs), a.LastAt)
		mean := a
		mean.Kind = "" // no validator on the mean
		o.step(id, "measurement", ocpMeasurement(r, mean, base+".mean", a.Mean, hwIDs), a.LastAt)
	}
	// Series samples taken while this stage ran.
	n := 0
	for _, se := range r.Series {
		var pts []Point
		for _, p := range se.Points {
			if !p.T.Before(at) && !p.T.After(end) {
				pts = append(pts, p)
			}
		}
		if len(pts) < 2 {
			continue
		}
		n++
		sid := fmt.Sprintf("%s-series-%d", id, n)
		start := map[string]any{"name": seriesName(se), "measurementSeriesId": sid}
		if se.Unit != "" {
			start["unit"] = se.Unit
		}
		attachSubject(start, se.Subject, hwIDs)
		if v := validators(r, se.Kind, se.Name, se.Subject); v != nil {
			start["validators"] = v
		}
		o.step(id, "measurementSeriesStart", start, pts[0].T)
		for i, p := range pts {
			o.step(id, "measurementSeriesElement", map[string]any{"index": i, "value": p.V,
				"timestamp": ocpTime(p.T), "measurementSeriesId": sid}, p.T)
		}
		o.step(id, "measurementSeriesEnd", map[string]any{"measurementSeriesId": sid, "totalCount": len(pts)}, pts[len(pts)-1].T)
	}
	// Spec diffs belong to SpecValidate.
	if s.Name == "SpecValidate" {
		for _, d := range r.SpecDiffs {
			typ := "UNKNOWN"
			if d.Class == "critical" {
				typ = "FAIL"
			}
			msg := fmt.Sprintf("%s: expected %q, found %q", d.Field, d.Expected, d.Actual)
			if d.Message != "" {
				msg += ": " + d.Message
			}
			diag := map[string]any{"verdict": "spec-" + d.Class, "type": typ, "message": msg}
			attachSubject(diag, d.Subject, hwIDs)
			o.step(id, "diagnosis", diag, end)
		}
	}
	// Findings, one diagnosis each, on the component they name.
	for _, f := range s.Findings {
		typ := "UNKNOWN"
		switch f.Severity {
		case "critical":
			typ = "FAIL"
		case "info":
			typ = "PASS"
		}
		diag := map[string]any{"verdict": f.Code, "type": typ, "message": f.Message}
		attachSubject(diag, f.Subject, hwIDs)
		o.step(id, "diagnosis", diag, end)
	}
	// The stage's own verdict.
	if s.Status != "skip" {
		typ := map[string]string{"pass": "PASS", "warn": "PASS", "fail": "FAIL"}[s.Status]
		if typ == "" {
			typ = "UNKNOWN"
		}
		msg := s.Message
		if s.Overridden {
			msg += " (accepted by an operator override)"
		}
		o.step(id, "diagnosis", map[string]any{"verdict": strings.ToLower(s.Name) + "-" + s.Status, "type": typ, "message": msg}, end)
	}
	if s.Reason == "error" || s.Reason == "timeout" || s.Reason == "interrupted" || s.Reason == "canceled" {
		o.step(id, "error", map[string]any{"symptom": s.Reason, "message": s.Message}, end)
	}
	for _, a := range r.Artifacts {
		if a.Stage != s.Name {
			continue
		}
		f := map[string]any{
			"displayName": a.Name,
			"uri":         "s3://" + opt.Bucket + "/" + RunKey(r.Run.HostID, r.Run.ID, a.Key),
			"isSnapshot":  false,
			"description": fmt.Sprintf("%d bytes, sha256 %s", a.Size, a.SHA256),
			"metadata":    map[string]any{"sha256": a.SHA256, "size": a.Size},
		}
		if a.ContentType != "" {
			f["contentType"] = a.ContentType
		}
		o.step(id, "file", f, end)
	}
}

func notRunWhy(r *Report) string {
	if r.Run.Abandoned {
		return "the run was abandoned before this stage"
	}
	return "the run has not reached this stage"
}

func seriesName(se Series) string {
	if se.Subject == "" {
		return se.Kind + "." + se.Name
	}
	return se.Kind + "." + se.Name + "[" + se.Subject + "]"
}

func ocpMeasurement(r *Report, a Aggregate, name string, v float64, hwIDs map[string]string) map[string]any {
	m := map[string]any{"name": name, "value": v}
	if a.Unit != "" {
		m["unit"] = a.Unit
	}
	attachSubject(m, a.Subject, hwIDs)
	if a.Kind != "" && !strings.HasSuffix(name, ".min") {
		if vs := validators(r, a.Kind, a.Name, a.Subject); vs != nil {
			m["validators"] = vs
		}
	}
	return m
}

func validators(r *Report, kind, name, subject string) []map[string]any {
	th, typ, ok := thresholdFor(kind, name)
	if !ok {
		return nil
	}
	if th == "" { // fixed limit
		return []map[string]any{{"name": kind + "." + name, "type": typ, "value": 0}}
	}
	raw, ok := r.Thresholds[th]
	if !ok {
		return nil
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return nil
	}
	return []map[string]any{{"name": th, "type": typ, "value": v}}
}

// attachSubject names the component: a hardwareInfoId when the subject is a
// known piece of hardware, else a subcomponent.
func attachSubject(m map[string]any, subject string, hwIDs map[string]string) {
	if subject == "" {
		return
	}
	if id, ok := hwIDs[subject]; ok {
		m["hardwareInfoId"] = id
		return
	}
	m["subcomponent"] = map[string]any{"name": subject}
}

// ocpHardware lists the DUT's hardware and maps every name a stage may use for
// a component (disk identity, kernel name, NIC name, MAC) to its id.
func ocpHardware(r *Report) ([]map[string]any, map[string]string) {
	var hw []map[string]any
	ids := map[string]string{}
	if inv := r.Inventory; inv != nil {
		if inv.CPUModel != "" {
			hw = append(hw, map[string]any{"hardwareInfoId": "cpu", "name": inv.CPUModel, "partType": "CPU",
				"location": fmt.Sprintf("%d socket(s), %d cores, %d threads", inv.Sockets, inv.Cores, inv.Threads)})
		}
		if inv.MemoryBytes > 0 {
			hw = append(hw, map[string]any{"hardwareInfoId": "memory", "name": fmt.Sprintf("memory %s", HumanBytes(inv.MemoryBytes)), "partType": "Memory"})
		}
		for i, d := range inv.Disks {
			id := "disk-" + strconv.Itoa(i)
			h := map[string]any{"hardwareInfoId": id, "name": orStr(d.Model, d.Name), "partType": "Disk " + d.Class, "location": d.Name}
			if d.Serial != "" {
				h["serialNumber"] = d.Serial
			}
			hw = append(hw, h)
			for _, k := range []string{d.Identity, d.Name, d.Serial, d.WWN} {
				if k != "" {
					ids[k] = id
				}
			}
		}
		for i, n := range inv.NICs {
			id := "nic-" + strconv.Itoa(i)
			hw = append(hw, map[string]any{"hardwareInfoId": id, "name": n.Name, "partType": "NIC", "location": n.MAC})
			for _, k := range []string{n.Name, n.MAC} {
				if k != "" {
					ids[k] = id
				}
			}
		}
		for i, g := range inv.GPUs {
			id := "gpu-" + strconv.Itoa(i)
			h := map[string]any{"hardwareInfoId": id, "name": orStr(g.Model, "GPU"), "partType": "GPU", "location": g.PCIAddress}
			if g.Serial != "" {
				h["serialNumber"] = g.Serial
			}
			hw = append(hw, h)
			for _, k := range []string{g.PCIAddress, g.Serial} {
				if k != "" {
					ids[k] = id
				}
			}
		}
	}
	return hw, ids
}

func orStr(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// HumanBytes renders a byte count with a binary unit (512 GiB).
func HumanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
