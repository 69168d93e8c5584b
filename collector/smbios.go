package collector

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"

	"github.com/digitalocean/go-smbios/smbios"
)

// smbiosInfo is what shakedown takes from the SMBIOS table: identity (types 0-3),
// memory arrays (type 16) and memory devices (type 17).
type smbiosInfo struct {
	System System
	// ECC is the error correction of the system memory arrays (type 16); nil when
	// no array says (other/unknown) or there is none.
	ECC *bool
	// Slots is the number of memory device entries, populated or not.
	Slots int
	// DIMMs are the populated memory devices.
	DIMMs []DIMM
}

// parseSMBIOS decodes a raw SMBIOS structure table, as found in
// /sys/firmware/dmi/tables/DMI or written by `dmidecode --dump-bin` (minus its
// 32-byte entry-point header). Fields are taken only when the structure is long
// enough to hold them, so old SMBIOS versions decode without the entry point.
func parseSMBIOS(r io.Reader) (*smbiosInfo, error) {
	ss, err := decodeSMBIOS(r)
	if err != nil {
		return nil, err
	}
	info := &smbiosInfo{}
	var ecc []byte
	for _, st := range ss {
		s := st.s
		switch s.Header.Type {
		case 0:
			info.System.BIOSVendor = st.str(0x04)
			info.System.BIOSVersion = st.str(0x05)
			info.System.BIOSDate = st.str(0x08)
		case 1:
			info.System.Vendor = st.str(0x04)
			info.System.Product = st.str(0x05)
			info.System.Version = st.str(0x06)
			info.System.Serial = st.str(0x07)
			info.System.UUID = st.uuid(0x08)
			info.System.SKU = st.str(0x19)
			info.System.Family = st.str(0x1A)
		case 2:
			if info.System.BoardVendor != "" {
				continue // the first baseboard is the main board
			}
			info.System.BoardVendor = st.str(0x04)
			info.System.BoardProduct = st.str(0x05)
			info.System.BoardVersion = st.str(0x06)
			info.System.BoardSerial = st.str(0x07)
		case 3:
			if info.System.ChassisVendor != "" {
				continue
			}
			info.System.ChassisVendor = st.str(0x04)
			if b, ok := st.byte(0x05); ok {
				info.System.ChassisType = chassisTypeName(int(b & 0x7f))
			}
			info.System.ChassisSerial = st.str(0x07)
			info.System.ChassisAssetTag = st.str(0x08)
		case 16:
			// Use 0x03 = system memory; skip video/flash/cache arrays.
			if use, ok := st.byte(0x05); ok && use == 0x03 {
				if e, ok := st.byte(0x06); ok {
					ecc = append(ecc, e)
				}
			}
		case 17:
			info.Slots++
			if d, ok := decodeDIMM(st); ok {
				info.DIMMs = append(info.DIMMs, d)
			}
		}
	}
	info.ECC = eccFromArrays(ecc)
	return info, nil
}

// eccFromArrays reduces type 16 "Memory Error Correction" values to yes/no:
// 5 single-bit ECC, 6 multi-bit ECC and 7 CRC are ECC; 3 none and 4 parity
// are not; 1 other and 2 unknown say nothing.
func eccFromArrays(vals []byte) *bool {
	var out *bool
	for _, v := range vals {
		switch v {
		case 5, 6, 7:
			if out == nil {
				out = ptr(true)
			}
		case 3, 4:
			out = ptr(false) // one array without ECC makes the system non-ECC
		}
	}
	return out
}

func decodeDIMM(st smbiosStruct) (DIMM, bool) {
	size, ok := st.word(0x0C)
	if !ok || size == 0 {
		return DIMM{}, false // not installed
	}
	d := DIMM{
		Locator:      st.str(0x10),
		BankLocator:  st.str(0x11),
		Manufacturer: st.str(0x17),
		Serial:       st.str(0x18),
		PartNumber:   st.str(0x1A),
	}
	switch {
	case size == 0xFFFF:
		// unknown size: keep the DIMM, size stays 0 (not counted as installed bytes)
	case size == 0x7FFF:
		if ext, ok := st.dword(0x1C); ok {
			d.SizeBytes = uint64(ext&0x7FFFFFFF) << 20
		}
	case size&0x8000 != 0:
		d.SizeBytes = uint64(size&0x7FFF) << 10
	default:
		d.SizeBytes = uint64(size) << 20
	}
	if t, ok := st.byte(0x12); ok {
		d.Type = memoryTypeName(t)
	}
	if w, ok := st.word(0x08); ok && w != 0xFFFF && w != 0 {
		d.TotalWidth = ptr(int(w))
	}
	if w, ok := st.word(0x0A); ok && w != 0xFFFF && w != 0 {
		d.DataWidth = ptr(int(w))
	}
	d.SpeedMTs = st.speed(0x15, 0x54)
	d.ConfiguredSpeedMTs = st.speed(0x20, 0x58)
	for _, p := range []*string{&d.Manufacturer, &d.Serial, &d.PartNumber} {
		if isJunkID(*p) {
			*p = ""
		}
	}
	return d, true
}

type smbiosStruct struct{ s *smbios.Structure }

// at returns the formatted bytes at a structure offset (the offsets in the
// SMBIOS specification count the 4-byte header).
func (st smbiosStruct) at(off, n int) ([]byte, bool) {
	i := off - 4
	if i < 0 || i+n > len(st.s.Formatted) {
		return nil, false
	}
	return st.s.Formatted[i : i+n], true
}

func (st smbiosStruct) byte(off int) (byte, bool) {
	b, ok := st.at(off, 1)
	if !ok {
		return 0, false
	}
	return b[0], true
}

func (st smbiosStruct) word(off int) (uint16, bool) {
	b, ok := st.at(off, 2)
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint16(b), true
}

func (st smbiosStruct) dword(off int) (uint32, bool) {
	b, ok := st.at(off, 4)
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b), true
}

// str resolves a string-number field (1-based; 0 means none).
func (st smbiosStruct) str(off int) string {
	n, ok := st.byte(off)
	if !ok || n == 0 || int(n) > len(st.s.Strings) {
		return ""
	}
	return cleanID(st.s.Strings[n-1])
}

// speed reads a WORD speed in MT/s, following 0xFFFF to the extended DWORD.
func (st smbiosStruct) speed(off, extOff int) *int {
	v, ok := st.word(off)
	if !ok || v == 0 {
		return nil
	}
	if v == 0xFFFF {
		ext, ok := st.dword(extOff)
		if !ok || ext&0x7FFFFFFF == 0 {
			return nil
		}
		return ptr(int(ext & 0x7FFFFFFF))
	}
	return ptr(int(v))
}

// uuid formats the type 1 UUID (first three fields little-endian, SMBIOS >= 2.6).
// All-zero ("not settable") and all-FF ("not present") give "".
func (st smbiosStruct) uuid(off int) string {
	b, ok := st.at(off, 16)
	if !ok {
		return ""
	}
	allZ, allF := true, true
	for _, c := range b {
		allZ = allZ && c == 0
		allF = allF && c == 0xFF
	}
	if allZ || allF {
		return ""
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
}

// uuidBytes is the SMBIOS binary form of a textual UUID (used by --mask).
func uuidBytes(u string) ([]byte, bool) {
	var raw [16]byte
	hex := make([]byte, 0, 32)
	for i := 0; i < len(u); i++ {
		if u[i] != '-' {
			hex = append(hex, u[i])
		}
	}
	if len(hex) != 32 {
		return nil, false
	}
	for i := 0; i < 16; i++ {
		v, err := strconv.ParseUint(string(hex[2*i:2*i+2]), 16, 8)
		if err != nil {
			return nil, false
		}
		raw[i] = byte(v)
	}
	out := make([]byte, 16)
	copy(out, raw[:])
	// swap the first three fields to little-endian
	out[0], out[1], out[2], out[3] = raw[3], raw[2], raw[1], raw[0]
	out[4], out[5] = raw[5], raw[4]
	out[6], out[7] = raw[7], raw[6]
	return out, true
}

var memoryTypes = map[byte]string{
	0x01: "Other", 0x02: "Unknown", 0x03: "DRAM", 0x04: "EDRAM", 0x05: "VRAM", 0x06: "SRAM",
	0x07: "RAM", 0x08: "ROM", 0x09: "Flash", 0x0A: "EEPROM", 0x0B: "FEPROM", 0x0C: "EPROM",
	0x0D: "CDRAM", 0x0E: "3DRAM", 0x0F: "SDRAM", 0x10: "SGRAM", 0x11: "RDRAM", 0x12: "DDR",
	0x13: "DDR2", 0x14: "DDR2 FB-DIMM", 0x18: "DDR3", 0x19: "FBD2", 0x1A: "DDR4", 0x1B: "LPDDR",
	0x1C: "LPDDR2", 0x1D: "LPDDR3", 0x1E: "LPDDR4", 0x1F: "Logical non-volatile device",
	0x20: "HBM", 0x21: "HBM2", 0x22: "DDR5", 0x23: "LPDDR5", 0x24: "HBM3",
}

func memoryTypeName(b byte) string {
	if n, ok := memoryTypes[b]; ok {
		return n
	}
	return fmt.Sprintf("0x%02X", b)
}

var chassisTypes = []string{
	1: "Other", 2: "Unknown", 3: "Desktop", 4: "Low Profile Desktop", 5: "Pizza Box",
	6: "Mini Tower", 7: "Tower", 8: "Portable", 9: "Laptop", 10: "Notebook", 11: "Hand Held",
	12: "Docking Station", 13: "All in One", 14: "Sub Notebook", 15: "Space-saving",
	16: "Lunch Box", 17: "Main Server Chassis", 18: "Expansion Chassis", 19: "SubChassis",
	20: "Bus Expansion Chassis", 21: "Peripheral Chassis", 22: "RAID Chassis",
	23: "Rack Mount Chassis", 24: "Sealed-case PC", 25: "Multi-system chassis",
	26: "Compact PCI", 27: "Advanced TCA", 28: "Blade", 29: "Blade Enclosure", 30: "Tablet",
	31: "Convertible", 32: "Detachable", 33: "IoT Gateway", 34: "Embedded PC", 35: "Mini PC",
	36: "Stick PC",
}

func chassisTypeName(n int) string {
	if n > 0 && n < len(chassisTypes) {
		return chassisTypes[n]
	}
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// readSMBIOS parses <root>/sys/firmware/dmi/tables/DMI. The file is root-only
// on real hardware; absent or unreadable gives an ErrNoData-wrapped error.
func readSMBIOS(env Env) (*smbiosInfo, error) {
	b, err := readAll(env.Sys("firmware", "dmi", "tables", "DMI"))
	if err != nil {
		return nil, fmt.Errorf("read SMBIOS table: %w: %w", ErrNoData, err)
	}
	return parseSMBIOS(bytes.NewReader(b))
}

func decodeSMBIOS(r io.Reader) ([]smbiosStruct, error) {
	ss, err := smbios.NewDecoder(r).Decode()
	if err != nil {
		return nil, fmt.Errorf("decode SMBIOS table: %w", err)
	}
	out := make([]smbiosStruct, len(ss))
	for i, s := range ss {
		out[i] = smbiosStruct{s}
	}
	return out, nil
}

func parseSMBIOSStructs(b []byte) ([]smbiosStruct, error) { return decodeSMBIOS(bytes.NewReader(b)) }
