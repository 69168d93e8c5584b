package cpustress

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector/tool"
)

// ParamVMProbe turns the memory probe on or off.
const ParamVMProbe = "vm_probe"

// probeBusyCPU is the CPU time (user+sys) the vm workers must use in a probe
// to count as working. A worker whose mmap keeps failing sleeps and retries:
// 0.01-0.05 s over several seconds (measured on this project's CI machines).
const probeBusyCPU = 0.2

// probeMemory finds how much memory stress-ng can really map before the long
// run. MemAvailable can overstate what a host will back (seen on VMs whose
// hypervisor overcommits memory: stress-ng's vm workers then loop on a failing
// mmap and do nothing for the whole run). It runs a 3 s vm-only stress-ng
// with the planned total and halves it, up to four times, until the workers
// work. It returns the total to use and every size that was refused.
func probeMemory(ctx context.Context, env *stage.Env, vm int, total uint64) (uint64, []uint64, error) {
	var refused []uint64
	path := filepath.Join(env.WorkDir, "stress-ng-probe.yaml")
	defer os.Remove(path)
	for try := 0; try < 5; try++ {
		_ = os.Remove(path)
		args := []string{"--vm", strconv.Itoa(vm), "--vm-bytes", strconv.FormatUint(total, 10) + "b", "--metrics", "--yaml", path, "-t", "3s"}
		env.Progress("memory probe", float64(try), 5, "tries", fmt.Sprintf("checking that stress-ng can map %s", humanBytes(total)))
		out, err := env.Tools.Run(ctx, tool.Cmd{Tool: "stress-ng", Args: args, Timeout: time.Minute})
		if errors.Is(err, tool.ErrNotFound) {
			return total, refused, fmt.Errorf("stress-ng is not installed: %w", err)
		}
		if err != nil {
			return total, refused, fmt.Errorf("memory probe: %w", err)
		}
		f, err := os.Open(path)
		if err != nil {
			return total, refused, fmt.Errorf("memory probe: stress-ng exit %d wrote no report: %w", out.ExitCode, err)
		}
		r, err := ParseYAML(f)
		f.Close()
		if err != nil {
			return total, refused, fmt.Errorf("memory probe: %w", err)
		}
		busy := false
		for _, m := range r.Metrics {
			if m.Stressor == "vm" && m.UserSeconds+m.SystemSeconds >= probeBusyCPU {
				busy = true
			}
		}
		if busy {
			return total, refused, nil
		}
		refused = append(refused, total)
		total = total / 2 / pageSize * pageSize
		if total/uint64(vm) < minPerWorker {
			break
		}
	}
	return total, refused, errors.New("memory probe: stress-ng's vm workers did no work even with " + humanBytes(total*2) + ": the memory cannot be exercised")
}
