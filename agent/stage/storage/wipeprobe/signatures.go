package wipeprobe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"sync"
)

// Signature is one thing a voter found on a device.
type Signature struct {
	// Type names the signature the way libblkid/wipefs do where they have a
	// name ("gpt", "ext4", "LVM2_member", "zfs_member", "ceph_bluestore", ...);
	// kernel findings are "kernel:holders", "kernel:mounted", ...
	Type string `json:"type"`
	// Offset is the absolute byte offset of the magic on the device (-1 for
	// kernel findings, which have no offset).
	Offset int64 `json:"offset"`
	// Voter is "probe", "wipefs" or "kernel".
	Voter string `json:"voter"`
	// Detail says more: the variant, the partition it was found in, ...
	Detail string `json:"detail,omitempty"`
}

// Voters.
const (
	VoterProbe  = "probe"
	VoterWipefs = "wipefs"
	VoterKernel = "kernel"
)

// Scan limits.
const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30

	// maxDepth bounds descent: disk -> partition -> LVM data area -> ...
	maxDepth = 3
	// maxGPTEntries bounds the partition entries we read (the standard array
	// has 128; anything above 1024 is not a table we trust to descend into).
	maxGPTEntries = 1024
)

// ErrShortRead means the device returned fewer bytes than its size promised:
// a truncated image or a failing disk. The verdict is "unknown".
var ErrShortRead = errors.New("short read")

// sig is one row of the signature table: where to look (offsets relative to
// the start of the region being scanned, computed from its size), how many
// bytes to read there, and how to recognise the magic in them.
type sig struct {
	typ string
	// at returns candidate offsets for a region of the given size; offsets
	// that do not fit are skipped.
	at func(size int64) []int64
	n  int
	// match inspects the n bytes read at one candidate offset. It returns the
	// offset of the magic within b (reported as the signature's offset, to
	// agree with wipefs) and a detail; ok false means no match.
	match func(b []byte) (magicOff int64, detail string, ok bool)
}

// start returns fixed offsets from the region start.
func start(offs ...int64) func(int64) []int64 {
	return func(int64) []int64 { return offs }
}

// end returns offsets counted back from the region end.
func end(back ...int64) func(int64) []int64 {
	return func(size int64) []int64 {
		out := make([]int64, 0, len(back))
		for _, b := range back {
			out = append(out, size-b)
		}
		return out
	}
}

// magicAt matches when b holds m at off.
func magicAt(off int, m string, detail string) func([]byte) (int64, string, bool) {
	return func(b []byte) (int64, string, bool) {
		if off+len(m) <= len(b) && string(b[off:off+len(m)]) == m {
			return int64(off), detail, true
		}
		return 0, "", false
	}
}

// anyMagicAt matches any of ms at off.
func anyMagicAt(off int, detail string, ms ...string) func([]byte) (int64, string, bool) {
	return func(b []byte) (int64, string, bool) {
		for _, m := range ms {
			if off+len(m) <= len(b) && string(b[off:off+len(m)]) == m {
				return int64(off), detail, true
			}
		}
		return 0, "", false
	}
}

func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func be32(b []byte, off int) uint32 { return binary.BigEndian.Uint32(b[off:]) }
func le64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

const (
	mdMagic      = 0xa92b4efc
	zfsUberMagic = 0x00bab10c
	ddfMagic     = 0xDE11DE11
)

var (
	bcacheMagic   = string([]byte{0xc6, 0x85, 0x73, 0xf6, 0x4e, 0x1a, 0x45, 0xca, 0x82, 0x65, 0xf5, 0x7f, 0x48, 0xba, 0x6d, 0x81})
	bcachefsMagic = string([]byte{0xc6, 0x85, 0x73, 0xf6, 0x66, 0xce, 0x90, 0xa9, 0xd9, 0x6a, 0x60, 0xcf, 0x80, 0x3d, 0xf7, 0xef})
)

// table is the signature table. Offsets and magics follow util-linux libblkid
// (superblocks/*.c); see docs/safety.md and shared notes disks.md §1.2. Where
// libblkid does not look (backup superblocks, mirrors) we look too: a false
// alarm costs an override, a miss costs a cluster's data. It is built on first
// use, not at package init: the read-only shakedown-agent front links this
// package, and every one of its starts (inventory included) would pay for it.
var table = sync.OnceValue(func() []sig {
	return []sig{
		{typ: "ext", at: start(0x400), n: 0x68, match: matchExt},
		{typ: "xfs", at: start(0), n: 4, match: magicAt(0, "XFSB", "")},
		{typ: "btrfs", at: start(0x10000), n: 0x48, match: magicAt(0x40, "_BHRfS_M", "")},
		{typ: "btrfs", at: start(64*mib, 256*gib, 1<<40), n: 0x48, match: magicAt(0x40, "_BHRfS_M", "mirror superblock")},
		{typ: "ceph_bluestore", at: start(0), n: 23, match: magicAt(0, "bluestore block device\n", "")},
		{typ: "ceph_bluestore", at: start(1*gib, 10*gib, 100*gib, 1000*gib), n: 23, match: magicAt(0, "bluestore block device\n", "label replica")},
		{typ: "linux_raid_member", at: md090At, n: 8, match: matchMD090},
		{typ: "linux_raid_member", at: start(0), n: 8, match: matchMD1("md 1.1")},
		{typ: "linux_raid_member", at: start(0x1000), n: 8, match: matchMD1("md 1.2")},
		{typ: "linux_raid_member", at: md10At, n: 8, match: matchMD1("md 1.0")},
		{typ: "crypto_LUKS", at: start(0), n: 8, match: matchLUKS},
		{typ: "crypto_LUKS", at: luks2SecondaryAt, n: 6, match: magicAt(0, "SKUL\xba\xbe", "LUKS2 secondary header")},
		{typ: "ntfs", at: start(0), n: 11, match: magicAt(3, "NTFS    ", "")},
		{typ: "ntfs", at: end(512, 4096), n: 11, match: magicAt(3, "NTFS    ", "backup boot sector")},
		{typ: "BitLocker", at: start(0), n: 11, match: magicAt(3, "-FVE-FS-", "")},
		{typ: "exfat", at: start(0), n: 11, match: magicAt(3, "EXFAT   ", "")},
		{typ: "vfat", at: start(0), n: 512, match: matchVFAT},
		{typ: "swap", at: start(4*kib-10, 8*kib-10, 16*kib-10, 32*kib-10, 64*kib-10), n: 10,
			match: anyMagicAt(0, "", "SWAPSPACE2", "SWAP-SPACE")},
		{typ: "swsuspend", at: start(4*kib-10, 8*kib-10, 16*kib-10, 32*kib-10, 64*kib-10), n: 10,
			match: anyMagicAt(0, "hibernation image", "S1SUSPEND", "S2SUSPEND", "ULSUSPEND", "LINHIB0001")},
		{typ: "iso9660", at: start(0x8000), n: 6, match: magicAt(1, "CD001", "")},
		{typ: "ddf_raid_member", at: end(512, 257*512), n: 4, match: func(b []byte) (int64, string, bool) {
			return 0, "", be32(b, 0) == ddfMagic
		}},
		{typ: "isw_raid_member", at: end(1024), n: 24, match: magicAt(0, "Intel Raid ISM Cfg Sig. ", "")},
		{typ: "lsi_mega_raid_member", at: end(512), n: 6, match: magicAt(0, "$XIDE$", "")},
		{typ: "drbd", at: end(4096), n: 64, match: func(b []byte) (int64, string, bool) {
			switch be32(b, 60) {
			case 0x8374026b, 0x8374026c, 0x8374026d:
				return 60, "internal metadata", true
			}
			return 0, "", false
		}},
		{typ: "bcache", at: start(4096), n: 0x28, match: magicAt(0x18, bcacheMagic, "")},
		{typ: "bcachefs", at: start(4096), n: 0x28, match: magicAt(0x18, bcachefsMagic, "")},
		{typ: "VMFS_volume_member", at: start(1 * mib), n: 4, match: func(b []byte) (int64, string, bool) {
			return 0, "", le32(b, 0) == 0xc001d00d
		}},
		{typ: "VMFS", at: start(2 * mib), n: 4, match: func(b []byte) (int64, string, bool) {
			return 0, "", le32(b, 0) == 0x2fabf15e
		}},
		{typ: "f2fs", at: start(0x400), n: 4, match: func(b []byte) (int64, string, bool) {
			return 0, "", le32(b, 0) == 0xF2F52010
		}},
		{typ: "jfs", at: start(0x8000), n: 4, match: magicAt(0, "JFS1", "")},
		{typ: "reiserfs", at: start(0x10034), n: 8, match: magicAt(0, "ReIsEr", "")},
		{typ: "gfs2", at: start(0x10000), n: 8, match: func(b []byte) (int64, string, bool) {
			return 0, "", be32(b, 0) == 0x01161970 && be32(b, 4) == 1
		}},
		{typ: "vdo", at: start(0), n: 8, match: magicAt(0, "dmvdo001", "")},
		{typ: "DM_verity_hash", at: start(0), n: 8, match: magicAt(0, "verity\x00\x00", "")},
		{typ: "DM_integrity", at: start(0), n: 8, match: magicAt(0, "integrt\x00", "")},
	}
})

// matchExt recognises ext2/3/4 from the superblock at 0x400 and names the
// version from its feature flags, as libblkid does.
func matchExt(b []byte) (int64, string, bool) {
	if binary.LittleEndian.Uint16(b[0x38:]) != 0xEF53 {
		return 0, "", false
	}
	compat, incompat, roCompat := le32(b, 0x5C), le32(b, 0x60), le32(b, 0x64)
	v := "ext2"
	switch {
	case incompat&0x0008 != 0:
		v = "jbd"
	case incompat&^0x0016 != 0 || roCompat&^0x0007 != 0:
		v = "ext4"
	case compat&0x0004 != 0:
		v = "ext3"
	}
	return 0x38, v, true
}

func md090At(size int64) []int64 {
	if size < 0x20000 {
		return nil
	}
	return []int64{(size &^ 0xFFFF) - 0x10000}
}

func md10At(size int64) []int64 {
	if size < 0x3000 {
		return nil
	}
	return []int64{(size &^ 0xFFF) - 0x2000}
}

func matchMD090(b []byte) (int64, string, bool) {
	if le32(b, 0) == mdMagic || be32(b, 0) == mdMagic {
		return 0, "md 0.90", true
	}
	return 0, "", false
}

func matchMD1(detail string) func([]byte) (int64, string, bool) {
	return func(b []byte) (int64, string, bool) {
		if le32(b, 0) == mdMagic && le32(b, 4) == 1 {
			return 0, detail, true
		}
		return 0, "", false
	}
}

func matchLUKS(b []byte) (int64, string, bool) {
	if string(b[:6]) != "LUKS\xba\xbe" {
		return 0, "", false
	}
	return 0, fmt.Sprintf("LUKS%d", binary.BigEndian.Uint16(b[6:])), true
}

// luks2SecondaryAt lists the offsets where LUKS2 may keep its secondary
// header (libblkid scans 16 KiB .. 4 MiB, doubling).
func luks2SecondaryAt(int64) []int64 {
	var out []int64
	for off := int64(0x4000); off <= 0x400000; off <<= 1 {
		out = append(out, off)
	}
	return out
}

func matchVFAT(b []byte) (int64, string, bool) {
	if (b[0] != 0xEB && b[0] != 0xE9) || b[510] != 0x55 || b[511] != 0xAA {
		return 0, "", false
	}
	switch {
	case string(b[0x36:0x3E]) == "FAT12   " || string(b[0x36:0x3E]) == "FAT16   ":
		return 0x36, string(bytes.TrimSpace(b[0x36:0x3E])), true
	case string(b[0x52:0x5A]) == "FAT32   ":
		return 0x52, "FAT32", true
	}
	return 0, "", false
}

// region is a byte range of the device being scanned: the whole device, a
// partition, or an LVM data area.
type region struct {
	base, size int64
	depth      int
	where      string // "" for the whole device, else "in gpt partition 2 ..."
}

// nest names a sub-region inside its parent: "in LVM data area at 0x200000,
// in gpt partition 1 at 0x100000".
func nest(parent region, where string) string {
	if parent.where == "" {
		return where
	}
	return where + ", " + parent.where
}

// scanner reads a device through a small chunk cache (signatures cluster in
// a few places, and the same sectors are looked at by several rows).
type scanner struct {
	r     io.ReaderAt
	size  int64
	cache map[int64][]byte
	sigs  []Signature
	seen  map[string]bool
	// regions already descended into (base) so a loop in on-disk structures
	// cannot make us scan forever.
	visited map[int64]bool
}

const chunk = 64 * kib

// read returns n bytes at absolute offset off. Reads past the device end are
// a caller bug; a short read from the device is ErrShortRead.
func (s *scanner) read(off int64, n int) ([]byte, error) {
	if off < 0 || off+int64(n) > s.size {
		return nil, fmt.Errorf("read %d bytes at %#x: outside the device (%d bytes)", n, off, s.size)
	}
	out := make([]byte, 0, n)
	for pos := off; pos < off+int64(n); {
		c := pos &^ (chunk - 1)
		buf, ok := s.cache[c]
		if !ok {
			want := int64(chunk)
			if c+want > s.size {
				want = s.size - c
			}
			buf = make([]byte, want)
			got, err := s.r.ReadAt(buf, c)
			if int64(got) < want {
				if err == nil || errors.Is(err, io.EOF) {
					return nil, fmt.Errorf("read at %#x: %w (%d of %d bytes)", c, ErrShortRead, got, want)
				}
				return nil, fmt.Errorf("read at %#x: %w", c, err)
			}
			if len(s.cache) > 256 { // 16 MiB: drop everything, keep it simple
				s.cache = map[int64][]byte{}
			}
			s.cache[c] = buf
		}
		from := pos - c
		take := int64(len(buf)) - from
		if rest := off + int64(n) - pos; take > rest {
			take = rest
		}
		out = append(out, buf[from:from+take]...)
		pos += take
	}
	return out, nil
}

// regionRead reads n bytes at offset off inside the region; ok is false when
// they do not fit in it.
func (s *scanner) regionRead(rg region, off int64, n int) ([]byte, bool, error) {
	if off < 0 || off+int64(n) > rg.size {
		return nil, false, nil
	}
	b, err := s.read(rg.base+off, n)
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

func (s *scanner) add(typ string, off int64, detail string, rg region) {
	if rg.where != "" {
		if detail != "" {
			detail += ", "
		}
		detail += rg.where
	}
	key := fmt.Sprintf("%s@%d", typ, off)
	if s.seen[key] {
		return
	}
	s.seen[key] = true
	s.sigs = append(s.sigs, Signature{Type: typ, Offset: off, Voter: VoterProbe, Detail: detail})
}

// Scan runs the signature table over r, a device of size bytes, and descends
// into partitions and LVM data areas. It returns every signature found, sorted
// by offset. Any read error is returned (the caller's verdict is "unknown"),
// together with what was found before it.
func Scan(r io.ReaderAt, size int64) ([]Signature, error) {
	if size < 0 {
		return nil, fmt.Errorf("scan: negative size %d", size)
	}
	s := &scanner{r: r, size: size, cache: map[int64][]byte{}, seen: map[string]bool{}, visited: map[int64]bool{}}
	err := s.scan(region{base: 0, size: size})
	sort.SliceStable(s.sigs, func(i, j int) bool { return s.sigs[i].Offset < s.sigs[j].Offset })
	return s.sigs, err
}

func (s *scanner) scan(rg region) error {
	if rg.depth > maxDepth || rg.size <= 0 || s.visited[rg.base] && rg.depth > 0 {
		return nil
	}
	s.visited[rg.base] = true
	for _, t := range table() {
		for _, off := range t.at(rg.size) {
			b, ok, err := s.regionRead(rg, off, t.n)
			if err != nil {
				return fmt.Errorf("scan for %s: %w", t.typ, err)
			}
			if !ok {
				continue
			}
			if mo, detail, hit := t.match(b); hit {
				typ := t.typ
				if typ == "ext" { // the row names the version in detail
					typ, detail = detail, ""
				}
				s.add(typ, rg.base+off+mo, detail, rg)
			}
		}
	}
	if err := s.zfs(rg); err != nil {
		return err
	}
	var subs []region
	for _, step := range []func(region) ([]region, error){s.gpt, s.mbr, s.lvm} {
		r, err := step(rg)
		if err != nil {
			return err
		}
		subs = append(subs, r...)
	}
	for _, sub := range subs {
		if err := s.scan(sub); err != nil {
			return err
		}
	}
	return nil
}

// zfs looks for the four vdev labels (L0, L1 at the start, L2, L3 at the end
// of the 256 KiB-aligned size). A label counts when its uberblock ring holds
// the uberblock magic in either byte order, or its nvlist starts with the XDR
// header. (libblkid 2.38 wants 4 uberblocks in all; we flag any, so residue
// after `wipefs -a` is flagged too: see docs/safety.md.)
func (s *scanner) zfs(rg region) error {
	const label = 256 * kib
	aligned := rg.size &^ (label - 1)
	if aligned < 4*label {
		return nil
	}
	for i, l := range []int64{0, label, aligned - 2*label, aligned - label} {
		ring, ok, err := s.regionRead(rg, l+128*kib, 128*kib)
		if err != nil {
			return fmt.Errorf("scan for zfs label L%d: %w", i, err)
		}
		if !ok {
			continue
		}
		found := int64(-1)
		n := 0
		for slot := 0; slot < 128; slot++ {
			if le64(ring, slot*kib) == zfsUberMagic || binary.BigEndian.Uint64(ring[slot*kib:]) == zfsUberMagic {
				n++
				if found < 0 {
					found = l + 128*kib + int64(slot)*kib
				}
			}
		}
		if found >= 0 {
			s.add("zfs_member", rg.base+found, fmt.Sprintf("label L%d, %d uberblocks", i, n), rg)
			continue
		}
		nv, ok, err := s.regionRead(rg, l+16*kib, 12)
		if err != nil {
			return fmt.Errorf("scan for zfs label L%d: %w", i, err)
		}
		if ok && bytes.Equal(nv, []byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}) {
			s.add("zfs_member", rg.base+l+16*kib, fmt.Sprintf("label L%d nvlist", i), rg)
		}
	}
	return nil
}

// gpt finds GPT headers (primary at LBA 1, backup at the last LBA, for 512-
// and 4096-byte sectors) and returns the partitions to descend into.
func (s *scanner) gpt(rg region) ([]region, error) {
	var subs []region
	descended := false
	for _, ss := range []int64{512, 4096} {
		for _, hdrOff := range []int64{ss, rg.size - ss} {
			if hdrOff < ss {
				continue
			}
			h, ok, err := s.regionRead(rg, hdrOff, 512)
			if err != nil {
				return nil, fmt.Errorf("scan for gpt: %w", err)
			}
			if !ok || string(h[:8]) != "EFI PART" {
				continue
			}
			kind := "primary header"
			if hdrOff != ss {
				kind = "backup header"
			}
			valid := gptHeaderValid(h, hdrOff/ss)
			detail := fmt.Sprintf("%s, %d-byte sectors", kind, ss)
			if !valid {
				detail += ", header checksum or location invalid"
			}
			s.add("gpt", rg.base+hdrOff, detail, rg)
			if !valid || descended {
				continue
			}
			parts, err := s.gptEntries(rg, h, ss)
			if err != nil {
				return nil, err
			}
			descended = true
			subs = append(subs, parts...)
		}
	}
	return subs, nil
}

// gptHeaderValid checks the header's size, self-location (my_lba) and CRC.
// h is the whole 512-byte start of the header sector.
func gptHeaderValid(h []byte, lba int64) bool {
	hsize := int(le32(h, 12))
	if hsize < 92 || hsize > len(h) || int64(le64(h, 24)) != lba {
		return false
	}
	c := make([]byte, hsize)
	copy(c, h[:hsize])
	binary.LittleEndian.PutUint32(c[16:], 0)
	return crc32.ChecksumIEEE(c) == le32(h, 16)
}

func (s *scanner) gptEntries(rg region, h []byte, ss int64) ([]region, error) {
	entLBA, num, esz := int64(le64(h, 72)), int64(le32(h, 80)), int64(le32(h, 84))
	if num == 0 || num > maxGPTEntries || esz < 128 || esz > 4096 || esz%8 != 0 {
		return nil, nil
	}
	tbl, ok, err := s.regionRead(rg, entLBA*ss, int(num*esz))
	if err != nil {
		return nil, fmt.Errorf("read gpt partition entries: %w", err)
	}
	if !ok {
		return nil, nil
	}
	var subs []region
	for i := int64(0); i < num; i++ {
		e := tbl[i*esz : (i+1)*esz]
		if bytes.Equal(e[:16], make([]byte, 16)) {
			continue
		}
		first, last := int64(le64(e, 32)), int64(le64(e, 40))
		if first <= 0 || last < first || first*ss >= rg.size {
			continue
		}
		size := (last - first + 1) * ss
		if first*ss+size > rg.size {
			size = rg.size - first*ss
		}
		subs = append(subs, region{base: rg.base + first*ss, size: size, depth: rg.depth + 1,
			where: nest(rg, fmt.Sprintf("in gpt partition %d at %#x", i+1, rg.base+first*ss))})
	}
	return subs, nil
}

// mbr recognises a DOS partition table or a protective MBR in sector 0 and
// returns the primary partitions to descend into. A FAT or exFAT boot sector
// is not a partition table (libblkid dos.c does the same; it does not exclude
// NTFS, and neither do we).
func (s *scanner) mbr(rg region) ([]region, error) {
	b, ok, err := s.regionRead(rg, 0, 512)
	if err != nil {
		return nil, fmt.Errorf("scan for mbr: %w", err)
	}
	if !ok || b[510] != 0x55 || b[511] != 0xAA {
		return nil, nil
	}
	if _, _, fat := matchVFAT(b); fat || string(b[3:11]) == "EXFAT   " {
		return nil, nil
	}
	var subs []region
	protective, used := false, 0
	for i := 0; i < 4; i++ {
		e := b[0x1BE+16*i : 0x1BE+16*(i+1)]
		if e[0] != 0 && e[0] != 0x80 {
			return nil, nil // not a partition table
		}
		typ := e[4]
		start, n := int64(le32(e, 8)), int64(le32(e, 12))
		if typ == 0 || n == 0 {
			continue
		}
		used++
		switch typ {
		case 0xEE:
			protective = true
			continue
		case 0x05, 0x0F, 0x85: // extended: the table itself already halts
			continue
		}
		if start == 0 || start*512 >= rg.size {
			continue
		}
		size := n * 512
		if start*512+size > rg.size {
			size = rg.size - start*512
		}
		subs = append(subs, region{base: rg.base + start*512, size: size, depth: rg.depth + 1,
			where: nest(rg, fmt.Sprintf("in dos partition %d at %#x", i+1, rg.base+start*512))})
	}
	switch {
	case protective:
		s.add("PMBR", rg.base+0x1FE, "protective MBR", rg)
		return nil, nil // GPT partitions are descended from the GPT
	case used == 0:
		s.add("dos", rg.base+0x1FE, "empty partition table", rg)
	default:
		s.add("dos", rg.base+0x1FE, fmt.Sprintf("%d partitions", used), rg)
	}
	return subs, nil
}

// lvm recognises an LVM2 physical volume label in sectors 0-3 and returns its
// first data area (pe_start: where the first LV, e.g. a Ceph OSD's BlueStore
// label, begins).
func (s *scanner) lvm(rg region) ([]region, error) {
	for sector := int64(0); sector < 4; sector++ {
		b, ok, err := s.regionRead(rg, sector*512, 512)
		if err != nil {
			return nil, fmt.Errorf("scan for lvm2: %w", err)
		}
		if !ok || string(b[:8]) != "LABELONE" || string(b[0x18:0x20]) != "LVM2 001" {
			continue
		}
		s.add("LVM2_member", rg.base+sector*512+0x18, "", rg)
		hdr := int64(le32(b, 0x14)) // pv_header offset from the label
		if hdr < 0x20 || hdr+32+8+16 > 512 {
			return nil, nil
		}
		peStart := int64(le64(b, int(hdr)+32+8))
		if peStart <= 0 || peStart >= rg.size {
			return nil, nil
		}
		return []region{{base: rg.base + peStart, size: rg.size - peStart, depth: rg.depth + 1,
			where: nest(rg, fmt.Sprintf("in LVM data area at %#x", rg.base+peStart))}}, nil
	}
	return nil, nil
}
