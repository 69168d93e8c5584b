package gpu

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// State is one GPU as `nvidia-smi -q -x` describes it. Pointers are nil when
// the field is absent or "N/A" (older drivers, boards without the feature):
// absent is never zero.
type State struct {
	Index   int    `json:"index"`
	BusID   string `json:"bus_id"`
	Product string `json:"product,omitempty"`
	UUID    string `json:"uuid,omitempty"`
	Serial  string `json:"serial,omitempty"`
	VBIOS   string `json:"vbios,omitempty"`

	ECCEnabled *bool `json:"ecc_enabled,omitempty"`
	// ECC error counts: volatile (since driver load) and aggregate (lifetime).
	VolatileCorrected    *uint64 `json:"volatile_corrected,omitempty"`
	VolatileUncorrected  *uint64 `json:"volatile_uncorrected,omitempty"`
	AggregateCorrected   *uint64 `json:"aggregate_corrected,omitempty"`
	AggregateUncorrected *uint64 `json:"aggregate_uncorrected,omitempty"`
	// Page retirement (up to Volta) and row remapping (Ampere and later).
	RetiredSBE         *uint64 `json:"retired_sbe,omitempty"`
	RetiredDBE         *uint64 `json:"retired_dbe,omitempty"`
	RetirementPending  *bool   `json:"retirement_pending,omitempty"`
	RemapCorrectable   *uint64 `json:"remap_correctable,omitempty"`
	RemapUncorrectable *uint64 `json:"remap_uncorrectable,omitempty"`
	RemapPending       *bool   `json:"remap_pending,omitempty"`
	RemapFailure       *bool   `json:"remap_failure,omitempty"`

	TempC       *float64 `json:"temp_c,omitempty"`
	SlowdownC   *float64 `json:"slowdown_c,omitempty"`
	ShutdownC   *float64 `json:"shutdown_c,omitempty"`
	PowerW      *float64 `json:"power_w,omitempty"`
	PowerLimitW *float64 `json:"power_limit_w,omitempty"`

	LinkGen      *int `json:"link_gen,omitempty"`
	MaxLinkGen   *int `json:"max_link_gen,omitempty"`
	LinkWidth    *int `json:"link_width,omitempty"`
	MaxLinkWidth *int `json:"max_link_width,omitempty"`
}

// Snapshot is one `nvidia-smi -q -x` reading.
type Snapshot struct {
	Driver string  `json:"driver,omitempty"`
	CUDA   string  `json:"cuda,omitempty"`
	GPUs   []State `json:"gpus"`
}

type eccBlock struct {
	SingleBit struct {
		Total string `xml:"total"`
	} `xml:"single_bit"`
	DoubleBit struct {
		Total string `xml:"total"`
	} `xml:"double_bit"`
	DRAMCorr      string `xml:"dram_correctable"`
	SRAMCorr      string `xml:"sram_correctable"`
	DRAMUnc       string `xml:"dram_uncorrectable"`
	SRAMUnc       string `xml:"sram_uncorrectable"`
	SRAMUncParity string `xml:"sram_uncorrectable_parity"`
	SRAMUncSECDED string `xml:"sram_uncorrectable_secded"`
}

type xmlGPU struct {
	ID      string `xml:"id,attr"`
	Product string `xml:"product_name"`
	UUID    string `xml:"uuid"`
	Serial  string `xml:"serial"`
	VBIOS   string `xml:"vbios_version"`
	PCI     struct {
		BusID string `xml:"pci_bus_id"`
		Link  struct {
			Gen struct {
				Max     string `xml:"max_link_gen"`
				Current string `xml:"current_link_gen"`
			} `xml:"pcie_gen"`
			Widths struct {
				Max     string `xml:"max_link_width"`
				Current string `xml:"current_link_width"`
			} `xml:"link_widths"`
		} `xml:"pci_gpu_link_info"`
	} `xml:"pci"`
	ECCMode struct {
		Current string `xml:"current_ecc"`
	} `xml:"ecc_mode"`
	ECC struct {
		Volatile  eccBlock `xml:"volatile"`
		Aggregate eccBlock `xml:"aggregate"`
	} `xml:"ecc_errors"`
	Retired struct {
		SBE struct {
			Count string `xml:"retired_count"`
		} `xml:"multiple_single_bit_retirement"`
		DBE struct {
			Count string `xml:"retired_count"`
		} `xml:"double_bit_retirement"`
		PendingBlacklist  string `xml:"pending_blacklist"`
		PendingRetirement string `xml:"pending_retirement"`
	} `xml:"retired_pages"`
	Remap struct {
		Corr    string `xml:"remapped_row_corr"`
		Unc     string `xml:"remapped_row_unc"`
		Pending string `xml:"remapped_row_pending"`
		Failure string `xml:"remapped_row_failure"`
	} `xml:"remapped_rows"`
	Temp struct {
		GPU      string `xml:"gpu_temp"`
		Slowdown string `xml:"gpu_temp_slow_threshold"`
		Shutdown string `xml:"gpu_temp_max_threshold"`
	} `xml:"temperature"`
	PowerOld struct {
		Draw  string `xml:"power_draw"`
		Limit string `xml:"power_limit"`
	} `xml:"power_readings"`
	PowerNew struct {
		Draw  string `xml:"power_draw"`
		Limit string `xml:"current_power_limit"`
	} `xml:"gpu_power_readings"`
}

type xmlLog struct {
	XMLName xml.Name `xml:"nvidia_smi_log"`
	Driver  string   `xml:"driver_version"`
	CUDA    string   `xml:"cuda_version"`
	GPUs    []xmlGPU `xml:"gpu"`
}

// ParseXML parses `nvidia-smi -q -x`. The DOCTYPE's external DTD is not read.
func ParseXML(r io.Reader) (*Snapshot, error) {
	d := xml.NewDecoder(io.LimitReader(r, 32<<20))
	d.Strict = true
	var l xmlLog
	if err := d.Decode(&l); err != nil {
		return nil, fmt.Errorf("parse nvidia-smi xml: %w", err)
	}
	s := &Snapshot{Driver: clean(l.Driver), CUDA: clean(l.CUDA), GPUs: []State{}}
	for i, g := range l.GPUs {
		st := State{Index: i, BusID: clean(g.PCI.BusID), Product: clean(g.Product), UUID: clean(g.UUID), Serial: clean(g.Serial), VBIOS: clean(g.VBIOS)}
		if st.BusID == "" {
			st.BusID = clean(g.ID)
		}
		switch strings.ToLower(clean(g.ECCMode.Current)) {
		case "enabled":
			st.ECCEnabled = ptr(true)
		case "disabled":
			st.ECCEnabled = ptr(false)
		}
		st.VolatileCorrected, st.VolatileUncorrected = g.ECC.Volatile.counts()
		st.AggregateCorrected, st.AggregateUncorrected = g.ECC.Aggregate.counts()
		st.RetiredSBE, st.RetiredDBE = num(g.Retired.SBE.Count), num(g.Retired.DBE.Count)
		st.RetirementPending = or(yesNo(g.Retired.PendingRetirement), yesNo(g.Retired.PendingBlacklist))
		st.RemapCorrectable, st.RemapUncorrectable = num(g.Remap.Corr), num(g.Remap.Unc)
		st.RemapPending, st.RemapFailure = yesNo(g.Remap.Pending), yesNo(g.Remap.Failure)
		st.TempC, st.SlowdownC, st.ShutdownC = unitFloat(g.Temp.GPU), unitFloat(g.Temp.Slowdown), unitFloat(g.Temp.Shutdown)
		st.PowerW, st.PowerLimitW = unitFloat(g.PowerNew.Draw), unitFloat(g.PowerNew.Limit)
		if st.PowerW == nil {
			st.PowerW = unitFloat(g.PowerOld.Draw)
		}
		if st.PowerLimitW == nil {
			st.PowerLimitW = unitFloat(g.PowerOld.Limit)
		}
		st.LinkGen, st.MaxLinkGen = unitInt(g.PCI.Link.Gen.Current), unitInt(g.PCI.Link.Gen.Max)
		st.LinkWidth, st.MaxLinkWidth = unitInt(g.PCI.Link.Widths.Current), unitInt(g.PCI.Link.Widths.Max)
		s.GPUs = append(s.GPUs, st)
	}
	return s, nil
}

// counts sums corrected and uncorrected errors: the pre-Ampere layout has
// single_bit/double_bit totals, the later one dram_/sram_ counters.
func (b eccBlock) counts() (corr, unc *uint64) {
	if v := num(b.SingleBit.Total); v != nil {
		corr = v
	} else {
		corr = sum(num(b.DRAMCorr), num(b.SRAMCorr))
	}
	if v := num(b.DoubleBit.Total); v != nil {
		unc = v
	} else {
		unc = sum(num(b.DRAMUnc), num(b.SRAMUnc), num(b.SRAMUncParity), num(b.SRAMUncSECDED))
	}
	return corr, unc
}

func sum(ps ...*uint64) *uint64 {
	var t uint64
	any := false
	for _, p := range ps {
		if p != nil {
			t += *p
			any = true
		}
	}
	if !any {
		return nil
	}
	return &t
}

func clean(s string) string {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "N/A") || strings.EqualFold(s, "[N/A]") || strings.HasPrefix(s, "[Not Supported") || strings.EqualFold(s, "Not Supported") {
		return ""
	}
	return s
}

func num(s string) *uint64 {
	s = clean(s)
	if s == "" {
		return nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil
	}
	return &v
}

// unitFloat parses "45 C", "27.22 W", "16x".
func unitFloat(s string) *float64 {
	s = clean(s)
	f := strings.Fields(strings.TrimSuffix(s, "x"))
	if len(f) == 0 {
		return nil
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return nil
	}
	return &v
}

func unitInt(s string) *int {
	f := unitFloat(s)
	if f == nil {
		return nil
	}
	i := int(*f)
	return &i
}

func yesNo(s string) *bool {
	switch strings.ToLower(clean(s)) {
	case "yes":
		return ptr(true)
	case "no":
		return ptr(false)
	}
	return nil
}

func or(a, b *bool) *bool {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return ptr(*a || *b)
}

func ptr[T any](v T) *T { return &v }

// DmonSample is one `nvidia-smi dmon` row.
type DmonSample struct {
	GPU    int      `json:"gpu"`
	PowerW *float64 `json:"power_w,omitempty"`
	TempC  *float64 `json:"temp_c,omitempty"`
	MemC   *float64 `json:"mem_temp_c,omitempty"`
	SMPct  *float64 `json:"sm_pct,omitempty"`
}

// ParseDmon parses `nvidia-smi dmon` output. The "# gpu pwr gtemp ..." header
// names the columns (they vary with -s and the driver); "-" is absent.
func ParseDmon(r io.Reader) ([]DmonSample, error) {
	b, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read dmon: %w", err)
	}
	var cols []string
	var out []DmonSample
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			f := strings.Fields(strings.TrimPrefix(line, "#"))
			if len(f) > 0 && f[0] == "gpu" {
				cols = f
			}
			continue
		}
		if cols == nil {
			continue
		}
		f := strings.Fields(line)
		if len(f) != len(cols) {
			continue
		}
		idx, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		s := DmonSample{GPU: idx}
		for i, c := range cols {
			v := unitFloat(f[i])
			if f[i] == "-" {
				v = nil
			}
			switch c {
			case "pwr":
				s.PowerW = v
			case "gtemp":
				s.TempC = v
			case "mtemp":
				s.MemC = v
			case "sm":
				s.SMPct = v
			}
		}
		out = append(out, s)
	}
	if cols == nil {
		return nil, fmt.Errorf("parse dmon: no \"# gpu ...\" header")
	}
	return out, nil
}

// BurnResult is gpu_burn's verdict for one GPU.
type BurnResult struct {
	GPU int  `json:"gpu"`
	OK  bool `json:"ok"`
}

// Burn is what gpu_burn reported.
type Burn struct {
	Tested  int          `json:"tested"`
	Results []BurnResult `json:"results"`
	// MaxErrors is the highest "errors: N" progress count seen.
	MaxErrors uint64 `json:"max_errors"`
}

// ParseGPUBurn reads gpu_burn's output: progress lines repainted with \r
// ("12.5%  proc'd: 1234 (35942 Gflop/s)   errors: 0   temps: 71 C") and the
// final "Tested N GPUs:" block of "GPU k: OK|FAULTY" lines. A missing final
// block is an error (gpu_burn was killed or crashed).
func ParseGPUBurn(r io.Reader) (*Burn, error) {
	b, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read gpu_burn output: %w", err)
	}
	text := strings.ReplaceAll(string(b), "\r", "\n")
	out := &Burn{Tested: -1}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if n, ok := strings.CutPrefix(line, "Tested "); ok {
			if f := strings.Fields(n); len(f) > 0 {
				if v, err := strconv.Atoi(f[0]); err == nil {
					out.Tested = v
				}
			}
			continue
		}
		if rest, ok := strings.CutPrefix(line, "GPU "); ok && out.Tested >= 0 {
			idx, verdict, ok := strings.Cut(rest, ":")
			i, err := strconv.Atoi(strings.TrimSpace(idx))
			if !ok || err != nil {
				continue
			}
			switch strings.TrimSpace(verdict) {
			case "OK":
				out.Results = append(out.Results, BurnResult{GPU: i, OK: true})
			case "FAULTY":
				out.Results = append(out.Results, BurnResult{GPU: i, OK: false})
			}
			continue
		}
		for _, part := range strings.Split(line, "errors:")[1:] {
			// one count per GPU: "errors: 0 - 1536 (WARNING!)  temps: ..."
			for _, f := range strings.Fields(strings.ReplaceAll(part, "-", " ")) {
				v, err := strconv.ParseUint(f, 10, 64)
				if err != nil {
					break
				}
				out.MaxErrors = max(out.MaxErrors, v)
			}
		}
	}
	if out.Tested < 0 {
		return out, fmt.Errorf("parse gpu_burn output: no \"Tested N GPUs\" summary (killed or crashed)")
	}
	return out, nil
}
