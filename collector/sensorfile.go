package collector

import (
	"bytes"
	"strings"
)

// sensorFile is one sysfs attribute the sensor readers re-read on every sample.
// z is the path NUL-terminated once at scan time, so the Linux reader can open
// it without allocating (the sidecar samples every 5 s for hours).
type sensorFile struct {
	path string
	z    []byte
}

func newSensorFile(path string) sensorFile {
	z := make([]byte, len(path)+1)
	copy(z, path)
	return sensorFile{path: path, z: z}
}

// sensorReadFunc reads one sysfs attribute into buf with a single read and
// returns the byte count. It is a variable on the sampler so tests can inject
// EIO/ENODATA, which plain files cannot produce.
type sensorReadFunc func(f *sensorFile, buf []byte) (int, error)

// sensorBufSize is enough for any one-value hwmon/thermal/EDAC attribute
// (EDAC labels are at most 31 bytes, hwmon labels a few dozen; values are one
// integer). A longer file is truncated, never read in a loop.
const sensorBufSize = 256

// parseSensorInt parses a sysfs integer ("49850\n", "-1250", "+5") without
// allocating. Leading and trailing ASCII white space and NULs are ignored;
// anything else that is not a digit makes ok false. Overflow makes ok false.
func parseSensorInt(b []byte) (v int64, ok bool) {
	b = trimSensorSpace(b)
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if u > (1<<63-d)/10 { // u*10+d would exceed 1<<63
			return 0, false
		}
		u = u*10 + d
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

func trimSensorSpace(b []byte) []byte {
	for len(b) > 0 && isSensorSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && isSensorSpace(b[0]) {
		b = b[1:]
	}
	return b
}

func isSensorSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == 0
}

// readSensorString reads a short text attribute (name, label, type) with the
// given reader; ok is false when it cannot be read.
func readSensorString(read sensorReadFunc, path string) (string, bool) {
	f := newSensorFile(path)
	var buf [sensorBufSize]byte
	n, err := read(&f, buf[:])
	if err != nil {
		return "", false
	}
	s := string(bytes.TrimRight(trimSensorSpace(buf[:n]), "\x00"))
	return strings.TrimSpace(s), true
}

// readSensorInt reads a one-integer attribute with the given reader.
func readSensorInt(read sensorReadFunc, path string) (int64, bool) {
	f := newSensorFile(path)
	var buf [sensorBufSize]byte
	n, err := read(&f, buf[:])
	if err != nil {
		return 0, false
	}
	return parseSensorInt(buf[:n])
}
