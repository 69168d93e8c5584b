package diskfixture

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

const (
	kib = int64(1) << 10
	mib = int64(1) << 20
)

// Image is one fixture recipe: it builds an image file in dir with the real
// tools (or from the on-disk format where no tool can) and returns its path.
// Needs root (loop devices, LVM) and the tools listed in Tools.
type Image struct {
	Name  string
	Tools []string
	Build func(t testing.TB, dir string) string
}

func file(t testing.TB, dir, name string, size int64) string { return Sparse(t, dir, name, size) }

func patchFn(fns ...func(w io.WriterAt, size int64) error) func(w io.WriterAt, size int64) error {
	return func(w io.WriterAt, size int64) error {
		for _, f := range fns {
			if err := f(w, size); err != nil {
				return err
			}
		}
		return nil
	}
}

func zeroHead(w io.WriterAt, _ int64) error { return Zero(w, 0, mib) }
func zeroTail(w io.WriterAt, size int64) error {
	return Zero(w, size-mib, mib)
}

func keyFile(t testing.TB, dir string) string {
	p := filepath.Join(dir, "luks.key")
	if err := os.WriteFile(p, []byte("shakedown-fixture-key"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sgdiskZFS makes the Proxmox whole-disk ZFS layout: p1 BF01 (40 MiB at
// 1 MiB), p9 BF07 after it.
func sgdiskZFS(t testing.TB, p string) {
	Run(t, nil, "sgdisk", "-a", "2048", "-n1:2048:+40M", "-t1:BF01", "-n9:0:0", "-t9:BF07", p)
}

// Images is the fixture catalogue (disks.md §2.3 and §7).
var Images = []Image{
	{Name: "ext4", Tools: []string{"mkfs.ext4"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "ext4.img", mib)
		Run(t, nil, "mkfs.ext4", "-F", "-q", p)
		return p
	}},
	{Name: "xfs", Tools: []string{"mkfs.xfs"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "xfs.img", 16*mib)
		Run(t, []string{"TEST_DIR=1", "TEST_DEV=1", "QA_CHECK_FS=1"}, "mkfs.xfs", "-f", "-q", p)
		return p
	}},
	{Name: "btrfs", Tools: []string{"mkfs.btrfs"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "btrfs.img", 110*mib)
		Run(t, nil, "mkfs.btrfs", "-f", "-q", p)
		return p
	}},
	{Name: "vfat", Tools: []string{"mkfs.vfat"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "vfat.img", mib)
		Run(t, nil, "mkfs.vfat", p)
		return p
	}},
	{Name: "ntfs", Tools: []string{"mkntfs"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "ntfs.img", 2*mib)
		Run(t, nil, "mkntfs", "-F", "-Q", "-q", p)
		return p
	}},
	{Name: "swap", Tools: []string{"mkswap"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "swap.img", mib)
		Run(t, nil, "mkswap", p)
		return p
	}},
	{Name: "luks1", Tools: []string{"cryptsetup"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "luks1.img", 2*mib)
		Run(t, nil, "cryptsetup", "luksFormat", "-q", "--type", "luks1", "--pbkdf-force-iterations", "1000",
			"--key-file", keyFile(t, dir), p)
		return p
	}},
	{Name: "luks2", Tools: []string{"cryptsetup"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "luks2.img", 2*mib)
		Run(t, nil, "cryptsetup", "luksFormat", "-q", "--type", "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
			"--luks2-metadata-size", "16k", "--luks2-keyslots-size", "256k", "--key-file", keyFile(t, dir), p)
		return p
	}},
	{Name: "luks2 head zeroed", Tools: []string{"cryptsetup"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "luks2z.img", 2*mib)
		Run(t, nil, "cryptsetup", "luksFormat", "-q", "--type", "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
			"--luks2-metadata-size", "16k", "--luks2-keyslots-size", "256k", "--key-file", keyFile(t, dir), p)
		Patch(t, p, func(w io.WriterAt, _ int64) error { return Zero(w, 0, 4*kib) })
		return p
	}},
	{Name: "lvm2 pv", Tools: []string{"losetup", "pvcreate", "vgcreate", "lvcreate", "vgexport"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "pv.img", 8*mib)
		PV(t, Loop(t, p))
		return p
	}},
	{Name: "ceph bluestore on lvm (Proxmox OSD layout)", Tools: []string{"losetup", "pvcreate", "vgcreate", "lvcreate", "vgexport"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "osd.img", 16*mib)
		PV(t, Loop(t, p))
		Patch(t, p, func(w io.WriterAt, _ int64) error { return WriteBlueStore(w, mib) })
		return p
	}},
	{Name: "gpt (sgdisk, Proxmox zfs partitions, no pool)", Tools: []string{"sgdisk"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "gpt.img", 64*mib)
		sgdiskZFS(t, p)
		return p
	}},
	{Name: "zfs whole-disk (Proxmox layout, labels in p1)", Tools: []string{"sgdisk"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "zfsdisk.img", 64*mib)
		sgdiskZFS(t, p)
		Patch(t, p, func(w io.WriterAt, _ int64) error { return WriteZFSLabels(w, mib, 40*mib, 4) })
		return p
	}},
	{Name: "gpt primary header zeroed", Tools: []string{"sgdisk"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "gptz.img", 64*mib)
		sgdiskZFS(t, p)
		Patch(t, p, func(w io.WriterAt, _ int64) error { return Zero(w, 512, 512) })
		return p
	}},
	{Name: "gpt head 1 MiB zeroed", Tools: []string{"sgdisk"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "gpth.img", 64*mib)
		sgdiskZFS(t, p)
		Patch(t, p, zeroHead)
		return p
	}},
	{Name: "gpt tail 1 MiB zeroed", Tools: []string{"sgdisk"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "gptt.img", 64*mib)
		sgdiskZFS(t, p)
		Patch(t, p, zeroTail)
		return p
	}},
	{Name: "dos (parted)", Tools: []string{"parted"}, Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "dos.img", 8*mib)
		Run(t, nil, "parted", "-s", p, "mklabel", "msdos", "mkpart", "primary", "ext4", "1MiB", "4MiB")
		return p
	}},
	{Name: "pve installer (gpt: bios boot, esp vfat, lvm)", Tools: []string{"sgdisk", "losetup", "mkfs.vfat", "pvcreate", "vgcreate", "lvcreate", "vgexport"},
		Build: func(t testing.TB, dir string) string {
			p := file(t, dir, "pve.img", 64*mib)
			Run(t, nil, "sgdisk", "-a", "2048", "-n1:2048:+1M", "-t1:EF02", "-n2:0:+8M", "-t2:EF00", "-n3:0:0", "-t3:8E00", p)
			Run(t, nil, "mkfs.vfat", Loop(t, p, "--offset", "2097152", "--sizelimit", "8388608"))
			PV(t, Loop(t, p, "--offset", "10485760", "--sizelimit", "50331648"))
			return p
		}},
	{Name: "md 1.2 (written from the on-disk format)", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "md12.img", 8*mib)
		Patch(t, p, func(w io.WriterAt, _ int64) error { return WriteMD1(w, 0x1000) })
		return p
	}},
	{Name: "md 1.1", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "md11.img", 8*mib)
		Patch(t, p, func(w io.WriterAt, _ int64) error { return WriteMD1(w, 0) })
		return p
	}},
	{Name: "md 1.0 head zeroed", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "md10.img", 8*mib)
		Patch(t, p, func(w io.WriterAt, size int64) error { return WriteMD1(w, MD1Offset(0, size)) })
		return p
	}},
	{Name: "md 0.90", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "md090.img", 10*mib)
		Patch(t, p, func(w io.WriterAt, size int64) error { return WriteMD090(w, size) })
		return p
	}},
	{Name: "zfs file vdev (labels from the on-disk format)", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "zfs.img", 64*mib)
		Patch(t, p, func(w io.WriterAt, size int64) error { return WriteZFSLabels(w, 0, size, 4) })
		return p
	}},
	{Name: "zfs head zeroed", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "zfsh.img", 64*mib)
		Patch(t, p, patchFn(func(w io.WriterAt, size int64) error { return WriteZFSLabels(w, 0, size, 4) }, zeroHead))
		return p
	}},
	{Name: "zfs tail zeroed", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "zfst.img", 64*mib)
		Patch(t, p, patchFn(func(w io.WriterAt, size int64) error { return WriteZFSLabels(w, 0, size, 4) }, zeroTail))
		return p
	}},
	{Name: "bluestore raw", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "bluestore.img", 8*mib)
		Patch(t, p, func(w io.WriterAt, _ int64) error { return WriteBlueStore(w, 0) })
		return p
	}},
	{Name: "ddf", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "ddf.img", 8*mib)
		Patch(t, p, func(w io.WriterAt, size int64) error { return WriteDDF(w, size) })
		return p
	}},
	{Name: "isw", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "isw.img", 8*mib)
		Patch(t, p, func(w io.WriterAt, size int64) error { return WriteISW(w, size) })
		return p
	}},
	{Name: "lsi", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "lsi.img", 8*mib)
		Patch(t, p, func(w io.WriterAt, size int64) error { return WriteLSI(w, size) })
		return p
	}},
	{Name: "drbd", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "drbd.img", 8*mib)
		Patch(t, p, func(w io.WriterAt, size int64) error { return WriteDRBD(w, size) })
		return p
	}},
	{Name: "bcache", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "bcache.img", 8*mib)
		Patch(t, p, func(w io.WriterAt, _ int64) error { return WriteBcache(w) })
		return p
	}},
	{Name: "vmfs", Build: func(t testing.TB, dir string) string {
		p := file(t, dir, "vmfs.img", 8*mib)
		Patch(t, p, func(w io.WriterAt, _ int64) error { return WriteVMFS(w) })
		return p
	}},
	{Name: "hybrid iso (boot medium)", Tools: []string{"xorriso", "mkfs.vfat"}, Build: func(t testing.TB, dir string) string {
		src := filepath.Join(dir, "isoroot")
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, "README"), []byte("shakedown live\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		esp := file(t, dir, "esp.img", mib)
		Run(t, nil, "mkfs.vfat", esp)
		p := filepath.Join(dir, "live.iso")
		Run(t, nil, "xorriso", "-as", "mkisofs", "-quiet", "-o", p, "-V", "SHAKEDOWN", "-append_partition", "2", "0xef", esp, src)
		return p
	}},
}
