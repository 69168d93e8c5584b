package collector

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/jaypipes/pcidb"
)

// embeddedPCIIDs is a gzip copy of Debian 12's /usr/share/misc/pci.ids
// (package pci.ids), shipped so names resolve on hosts without one.
//
//go:embed pciids/pci.ids.gz
var embeddedPCIIDs []byte

// pciIDsCandidates are searched under Env.Root before the embedded copy.
var pciIDsCandidates = []string{"/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids"}

// readPCIIDs returns the pci.ids to use: Env.PCIIDs, else one under Root,
// else the embedded copy (decompressed once into the user cache directory,
// so later runs read a plain file), and a description of the source. Files
// are mapped, not read (see mapFile); release unmaps, after which the bytes
// must not be touched.
func readPCIIDs(env Env) (data []byte, src string, release func(), err error) {
	if env.PCIIDs != "" {
		b, release, err := mapFile(env.PCIIDs)
		if err != nil {
			return nil, "", nil, fmt.Errorf("read pci.ids: %w", err)
		}
		return b, env.PCIIDs, release, nil
	}
	for _, c := range pciIDsCandidates {
		p := env.Path(c)
		if b, release, err := mapFile(p); err == nil {
			return b, p, release, nil
		}
	}
	noop := func() {}
	sum := sha256.Sum256(embeddedPCIIDs)
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	cache := filepath.Join(dir, "shakedown", "pci.ids-"+hex.EncodeToString(sum[:6]))
	if b, release, err := mapFile(cache); err == nil && len(b) > 0 {
		return b, "embedded (cached " + cache + ")", release, nil
	}
	b, err := embeddedPCIIDsText()
	if err != nil {
		return nil, "", nil, err
	}
	// Best effort, and only when reading the live system (tests never write
	// outside their temp dirs): a read-only or full disk only costs the next
	// run a decompression.
	if env.IsLiveRoot() && os.MkdirAll(filepath.Dir(cache), 0o755) == nil {
		tmp := fmt.Sprintf("%s.%d.tmp", cache, os.Getpid())
		if os.WriteFile(tmp, b, 0o644) == nil && os.Rename(tmp, cache) != nil {
			os.Remove(tmp)
		}
	}
	return b, "embedded", noop, nil
}

var (
	embeddedOnce sync.Once
	embeddedText []byte
	embeddedErr  error
)

// embeddedPCIIDsText decompresses the embedded pci.ids once per process.
func embeddedPCIIDsText() ([]byte, error) {
	embeddedOnce.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(embeddedPCIIDs))
		if err != nil {
			embeddedErr = fmt.Errorf("open embedded pci.ids: %w", err)
			return
		}
		var buf bytes.Buffer
		buf.Grow(2 << 20)
		if _, err := buf.ReadFrom(zr); err != nil {
			embeddedErr = fmt.Errorf("read embedded pci.ids: %w", err)
			return
		}
		embeddedText = buf.Bytes()
	})
	return embeddedText, embeddedErr
}

// loadPCIDB builds a pcidb.DB holding every class and, of the vendors, only
// what want names: vendor ID -> device IDs (lower-case hex; an empty device
// set keeps just the vendor's name, for subsystem vendors). nil means all.
// Parsing all of pci.ids takes 5-10 ms of CPU, and Intel's block alone is a
// quarter of the file; cutting out the few vendor blocks and device lines a
// host needs first (one SIMD search per vendor) keeps it around a
// millisecond, which is what keeps `inventory` fast. pcidb itself only loads
// from a path, so the database is built here and handed to ghw with
// ghw.WithPCIDB.
func loadPCIDB(env Env, want map[string]map[string]bool) (*pcidb.PCIDB, string, error) {
	if want != nil && len(want) == 0 {
		// No PCI functions: nothing to name.
		return &pcidb.PCIDB{Classes: map[string]*pcidb.Class{}, Vendors: map[string]*pcidb.Vendor{}, Products: map[string]*pcidb.Product{}}, "none", nil
	}
	b, src, release, err := readPCIIDs(env)
	if err != nil {
		return nil, "", err
	}
	defer release() // parsePCIIDs copies what it keeps
	if want != nil {
		b = filterPCIIDs(b, want)
	}
	db, err := parsePCIIDs(bytes.NewReader(b), nil)
	if err != nil {
		return nil, src, fmt.Errorf("parse pci.ids (%s): %w", src, err)
	}
	return db, src, nil
}

// filterPCIIDs returns, for each wanted vendor, its vendor line and the
// lines of the wanted devices with their subsystem lines, followed by the
// class section. pci.ids lists vendors in ID order, so each vendor line is
// found by binary search (a few lines read, not the whole 1.3 MB file); a
// vendor the search misses is looked for linearly too, so an unsorted file
// only costs time.
func filterPCIIDs(data []byte, want map[string]map[string]bool) []byte {
	classes := pciIDsClassStart(data)
	var out []byte
	for id, devs := range want {
		i := findPCIVendor(data[:classes], id)
		if i < 0 {
			i = bytes.Index(data, []byte("\n"+id+"  "))
			if i < 0 {
				continue
			}
			i++
		}
		pos := i
		keep := false
		for first := true; pos < len(data); first = false {
			end := len(data)
			if nl := bytes.IndexByte(data[pos:], '\n'); nl >= 0 {
				end = pos + nl + 1
			}
			line := data[pos:end]
			switch {
			case first:
				out = append(out, line...)
			case line[0] == '#':
			case line[0] != '\t':
				end = len(data) // next vendor: this block is done
			case len(line) > 1 && line[1] == '\t':
				if keep {
					out = append(out, line...)
				}
			default:
				keep = len(line) >= 5 && wantedID(devs, line[1:5])
				if keep {
					out = append(out, line...)
				}
			}
			pos = end
		}
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
	}
	if classes < len(data) {
		out = append(out, data[classes+1:]...)
	}
	return out
}

// pciIDsClassStart returns the offset of the newline before the class
// section's first line ("C 00  Unclassified device" in the real file; it is
// near the end, so it is searched from the end), or len(data) when there is
// no class section.
func pciIDsClassStart(data []byte) int {
	if c := bytes.LastIndex(data, []byte("\nC 00  ")); c >= 0 {
		// It starts the section when the nearest line before it that is
		// neither indented nor a comment is not a class line.
		for end := c; end > 0; {
			start := bytes.LastIndexByte(data[:end], '\n') + 1
			if l := data[start:end]; len(l) > 0 && l[0] != '\t' && l[0] != '#' {
				if !bytes.HasPrefix(l, []byte("C ")) {
					return c
				}
				break
			}
			end = start - 1
		}
	}
	if c := bytes.Index(data, []byte("\nC ")); c >= 0 {
		return c
	}
	return len(data)
}

// findPCIVendor binary-searches the vendor lines ("hhhh  Name", at the start
// of a line, in ascending ID order) of data for id; it returns the line's
// offset or -1.
func findPCIVendor(data []byte, id string) int {
	lo, hi := 0, len(data)
	for lo < hi {
		mid := lo + (hi-lo)/2
		p := nextPCIVendorLine(data, mid, hi)
		if p >= hi {
			hi = mid // no vendor line in [mid, hi)
			continue
		}
		switch v := string(data[p : p+4]); {
		case v == id:
			return p
		case v < id:
			lo = p + 1
		default:
			hi = mid // no vendor line in [mid, p), and the one at p is past id
		}
	}
	return -1
}

// nextPCIVendorLine returns the offset of the first vendor line starting in
// [pos, end), or end.
func nextPCIVendorLine(data []byte, pos, end int) int {
	if pos > 0 && data[pos-1] != '\n' {
		nl := bytes.IndexByte(data[pos:end], '\n')
		if nl < 0 {
			return end
		}
		pos += nl + 1
	}
	for pos < end {
		// The line may run past end: only its start has to be before it.
		if l := data[pos:]; len(l) >= 6 && l[4] == ' ' && l[5] == ' ' && isLowerHex(l[:4]) {
			return pos
		}
		nl := bytes.IndexByte(data[pos:end], '\n')
		if nl < 0 {
			return end
		}
		pos += nl + 1
	}
	return end
}

// wantedID reports whether the 4-digit hex id (any case) is in set, keyed
// by lower-case IDs, without allocating for the lower-case ids pci.ids has.
func wantedID(set map[string]bool, id []byte) bool {
	if isLowerHex(id) {
		return set[string(id)]
	}
	return set[strings.ToLower(string(id))]
}

func isLowerHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// parsePCIIDs parses the pci.ids format (see the file's header): vendor lines
// "vvvv  Name", device lines "\tdddd  Name", subsystem lines
// "\t\tsvvv sddd  Name", class lines "C cc  Name", subclass "\tss  Name" and
// programming interface "\t\tpp  Name". Unknown or malformed lines are skipped.
func parsePCIIDs(r io.Reader, want map[string]bool) (*pcidb.PCIDB, error) {
	db := &pcidb.PCIDB{
		Classes:  map[string]*pcidb.Class{},
		Vendors:  map[string]*pcidb.Vendor{},
		Products: map[string]*pcidb.Product{},
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var (
		vendor   *pcidb.Vendor
		product  *pcidb.Product
		class    *pcidb.Class
		subclass *pcidb.Subclass
		inClass  bool
		skipping bool
	)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		tabs := 0
		for tabs < len(line) && line[tabs] == '\t' {
			tabs++
		}
		if tabs == 0 {
			vendor, product, class, subclass = nil, nil, nil, nil
			if len(line) > 2 && line[0] == 'C' && line[1] == ' ' {
				inClass, skipping = true, false
				id, name, ok := splitID(string(line[2:]))
				if !ok {
					continue
				}
				class = &pcidb.Class{ID: id, Name: name, Subclasses: []*pcidb.Subclass{}}
				db.Classes[id] = class
				continue
			}
			inClass = false
			if len(line) < 4 || !isHex(line[:4]) {
				skipping = true // not a vendor line
				continue
			}
			id := strings.ToLower(string(line[:4]))
			if want != nil && !want[id] {
				skipping = true
				continue
			}
			skipping = false
			_, name, ok := splitID(string(line))
			if !ok {
				skipping = true
				continue
			}
			vendor = &pcidb.Vendor{ID: id, Name: name, Products: []*pcidb.Product{}}
			db.Vendors[id] = vendor
			continue
		}
		if skipping {
			continue
		}
		rest := string(line[tabs:])
		switch {
		case inClass && tabs == 1 && class != nil:
			id, name, ok := splitID(rest)
			if !ok {
				continue
			}
			subclass = &pcidb.Subclass{ID: id, Name: name, ProgrammingInterfaces: []*pcidb.ProgrammingInterface{}}
			class.Subclasses = append(class.Subclasses, subclass)
		case inClass && tabs == 2 && subclass != nil:
			id, name, ok := splitID(rest)
			if !ok {
				continue
			}
			subclass.ProgrammingInterfaces = append(subclass.ProgrammingInterfaces, &pcidb.ProgrammingInterface{ID: id, Name: name})
		case !inClass && tabs == 1 && vendor != nil:
			id, name, ok := splitID(rest)
			if !ok {
				product = nil
				continue
			}
			product = &pcidb.Product{VendorID: vendor.ID, ID: id, Name: name, Subsystems: []*pcidb.Product{}}
			vendor.Products = append(vendor.Products, product)
			db.Products[vendor.ID+id] = product
		case !inClass && tabs == 2 && product != nil:
			// "svvv sddd  Name"
			if len(rest) < 10 || rest[4] != ' ' || !isHex([]byte(rest[:4])) {
				continue
			}
			id, name, ok := splitID(rest[5:])
			if !ok {
				continue
			}
			product.Subsystems = append(product.Subsystems, &pcidb.Product{VendorID: strings.ToLower(rest[:4]), ID: id, Name: name})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(db.Classes) == 0 && len(db.Vendors) == 0 {
		return nil, fmt.Errorf("no entries")
	}
	return db, nil
}

// splitID splits "id  name" (two spaces) into a lower-case hex id and the name.
func splitID(s string) (id, name string, ok bool) {
	id, name, ok = strings.Cut(s, " ")
	if !ok || id == "" || !isHex([]byte(id)) {
		return "", "", false
	}
	return strings.ToLower(id), strings.TrimSpace(name), true
}

func isHex(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// pciIDsPresent lists the vendor -> device IDs of the PCI functions under
// <root>/sys/bus/pci/devices (lower-case, no 0x), subsystem vendors included
// (with their subsystem device IDs, which is harmless), from the vendor and
// device files and from modalias, which is what ghw names devices by.
func pciIDsPresent(env Env) map[string]map[string]bool {
	want := map[string]map[string]bool{}
	add := func(v, d string) {
		if len(v) != 4 || v == "0000" {
			return // 0000: no subsystem (not a vendor; pci.ids has no entry to look for)
		}
		if want[v] == nil {
			want[v] = map[string]bool{}
		}
		if len(d) == 4 {
			want[v][d] = true
		}
	}
	id := func(dir, f string) string {
		return strings.TrimPrefix(strings.ToLower(readString(filepath.Join(dir, f))), "0x")
	}
	ents, _ := os.ReadDir(env.Sys("bus", "pci", "devices"))
	for _, e := range ents {
		dir := env.Sys("bus", "pci", "devices", e.Name())
		// "pci:v000010DEd00002330sv000010DEsd000016C1bc03sc02i00": the
		// kernel builds it from the same config space fields as the vendor,
		// device and subsystem_vendor files, so one read does for the three.
		if m := strings.ToLower(readString(filepath.Join(dir, "modalias"))); len(m) >= 42 && strings.HasPrefix(m, "pci:v") &&
			m[13] == 'd' && m[22:24] == "sv" && isLowerHex([]byte(m[5:22])) && isLowerHex([]byte(m[24:32])) {
			add(m[9:13], m[18:22])
			add(m[28:32], "")
			continue
		}
		add(id(dir, "vendor"), id(dir, "device"))
		add(id(dir, "subsystem_vendor"), "")
	}
	return want
}
