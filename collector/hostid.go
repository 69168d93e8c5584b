package collector

import (
	"sort"
	"strings"
)

// HostID picks the host identity used for the bucket layout (brief §4): the DMI
// system UUID, else the chassis serial, else the board serial, else the lowest
// permanent MAC of a physical NIC, else the host name. Firmware placeholders
// ("Not Settable", all-zero or all-F UUIDs, "To be filled by O.E.M.") are ignored.
func HostID(inv *Inventory) (id, source string) {
	if s := inv.System; s != nil {
		if u := normUUID(s.UUID); u != "" {
			return u, "dmi-uuid"
		}
		if !isJunkID(s.ChassisSerial) {
			return s.ChassisSerial, "chassis-serial"
		}
		if !isJunkID(s.BoardSerial) {
			return s.BoardSerial, "board-serial"
		}
	}
	var macs []string
	for _, n := range inv.NICs {
		if m := normMAC(n.PermanentMAC); m != "" {
			macs = append(macs, m)
		}
	}
	if len(macs) > 0 {
		sort.Strings(macs)
		return macs[0], "mac"
	}
	if inv.Hostname != "" {
		return inv.Hostname, "hostname"
	}
	return "", ""
}

// normUUID returns the lower-case UUID, or "" for junk (all 0, all F, not 32 hex digits).
func normUUID(s string) string {
	u := strings.ToLower(strings.TrimSpace(s))
	hex := strings.ReplaceAll(u, "-", "")
	if len(hex) != 32 || strings.Trim(hex, "0123456789abcdef") != "" {
		return ""
	}
	if strings.Trim(hex, "0") == "" || strings.Trim(hex, "f") == "" {
		return ""
	}
	// Some firmware repeats one byte pattern (03000200-0400-0500-0006-000700080009
	// is the well-known AMI placeholder).
	if hex == "03000200040005000006000700080009" {
		return ""
	}
	return u
}

// normMAC returns a lower-case MAC, or "" for absent/all-zero/broadcast ones.
func normMAC(s string) string {
	m := strings.ToLower(strings.TrimSpace(s))
	if len(m) != 17 {
		return ""
	}
	if m == "00:00:00:00:00:00" || m == "ff:ff:ff:ff:ff:ff" {
		return ""
	}
	return m
}

var junkIDs = []string{
	"", "none", "n/a", "na", "null", "unknown", "not specified", "not settable",
	"not applicable", "not available", "not present", "default string", "system serial number",
	"chassis serial number", "base board serial number", "to be filled by o.e.m.",
	"to be filled by oem", "o.e.m.", "oem", "0", "00000000", "0123456789", "1234567890",
	"123456789", "serial", "xxxxxxxxxx", "empty", "invalid", "no asset tag", "asset-1234567890",
}

// isJunkID reports whether a firmware identity string is a placeholder.
func isJunkID(s string) bool {
	v := strings.ToLower(cleanID(s))
	for _, j := range junkIDs {
		if v == j {
			return true
		}
	}
	if strings.Trim(v, "0 .-") == "" || strings.Trim(v, "f") == "" || strings.Trim(v, "x") == "" {
		return true
	}
	return false
}
