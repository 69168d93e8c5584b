package nativesmart

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	smartgo "github.com/anatol/smart.go"

	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/collector/tool"
)

var u64, hasString = testutil.U64, testutil.HasString

// Byte-level tests of the smart.go path: pages are laid out as the drive
// returns them (NVMe SMART/Health log page 02h; ATA SMART READ DATA,
// READ THRESHOLDS and the self-test log 06h) and decoded into smart.go's
// exported structures with encoding/binary exactly as smart.go does after its
// ioctl, then converted by the production functions.

// nvmeLogPage builds a 512-byte NVMe SMART / Health Information log.
func nvmeLogPage(critWarning byte, tempK uint16, spare, spareThresh, used byte, poh, cycles, unsafe, media, errLog uint64) []byte {
	p := make([]byte, 512)
	p[0] = critWarning
	binary.LittleEndian.PutUint16(p[1:], tempK)
	p[3], p[4], p[5] = spare, spareThresh, used
	put128 := func(off int, v uint64) { binary.LittleEndian.PutUint64(p[off:], v) }
	put128(32, 2025034)                       // data units read
	put128(48, 1969459)                       // data units written
	put128(112, cycles)                       // power cycles
	put128(128, poh)                          // power-on hours
	put128(144, unsafe)                       // unsafe shutdowns
	put128(160, media)                        // media and data integrity errors
	put128(176, errLog)                       // error information log entries
	binary.LittleEndian.PutUint32(p[192:], 7) // warning composite temperature time (min)
	binary.LittleEndian.PutUint32(p[196:], 1) // critical composite temperature time (min)
	return p
}

func decodeNVMeLog(t *testing.T, page []byte) *smartgo.NvmeSMARTLog {
	t.Helper()
	var l smartgo.NvmeSMARTLog
	if err := binary.Read(bytes.NewReader(page), binary.LittleEndian, &l); err != nil {
		t.Fatal(err)
	}
	return &l
}

func TestNVMeFromSmartGoPages(t *testing.T) {
	// QEMU's emulated NVMe (notes/lab.md): 50 °C, no warning.
	ok := nvmeReportFromSmartGo("/dev/nvme0", nil, nil, decodeNVMeLog(t, nvmeLogPage(0, 323, 100, 10, 3, 3149, 16, 12, 0, 0)))
	if ok.Health != collector.SmartPassed || ok.HealthBasis != collector.SmartBasisDevice || ok.Source != collector.SmartSourceSmartGo || ok.Protocol != "nvme" {
		t.Errorf("healthy: %s %s %s", ok.Health, ok.HealthBasis, ok.Source)
	}
	if ok.TemperatureC == nil || *ok.TemperatureC != 50 || u64(ok.PowerOnHours) != uint64(3149) || u64(ok.PowerCycles) != uint64(16) {
		t.Errorf("healthy numbers: %v %v %v", ok.TemperatureC, u64(ok.PowerOnHours), u64(ok.PowerCycles))
	}
	if n := ok.NVMe; n.AvailableSparePct != 100 || n.PercentUsed != 3 || u64(n.UnsafeShutdowns) != uint64(12) || u64(n.DataUnitsRead) != uint64(2025034) || u64(n.WarningTempMinutes) != uint64(7) {
		t.Errorf("healthy nvme: %+v", n)
	}
	if len(ok.Warnings) != 0 {
		t.Errorf("healthy warnings: %q", ok.Warnings)
	}

	// QEMU -device nvme,smart_critical_warning=2: temperature bit.
	bad := nvmeReportFromSmartGo("/dev/nvme1", nil, nil, decodeNVMeLog(t, nvmeLogPage(0x02, 323, 100, 10, 3, 10, 1, 0, 0, 0)))
	if bad.Health != collector.SmartFailed || !hasString(bad.HealthReasons, "temperature outside thresholds") {
		t.Errorf("critical warning 0x02: %s %q", bad.Health, bad.HealthReasons)
	}
	// Spare exhausted + read-only + media errors + worn out.
	worn := nvmeReportFromSmartGo("/dev/nvme2", nil, nil, decodeNVMeLog(t, nvmeLogPage(0x09, 0, 5, 10, 104, 40000, 900, 50, 17, 3)))
	if worn.Health != collector.SmartFailed || len(worn.NVMe.CriticalWarnings) != 2 || !hasString(worn.HealthReasons, "available spare below threshold") || !hasString(worn.HealthReasons, "read-only") {
		t.Errorf("worn: %s %q", worn.Health, worn.HealthReasons)
	}
	for _, w := range []string{"available spare 5% below threshold 10%", "17 media and data integrity errors", "endurance used 104%", "3 error information log entries"} {
		if !hasString(worn.Warnings, w) {
			t.Errorf("worn warnings %q lack %q", worn.Warnings, w)
		}
	}
	if worn.TemperatureC != nil {
		t.Errorf("a zero composite temperature is absent, got %v", *worn.TemperatureC)
	}
	if c := worn.Counters(); u64(c.MediaErrors) != uint64(17) {
		t.Errorf("counters: %+v", c)
	}
	// A 128-bit counter above 2^64 saturates instead of wrapping.
	page := nvmeLogPage(0, 300, 100, 10, 0, 1, 1, 0, 0, 0)
	binary.LittleEndian.PutUint64(page[168:], 1) // high half of media errors
	if sat := nvmeReportFromSmartGo("x", nil, nil, decodeNVMeLog(t, page)); u64(sat.NVMe.MediaErrors) != ^uint64(0) {
		t.Errorf("saturation: %v", u64(sat.NVMe.MediaErrors))
	}
}

type ataAttrBytes struct {
	id             byte
	flags          uint16
	current, worst byte
	raw            uint64
	thresh         byte
	name           string
}

// The attribute table of the failing WD3200BEVT in
// testdata/smartctl/sat-usbjmicron-wd3200bevt-failing-exit216.json, as bytes.
var wd3200Attrs = []ataAttrBytes{
	{1, 47, 200, 200, 129, 51, "Raw_Read_Error_Rate"},
	{3, 39, 186, 185, 1691, 21, "Spin_Up_Time"},
	{4, 50, 92, 92, 8971, 0, "Start_Stop_Count"},
	{5, 51, 133, 133, 535, 140, "Reallocated_Sector_Ct"},
	{7, 47, 100, 253, 0, 51, "Seek_Error_Rate"},
	{9, 50, 78, 78, 16402, 0, "Power_On_Hours"},
	{10, 51, 100, 100, 0, 51, "Spin_Retry_Count"},
	{12, 50, 97, 97, 3440, 0, "Power_Cycle_Count"},
	{187, 50, 98, 36, 84, 0, "Reported_Uncorrect"},
	{190, 34, 73, 31, 27, 40, "Airflow_Temperature_Cel"},
	{194, 34, 120, 78, 27, 0, "Temperature_Celsius"},
	{197, 50, 200, 200, 1, 0, "Current_Pending_Sector"},
	{198, 48, 100, 253, 0, 0, "Offline_Uncorrectable"},
	{199, 50, 200, 200, 0, 0, "UDMA_CRC_Error_Count"},
	{200, 9, 100, 253, 0, 51, "Multi_Zone_Error_Rate"},
}

// ataPages builds the SMART READ DATA and READ THRESHOLDS sectors.
func ataPages(attrs []ataAttrBytes) (data, thresh []byte) {
	data, thresh = make([]byte, 512), make([]byte, 512)
	binary.LittleEndian.PutUint16(data, 16)
	binary.LittleEndian.PutUint16(thresh, 16)
	for i, a := range attrs {
		o := 2 + 12*i
		data[o] = a.id
		binary.LittleEndian.PutUint16(data[o+1:], a.flags)
		data[o+3], data[o+4] = a.current, a.worst
		for k := 0; k < 6; k++ {
			data[o+5+k] = byte(a.raw >> (8 * k))
		}
		thresh[o], thresh[o+1] = a.id, a.thresh
	}
	var sum byte
	for _, b := range thresh[:511] {
		sum += b
	}
	thresh[511] = -sum // two's complement checksum, as READ THRESHOLDS carries
	return data, thresh
}

// decodeATAPages decodes the sectors into smart.go's structures the way
// SataDevice.ReadSMARTData/ReadSMARTThresholds do (default 48-bit raw values;
// the per-model attribute database is smart.go's concern).
func decodeATAPages(t *testing.T, data, thresh []byte, names map[byte]string) (*smartgo.AtaSmartPage, *smartgo.AtaSmartThresholdsPage) {
	t.Helper()
	var raw smartgo.AtaSmartPageRaw
	if err := binary.Read(bytes.NewReader(data[:362]), binary.LittleEndian, &raw); err != nil {
		t.Fatal(err)
	}
	page := &smartgo.AtaSmartPage{Version: raw.Version, Attrs: map[uint8]smartgo.AtaSmartAttr{}}
	for _, a := range raw.Attrs {
		if a.Id == 0 {
			break
		}
		var v uint64
		for k := 5; k >= 0; k-- {
			v = v<<8 | uint64(a.VendorBytes[k])
		}
		page.Attrs[a.Id] = smartgo.AtaSmartAttr{Id: a.Id, Flags: a.Flags, Current: a.Current, Worst: a.Worst, VendorBytes: a.VendorBytes, Name: names[a.Id], ValueRaw: v}
	}
	var tr smartgo.AtaSmartThresholdsPageRaw
	if err := binary.Read(bytes.NewReader(thresh), binary.LittleEndian, &tr); err != nil {
		t.Fatal(err)
	}
	var sum byte
	for _, b := range thresh {
		sum += b
	}
	if sum != 0 {
		t.Fatalf("threshold page checksum %d", sum)
	}
	tp := &smartgo.AtaSmartThresholdsPage{Revnumber: tr.Revnumber, Thresholds: map[uint8]uint8{}}
	for _, e := range tr.ThresholdEntries {
		if e.Id == 0 {
			break
		}
		tp.Thresholds[e.Id] = e.Threshold
	}
	return page, tp
}

func attrNames(attrs []ataAttrBytes) map[byte]string {
	m := map[byte]string{}
	for _, a := range attrs {
		m[a.id] = a.name
	}
	return m
}

// selfTestLogPage builds the SMART self-test log (06h): 21 entries of 24
// bytes from offset 2, the index of the newest entry at 508.
func selfTestLogPage(index byte, entries ...[3]int) []byte { // {subcommand, status, hours}
	p := make([]byte, 512)
	binary.LittleEndian.PutUint16(p, 1)
	for i, e := range entries {
		o := 2 + 24*i
		p[o], p[o+1] = byte(e[0]), byte(e[1])
		binary.LittleEndian.PutUint16(p[o+2:], uint16(e[2]))
	}
	p[508] = index
	return p
}

func TestATAFromSmartGoPagesFailing(t *testing.T) {
	data, thresh := ataPages(wd3200Attrs)
	page, thr := decodeATAPages(t, data, thresh, attrNames(wd3200Attrs))
	var st smartgo.AtaSmartSelfTestLog
	if err := binary.Read(bytes.NewReader(selfTestLogPage(3, [3]int{0x01, 0x00, 16000}, [3]int{0x02, 0x79, 16400}, [3]int{0x01, 0x79, 16402})), binary.LittleEndian, &st); err != nil {
		t.Fatal(err)
	}
	errSum := &smartgo.AtaSmartErrorLogSummary{ErrorCount: 84}

	r := ataReportFromSmartGo("/dev/sdb", nil, page, thr, &st, errSum)
	if r.Health != collector.SmartFailed || r.HealthBasis != collector.SmartBasisAttributes || r.Protocol != "ata" || r.Source != collector.SmartSourceSmartGo {
		t.Fatalf("health %s basis %s", r.Health, r.HealthBasis)
	}
	if len(r.HealthReasons) != 1 || r.HealthReasons[0] != "pre-fail attribute 5 Reallocated_Sector_Ct: value 133 at or below threshold 140" {
		t.Errorf("reasons = %q", r.HealthReasons)
	}
	// The same verdicts smartctl printed for this drive (WHEN_FAILED column).
	for id, want := range map[int]string{5: "now", 190: "past", 1: "", 7: "", 200: ""} {
		if a, _ := r.ATAAttribute(id); a.WhenFailed != want {
			t.Errorf("attribute %d when_failed = %q, want %q", id, a.WhenFailed, want)
		}
	}
	c := r.Counters()
	if u64(c.Reallocated) != uint64(535) || u64(c.Pending) != uint64(1) || u64(c.ReportedUncorrect) != uint64(84) || u64(c.OfflineUncorrectable) != uint64(0) || c.CommandTimeout != nil {
		t.Errorf("counters = %+v", c)
	}
	if u64(r.PowerOnHours) != uint64(16402) || u64(r.PowerCycles) != uint64(3440) || r.TemperatureC == nil || *r.TemperatureC != 27 {
		t.Errorf("poh %v cycles %v temp %v", u64(r.PowerOnHours), u64(r.PowerCycles), r.TemperatureC)
	}
	if a, _ := r.ATAAttribute(5); !a.Prefail || !a.Online || a.Threshold == nil || *a.Threshold != 140 {
		t.Errorf("attribute 5 = %+v", a)
	}
	l := r.SelfTest
	if l == nil || len(l.Entries) != 3 || l.Failed != 2 || l.Entries[0].Type != "short" || l.Entries[0].Result != "failed" || u64(l.Entries[0].PowerOnHours) != uint64(16402) || l.Entries[2].Result != "passed" {
		t.Fatalf("self-test = %+v", l)
	}
	for _, w := range []string{"535 reallocated sectors", "1 pending sectors", "84 reported uncorrectable", "84 errors in the ATA error log", "attribute 190 Airflow_Temperature_Cel was at or below threshold in the past", "last self-test (short) failed"} {
		if !hasString(r.Warnings, w) {
			t.Errorf("warnings %q lack %q", r.Warnings, w)
		}
	}
}

func TestATAFromSmartGoPagesHealthyAndEdgeCases(t *testing.T) {
	attrs := append([]ataAttrBytes(nil), wd3200Attrs...)
	attrs[3] = ataAttrBytes{5, 51, 200, 200, 0, 140, "Reallocated_Sector_Ct"}   // healthy
	attrs[9] = ataAttrBytes{190, 34, 73, 73, 27, 40, "Airflow_Temperature_Cel"} // never below
	attrs[11] = ataAttrBytes{197, 50, 200, 200, 0, 0, "Current_Pending_Sector"}
	attrs[8] = ataAttrBytes{187, 50, 100, 100, 0, 0, "Reported_Uncorrect"}
	attrs = append(attrs,
		ataAttrBytes{230, 0x13, 0, 0, 5, 10, "Invalid_Normalised"},    // value 0 is not valid: not judged
		ataAttrBytes{231, 0x13, 5, 5, 0, 0, "Threshold_Zero"},         // threshold 0 = always passing
		ataAttrBytes{232, 0x12, 10, 10, 0, 10, "Old_Age_Failing_Now"}, // old-age at threshold: warning only
	)
	data, thresh := ataPages(attrs)
	page, thr := decodeATAPages(t, data, thresh, attrNames(attrs))
	r := ataReportFromSmartGo("/dev/sda", nil, page, thr, nil, nil)
	if r.Health != collector.SmartPassed || r.HealthBasis != collector.SmartBasisAttributes || len(r.HealthReasons) != 0 {
		t.Fatalf("health %s reasons %q", r.Health, r.HealthReasons)
	}
	if a, _ := r.ATAAttribute(230); a.WhenFailed != "" {
		t.Errorf("invalid normalised value judged: %+v", a)
	}
	if a, _ := r.ATAAttribute(231); a.WhenFailed != "" {
		t.Errorf("threshold 0 judged: %+v", a)
	}
	if !hasString(r.Warnings, "old-age attribute 232 Old_Age_Failing_Now at or below threshold now") || hasString(r.Warnings, "reallocated") {
		t.Errorf("warnings = %q", r.Warnings)
	}
	if r.SelfTest != nil || r.ATA.ErrorLogCount != nil {
		t.Errorf("absent logs reported: %+v %v", r.SelfTest, r.ATA.ErrorLogCount)
	}
	// Missing thresholds page: nothing can be judged, never "failed".
	r = ataReportFromSmartGo("/dev/sda", nil, page, nil, nil, nil)
	if r.Health != collector.SmartPassed {
		t.Errorf("no thresholds: %s", r.Health)
	}
	// An empty self-test log (index 0) has no entries.
	var st smartgo.AtaSmartSelfTestLog
	_ = binary.Read(bytes.NewReader(selfTestLogPage(0)), binary.LittleEndian, &st)
	if l := ataSelfTestFromSmartGo(&st); len(l.Entries) != 0 || l.Failed != 0 {
		t.Errorf("empty log: %+v", l)
	}
}

func TestATAIdentityFromSmartGo(t *testing.T) {
	// IDENTIFY DEVICE strings are byte-swapped per 16-bit word.
	swap := func(s string, n int) []byte {
		b := []byte(s + strings.Repeat(" ", n-len(s)))
		for i := 0; i < n; i += 2 {
			b[i], b[i+1] = b[i+1], b[i]
		}
		return b
	}
	var id smartgo.AtaIdentifyDevice
	copy(id.ModelNumberRaw[:], swap("LabSATA-A", 40))
	copy(id.SerialNumberRaw[:], swap("SATA-SER-0001", 20))
	copy(id.FirmwareRevisionRaw[:], swap("2.5+", 8))
	id.Capabilities[0] = 0x0200    // LBA supported
	id.CommandsSupported2 = 0x0400 // 48-bit
	id.CapacityLba48 = 2097152     // 1 GiB of 512-byte sectors, as the lab disks
	id.WWNRaw = [4]uint16{0x5000, 0xc500, 0xa1b2, 0xc3d4}
	data, thresh := ataPages(wd3200Attrs[:1])
	page, thr := decodeATAPages(t, data, thresh, nil)
	r := ataReportFromSmartGo("/dev/sda", &id, page, thr, nil, nil)
	if r.Model != "LabSATA-A" || r.Serial != "SATA-SER-0001" || r.Firmware != "2.5+" || u64(r.CapacityBytes) != uint64(1<<30) || r.WWN != "0x5000c500a1b2c3d4" {
		t.Errorf("identity = %q %q %q %v %q", r.Model, r.Serial, r.Firmware, u64(r.CapacityBytes), r.WWN)
	}
}

func TestNativeSmartReaderErrors(t *testing.T) {
	_, err := Reader{}.Read(context.Background(), t.TempDir()+"/dev/nvme9n1")
	if !errors.Is(err, collector.ErrSmartUnreadable) && !errors.Is(err, collector.ErrSmartUnsupported) {
		t.Errorf("missing device: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Reader{}).Read(ctx, "/nonexistent"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// NewSmartReader without a tool runner reports smart.go's error only.
	_, err = NewReader(collector.Env{Root: t.TempDir()}).Read(context.Background(), "sda")
	if err == nil || !strings.Contains(err.Error(), "smart.go") {
		t.Errorf("no fallback: %v", err)
	}
}

// NewReader: smart.go cannot open a device under a fixture root, so the
// production reader falls back to smartctl and says why.
func TestNewReaderFallsBackToSmartctl(t *testing.T) {
	root := t.TempDir()
	want := filepath.Join(root, "dev", "sdc")
	fake := (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", Match: tool.ArgsContain("-j", "-x", want),
		StdoutFile: "../testdata/smartctl/sas-seagate-st600mp0036-healthy.json"})
	r, err := NewReader(collector.Env{Root: root, Tools: fake}).Read(context.Background(), "sdc")
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != collector.SmartSourceSmartctl || !strings.HasPrefix(r.SourceNote, "smart.go: ") || r.Protocol != "scsi" {
		t.Errorf("source %s note %q protocol %s", r.Source, r.SourceNote, r.Protocol)
	}
	// Absolute paths are re-rooted too.
	if got := collector.SmartDevicePath(collector.Env{Root: root}, "/dev/disk/by-id/wwn-0x5000c50accaccacc"); got != filepath.Join(root, "dev/disk/by-id/wwn-0x5000c50accaccacc") {
		t.Errorf("SmartDevicePath = %s", got)
	}
	// Both readers fail: one error naming both.
	failing := (&tool.Fake{}).Add(tool.Rule{Tool: "smartctl", StdoutFile: "../testdata/smartctl/local-sat-open-eperm-exit2.json", ExitCode: 2})
	_, err = NewReader(collector.Env{Root: root, Tools: failing}).Read(context.Background(), "sdc")
	if !errors.Is(err, collector.ErrSmartUnreadable) || !strings.Contains(err.Error(), "smart.go") || !strings.Contains(err.Error(), "Operation not permitted") {
		t.Errorf("both failing: %v", err)
	}
}
