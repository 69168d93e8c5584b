// Package nativesmart reads SMART with anatol/smart.go's ioctls (NVMe
// Identify + SMART/Health log page 02h; ATA IDENTIFY, SMART READ DATA,
// THRESHOLDS, self-test and error logs) into collector.SmartReport, and
// NewReader composes it with collector.SmartctlReader as the fallback (SAS,
// disks behind a RAID HBA, anything smart.go cannot open or answer).
//
// It is a package of its own so that what links the collector does not also
// link smart.go: its drive database is built in a package init (about 200 KB
// of allocations and 2 ms at every start of every binary that imports it),
// which the read-only shakedown-agent front does not need for `inventory`.
// See docs/sensors-and-smart.md.
package nativesmart

import (
	"context"
	"fmt"
	"sort"
	"strings"

	smartgo "github.com/anatol/smart.go"

	"github.com/shakedown/shakedown/collector"
)

// NewReader returns the production reader: smart.go first, smartctl
// (through env.Tools) when smart.go cannot open or answer. dev arguments are
// mapped with collector.SmartDevicePath.
func NewReader(env collector.Env) collector.SmartReader {
	r := &autoSmartReader{env: env, native: Reader{}}
	if env.Tools != nil {
		r.fallback = &collector.SmartctlReader{Tools: env.Tools, Log: env.Logger()}
	}
	return r
}

type autoSmartReader struct {
	env      collector.Env
	native   collector.SmartReader
	fallback collector.SmartReader
}

func (a *autoSmartReader) Read(ctx context.Context, dev string) (*collector.SmartReport, error) {
	path := collector.SmartDevicePath(a.env, dev)
	log := a.env.Logger().With("probe", "smart", "device", path)
	rep, err := a.native.Read(ctx, path)
	if err == nil {
		return rep, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if a.fallback == nil {
		return nil, fmt.Errorf("read smart %s: %w", path, err)
	}
	log.Info("smart.go could not read, falling back to smartctl", "err", err)
	rep, err2 := a.fallback.Read(ctx, path)
	if err2 != nil {
		return nil, fmt.Errorf("read smart %s: smart.go: %v; smartctl: %w", path, err, err2)
	}
	rep.SourceNote = "smart.go: " + err.Error()
	return rep, nil
}

// runWithContext runs f (a blocking ioctl sequence that cannot be cancelled)
// and returns early when ctx ends. f's goroutine then finishes on its own.
func runWithContext[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() {
		v, err := f()
		ch <- res{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// ---- smart.go structures -> SmartReport (pure, tested on byte-level pages) ----

// nvmeReportFromSmartGo builds a report from smart.go's NVMe structures.
// ctrl and ns may be nil (Identify failed); log must not be.
func nvmeReportFromSmartGo(dev string, ctrl *smartgo.NvmeIdentController, ns []smartgo.NvmeIdentNamespace, log *smartgo.NvmeSMARTLog) *collector.SmartReport {
	r := &collector.SmartReport{Device: dev, Protocol: "nvme", Source: collector.SmartSourceSmartGo}
	if ctrl != nil {
		r.Model, r.Serial, r.Firmware = cleanSmartString(ctrl.ModelNumber()), cleanSmartString(ctrl.SerialNumber()), cleanSmartString(ctrl.FirmwareRev())
	}
	var capacity uint64
	for i := range ns {
		capacity += ns[i].Nsze * ns[i].LbaSize()
	}
	if capacity > 0 {
		r.CapacityBytes = &capacity
	}
	u := func(v smartgo.Uint128) *uint64 {
		if v.Val[1] != 0 {
			m := ^uint64(0)
			return &m
		}
		x := v.Val[0]
		return &x
	}
	if log.Temperature > 0 {
		t := float64(int(log.Temperature) - 273)
		r.TemperatureC = &t
	}
	r.PowerOnHours = u(log.PowerOnHours)
	r.PowerCycles = u(log.PowerCycles)
	warn, crit := uint64(log.WarningTempTime), uint64(log.CritCompTime)
	r.NVMe = &collector.SmartNVMe{
		CriticalWarning:            log.CritWarning,
		AvailableSparePct:          int(log.AvailSpare),
		AvailableSpareThresholdPct: int(log.SpareThresh),
		PercentUsed:                int(log.PercentUsed),
		MediaErrors:                u(log.MediaErrors),
		ErrorLogEntries:            u(log.NumErrLogEntries),
		UnsafeShutdowns:            u(log.UnsafeShutdowns),
		DataUnitsRead:              u(log.DataUnitsRead),
		DataUnitsWritten:           u(log.DataUnitsWritten),
		WarningTempMinutes:         &warn,
		CriticalTempMinutes:        &crit,
	}
	collector.FinishSmartReport(r)
	return r
}

// ataReportFromSmartGo builds a report from smart.go's ATA structures. Only
// page is required; id, thr, selfTest and errSum may be nil.
func ataReportFromSmartGo(dev string, id *smartgo.AtaIdentifyDevice, page *smartgo.AtaSmartPage, thr *smartgo.AtaSmartThresholdsPage,
	selfTest *smartgo.AtaSmartSelfTestLog, errSum *smartgo.AtaSmartErrorLogSummary) *collector.SmartReport {
	r := &collector.SmartReport{Device: dev, Protocol: "ata", Source: collector.SmartSourceSmartGo}
	if id != nil {
		r.Model, r.Serial, r.Firmware = cleanSmartString(id.ModelNumber()), cleanSmartString(id.SerialNumber()), cleanSmartString(id.FirmwareRevision())
		if w := id.WWN(); w != 0 {
			r.WWN = fmt.Sprintf("0x%016x", w)
		}
		if _, c, _, _, _ := id.Capacity(); c > 0 {
			r.CapacityBytes = &c
		}
	}
	ids := make([]int, 0, len(page.Attrs))
	for k := range page.Attrs {
		ids = append(ids, int(k))
	}
	sort.Ints(ids)
	r.ATA = &collector.SmartATA{Attributes: make([]collector.SmartATAAttribute, 0, len(ids))}
	for _, k := range ids {
		a := page.Attrs[uint8(k)]
		x := collector.SmartATAAttribute{
			ID: int(a.Id), Name: a.Name, Current: int(a.Current), Worst: int(a.Worst), Raw: a.ValueRaw,
			Prefail: a.Flags&smartgo.AtaAttributeFlagPrefailure != 0,
			Online:  a.Flags&smartgo.AtaAttributeFlagOnline != 0,
		}
		if thr != nil {
			if t, ok := thr.Thresholds[a.Id]; ok {
				tt := int(t)
				x.Threshold = &tt
			}
		}
		switch int(a.Id) {
		case collector.ATATemperature, collector.ATAAirflowTemperature:
			if r.TemperatureC == nil || int(a.Id) == collector.ATATemperature {
				if c, ok := ataTemperature(a); ok {
					r.TemperatureC = &c
				}
			}
		case collector.ATAPowerOnHours:
			h := a.ValueRaw & 0xffffffff
			if d, err := a.ParseAsDuration(); err == nil {
				h = uint64(d.Hours())
			}
			r.PowerOnHours = &h
		case collector.ATAPowerCycles:
			c := a.ValueRaw
			r.PowerCycles = &c
		}
		r.ATA.Attributes = append(r.ATA.Attributes, x)
	}
	if errSum != nil {
		n := uint64(errSum.ErrorCount)
		r.ATA.ErrorLogCount = &n
	}
	if selfTest != nil {
		r.SelfTest = ataSelfTestFromSmartGo(selfTest)
	}
	collector.FinishSmartReport(r)
	return r
}

// ataTemperature reads a temperature attribute: the typed parse when smart.go
// knows the attribute's format, else the low byte of the raw value.
func ataTemperature(a smartgo.AtaSmartAttr) (float64, bool) {
	if v, _, _, _, err := a.ParseAsTemperature(); err == nil {
		if v > -60 && v < 150 {
			return float64(v), true
		}
		return 0, false
	}
	v := int(int8(a.ValueRaw & 0xff))
	if v <= 0 || v >= 150 {
		return 0, false
	}
	return float64(v), true
}

// ataSelfTestFromSmartGo decodes the SMART self-test log (log address 06h):
// a ring of 21 entries, Index pointing at the most recent (1-based, 0 = empty).
func ataSelfTestFromSmartGo(l *smartgo.AtaSmartSelfTestLog) *collector.SmartSelfTestLog {
	out := &collector.SmartSelfTestLog{}
	n := len(l.Entry)
	if l.Index == 0 || int(l.Index) > n {
		return out
	}
	for k := 0; k < n; k++ {
		e := l.Entry[(int(l.Index)-1-k+n)%n]
		if e.LBA_7 == 0 && e.Status == 0 && e.LifeTimestamp == 0 {
			continue // unused slot
		}
		h := uint64(e.LifeTimestamp)
		out.Entries = append(out.Entries, collector.SmartSelfTest{
			Type:         ataSelfTestType(e.LBA_7),
			Result:       collector.ATASelfTestResult(int(e.Status)),
			Status:       fmt.Sprintf("status 0x%02x", e.Status),
			PowerOnHours: &h,
		})
		if out.Entries[len(out.Entries)-1].Result == "failed" {
			out.Failed++
		}
	}
	return out
}

// ataSelfTestType names the self-test subcommand logged in an entry.
func ataSelfTestType(sub byte) string {
	switch sub {
	case 0x00:
		return "offline"
	case 0x01, 0x81:
		return "short"
	case 0x02, 0x82:
		return "extended"
	case 0x03, 0x83:
		return "conveyance"
	case 0x04, 0x84:
		return "selective"
	default:
		return fmt.Sprintf("0x%02x", sub)
	}
}

func cleanSmartString(s string) string {
	return strings.TrimSpace(strings.Trim(s, "\x00"))
}
