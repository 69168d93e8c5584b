package collector

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jaypipes/ghw"
)

// cpuProbe fills Inventory.CPU through ghw's CPU area (/proc/cpuinfo and
// /sys/devices/system/cpu/cpu*/topology), plus the microcode revision from
// /proc/cpuinfo and the maximum frequency from cpu0/cpufreq/cpuinfo_max_freq.
type cpuProbe struct{}

func init() { Register(cpuProbe{}) }

func (cpuProbe) Name() string { return "cpu" }

func (cpuProbe) Files(Env) []string {
	return []string{
		"/proc/cpuinfo",
		"/sys/devices/system/cpu/online",
		"/sys/devices/system/cpu/possible",
		"/sys/devices/system/cpu/cpu*/online",
		"/sys/devices/system/cpu/cpu*/topology/*",
		"/sys/devices/system/cpu/cpu*/cache/index*/*",
		"/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq",
	}
}

func (cpuProbe) Collect(ctx context.Context, env Env, inv *Inventory) error {
	opts, err := sessionFrom(ctx, env).ghwOpts(false)
	if err != nil {
		return err
	}
	info, err := ghw.CPU(opts...)
	if err != nil {
		return fmt.Errorf("read CPU: %w", err)
	}
	if len(info.Processors) == 0 {
		return fmt.Errorf("read CPU: %w: no processors in /sys/devices/system/cpu", ErrNoData)
	}
	p0 := info.Processors[0]
	c := &CPU{
		Vendor:  p0.Vendor,
		Model:   strings.TrimSpace(p0.Model),
		Sockets: len(info.Processors),
		Cores:   int(info.TotalCores),
		Threads: int(info.TotalHardwareThreads),
	}
	for _, f := range p0.Capabilities {
		if f != "" {
			c.Flags = append(c.Flags, f)
		}
	}
	if f, err := os.Open(env.Proc("cpuinfo")); err == nil {
		c.Microcode = cpuinfoField(f, "microcode")
		f.Close()
	}
	if khz, ok := readInt(env.Sys("devices", "system", "cpu", "cpu0", "cpufreq", "cpuinfo_max_freq")); ok && khz > 0 {
		c.MaxMHz = ptr(float64(khz) / 1000)
	}
	inv.CPU = c
	return nil
}

// cpuinfoField returns the first value of a "key : value" line in /proc/cpuinfo.
// It stops reading there: the kernel builds /proc/cpuinfo one processor at a
// time as it is read, and on a many-core host the records after the first
// cost more than the rest of the probe (ghw reads the whole file already).
func cpuinfoField(r io.Reader, key string) string {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20) // grows for a long flags line
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
