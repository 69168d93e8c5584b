package collector

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/collector/tool"
)

// TestLiveMatchesKernel compares the inventory of the machine running the
// test, field by field, with what lscpu, /proc/meminfo and /sys/block say.
// It only reads, and needs no root.
func TestLiveMatchesKernel(t *testing.T) {
	testutil.RequireTools(t, "lscpu")
	if _, err := os.Stat("/sys/block"); err != nil {
		t.Skip("SKIPPED: no /sys on this system")
	}
	ctx := context.Background()
	run := &tool.Exec{}
	inv, err := Collect(ctx, Env{Root: "/", Tools: run})
	if err != nil {
		t.Fatal(err)
	}
	out, err := run.Run(ctx, tool.Cmd{Tool: "lscpu"})
	if err != nil || out.ExitCode != 0 {
		t.Fatalf("lscpu: %v (exit %d)", err, out.ExitCode)
	}
	ls := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out.Stdout))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
			ls[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	atoi := func(k string) int {
		n, err := strconv.Atoi(ls[k])
		if err != nil {
			t.Fatalf("lscpu %s: %q", k, ls[k])
		}
		return n
	}
	c := inv.CPU
	if c == nil {
		t.Fatal("no CPU in the live inventory")
	}
	online, err := parseCPUList(ls["On-line CPU(s) list"])
	if err != nil {
		t.Fatal(err)
	}
	if c.Threads != len(online) {
		t.Errorf("threads %d, lscpu on-line CPUs %d", c.Threads, len(online))
	}
	if c.Sockets != atoi("Socket(s)") {
		t.Errorf("sockets %d, lscpu %d", c.Sockets, atoi("Socket(s)"))
	}
	if want := atoi("Socket(s)") * atoi("Core(s) per socket"); c.Cores != want {
		t.Errorf("cores %d, lscpu sockets x cores/socket %d", c.Cores, want)
	}
	if c.Model != ls["Model name"] {
		t.Errorf("model %q, lscpu %q", c.Model, ls["Model name"])
	}
	if f := strings.Fields(ls["Flags"]); !cmp.Equal(sorted(c.Flags), sorted(f)) {
		t.Errorf("flags differ from lscpu:\n%s", cmp.Diff(sorted(f), sorted(c.Flags)))
	}

	mi, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	var kb uint64
	for _, line := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "MemTotal:" {
			kb, _ = strconv.ParseUint(f[1], 10, 64)
		}
	}
	if inv.Memory == nil || inv.Memory.TotalBytes != kb*1024 {
		t.Errorf("memory %+v, /proc/meminfo MemTotal %d kB", inv.Memory, kb)
	}

	ents, err := os.ReadDir("/sys/block")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{}
	for _, e := range ents {
		n := e.Name()
		if skipBlock(n) || readString(filepath.Join("/sys/block", n, "hidden")) == "1" {
			continue
		}
		s, err := os.ReadFile(filepath.Join("/sys/block", n, "size"))
		if err != nil {
			t.Fatal(err)
		}
		sectors, _ := strconv.ParseUint(strings.TrimSpace(string(s)), 10, 64)
		want[n] = sectors * 512
	}
	got := map[string]uint64{}
	for _, d := range inv.Disks {
		got[d.Name] = d.SizeBytes
		dev, _ := os.ReadFile(filepath.Join("/sys/block", d.Name, "dev"))
		if strings.TrimSpace(string(dev)) != d.DevT {
			t.Errorf("disk %s dev_t %q, sysfs %q", d.Name, d.DevT, dev)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("disks differ from /sys/block (-sysfs +inventory):\n%s", d)
	}
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// TestLiveSnapshotReadsBack snapshots the machine running the test (without
// masking), unpacks it and checks that the inventory read from the snapshot
// equals the live one: the snapshot holds every file and tool output the
// probes use.
func TestLiveSnapshotReadsBack(t *testing.T) {
	if _, err := os.Stat("/sys/block"); err != nil {
		t.Skip("SKIPPED: no /sys on this system")
	}
	ctx := context.Background()
	env := Env{Root: "/", Tools: &tool.Exec{Log: slog.New(slog.DiscardHandler)}}
	var buf bytes.Buffer
	if _, err := Snapshot(ctx, env, &buf, SnapshotOptions{}); err != nil {
		t.Fatal(err)
	}
	live, err := Collect(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := UnpackSnapshot(&buf, dir); err != nil {
		t.Fatal(err)
	}
	snap, err := Collect(ctx, Env{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	opts := cmp.Options{
		cmpopts.IgnoreFields(Inventory{}, "CollectedAt", "Probes"),
		// Sensor values move between two readings; their presence must not.
		cmpopts.IgnoreFields(Sensor{}, "Value"), cmpopts.IgnoreFields(ThermalZone{}, "TempC"),
		cmpopts.IgnoreFields(NIC{}, "OperState", "Carrier", "SpeedMbps"),
	}
	if d := cmp.Diff(live, snap, opts); d != "" {
		t.Errorf("inventory from the snapshot differs from the live one (-live +snapshot):\n%s", d)
	}
}
