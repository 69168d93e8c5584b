package collector

import (
	"context"
	"errors"
	"testing"
)

// TestSensorsLiveRoot reads this machine's sysfs: whatever is there must read
// without error (no hwmon/thermal/EDAC at all is ErrNoData, as in a VM).
func TestSensorsLiveRoot(t *testing.T) {
	s, err := ReadSensors(context.Background(), Env{Root: "/"})
	if err != nil && !errors.Is(err, ErrNoData) {
		t.Fatalf("live sensors: %v", err)
	}
	t.Logf("live: %d hwmon channels, %d thermal zones, %d EDAC controllers", len(s.Hwmon), len(s.Thermal), len(s.EDAC))
	for _, x := range s.Hwmon {
		if x.Unit == "" || x.Kind == "" {
			t.Errorf("incomplete sensor %+v", x)
		}
	}
}
