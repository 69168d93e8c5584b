package collector

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// parseUdevDB parses a udev database record (/run/udev/data/b<maj>:<min>):
// lines "E:KEY=VALUE" are properties; "S:", "L:", "W:", "I:", "G:", "Q:", "V:"
// and anything else are ignored. It returns the properties; an empty map for a
// record with none.
func parseUdevDB(r io.Reader) (map[string]string, error) {
	props := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20) // grows for a longer line
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "E:") {
			continue
		}
		k, v, ok := strings.Cut(line[2:], "=")
		if !ok || k == "" {
			continue
		}
		props[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse udev record: %w", err)
	}
	return props, nil
}

// udevUnescape decodes udev's \xNN escapes (ID_MODEL_ENC, ID_VENDOR_ENC).
func udevUnescape(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// udevIdentity extracts disk identity from udev properties.
type udevIdentity struct {
	Vendor, Model, Serial, WWN, Firmware, Bus, Path string
}

func identityFromUdev(p map[string]string) udevIdentity {
	id := udevIdentity{
		Serial:   cleanID(p["ID_SERIAL_SHORT"]),
		Firmware: cleanID(p["ID_REVISION"]),
		Bus:      p["ID_BUS"],
		Path:     p["ID_PATH"],
	}
	if v := p["ID_MODEL_ENC"]; v != "" {
		id.Model = cleanID(udevUnescape(v))
	} else {
		id.Model = cleanID(p["ID_MODEL"])
	}
	if v := p["ID_VENDOR_ENC"]; v != "" {
		id.Vendor = cleanID(udevUnescape(v))
	} else {
		id.Vendor = cleanID(p["ID_VENDOR"])
	}
	if v := p["ID_WWN_WITH_EXTENSION"]; v != "" {
		id.WWN = strings.ToLower(v)
	} else {
		id.WWN = strings.ToLower(p["ID_WWN"])
	}
	return id
}
