package stage

// Threshold is one pass/fail limit used by stages. Defaults live here, in one
// place; the agent config (thresholds:) overrides them for every host and the
// host's expected spec (thresholds:) overrides them for that host.
// `shakedown-agent spec defaults` prints this table.
type Threshold struct {
	Name    string
	Kind    Kind
	Default string
	Unit    string
	Help    string
}

// Thresholds is the table of every threshold and its default.
var Thresholds = []Threshold{
	{"max_temp_c", KindFloat, "90", "°C", "CPUStress/PSU: every thermal sample (CPU package, DIMM, board sensors) must stay below this"},
	{"disk_max_temp_c", KindFloat, "70", "°C", "SMART: a disk reporting a temperature at or above this is a failure"},
	{"gpu_max_temp_c", KindFloat, "90", "°C", "GPU: GPU core temperature must stay below this during the burn"},
	{"smart_reallocated_max", KindInt, "0", "sectors", "SMART: reallocated sectors (SATA attr 5) above this fail the disk"},
	{"smart_pending_max", KindInt, "0", "sectors", "SMART: pending (197) and offline-uncorrectable (198) sectors above this fail the disk"},
	{"nvme_percent_used_max", KindInt, "90", "%", "SMART: NVMe percentage used at or above this fails the disk"},
	{"nvme_media_errors_max", KindInt, "0", "errors", "SMART: NVMe media and data integrity errors above this fail the disk"},
	{"fio_iops_floor_nvme", KindFloat, "50000", "IOPS", "Storage: fio 4k randrw total IOPS floor for NVMe disks"},
	{"fio_iops_floor_ssd", KindFloat, "10000", "IOPS", "Storage: fio 4k randrw total IOPS floor for SATA/SAS SSDs"},
	{"fio_iops_floor_hdd", KindFloat, "100", "IOPS", "Storage: fio 4k randrw total IOPS floor for spinning disks"},
	{"fio_p99_ms_max", KindFloat, "0", "ms", "Storage: fio p99 completion latency ceiling (0 = not checked)"},
	{"network_floor_fraction", KindFloat, "0.9", "of link speed", "Network: iperf3 throughput must reach this fraction of the NIC's negotiated speed"},
	{"network_floor_mbps", KindFloat, "0", "Mbit/s", "Network: absolute throughput floor, used when the NIC's speed is unknown (0 = use the fraction only)"},
	{"psu_dip_percent", KindFloat, "5", "%", "PSU: no voltage rail may dip more than this below its nominal value under load"},
}

// ThresholdDefaults returns the defaults as a Params map.
func ThresholdDefaults() Params {
	p := Params{}
	for _, t := range Thresholds {
		p[t.Name] = t.Default
	}
	return p
}

// LookupThreshold finds a threshold definition by name.
func LookupThreshold(name string) (Threshold, bool) {
	for _, t := range Thresholds {
		if t.Name == name {
			return t, true
		}
	}
	return Threshold{}, false
}
