package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown/shakedown/collector/tool"
)

// smartctl fallback: `smartctl -j -x DEV` parsed from an io.Reader.
//
// The exit status is a bit mask (smartctl(8) "RETURN VALUES"):
//
//	bit 0  command line did not parse                  -> could not read (error)
//	bit 1  device open failed / unknown device type    -> could not read (error)
//	bit 2  a SMART or other command failed, or a
//	       checksum error in a data structure          -> partial data; error when nothing was read
//	bit 3  SMART status check: DISK FAILING            -> health failed
//	bit 4  pre-fail attribute <= threshold             -> health failed
//	bit 5  an attribute was <= threshold in the past   -> warning
//	bit 6  the device error log has errors             -> warning
//	bit 7  the self-test log has errors                -> warning
//
// A non-zero exit is therefore never "bad disk" by itself.

// SmartctlExit is smartctl's exit status.
type SmartctlExit int

// Bits of SmartctlExit.
const (
	SmartctlCmdLineError   SmartctlExit = 1 << 0
	SmartctlOpenFailed     SmartctlExit = 1 << 1
	SmartctlCommandFailed  SmartctlExit = 1 << 2
	SmartctlDiskFailing    SmartctlExit = 1 << 3
	SmartctlPrefailFailing SmartctlExit = 1 << 4
	SmartctlPastThreshold  SmartctlExit = 1 << 5
	SmartctlErrorLog       SmartctlExit = 1 << 6
	SmartctlSelfTestErrors SmartctlExit = 1 << 7
)

var smartctlBitNames = []string{
	"command line did not parse or device type unknown",
	"device open failed",
	"a SMART command failed or a data structure had a checksum error",
	"SMART status: DISK FAILING",
	"pre-fail attribute at or below threshold",
	"attribute at or below threshold in the past",
	"device error log contains errors",
	"self-test log contains errors",
}

// Has reports whether bit b is set.
func (e SmartctlExit) Has(b SmartctlExit) bool { return e&b != 0 }

// Unreadable reports bits 0 or 1: smartctl read nothing.
func (e SmartctlExit) Unreadable() bool { return e.Has(SmartctlCmdLineError | SmartctlOpenFailed) }

// Describe names the set bits.
func (e SmartctlExit) Describe() []string {
	var out []string
	for i, n := range smartctlBitNames {
		if e&(1<<i) != 0 {
			out = append(out, fmt.Sprintf("bit %d: %s", i, n))
		}
	}
	return out
}

// SmartctlRun records the smartctl invocation a report came from.
type SmartctlRun struct {
	Version    string   `json:"version,omitempty"`
	ExitStatus int      `json:"exit_status"`
	ExitBits   []string `json:"exit_bits,omitempty"`
	Messages   []string `json:"messages,omitempty"`
}

// MaxSmartctlOutput caps how much smartctl output is read or parsed (a -x
// report of a disk with a long error log is a few hundred KiB).
const MaxSmartctlOutput = 8 << 20

// ErrSmartctlParse means smartctl's output is not the JSON we expect
// (truncated, not JSON, or an unsupported json_format_version).
var ErrSmartctlParse = errors.New("cannot parse smartctl json")

// jsonUint decodes a JSON number (or a numeric string) into a uint64. Values
// that do not fit (smartctl prints 128-bit NVMe counters) or are negative
// leave it unset instead of failing the whole document.
type jsonUint struct {
	V  uint64
	OK bool
}

func (u *jsonUint) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if v, err := strconv.ParseUint(s, 10, 64); err == nil {
		u.V, u.OK = v, true
		return nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1<<64 && f == float64(uint64(f)) {
		u.V, u.OK = uint64(f), true
	}
	return nil
}

func (u jsonUint) ptr() *uint64 {
	if !u.OK {
		return nil
	}
	v := u.V
	return &v
}

type smartctlValueString struct {
	Value  int    `json:"value"`
	String string `json:"string"`
}

type smartctlStatus struct {
	Value            int    `json:"value"`
	String           string `json:"string"`
	RemainingPercent *int   `json:"remaining_percent"`
	Passed           *bool  `json:"passed"`
}

type smartctlATASelfTestTable struct {
	Table []struct {
		Type          smartctlValueString `json:"type"`
		Status        smartctlStatus      `json:"status"`
		LifetimeHours jsonUint            `json:"lifetime_hours"`
	} `json:"table"`
}

type smartctlDoc struct {
	JSONFormatVersion []int `json:"json_format_version"`
	Smartctl          struct {
		Version    []int `json:"version"`
		ExitStatus *int  `json:"exit_status"`
		Messages   []struct {
			String   string `json:"string"`
			Severity string `json:"severity"`
		} `json:"messages"`
	} `json:"smartctl"`
	Device struct {
		Name     string `json:"name"`
		InfoName string `json:"info_name"`
		Type     string `json:"type"`
		Protocol string `json:"protocol"`
	} `json:"device"`
	ModelName       string `json:"model_name"`
	SCSIModelName   string `json:"scsi_model_name"`
	SerialNumber    string `json:"serial_number"`
	FirmwareVersion string `json:"firmware_version"`
	SCSIRevision    string `json:"scsi_revision"`
	WWN             *struct {
		NAA uint64 `json:"naa"`
		OUI uint64 `json:"oui"`
		ID  uint64 `json:"id"`
	} `json:"wwn"`
	LogicalUnitID string `json:"logical_unit_id"`
	UserCapacity  *struct {
		Bytes jsonUint `json:"bytes"`
	} `json:"user_capacity"`
	NVMeTotalCapacity jsonUint `json:"nvme_total_capacity"`
	SmartSupport      *struct {
		Available *bool `json:"available"`
		Enabled   *bool `json:"enabled"`
	} `json:"smart_support"`
	SmartStatus *struct {
		Passed *bool `json:"passed"`
	} `json:"smart_status"`
	Temperature *struct {
		Current *float64 `json:"current"`
	} `json:"temperature"`
	PowerOnTime *struct {
		Hours jsonUint `json:"hours"`
	} `json:"power_on_time"`
	PowerCycleCount jsonUint `json:"power_cycle_count"`
	ATASmartData    *struct {
		SelfTest *struct {
			Status *smartctlStatus `json:"status"`
		} `json:"self_test"`
	} `json:"ata_smart_data"`
	ATASmartAttributes *struct {
		Table []struct {
			ID         int    `json:"id"`
			Name       string `json:"name"`
			Value      int    `json:"value"`
			Worst      int    `json:"worst"`
			Thresh     *int   `json:"thresh"`
			WhenFailed string `json:"when_failed"`
			Flags      struct {
				Prefailure    bool `json:"prefailure"`
				UpdatedOnline bool `json:"updated_online"`
			} `json:"flags"`
			Raw struct {
				Value  jsonUint `json:"value"`
				String string   `json:"string"`
			} `json:"raw"`
		} `json:"table"`
	} `json:"ata_smart_attributes"`
	ATASmartErrorLog *struct {
		Summary *struct {
			Count jsonUint `json:"count"`
		} `json:"summary"`
		Extended *struct {
			Count jsonUint `json:"count"`
		} `json:"extended"`
	} `json:"ata_smart_error_log"`
	ATASmartSelfTestLog *struct {
		Standard *smartctlATASelfTestTable `json:"standard"`
		Extended *smartctlATASelfTestTable `json:"extended"`
	} `json:"ata_smart_self_test_log"`
	NVMeLog *struct {
		CriticalWarning         int      `json:"critical_warning"`
		AvailableSpare          int      `json:"available_spare"`
		AvailableSpareThreshold int      `json:"available_spare_threshold"`
		PercentageUsed          int      `json:"percentage_used"`
		DataUnitsRead           jsonUint `json:"data_units_read"`
		DataUnitsWritten        jsonUint `json:"data_units_written"`
		UnsafeShutdowns         jsonUint `json:"unsafe_shutdowns"`
		MediaErrors             jsonUint `json:"media_errors"`
		NumErrLogEntries        jsonUint `json:"num_err_log_entries"`
		WarningTempTime         jsonUint `json:"warning_temp_time"`
		CriticalCompTime        jsonUint `json:"critical_comp_time"`
	} `json:"nvme_smart_health_information_log"`
	NVMeSelfTestLog *struct {
		CurrentOperation *smartctlValueString `json:"current_self_test_operation"`
		CompletionPct    *int                 `json:"current_self_test_completion_percent"`
		Table            []struct {
			Code         smartctlValueString `json:"self_test_code"`
			Result       smartctlValueString `json:"self_test_result"`
			PowerOnHours jsonUint            `json:"power_on_hours"`
		} `json:"table"`
	} `json:"nvme_self_test_log"`
	SCSIGrownDefectList jsonUint `json:"scsi_grown_defect_list"`
	SCSIErrorCounterLog *struct {
		Read *struct {
			TotalUncorrectedErrors jsonUint `json:"total_uncorrected_errors"`
		} `json:"read"`
		Write *struct {
			TotalUncorrectedErrors jsonUint `json:"total_uncorrected_errors"`
		} `json:"write"`
		Verify *struct {
			TotalUncorrectedErrors jsonUint `json:"total_uncorrected_errors"`
		} `json:"verify"`
	} `json:"scsi_error_counter_log"`
}

// scsiSelfTest is one "scsi_self_test_<N>" entry (smartctl 7.3 layout).
type scsiSelfTest struct {
	Code        smartctlValueString `json:"code"`
	Result      smartctlValueString `json:"result"`
	PowerOnTime *struct {
		Hours jsonUint `json:"hours"`
	} `json:"power_on_time"`
}

// ParseSmartctlJSON parses `smartctl -j` output. exitCode is the process exit
// status; pass a negative value to use the "smartctl.exit_status" the JSON
// carries. Bits 0-1 (and bit 2 with no SMART data at all) return an error
// wrapping ErrSmartUnreadable; malformed or truncated JSON and an
// unsupported json_format_version return an error wrapping ErrSmartctlParse.
// Health verdicts are never errors.
func ParseSmartctlJSON(r io.Reader, exitCode int) (*SmartReport, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSmartctlOutput+1))
	if err != nil {
		return nil, fmt.Errorf("read smartctl output: %w", err)
	}
	if len(data) > MaxSmartctlOutput {
		return nil, fmt.Errorf("%w: output larger than %d bytes", ErrSmartctlParse, MaxSmartctlOutput)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: empty output", ErrSmartctlParse)
	}
	var doc smartctlDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v (truncated or not JSON)", ErrSmartctlParse, err)
	}
	if len(doc.JSONFormatVersion) == 0 || doc.JSONFormatVersion[0] != 1 {
		return nil, fmt.Errorf("%w: json_format_version %v, want [1,x] (smartctl 7.0 or newer)", ErrSmartctlParse, doc.JSONFormatVersion)
	}
	run := &SmartctlRun{}
	if len(doc.Smartctl.Version) >= 2 {
		run.Version = fmt.Sprintf("%d.%d", doc.Smartctl.Version[0], doc.Smartctl.Version[1])
	}
	for _, m := range doc.Smartctl.Messages {
		run.Messages = append(run.Messages, m.String)
	}
	var warnings []string
	switch {
	case exitCode >= 0:
		run.ExitStatus = exitCode
		if doc.Smartctl.ExitStatus != nil && *doc.Smartctl.ExitStatus != exitCode {
			warnings = append(warnings, fmt.Sprintf("smartctl exit status %d differs from the %d in its JSON", exitCode, *doc.Smartctl.ExitStatus))
		}
	case doc.Smartctl.ExitStatus != nil:
		run.ExitStatus = *doc.Smartctl.ExitStatus
	default:
		return nil, fmt.Errorf("%w: no exit status", ErrSmartctlParse)
	}
	exit := SmartctlExit(run.ExitStatus)
	run.ExitBits = exit.Describe()
	if exit.Unreadable() || run.ExitStatus > 0xff || run.ExitStatus < 0 {
		return nil, fmt.Errorf("%w: smartctl exit %d (%s): %s", ErrSmartUnreadable, run.ExitStatus,
			strings.Join(run.ExitBits, "; "), strings.Join(run.Messages, "; "))
	}
	hasData := doc.SmartStatus != nil || doc.ATASmartAttributes != nil || doc.NVMeLog != nil ||
		doc.SCSIGrownDefectList.OK || doc.SCSIErrorCounterLog != nil
	if !hasData && (exit.Has(SmartctlCommandFailed) || doc.Device.Protocol == "") {
		why := strings.Join(run.Messages, "; ")
		if why == "" && doc.SmartSupport != nil && doc.SmartSupport.Available != nil && !*doc.SmartSupport.Available {
			why = "device has no SMART support"
		}
		return nil, fmt.Errorf("%w: smartctl exit %d returned no SMART data: %s", ErrSmartUnreadable, run.ExitStatus, why)
	}

	rep := &SmartReport{
		Device:   doc.Device.Name,
		Source:   SmartSourceSmartctl,
		Smartctl: run,
		Warnings: warnings,
		Model:    strings.TrimSpace(doc.ModelName),
		Serial:   strings.TrimSpace(doc.SerialNumber),
		Firmware: strings.TrimSpace(doc.FirmwareVersion),
	}
	switch strings.ToLower(doc.Device.Protocol) {
	case "nvme":
		rep.Protocol = "nvme"
	case "ata":
		rep.Protocol = "ata"
	case "scsi":
		rep.Protocol = "scsi"
	default:
		rep.Protocol = strings.ToLower(doc.Device.Protocol)
	}
	if rep.Model == "" {
		rep.Model = strings.TrimSpace(doc.SCSIModelName)
	}
	if rep.Firmware == "" {
		rep.Firmware = strings.TrimSpace(doc.SCSIRevision)
	}
	if doc.WWN != nil {
		rep.WWN = fmt.Sprintf("0x%x%06x%09x", doc.WWN.NAA&0xf, doc.WWN.OUI&0xffffff, doc.WWN.ID&0xfffffffff)
	} else if doc.LogicalUnitID != "" {
		rep.WWN = doc.LogicalUnitID
	}
	if doc.UserCapacity != nil && doc.UserCapacity.Bytes.OK {
		rep.CapacityBytes = doc.UserCapacity.Bytes.ptr()
	} else if doc.NVMeTotalCapacity.OK {
		rep.CapacityBytes = doc.NVMeTotalCapacity.ptr()
	}
	if doc.Temperature != nil && doc.Temperature.Current != nil {
		t := *doc.Temperature.Current
		rep.TemperatureC = &t
	}
	if doc.PowerOnTime != nil {
		rep.PowerOnHours = doc.PowerOnTime.Hours.ptr()
	}
	rep.PowerCycles = doc.PowerCycleCount.ptr()

	// The device's own verdict first, then smartctl's bits.
	if doc.SmartStatus != nil && doc.SmartStatus.Passed != nil {
		rep.HealthBasis = SmartBasisDevice
		if *doc.SmartStatus.Passed {
			rep.Health = SmartPassed
		} else {
			rep.Health = SmartFailed
			rep.HealthReasons = append(rep.HealthReasons, "drive reports SMART overall-health FAILED")
		}
	}
	if exit.Has(SmartctlDiskFailing) {
		rep.Health, rep.HealthBasis = SmartFailed, SmartBasisDevice
		rep.HealthReasons = appendUnique(rep.HealthReasons, "smartctl: SMART status DISK FAILING (exit bit 3)")
	}
	if exit.Has(SmartctlPrefailFailing) {
		rep.Health = SmartFailed
		rep.HealthReasons = appendUnique(rep.HealthReasons, "smartctl: pre-fail attribute at or below threshold (exit bit 4)")
	}
	if exit.Has(SmartctlCommandFailed) {
		rep.Warnings = appendUnique(rep.Warnings, "smartctl: some SMART commands failed or returned bad checksums (exit bit 2); data may be partial")
	}
	if exit.Has(SmartctlPastThreshold) {
		rep.Warnings = appendUnique(rep.Warnings, "smartctl: an attribute was at or below threshold in the past (exit bit 5)")
	}
	if exit.Has(SmartctlErrorLog) {
		rep.Warnings = appendUnique(rep.Warnings, "smartctl: the device error log contains errors (exit bit 6)")
	}
	if exit.Has(SmartctlSelfTestErrors) {
		rep.Warnings = appendUnique(rep.Warnings, "smartctl: the self-test log contains errors (exit bit 7)")
	}

	if n := doc.NVMeLog; n != nil {
		rep.NVMe = &SmartNVMe{
			CriticalWarning:            uint8(n.CriticalWarning),
			AvailableSparePct:          n.AvailableSpare,
			AvailableSpareThresholdPct: n.AvailableSpareThreshold,
			PercentUsed:                n.PercentageUsed,
			MediaErrors:                n.MediaErrors.ptr(),
			ErrorLogEntries:            n.NumErrLogEntries.ptr(),
			UnsafeShutdowns:            n.UnsafeShutdowns.ptr(),
			DataUnitsRead:              n.DataUnitsRead.ptr(),
			DataUnitsWritten:           n.DataUnitsWritten.ptr(),
			WarningTempMinutes:         n.WarningTempTime.ptr(),
			CriticalTempMinutes:        n.CriticalCompTime.ptr(),
		}
		finishNVMe(rep)
	}
	if a := doc.ATASmartAttributes; a != nil {
		rep.ATA = &SmartATA{Attributes: make([]SmartATAAttribute, 0, len(a.Table))}
		for _, t := range a.Table {
			x := SmartATAAttribute{
				ID: t.ID, Name: t.Name, Current: t.Value, Worst: t.Worst, Threshold: t.Thresh,
				Raw: t.Raw.Value.V, RawString: t.Raw.String,
				Prefail: t.Flags.Prefailure, Online: t.Flags.UpdatedOnline,
				WhenFailed: strings.ToLower(strings.TrimSpace(t.WhenFailed)),
			}
			if x.WhenFailed == "in_the_past" {
				x.WhenFailed = "past"
			}
			rep.ATA.Attributes = append(rep.ATA.Attributes, x)
		}
		if l := doc.ATASmartErrorLog; l != nil {
			switch {
			case l.Extended != nil && l.Extended.Count.OK:
				rep.ATA.ErrorLogCount = l.Extended.Count.ptr()
			case l.Summary != nil && l.Summary.Count.OK:
				rep.ATA.ErrorLogCount = l.Summary.Count.ptr()
			}
		}
		finishATA(rep)
	}
	if rep.Protocol == "scsi" {
		s := &SmartSCSI{GrownDefects: doc.SCSIGrownDefectList.ptr()}
		if l := doc.SCSIErrorCounterLog; l != nil {
			if l.Read != nil {
				s.UncorrectedRead = l.Read.TotalUncorrectedErrors.ptr()
			}
			if l.Write != nil {
				s.UncorrectedWrite = l.Write.TotalUncorrectedErrors.ptr()
			}
			if l.Verify != nil {
				s.UncorrectedVerify = l.Verify.TotalUncorrectedErrors.ptr()
			}
		}
		rep.SCSI = s
		if s.GrownDefects != nil && *s.GrownDefects > 0 {
			rep.Warnings = appendUnique(rep.Warnings, fmt.Sprintf("%d grown defects", *s.GrownDefects))
		}
		if c := rep.Counters(); c.MediaErrors != nil && *c.MediaErrors > 0 {
			rep.Warnings = appendUnique(rep.Warnings, fmt.Sprintf("%d uncorrected read/write/verify errors", *c.MediaErrors))
		}
	}
	rep.SelfTest = selfTestFromSmartctl(&doc, data)
	finishSelfTest(rep)
	if rep.Health == "" {
		rep.Health = SmartUnknown
		rep.HealthReasons = appendUnique(rep.HealthReasons, "smartctl reported no overall health")
		if ss := doc.SmartSupport; ss != nil && ss.Available != nil && !*ss.Available {
			rep.HealthReasons = appendUnique(rep.HealthReasons, "the device has no SMART support")
		} else if ss != nil && ss.Enabled != nil && !*ss.Enabled {
			rep.HealthReasons = appendUnique(rep.HealthReasons, "SMART is disabled on the device (the agent does not enable it)")
		}
	}
	return rep, nil
}

// selfTestFromSmartctl builds the self-test summary (nil when the output has
// no self-test information).
func selfTestFromSmartctl(doc *smartctlDoc, raw []byte) *SmartSelfTestLog {
	var out *SmartSelfTestLog
	get := func() *SmartSelfTestLog {
		if out == nil {
			out = &SmartSelfTestLog{}
		}
		return out
	}
	if d := doc.ATASmartData; d != nil && d.SelfTest != nil && d.SelfTest.Status != nil {
		st := d.SelfTest.Status
		if st.Value>>4 == 0xf {
			l := get()
			l.InProgress = true
			rem := (st.Value & 0xf) * 10
			if st.RemainingPercent != nil {
				rem = *st.RemainingPercent
			}
			l.RemainingPercent = &rem
		}
	}
	if l := doc.ATASmartSelfTestLog; l != nil {
		tbl := l.Extended
		if tbl == nil || len(tbl.Table) == 0 {
			tbl = l.Standard
		}
		if tbl != nil {
			o := get()
			for _, e := range tbl.Table {
				o.Entries = append(o.Entries, SmartSelfTest{
					Type: e.Type.String, Result: ataSelfTestResult(e.Status.Value), Status: e.Status.String,
					PowerOnHours: e.LifetimeHours.ptr(),
				})
			}
		}
	}
	if n := doc.NVMeSelfTestLog; n != nil {
		o := get()
		if n.CurrentOperation != nil && n.CurrentOperation.Value != 0 {
			o.InProgress = true
			if n.CompletionPct != nil {
				rem := 100 - *n.CompletionPct
				o.RemainingPercent = &rem
			}
		}
		for _, e := range n.Table {
			res, used := nvmeSelfTestResult(e.Result.Value & 0xf)
			if !used {
				continue
			}
			o.Entries = append(o.Entries, SmartSelfTest{Type: e.Code.String, Result: res, Status: e.Result.String, PowerOnHours: e.PowerOnHours.ptr()})
		}
	}
	if doc.Device.Protocol == "SCSI" && bytes.Contains(raw, []byte(`"scsi_self_test_`)) {
		var top map[string]json.RawMessage
		if json.Unmarshal(raw, &top) == nil {
			var keys []int
			for k := range top {
				if n, ok := strings.CutPrefix(k, "scsi_self_test_"); ok {
					if i, err := strconv.Atoi(n); err == nil {
						keys = append(keys, i)
					}
				}
			}
			sort.Ints(keys)
			for _, i := range keys {
				var e scsiSelfTest
				if json.Unmarshal(top["scsi_self_test_"+strconv.Itoa(i)], &e) != nil {
					continue
				}
				o := get()
				t := SmartSelfTest{Type: e.Code.String, Result: scsiSelfTestResult(e.Result.Value), Status: e.Result.String}
				if e.PowerOnTime != nil {
					t.PowerOnHours = e.PowerOnTime.Hours.ptr()
				}
				o.Entries = append(o.Entries, t)
			}
		}
	}
	if out != nil {
		countFailed(out)
	}
	return out
}

// scsiSelfTestResult maps a SCSI self-test results log "self-test result"
// value (SPC-4 table "SELF-TEST RESULTS field").
func scsiSelfTestResult(v int) string {
	switch v {
	case 0:
		return "passed"
	case 1, 2:
		return "aborted"
	case 3, 4, 5, 6, 7:
		return "failed"
	case 15:
		return "in_progress"
	default:
		return "unknown"
	}
}

// SmartctlReader reads SMART by running `smartctl -j -x DEV` through a
// tool.Runner. dev is used as given (NewSmartReader maps it through Env).
type SmartctlReader struct {
	Tools tool.Runner
	Log   *slog.Logger
	// Timeout bounds one smartctl run (default 2 minutes: -x on a drive busy
	// retrying bad sectors is slow).
	Timeout time.Duration
	// DeviceType, if set, is passed as `-d TYPE`: "megaraid,N" / "cciss,N" /
	// "aacraid,H,L,ID" for a physical disk behind a RAID HBA, "sat" for a USB
	// bridge smartctl does not know. Empty lets smartctl detect it.
	DeviceType string
}

// Read implements SmartReader.
func (s *SmartctlReader) Read(ctx context.Context, dev string) (*SmartReport, error) {
	args := []string{"-j", "-x"}
	if s.DeviceType != "" {
		args = append(args, "-d", s.DeviceType)
	}
	out, err := s.run(ctx, append(args, dev)...)
	if err != nil {
		return nil, err
	}
	rep, err := ParseSmartctlJSON(bytes.NewReader(out.Stdout), out.ExitCode)
	if err != nil {
		return nil, fmt.Errorf("smartctl -x %s: %w", dev, err)
	}
	if rep.Device == "" {
		rep.Device = dev
	}
	return rep, nil
}

func (s *SmartctlReader) run(ctx context.Context, args ...string) (tool.Output, error) {
	if s.Tools == nil {
		return tool.Output{}, fmt.Errorf("run smartctl: no tool runner: %w", tool.ErrNotFound)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	out, err := s.Tools.Run(ctx, tool.Cmd{Tool: "smartctl", Args: args, Timeout: timeout, MaxCapture: MaxSmartctlOutput})
	if err != nil {
		return out, fmt.Errorf("run smartctl %s: %w", strings.Join(args, " "), err)
	}
	if out.Signal != "" {
		return out, fmt.Errorf("run smartctl %s: killed by %s: %w", strings.Join(args, " "), out.Signal, ErrSmartUnreadable)
	}
	if out.Truncated {
		return out, fmt.Errorf("run smartctl %s: output over %d bytes: %w", strings.Join(args, " "), MaxSmartctlOutput, ErrSmartctlParse)
	}
	return out, nil
}

func (s *SmartctlReader) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// SmartText returns the human-readable SMART report for the smart-<disk>.txt
// artifact: `smartctl -x DEV` output when smartctl is installed (whatever its
// exit status: the bits are data, and a trailer line records them), else
// RenderSmartText of rep. source says which ("smartctl" or "rendered").
// rep may be nil when smartctl is available.
func SmartText(ctx context.Context, env Env, dev string, rep *SmartReport) (text []byte, source string, err error) {
	path := SmartDevicePath(env, dev)
	sc := &SmartctlReader{Tools: env.Tools, Log: env.Logger()}
	out, runErr := sc.run(ctx, "-x", path)
	if runErr == nil && len(bytes.TrimSpace(out.Stdout)) > 0 {
		var b bytes.Buffer
		b.Write(out.Stdout)
		if !bytes.HasSuffix(out.Stdout, []byte("\n")) {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "# smartctl exit status %d", out.ExitCode)
		if bits := SmartctlExit(out.ExitCode).Describe(); len(bits) > 0 && out.ExitCode >= 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(bits, "; "))
		}
		b.WriteByte('\n')
		return b.Bytes(), "smartctl", nil
	}
	if ctx.Err() != nil {
		return nil, "", ctx.Err()
	}
	if rep == nil {
		if runErr == nil {
			runErr = errors.New("empty output")
		}
		return nil, "", fmt.Errorf("smart text %s: smartctl: %w; no report to render", path, runErr)
	}
	sc.logger().Info("smartctl -x unavailable, rendering the report", "probe", "smart", "device", path, "err", runErr)
	var b bytes.Buffer
	if err := RenderSmartText(&b, rep); err != nil {
		return nil, "", err
	}
	return b.Bytes(), "rendered", nil
}

// ErrSelfTestUnsupported means the drive (or the installed smartctl) cannot
// run a self-test: the SMART stage skips the self-test, it is not a verdict.
var ErrSelfTestUnsupported = errors.New("self-test not supported")

// smartctlAtLeast compares smartctl's [major, minor] version.
func smartctlAtLeast(v []int, major, minor int) bool {
	if len(v) < 2 {
		return false
	}
	return v[0] > major || (v[0] == major && v[1] >= minor)
}

// SelfTestKind is a self-test to start.
type SelfTestKind string

// Self-test kinds. Both are non-destructive reads run by the drive itself.
const (
	SelfTestShort SelfTestKind = "short"
	SelfTestLong  SelfTestKind = "long"
)

// StartSelfTest starts a drive self-test with `smartctl -j -t short|long DEV`.
// smart.go has no self-test command, so this always uses smartctl.
func StartSelfTest(ctx context.Context, env Env, dev string, kind SelfTestKind) error {
	if kind != SelfTestShort && kind != SelfTestLong {
		return fmt.Errorf("start self-test: unknown kind %q", kind)
	}
	path := SmartDevicePath(env, dev)
	sc := &SmartctlReader{Tools: env.Tools, Log: env.Logger(), Timeout: time.Minute}
	out, err := sc.run(ctx, "-j", "-t", string(kind), path)
	if err != nil {
		return fmt.Errorf("start %s self-test on %s: %w", kind, path, err)
	}
	exit := SmartctlExit(out.ExitCode)
	var doc smartctlDoc
	_ = json.Unmarshal(out.Stdout, &doc)
	var msgs []string
	for _, m := range doc.Smartctl.Messages {
		msgs = append(msgs, m.String)
	}
	if exit.Unreadable() || exit.Has(SmartctlCommandFailed) || out.ExitCode < 0 {
		return fmt.Errorf("start %s self-test on %s: smartctl exit %d (%s): %s: %w", kind, path, out.ExitCode,
			strings.Join(exit.Describe(), "; "), strings.Join(msgs, "; "), ErrSmartUnreadable)
	}
	joined := strings.ToLower(strings.Join(msgs, "; ") + string(out.Stderr))
	if strings.Contains(joined, "not supported") {
		return fmt.Errorf("start %s self-test on %s: %s: %w", kind, path, strings.Join(msgs, "; "), ErrSelfTestUnsupported)
	}
	// smartctl before 7.4 exits 0 on `-t` for NVMe without sending Device
	// Self-test (seen with 7.3 on QEMU's NVMe): nothing would ever run.
	if strings.EqualFold(doc.Device.Protocol, "NVMe") && !smartctlAtLeast(doc.Smartctl.Version, 7, 4) {
		return fmt.Errorf("start %s self-test on %s: smartctl %v cannot run NVMe self-tests (needs 7.4): %w",
			kind, path, doc.Smartctl.Version, ErrSelfTestUnsupported)
	}
	sc.logger().Info("self-test started", "probe", "smart", "device", path, "kind", string(kind))
	return nil
}

// SelfTestProgress reads the running test and the self-test log with
// `smartctl -j -c -l selftest DEV`.
func SelfTestProgress(ctx context.Context, env Env, dev string) (*SmartSelfTestLog, error) {
	path := SmartDevicePath(env, dev)
	sc := &SmartctlReader{Tools: env.Tools, Log: env.Logger(), Timeout: time.Minute}
	out, err := sc.run(ctx, "-j", "-c", "-l", "selftest", path)
	if err != nil {
		return nil, fmt.Errorf("self-test progress %s: %w", path, err)
	}
	return parseSelfTestProgress(out.Stdout, out.ExitCode)
}

func parseSelfTestProgress(stdout []byte, exitCode int) (*SmartSelfTestLog, error) {
	if len(stdout) > MaxSmartctlOutput {
		return nil, fmt.Errorf("self-test progress: %w: output too large", ErrSmartctlParse)
	}
	var doc smartctlDoc
	if err := json.Unmarshal(stdout, &doc); err != nil {
		return nil, fmt.Errorf("self-test progress: %w: %v", ErrSmartctlParse, err)
	}
	if len(doc.JSONFormatVersion) == 0 || doc.JSONFormatVersion[0] != 1 {
		return nil, fmt.Errorf("self-test progress: %w: json_format_version %v", ErrSmartctlParse, doc.JSONFormatVersion)
	}
	if SmartctlExit(exitCode).Unreadable() {
		return nil, fmt.Errorf("self-test progress: smartctl exit %d: %w", exitCode, ErrSmartUnreadable)
	}
	l := selfTestFromSmartctl(&doc, stdout)
	if l == nil {
		return nil, fmt.Errorf("self-test progress: no self-test information in smartctl output: %w", ErrSmartUnreadable)
	}
	return l, nil
}

// WaitSelfTest polls SelfTestProgress every interval (default 30 s) until no
// test is running, calling progress (if set) after each poll, and returns the
// final log. It stops with ctx.
func WaitSelfTest(ctx context.Context, env Env, dev string, interval time.Duration, progress func(*SmartSelfTestLog)) (*SmartSelfTestLog, error) {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		l, err := SelfTestProgress(ctx, env, dev)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(l)
		}
		if !l.InProgress {
			return l, nil
		}
		select {
		case <-ctx.Done():
			return l, ctx.Err()
		case <-t.C:
		}
	}
}
