package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/agent/stage/storage/wipeprobe"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// fakeSink stores facts as JSON and records events and measurements.
type fakeSink struct {
	mu       sync.Mutex
	facts    map[string][]byte
	events   []event.Event
	measures []stage.Measurement
}

func (s *fakeSink) Emit(e event.Event) { s.mu.Lock(); s.events = append(s.events, e); s.mu.Unlock() }
func (s *fakeSink) Measure(_ string, m ...stage.Measurement) error {
	s.mu.Lock()
	s.measures = append(s.measures, m...)
	s.mu.Unlock()
	return nil
}
func (s *fakeSink) PutFact(k string, v any) error {
	b, err := json.Marshal(v)
	s.mu.Lock()
	s.facts[k] = b
	s.mu.Unlock()
	return err
}
func (s *fakeSink) Fact(k string, v any) (bool, error) {
	s.mu.Lock()
	b, ok := s.facts[k]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, v)
}

func (s *fakeSink) notices(kind string) []string {
	var out []string
	for _, e := range s.events {
		if n, ok := e.(event.Notice); ok && n.Kind == kind {
			out = append(out, n.Message)
		}
	}
	return out
}

// fakeDevices plays the enumerator, the opener and the prober over a table
// of devices keyed by dev_t.
type fakeDevices struct {
	mu       sync.Mutex
	cands    []Candidate
	nodes    map[string]string // path -> dev_t (what a node opens now)
	state    map[string][2]int64
	reports  map[string]wipeprobe.Report
	opens    []string // "path excl=true dev=7:0"
	enumHook func(call int, c []Candidate) []Candidate
	calls    int
	nextFD   int
	handles  map[string]string // handle path -> dev_t
}

func newFake(disks ...collector.Disk) *fakeDevices {
	f := &fakeDevices{nodes: map[string]string{}, state: map[string][2]int64{}, reports: map[string]wipeprobe.Report{}, handles: map[string]string{}}
	for _, d := range disks {
		p := "/dev/" + d.Name
		f.cands = append(f.cands, Candidate{Disk: d, Path: p})
		f.nodes[p] = d.DevT
		f.state[d.DevT] = [2]int64{int64(d.SizeBytes), 0}
		f.reports[d.DevT] = wipeprobe.Report{Verdict: wipeprobe.Clean, Signatures: []wipeprobe.Signature{}}
	}
	return f
}

func (f *fakeDevices) Disks(context.Context) ([]Candidate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	out := append([]Candidate(nil), f.cands...)
	if f.enumHook != nil {
		out = f.enumHook(f.calls, out)
	}
	return out, nil
}

type fakeHandle struct {
	f    *fakeDevices
	dev  string
	path string
}

func (f *fakeDevices) Open(path string, excl bool) (Handle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	dev, ok := f.nodes[path]
	if !ok {
		dev, ok = f.handles[path]
	}
	if !ok {
		return nil, fmt.Errorf("open %s: no such device", path)
	}
	f.nextFD++
	h := &fakeHandle{f: f, dev: dev, path: fmt.Sprintf("/proc/1/fd/%d", f.nextFD)}
	f.handles[h.path] = dev
	f.opens = append(f.opens, fmt.Sprintf("%s excl=%v dev=%s", path, excl, dev))
	return h, nil
}

func (h *fakeHandle) DevT() (string, error) { return h.dev, nil }
func (h *fakeHandle) Path() string          { return h.path }
func (h *fakeHandle) Close() error          { return nil }
func (h *fakeHandle) State() (int64, bool, error) {
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	s := h.f.state[h.dev]
	return s[0], s[1] == 1, nil
}

func (f *fakeDevices) Probe(_ context.Context, path string) wipeprobe.Report {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.reports[f.handles[path]]
	r.Path = path
	return r
}

func (f *fakeDevices) BootDisks(context.Context) (map[string]string, error) {
	return map[string]string{"8:0": "8:1 is mounted at /run/live/medium"}, nil
}

func disk(name, devt, serial, class string, size uint64) collector.Disk {
	return collector.Disk{Name: name, DevT: devt, Vendor: "ATA", Model: "TESTDISK", Serial: serial, Class: class,
		SizeBytes: size, LogicalSectorSize: 512}
}

func wantDisk(serial, role string) spec.Disk {
	return spec.Disk{ID: spec.DiskIdentity{Vendor: "ATA", Model: "TESTDISK", Serial: serial}, Role: role, Class: "ssd"}
}

// toolFake answers badblocks (writing listFor[dev] into its -o file) and fio
// (copying a captured JSON into its --output file).
func toolFake(t *testing.T, f *fakeDevices, listFor map[string]string, fioFile string) *tool.Fake {
	t.Helper()
	fioData, err := os.ReadFile(filepath.Join("testdata", "fio", fioFile))
	if err != nil {
		t.Fatal(err)
	}
	argAfter := func(args []string, flag string) string {
		for i, a := range args {
			if a == flag && i+1 < len(args) {
				return args[i+1]
			}
			if strings.HasPrefix(a, flag+"=") {
				return strings.TrimPrefix(a, flag+"=")
			}
		}
		return ""
	}
	fk := &tool.Fake{}
	fk.Add(tool.Rule{Tool: "badblocks", Func: func(_ context.Context, c tool.Cmd) (tool.Output, error) {
		f.mu.Lock()
		dev := f.handles[c.Args[len(c.Args)-3]]
		f.mu.Unlock()
		if err := os.WriteFile(argAfter(c.Args, "-o"), []byte(listFor[dev]), 0o644); err != nil {
			return tool.Output{}, err
		}
		if c.Stderr != nil {
			_, _ = c.Stderr.Write([]byte("Testing with pattern 0xaa:  50.00% done, 0:01 elapsed. (0/0/0 errors)\b\b\b\b"))
		}
		return tool.Output{}, nil
	}})
	fk.Add(tool.Rule{Tool: "fio", Func: func(_ context.Context, c tool.Cmd) (tool.Output, error) {
		return tool.Output{}, os.WriteFile(argAfter(c.Args, "--output"), fioData, 0o644)
	}})
	return fk
}

type setup struct {
	f     *fakeDevices
	tools *tool.Fake
	sink  *fakeSink
	env   *stage.Env
	st    *Stage
}

func newSetup(t *testing.T, profile string, sp *spec.Spec, f *fakeDevices, listFor map[string]string, fioFile string) *setup {
	t.Helper()
	sink := &fakeSink{facts: map[string][]byte{}}
	if err := sink.PutFact(spec.FactKey, sp); err != nil {
		t.Fatal(err)
	}
	st := &Stage{Enum: f, Open: f, Probe: f, Boot: f}
	params := stage.Params{}
	for _, p := range st.Params() {
		params[p.Name] = p.DefaultFor(profile)
	}
	tools := toolFake(t, f, listFor, fioFile)
	env := &stage.Env{Stage: "Storage", Profile: profile, AllowDestructive: profile != "safe", Params: params,
		Tools: tools, WorkDir: t.TempDir(), Sink: sink}
	return &setup{f: f, tools: tools, sink: sink, env: env, st: st}
}

func (s *setup) calls(tool string) []string {
	var out []string
	for _, c := range s.tools.Calls {
		if c.Tool == tool {
			out = append(out, strings.Join(c.Args, " "))
		}
	}
	return out
}

func (s *setup) writes() int {
	n := 0
	for _, c := range s.tools.Calls {
		a := strings.Join(c.Args, " ")
		if (c.Tool == "badblocks" && strings.Contains(a, "w")) && strings.HasPrefix(a, "-svw") || (c.Tool == "fio" && !strings.Contains(a, "--readonly")) {
			n++
		}
	}
	return n
}

const gb = 1 << 30

func twoDisks() (*fakeDevices, *spec.Spec) {
	f := newFake(disk("sda", "8:0", "BOOT1", "ssd", 32*gb), disk("sdb", "8:16", "S1", "ssd", 64*gb), disk("sdc", "8:32", "S2", "hdd", 64*gb))
	sp := &spec.Spec{Version: 1, Disks: []spec.Disk{wantDisk("BOOT1", spec.RoleBoot), wantDisk("S1", spec.RoleTest), wantDisk("S2", spec.RoleTest)}}
	sp.Disks[2].Class = "hdd"
	return f, sp
}

func TestStagePassesCleanDisks(t *testing.T) {
	f, sp := twoDisks()
	s := newSetup(t, "full", sp, f, nil, "randrw-ok.json")
	res, err := s.st.Run(context.Background(), s.env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != stage.Pass {
		t.Fatalf("status %s: %s", res.Status, res.Message)
	}
	bb := s.calls("badblocks")
	if len(bb) != 2 {
		t.Fatalf("badblocks calls = %v, want one full pass per test disk", bb)
	}
	for _, c := range bb {
		if !strings.HasPrefix(c, "-svwf -b 4096 -c 4096 -o ") || !strings.HasSuffix(c, " 16777215 0") {
			t.Errorf("badblocks args = %q, want -svwf -b 4096 -c 4096 over blocks 0..16777215", c)
		}
		if !strings.Contains(c, "/proc/1/fd/") {
			t.Errorf("badblocks must open the verified handle, got %q", c)
		}
	}
	for _, c := range s.calls("fio") {
		for _, want := range []string{"--rw=randrw", "--bs=4k", "--iodepth=32", "--direct=1", "--runtime=60", "--size=1073741824", "--output-format=json"} {
			if !strings.Contains(c, want) {
				t.Errorf("fio args %q lack %s", c, want)
			}
		}
	}
	for _, o := range f.opens {
		if strings.Contains(o, "dev=8:0") {
			t.Errorf("the boot disk was opened: %v", f.opens)
		}
	}
	if n := strings.Count(strings.Join(f.opens, "\n"), "excl=true"); n != 2 {
		t.Errorf("exclusive opens = %d, want 2: %v", n, f.opens)
	}
	var fioIOPS int
	for _, m := range s.sink.measures {
		if m.Kind == "fio" && m.Name == "iops_total" {
			fioIOPS++
			if m.Subject != "serial:ATA/TESTDISK/S1" && m.Subject != "serial:ATA/TESTDISK/S2" {
				t.Errorf("measurement subject %q is not a disk identity", m.Subject)
			}
		}
	}
	if fioIOPS != 2 || len(res.Artifacts) != 2 {
		t.Errorf("fio measurements %d, artifacts %v; want 2 each", fioIOPS, res.Artifacts)
	}
}

func TestStageHaltsOnUnexpectedData(t *testing.T) {
	f, sp := twoDisks()
	f.reports["8:32"] = wipeprobe.Report{Verdict: wipeprobe.Data, Signatures: []wipeprobe.Signature{
		{Type: "zfs_member", Offset: 0x120000, Voter: "probe", Detail: "label L0"}, {Type: "gpt", Offset: 0x200, Voter: "wipefs"}}}
	s := newSetup(t, "full", sp, f, nil, "randrw-ok.json")
	res, err := s.st.Run(context.Background(), s.env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != stage.Fail || res.Reason != "unexpected_data" {
		t.Fatalf("got %s/%s: %s", res.Status, res.Reason, res.Message)
	}
	for _, want := range []string{"serial:ATA/TESTDISK/S2", "zfs_member@0x120000", "gpt@0x200",
		"shakedown-agent action override --target 'serial:ATA/TESTDISK/S2' --reason"} {
		if !strings.Contains(res.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, res.Message)
		}
	}
	if len(s.tools.Calls) != 0 {
		t.Errorf("tools ran although a gate failed (the clean disk must not be written either): %v", s.calls("badblocks"))
	}
	if n := s.sink.notices(event.UnexpectedData); len(n) != 1 {
		t.Errorf("UnexpectedData notices = %v", n)
	}

	t.Run("an override for another disk does not help", func(t *testing.T) {
		s := newSetup(t, "full", sp, f, nil, "randrw-ok.json")
		s.env.Overrides = []stage.Override{{Target: "serial:ATA/TESTDISK/S1", Who: "op", Reason: "wrong disk"}}
		res, _ := s.st.Run(context.Background(), s.env)
		if res.Status != stage.Fail || len(s.tools.Calls) != 0 {
			t.Fatalf("got %s with %d tool calls", res.Status, len(s.tools.Calls))
		}
	})
	t.Run("an override naming the disk lets it be tested, with a finding", func(t *testing.T) {
		s := newSetup(t, "full", sp, f, nil, "randrw-ok.json")
		s.env.Overrides = []stage.Override{{Target: "serial:ATA/TESTDISK/S2", Who: "alice", Reason: "old pool, decommissioned"}}
		res, err := s.st.Run(context.Background(), s.env)
		if err != nil || res.Status != stage.Pass {
			t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
		}
		found := false
		for _, fd := range res.Findings {
			if fd.Code == "WipeProbeOverridden" && strings.Contains(fd.Message, "alice") && fd.Subject == "serial:ATA/TESTDISK/S2" {
				found = true
			}
		}
		if !found {
			t.Errorf("no override finding: %+v", res.Findings)
		}
	})
	t.Run("an override cannot lift a kernel in-use finding", func(t *testing.T) {
		f2, sp2 := twoDisks()
		f2.reports["8:32"] = wipeprobe.Report{Verdict: wipeprobe.Data, Signatures: []wipeprobe.Signature{
			{Type: "kernel:mounted", Offset: -1, Voter: "kernel", Detail: "sdc1 mounted at /mnt"}}}
		s := newSetup(t, "full", sp2, f2, nil, "randrw-ok.json")
		s.env.Overrides = []stage.Override{{Target: "serial:ATA/TESTDISK/S2", Who: "alice", Reason: "yes"}}
		res, _ := s.st.Run(context.Background(), s.env)
		if res.Status != stage.Fail || len(s.tools.Calls) != 0 || !strings.Contains(res.Message, "mounted at /mnt") {
			t.Fatalf("got %s (%d tool calls): %s", res.Status, len(s.tools.Calls), res.Message)
		}
	})
	t.Run("unknown halts like data", func(t *testing.T) {
		f2, sp2 := twoDisks()
		f2.reports["8:16"] = wipeprobe.Report{Verdict: wipeprobe.Unknown, Signatures: []wipeprobe.Signature{},
			Unknown: []wipeprobe.Problem{{Voter: "wipefs", Reason: "wipefs exited 1"}}}
		s := newSetup(t, "full", sp2, f2, nil, "randrw-ok.json")
		res, _ := s.st.Run(context.Background(), s.env)
		if res.Status != stage.Fail || res.Reason != "unexpected_data" || len(s.tools.Calls) != 0 {
			t.Fatalf("got %s/%s: %s", res.Status, res.Reason, res.Message)
		}
	})
}

func TestStageAllowlistGates(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(f *fakeDevices, sp *spec.Spec)
		code   string
	}{
		{"expected test disk missing", func(f *fakeDevices, sp *spec.Spec) {
			sp.Disks = append(sp.Disks, wantDisk("GONE", spec.RoleTest))
		}, "DiskMissing"},
		{"two devices with one identity (multipath)", func(f *fakeDevices, sp *spec.Spec) {
			d := disk("sdd", "8:48", "S2", "hdd", 64*gb)
			f.cands = append(f.cands, Candidate{Disk: d, Path: "/dev/sdd"})
			f.nodes["/dev/sdd"] = "8:48"
		}, "DiskDuplicate"},
		{"renamed between enumeration and open", func(f *fakeDevices, sp *spec.Spec) {
			f.nodes["/dev/sdc"] = "8:16" // the node now opens the other disk
		}, "DiskRenamed"},
		{"identity changed under the bound dev_t", func(f *fakeDevices, sp *spec.Spec) {
			f.enumHook = func(call int, c []Candidate) []Candidate {
				if call > 1 {
					c[2].Disk.Serial = "OTHER"
				}
				return c
			}
		}, "DiskIdentity"},
		{"test disk is the boot medium", func(f *fakeDevices, sp *spec.Spec) {
			sp.Disks[0].Role = spec.RoleTest
		}, "BootMedium"},
		{"empty serial in the spec never matches", func(f *fakeDevices, sp *spec.Spec) {
			sp.Disks = append(sp.Disks, spec.Disk{ID: spec.DiskIdentity{Vendor: "ATA", Model: "TESTDISK", Serial: "  "}, Role: spec.RoleTest})
		}, "DiskMissing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, sp := twoDisks()
			tc.mutate(f, sp)
			s := newSetup(t, "full", sp, f, nil, "randrw-ok.json")
			res, err := s.st.Run(context.Background(), s.env)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != stage.Fail || len(s.tools.Calls) != 0 {
				t.Fatalf("got %s with tool calls %v: %s", res.Status, s.calls("badblocks"), res.Message)
			}
			codes := []string{}
			for _, fd := range res.Findings {
				codes = append(codes, fd.Code)
			}
			if !strings.Contains(strings.Join(codes, " "), tc.code) {
				t.Errorf("finding codes %v, want %s; %s", codes, tc.code, res.Message)
			}
			for _, o := range f.opens {
				if strings.Contains(o, "excl=true") {
					t.Errorf("a disk was opened for the test although a gate failed: %v", f.opens)
				}
			}
		})
	}
}

func TestStageMatchesPaddedSerials(t *testing.T) {
	f := newFake(disk("nvme0n1", "259:0", "  S1PADDED  \x00\x00", "nvme", 64*gb))
	f.cands[0].Disk.Vendor, f.cands[0].Disk.Model = " ATA", "TESTDISK   "
	sp := &spec.Spec{Version: 1, Disks: []spec.Disk{wantDisk("S1PADDED", spec.RoleTest)}}
	s := newSetup(t, "full", sp, f, nil, "randrw-ok.json")
	res, err := s.st.Run(context.Background(), s.env)
	if err != nil || res.Status != stage.Pass || len(s.calls("badblocks")) != 1 {
		t.Fatalf("space/NUL-padded identity did not match: %s, %v: %s", res.Status, err, res.Message)
	}
	if _, ok := res.Summary["disks"].(map[string]any)["serial:ATA/TESTDISK/S1PADDED"]; !ok {
		t.Errorf("summary not keyed by the normalised identity: %v", res.Summary)
	}
}

func TestStageSafeProfileNeverWrites(t *testing.T) {
	f, sp := twoDisks()
	s := newSetup(t, "safe", sp, f, nil, "randread-ok.json")
	res, err := s.st.Run(context.Background(), s.env)
	if err != nil || res.Status != stage.Pass {
		t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
	}
	if s.writes() != 0 {
		t.Errorf("safe profile wrote: %v %v", s.calls("badblocks"), s.calls("fio"))
	}
	for _, c := range s.calls("badblocks") {
		if !strings.HasPrefix(c, "-sv ") {
			t.Errorf("safe badblocks args %q, want read-only -sv", c)
		}
	}
	for _, c := range s.calls("fio") {
		if !strings.Contains(c, "--readonly") || !strings.Contains(c, "--rw=randread") {
			t.Errorf("safe fio args %q", c)
		}
	}
	for _, o := range f.opens {
		if strings.Contains(o, "excl=true") {
			t.Errorf("safe profile took an exclusive (write) handle: %v", f.opens)
		}
	}
	if len(s.calls("badblocks")) != 2*8 {
		t.Errorf("bounded safe surface test: %d badblocks runs, want 8 segments per disk", len(s.calls("badblocks")))
	}
}

func TestStageDiskFailures(t *testing.T) {
	t.Run("bad blocks listed (badblocks exits 0)", func(t *testing.T) {
		f, sp := twoDisks()
		s := newSetup(t, "full", sp, f, map[string]string{"8:16": "1234\n5678\n"}, "randrw-ok.json")
		res, err := s.st.Run(context.Background(), s.env)
		if err != nil || res.Status != stage.Fail || !strings.Contains(res.Message, "2 bad blocks") {
			t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
		}
	})
	t.Run("device turned read-only mid-test: device lost, never pass", func(t *testing.T) {
		f, sp := twoDisks()
		s := newSetup(t, "full", sp, f, nil, "randrw-ok.json")
		s.tools.Rules[0].Func = func(_ context.Context, c tool.Cmd) (tool.Output, error) {
			f.mu.Lock()
			dev := f.handles[c.Args[len(c.Args)-3]]
			if dev == "8:32" {
				f.state[dev] = [2]int64{f.state[dev][0], 1}
			}
			f.mu.Unlock()
			list := ""
			if dev == "8:32" {
				list = "0\n1\n2\n"
			}
			return tool.Output{}, os.WriteFile(c.Args[6], []byte(list), 0o644)
		}
		res, err := s.st.Run(context.Background(), s.env)
		if err != nil || res.Status != stage.Fail || !strings.Contains(res.Message, "device lost / I/O error") ||
			!strings.Contains(res.Message, "S2") || strings.Contains(res.Message, "S1 ") {
			t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
		}
	})
	t.Run("fio I/O error with a non-JSON prefix", func(t *testing.T) {
		f, sp := twoDisks()
		s := newSetup(t, "full", sp, f, nil, "readonly-device.stdout")
		res, err := s.st.Run(context.Background(), s.env)
		if err != nil || res.Status != stage.Fail || !strings.Contains(res.Message, "I/O error") {
			t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
		}
	})
	t.Run("IOPS below the class floor", func(t *testing.T) {
		f, sp := twoDisks()
		sp.Thresholds = map[string]string{"fio_iops_floor_hdd": "1000000"}
		s := newSetup(t, "full", sp, f, nil, "randrw-ok.json")
		res, err := s.st.Run(context.Background(), s.env)
		if err != nil || res.Status != stage.Fail || !strings.Contains(res.Message, "fio_iops_floor_hdd") || strings.Contains(res.Message, "S1") {
			t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
		}
	})
}

func TestStageSkipsWithoutTestDisks(t *testing.T) {
	f, sp := twoDisks()
	sp.Disks = sp.Disks[:1]
	s := newSetup(t, "full", sp, f, nil, "randrw-ok.json")
	res, err := s.st.Run(context.Background(), s.env)
	if err != nil || res.Status != stage.Skip || len(f.opens) != 0 {
		t.Fatalf("got %s, %v, opens %v", res.Status, err, f.opens)
	}
}

func TestStageNoSpecIsAnError(t *testing.T) {
	f, _ := twoDisks()
	st := &Stage{Enum: f, Open: f, Probe: f, Boot: f}
	_, err := st.Run(context.Background(), &stage.Env{Sink: &fakeSink{facts: map[string][]byte{}}})
	if err == nil {
		t.Fatal("want an error: without a spec nothing may be written")
	}
}

// One worker per disk: with two disks whose badblocks takes 300 ms each, the
// stage takes about 300 ms, not 600.
func TestStageTestsDisksInParallel(t *testing.T) {
	f, sp := twoDisks()
	s := newSetup(t, "full", sp, f, nil, "randrw-ok.json")
	inner := s.tools.Rules[0].Func
	s.tools.Rules[0].Func = func(ctx context.Context, c tool.Cmd) (tool.Output, error) {
		time.Sleep(300 * time.Millisecond)
		return inner(ctx, c)
	}
	t0 := time.Now()
	res, err := s.st.Run(context.Background(), s.env)
	if err != nil || res.Status != stage.Pass {
		t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
	}
	if d := time.Since(t0); d >= 550*time.Millisecond {
		t.Errorf("two disks took %s: not tested in parallel", d)
	}
}
