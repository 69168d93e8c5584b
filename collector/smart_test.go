package collector

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestSmartReaderFunc(t *testing.T) {
	var r SmartReader = SmartReaderFunc(func(_ context.Context, dev string) (*SmartReport, error) {
		if dev == "sda" {
			return &SmartReport{Device: dev, Health: SmartPassed}, nil
		}
		return nil, ErrSmartUnreadable
	})
	if rep, err := r.Read(context.Background(), "sda"); err != nil || rep.Health != SmartPassed {
		t.Errorf("%v %+v", err, rep)
	}
	if _, err := r.Read(context.Background(), "sdb"); !errors.Is(err, ErrSmartUnreadable) {
		t.Errorf("%v", err)
	}
}

func TestDecodeNVMeCriticalWarning(t *testing.T) {
	if got := decodeNVMeCriticalWarning(0); got != nil {
		t.Errorf("0 -> %q", got)
	}
	if got := strings.Join(decodeNVMeCriticalWarning(0xff), "|"); got != "available spare below threshold|temperature outside thresholds|NVM subsystem reliability degraded|media placed in read-only mode|volatile memory backup device failed|persistent memory region read-only or unreliable|reserved bit 6|reserved bit 7" {
		t.Errorf("0xff -> %s", got)
	}
}

func TestSelfTestResultCodes(t *testing.T) {
	for v, want := range map[int]string{0x00: "passed", 0x10: "aborted", 0x21: "aborted", 0x30: "failed", 0x79: "failed", 0x80: "failed", 0xf9: "in_progress", 0x90: "unknown"} {
		if got := ataSelfTestResult(v); got != want {
			t.Errorf("ata 0x%02x = %s, want %s", v, got, want)
		}
	}
	for v, want := range map[int]string{0: "passed", 1: "aborted", 5: "failed", 7: "failed", 8: "aborted", 12: "unknown"} {
		if got, ok := nvmeSelfTestResult(v); got != want || !ok {
			t.Errorf("nvme %d = %s", v, got)
		}
	}
	if _, ok := nvmeSelfTestResult(15); ok {
		t.Error("0xF is an unused entry")
	}
}
