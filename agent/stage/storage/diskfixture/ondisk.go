// Package diskfixture builds disk fixtures for the Storage stage's tests and
// bench: on-disk structures written from their published formats (md
// superblocks, ZFS labels, hardware-RAID metadata, BlueStore labels) where no
// tool can make them here, an in-memory sparse image for pure-Go tests, and
// helpers for sparse files, real mkfs tools and loop devices (tools.go).
package diskfixture

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// Mem is a sparse in-memory image: unwritten bytes read as zero. It lets
// pure-Go tests place structures at the end of a multi-terabyte "disk".
type Mem struct {
	Size  int64
	pages map[int64][]byte
}

const page = 4096

// NewMem returns an all-zero image of size bytes.
func NewMem(size int64) *Mem { return &Mem{Size: size, pages: map[int64][]byte{}} }

// WriteAt implements io.WriterAt.
func (m *Mem) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > m.Size {
		return 0, fmt.Errorf("write %d bytes at %d: outside the %d-byte image", len(p), off, m.Size)
	}
	for i := 0; i < len(p); {
		pg := (off + int64(i)) &^ (page - 1)
		buf, ok := m.pages[pg]
		if !ok {
			buf = make([]byte, page)
			m.pages[pg] = buf
		}
		n := copy(buf[off+int64(i)-pg:], p[i:])
		i += n
	}
	return len(p), nil
}

// ReadAt implements io.ReaderAt.
func (m *Mem) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= m.Size {
		return 0, io.EOF
	}
	n := len(p)
	if off+int64(n) > m.Size {
		n = int(m.Size - off)
	}
	for i := 0; i < n; {
		pg := (off + int64(i)) &^ (page - 1)
		from := off + int64(i) - pg
		take := int(page - from)
		if take > n-i {
			take = n - i
		}
		if buf, ok := m.pages[pg]; ok {
			copy(p[i:i+take], buf[from:])
		} else {
			clear(p[i : i+take])
		}
		i += take
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

const mdMagic = 0xa92b4efc

// MD1Offset returns where md superblock version 1.minor lives on a device of
// size bytes: 1.0 at the end (size rounded down to 4 KiB, minus 8 KiB), 1.1
// at 0, 1.2 at 4 KiB (linux/drivers/md/md.c, libblkid linux_raid.c).
func MD1Offset(minor int, size int64) int64 {
	switch minor {
	case 0:
		return (size &^ 0xFFF) - 0x2000
	case 1:
		return 0
	default:
		return 0x1000
	}
}

// WriteMD1 writes a version-1 md superblock (RAID1 member, two devices) at
// off, with super_offset and the checksum filled in as md and mdadm do, so
// libblkid and `mdadm --examine` accept it.
func WriteMD1(w io.WriterAt, off int64) error {
	const maxDev = 2
	sb := make([]byte, 256+2*maxDev)
	le := binary.LittleEndian
	le.PutUint32(sb[0:], mdMagic)
	le.PutUint32(sb[4:], 1) // major_version
	copy(sb[16:32], []byte("shakedown-md-fix"))
	copy(sb[32:64], "fixture:0")
	le.PutUint64(sb[64:], 1700000000) // ctime
	le.PutUint32(sb[72:], 1)          // level: raid1
	le.PutUint64(sb[80:], 2048)       // size (sectors)
	le.PutUint32(sb[92:], maxDev)     // raid_disks
	le.PutUint64(sb[128:], 2048)      // data_offset
	le.PutUint64(sb[136:], 2048)      // data_size
	le.PutUint64(sb[144:], uint64(off>>9))
	le.PutUint32(sb[160:], 0) // dev_number
	copy(sb[168:184], []byte("shakedown-md-dev"))
	le.PutUint64(sb[192:], 1700000000) // utime
	le.PutUint64(sb[200:], 1)          // events
	le.PutUint64(sb[208:], ^uint64(0)) // resync_offset: clean
	le.PutUint32(sb[220:], maxDev)
	le.PutUint16(sb[256:], 0) // dev_roles
	le.PutUint16(sb[258:], 1)
	le.PutUint32(sb[216:], md1Checksum(sb))
	_, err := w.WriteAt(sb, off)
	return err
}

// md1Checksum is calc_sb_1_csum from linux/drivers/md/md.c.
func md1Checksum(sb []byte) uint32 {
	c := make([]byte, len(sb))
	copy(c, sb)
	binary.LittleEndian.PutUint32(c[216:], 0)
	var sum uint64
	i := 0
	for ; i+4 <= len(c); i += 4 {
		sum += uint64(binary.LittleEndian.Uint32(c[i:]))
	}
	if len(c)-i == 2 {
		sum += uint64(binary.LittleEndian.Uint16(c[i:]))
	}
	return uint32(sum&0xffffffff) + uint32(sum>>32)
}

// MD090Offset is where an md 0.90 superblock lives: the last 64 KiB-aligned
// 64 KiB block.
func MD090Offset(size int64) int64 { return (size &^ 0xFFFF) - 0x10000 }

// WriteMD090 writes an md 0.90 superblock at the end of a size-byte device.
func WriteMD090(w io.WriterAt, size int64) error {
	sb := make([]byte, 4096)
	le := binary.LittleEndian
	le.PutUint32(sb[0:], mdMagic)
	le.PutUint32(sb[4:], 0)  // major
	le.PutUint32(sb[8:], 90) // minor
	le.PutUint32(sb[20:], 0x5348414b)
	le.PutUint32(sb[24:], 1700000000)
	le.PutUint32(sb[28:], 1) // level
	le.PutUint32(sb[36:], 2) // nr_disks
	le.PutUint32(sb[40:], 2) // raid_disks
	_, err := w.WriteAt(sb, MD090Offset(size))
	return err
}

// ZFSLabelOffsets are the four vdev label offsets on a size-byte vdev.
func ZFSLabelOffsets(size int64) [4]int64 {
	a := size &^ (256<<10 - 1)
	return [4]int64{0, 256 << 10, a - 512<<10, a - 256<<10}
}

// WriteZFSLabels writes the four ZFS vdev labels of a vdev that starts at
// base and is size bytes long: the XDR nvlist header at +16 KiB with a few
// pairs, and uberblocks (magic 0x00bab10c, little-endian host) in the first
// ring slots at +128 KiB. It is the documented on-disk layout (ZFS On-Disk
// Specification §1.2-1.3), enough for libblkid's zfs prober.
func WriteZFSLabels(w io.WriterAt, base, size int64, uberblocks int) error {
	le := binary.LittleEndian
	for _, l := range ZFSLabelOffsets(size) {
		nv := []byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
		if _, err := w.WriteAt(nv, base+l+16<<10); err != nil {
			return err
		}
		for i := 0; i < uberblocks; i++ {
			ub := make([]byte, 40)
			le.PutUint64(ub[0:], 0x00bab10c)
			le.PutUint64(ub[8:], 5000)            // ub_version
			le.PutUint64(ub[16:], uint64(4+i))    // ub_txg
			le.PutUint64(ub[24:], 0x1234567890ab) // ub_guid_sum
			le.PutUint64(ub[32:], 1700000000)     // ub_timestamp
			if _, err := w.WriteAt(ub, base+l+128<<10+int64(i)<<10); err != nil {
				return err
			}
		}
	}
	return nil
}

// BlueStoreLabel is the start of a Ceph BlueStore device label.
const BlueStoreLabel = "bluestore block device\n"

// WriteBlueStore writes a BlueStore label (magic, OSD uuid, newline) at off.
func WriteBlueStore(w io.WriterAt, off int64) error {
	_, err := w.WriteAt([]byte(BlueStoreLabel+"5c7b2a52-6f55-4a4c-9a1c-2f1f0d3e8b11\n"), off)
	return err
}

// WriteDDF writes a SNIA DDF anchor header (big-endian magic 0xDE11DE11,
// revision "01.02.00") in the last sector.
func WriteDDF(w io.WriterAt, size int64) error {
	h := make([]byte, 512)
	binary.BigEndian.PutUint32(h[0:], 0xDE11DE11)
	copy(h[8:32], "shakedown-ddf-fixture-00")
	copy(h[32:40], "01.02.00")
	_, err := w.WriteAt(h, size-512)
	return err
}

// WriteISW writes an Intel Matrix RAID (ISW) signature two sectors from the end.
func WriteISW(w io.WriterAt, size int64) error {
	_, err := w.WriteAt([]byte("Intel Raid ISM Cfg Sig. 1.3.00"), size-1024)
	return err
}

// WriteLSI writes an LSI MegaRAID signature in the last sector.
func WriteLSI(w io.WriterAt, size int64) error {
	_, err := w.WriteAt([]byte("$XIDE$"), size-512)
	return err
}

// WriteDRBD writes DRBD 8 internal metadata (magic at +60 of the block 4 KiB
// from the end).
func WriteDRBD(w io.WriterAt, size int64) error {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[60:], 0x8374026b)
	_, err := w.WriteAt(b, size-4096)
	return err
}

// WriteBcache writes a bcache superblock magic at 4 KiB + 0x18.
func WriteBcache(w io.WriterAt) error {
	b := make([]byte, 0x28)
	binary.LittleEndian.PutUint64(b[0x10:], 8) // offset (sectors)
	copy(b[0x18:], []byte{0xc6, 0x85, 0x73, 0xf6, 0x4e, 0x1a, 0x45, 0xca, 0x82, 0x65, 0xf5, 0x7f, 0x48, 0xba, 0x6d, 0x81})
	_, err := w.WriteAt(b, 4096)
	return err
}

// WriteVMFS writes a VMFS volume-member magic at 1 MiB and a VMFS filesystem
// magic at 2 MiB.
func WriteVMFS(w io.WriterAt) error {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, 0xc001d00d)
	if _, err := w.WriteAt(b, 1<<20); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b, 0x2fabf15e)
	_, err := w.WriteAt(b, 2<<20)
	return err
}

// Zero writes n zero bytes at off.
func Zero(w io.WriterAt, off, n int64) error {
	z := make([]byte, 64<<10)
	for n > 0 {
		k := int64(len(z))
		if k > n {
			k = n
		}
		if _, err := w.WriteAt(z[:k], off); err != nil {
			return err
		}
		off += k
		n -= k
	}
	return nil
}

// Part is one GPT partition, in logical blocks.
type Part struct {
	First, Last int64
	// Type is the partition type GUID in on-disk byte order (any non-zero
	// 16 bytes will do for a fixture).
	Type [16]byte
}

// WriteGPT writes a protective MBR, the primary header and entries at LBA 1-2
// and the backup entries and header at the end, with valid CRCs, for a
// device of size bytes with ss-byte sectors.
func WriteGPT(w io.WriterAt, size, ss int64, parts []Part) error {
	le := binary.LittleEndian
	lastLBA := size/ss - 1
	const nEnt, entSize = 128, 128
	ents := make([]byte, nEnt*entSize)
	for i, p := range parts {
		e := ents[i*entSize:]
		copy(e[0:16], p.Type[:])
		copy(e[16:32], []byte(fmt.Sprintf("shakedown-part%02d", i)))
		le.PutUint64(e[32:], uint64(p.First))
		le.PutUint64(e[40:], uint64(p.Last))
	}
	entLBAs := int64(nEnt*entSize) / ss
	if entLBAs == 0 {
		entLBAs = 1
	}
	entCRC := crc32IEEE(ents)
	hdr := func(my, alt, entLBA int64) []byte {
		h := make([]byte, 92)
		copy(h[0:8], "EFI PART")
		le.PutUint32(h[8:], 0x00010000)
		le.PutUint32(h[12:], 92)
		le.PutUint64(h[24:], uint64(my))
		le.PutUint64(h[32:], uint64(alt))
		le.PutUint64(h[40:], uint64(2+entLBAs))
		le.PutUint64(h[48:], uint64(lastLBA-1-entLBAs))
		copy(h[56:72], []byte("shakedown-diskid"))
		le.PutUint64(h[72:], uint64(entLBA))
		le.PutUint32(h[80:], nEnt)
		le.PutUint32(h[84:], entSize)
		le.PutUint32(h[88:], entCRC)
		le.PutUint32(h[16:], crc32IEEE(h))
		return h
	}
	mbr := make([]byte, 512)
	mbr[0x1BE+4] = 0xEE
	le.PutUint32(mbr[0x1BE+8:], 1)
	n := lastLBA
	if n > 0xFFFFFFFF {
		n = 0xFFFFFFFF
	}
	le.PutUint32(mbr[0x1BE+12:], uint32(n))
	mbr[510], mbr[511] = 0x55, 0xAA
	for _, wr := range []struct {
		b   []byte
		off int64
	}{
		{mbr, 0},
		{hdr(1, lastLBA, 2), ss},
		{ents, 2 * ss},
		{ents, (lastLBA - entLBAs) * ss},
		{hdr(lastLBA, 1, lastLBA-entLBAs), lastLBA * ss},
	} {
		if _, err := w.WriteAt(wr.b, wr.off); err != nil {
			return err
		}
	}
	return nil
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// MBREntry is one DOS partition entry, in 512-byte sectors.
type MBREntry struct {
	Type        byte
	Start, Size uint32
}

// WriteMBR writes a DOS partition table in sector 0.
func WriteMBR(w io.WriterAt, entries []MBREntry) error {
	b := make([]byte, 512)
	for i, e := range entries {
		o := 0x1BE + 16*i
		b[o+4] = e.Type
		binary.LittleEndian.PutUint32(b[o+8:], e.Start)
		binary.LittleEndian.PutUint32(b[o+12:], e.Size)
	}
	b[510], b[511] = 0x55, 0xAA
	_, err := w.WriteAt(b, 0)
	return err
}

// WritePV writes an LVM2 physical-volume label in sector 1 whose first data
// area starts at peStart (the layout pvcreate writes; the label CRC is not
// filled in).
func WritePV(w io.WriterAt, size, peStart int64) error {
	b := make([]byte, 512)
	le := binary.LittleEndian
	copy(b[0:], "LABELONE")
	le.PutUint64(b[8:], 1) // sector_xl
	le.PutUint32(b[20:], 32)
	copy(b[24:], "LVM2 001")
	copy(b[32:64], "shakedownPVuuid0000000000000000")
	le.PutUint64(b[64:], uint64(size))
	le.PutUint64(b[72:], uint64(peStart)) // data area 0 offset
	le.PutUint64(b[104:], 4096)           // metadata area 0 offset
	le.PutUint64(b[112:], uint64(peStart-4096))
	_, err := w.WriteAt(b, 512)
	return err
}
