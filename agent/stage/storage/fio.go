package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// FioArgs builds the fio invocation (the seed's job: 4k random read/write,
// queue depth 32, direct I/O, 60 s or 1 GiB). write false is the safe
// profile: random reads only, with fio's own --readonly guard.
func FioArgs(path, out string, size int64, runtime time.Duration, write bool) []string {
	rw := "--rw=randrw"
	args := []string{"--name=storage", "--filename=" + path}
	if !write {
		rw = "--rw=randread"
		args = append(args, "--readonly")
	}
	secs := int64(runtime / time.Second)
	if secs < 1 {
		secs = 1
	}
	return append(args, rw, "--bs=4k", "--iodepth=32", "--ioengine=libaio", "--direct=1",
		"--runtime="+strconv.FormatInt(secs, 10), "--size="+strconv.FormatInt(size, 10),
		"--output-format=json", "--output="+out)
}

// FioResult is what the stage takes from fio's JSON.
type FioResult struct {
	// Error is jobs[].error (an errno): non-zero means I/O failed.
	Error                 int
	ReadIOPS, WriteIOPS   float64
	ReadP99, WriteP99     time.Duration // 0 when that direction did no I/O
	ReadBytes, WriteBytes int64
}

// TotalIOPS is read + write.
func (r FioResult) TotalIOPS() float64 { return r.ReadIOPS + r.WriteIOPS }

// P99 is the worse of the two directions.
func (r FioResult) P99() time.Duration { return max(r.ReadP99, r.WriteP99) }

type fioDir struct {
	IOPS    float64 `json:"iops"`
	IOBytes int64   `json:"io_bytes"`
	ClatNS  struct {
		Percentile map[string]float64 `json:"percentile"`
	} `json:"clat_ns"`
}

// ParseFio parses fio --output-format=json output. fio may print a
// non-JSON line (an I/O error) before the document, so parsing starts at the
// first '{'. Every job is summed; any job's error is reported.
func ParseFio(r io.Reader) (FioResult, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return FioResult{}, fmt.Errorf("read fio output: %w", err)
	}
	i := bytes.IndexByte(data, '{')
	if i < 0 {
		return FioResult{}, fmt.Errorf("parse fio output: no JSON document (%d bytes)", len(data))
	}
	var doc struct {
		Jobs *[]struct {
			Error *int   `json:"error"`
			Read  fioDir `json:"read"`
			Write fioDir `json:"write"`
		} `json:"jobs"`
	}
	dec := json.NewDecoder(bytes.NewReader(data[i:]))
	if err := dec.Decode(&doc); err != nil {
		return FioResult{}, fmt.Errorf("parse fio output: %w", err)
	}
	if doc.Jobs == nil || len(*doc.Jobs) == 0 {
		return FioResult{}, fmt.Errorf("parse fio output: no jobs")
	}
	var res FioResult
	for _, j := range *doc.Jobs {
		if j.Error == nil {
			return FioResult{}, fmt.Errorf("parse fio output: job without an error field")
		}
		if *j.Error != 0 && res.Error == 0 {
			res.Error = *j.Error
		}
		res.ReadIOPS += j.Read.IOPS
		res.WriteIOPS += j.Write.IOPS
		res.ReadBytes += j.Read.IOBytes
		res.WriteBytes += j.Write.IOBytes
		res.ReadP99 = max(res.ReadP99, p99(j.Read))
		res.WriteP99 = max(res.WriteP99, p99(j.Write))
	}
	if res.ReadIOPS < 0 || res.WriteIOPS < 0 {
		return FioResult{}, fmt.Errorf("parse fio output: negative IOPS")
	}
	return res, nil
}

func p99(d fioDir) time.Duration {
	v, ok := d.ClatNS.Percentile["99.000000"]
	if !ok || v <= 0 {
		return 0
	}
	return time.Duration(v)
}
