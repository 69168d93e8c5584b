//go:build !linux

package collector

import "os"

// readSensorFileRaw reads a sysfs attribute with one read (non-Linux builds
// only exist so the package compiles; there is no sysfs there).
func readSensorFileRaw(f *sensorFile, buf []byte) (int, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	return fh.Read(buf)
}
