package collector

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// SMART reading (docs/sensors-and-smart.md). Production order:
//
//  1. anatol/smart.go ioctls: NVMe (Identify + SMART/Health log page 02h) and
//     SATA (ATA pass-through: IDENTIFY, SMART READ DATA/THRESHOLDS, the
//     self-test and error logs). smart.go has no SMART RETURN STATUS, so for
//     ATA the overall health is computed: FAILED when a pre-fail attribute's
//     normalised value is at or below its threshold (HealthBasis "attributes").
//  2. `smartctl -j -x DEV` through Env.Tools when smart.go cannot open or
//     answer: SAS/SCSI disks (smart.go has no health log pages for them),
//     disks behind RAID HBAs, USB bridges, EPERM. smartctl's exit status is a
//     bit mask, decoded by SmartctlExit.
//
// A hardware verdict is data (SmartReport.Health); an error means "could not
// read", never "the disk is bad".

// SmartHealth is a disk's overall SMART verdict.
type SmartHealth string

// SMART verdicts.
const (
	SmartPassed  SmartHealth = "passed"
	SmartFailed  SmartHealth = "failed"
	SmartUnknown SmartHealth = "unknown"
)

// Where a SmartReport came from.
const (
	SmartSourceSmartGo  = "smart.go"
	SmartSourceSmartctl = "smartctl"
)

// Health bases: how the verdict was reached.
const (
	// SmartBasisDevice: the drive's own verdict (NVMe critical warning byte,
	// ATA SMART RETURN STATUS or SCSI IE via smartctl).
	SmartBasisDevice = "device"
	// SmartBasisAttributes: computed from ATA attributes vs thresholds.
	SmartBasisAttributes = "attributes"
)

// ATA attribute IDs the SMART stage looks at.
const (
	ATAReallocatedSectors   = 5
	ATAPowerOnHours         = 9
	ATAPowerCycles          = 12
	ATAReportedUncorrect    = 187
	ATACommandTimeout       = 188
	ATAAirflowTemperature   = 190
	ATATemperature          = 194
	ATAPendingSectors       = 197
	ATAOfflineUncorrectable = 198
	ATAUDMACRCErrors        = 199
)

var (
	// ErrSmartUnreadable means SMART data could not be read (device could not
	// be opened, command failed, unknown USB bridge, no SMART support). It is
	// "could not decide", never a verdict.
	ErrSmartUnreadable = errors.New("smart data unreadable")
	// ErrSmartUnsupported means a reader cannot handle this device (smart.go
	// and a SCSI disk); the production reader then falls back to smartctl.
	ErrSmartUnsupported = errors.New("smart reader does not support this device")
)

// SmartReader reads one disk's SMART data. dev is a device path (as given
// to the reader; NewSmartReader maps names through Env).
type SmartReader interface {
	Read(ctx context.Context, dev string) (*SmartReport, error)
}

// SmartReaderFunc adapts a function to SmartReader (stage tests use it to
// return fixture reports: ParseSmartctlJSON of a testdata file, say).
type SmartReaderFunc func(ctx context.Context, dev string) (*SmartReport, error)

// Read implements SmartReader.
func (f SmartReaderFunc) Read(ctx context.Context, dev string) (*SmartReport, error) {
	return f(ctx, dev)
}

// SmartReport is one disk's SMART state. Optional numbers are pointers: nil
// means "not reported", never zero.
type SmartReport struct {
	Device   string `json:"device"`
	Protocol string `json:"protocol"` // nvme | ata | scsi
	Source   string `json:"source"`   // smart.go | smartctl
	// SourceNote says why the fallback was used ("smart.go: ...").
	SourceNote    string  `json:"source_note,omitempty"`
	Model         string  `json:"model,omitempty"`
	Serial        string  `json:"serial,omitempty"`
	Firmware      string  `json:"firmware,omitempty"`
	WWN           string  `json:"wwn,omitempty"`
	CapacityBytes *uint64 `json:"capacity_bytes,omitempty"`

	Health      SmartHealth `json:"health"`
	HealthBasis string      `json:"health_basis,omitempty"` // device | attributes
	// HealthReasons explains a failed or unknown verdict.
	HealthReasons []string `json:"health_reasons,omitempty"`
	// Warnings are findings that do not fail the disk on their own
	// (reallocated sectors, error-log entries, attributes failed in the past).
	// The SMART stage applies its thresholds to the numbers, not to these.
	Warnings []string `json:"warnings,omitempty"`

	TemperatureC *float64 `json:"temperature_c,omitempty"`
	PowerOnHours *uint64  `json:"power_on_hours,omitempty"`
	PowerCycles  *uint64  `json:"power_cycles,omitempty"`

	NVMe     *SmartNVMe        `json:"nvme,omitempty"`
	ATA      *SmartATA         `json:"ata,omitempty"`
	SCSI     *SmartSCSI        `json:"scsi,omitempty"`
	SelfTest *SmartSelfTestLog `json:"self_test,omitempty"`
	Smartctl *SmartctlRun      `json:"smartctl,omitempty"`
}

// SmartNVMe is the NVMe SMART / Health Information log (page 02h).
type SmartNVMe struct {
	CriticalWarning uint8 `json:"critical_warning"`
	// CriticalWarnings decodes CriticalWarning's bits.
	CriticalWarnings           []string `json:"critical_warnings,omitempty"`
	AvailableSparePct          int      `json:"available_spare_pct"`
	AvailableSpareThresholdPct int      `json:"available_spare_threshold_pct"`
	PercentUsed                int      `json:"percent_used"`
	MediaErrors                *uint64  `json:"media_errors,omitempty"`
	ErrorLogEntries            *uint64  `json:"error_log_entries,omitempty"`
	UnsafeShutdowns            *uint64  `json:"unsafe_shutdowns,omitempty"`
	DataUnitsRead              *uint64  `json:"data_units_read,omitempty"`
	DataUnitsWritten           *uint64  `json:"data_units_written,omitempty"`
	WarningTempMinutes         *uint64  `json:"warning_temp_minutes,omitempty"`
	CriticalTempMinutes        *uint64  `json:"critical_temp_minutes,omitempty"`
}

// SmartATA is the ATA attribute table and error-log summary.
type SmartATA struct {
	Attributes []SmartATAAttribute `json:"attributes"`
	// ErrorLogCount is the device's ATA error count (nil when not read).
	ErrorLogCount *uint64 `json:"error_log_count,omitempty"`
}

// SmartATAAttribute is one ATA SMART attribute.
type SmartATAAttribute struct {
	ID        int    `json:"id"`
	Name      string `json:"name,omitempty"`
	Current   int    `json:"current"`
	Worst     int    `json:"worst"`
	Threshold *int   `json:"threshold,omitempty"`
	Raw       uint64 `json:"raw"`
	RawString string `json:"raw_string,omitempty"`
	Prefail   bool   `json:"prefail"`
	Online    bool   `json:"online"`
	// WhenFailed is "now" (normalised value at or below threshold), "past"
	// (worst value was) or "".
	WhenFailed string `json:"when_failed,omitempty"`
}

// SmartSCSI holds the SCSI/SAS health counters smartctl reports.
type SmartSCSI struct {
	GrownDefects      *uint64 `json:"grown_defects,omitempty"`
	UncorrectedRead   *uint64 `json:"uncorrected_read,omitempty"`
	UncorrectedWrite  *uint64 `json:"uncorrected_write,omitempty"`
	UncorrectedVerify *uint64 `json:"uncorrected_verify,omitempty"`
}

// SmartSelfTestLog summarises the self-test log and any test in progress.
type SmartSelfTestLog struct {
	InProgress bool `json:"in_progress"`
	// RemainingPercent of the running test (nil when none runs or unknown).
	RemainingPercent *int `json:"remaining_percent,omitempty"`
	// Entries, most recent first.
	Entries []SmartSelfTest `json:"entries,omitempty"`
	// Failed counts entries whose result is "failed".
	Failed int `json:"failed"`
}

// SmartSelfTest is one self-test log entry.
type SmartSelfTest struct {
	Type string `json:"type"`
	// Result is passed | failed | aborted | in_progress | unknown.
	Result       string  `json:"result"`
	Status       string  `json:"status,omitempty"` // the device's wording
	PowerOnHours *uint64 `json:"power_on_hours,omitempty"`
}

// Last returns the most recent entry.
func (l *SmartSelfTestLog) Last() (SmartSelfTest, bool) {
	if l == nil || len(l.Entries) == 0 {
		return SmartSelfTest{}, false
	}
	return l.Entries[0], true
}

// Summary is a one-line description for stage messages and logs:
// "/dev/sdb ata WDC WD3200BEVT-60ZCT0 (WD-WXE708D44602): FAILED: <first reason>".
func (r *SmartReport) Summary() string {
	if r == nil {
		return "no SMART report"
	}
	var b strings.Builder
	b.WriteString(r.Device)
	if r.Protocol != "" {
		b.WriteString(" " + r.Protocol)
	}
	if r.Model != "" {
		b.WriteString(" " + r.Model)
	}
	if r.Serial != "" {
		b.WriteString(" (" + r.Serial + ")")
	}
	b.WriteString(": " + strings.ToUpper(string(r.Health)))
	if len(r.HealthReasons) > 0 {
		b.WriteString(": " + r.HealthReasons[0])
		if n := len(r.HealthReasons) - 1; n > 0 {
			fmt.Fprintf(&b, " (+%d more)", n)
		}
	}
	return b.String()
}

// ATAAttribute returns attribute id, if the report has it.
func (r *SmartReport) ATAAttribute(id int) (SmartATAAttribute, bool) {
	if r == nil || r.ATA == nil {
		return SmartATAAttribute{}, false
	}
	for _, a := range r.ATA.Attributes {
		if a.ID == id {
			return a, true
		}
	}
	return SmartATAAttribute{}, false
}

// SmartCounters are the error counters the SMART stage applies thresholds to.
// nil means the disk does not report it.
type SmartCounters struct {
	// Reallocated: ATA 5 raw, or SCSI grown defects.
	Reallocated          *uint64 `json:"reallocated,omitempty"`
	ReportedUncorrect    *uint64 `json:"reported_uncorrect,omitempty"`    // ATA 187
	CommandTimeout       *uint64 `json:"command_timeout,omitempty"`       // ATA 188
	Pending              *uint64 `json:"pending,omitempty"`               // ATA 197
	OfflineUncorrectable *uint64 `json:"offline_uncorrectable,omitempty"` // ATA 198
	UDMACRCErrors        *uint64 `json:"udma_crc_errors,omitempty"`       // ATA 199 (cabling)
	// MediaErrors: NVMe media and data integrity errors, or the SCSI sum of
	// uncorrected read/write/verify errors.
	MediaErrors *uint64 `json:"media_errors,omitempty"`
}

// Counters returns the report's key error counters.
func (r *SmartReport) Counters() SmartCounters {
	var c SmartCounters
	if r == nil {
		return c
	}
	raw := func(id int) *uint64 {
		if a, ok := r.ATAAttribute(id); ok {
			v := a.Raw
			return &v
		}
		return nil
	}
	c.Reallocated = raw(ATAReallocatedSectors)
	c.ReportedUncorrect = raw(ATAReportedUncorrect)
	c.CommandTimeout = raw(ATACommandTimeout)
	c.Pending = raw(ATAPendingSectors)
	c.OfflineUncorrectable = raw(ATAOfflineUncorrectable)
	c.UDMACRCErrors = raw(ATAUDMACRCErrors)
	if r.NVMe != nil {
		c.MediaErrors = r.NVMe.MediaErrors
	}
	if r.SCSI != nil {
		if r.SCSI.GrownDefects != nil {
			c.Reallocated = r.SCSI.GrownDefects
		}
		var sum uint64
		any := false
		for _, p := range []*uint64{r.SCSI.UncorrectedRead, r.SCSI.UncorrectedWrite, r.SCSI.UncorrectedVerify} {
			if p != nil {
				sum += *p
				any = true
			}
		}
		if any {
			c.MediaErrors = &sum
		}
	}
	return c
}

// SmartDevicePath maps a device argument to a path under env.Root: a bare
// name ("sda", "nvme0n1") goes under <root>/dev, an absolute path
// ("/dev/disk/by-id/...") is re-rooted under <root>.
func SmartDevicePath(env Env, dev string) string {
	if filepath.IsAbs(dev) {
		return env.Path(dev)
	}
	return env.Dev(dev)
}

// nvmeCriticalWarningBits names the NVMe SMART log critical-warning bits
// (NVM Express Base Specification, SMART / Health Information log, byte 0).
var nvmeCriticalWarningBits = []string{
	"available spare below threshold",
	"temperature outside thresholds",
	"NVM subsystem reliability degraded",
	"media placed in read-only mode",
	"volatile memory backup device failed",
	"persistent memory region read-only or unreliable",
}

// decodeNVMeCriticalWarning lists the set bits of the critical-warning byte.
func decodeNVMeCriticalWarning(cw uint8) []string {
	var out []string
	for i := 0; i < 8; i++ {
		if cw&(1<<i) == 0 {
			continue
		}
		if i < len(nvmeCriticalWarningBits) {
			out = append(out, nvmeCriticalWarningBits[i])
		} else {
			out = append(out, fmt.Sprintf("reserved bit %d", i))
		}
	}
	return out
}

// finishNVMe applies the NVMe verdict rules to a report whose NVMe section is
// filled: any critical-warning bit fails the disk (smartctl reports FAILED
// then too); media errors and worn-out endurance are warnings.
func finishNVMe(r *SmartReport) {
	n := r.NVMe
	n.CriticalWarnings = decodeNVMeCriticalWarning(n.CriticalWarning)
	if n.CriticalWarning != 0 {
		r.Health, r.HealthBasis = SmartFailed, SmartBasisDevice
		for _, w := range n.CriticalWarnings {
			r.HealthReasons = appendUnique(r.HealthReasons, "NVMe critical warning: "+w)
		}
	} else if r.Health == "" {
		r.Health, r.HealthBasis = SmartPassed, SmartBasisDevice
	}
	if n.AvailableSpareThresholdPct > 0 && n.AvailableSparePct < n.AvailableSpareThresholdPct {
		r.Warnings = appendUnique(r.Warnings, fmt.Sprintf("available spare %d%% below threshold %d%%", n.AvailableSparePct, n.AvailableSpareThresholdPct))
	}
	if n.MediaErrors != nil && *n.MediaErrors > 0 {
		r.Warnings = appendUnique(r.Warnings, fmt.Sprintf("%d media and data integrity errors", *n.MediaErrors))
	}
	if n.PercentUsed >= 100 {
		r.Warnings = appendUnique(r.Warnings, fmt.Sprintf("endurance used %d%%", n.PercentUsed))
	}
	if n.ErrorLogEntries != nil && *n.ErrorLogEntries > 0 {
		r.Warnings = appendUnique(r.Warnings, fmt.Sprintf("%d error information log entries", *n.ErrorLogEntries))
	}
}

// evaluateATAAttributes fills WhenFailed the way smartmontools does
// (atacmds.cpp ata_get_attr_state): a threshold of 0 means "always passing";
// a normalised value outside 1..253 is not valid and not judged; otherwise
// value <= threshold fails now and worst <= threshold failed in the past.
// It returns the attributes failing now that are pre-fail.
func evaluateATAAttributes(attrs []SmartATAAttribute) (prefailNow []SmartATAAttribute) {
	for i := range attrs {
		a := &attrs[i]
		if a.Threshold == nil || *a.Threshold == 0 || a.Current < 1 || a.Current > 253 {
			continue
		}
		t := *a.Threshold
		switch {
		case a.Current <= t:
			a.WhenFailed = "now"
		case a.Worst >= 1 && a.Worst <= 253 && a.Worst <= t:
			a.WhenFailed = "past"
		}
		if a.WhenFailed == "now" && a.Prefail {
			prefailNow = append(prefailNow, *a)
		}
	}
	return prefailNow
}

// finishATA adds the attribute-based reasons and warnings. When the report
// has no device verdict yet (smart.go), the attributes decide.
func finishATA(r *SmartReport) {
	attrs := r.ATA.Attributes
	var failing []SmartATAAttribute
	if r.Source == SmartSourceSmartGo {
		failing = evaluateATAAttributes(attrs)
	} else {
		for _, a := range attrs {
			if a.WhenFailed == "now" && a.Prefail {
				failing = append(failing, a)
			}
		}
	}
	for _, a := range failing {
		r.HealthReasons = appendUnique(r.HealthReasons, fmt.Sprintf("pre-fail attribute %d %s: value %d at or below threshold %d", a.ID, a.Name, a.Current, derefInt(a.Threshold)))
	}
	if r.Health == "" {
		r.HealthBasis = SmartBasisAttributes
		r.Health = SmartPassed
		if len(failing) > 0 {
			r.Health = SmartFailed
		}
	} else if len(failing) > 0 {
		r.Health = SmartFailed
	}
	for _, a := range attrs {
		switch {
		case a.WhenFailed == "now" && !a.Prefail:
			r.Warnings = appendUnique(r.Warnings, fmt.Sprintf("old-age attribute %d %s at or below threshold now", a.ID, a.Name))
		case a.WhenFailed == "past":
			r.Warnings = appendUnique(r.Warnings, fmt.Sprintf("attribute %d %s was at or below threshold in the past", a.ID, a.Name))
		}
	}
	for _, c := range []struct {
		id   int
		what string
	}{
		{ATAReallocatedSectors, "reallocated sectors"},
		{ATAPendingSectors, "pending sectors"},
		{ATAOfflineUncorrectable, "offline uncorrectable sectors"},
		{ATAReportedUncorrect, "reported uncorrectable errors"},
		{ATAUDMACRCErrors, "UDMA CRC errors (cable or backplane)"},
	} {
		if a, ok := r.ATAAttribute(c.id); ok && a.Raw > 0 && a.Raw < 1<<32 {
			r.Warnings = appendUnique(r.Warnings, fmt.Sprintf("%d %s (attribute %d)", a.Raw, c.what, c.id))
		}
	}
	if r.ATA.ErrorLogCount != nil && *r.ATA.ErrorLogCount > 0 {
		r.Warnings = appendUnique(r.Warnings, fmt.Sprintf("%d errors in the ATA error log", *r.ATA.ErrorLogCount))
	}
}

// FinishSmartReport applies the verdict rules to a report a reader filled
// (NVMe critical warning, spare, media errors; ATA pre-fail attributes at or
// below threshold; failed self-tests). Readers outside this package (the
// smart.go one in collector/nativesmart) call it once their fields are set.
func FinishSmartReport(r *SmartReport) {
	if r.SelfTest != nil {
		countFailed(r.SelfTest)
	}
	switch {
	case r.NVMe != nil:
		finishNVMe(r)
	case r.ATA != nil:
		finishATA(r)
	}
	finishSelfTest(r)
}

// ATASelfTestResult maps an ATA self-test execution status byte to a result
// ("passed", "aborted", "failed", "in_progress", "unknown").
func ATASelfTestResult(status int) string { return ataSelfTestResult(status) }

// finishSelfTest adds a warning for failed self-tests.
func finishSelfTest(r *SmartReport) {
	if r.SelfTest == nil {
		return
	}
	if last, ok := r.SelfTest.Last(); ok && last.Result == "failed" {
		r.Warnings = appendUnique(r.Warnings, fmt.Sprintf("last self-test (%s) failed: %s", last.Type, last.Status))
	} else if r.SelfTest.Failed > 0 {
		r.Warnings = appendUnique(r.Warnings, fmt.Sprintf("%d failed self-tests in the log", r.SelfTest.Failed))
	}
}

// ataSelfTestResult maps an ATA self-test execution status byte (upper
// nibble, ACS "Self-test execution status") to a result.
func ataSelfTestResult(status int) string {
	switch status >> 4 {
	case 0:
		return "passed"
	case 1, 2:
		return "aborted"
	case 3, 4, 5, 6, 7, 8:
		return "failed"
	case 15:
		return "in_progress"
	default:
		return "unknown"
	}
}

// nvmeSelfTestResult maps an NVMe self-test result code (Device Self-test
// log, result bits 3:0). ok is false for unused entries (0xF).
func nvmeSelfTestResult(code int) (string, bool) {
	switch code {
	case 0:
		return "passed", true
	case 1, 2, 3, 4, 8, 9:
		return "aborted", true
	case 5, 6, 7:
		return "failed", true
	case 0xf:
		return "", false
	default:
		return "unknown", true
	}
}

func countFailed(l *SmartSelfTestLog) {
	l.Failed = 0
	for _, e := range l.Entries {
		if e.Result == "failed" {
			l.Failed++
		}
	}
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
