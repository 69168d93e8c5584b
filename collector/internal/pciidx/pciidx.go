// Package pciidx indexes a pci.ids file: the offset of every vendor line and
// of the class section, so a lookup reads one vendor's block instead of
// scanning the 1.3 MB file. collector embeds Debian's pci.ids with an index
// generated from it (collector/gen_pciids.go); its tests rebuild the index
// with Build and compare.
package pciidx

import (
	"bytes"
	"fmt"
)

// Index locates the parts of one pci.ids text.
type Index struct {
	Version string   // the header's "#\tVersion: YYYY.MM.DD", "" if absent
	Vendors []uint16 // vendor IDs in file order, strictly ascending
	Offsets []uint32 // offset of each vendor's line
	Classes uint32   // offset of the class section's first line ("C 00  ...")
}

// Build indexes text. It fails unless vendor lines ("hhhh  Name", lower-case
// hex) come in strictly ascending order before one class section, and the
// device lines ("\thhhh  Name") of each vendor too, which is how pci.ids is
// maintained; the lookups binary-search both.
func Build(text []byte) (*Index, error) {
	ix := &Index{Version: Version(text), Classes: uint32(len(text))}
	lastDev := -1
	for off := 0; off < len(text); {
		end := len(text)
		if nl := bytes.IndexByte(text[off:], '\n'); nl >= 0 {
			end = off + nl + 1
		}
		line := text[off:end]
		switch {
		case len(line) > 2 && line[0] == 'C' && line[1] == ' ':
			ix.Classes = uint32(off)
			return ix, ix.check(text)
		case len(line) >= 6 && line[4] == ' ' && line[5] == ' ' && isLowerHex(line[:4]):
			id := uint16(hexVal(line[:4]))
			if n := len(ix.Vendors); n > 0 && ix.Vendors[n-1] >= id {
				return nil, fmt.Errorf("pci.ids: vendor %04x at offset %d does not follow %04x: not sorted", id, off, ix.Vendors[n-1])
			}
			ix.Vendors = append(ix.Vendors, id)
			ix.Offsets = append(ix.Offsets, uint32(off))
			lastDev = -1
		case len(line) >= 7 && line[0] == '\t' && line[5] == ' ' && line[6] == ' ' && isLowerHex(line[1:5]):
			if len(ix.Vendors) == 0 {
				return nil, fmt.Errorf("pci.ids: device line at offset %d before any vendor", off)
			}
			dev := hexVal(line[1:5])
			if dev <= lastDev {
				return nil, fmt.Errorf("pci.ids: vendor %04x: device %04x at offset %d does not follow %04x: not sorted", ix.Vendors[len(ix.Vendors)-1], dev, off, lastDev)
			}
			lastDev = dev
		case len(line) > 1 && line[0] == '\t' && line[1] != '\t' && len(ix.Vendors) > 0:
			return nil, fmt.Errorf("pci.ids: device line at offset %d is not \"\\thhhh  Name\" in lower-case hex: %q", off, bytes.TrimSpace(line))
		}
		off = end
	}
	return ix, ix.check(text)
}

func (ix *Index) check(text []byte) error {
	if len(ix.Vendors) == 0 {
		return fmt.Errorf("pci.ids: no vendor lines")
	}
	if int(ix.Classes) > len(text) || len(text) >= 1<<32 {
		return fmt.Errorf("pci.ids: too large")
	}
	return nil
}

// Version returns the "#\tVersion: YYYY.MM.DD" of a pci.ids header
// (searched in the first 4 KiB), or "". Versions compare as strings.
func Version(head []byte) string {
	if len(head) > 4096 {
		head = head[:4096]
	}
	for len(head) > 0 {
		line := head
		if nl := bytes.IndexByte(head, '\n'); nl >= 0 {
			line, head = head[:nl], head[nl+1:]
		} else {
			head = nil
		}
		if len(line) == 0 || line[0] != '#' {
			continue
		}
		rest, ok := bytes.CutPrefix(bytes.TrimSpace(line[1:]), []byte("Version:"))
		if !ok {
			continue
		}
		v := bytes.TrimSpace(rest)
		if len(v) == 10 && v[4] == '.' && v[7] == '.' && isDigits(v[:4]) && isDigits(v[5:7]) && isDigits(v[8:]) {
			return string(v)
		}
	}
	return ""
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isLowerHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func hexVal(b []byte) int {
	v := 0
	for _, c := range b {
		v <<= 4
		if c >= 'a' {
			v += int(c-'a') + 10
		} else {
			v += int(c - '0')
		}
	}
	return v
}
