//go:build linux

package storage

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/agent/stage/storage/diskfixture"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/testutil"
	"github.com/shakedown/shakedown/collector/tool"
)

// loopEnum enumerates the given loop devices with identities made up from
// their backing files (loop devices have no serial): vendor LOOP, model
// FIXTURE, serial = backing file name. Two loop devices over one file share
// an identity, like a multipath LUN. paths overrides the node to open.
type loopEnum struct {
	mu    sync.Mutex
	devs  []string
	paths map[string]string
	hook  func(call int)
	calls int
}

func (e *loopEnum) Disks(context.Context) ([]Candidate, error) {
	e.mu.Lock()
	e.calls++
	call := e.calls
	e.mu.Unlock()
	var out []Candidate
	env := collector.Env{Root: "/"}
	for _, dev := range e.devs {
		name := filepath.Base(dev)
		read := func(p ...string) string {
			b, err := os.ReadFile(env.Sys(append([]string{"block", name}, p...)...))
			if err != nil {
				return ""
			}
			return strings.TrimSpace(string(b))
		}
		sectors, _ := strconv.ParseUint(read("size"), 10, 64)
		d := collector.Disk{Name: name, DevT: read("dev"), SizeBytes: sectors * 512, LogicalSectorSize: 512,
			Vendor: "LOOP", Model: "FIXTURE", Serial: filepath.Base(read("loop", "backing_file")), Class: "ssd"}
		p := dev
		if q, ok := e.paths[dev]; ok {
			p = q
		}
		out = append(out, Candidate{Disk: d, Path: p})
	}
	if e.hook != nil {
		e.hook(call)
	}
	return out, nil
}

func loopSpec(files ...string) *spec.Spec {
	sp := &spec.Spec{Version: 1, Thresholds: map[string]string{"fio_iops_floor_ssd": "1"}}
	for _, f := range files {
		sp.Disks = append(sp.Disks, spec.Disk{ID: spec.DiskIdentity{Vendor: "LOOP", Model: "FIXTURE", Serial: filepath.Base(f)},
			Role: spec.RoleTest, Class: "ssd"})
	}
	return sp
}

func loopEnv(t *testing.T, profile string, sp *spec.Spec) (*stage.Env, *fakeSink) {
	t.Helper()
	sink := &fakeSink{facts: map[string][]byte{}}
	if err := sink.PutFact(spec.FactKey, sp); err != nil {
		t.Fatal(err)
	}
	params := stage.Params{}
	for _, p := range (&Stage{}).Params() {
		params[p.Name] = p.DefaultFor(profile)
	}
	params[ParamFioTime] = "2s"
	params[ParamFioSize] = "16MiB"
	quiet := slog.New(slog.DiscardHandler)
	tools := &tool.Exec{Log: quiet}
	return &stage.Env{Stage: "Storage", Profile: profile, AllowDestructive: profile != "safe", Params: params, Log: quiet,
		Tools: tools, Collector: collector.Env{Root: "/", Tools: tools, Log: quiet}, WorkDir: t.TempDir(), Sink: sink}, sink
}

func requireLoopTools(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "losetup", "wipefs", "badblocks", "fio", "blockdev", "mkfs.ext4")
}

type img struct{ file, dev, sum string }

func (i *img) unchanged(t *testing.T) {
	t.Helper()
	if got := diskfixture.SHA256(t, i.file); got != i.sum {
		t.Errorf("%s was written (sha256 %s -> %s)", i.file, i.sum, got)
	}
}

func makeImg(t *testing.T, dir, name string, size int64, ext4 bool) *img {
	t.Helper()
	f := diskfixture.Sparse(t, dir, name, size)
	if ext4 {
		diskfixture.Run(t, nil, "mkfs.ext4", "-F", "-q", f)
	}
	return &img{file: f, dev: diskfixture.Loop(t, f), sum: diskfixture.SHA256(t, f)}
}

func TestLoopStagePassesAndWrites(t *testing.T) {
	requireLoopTools(t)
	dir := t.TempDir()
	a, b := makeImg(t, dir, "diskA.img", 64<<20, false), makeImg(t, dir, "diskB.img", 64<<20, false)
	env, sink := loopEnv(t, "full", loopSpec(a.file, b.file))
	st := &Stage{Enum: &loopEnum{devs: []string{a.dev, b.dev}}}
	res, err := st.Run(context.Background(), env)
	if err != nil || res.Status != stage.Pass {
		t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
	}
	for _, i := range []*img{a, b} {
		if diskfixture.SHA256(t, i.file) == i.sum {
			t.Errorf("%s unchanged after a write test: fio randrw should have written it", i.file)
		}
	}
	var iops, progress int
	for _, m := range sink.measures {
		if m.Kind == "fio" && m.Name == "iops_total" && m.Value > 0 {
			iops++
		}
	}
	for _, e := range sink.events {
		if e.Type() == "progress" {
			progress++
		}
	}
	if iops != 2 || progress == 0 || len(res.Artifacts) != 2 {
		t.Errorf("fio measurements %d, progress events %d, artifacts %v", iops, progress, res.Artifacts)
	}
}

func TestLoopStageGatesWriteNothing(t *testing.T) {
	requireLoopTools(t)
	t.Run("ext4 on one disk halts both; override lets it run", func(t *testing.T) {
		dir := t.TempDir()
		a, b := makeImg(t, dir, "cleanA.img", 32<<20, false), makeImg(t, dir, "ext4B.img", 32<<20, true)
		env, sink := loopEnv(t, "full", loopSpec(a.file, b.file))
		st := &Stage{Enum: &loopEnum{devs: []string{a.dev, b.dev}}}
		res, err := st.Run(context.Background(), env)
		if err != nil || res.Status != stage.Fail || res.Reason != "unexpected_data" ||
			!strings.Contains(res.Message, "serial:LOOP/FIXTURE/ext4B.img") || !strings.Contains(res.Message, "ext4@0x438") {
			t.Fatalf("got %s/%s, %v: %s", res.Status, res.Reason, err, res.Message)
		}
		a.unchanged(t)
		b.unchanged(t)
		if len(sink.notices("UnexpectedData")) != 1 {
			t.Errorf("no UnexpectedData notice")
		}
		env.Overrides = []stage.Override{{Target: "serial:LOOP/FIXTURE/ext4B.img", Who: "test", Reason: "fixture"}}
		res, err = st.Run(context.Background(), env)
		if err != nil || res.Status != stage.Pass {
			t.Fatalf("with override: %s, %v: %s", res.Status, err, res.Message)
		}
	})
	t.Run("rename between enumeration and open", func(t *testing.T) {
		dir := t.TempDir()
		a, b := makeImg(t, dir, "renA.img", 32<<20, false), makeImg(t, dir, "renB.img", 32<<20, false)
		node := filepath.Join(dir, "sdx")
		mknod := func(dev string) {
			var st unix.Stat_t
			if err := unix.Stat(dev, &st); err != nil {
				t.Fatal(err)
			}
			_ = os.Remove(node)
			if err := unix.Mknod(node, unix.S_IFBLK|0o600, int(st.Rdev)); err != nil {
				t.Fatal(err)
			}
		}
		mknod(a.dev)
		enum := &loopEnum{devs: []string{a.dev}, paths: map[string]string{a.dev: node}}
		enum.hook = func(call int) {
			if call == 1 {
				mknod(b.dev) // the name now points at another disk
			}
		}
		env, _ := loopEnv(t, "full", loopSpec(a.file))
		res, err := (&Stage{Enum: enum}).Run(context.Background(), env)
		if err != nil || res.Status != stage.Fail || !strings.Contains(res.Message, "renamed or replaced") {
			t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
		}
		a.unchanged(t)
		b.unchanged(t)
	})
	t.Run("two loop devices over one file (multipath)", func(t *testing.T) {
		dir := t.TempDir()
		a := makeImg(t, dir, "mp.img", 32<<20, false)
		second := diskfixture.Loop(t, a.file)
		env, _ := loopEnv(t, "full", loopSpec(a.file))
		res, err := (&Stage{Enum: &loopEnum{devs: []string{a.dev, second}}}).Run(context.Background(), env)
		if err != nil || res.Status != stage.Fail || !strings.Contains(res.Message, "multipath") {
			t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
		}
		a.unchanged(t)
	})
	t.Run("a mounted disk (the live medium) is never a candidate, even overridden", func(t *testing.T) {
		// The kernel here has no iso9660 driver, so the live medium is an
		// ext4 stick; the hybrid ISO itself is a wipe-probe fixture.
		testutil.RequireTools(t, "mount", "umount")
		dir := t.TempDir()
		i := makeImg(t, dir, "live.img", 32<<20, true)
		mnt := t.TempDir()
		diskfixture.Run(t, nil, "mount", "-o", "ro", i.dev, mnt)
		defer diskfixture.Run(t, nil, "umount", mnt)
		env, _ := loopEnv(t, "full", loopSpec(i.file))
		env.Overrides = []stage.Override{{Target: "serial:LOOP/FIXTURE/live.img", Who: "test", Reason: "even with an override"}}
		res, err := (&Stage{Enum: &loopEnum{devs: []string{i.dev}}}).Run(context.Background(), env)
		if err != nil || res.Status != stage.Fail || !strings.Contains(res.Message, "holds the running system") {
			t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
		}
		i.unchanged(t)
	})
	t.Run("safe profile reads only", func(t *testing.T) {
		dir := t.TempDir()
		a := makeImg(t, dir, "safeA.img", 64<<20, false)
		// Put non-zero content where no signature is, so a write would show.
		diskfixture.Patch(t, a.file, func(w io.WriterAt, _ int64) error {
			_, err := w.WriteAt([]byte(strings.Repeat("shakedown", 1000)), 8<<20)
			return err
		})
		a.sum = diskfixture.SHA256(t, a.file)
		env, _ := loopEnv(t, "safe", loopSpec(a.file))
		res, err := (&Stage{Enum: &loopEnum{devs: []string{a.dev}}}).Run(context.Background(), env)
		if err != nil || res.Status != stage.Pass {
			t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
		}
		a.unchanged(t)
	})
}

func TestLoopStageDeviceLostMidRun(t *testing.T) {
	requireLoopTools(t)
	testutil.RequireLong(t)
	dir := t.TempDir()
	a := makeImg(t, dir, "lost.img", 512<<20, false)
	env, _ := loopEnv(t, "full", loopSpec(a.file))
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Wait for badblocks to be writing, then flip the device read-only.
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			out, _ := diskfixture.Runner.Run(context.Background(), tool.Cmd{Tool: "pgrep", Args: []string{"-x", "badblocks"}})
			if out.ExitCode == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		diskfixture.Run(t, nil, "blockdev", "--setro", a.dev)
	}()
	res, err := (&Stage{Enum: &loopEnum{devs: []string{a.dev}}}).Run(context.Background(), env)
	<-done
	if err != nil || res.Status != stage.Fail || !strings.Contains(res.Message, "device lost / I/O error") {
		t.Fatalf("got %s, %v: %s", res.Status, err, res.Message)
	}
	fmt.Fprintln(os.Stderr, "device lost verdict:", res.Message)
}

// The production enumerator and boot finder on the live root (read-only):
// every enumerated disk has a dev_t and a /dev path, and the disk holding
// the root filesystem, when the root is on a listed disk, is a boot disk.
func TestLiveEnumeratorAndBootFinder(t *testing.T) {
	env := collector.Env{Root: "/", Log: slog.New(slog.DiscardHandler)}
	cands, err := sysfsEnumerator{env: env}.Disks(context.Background())
	if err != nil {
		if testutil.Required() {
			t.Fatalf("enumerate disks (SHAKEDOWN_INTEGRATION=require): %v", err)
		}
		t.Skipf("SKIPPED: no disks probe data here: %v", err)
	}
	boot, err := mountBoot{env: env}.BootDisks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var rootDev string
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err == nil {
		rootDev = wholeDisk(env, fmt.Sprintf("%d:%d", unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev))))
	}
	for _, c := range cands {
		if c.Disk.DevT == "" || c.Path != env.Dev(c.Disk.Name) {
			t.Errorf("candidate %+v: want a dev_t and path %s", c, env.Dev(c.Disk.Name))
		}
		if c.Disk.DevT == rootDev {
			if _, ok := boot[rootDev]; !ok {
				t.Errorf("disk %s holds / but is not a boot disk: %v", c.Disk.Name, boot)
			}
		}
		t.Logf("disk %s %s identity %s boot=%v", c.Disk.Name, c.Disk.DevT, spec.IdentityOf(c.Disk), boot[c.Disk.DevT] != "")
	}
}
