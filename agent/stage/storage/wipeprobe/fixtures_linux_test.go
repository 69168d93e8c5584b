//go:build linux

package wipeprobe

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"

	"github.com/shakedown/shakedown/agent/stage/storage/diskfixture"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/testutil"
)

// fixtureWant is what each voter must report for a real fixture: the probe's
// types (all of them, exactly) and the types wipefs (util-linux 2.38.1, as
// observed) reports. Every type wipefs reports, our probe reports too.
var fixtureWant = map[string]struct{ probe, wipefs []string }{
	"ext4":              {[]string{"ext4"}, []string{"ext4"}},
	"xfs":               {[]string{"xfs"}, []string{"xfs"}},
	"btrfs":             {[]string{"btrfs"}, []string{"btrfs"}},
	"vfat":              {[]string{"vfat"}, []string{"vfat"}},
	"ntfs":              {[]string{"dos", "ntfs"}, []string{"dos", "ntfs"}},
	"swap":              {[]string{"swap"}, []string{"swap"}},
	"luks1":             {[]string{"crypto_LUKS"}, []string{"crypto_LUKS"}},
	"luks2":             {[]string{"crypto_LUKS"}, []string{"crypto_LUKS"}},
	"luks2 head zeroed": {[]string{"crypto_LUKS"}, []string{"crypto_LUKS"}},
	"lvm2 pv":           {[]string{"LVM2_member"}, []string{"LVM2_member"}},
	"ceph bluestore on lvm (Proxmox OSD layout)":    {[]string{"LVM2_member", "ceph_bluestore"}, []string{"LVM2_member"}},
	"gpt (sgdisk, Proxmox zfs partitions, no pool)": {[]string{"PMBR", "gpt"}, []string{"PMBR", "gpt"}},
	"zfs whole-disk (Proxmox layout, labels in p1)": {[]string{"PMBR", "gpt", "zfs_member"}, []string{"PMBR", "gpt"}},
	"gpt primary header zeroed":                     {[]string{"PMBR", "gpt"}, []string{"PMBR", "gpt"}},
	"gpt head 1 MiB zeroed":                         {[]string{"gpt"}, []string{"gpt"}},
	"gpt tail 1 MiB zeroed":                         {[]string{"PMBR", "gpt"}, []string{"PMBR", "gpt"}},
	"dos (parted)":                                  {[]string{"dos"}, []string{"dos"}},
	"pve installer (gpt: bios boot, esp vfat, lvm)": {[]string{"LVM2_member", "PMBR", "gpt", "vfat"}, []string{"PMBR", "gpt"}},
	"md 1.2 (written from the on-disk format)":      {[]string{"linux_raid_member"}, []string{"linux_raid_member"}},
	"md 1.1":             {[]string{"linux_raid_member"}, []string{"linux_raid_member"}},
	"md 1.0 head zeroed": {[]string{"linux_raid_member"}, []string{"linux_raid_member"}},
	"md 0.90":            {[]string{"linux_raid_member"}, []string{"linux_raid_member"}},
	"zfs file vdev (labels from the on-disk format)": {[]string{"zfs_member"}, []string{"zfs_member"}},
	"zfs head zeroed":          {[]string{"zfs_member"}, []string{"zfs_member"}},
	"zfs tail zeroed":          {[]string{"zfs_member"}, []string{"zfs_member"}},
	"bluestore raw":            {[]string{"ceph_bluestore"}, []string{"ceph_bluestore"}},
	"ddf":                      {[]string{"ddf_raid_member"}, []string{"ddf_raid_member"}},
	"isw":                      {[]string{"isw_raid_member"}, []string{"isw_raid_member"}},
	"lsi":                      {[]string{"lsi_mega_raid_member"}, []string{"lsi_mega_raid_member"}},
	"drbd":                     {[]string{"drbd"}, []string{"drbd"}},
	"bcache":                   {[]string{"bcache"}, nil}, // libblkid also checks the superblock checksum we do not write,
	"vmfs":                     {[]string{"VMFS", "VMFS_volume_member"}, []string{"VMFS", "VMFS_volume_member"}},
	"hybrid iso (boot medium)": {[]string{"dos", "iso9660", "vfat"}, []string{"dos", "iso9660"}},
}

func typesBy(sigs []Signature, voter string) []string {
	seen := map[string]bool{}
	for _, s := range sigs {
		if s.Voter == voter {
			seen[s.Type] = true
		}
	}
	out := []string{}
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestRealFixtures builds every fixture with the real tools and checks each
// voter's findings, the combined verdict, and that the probe never misses a
// type wipefs saw.
func TestRealFixtures(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "wipefs")
	p := Prober{Env: collector.Env{Root: "/", Tools: diskfixture.Runner}}
	for _, img := range diskfixture.Images {
		t.Run(img.Name, func(t *testing.T) {
			testutil.RequireTools(t, img.Tools...)
			want, ok := fixtureWant[img.Name]
			if !ok {
				t.Fatalf("no expectation for fixture %q", img.Name)
			}
			path := img.Build(t, t.TempDir())
			before := diskfixture.SHA256(t, path)
			rep := p.Probe(context.Background(), path)
			if rep.Verdict != Data {
				t.Errorf("verdict = %s, want data; %s", rep.Verdict, rep.Summary())
			}
			if got := typesBy(rep.Signatures, VoterProbe); fmt.Sprint(got) != fmt.Sprint(want.probe) {
				t.Errorf("probe types = %v, want %v; %s", got, want.probe, rep.Summary())
			}
			wantW := want.wipefs
			if wantW == nil {
				wantW = []string{}
			}
			gotW := typesBy(rep.Signatures, VoterWipefs)
			if fmt.Sprint(gotW) != fmt.Sprint(wantW) {
				t.Errorf("wipefs types = %v, want %v; %s", gotW, wantW, rep.Summary())
			}
			probeTypes := map[string]bool{}
			for _, ty := range typesBy(rep.Signatures, VoterProbe) {
				probeTypes[ty] = true
			}
			for _, ty := range gotW {
				if !probeTypes[ty] {
					t.Errorf("wipefs found %s but our probe did not; %s", ty, rep.Summary())
				}
			}
			if after := diskfixture.SHA256(t, path); after != before {
				t.Errorf("the probe changed the image (sha256 %s -> %s)", before, after)
			}
			if os.Getenv("WIPEPROBE_DUMP") != "" {
				t.Logf("%s: %s", img.Name, rep.Summary())
			}
		})
	}
}

func TestRealFixtureOnLoopDevice(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "wipefs", "losetup", "mkfs.ext4")
	p := Prober{Env: collector.Env{Root: "/", Tools: diskfixture.Runner}}
	dir := t.TempDir()

	clean := diskfixture.Loop(t, diskfixture.Sparse(t, dir, "clean.img", 64<<20))
	if rep := p.Probe(context.Background(), clean); rep.Verdict != Clean || !rep.BlockDevice {
		t.Errorf("clean loop device: verdict %s block %v, want clean block device; %s", rep.Verdict, rep.BlockDevice, rep.Summary())
	}

	img := diskfixture.Sparse(t, dir, "ext4.img", 64<<20)
	diskfixture.Run(t, nil, "mkfs.ext4", "-F", "-q", img)
	dev := diskfixture.Loop(t, img)
	rep := p.Probe(context.Background(), dev)
	if rep.Verdict != Data || fmt.Sprint(typesBy(rep.Signatures, VoterProbe)) != "[ext4]" {
		t.Errorf("ext4 loop device: %s; %s", rep.Verdict, rep.Summary())
	}

	t.Run("mounted: kernel voter sees the mount and the exclusive claim", func(t *testing.T) {
		testutil.RequireTools(t, "mount", "umount")
		mnt := t.TempDir()
		diskfixture.Run(t, nil, "mount", "-o", "ro", dev, mnt)
		defer diskfixture.Run(t, nil, "umount", mnt)
		rep := p.Probe(context.Background(), dev)
		got := typesBy(rep.Signatures, VoterKernel)
		if fmt.Sprint(got) != "[kernel:busy kernel:mounted]" {
			t.Errorf("kernel findings = %v, want busy and mounted; %s", got, rep.Summary())
		}
	})

	t.Run("read-only flag is unknown", func(t *testing.T) {
		testutil.RequireTools(t, "blockdev")
		ro := diskfixture.Loop(t, diskfixture.Sparse(t, dir, "ro.img", 8<<20))
		diskfixture.Run(t, nil, "blockdev", "--setro", ro)
		rep := p.Probe(context.Background(), ro)
		if rep.Verdict != Unknown || len(rep.Unknown) != 1 || rep.Unknown[0].Voter != VoterKernel {
			t.Errorf("read-only device: %s, unknown %+v; want unknown from the kernel voter", rep.Verdict, rep.Unknown)
		}
	})
}
