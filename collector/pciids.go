package collector

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/jaypipes/pcidb"
)

// embeddedPCIIDs is a gzip copy of Debian 12's /usr/share/misc/pci.ids
// (package pci.ids), shipped so names resolve on hosts without one.
//
//go:embed pciids/pci.ids.gz
var embeddedPCIIDs []byte

// pciIDsCandidates are searched under Env.Root before the embedded copy.
var pciIDsCandidates = []string{"/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids"}

// openPCIIDs opens the pci.ids to use: Env.PCIIDs, else one under Root, else
// the embedded copy. It returns a reader and a description of the source.
func openPCIIDs(env Env) (io.ReadCloser, string, error) {
	if env.PCIIDs != "" {
		f, err := os.Open(env.PCIIDs)
		if err != nil {
			return nil, "", fmt.Errorf("open pci.ids: %w", err)
		}
		return f, env.PCIIDs, nil
	}
	for _, c := range pciIDsCandidates {
		p := env.Path(c)
		if f, err := os.Open(p); err == nil {
			return f, p, nil
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(embeddedPCIIDs))
	if err != nil {
		return nil, "", fmt.Errorf("open embedded pci.ids: %w", err)
	}
	return zr, "embedded", nil
}

// loadPCIDB builds a pcidb.DB holding every class and only the vendors in
// want (lower-case 4-hex IDs; nil means all). Parsing all of pci.ids takes
// 60+ ms; a host's few dozen vendors take a single streaming pass with no
// allocation for the rest, which is what keeps `inventory` fast. pcidb itself
// only loads from a path, so the database is built here and handed to ghw
// with ghw.WithPCIDB.
func loadPCIDB(env Env, want map[string]bool) (*pcidb.PCIDB, string, error) {
	rc, src, err := openPCIIDs(env)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	db, err := parsePCIIDs(rc, want)
	if err != nil {
		return nil, src, fmt.Errorf("parse pci.ids (%s): %w", src, err)
	}
	return db, src, nil
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

// pciVendorsPresent lists the vendor and subsystem-vendor IDs of the PCI
// functions under <root>/sys/bus/pci/devices (lower-case, no 0x).
func pciVendorsPresent(env Env) map[string]bool {
	want := map[string]bool{}
	ents, _ := os.ReadDir(env.Sys("bus", "pci", "devices"))
	for _, e := range ents {
		dir := env.Sys("bus", "pci", "devices", e.Name())
		for _, f := range []string{"vendor", "subsystem_vendor"} {
			if v := strings.TrimPrefix(strings.ToLower(readString(filepath.Join(dir, f))), "0x"); len(v) == 4 {
				want[v] = true
			}
		}
		// ghw names devices from modalias: take its vendor IDs too
		// ("pci:v000010DEd...sv000010DEsd...").
		if m := strings.ToLower(readString(filepath.Join(dir, "modalias"))); len(m) >= 32 && strings.HasPrefix(m, "pci:v") {
			want[m[9:13]] = true
			want[m[28:32]] = true
		}
	}
	return want
}
