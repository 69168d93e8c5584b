package collector

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ethtoolSettings is what `ethtool IFACE` says about the link.
type ethtoolSettings struct {
	SupportedModes []string
	SpeedMbps      *int // negotiated; nil when "Unknown!"
	Duplex         string
	LinkDetected   *bool
	// MaxSpeedMbps is the fastest supported link mode; nil when none is reported.
	MaxSpeedMbps *int
}

// parseEthtoolSettings parses `ethtool IFACE` text output. Multi-line values
// (link mode lists) continue on lines without a "key:" of their own.
func parseEthtoolSettings(r io.Reader) (ethtoolSettings, error) {
	var s ethtoolSettings
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20) // grows for a longer line
	key := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "Settings for ") {
			continue
		}
		val := line
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.Contains(k, "/") {
			key, val = strings.TrimSpace(k), strings.TrimSpace(v)
		}
		switch key {
		case "Supported link modes":
			for _, m := range strings.Fields(val) {
				if strings.Contains(m, "base") {
					s.SupportedModes = append(s.SupportedModes, m)
				}
			}
		case "Speed":
			if n, err := strconv.Atoi(strings.TrimSuffix(val, "Mb/s")); err == nil && n > 0 {
				s.SpeedMbps = ptr(n)
			}
		case "Duplex":
			if v := strings.ToLower(val); v == "full" || v == "half" {
				s.Duplex = v
			}
		case "Link detected":
			switch val {
			case "yes":
				s.LinkDetected = ptr(true)
			case "no":
				s.LinkDetected = ptr(false)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("parse ethtool output: %w", err)
	}
	for _, m := range s.SupportedModes {
		if n := linkModeSpeed(m); n > 0 && (s.MaxSpeedMbps == nil || n > *s.MaxSpeedMbps) {
			s.MaxSpeedMbps = ptr(n)
		}
	}
	return s, nil
}

// linkModeSpeed returns the Mb/s of a link mode name ("10000baseT/Full" → 10000).
func linkModeSpeed(m string) int {
	i := strings.Index(m, "base")
	if i <= 0 {
		return 0
	}
	n, err := strconv.Atoi(m[:i])
	if err != nil {
		return 0
	}
	return n
}

// ethtoolDriverInfo is what `ethtool -i IFACE` says.
type ethtoolDriverInfo struct {
	Driver, Version, Firmware, BusInfo string
}

// parseEthtoolDriverInfo parses `ethtool -i IFACE` ("key: value" lines).
func parseEthtoolDriverInfo(r io.Reader) (ethtoolDriverInfo, error) {
	var d ethtoolDriverInfo
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "driver":
			d.Driver = v
		case "version":
			d.Version = v
		case "firmware-version":
			d.Firmware = v
		case "bus-info":
			d.BusInfo = v
		}
	}
	if err := sc.Err(); err != nil {
		return d, fmt.Errorf("parse ethtool -i output: %w", err)
	}
	return d, nil
}

// parseEthtoolPermAddr parses `ethtool -P IFACE` ("Permanent address: xx:..").
func parseEthtoolPermAddr(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "Permanent address" {
			return normMAC(v), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("parse ethtool -P output: %w", err)
	}
	return "", nil
}
