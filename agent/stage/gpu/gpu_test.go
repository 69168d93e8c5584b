package gpu

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shakedown/shakedown/agent/internal/stagefake"
	"github.com/shakedown/shakedown/agent/spec"
	"github.com/shakedown/shakedown/agent/stage"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// read is stagefake.Testdata under a short name.
var read = stagefake.Testdata

func TestParseXML(t *testing.T) {
	l4, err := ParseXML(bytes.NewReader(read(t, "l4-v12-healthy.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if l4.Driver != "555.42.06" || len(l4.GPUs) != 1 {
		t.Fatalf("%+v", l4)
	}
	g := l4.GPUs[0]
	if g.BusID != "00000000:01:00.0" || g.Product != "NVIDIA L4" || *g.VolatileUncorrected != 0 || *g.VolatileCorrected != 0 ||
		*g.RemapPending || *g.RemapFailure || *g.TempC != 45 || *g.PowerW != 27.22 || *g.PowerLimitW != 72 ||
		*g.LinkGen != 4 || *g.MaxLinkGen != 4 || *g.LinkWidth != 16 || *g.MaxLinkWidth != 16 || !*g.ECCEnabled ||
		g.RetiredSBE != nil || g.RetirementPending != nil {
		t.Errorf("L4 parsed as %+v", g)
	}

	bad, err := ParseXML(bytes.NewReader(read(t, "derived-l4-ecc-remap-hot.xml")))
	if err != nil {
		t.Fatal(err)
	}
	b := bad.GPUs[0]
	if *b.VolatileCorrected != 5 || *b.VolatileUncorrected != 2 || *b.AggregateUncorrected != 2 || !*b.RemapPending || *b.RemapUncorrectable != 1 || *b.TempC != 93 {
		t.Errorf("derived bad L4 parsed as %+v", b)
	}

	v100, err := ParseXML(bytes.NewReader(read(t, "derived-v100-style-sbe-retirement.xml")))
	if err != nil {
		t.Fatal(err)
	}
	v := v100.GPUs[0]
	if *v.VolatileCorrected != 3 || *v.VolatileUncorrected != 0 || *v.AggregateUncorrected != 1 || *v.RetiredDBE != 1 || !*v.RetirementPending || v.RemapPending != nil {
		t.Errorf("V100-style parsed as %+v", v)
	}

	p100, err := ParseXML(bytes.NewReader(read(t, "hadoop-2x-p100-v8.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if len(p100.GPUs) != 2 || p100.GPUs[1].Index != 1 {
		t.Fatalf("P100: %+v", p100)
	}
	p := p100.GPUs[0]
	if p.VolatileCorrected != nil || p.RemapPending != nil || *p.TempC != 31 || *p.PowerW != 24.84 || *p.PowerLimitW != 250 || *p.MaxLinkWidth != 16 {
		t.Errorf("P100 parsed as %+v (absent must stay nil)", p)
	}

	for _, in := range []string{"", "<nvidia_smi_log><gpu>", "No devices were found", "<other/>"} {
		if _, err := ParseXML(strings.NewReader(in)); err == nil {
			t.Errorf("ParseXML(%q) succeeded", in)
		}
	}
}

func TestParseDmonAndBurn(t *testing.T) {
	s, err := ParseDmon(bytes.NewReader(read(t, "derived-dmon-pu.txt")))
	if err != nil || len(s) != 3 || *s[2].TempC != 74 || *s[1].PowerW != 71 || s[0].MemC != nil || *s[2].SMPct != 100 {
		t.Errorf("dmon = %+v, %v", s, err)
	}
	if _, err := ParseDmon(strings.NewReader("    0 1 2\n")); err == nil {
		t.Error("dmon without a header accepted")
	}
	ok, err := ParseGPUBurn(bytes.NewReader(read(t, "derived-gpu_burn-ok.txt")))
	if err != nil || ok.Tested != 1 || len(ok.Results) != 1 || !ok.Results[0].OK || ok.MaxErrors != 0 {
		t.Errorf("ok burn = %+v, %v", ok, err)
	}
	f, err := ParseGPUBurn(bytes.NewReader(read(t, "derived-gpu_burn-faulty-2gpu.txt")))
	if err != nil || f.Tested != 2 || len(f.Results) != 2 || f.Results[1].OK || f.MaxErrors != 1536 {
		t.Errorf("faulty burn = %+v, %v", f, err)
	}
	if _, err := ParseGPUBurn(bytes.NewReader(read(t, "derived-gpu_burn-killed.txt"))); err == nil {
		t.Error("killed burn without summary accepted")
	}
}

// gpuFake answers nvidia-smi -q -x with first, then later for every later
// call, dmon with the recorded samples, and the burn tool.
func gpuFake(t *testing.T, first, later string, burnFile string, burnTools ...string) *tool.Fake {
	var mu sync.Mutex
	n := 0
	f := &tool.Fake{Missing: map[string]bool{"gpu_burn": true, "stress-ng": true}}
	for _, b := range burnTools {
		delete(f.Missing, b)
	}
	f.Add(tool.Rule{Tool: "nvidia-smi", Match: tool.ArgsContain("-q", "-x"), Func: func(ctx context.Context, c tool.Cmd) (tool.Output, error) {
		mu.Lock()
		n++
		name := first
		if n > 1 {
			name = later
		}
		mu.Unlock()
		return tool.Output{Stdout: read(t, name)}, nil
	}})
	f.Add(tool.Rule{Tool: "nvidia-smi", Match: tool.ArgsContain("dmon"), Stdout: string(read(t, "derived-dmon-pu.txt"))})
	if burnFile != "" {
		f.Add(tool.Rule{Tool: "gpu_burn", Stdout: string(read(t, burnFile)), Delay: 60 * time.Millisecond})
		f.Add(tool.Rule{Tool: "stress-ng", Stderr: string(read(t, burnFile)), Delay: 60 * time.Millisecond})
	}
	return f
}

func runStage(t *testing.T, fake *tool.Fake, sp *spec.Spec, inv *collector.Inventory) (stage.Result, error) {
	s := &Stage{}
	p := stagefake.DefaultParams(s, "quick")
	p[ParamDuration] = "40ms"
	env, sink := stagefake.Env(t, Name, t.TempDir(), fake, p)
	if sp != nil {
		_ = sink.PutFact(spec.FactKey, sp)
	}
	if inv != nil {
		_ = sink.PutFact("inventory", inv)
	}
	return s.Run(context.Background(), env)
}

func codes(r stage.Result) []string {
	var c []string
	for _, f := range r.Findings {
		c = append(c, f.Code)
	}
	return c
}

func TestRun(t *testing.T) {
	cases := []struct {
		name          string
		first, later  string
		burn          string
		tools         []string
		sp            *spec.Spec
		status        stage.Status
		reason        string
		codes         []string
		wantArtifacts []string
	}{
		{name: "healthy L4 with gpu_burn", first: "l4-v12-healthy.xml", later: "l4-v12-healthy.xml", burn: "derived-gpu_burn-ok.txt", tools: []string{"gpu_burn"},
			sp: &spec.Spec{GPUs: &spec.GPUs{Count: 1}}, status: stage.Pass,
			wantArtifacts: []string{ArtifactBefore, ArtifactDuring, ArtifactBurn, ArtifactDmon, ArtifactAfter}},
		{name: "ECC errors, pending remap, hot", first: "l4-v12-healthy.xml", later: "derived-l4-ecc-remap-hot.xml", burn: "derived-gpu_burn-ok.txt", tools: []string{"gpu_burn"},
			status: stage.Fail, reason: "ecc_errors", codes: []string{"GPUECCUncorrected", "GPUECCCorrected", "RowRemapPending", "GPUOverheat", "GPUECCHistory", "GPUECCHistory"}},
		{name: "pre-Ampere SBE and pending retirement", first: "l4-v12-healthy.xml", later: "derived-v100-style-sbe-retirement.xml", burn: "derived-gpu_burn-ok.txt", tools: []string{"gpu_burn"},
			status: stage.Fail, reason: "ecc_errors", codes: []string{"GPUECCCorrected", "PageRetirementPending", "GPUECCHistory", "GPUECCHistory"}},
		{name: "gpu_burn finds a faulty GPU", first: "hadoop-2x-p100-v8.xml", later: "hadoop-2x-p100-v8.xml", burn: "derived-gpu_burn-faulty-2gpu.txt", tools: []string{"gpu_burn"},
			status: stage.Fail, reason: "gpu_faulty", codes: []string{"GPUBurnFaulty"}},
		{name: "gpu_burn killed", first: "l4-v12-healthy.xml", later: "l4-v12-healthy.xml", burn: "derived-gpu_burn-killed.txt", tools: []string{"gpu_burn"},
			status: stage.Fail, reason: "workload_failed", codes: []string{"GPUBurnIncomplete"}},
		{name: "spec expects two GPUs", first: "l4-v12-healthy.xml", later: "l4-v12-healthy.xml", burn: "derived-gpu_burn-ok.txt", tools: []string{"gpu_burn"},
			sp: &spec.Spec{GPUs: &spec.GPUs{Count: 2}}, status: stage.Fail, reason: "gpu_count", codes: []string{"GPUCountMismatch"}},
		{name: "stress-ng skips its gpu stressor", first: "l4-v12-healthy.xml", later: "l4-v12-healthy.xml", burn: "stress-ng-gpu-no-device.log", tools: []string{"stress-ng"},
			status: stage.Warn, reason: "warning", codes: []string{"NoGPUWorkload"}},
		{name: "no load tool at all", first: "l4-v12-healthy.xml", later: "l4-v12-healthy.xml",
			status: stage.Warn, reason: "warning", codes: []string{"NoGPUWorkload"}},
		{name: "link trained down to x8", first: "derived-l4-x8-gen1.xml", later: "derived-l4-x8-gen1.xml", burn: "derived-gpu_burn-ok.txt", tools: []string{"gpu_burn"},
			status: stage.Warn, reason: "warning", codes: []string{"PCIeLinkDegraded", "PCIeLinkDegraded"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := runStage(t, gpuFake(t, c.first, c.later, c.burn, c.tools...), c.sp, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := codes(res)
			for _, w := range c.codes {
				if !slices.Contains(got, w) {
					t.Errorf("codes %v lack %s", got, w)
				}
			}
			if res.Status != c.status || res.Reason != c.reason || len(got) != len(c.codes) {
				t.Errorf("got %s/%s %v: %s", res.Status, res.Reason, got, res.Message)
			}
			var names []string
			for _, a := range res.Artifacts {
				names = append(names, a.Name)
			}
			for _, w := range c.wantArtifacts {
				if !slices.Contains(names, w) {
					t.Errorf("artifacts %v lack %s", names, w)
				}
			}
		})
	}
}

func TestRunNoGPU(t *testing.T) {
	noSMI := func() *tool.Fake { return &tool.Fake{Missing: map[string]bool{"nvidia-smi": true}} }
	res, err := runStage(t, noSMI(), nil, nil)
	if err != nil || res.Status != stage.Skip || res.Reason != "no_gpu" {
		t.Errorf("no GPU: %+v, %v", res, err)
	}
	res, err = runStage(t, noSMI(), &spec.Spec{GPUs: &spec.GPUs{Count: 2}}, nil)
	if err != nil || res.Status != stage.Fail || res.Reason != "gpu_missing" {
		t.Errorf("expected GPUs, no nvidia-smi: %+v, %v", res, err)
	}
	inv := &collector.Inventory{GPUs: []collector.GPU{{Vendor: "NVIDIA Corporation", Model: "GH100"}}}
	if _, err := runStage(t, noSMI(), nil, inv); err == nil {
		t.Error("NVIDIA GPU in the inventory without nvidia-smi: want could-not-decide")
	}
	// nvidia-smi installed, no device: exit 6.
	noDev := func() *tool.Fake {
		return (&tool.Fake{}).Add(tool.Rule{Tool: "nvidia-smi", Stdout: "No devices were found\n", ExitCode: 6})
	}
	res, err = runStage(t, noDev(), nil, nil)
	if err != nil || res.Status != stage.Skip || !strings.Contains(res.Message, "No devices were found") {
		t.Errorf("no device: %+v, %v", res, err)
	}
	res, err = runStage(t, noDev(), nil, inv)
	if err != nil || res.Status != stage.Fail || res.Reason != "gpu_not_visible" {
		t.Errorf("GPU on the bus, driver sees none: %+v, %v", res, err)
	}
	// A BMC's VGA in the inventory is not a compute GPU.
	bmc := &collector.Inventory{GPUs: []collector.GPU{{Vendor: "ASPEED Technology, Inc.", Model: "ASPEED Graphics Family"}}}
	res, err = runStage(t, noSMI(), nil, bmc)
	if err != nil || res.Status != stage.Skip {
		t.Errorf("BMC VGA only: %+v, %v", res, err)
	}
}

func FuzzParseXML(f *testing.F) {
	for _, n := range []string{"l4-v12-healthy.xml", "hadoop-2x-p100-v8.xml", "derived-v100-style-sbe-retirement.xml"} {
		f.Add(read(f, n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseXML(bytes.NewReader(b))
		if err == nil && s == nil {
			t.Fatal("nil snapshot without error")
		}
	})
}

func FuzzParseGPUBurn(f *testing.F) {
	for _, n := range []string{"derived-gpu_burn-ok.txt", "derived-gpu_burn-faulty-2gpu.txt", "derived-dmon-pu.txt"} {
		f.Add(read(f, n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		burn, err := ParseGPUBurn(bytes.NewReader(b))
		if err == nil && burn.Tested < 0 {
			t.Fatal("no summary but no error")
		}
		_, _ = ParseDmon(bytes.NewReader(b))
	})
}
