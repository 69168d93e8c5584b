//go:build linux

package collector

import (
	"syscall"
	"unsafe"
)

// readSensorFileRaw opens, reads once and closes a sysfs attribute without
// allocating: the path is pre-terminated (sensorFile.z) and the read goes into
// the caller's buffer. One raw read matters for hwmon: some drivers return
// EAGAIN/EIO/ENODATA, and a retrying reader (os.ReadFile) could spin; a value
// that cannot be read in one go is reported as unreadable and the sensor is
// dropped from that sample (node_exporter's hwmon collector does the same).
func readSensorFileRaw(f *sensorFile, buf []byte) (int, error) {
	fd, _, errno := syscall.Syscall6(syscall.SYS_OPENAT, atFDCWD,
		uintptr(unsafe.Pointer(&f.z[0])), uintptr(syscall.O_RDONLY|syscall.O_CLOEXEC), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	n, err := syscall.Read(int(fd), buf)
	_ = syscall.Close(int(fd))
	if err != nil {
		return 0, err
	}
	return n, nil
}

// atFDCWD is AT_FDCWD (-100) as the unsigned word the syscall takes.
const atFDCWD = ^uintptr(99)
