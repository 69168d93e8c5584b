package wipeprobe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shakedown/shakedown/agent/stage/storage/diskfixture"
)

const (
	tib = int64(1) << 40
)

func at(off int64, b []byte) func(m *diskfixture.Mem) error {
	return func(m *diskfixture.Mem) error { _, err := m.WriteAt(b, off); return err }
}

func str(off int64, s string) func(m *diskfixture.Mem) error { return at(off, []byte(s)) }

func u32le(off int64, v uint32) func(m *diskfixture.Mem) error {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, v)
	return at(off, b)
}

func extSB(compat, incompat, roCompat uint32) func(m *diskfixture.Mem) error {
	return func(m *diskfixture.Mem) error {
		b := make([]byte, 0x68)
		binary.LittleEndian.PutUint16(b[0x38:], 0xEF53)
		binary.LittleEndian.PutUint32(b[0x5C:], compat)
		binary.LittleEndian.PutUint32(b[0x60:], incompat)
		binary.LittleEndian.PutUint32(b[0x64:], roCompat)
		_, err := m.WriteAt(b, 0x400)
		return err
	}
}

func fatBoot(label string, at int) func(m *diskfixture.Mem) error {
	return func(m *diskfixture.Mem) error {
		b := make([]byte, 512)
		b[0] = 0xEB
		copy(b[at:], label)
		b[510], b[511] = 0x55, 0xAA
		_, err := m.WriteAt(b, 0)
		return err
	}
}

var zfsType = [16]byte{0xba, 0x9a, 1, 6}

// sigKeys renders signatures as "type@0xoffset" for comparison.
func sigKeys(sigs []Signature) []string {
	out := make([]string, 0, len(sigs))
	for _, s := range sigs {
		out = append(out, fmt.Sprintf("%s@%#x", s.Type, s.Offset))
	}
	sort.Strings(out)
	return out
}

func TestScanSyntheticImages(t *testing.T) {
	const mb = int64(1) << 20
	size64 := 64 * mb
	zfsL := diskfixture.ZFSLabelOffsets(size64)
	cases := []struct {
		name  string
		size  int64
		build []func(*diskfixture.Mem) error
		want  []string
	}{
		{name: "all zero", size: size64, want: []string{}},
		{name: "ext2", size: size64, build: []func(*diskfixture.Mem) error{extSB(0, 0x2, 0)}, want: []string{"ext2@0x438"}},
		{name: "ext3", size: size64, build: []func(*diskfixture.Mem) error{extSB(0x4, 0x2, 0)}, want: []string{"ext3@0x438"}},
		{name: "ext4", size: size64, build: []func(*diskfixture.Mem) error{extSB(0x4, 0x2c2, 0x1)}, want: []string{"ext4@0x438"}},
		{name: "xfs", size: size64, build: []func(*diskfixture.Mem) error{str(0, "XFSB")}, want: []string{"xfs@0x0"}},
		{name: "btrfs primary and mirror", size: size64 * 2, build: []func(*diskfixture.Mem) error{
			str(0x10040, "_BHRfS_M"), str(0x4000040, "_BHRfS_M")}, want: []string{"btrfs@0x10040", "btrfs@0x4000040"}},
		{name: "btrfs 256 GiB mirror only", size: 2 * tib, build: []func(*diskfixture.Mem) error{
			str(256<<30+0x40, "_BHRfS_M")}, want: []string{"btrfs@0x4000000040"}},
		{name: "luks1", size: size64, build: []func(*diskfixture.Mem) error{at(0, []byte("LUKS\xba\xbe\x00\x01"))}, want: []string{"crypto_LUKS@0x0"}},
		{name: "luks2 secondary only", size: size64, build: []func(*diskfixture.Mem) error{str(0x8000, "SKUL\xba\xbe")}, want: []string{"crypto_LUKS@0x8000"}},
		{name: "ntfs with backup boot sector", size: size64, build: []func(*diskfixture.Mem) error{
			str(3, "NTFS    "), str(size64-512+3, "NTFS    ")}, want: []string{"ntfs@0x3", "ntfs@0x3fffe03"}},
		{name: "vfat FAT16", size: size64, build: []func(*diskfixture.Mem) error{fatBoot("FAT16   ", 0x36)}, want: []string{"vfat@0x36"}},
		{name: "vfat FAT32", size: size64, build: []func(*diskfixture.Mem) error{fatBoot("FAT32   ", 0x52)}, want: []string{"vfat@0x52"}},
		{name: "swap 4k pages", size: size64, build: []func(*diskfixture.Mem) error{str(0xff6, "SWAPSPACE2")}, want: []string{"swap@0xff6"}},
		{name: "swap 64k pages", size: size64, build: []func(*diskfixture.Mem) error{str(0xfff6, "SWAPSPACE2")}, want: []string{"swap@0xfff6"}},
		{name: "iso9660", size: size64, build: []func(*diskfixture.Mem) error{str(0x8001, "CD001")}, want: []string{"iso9660@0x8001"}},
		{name: "md 0.90 at the end", size: 10 * mb, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteMD090(m, m.Size) }}, want: []string{"linux_raid_member@0x9f0000"}},
		{name: "md 1.0 at the end", size: 8*mb + 4096 + 100, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteMD1(m, diskfixture.MD1Offset(0, m.Size)) }}, want: []string{"linux_raid_member@0x7ff000"}},
		{name: "md 1.1", size: 8 * mb, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteMD1(m, 0) }}, want: []string{"linux_raid_member@0x0"}},
		{name: "md 1.2", size: 8 * mb, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteMD1(m, 0x1000) }}, want: []string{"linux_raid_member@0x1000"}},
		{name: "zfs all labels", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteZFSLabels(m, 0, m.Size, 4) }},
			want: []string{"zfs_member@0x20000", "zfs_member@0x60000", "zfs_member@0x3fa0000", "zfs_member@0x3fe0000"}},
		{name: "zfs nvlist only (no uberblocks)", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteZFSLabels(m, 0, m.Size, 0) }},
			want: []string{
				fmt.Sprintf("zfs_member@%#x", zfsL[0]+16<<10), fmt.Sprintf("zfs_member@%#x", zfsL[1]+16<<10),
				fmt.Sprintf("zfs_member@%#x", zfsL[2]+16<<10), fmt.Sprintf("zfs_member@%#x", zfsL[3]+16<<10)}},
		{name: "zfs head zeroed: L2/L3 remain", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteZFSLabels(m, 0, m.Size, 4) },
			func(m *diskfixture.Mem) error { return diskfixture.Zero(m, 0, mb) }},
			want: []string{"zfs_member@0x3fa0000", "zfs_member@0x3fe0000"}},
		{name: "bluestore", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteBlueStore(m, 0) }}, want: []string{"ceph_bluestore@0x0"}},
		{name: "bluestore replica at 1000 GiB", size: 2 * tib, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteBlueStore(m, 1000<<30) }}, want: []string{"ceph_bluestore@0xfa00000000"}},
		{name: "ddf", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteDDF(m, m.Size) }}, want: []string{"ddf_raid_member@0x3fffe00"}},
		{name: "isw", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteISW(m, m.Size) }}, want: []string{"isw_raid_member@0x3fffc00"}},
		{name: "lsi", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteLSI(m, m.Size) }}, want: []string{"lsi_mega_raid_member@0x3fffe00"}},
		{name: "drbd", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteDRBD(m, m.Size) }}, want: []string{"drbd@0x3fff03c"}},
		{name: "bcache", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteBcache(m) }}, want: []string{"bcache@0x1018"}},
		{name: "vmfs", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteVMFS(m) }}, want: []string{"VMFS@0x200000", "VMFS_volume_member@0x100000"}},
		{name: "dos table with one partition holding ext4", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error {
				return diskfixture.WriteMBR(m, []diskfixture.MBREntry{{Type: 0x83, Start: 2048, Size: 4096}})
			},
			func(m *diskfixture.Mem) error { _, err := m.WriteAt([]byte{0x53, 0xEF}, 2048*512+0x438); return err }},
			want: []string{"dos@0x1fe", "ext2@0x100438"}},
		{name: "empty dos table", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteMBR(m, nil) }}, want: []string{"dos@0x1fe"}},
		{name: "gpt 512 with zfs in partition 1 (Proxmox layout)", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error {
				return diskfixture.WriteGPT(m, m.Size, 512, []diskfixture.Part{{First: 2048, Last: 114687, Type: zfsType}, {First: 114688, Last: 131038, Type: zfsType}})
			},
			func(m *diskfixture.Mem) error { return diskfixture.WriteZFSLabels(m, 2048*512, (114687-2048+1)*512, 4) }},
			want: []string{"PMBR@0x1fe", "gpt@0x200", "gpt@0x3fffe00",
				"zfs_member@0x120000", "zfs_member@0x160000", "zfs_member@0x37a0000", "zfs_member@0x37e0000"}},
		{name: "gpt primary header zeroed: backup found and still descended", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error {
				return diskfixture.WriteGPT(m, m.Size, 512, []diskfixture.Part{{First: 2048, Last: 4095, Type: zfsType}})
			},
			func(m *diskfixture.Mem) error { return diskfixture.Zero(m, 512, 512) },
			func(m *diskfixture.Mem) error { _, err := m.WriteAt([]byte("XFSB"), 2048*512); return err }},
			want: []string{"PMBR@0x1fe", "gpt@0x3fffe00", "xfs@0x100000"}},
		{name: "gpt head 1 MiB zeroed: only the backup header", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteGPT(m, m.Size, 512, nil) },
			func(m *diskfixture.Mem) error { return diskfixture.Zero(m, 0, mb) }},
			want: []string{"gpt@0x3fffe00"}},
		{name: "gpt 4Kn", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteGPT(m, m.Size, 4096, nil) }},
			want: []string{"PMBR@0x1fe", "gpt@0x1000", "gpt@0x3fff000"}},
		{name: "lvm pv with bluestore at the data start (Ceph OSD layout)", size: size64, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WritePV(m, m.Size, mb) },
			func(m *diskfixture.Mem) error { return diskfixture.WriteBlueStore(m, mb) }},
			want: []string{"LVM2_member@0x218", "ceph_bluestore@0x100000"}},
		{name: "20 TiB disk: md 0.90 and gpt backup at the end", size: 20 * tib, build: []func(*diskfixture.Mem) error{
			func(m *diskfixture.Mem) error { return diskfixture.WriteGPT(m, m.Size, 512, nil) },
			func(m *diskfixture.Mem) error { return diskfixture.Zero(m, 0, mb) },
			func(m *diskfixture.Mem) error { return diskfixture.WriteMD090(m, m.Size) }},
			want: []string{"gpt@0x13fffffffe00", "linux_raid_member@0x13ffffff0000"}},
		{name: "f2fs", size: size64, build: []func(*diskfixture.Mem) error{u32le(0x400, 0xF2F52010)}, want: []string{"f2fs@0x400"}},
		{name: "bitlocker", size: size64, build: []func(*diskfixture.Mem) error{str(3, "-FVE-FS-")}, want: []string{"BitLocker@0x3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := diskfixture.NewMem(tc.size)
			for _, b := range tc.build {
				if err := b(m); err != nil {
					t.Fatal(err)
				}
			}
			sigs, err := Scan(m, m.Size)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			got := sigKeys(sigs)
			want := append([]string{}, tc.want...)
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("signatures (-want +got):\n%s\nall: %+v", diff, sigs)
			}
			for _, s := range sigs {
				if s.Voter != VoterProbe || s.Offset < 0 || s.Offset >= tc.size {
					t.Errorf("bad signature %+v", s)
				}
			}
		})
	}
}

func TestScanNestedDetailNamesPartition(t *testing.T) {
	m := diskfixture.NewMem(64 << 20)
	if err := diskfixture.WriteGPT(m, m.Size, 512, []diskfixture.Part{{First: 2048, Last: 8191, Type: zfsType}}); err != nil {
		t.Fatal(err)
	}
	pv := diskfixture.NewMem(int64(8192-2048) * 512)
	if err := diskfixture.WritePV(pv, pv.Size, 1<<20); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	if _, err := pv.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.WriteAt(buf, 2048*512); err != nil {
		t.Fatal(err)
	}
	if err := diskfixture.WriteBlueStore(m, 2048*512+1<<20); err != nil {
		t.Fatal(err)
	}
	sigs, err := Scan(m, m.Size)
	if err != nil {
		t.Fatal(err)
	}
	var bs *Signature
	for i := range sigs {
		if sigs[i].Type == "ceph_bluestore" {
			bs = &sigs[i]
		}
	}
	if bs == nil {
		t.Fatalf("bluestore inside LVM inside gpt partition 1 not found: %+v", sigs)
	}
	if bs.Offset != 2048*512+1<<20 || !strings.Contains(bs.Detail, "LVM data area") || !strings.Contains(bs.Detail, "gpt partition 1") {
		t.Errorf("bluestore signature = %+v, want offset %#x and a detail naming the LVM data area and gpt partition 1", *bs, 2048*512+1<<20)
	}
}

type failingReader struct {
	r      io.ReaderAt
	failAt int64
}

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off <= f.failAt && f.failAt < off+int64(len(p)) {
		return 0, errors.New("input/output error")
	}
	return f.r.ReadAt(p, off)
}

func TestScanReadErrorsAreReported(t *testing.T) {
	m := diskfixture.NewMem(64 << 20)
	t.Run("I/O error at the end of the disk", func(t *testing.T) {
		_, err := Scan(failingReader{r: m, failAt: m.Size - 100}, m.Size)
		if err == nil || !strings.Contains(err.Error(), "input/output error") {
			t.Fatalf("Scan err = %v, want the I/O error", err)
		}
	})
	t.Run("truncated image (size promises more than there is)", func(t *testing.T) {
		small := bytes.NewReader(make([]byte, 1<<20))
		_, err := Scan(small, 64<<20)
		if !errors.Is(err, ErrShortRead) {
			t.Fatalf("Scan err = %v, want ErrShortRead", err)
		}
	})
	t.Run("tiny device is scanned without reading past its end", func(t *testing.T) {
		sigs, err := Scan(bytes.NewReader(make([]byte, 1000)), 1000)
		if err != nil || len(sigs) != 0 {
			t.Fatalf("Scan = %v, %v; want nothing, no error", sigs, err)
		}
	})
}

func FuzzScan(f *testing.F) {
	f.Add(make([]byte, 4096))
	m := diskfixture.NewMem(1 << 20)
	_ = diskfixture.WriteGPT(m, m.Size, 512, []diskfixture.Part{{First: 34, Last: 2000, Type: zfsType}})
	_ = diskfixture.WritePV(m, m.Size, 8192)
	img := make([]byte, m.Size)
	_, _ = m.ReadAt(img, 0)
	f.Add(img)
	f.Fuzz(func(t *testing.T, data []byte) {
		sigs, err := Scan(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("in-memory scan failed: %v", err)
		}
		for _, s := range sigs {
			if s.Offset < 0 || s.Offset >= int64(len(data)) {
				t.Fatalf("signature outside the image: %+v", s)
			}
		}
	})
}
