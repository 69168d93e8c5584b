package upload

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The spool keeps each pending upload as two files in SpoolDir/queue:
// <seq>.data (a private copy of the content) and <seq>.json (its manifest,
// written last, so a manifest always describes complete data). seq orders the
// uploads; a new entry for a key supersedes an older one still waiting.
// Entries the coordinator refuses for good move to SpoolDir/rejected and stay
// there for the operator: nothing leaves the spool unacknowledged.
const (
	queueDir    = "queue"
	rejectedDir = "rejected"
	tmpPrefix   = ".tmp-"
)

// Manifest describes one spooled object.
type Manifest struct {
	Key        string    `json:"key"`
	SHA256     string    `json:"sha256"`
	Size       int64     `json:"size"`
	EnqueuedAt time.Time `json:"enqueued_at"`
	// Rejected says why the coordinator or the bucket refused the entry for good.
	Rejected string `json:"rejected,omitempty"`
}

type entry struct {
	seq uint64
	Manifest
}

func (e entry) name() string { return fmt.Sprintf("%016d", e.seq) }

// writeSpoolCopy copies r into a new temporary file in dir, hashing it, and
// syncs it. The caller renames or removes the returned path.
func writeSpoolCopy(dir string, r io.Reader) (tmp, sum string, size int64, err error) {
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return "", "", 0, fmt.Errorf("spool: create: %w", err)
	}
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", "", 0, fmt.Errorf("spool: copy: %w", err)
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil)), size, nil
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), tmpPrefix+filepath.Base(path))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("spool: write manifest: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("spool: write manifest: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// scanQueue loads the queue in order, removing temporary files and data
// without a manifest (an Enqueue interrupted by a crash, which never returned
// success). A manifest that cannot be read or whose data is missing is moved
// aside to rejected/ rather than deleted.
func scanQueue(dir, rejected string) ([]entry, uint64, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("spool: read %s: %w", dir, err)
	}
	var maxSeq uint64
	have := map[string]bool{}
	for _, de := range des {
		have[de.Name()] = true
	}
	var out []entry
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		base, ext, _ := strings.Cut(name, ".")
		seq, err := strconv.ParseUint(base, 10, 64)
		if err != nil {
			continue // not ours
		}
		maxSeq = max(maxSeq, seq)
		switch ext {
		case "data":
			if !have[base+".json"] {
				os.Remove(filepath.Join(dir, name))
			}
			continue
		case "json":
		default:
			continue
		}
		var m Manifest
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err == nil && !have[base+".data"] {
			err = errors.New("data file missing")
		}
		if err == nil && m.Key == "" {
			err = errors.New("manifest has no key")
		}
		if err != nil {
			os.Rename(filepath.Join(dir, name), filepath.Join(rejected, name))
			if have[base+".data"] {
				os.Rename(filepath.Join(dir, base+".data"), filepath.Join(rejected, base+".data"))
			}
			continue
		}
		out = append(out, entry{seq: seq, Manifest: m})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	// Keep only the newest entry of each key.
	last := map[string]uint64{}
	for _, e := range out {
		last[e.Key] = e.seq
	}
	kept := out[:0]
	for _, e := range out {
		if last[e.Key] != e.seq {
			os.Remove(filepath.Join(dir, e.name()+".json"))
			os.Remove(filepath.Join(dir, e.name()+".data"))
			continue
		}
		kept = append(kept, e)
	}
	// Rejected entries share the sequence space.
	if rdes, err := os.ReadDir(rejected); err == nil {
		for _, de := range rdes {
			base, _, _ := strings.Cut(de.Name(), ".")
			if seq, err := strconv.ParseUint(base, 10, 64); err == nil {
				maxSeq = max(maxSeq, seq)
			}
		}
	}
	return kept, maxSeq, nil
}

// hashFile returns the hex SHA-256 and size of a file.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
