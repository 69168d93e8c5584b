package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBlockSize(t *testing.T) {
	const tib = int64(1) << 40
	cases := []struct {
		size    int64
		logical int
		want    int64
	}{
		{64 << 20, 512, 4096},
		{16*tib - 4096, 512, 4096},
		{16 * tib, 512, 8192}, // 2^32 blocks of 4 KiB do not fit in 32 bits
		{20 * tib, 4096, 8192},
		{24 * tib, 512, 8192},
		{40 * tib, 512, 16384},
		{1 << 30, 8192, 8192},
	}
	for _, tc := range cases {
		got := BlockSize(tc.size, tc.logical)
		if got != tc.want {
			t.Errorf("BlockSize(%d, %d) = %d, want %d", tc.size, tc.logical, got, tc.want)
		}
		if tc.size/got > maxBlocks {
			t.Errorf("BlockSize(%d) = %d leaves %d blocks, over the 32-bit limit", tc.size, got, tc.size/got)
		}
	}
}

func TestPlan(t *testing.T) {
	const bs = 4096
	full := Plan(1<<30, bs, 0, 8)
	if len(full) != 1 || full[0] != (Segment{0, 1<<30/bs - 1}) {
		t.Errorf("full plan = %v", full)
	}
	b := Plan(1<<40, bs, 8<<30, 8)
	if len(b) != 8 {
		t.Fatalf("bounded plan = %v", b)
	}
	total := int64(1<<40) / bs
	if b[0].First != 0 || b[7].Last != total-1 {
		t.Errorf("bounded plan must cover the first and the last block: %v", b)
	}
	var sum int64
	for i, s := range b {
		sum += s.Last - s.First + 1
		if i > 0 && s.First <= b[i-1].Last {
			t.Errorf("segments overlap: %v", b)
		}
	}
	if sum*bs != 8<<30 {
		t.Errorf("bounded plan covers %d bytes, want 8 GiB", sum*bs)
	}
	if p := Plan(1<<30, bs, 4<<30, 8); len(p) != 1 {
		t.Errorf("budget larger than the disk: plan %v, want the whole disk", p)
	}
}

func TestParseBadBlocks(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "badblocks", "readonly-device.list"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseBadBlocks(f)
	if err != nil || len(got) != 4160 {
		t.Fatalf("read-only device list: %d blocks, %v; want 4160 (badblocks exited 0 with them)", len(got), err)
	}
	if _, err := ParseBadBlocks(strings.NewReader("12\nbad\n")); err == nil {
		t.Error("a non-number line must be an error")
	}
	if got, err := ParseBadBlocks(strings.NewReader("")); err != nil || len(got) != 0 {
		t.Errorf("empty list = %v, %v", got, err)
	}
}

func TestParseBadblocksProgressCaptured(t *testing.T) {
	for name, want := range map[string][]string{
		"rw-clean.stderr": {"Testing with pattern 0xaa", "Reading and comparing", "Testing with pattern 0x55", "Testing with pattern 0xff", "Testing with pattern 0x00"},
		"ro-clean.stderr": {"Checking for bad blocks (read-only test)"},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "badblocks", name))
		if err != nil {
			t.Fatal(err)
		}
		ps := ParseBadblocksProgress(bytes.NewReader(b))
		if len(ps) == 0 {
			t.Fatalf("%s: no progress parsed", name)
		}
		phases := map[string]bool{}
		for _, p := range ps {
			phases[p.Phase] = true
			if p.Percent < 0 || p.Percent > 100 {
				t.Errorf("%s: percent %v", name, p.Percent)
			}
		}
		for _, w := range want {
			if !phases[w] {
				t.Errorf("%s: phase %q not seen in %v", name, w, phases)
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join("testdata", "badblocks", "readonly-device.stderr"))
	ps := ParseBadblocksProgress(bytes.NewReader(b))
	last := ps[len(ps)-1]
	if last.Write == 0 && last.Corrupt == 0 {
		t.Errorf("read-only device: errors not parsed: %+v", last)
	}
}

func TestProgressWriterThrottles(t *testing.T) {
	n := 0
	now := time.Unix(0, 0)
	w := &progressWriter{report: func(BadblocksProgress) { n++ }, now: func() time.Time { return now }}
	for i := 0; i < 10; i++ {
		_, _ = w.Write([]byte("Testing with pattern 0xaa:  1.00% done, 0:01 elapsed. (0/0/0 errors)\b\b"))
	}
	if n != 1 {
		t.Errorf("%d reports within one second, want 1", n)
	}
	now = now.Add(2 * time.Second)
	_, _ = w.Write([]byte(" 2.00% done, 0:03 elapsed. (0/0/0 errors)\b"))
	if n != 2 {
		t.Errorf("%d reports after a second passed, want 2", n)
	}
}

func TestParseFioCaptured(t *testing.T) {
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "fio", n))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ok, err := ParseFio(bytes.NewReader(read("randrw-ok.json")))
	if err != nil || ok.Error != 0 || ok.ReadIOPS < 1000 || ok.WriteIOPS < 1000 || ok.ReadP99 <= 0 || ok.WriteP99 <= 0 {
		t.Errorf("randrw-ok: %+v, %v", ok, err)
	}
	ro, err := ParseFio(bytes.NewReader(read("randread-ok.json")))
	if err != nil || ro.WriteIOPS != 0 || ro.ReadIOPS <= 0 || ro.WriteP99 != 0 {
		t.Errorf("randread-ok: %+v, %v", ro, err)
	}
	// fio printed "fio: pid=..., err=1/..." before the JSON, and jobs[].error=1.
	bad, err := ParseFio(bytes.NewReader(read("readonly-device.stdout")))
	if err != nil || bad.Error == 0 {
		t.Errorf("readonly-device: %+v, %v; want the job error", bad, err)
	}
	for name, in := range map[string]string{"empty": "", "no json": "fio: pid=1, err=5", "no jobs": `{"jobs": []}`,
		"truncated": `{"jobs": [{"error": 0, "read": {"iops": 5`, "job without error": `{"jobs": [{"read": {"iops": 5}}]}`} {
		if r, err := ParseFio(strings.NewReader(in)); err == nil {
			t.Errorf("%s: parsed %+v, want an error", name, r)
		}
	}
}

func FuzzParseFio(f *testing.F) {
	for _, n := range []string{"randrw-ok.json", "readonly-device.stdout"} {
		b, err := os.ReadFile(filepath.Join("testdata", "fio", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseFio(bytes.NewReader(data))
		if err == nil && (r.ReadIOPS < 0 || r.WriteIOPS < 0) {
			t.Fatalf("negative IOPS accepted: %+v", r)
		}
	})
}

func FuzzParseBadblocks(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("testdata", "badblocks", "rw-clean.stderr"))
	f.Add(b, []byte("1\n2\n"))
	f.Fuzz(func(t *testing.T, stderr, list []byte) {
		for _, p := range ParseBadblocksProgress(bytes.NewReader(stderr)) {
			if p.Percent < 0 {
				t.Fatalf("negative percent: %+v", p)
			}
		}
		bs, err := ParseBadBlocks(bytes.NewReader(list))
		for _, n := range bs {
			if n < 0 && err == nil {
				t.Fatalf("negative block accepted")
			}
		}
	})
}
