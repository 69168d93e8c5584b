package storage

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxBlocks is the most blocks badblocks can address: its block numbers are
// 32-bit (blk_t), so a disk over 16 TiB needs blocks larger than 4 KiB.
const maxBlocks = 1<<32 - 1

// BlockSize chooses badblocks' -b for a disk: at least 4096 and the logical
// sector size, doubled until the block count fits in 32 bits.
func BlockSize(size int64, logical int) int64 {
	bs := int64(4096)
	for bs < int64(logical) {
		bs <<= 1
	}
	for size/bs > maxBlocks {
		bs <<= 1
	}
	return bs
}

// Segment is one contiguous range of blocks for one badblocks run
// (first and last inclusive, in blocks of BlockSize).
type Segment struct{ First, Last int64 }

// Plan returns the ranges to test: the whole disk, or n segments totalling
// about budget bytes spread evenly from the first block to the last (so the
// start, the middle and the end of the disk are all exercised).
func Plan(size, bs int64, budget int64, n int) []Segment {
	total := size / bs
	if total <= 0 {
		return nil
	}
	if budget <= 0 || budget >= size {
		return []Segment{{0, total - 1}}
	}
	if n < 1 {
		n = 1
	}
	seg := budget / bs / int64(n)
	if seg < 1 {
		seg = 1
	}
	if seg*int64(n) >= total {
		return []Segment{{0, total - 1}}
	}
	out := make([]Segment, 0, n)
	for i := 0; i < n; i++ {
		var first int64
		if n > 1 {
			first = int64(i) * (total - seg) / int64(n-1)
		}
		out = append(out, Segment{first, first + seg - 1})
	}
	return out
}

// BadblocksArgs builds one badblocks invocation. write selects the
// destructive write-mode test (-w, four patterns) and -f: the stage itself
// holds the device open with O_EXCL (so nothing can mount or assemble it
// meanwhile), which badblocks would otherwise read as "in use".
func BadblocksArgs(path, out string, bs, ioBlocks int64, seg Segment, write bool) []string {
	flags := "-sv"
	if write {
		flags = "-svwf"
	}
	return []string{flags, "-b", strconv.FormatInt(bs, 10), "-c", strconv.FormatInt(ioBlocks, 10),
		"-o", out, path, strconv.FormatInt(seg.Last, 10), strconv.FormatInt(seg.First, 10)}
}

// ParseBadBlocks reads badblocks' -o list: one block number per line. The
// verdict comes from this list, never from the exit status (badblocks exits
// 0 having found bad blocks).
func ParseBadBlocks(r io.Reader) ([]int64, error) {
	var out []int64
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		n, err := strconv.ParseInt(line, 10, 64)
		if err != nil || n < 0 {
			return out, fmt.Errorf("parse bad block list: %q is not a block number", line)
		}
		out = append(out, n)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read bad block list: %w", err)
	}
	return out, nil
}

// BadblocksProgress is one progress line of badblocks -s.
type BadblocksProgress struct {
	Phase                string  // "Testing with pattern 0xaa", "Reading and comparing", "Checking for bad blocks (read-only test)"
	Percent              float64 // of the current phase
	Read, Write, Corrupt int
}

var bareRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(\d+(?:\.\d+)?)% done, [0-9:]+ elapsed\. \((\d+)/(\d+)/(\d+) errors\)`)
})
var phaseRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(Testing with (?:random )?pattern [0-9a-fA-Fx]+|Reading and comparing|Checking for bad blocks[^:]*)`)
})

// progressWriter parses badblocks -s output as it streams (progress updates
// overwrite each other with backspaces, so it splits on \b, \r and \n) and
// calls report at most once a second, and at every phase change.
type progressWriter struct {
	mu     sync.Mutex
	buf    []byte
	phase  string
	last   time.Time
	report func(BadblocksProgress)
	now    func() time.Time
}

func (w *progressWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexAny(string(w.buf), "\x08\r\n")
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		// Skip runs of separators.
		j := i
		for j < len(w.buf) && (w.buf[j] == '\x08' || w.buf[j] == '\r' || w.buf[j] == '\n') {
			j++
		}
		w.buf = w.buf[j:]
	}
	if len(w.buf) > 4096 {
		w.buf = w.buf[len(w.buf)-4096:]
	}
	return len(p), nil
}

func (w *progressWriter) line(s string) {
	if m := phaseRE().FindString(s); m != "" {
		if m != w.phase {
			w.phase = m
			w.last = time.Time{}
		}
	}
	m := bareRE().FindStringSubmatch(s)
	if m == nil {
		return
	}
	now := time.Now
	if w.now != nil {
		now = w.now
	}
	t := now()
	if !w.last.IsZero() && t.Sub(w.last) < time.Second {
		return
	}
	w.last = t
	pct, _ := strconv.ParseFloat(m[1], 64)
	r, _ := strconv.Atoi(m[2])
	wr, _ := strconv.Atoi(m[3])
	c, _ := strconv.Atoi(m[4])
	if w.report != nil {
		w.report(BadblocksProgress{Phase: w.phase, Percent: pct, Read: r, Write: wr, Corrupt: c})
	}
}

// ParseBadblocksProgress parses a whole captured stderr (for tests and fuzzing).
func ParseBadblocksProgress(r io.Reader) []BadblocksProgress {
	var out []BadblocksProgress
	w := &progressWriter{report: func(p BadblocksProgress) { out = append(out, p) }, now: func() time.Time {
		return time.Time{}.Add(time.Duration(len(out)+1) * time.Hour)
	}}
	_, _ = io.Copy(w, r)
	w.mu.Lock()
	if len(w.buf) > 0 {
		w.line(string(w.buf))
	}
	w.mu.Unlock()
	return out
}
