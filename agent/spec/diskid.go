package spec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shakedown/shakedown/collector"
)

// Disk identity (docs/disks notes §4.6): a disk is matched by a world-wide
// identifier (WWN, NVMe EUI-64 or NGUID) when both sides have one, else by
// vendor+model+serial, all three non-empty. Never by kernel name (sda, nvme0n1)
// or by-path: both change across reboots and hardware changes.

// Normalize trims ASCII whitespace and NUL bytes from both ends of s. Drives
// pad their identity strings (NVMe with spaces, SCSI VPD serials are
// right-aligned, some firmware pads with NULs). Case is kept: serials are
// compared exactly. Bytes that are not UTF-8 become U+FFFD, so that a value
// can be written in a spec file (YAML is UTF-8) and still match.
func Normalize(s string) string {
	return strings.Trim(strings.ToValidUTF8(s, "\uFFFD"), " \t\r\n\v\f\x00")
}

// DiskIdentity is how an operator (the expected spec, an override) names a disk.
type DiskIdentity struct {
	WWN    string `json:"wwn,omitempty" yaml:"wwn,omitempty"`
	EUI64  string `json:"eui64,omitempty" yaml:"eui64,omitempty"`
	NGUID  string `json:"nguid,omitempty" yaml:"nguid,omitempty"`
	Vendor string `json:"vendor,omitempty" yaml:"vendor,omitempty"`
	Model  string `json:"model,omitempty" yaml:"model,omitempty"`
	Serial string `json:"serial,omitempty" yaml:"serial,omitempty"`
}

// IdentityOf returns the identity the collector found for d, normalised.
func IdentityOf(d collector.Disk) DiskIdentity {
	return DiskIdentity{
		WWN: d.WWN, EUI64: d.EUI64, NGUID: d.NGUID,
		Vendor: d.Vendor, Model: d.Model, Serial: d.Serial,
	}.normalized()
}

func (id DiskIdentity) normalized() DiskIdentity {
	return DiskIdentity{
		WWN:    canonID(id.WWN, "naa."),
		EUI64:  canonID(id.EUI64, "eui."),
		NGUID:  canonID(id.NGUID, "eui."),
		Vendor: Normalize(id.Vendor),
		Model:  Normalize(id.Model),
		Serial: Normalize(id.Serial),
	}
}

// canonID turns a world-wide identifier into a comparable form. Hex
// identifiers ("0x5000C500A1B2C3D4", "naa.5000c500a1b2c3d4", "eui.0025…",
// "00 25 38 5b 71 b0 29 b9", "e8238fa6-bf53-0001-001b-448b4a1cc8b1") become
// lower-case hex digits without prefix or separators. An all-zero identifier
// is absent: NVMe namespaces that do not implement EUI-64/NGUID report zeros.
// Anything that is not hex (a synthetic "nvme.1e0f-..." wwid, say) is kept as
// normalised text, lower-cased.
func canonID(s, prefix string) string {
	t := strings.ToLower(Normalize(s))
	if t == "" {
		return ""
	}
	for prev := ""; prev != t; {
		prev = t
		t = Normalize(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(t, "0x"), prefix), "eui."))
	}
	if t == "" {
		return ""
	}
	hex := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', ':', '_':
			return -1
		}
		return r
	}, t)
	allHex, allZero := hex != "", true
	for _, r := range hex {
		switch {
		case r == '0':
		case (r >= '0' && r <= '9') || (r >= 'a' && r <= 'f'):
			allZero = false
		default:
			allHex = false
		}
	}
	if !allHex {
		return t
	}
	if allZero {
		return ""
	}
	return hex
}

// IsZero reports whether id has nothing that could ever match a disk.
func (id DiskIdentity) IsZero() bool {
	n := id.normalized()
	return n.WWN == "" && n.EUI64 == "" && n.NGUID == "" && !n.hasSerialTriple()
}

func (id DiskIdentity) hasSerialTriple() bool {
	return id.Vendor != "" && id.Model != "" && id.Serial != ""
}

// String is the canonical text an operator types to name a disk, e.g.
// "wwn:0x5000c500a1b2c3d4", "eui:0025385b71b029b9",
// "nguid:e8238fa6bf530001001b448b4a1cc8b1" or "serial:ATA/ST4000NM0035/ZC1A2B3C".
// The strongest identifier wins. "/" and "%" inside vendor, model or serial are
// written as %2F and %25. An identity with nothing usable is "none".
func (id DiskIdentity) String() string {
	n := id.normalized()
	switch {
	case n.WWN != "":
		if isHex(n.WWN) {
			return "wwn:0x" + n.WWN
		}
		return "wwn:" + n.WWN
	case n.EUI64 != "":
		return "eui:" + n.EUI64
	case n.NGUID != "":
		return "nguid:" + n.NGUID
	case n.hasSerialTriple():
		return "serial:" + escapePart(n.Vendor) + "/" + escapePart(n.Model) + "/" + escapePart(n.Serial)
	}
	return "none"
}

func isHex(s string) bool {
	for _, r := range s {
		if !((r >= '0' && r <= '9') || (r >= 'a' && r <= 'f')) {
			return false
		}
	}
	return s != ""
}

var partEscaper = strings.NewReplacer("%", "%25", "/", "%2F")
var partUnescaper = strings.NewReplacer("%25", "%", "%2F", "/", "%2f", "/")

func escapePart(s string) string { return partEscaper.Replace(s) }

// ParseIdentity reads the text String writes. It is what an operator types to
// name one disk in an override.
func ParseIdentity(s string) (DiskIdentity, error) {
	kind, val, ok := strings.Cut(Normalize(s), ":")
	if !ok || Normalize(val) == "" {
		return DiskIdentity{}, fmt.Errorf("disk identity %q: write wwn:0x…, eui:…, nguid:… or serial:VENDOR/MODEL/SERIAL", s)
	}
	var id DiskIdentity
	switch strings.ToLower(kind) {
	case "wwn":
		id.WWN = val
	case "eui", "eui64":
		id.EUI64 = val
	case "nguid":
		id.NGUID = val
	case "serial":
		parts := strings.Split(val, "/")
		if len(parts) != 3 {
			return DiskIdentity{}, fmt.Errorf("disk identity %q: serial needs VENDOR/MODEL/SERIAL (write / inside a value as %%2F)", s)
		}
		id.Vendor, id.Model, id.Serial = partUnescaper.Replace(parts[0]), partUnescaper.Replace(parts[1]), partUnescaper.Replace(parts[2])
		if !id.normalized().hasSerialTriple() {
			return DiskIdentity{}, fmt.Errorf("disk identity %q: vendor, model and serial must all be non-empty", s)
		}
	default:
		return DiskIdentity{}, fmt.Errorf("disk identity %q: unknown kind %q (use wwn, eui, nguid or serial)", s, kind)
	}
	if id.IsZero() {
		return DiskIdentity{}, fmt.Errorf("disk identity %q: an all-zero identifier names no disk", s)
	}
	return id, nil
}

// MatchIdentity reports whether two identities name the same disk. World-wide
// identifiers decide when both sides have the same kind: any such kind that
// disagrees is a mismatch, and one that agrees is a match. Only when no kind is
// shared do vendor, model and serial decide, and then all three must be
// non-empty on both sides and equal. Empty never matches.
func MatchIdentity(want, have DiskIdentity) bool {
	w, h := want.normalized(), have.normalized()
	shared, agree := 0, 0
	for _, p := range [][2]string{{w.WWN, h.WWN}, {w.EUI64, h.EUI64}, {w.NGUID, h.NGUID}} {
		if p[0] == "" || p[1] == "" {
			continue
		}
		shared++
		if p[0] == p[1] {
			agree++
		}
	}
	if shared > 0 {
		return agree == shared
	}
	return w.hasSerialTriple() && h.hasSerialTriple() &&
		w.Vendor == h.Vendor && w.Model == h.Model && w.Serial == h.Serial
}

// Matches reports whether disk d is the disk want names (see MatchIdentity).
func Matches(want DiskIdentity, d collector.Disk) bool {
	return MatchIdentity(want, IdentityOf(d))
}

// Pair is one expected disk bound to the device that has its identity.
type Pair struct {
	Want int // index into the expected list
	Have int // index into the found list
	Disk collector.Disk
}

// Duplicate is one identity seen on more than one device: multipath, or two
// loop devices over one file. Testing either would test the same disk twice
// and a wipe could hit a disk through a path nobody checked: halt.
type Duplicate struct {
	Want     int // index into the expected list, -1 when the identity was not expected
	Identity string
	Have     []int // indices into the found list, two or more
}

// Conflict is one device that more than one expected entry matches (the spec
// names one disk twice, e.g. by WWN and by serial).
type Conflict struct {
	Have int
	Want []int
}

// Matching is the one-to-one binding of expected disks to found devices.
type Matching struct {
	Pairs      []Pair
	Missing    []int // expected entries no device matched
	Unexpected []int // found devices no expected entry matched
	Duplicates []Duplicate
	Conflicts  []Conflict
}

// OK reports whether every expected disk is bound to exactly one device and
// every device to exactly one expected disk.
func (m Matching) OK() bool {
	return len(m.Missing) == 0 && len(m.Unexpected) == 0 && len(m.Duplicates) == 0 && len(m.Conflicts) == 0
}

// PairFor returns the pair of expected entry i, if it was bound.
func (m Matching) PairFor(want int) (Pair, bool) {
	for _, p := range m.Pairs {
		if p.Want == want {
			return p, true
		}
	}
	return Pair{}, false
}

// MatchDisks binds expected identities to found devices one-to-one. An
// expected entry matching two devices is a Duplicate (neither is paired); a
// device matched by two entries is a Conflict (neither entry is paired). Found
// devices that share one identity but were not expected are Duplicates too,
// with Want -1. Devices with no usable identity are always Unexpected.
func MatchDisks(want []DiskIdentity, have []collector.Disk) Matching {
	var m Matching
	haveIDs := make([]DiskIdentity, len(have))
	for j, d := range have {
		haveIDs[j] = IdentityOf(d)
	}
	claimed := make([]bool, len(have))
	byHave := map[int][]int{} // have -> wants with exactly one candidate
	for i, w := range want {
		var cands []int
		for j := range have {
			if MatchIdentity(w, haveIDs[j]) {
				cands = append(cands, j)
				claimed[j] = true
			}
		}
		switch len(cands) {
		case 0:
			m.Missing = append(m.Missing, i)
		case 1:
			byHave[cands[0]] = append(byHave[cands[0]], i)
		default:
			m.Duplicates = append(m.Duplicates, Duplicate{Want: i, Identity: w.String(), Have: cands})
		}
	}
	for j := range have {
		ws := byHave[j]
		switch {
		case len(ws) == 1:
			m.Pairs = append(m.Pairs, Pair{Want: ws[0], Have: j, Disk: have[j]})
		case len(ws) > 1:
			m.Conflicts = append(m.Conflicts, Conflict{Have: j, Want: ws})
		}
	}
	sort.Slice(m.Pairs, func(a, b int) bool { return m.Pairs[a].Want < m.Pairs[b].Want })
	// Unexpected devices, and identities repeated among them.
	groups := map[string][]int{}
	var order []string
	for j := range have {
		if claimed[j] {
			continue
		}
		m.Unexpected = append(m.Unexpected, j)
		key := haveIDs[j].String()
		if key == "none" {
			continue
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], j)
	}
	for _, k := range order {
		if len(groups[k]) > 1 {
			m.Duplicates = append(m.Duplicates, Duplicate{Want: -1, Identity: k, Have: groups[k]})
		}
	}
	return m
}
