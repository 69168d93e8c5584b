package collector

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/shakedown/shakedown/collector/tool"
)

// nicProbe fills Inventory.NICs with every interface under /sys/class/net
// that has a backing device (lo, bridges, bonds, veth, ifb and tunnels have
// none and are skipped). sysfs gives MAC, driver, PCI address, carrier,
// operstate, speed, duplex and MTU (Documentation/ABI/testing/sysfs-class-net);
// `ethtool`, `ethtool -i` and `ethtool -P` (run through Env.Tools only when
// reading the live system, or replayed from a snapshot) add the supported link
// modes (maximum speed), firmware version and permanent MAC.
type nicProbe struct{}

func init() { Register(nicProbe{}) }

func (nicProbe) Name() string { return "nics" }

func (nicProbe) Files(Env) []string {
	return []string{
		"/sys/class/net/*",
		"/sys/class/net/*/{address,addr_assign_type,carrier,operstate,speed,duplex,mtu,type}",
		"/sys/class/net/*/device",
		"/sys/class/net/*/device/driver",
	}
}

// isPCIAddr reports whether s is a PCI address as sysfs writes it
// ("0000:3b:00.0": domain of 4 to 8 hex digits, bus, device, function 0-7).
func isPCIAddr(s string) bool {
	dom, rest, ok := strings.Cut(s, ":")
	if !ok || len(dom) < 4 || len(dom) > 8 || !isLowerHex([]byte(dom)) || len(rest) != 7 {
		return false
	}
	return isLowerHex([]byte(rest[0:2])) && rest[2] == ':' && isLowerHex([]byte(rest[3:5])) && rest[5] == '.' && rest[6] >= '0' && rest[6] <= '7'
}

func (nicProbe) Collect(ctx context.Context, env Env, inv *Inventory) error {
	ents, err := os.ReadDir(env.Sys("class", "net"))
	if err != nil {
		return fmt.Errorf("list network interfaces: %w: %w", ErrNoData, err)
	}
	src, closeSrc := nicEthtoolSource(env)
	defer closeSrc()
	var names []string
	for _, e := range ents {
		if _, err := os.Lstat(env.Sys("class", "net", e.Name(), "device")); err != nil {
			continue // virtual interface
		}
		names = append(names, e.Name())
	}
	// NICs are read concurrently (each may wait on its ethtool runs), at most 8 at once.
	nics := make([]NIC, len(names))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			nics[i] = readNIC(ctx, env, name, src)
		}()
	}
	wg.Wait()
	sort.Slice(nics, func(i, j int) bool { return nics[i].Name < nics[j].Name })
	inv.NICs = nics
	return nil
}

func readNIC(ctx context.Context, env Env, name string, src ethtoolSource) NIC {
	dir := env.Sys("class", "net", name)
	n := NIC{
		Name:      name,
		MAC:       normMAC(readString(filepath.Join(dir, "address"))),
		Driver:    linkBase(filepath.Join(dir, "device", "driver")),
		OperState: readString(filepath.Join(dir, "operstate")),
	}
	if t, ok := readInt(filepath.Join(dir, "addr_assign_type")); ok && t == 0 {
		n.PermanentMAC = n.MAC // NET_ADDR_PERM: the burned-in address is in use
	}
	if c, ok := readInt(filepath.Join(dir, "carrier")); ok {
		n.Carrier = ptr(c == 1)
	}
	if s, ok := readInt(filepath.Join(dir, "speed")); ok && s > 0 {
		n.SpeedMbps = ptr(int(s))
	}
	if d := readString(filepath.Join(dir, "duplex")); d == "full" || d == "half" {
		n.Duplex = d
	}
	if m, ok := readInt(filepath.Join(dir, "mtu")); ok {
		n.MTU = ptr(int(m))
	}
	if p, err := filepath.EvalSymlinks(filepath.Join(dir, "device")); err == nil {
		for q := p; q != "/" && q != "." && len(q) > 1; q = filepath.Dir(q) {
			if isPCIAddr(filepath.Base(q)) {
				n.PCIAddress = filepath.Base(q)
				break
			}
		}
	}
	if src == nil {
		return n
	}
	a := src.query(ctx, name, n.PermanentMAC == "")
	if a.settings != nil {
		s := a.settings
		n.MaxSpeedMbps = s.MaxSpeedMbps
		if n.SpeedMbps == nil && (n.Carrier == nil || *n.Carrier) {
			n.SpeedMbps = s.SpeedMbps
		}
		if n.Duplex == "" {
			n.Duplex = s.Duplex
		}
		if n.Carrier == nil {
			n.Carrier = s.LinkDetected
		}
	} else if a.settingsErr != nil {
		env.Logger().Debug("ethtool settings unavailable", "device", name, "err", a.settingsErr)
	}
	if d := a.driver; d != nil {
		if d.Driver != "" {
			n.Driver = d.Driver
		}
		n.DriverVersion = d.Version
		n.Firmware = strings.TrimSpace(d.Firmware)
		if n.PCIAddress == "" && isPCIAddr(d.BusInfo) {
			n.PCIAddress = d.BusInfo
		}
	}
	if a.permMAC != "" {
		n.PermanentMAC = a.permMAC
	}
	return n
}

// ethtoolSource answers, for one interface, what `ethtool IFACE`,
// `ethtool -i IFACE` and (perm) `ethtool -P IFACE` say.
type ethtoolSource interface {
	query(ctx context.Context, name string, perm bool) ethtoolAnswers
}

// ethtoolAnswers are the parsed answers; nil or "" is unknown.
type ethtoolAnswers struct {
	settings    *ethtoolSettings
	settingsErr error
	driver      *ethtoolDriverInfo
	permMAC     string
}

// nicEthtoolSource picks how the NIC probe asks ethtool's questions. On the
// live system it asks the kernel directly (SIOCETHTOOL ioctls: no process
// per question, see ethtool_ioctl_linux.go), except while a snapshot is being
// recorded, where the ethtool runs themselves are what the snapshot must
// hold. A snapshot or fixture root replays its recorded ethtool outputs.
func nicEthtoolSource(env Env) (ethtoolSource, func()) {
	tools := env.hostTools()
	// Tools == nil means "ask nothing beyond the files" (as without ioctls).
	if _, recording := env.Tools.(*recorder); env.IsLiveRoot() && env.Tools != nil && !recording {
		src, err := newIoctlEthtool(tools)
		if err == nil {
			return src, src.close
		}
		env.Logger().Debug("ethtool ioctl unavailable, running ethtool", "probe", "nics", "err", err)
	}
	if tools == nil {
		return nil, func() {}
	}
	return runnerEthtool{tools: tools}, func() {}
}

// runnerEthtool runs ethtool through a tool.Runner (the live tool or a
// snapshot's replay) and parses its text output.
type runnerEthtool struct{ tools tool.Runner }

func (r runnerEthtool) query(ctx context.Context, name string, perm bool) ethtoolAnswers {
	// The three ethtool runs are independent: run them together.
	var outs [3][]byte
	var errs [3]error
	var wg sync.WaitGroup
	for i, args := range [][]string{{name}, {"-i", name}, {"-P", name}} {
		if i == 2 && !perm {
			break // addr_assign_type already says the MAC in use is the permanent one
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = runTool(ctx, r.tools, "ethtool", args...)
		}()
	}
	wg.Wait()
	var a ethtoolAnswers
	if errs[0] == nil {
		if s, err := parseEthtoolSettings(bytes.NewReader(outs[0])); err == nil {
			a.settings = &s
		} else {
			a.settingsErr = err
		}
	} else {
		a.settingsErr = errs[0]
	}
	if errs[1] == nil {
		if d, err := parseEthtoolDriverInfo(bytes.NewReader(outs[1])); err == nil {
			a.driver = &d
		}
	}
	if errs[2] == nil && outs[2] != nil {
		if m, err := parseEthtoolPermAddr(bytes.NewReader(outs[2])); err == nil {
			a.permMAC = m
		}
	}
	return a
}
