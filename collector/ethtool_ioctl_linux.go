//go:build linux

package collector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/shakedown/shakedown/collector/tool"
)

// ioctlEthtool answers ethtool's questions with the SIOCETHTOOL ioctls
// ethtool itself uses (include/uapi/linux/ethtool.h): ETHTOOL_GLINKSETTINGS
// (ETHTOOL_GSET on drivers without it) and ETHTOOL_GLINK for `ethtool IFACE`,
// ETHTOOL_GDRVINFO for `ethtool -i`, ETHTOOL_GPERMADDR for `ethtool -P`.
// One datagram socket serves every interface. A link mode bit newer than
// linkModeSpeeds knows makes it ask the ethtool program (fallback) for that
// interface's settings, so the maximum speed is never guessed.
type ioctlEthtool struct {
	sock     ethtoolSock
	fallback tool.Runner // nil: no fallback, the settings stay unknown
}

// ethtoolSock is the socket the SIOCETHTOOL ioctls go through.
type ethtoolSock struct{ fd int }

func newIoctlEthtool(fallback tool.Runner) (*ioctlEthtool, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open socket for SIOCETHTOOL: %w", err)
	}
	return &ioctlEthtool{sock: ethtoolSock{fd: fd}, fallback: fallback}, nil
}

func (e *ioctlEthtool) close() { unix.Close(e.sock.fd) }

// ifreqData is struct ifreq with its union holding a pointer (ifr_data).
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

// do runs SIOCETHTOOL on name with buf as the ethtool command
// structure (its first 4 bytes are the command number). buf must be
// []uint32-backed memory (aligned for the kernel's structures).
func (e ethtoolSock) do(name string, buf []byte) error {
	if len(name) >= unix.IFNAMSIZ {
		return fmt.Errorf("interface name %q: %w", name, unix.EINVAL)
	}
	var ifr ifreqData
	copy(ifr.name[:], name)
	ifr.data = unsafe.Pointer(&buf[0])
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(e.fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
		return errno
	}
	return nil
}

// alignedBuf returns n zero bytes backed by a []uint32.
func alignedBuf(n int) []byte {
	w := make([]uint32, (n+3)/4)
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), n)
}

func (e *ioctlEthtool) query(ctx context.Context, name string, perm bool) ethtoolAnswers {
	var a ethtoolAnswers
	s, err := linkSettingsIoctl(e.sock, name)
	switch {
	case errors.Is(err, errUnknownLinkMode) && e.fallback != nil:
		fb := runnerEthtool{tools: e.fallback}.query(ctx, name, false)
		a.settings, a.settingsErr = fb.settings, fb.settingsErr
	case err != nil:
		a.settingsErr = err
	default:
		a.settings = &s
	}
	if d, err := unix.IoctlGetEthtoolDrvinfo(e.sock.fd, name); err == nil {
		a.driver = &ethtoolDriverInfo{
			Driver:   unix.ByteSliceToString(d.Driver[:]),
			Version:  unix.ByteSliceToString(d.Version[:]),
			Firmware: unix.ByteSliceToString(d.Fw_version[:]),
			BusInfo:  unix.ByteSliceToString(d.Bus_info[:]),
		}
	}
	if perm {
		a.permMAC = permAddrIoctl(e.sock, name)
	}
	return a
}

var errUnknownLinkMode = errors.New("link mode bit unknown to this build")

// linkSettingsIoctl reads what `ethtool IFACE` shows of the link: supported
// modes (maximum speed), speed, duplex and link detected.
func linkSettingsIoctl(fd ethtoolSock, name string) (ethtoolSettings, error) {
	var s ethtoolSettings
	// ETHTOOL_GLINK: struct ethtool_value {u32 cmd; u32 data}.
	v := alignedBuf(8)
	binary.NativeEndian.PutUint32(v, unix.ETHTOOL_GLINK)
	glinkErr := fd.do(name, v)
	if glinkErr == nil {
		s.LinkDetected = ptr(binary.NativeEndian.Uint32(v[4:]) != 0)
	}
	// ETHTOOL_GLINKSETTINGS: struct ethtool_link_settings is a 48-byte header
	// (speed at 4, duplex at 8, link_mode_masks_nwords at 15) followed by
	// three bitmaps (supported, advertising, link partner) of nwords u32 each.
	// The first call, with nwords 0, returns -nwords: the size the kernel uses.
	const hdr = 48
	b := alignedBuf(hdr + 3*4*127)
	binary.NativeEndian.PutUint32(b, unix.ETHTOOL_GLINKSETTINGS)
	err := fd.do(name, b[:hdr])
	if err == nil && int8(b[15]) < 0 {
		n := -int(int8(b[15]))
		clear(b)
		binary.NativeEndian.PutUint32(b, unix.ETHTOOL_GLINKSETTINGS)
		b[15] = byte(n)
		if err = fd.do(name, b[:hdr+3*4*n]); err == nil {
			return s, decodeLinkSettings(&s, binary.NativeEndian.Uint32(b[4:]), b[8], b[hdr:hdr+4*n])
		}
	}
	if err == nil {
		err = errors.New("ETHTOOL_GLINKSETTINGS handshake gave no bitmap size")
	}
	if !errors.Is(err, unix.EOPNOTSUPP) {
		return s, fmt.Errorf("ETHTOOL_GLINKSETTINGS %s: %w", name, err)
	}
	// ETHTOOL_GSET (legacy): struct ethtool_cmd, 44 bytes: supported at 4,
	// speed (low 16 bits) at 12, duplex at 14, speed_hi at 28.
	c := alignedBuf(44)
	binary.NativeEndian.PutUint32(c, unix.ETHTOOL_GSET)
	if err := fd.do(name, c); err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) && glinkErr == nil {
			return s, nil // ethtool shows only "Link detected"
		}
		return s, fmt.Errorf("ETHTOOL_GSET %s: %w", name, err)
	}
	speed := uint32(binary.NativeEndian.Uint16(c[12:])) | uint32(binary.NativeEndian.Uint16(c[28:]))<<16
	return s, decodeLinkSettings(&s, speed, c[14], c[4:8])
}

// decodeLinkSettings fills s from the kernel's speed (Mb/s; 0, 0xffff and
// 0xffffffff are SPEED_UNKNOWN as ethtool reads them), duplex (0 half, 1
// full, else unknown) and supported-modes bitmap (host-endian u32 words).
func decodeLinkSettings(s *ethtoolSettings, speed uint32, duplex byte, supported []byte) error {
	if speed != 0 && speed != 0xffff && speed != 0xffffffff && speed <= 1<<31-1 {
		s.SpeedMbps = ptr(int(speed))
	}
	switch duplex {
	case 0:
		s.Duplex = "half"
	case 1:
		s.Duplex = "full"
	}
	for w := 0; w+4 <= len(supported); w += 4 {
		word := binary.NativeEndian.Uint32(supported[w:])
		for bit := 0; bit < 32; bit++ {
			if word&(1<<bit) == 0 {
				continue
			}
			i := w/4*32 + bit
			if i >= len(linkModeNames) {
				return fmt.Errorf("supported link mode bit %d: %w", i, errUnknownLinkMode)
			}
			if m := linkModeNames[i]; strings.Contains(m, "base") {
				s.SupportedModes = append(s.SupportedModes, m)
				if n := linkModeSpeed(m); n > 0 && (s.MaxSpeedMbps == nil || n > *s.MaxSpeedMbps) {
					s.MaxSpeedMbps = ptr(n)
				}
			}
		}
	}
	return nil
}

// permAddrIoctl reads the permanent hardware address (ETHTOOL_GPERMADDR:
// struct ethtool_perm_addr {u32 cmd; u32 size; u8 data[size]}); "" when
// unknown, as ethtool -P output parses.
func permAddrIoctl(fd ethtoolSock, name string) string {
	const maxAddrLen = 32
	b := alignedBuf(8 + maxAddrLen)
	binary.NativeEndian.PutUint32(b, unix.ETHTOOL_GPERMADDR)
	binary.NativeEndian.PutUint32(b[4:], maxAddrLen)
	if fd.do(name, b) != nil {
		return ""
	}
	n := min(int(binary.NativeEndian.Uint32(b[4:])), maxAddrLen)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("%02x", b[8+i])
	}
	return normMAC(strings.Join(parts, ":"))
}
