//go:build linux

package nativesmart

import (
	"context"
	"fmt"

	smartgo "github.com/anatol/smart.go"

	"github.com/shakedown/shakedown/collector"
)

// Reader reads SMART with anatol/smart.go ioctls (read-only commands only:
// IDENTIFY, SMART READ DATA/THRESHOLDS/LOG, NVMe Get Log Page). path is a
// device node.
type Reader struct{}

func (Reader) Read(ctx context.Context, path string) (*collector.SmartReport, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return runWithContext(ctx, func() (*collector.SmartReport, error) { return readSmartGo(path) })
}
func readSmartGo(path string) (*collector.SmartReport, error) {
	dev, err := smartgo.Open(path)
	if err != nil {
		return nil, fmt.Errorf("smart.go open %s: %w: %w", path, collector.ErrSmartUnreadable, err)
	}
	defer dev.Close()
	switch d := dev.(type) {
	case *smartgo.NVMeDevice:
		ctrl, ns, err := d.Identify()
		if err != nil {
			ctrl, ns = nil, nil // identity is optional, the health log is not
		}
		log, err := d.ReadSMART()
		if err != nil {
			return nil, fmt.Errorf("smart.go read nvme smart log %s: %w: %w", path, collector.ErrSmartUnreadable, err)
		}
		return nvmeReportFromSmartGo(path, ctrl, ns, log), nil
	case *smartgo.SataDevice:
		id, _ := d.Identify()
		page, err := d.ReadSMARTData()
		if err != nil {
			return nil, fmt.Errorf("smart.go read ata smart data %s: %w: %w", path, collector.ErrSmartUnreadable, err)
		}
		thr, err := d.ReadSMARTThresholds()
		if err != nil {
			// Without thresholds no attribute can be judged: let smartctl try.
			return nil, fmt.Errorf("smart.go read ata thresholds %s: %w: %w", path, collector.ErrSmartUnreadable, err)
		}
		st, _ := d.ReadSMARTSelfTestLog()
		es, _ := d.ReadSMARTErrorLogSummary()
		return ataReportFromSmartGo(path, id, page, thr, st, es), nil
	default:
		return nil, fmt.Errorf("smart.go %s device %s: %w (no SCSI health log pages)", dev.Type(), path, collector.ErrSmartUnsupported)
	}
}
