package collector

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// smbiosBuilder writes a real binary SMBIOS structure table.
type smbiosBuilder struct {
	buf    bytes.Buffer
	handle uint16
}

// add appends a structure: formatted is everything after the 4-byte header.
func (b *smbiosBuilder) add(typ byte, formatted []byte, strs ...string) {
	b.buf.WriteByte(typ)
	b.buf.WriteByte(byte(4 + len(formatted)))
	_ = binary.Write(&b.buf, binary.LittleEndian, b.handle)
	b.handle++
	b.buf.Write(formatted)
	if len(strs) == 0 {
		b.buf.Write([]byte{0, 0})
		return
	}
	for _, s := range strs {
		b.buf.WriteString(s)
		b.buf.WriteByte(0)
	}
	b.buf.WriteByte(0)
}

func (b *smbiosBuilder) end() []byte {
	b.add(127, nil)
	return b.buf.Bytes()
}

// fmtBytes lays out a formatted area: offsets are SMBIOS offsets (header included).
type fmtBytes map[int][]byte

func (f fmtBytes) build(length int) []byte {
	out := make([]byte, length-4)
	for off, v := range f {
		copy(out[off-4:], v)
	}
	return out
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// dimm17 builds a type 17 memory device (SMBIOS 3.3 layout, 0x5C bytes).
func dimm17(size uint16, ext uint32, typ byte, speed, conf uint16, totalW, dataW uint16) []byte {
	return fmtBytes{
		0x08: le16(totalW), 0x0A: le16(dataW), 0x0C: le16(size), 0x0E: {0x09},
		0x10: {1}, 0x11: {2}, 0x12: {typ}, 0x15: le16(speed),
		0x17: {3}, 0x18: {4}, 0x19: {5}, 0x1A: {6},
		0x1C: le32(ext), 0x20: le16(conf),
	}.build(0x5C)
}

// sampleSMBIOS is a two-socket-server-like table: BIOS, system, board,
// chassis, one ECC memory array, two populated DIMMs and one empty slot.
func sampleSMBIOS() []byte {
	var b smbiosBuilder
	b.add(0, fmtBytes{0x04: {1}, 0x05: {2}, 0x08: {3}}.build(0x18), "Dell Inc.", "2.19.1", "06/12/2023")
	uuid := []byte{0x44, 0x45, 0x4c, 0x4c, 0x39, 0x00, 0x10, 0x53, 0x80, 0x35, 0xb4, 0xc0, 0x4f, 0x39, 0x31, 0x32}
	b.add(1, fmtBytes{0x04: {1}, 0x05: {2}, 0x06: {0}, 0x07: {3}, 0x08: uuid, 0x19: {4}, 0x1A: {5}}.build(0x1B),
		"Dell Inc.", "PowerEdge R650", "   9S5Q912   ", "SKU=0A2B", "PowerEdge")
	b.add(2, fmtBytes{0x04: {1}, 0x05: {2}, 0x06: {3}, 0x07: {4}}.build(0x0F), "Dell Inc.", "0Y2K8N", "A02", ".9S5Q912.CNCMS0023B00R3.")
	b.add(3, fmtBytes{0x04: {1}, 0x05: {0x17}, 0x06: {0}, 0x07: {2}, 0x08: {3}}.build(0x15), "Dell Inc.", "9S5Q912", "Not Specified")
	b.add(16, fmtBytes{0x04: {0x03}, 0x05: {0x03}, 0x06: {0x06}}.build(0x17))
	b.add(17, dimm17(16384, 0, 0x1A, 3200, 2933, 72, 64), "A1", "P0_Node0_Channel0_Dimm0", "00CE063200CE", "  36A1B2C3  ", "ABC", "M393A4K40DB3-CWE    ")
	b.add(17, dimm17(0, 0, 0x02, 0, 0, 0xFFFF, 0xFFFF), "A2", "P0_Node0_Channel1_Dimm0", "NO DIMM", "NO DIMM", "NO DIMM", "NO DIMM")
	// 64 GiB DDR5 through the extended size field and extended speed.
	d := dimm17(0x7FFF, 65536, 0x22, 0xFFFF, 4800, 80, 64)
	d = append(d, make([]byte, 0x5C-4-len(d))...)
	b.add(17, d, "B1", "P1_Node1_Channel0_Dimm0", "Samsung", "1234ABCD", "Not Specified", "M321R8GA0BB0-CQKZJ")
	return b.end()
}

func TestParseSMBIOS(t *testing.T) {
	info, err := parseSMBIOS(bytes.NewReader(sampleSMBIOS()))
	if err != nil {
		t.Fatal(err)
	}
	wantSys := System{
		Vendor: "Dell Inc.", Product: "PowerEdge R650", Serial: "9S5Q912",
		UUID: "4c4c4544-0039-5310-8035-b4c04f393132", SKU: "SKU=0A2B", Family: "PowerEdge",
		BoardVendor: "Dell Inc.", BoardProduct: "0Y2K8N", BoardVersion: "A02", BoardSerial: ".9S5Q912.CNCMS0023B00R3.",
		ChassisVendor: "Dell Inc.", ChassisType: "Rack Mount Chassis", ChassisSerial: "9S5Q912", ChassisAssetTag: "Not Specified",
		BIOSVendor: "Dell Inc.", BIOSVersion: "2.19.1", BIOSDate: "06/12/2023",
	}
	if d := cmp.Diff(wantSys, info.System); d != "" {
		t.Errorf("system (-want +got):\n%s", d)
	}
	wantDIMMs := []DIMM{
		{Locator: "A1", BankLocator: "P0_Node0_Channel0_Dimm0", SizeBytes: 16 << 30, Type: "DDR4",
			SpeedMTs: ptr(3200), ConfiguredSpeedMTs: ptr(2933), Manufacturer: "00CE063200CE",
			PartNumber: "M393A4K40DB3-CWE", Serial: "36A1B2C3", TotalWidth: ptr(72), DataWidth: ptr(64)},
		{Locator: "B1", BankLocator: "P1_Node1_Channel0_Dimm0", SizeBytes: 64 << 30, Type: "DDR5",
			ConfiguredSpeedMTs: ptr(4800), Manufacturer: "Samsung", Serial: "1234ABCD",
			PartNumber: "M321R8GA0BB0-CQKZJ", TotalWidth: ptr(80), DataWidth: ptr(64)},
	}
	if d := cmp.Diff(wantDIMMs, info.DIMMs); d != "" {
		t.Errorf("DIMMs (-want +got):\n%s", d)
	}
	if info.Slots != 3 {
		t.Errorf("slots = %d, want 3", info.Slots)
	}
	if info.ECC == nil || !*info.ECC {
		t.Errorf("ECC = %v, want true", info.ECC)
	}
}

func TestSMBIOSUUIDJunk(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"all zero (not settable)", make([]byte, 16), ""},
		{"all FF (not present)", bytes.Repeat([]byte{0xff}, 16), ""},
		{"mixed endian", []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, "04030201-0605-0807-090a-0b0c0d0e0f10"},
	} {
		var b smbiosBuilder
		b.add(1, fmtBytes{0x08: tc.raw}.build(0x19))
		info, err := parseSMBIOS(bytes.NewReader(b.end()))
		if err != nil {
			t.Fatal(err)
		}
		if info.System.UUID != tc.want {
			t.Errorf("%s: uuid %q, want %q", tc.name, info.System.UUID, tc.want)
		}
		if tc.want != "" {
			raw, ok := uuidBytes(tc.want)
			if !ok || !bytes.Equal(raw, tc.raw) {
				t.Errorf("%s: uuidBytes round trip = %x, want %x", tc.name, raw, tc.raw)
			}
		}
	}
}

func TestParseSMBIOSTruncated(t *testing.T) {
	tbl := sampleSMBIOS()
	if _, err := parseSMBIOS(bytes.NewReader(tbl[:len(tbl)/2])); err == nil {
		t.Fatal("a truncated table must be an error, not a partial inventory")
	}
}

func TestECCFromArrays(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want *bool
	}{
		{nil, nil}, {[]byte{2}, nil}, {[]byte{6}, ptr(true)}, {[]byte{3}, ptr(false)},
		{[]byte{6, 3}, ptr(false)}, {[]byte{3, 6}, ptr(false)}, {[]byte{4}, ptr(false)},
	} {
		if d := cmp.Diff(tc.want, eccFromArrays(tc.in)); d != "" {
			t.Errorf("eccFromArrays(%v): %s", tc.in, d)
		}
	}
}

func FuzzParseSMBIOS(f *testing.F) {
	f.Add(sampleSMBIOS())
	f.Add([]byte{127, 4, 0, 0, 0, 0})
	f.Add([]byte{17, 2, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := parseSMBIOS(bytes.NewReader(b))
		if err == nil && info == nil {
			t.Fatal("nil info without error")
		}
		_ = smbiosSecrets(b)
	})
}
