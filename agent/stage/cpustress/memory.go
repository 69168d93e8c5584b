package cpustress

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MemInfo is what the sizing needs from /proc/meminfo, in bytes.
type MemInfo struct {
	Total     uint64
	Available uint64
}

// ParseMemInfo reads MemTotal and MemAvailable (kB) from /proc/meminfo.
func ParseMemInfo(r io.Reader) (MemInfo, error) {
	var m MemInfo
	var haveT, haveA bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		switch k {
		case "MemTotal":
			m.Total, haveT = n, true
		case "MemAvailable":
			m.Available, haveA = n, true
		}
	}
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("read meminfo: %w", err)
	}
	if !haveT || !haveA {
		return m, fmt.Errorf("parse meminfo: MemTotal or MemAvailable missing (kernel older than 3.14?)")
	}
	return m, nil
}

// Sizing is how much memory the vm workers exercise.
type Sizing struct {
	MemTotal     uint64  `json:"mem_total"`
	MemAvailable uint64  `json:"mem_available"`
	MinFree      uint64  `json:"min_free"`
	Reserve      uint64  `json:"reserve"`
	Percent      float64 `json:"percent"`
	Workers      int     `json:"workers"`
	PerWorker    uint64  `json:"per_worker"`
	Total        uint64  `json:"total"`
}

const (
	mib = 1 << 20
	// overhead is kept free beyond the MAAS-style reserve for the agent,
	// the cpu workers and page tables.
	overhead = 128 * mib
	// minPerWorker is the least worth running a vm worker with.
	minPerWorker = 4 * mib
	// MaxPerWorker caps one vm worker's share (MAAS caps its memory test at
	// 4 GiB per thread too); more memory means more workers.
	MaxPerWorker = 4 << 30
	pageSize     = 4096
)

// Size computes the per-worker --vm-bytes: reserve = max(min_free_kbytes +
// 10 MiB, 0.77% of MemTotal) (what MAAS's memory test keeps free) plus
// 128 MiB for the agent, the cpu workers and page tables; then percent of
// what MemAvailable leaves, split over workers, rounded down to pages.
func Size(m MemInfo, minFree uint64, percent float64, workers int) (Sizing, error) {
	s := Sizing{MemTotal: m.Total, MemAvailable: m.Available, MinFree: minFree, Percent: percent, Workers: workers}
	if workers < 1 {
		return s, fmt.Errorf("size memory: %d vm workers", workers)
	}
	if percent <= 0 || percent > 100 {
		return s, fmt.Errorf("size memory: vm_percent %.1f is not in (0, 100]", percent)
	}
	s.Reserve = max(minFree+10*mib, uint64(float64(m.Total)*0.0077)) + overhead
	if m.Available <= s.Reserve {
		return s, fmt.Errorf("size memory: MemAvailable %d MiB does not exceed the reserve %d MiB", m.Available/mib, s.Reserve/mib)
	}
	usable := uint64(float64(m.Available-s.Reserve) * percent / 100)
	s.PerWorker = usable / uint64(workers) / pageSize * pageSize
	if s.PerWorker < minPerWorker {
		return s, fmt.Errorf("size memory: %d MiB usable is under %d MiB per vm worker", usable/mib, minPerWorker/mib)
	}
	s.Total = s.PerWorker * uint64(workers)
	return s, nil
}
