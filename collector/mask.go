package collector

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// masker replaces identity values (serials, UUIDs, WWN/EUI/NGUID, MACs, the
// host name) in captured files with fakes of the same length and shape: the
// same value always gets the same fake (for one key), digits stay digits,
// hex stays hex, case is kept, MACs keep their vendor OUI. Equal lengths keep
// binary files such as the SMBIOS table valid.
type masker struct {
	key   []byte
	pairs [][2][]byte // original → fake, longest first
	host  string
}

// minSubstring is the shortest value replaced wherever it occurs; shorter
// ones are only replaced as the whole content of an identity file, so a
// serial like "1234" cannot rewrite unrelated numbers.
const minSubstring = 6

func newMasker(inv *Inventory, key string, smbiosTable []byte) *masker {
	if key == "" {
		key = "shakedown-mask:" + inv.HostID
	}
	m := &masker{key: []byte(key), host: inv.Hostname}
	var serials, hexIDs, uuids, macs []string
	if s := inv.System; s != nil {
		serials = append(serials, s.Serial, s.BoardSerial, s.ChassisSerial, s.ChassisAssetTag)
		uuids = append(uuids, s.UUID)
	}
	if mem := inv.Memory; mem != nil {
		for _, d := range mem.DIMMs {
			serials = append(serials, d.Serial)
		}
	}
	for _, d := range inv.Disks {
		serials = append(serials, d.Serial)
		hexIDs = append(hexIDs, d.WWN, d.EUI64, d.NGUID)
	}
	for _, n := range inv.NICs {
		macs = append(macs, n.MAC, n.PermanentMAC)
	}
	for _, g := range inv.GPUs {
		serials = append(serials, g.Serial)
		uuids = append(uuids, strings.TrimPrefix(g.UUID, "GPU-"))
	}
	if len(smbiosTable) > 0 {
		serials = append(serials, smbiosSecrets(smbiosTable)...)
	}
	seen := map[string]bool{}
	add := func(orig, fake string) {
		if len(orig) < minSubstring || orig == fake || seen[orig] {
			return
		}
		seen[orig] = true
		m.pairs = append(m.pairs, [2][]byte{[]byte(orig), []byte(fake)})
	}
	for _, s := range serials {
		if isJunkID(s) {
			continue
		}
		f := m.fake(s)
		add(s, f)
		add(strings.ToUpper(s), strings.ToUpper(f))
		add(hex.EncodeToString([]byte(s)), hex.EncodeToString([]byte(f)))
		add(strings.ToUpper(hex.EncodeToString([]byte(s))), strings.ToUpper(hex.EncodeToString([]byte(f))))
	}
	for _, h := range hexIDs {
		body := normHexID(strings.TrimPrefix(strings.TrimPrefix(h, "naa."), "eui."))
		if body == "" {
			continue
		}
		f := m.fake(body)
		add(body, f)
		add(strings.ToUpper(body), strings.ToUpper(f))
		add(spacedHex(body), spacedHex(f))
		if len(body) == 32 {
			add(dashedUUID(body), dashedUUID(f))
		}
	}
	for _, u := range uuids {
		u = strings.ToLower(u)
		if normUUID(u) == "" {
			continue
		}
		f := m.fake(u)
		add(u, f)
		add(strings.ToUpper(u), strings.ToUpper(f))
		if b, ok := uuidBytes(u); ok {
			if fb, ok := uuidBytes(f); ok {
				add(string(b), string(fb))
			}
		}
	}
	for _, mac := range macs {
		if mac = normMAC(mac); mac == "" {
			continue
		}
		f := mac[:9] + m.fake(mac[9:])
		add(mac, f)
		add(strings.ToUpper(mac), strings.ToUpper(f))
		add(strings.ReplaceAll(mac, ":", ""), strings.ReplaceAll(f, ":", ""))
	}
	sort.SliceStable(m.pairs, func(i, j int) bool { return len(m.pairs[i][0]) > len(m.pairs[j][0]) })
	return m
}

// fake maps s to a same-shaped value derived from an HMAC of s.
func (m *masker) fake(s string) string {
	mac := hmac.New(sha256.New, m.key)
	mac.Write([]byte(s))
	stream := mac.Sum(nil)
	for len(stream) < len(s) {
		mac.Write(stream)
		stream = mac.Sum(stream)
	}
	hexOnly := isHex([]byte(strings.NewReplacer(":", "", "-", "", " ", "", ".", "").Replace(s)))
	out := []byte(s)
	for i := range out {
		r := stream[i]
		c := out[i]
		switch {
		case c >= '0' && c <= '9':
			out[i] = '0' + r%10
		case hexOnly && c >= 'a' && c <= 'f':
			out[i] = "0123456789abcdef"[r%16]
		case hexOnly && c >= 'A' && c <= 'F':
			out[i] = "0123456789ABCDEF"[r%16]
		case c >= 'a' && c <= 'z':
			out[i] = 'a' + r%26
		case c >= 'A' && c <= 'Z':
			out[i] = 'A' + r%26
		}
	}
	return string(out)
}

// identityFiles hold one identity value each; whatever they hold is masked
// even when no probe reported it (or it is too short to replace elsewhere).
var identityFiles = []string{
	"/product_serial", "/product_uuid", "/board_serial", "/chassis_serial", "/chassis_asset_tag",
	"/serial", "/address", "/wwid", "/eui", "/nguid", "/uuid", "/vpd_pg80", "/vpd_pg83",
}

// apply masks every file in place and returns how many files changed.
func (m *masker) apply(files map[string][]byte) int {
	changed := 0
	for p, b := range files {
		orig := b
		for _, pr := range m.pairs {
			if bytes.Contains(b, pr[0]) {
				b = bytes.ReplaceAll(b, pr[0], pr[1])
			}
		}
		if bytes.Equal(b, orig) {
			for _, suf := range identityFiles {
				if strings.HasSuffix(p, suf) {
					v := strings.TrimRight(string(b), "\n\x00")
					if strings.TrimSpace(v) != "" && !isJunkID(v) {
						b = []byte(m.fake(v) + string(b[len(v):]))
					}
					break
				}
			}
		}
		if p == "/proc/sys/kernel/hostname" && m.host != "" {
			b = []byte("masked-host\n")
		}
		if !bytes.Equal(b, orig) {
			files[p] = b
			changed++
		}
	}
	return changed
}

func spacedHex(h string) string {
	var parts []string
	for i := 0; i+2 <= len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, " ")
}

func dashedUUID(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// smbiosSecrets lists the serial-number and asset-tag strings of an SMBIOS
// table (system, boards, chassis, processors, memory devices, power supplies).
func smbiosSecrets(table []byte) []string {
	ss, err := parseSMBIOSStructs(table)
	if err != nil {
		return nil
	}
	fields := map[uint8][]int{
		1: {0x07}, 2: {0x07, 0x08}, 3: {0x07, 0x08}, 4: {0x20, 0x21},
		17: {0x18, 0x19}, 39: {0x07, 0x08},
	}
	var out []string
	for _, s := range ss {
		for _, off := range fields[s.s.Header.Type] {
			if v := s.str(off); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}
