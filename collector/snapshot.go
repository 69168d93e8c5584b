package collector

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// SnapshotOptions tunes Snapshot.
type SnapshotOptions struct {
	// Mask replaces serial numbers, UUIDs, WWNs and MACs (and the host name)
	// with stable fake values of the same shape, so the snapshot can be
	// committed as a test fixture.
	Mask bool
	// MaskKey seeds the fake values; the same key gives the same fakes.
	// Empty means a key derived from the host's own identity.
	MaskKey string
	// Extra are more glob patterns (absolute-style, under Root) to capture.
	Extra []string
	// SMART also runs `smartctl -j -x /dev/NAME` for every disk the inventory
	// found (live root only) and records the outputs with the other tool runs,
	// so SmartctlReader can be replayed from the snapshot. Off by default:
	// smartctl -x on a failing drive can take minutes.
	SMART bool
}

// SnapshotStats says what a snapshot holds.
type SnapshotStats struct {
	Files, Links, Dirs, ToolRuns int
	Unreadable                   int // matched files that could not be read (permissions, EINVAL)
	Bytes                        int64
	Masked                       int // identity values replaced
}

// snapshotBaseFiles are read outside the probes (host name for the summary).
var snapshotBaseFiles = []string{"/proc/sys/kernel/hostname"}

// Snapshot captures exactly the files the registered probes read (their
// Files globs: sysfs, procfs, the SMBIOS table, udev data) plus the outputs of
// the tools they ran (ethtool, nvidia-smi), and writes them as a tar.gz that
// unpacks into a Root for Env. Symlinks are kept, as relative links inside the
// tree. Pseudo-files are read to EOF (their stat size is meaningless).
// It needs nothing but the kernel's files: no udev, no shell, no tools.
func Snapshot(ctx context.Context, env Env, w io.Writer, opt SnapshotOptions) (SnapshotStats, error) {
	var st SnapshotStats
	rec := &recorder{inner: env.Tools}
	penv := env
	if env.Tools != nil {
		penv.Tools = rec
	}
	inv, err := Collect(ctx, penv)
	if err != nil {
		return st, fmt.Errorf("snapshot: %w", err)
	}
	if opt.SMART && env.IsLiveRoot() && env.Tools != nil {
		if err := recordSmartctl(ctx, env, rec, inv.Disks); err != nil {
			return st, fmt.Errorf("snapshot: %w", err)
		}
	}
	c := newCapture(env.root())
	specs := append([]string{}, snapshotBaseFiles...)
	for _, p := range Probes() {
		if fl, ok := p.(FileLister); ok {
			specs = append(specs, fl.Files(env)...)
		}
	}
	specs = append(specs, opt.Extra...)
	if !env.IsLiveRoot() {
		specs = append(specs, "/"+SnapshotDir+"/tools.json", "/"+SnapshotDir+"/tools/*")
	}
	for _, spec := range specs {
		for _, pat := range expandBraces(spec) {
			matches, err := filepath.Glob(filepath.Join(c.root, pat))
			if err != nil {
				return st, fmt.Errorf("snapshot: bad pattern %q: %w", spec, err)
			}
			for _, m := range matches {
				rel, err := filepath.Rel(c.root, m)
				if err != nil || strings.HasPrefix(rel, "..") {
					continue
				}
				c.add("/"+filepath.ToSlash(rel), 0)
			}
		}
	}
	// Tool outputs.
	if env.IsLiveRoot() {
		var recs []ToolRecord
		seen := map[string]bool{}
		for i, r := range rec.runs {
			key := r.rec.Tool + "\x00" + strings.Join(r.rec.Args, "\x00")
			if seen[key] {
				continue
			}
			seen[key] = true
			if !r.rec.Missing {
				name := fmt.Sprintf("%03d-%s.out", i, r.rec.Tool)
				r.rec.Stdout = name
				c.files["/"+SnapshotDir+"/tools/"+name] = r.stdout
			}
			recs = append(recs, r.rec)
		}
		b, _ := json.MarshalIndent(recs, "", "  ")
		c.files["/"+SnapshotDir+"/tools.json"] = append(b, '\n')
		st.ToolRuns = len(recs)
	}
	// The inventory as read while capturing, for people reading the archive
	// (probes never read it back; the tests compare against it).
	shown := *inv
	if opt.Mask && shown.Hostname != "" {
		shown.Hostname = "masked-host"
	}
	invJSON, _ := json.MarshalIndent(&shown, "", "  ")
	c.files["/"+SnapshotDir+"/inventory.json"] = append(invJSON, '\n')
	if opt.Mask {
		m := newMasker(inv, opt.MaskKey, c.files["/sys/firmware/dmi/tables/DMI"])
		st.Masked = m.apply(c.files)
	}
	meta, _ := json.MarshalIndent(map[string]any{
		"schema_version": SchemaVersion,
		"captured_at":    time.Now().UTC().Format(time.RFC3339),
		"masked":         opt.Mask,
		"probes":         inv.Probes,
	}, "", "  ")
	c.files["/"+SnapshotDir+"/meta.json"] = append(meta, '\n')
	st.Unreadable = c.unreadable
	n, err := c.writeTarGz(w)
	st.Bytes = n
	st.Files, st.Links, st.Dirs = len(c.files), len(c.links), len(c.dirs)
	return st, err
}

// recordSmartctl runs `smartctl -j -x /dev/NAME` for each disk through rec,
// which keeps the output (any exit status: the bits are data). A disk smartctl
// cannot read (virtio-blk) is recorded with its exit status like the others.
func recordSmartctl(ctx context.Context, env Env, rec *recorder, disks []Disk) error {
	if _, err := rec.LookPath("smartctl"); err != nil {
		env.Logger().Warn("smartctl not installed: snapshot has no SMART data", "tool", "smartctl", "err", err)
		return nil
	}
	sc := &SmartctlReader{Tools: rec, Log: env.Logger()}
	for _, d := range disks {
		if _, err := sc.run(ctx, "-j", "-x", env.Dev(d.Name)); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			env.Logger().Warn("smartctl run not recorded", "tool", "smartctl", "device", d.Name, "err", err)
		}
	}
	return nil
}

type capture struct {
	root       string
	files      map[string][]byte
	links      map[string]string
	dirs       map[string]bool
	unreadable int
}

func newCapture(root string) *capture {
	return &capture{root: root, files: map[string][]byte{}, links: map[string]string{}, dirs: map[string]bool{}}
}

// add records p (clean, absolute-style, under root), resolving every symlink
// on the way: the link itself is recorded (made relative if it was absolute)
// and the walk continues at its target, so the tree reads like the original.
func (c *capture) add(p string, depth int) {
	if depth > 40 {
		return
	}
	parts := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	cur := "/"
	for i, part := range parts {
		if part == "" {
			continue
		}
		next := path.Join(cur, part)
		fi, err := os.Lstat(filepath.Join(c.root, next))
		if err != nil {
			return
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(filepath.Join(c.root, next))
			if err != nil {
				return
			}
			var resolved string
			if path.IsAbs(target) {
				resolved = path.Clean(target)
				if rel, err := filepath.Rel(path.Dir(next), resolved); err == nil {
					target = filepath.ToSlash(rel)
				}
			} else {
				resolved = path.Join(path.Dir(next), target)
			}
			if _, done := c.links[next]; !done {
				c.links[next] = target
			}
			c.add(path.Join(append([]string{resolved}, parts[i+1:]...)...), depth+1)
			return
		}
		if i == len(parts)-1 {
			switch {
			case fi.IsDir():
				c.dirs[next] = true
			case fi.Mode().IsRegular():
				if _, done := c.files[next]; done {
					return
				}
				b, err := readAll(filepath.Join(c.root, next))
				if err != nil {
					c.unreadable++
					return
				}
				c.files[next] = b
			}
			return
		}
		c.dirs[next] = true
		cur = next
	}
}

func (c *capture) writeTarGz(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw := gzip.NewWriter(cw)
	tw := tar.NewWriter(zw)
	type ent struct {
		name string
		kind byte
	}
	var ents []ent
	// Parent directories of every entry, so the archive unpacks anywhere.
	for p := range c.files {
		c.addParents(p)
	}
	for p := range c.links {
		c.addParents(p)
	}
	for p := range c.dirs {
		if _, isLink := c.links[p]; !isLink {
			ents = append(ents, ent{p, tar.TypeDir})
		}
	}
	for p := range c.links {
		ents = append(ents, ent{p, tar.TypeSymlink})
	}
	for p := range c.files {
		if _, isLink := c.links[p]; !isLink {
			ents = append(ents, ent{p, tar.TypeReg})
		}
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].name < ents[j].name })
	mt := time.Unix(0, 0)
	for _, e := range ents {
		h := &tar.Header{Name: strings.TrimPrefix(e.name, "/"), Typeflag: e.kind, ModTime: mt, Format: tar.FormatPAX}
		switch e.kind {
		case tar.TypeDir:
			h.Name += "/"
			h.Mode = 0o755
		case tar.TypeSymlink:
			h.Linkname = c.links[e.name]
			h.Mode = 0o777
		case tar.TypeReg:
			h.Mode = 0o644
			h.Size = int64(len(c.files[e.name]))
		}
		if err := tw.WriteHeader(h); err != nil {
			return cw.n, fmt.Errorf("write snapshot: %w", err)
		}
		if e.kind == tar.TypeReg {
			if _, err := tw.Write(c.files[e.name]); err != nil {
				return cw.n, fmt.Errorf("write snapshot: %w", err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", err)
	}
	if err := zw.Close(); err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", err)
	}
	return cw.n, nil
}

func (c *capture) addParents(p string) {
	for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
		if _, isLink := c.links[d]; isLink {
			continue
		}
		c.dirs[d] = true
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// expandBraces expands one level (or more) of {a,b} alternatives in a glob.
func expandBraces(s string) []string {
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return []string{s}
	}
	j := strings.IndexByte(s[i:], '}')
	if j < 0 {
		return []string{s}
	}
	j += i
	var out []string
	for _, alt := range strings.Split(s[i+1:j], ",") {
		out = append(out, expandBraces(s[:i]+alt+s[j+1:])...)
	}
	return out
}

// UnpackSnapshot unpacks a snapshot tar.gz into dir (which becomes a Root).
// Entries that would land outside dir, and links that point outside it, are refused.
func UnpackSnapshot(r io.Reader, dir string) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("unpack snapshot: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unpack snapshot: %w", err)
		}
		name := path.Clean("/" + h.Name)
		dst := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return fmt.Errorf("unpack snapshot: %w", err)
			}
		case tar.TypeSymlink:
			target := h.Linkname
			if linkEscapes(name, target) {
				return fmt.Errorf("unpack snapshot: link %s -> %s leaves the tree", name, target)
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return fmt.Errorf("unpack snapshot: %w", err)
			}
			if err := os.Symlink(target, dst); err != nil && !os.IsExist(err) {
				return fmt.Errorf("unpack snapshot: %w", err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return fmt.Errorf("unpack snapshot: %w", err)
			}
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return fmt.Errorf("unpack snapshot: %w", err)
			}
			_, err = io.Copy(f, io.LimitReader(tr, 64<<20))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("unpack snapshot: %w", err)
			}
		}
	}
}

// UnpackSnapshotFile unpacks the snapshot at path into dir.
func UnpackSnapshotFile(p, dir string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("open snapshot: %w", err)
	}
	defer f.Close()
	return UnpackSnapshot(f, dir)
}

// linkEscapes reports whether a relative link target, resolved from the
// directory of name (absolute-style inside the tree), climbs above the root.
func linkEscapes(name, target string) bool {
	if path.IsAbs(target) {
		return true
	}
	depth := 0
	for _, c := range strings.Split(strings.Trim(path.Dir(name), "/"), "/") {
		if c != "" {
			depth++
		}
	}
	for _, c := range strings.Split(target, "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}
