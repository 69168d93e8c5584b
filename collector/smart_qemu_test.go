package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Captures from QEMU's emulated disks (kernel 6.1.0-56, smartctl 7.3, the
// notes/lab.md setup; see testdata/smartctl/README.md): smartctl -j -x of each
// disk, and the SmartReport the smart.go path produced for the same disk in
// the same boot (testdata/smartgo). The two paths must agree.
func TestQEMUSmartGoAgreesWithSmartctl(t *testing.T) {
	cases := []struct {
		smartgo, smartctl string
		exit              int
		health            SmartHealth
	}{
		{"qemu-nvme-healthy.json", "qemu-nvme-healthy-exit0.json", 0, SmartPassed},
		{"qemu-nvme-critical-warning.json", "qemu-nvme-critical-warning-exit8.json", 8, SmartFailed},
		{"qemu-sata.json", "qemu-sata-exit4.json", 4, SmartPassed},
	}
	for _, c := range cases {
		t.Run(c.smartgo, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "smartgo", c.smartgo))
			if err != nil {
				t.Fatal(err)
			}
			var g SmartReport
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			s, err := ParseSmartctlJSON(bytes.NewReader(smartctlFixture(t, c.smartctl)), c.exit)
			if err != nil {
				t.Fatal(err)
			}
			if g.Source != SmartSourceSmartGo || s.Source != SmartSourceSmartctl {
				t.Fatalf("sources %s %s", g.Source, s.Source)
			}
			if g.Health != c.health || s.Health != c.health {
				t.Errorf("health smart.go %s smartctl %s, want %s", g.Health, s.Health, c.health)
			}
			same := func(what string, a, b any) {
				if !reflect.DeepEqual(a, b) {
					t.Errorf("%s: smart.go %v, smartctl %v", what, a, b)
				}
			}
			same("protocol", g.Protocol, s.Protocol)
			same("model", g.Model, s.Model)
			same("serial", g.Serial, s.Serial)
			same("firmware", g.Firmware, s.Firmware)
			same("capacity", u64(g.CapacityBytes), u64(s.CapacityBytes))
			same("temperature", *g.TemperatureC, *s.TemperatureC)
			same("power-on hours", u64(g.PowerOnHours), u64(s.PowerOnHours))
			same("counters", g.Counters(), s.Counters())
			if g.NVMe != nil {
				gn, sn := *g.NVMe, *s.NVMe
				same("nvme", gn, sn)
			}
			if g.ATA != nil {
				if len(g.ATA.Attributes) != len(s.ATA.Attributes) || len(g.ATA.Attributes) == 0 {
					t.Fatalf("attributes %d vs %d", len(g.ATA.Attributes), len(s.ATA.Attributes))
				}
				for i, a := range g.ATA.Attributes {
					b := s.ATA.Attributes[i]
					a.Name, b.Name, a.RawString, b.RawString = "", "", "", ""
					same("attribute", a, b)
				}
			}
		})
	}
	// The critical-warning disk: smartctl's exit 8 and the warning byte.
	s, _ := ParseSmartctlJSON(bytes.NewReader(smartctlFixture(t, "qemu-nvme-critical-warning-exit8.json")), 8)
	if s.NVMe.CriticalWarning != 2 || !hasString(s.HealthReasons, "exit bit 3") || !hasString(s.HealthReasons, "temperature outside thresholds") {
		t.Errorf("critical warning: %+v %q", s.NVMe, s.HealthReasons)
	}
	// QEMU SATA: -x gives exit 4 (some extended logs unsupported) with full data.
	s, _ = ParseSmartctlJSON(bytes.NewReader(smartctlFixture(t, "qemu-sata-exit4.json")), 4)
	if !hasString(s.Warnings, "exit bit 2") || s.Model != "LabSATA-A" {
		t.Errorf("qemu sata: %q %s", s.Warnings, s.Model)
	}
}

func TestQEMUUnreadableDisks(t *testing.T) {
	for file, want := range map[string]string{
		"qemu-virtio-scsi-no-smart-exit4.json": "no SMART support",
		"qemu-virtio-blk-exit1.json":           "Unable to detect device type",
	} {
		exit := 4
		if strings.Contains(file, "exit1") {
			exit = 1
		}
		_, err := ParseSmartctlJSON(bytes.NewReader(smartctlFixture(t, file)), exit)
		if !errors.Is(err, ErrSmartUnreadable) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", file, err)
		}
	}
}

// The hwmon files the QEMU guest kernel exposed for its two NVMe controllers
// (one with smart_critical_warning=2, which raises temp1_alarm).
func TestReadSensorsQEMUCapture(t *testing.T) {
	s, err := readSensors(context.Background(), Env{Root: filepath.Join("testdata", "sensors", "qemu-nvme")}, readSensorFileRaw)
	if !errors.Is(err, ErrNoData) && err != nil {
		t.Fatal(err)
	}
	if len(s.Hwmon) != 2 {
		t.Fatalf("hwmon = %+v", s.Hwmon)
	}
	a, b := s.Hwmon[0], s.Hwmon[1]
	if a.ID() != "nvme/hwmon0/temp1:Composite" || a.Value != 49.85 || *a.Max != 69.85 || *a.Crit != 99.85 || *a.Min != -273.15 || !*a.Alarm || *b.Alarm {
		t.Errorf("sensors = %+v %+v", a, b)
	}
}
