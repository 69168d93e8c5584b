package collector

import (
	"strconv"
	"time"
)

// SchemaVersion is the version of the Inventory JSON schema (docs/inventory.md).
// Bump it on any incompatible change.
const SchemaVersion = 1

// Inventory is everything the probes found. Optional numbers are pointers:
// nil means "could not be read", never zero. Empty strings mean absent.
type Inventory struct {
	SchemaVersion int       `json:"schema_version"`
	CollectedAt   time.Time `json:"collected_at"`
	// HostID is the host identity used for the bucket layout: DMI system UUID,
	// else chassis/board serial, else the lowest permanent MAC (brief §4).
	HostID       string `json:"host_id"`
	HostIDSource string `json:"host_id_source"` // dmi-uuid | chassis-serial | board-serial | mac | hostname
	Hostname     string `json:"hostname,omitempty"`

	System  *System     `json:"system,omitempty"`
	CPU     *CPU        `json:"cpu,omitempty"`
	Memory  *Memory     `json:"memory,omitempty"`
	Disks   []Disk      `json:"disks"`
	NICs    []NIC       `json:"nics"`
	PCI     []PCIDevice `json:"pci"`
	GPUs    []GPU       `json:"gpus"`
	NUMA    *NUMA       `json:"numa,omitempty"`
	Sensors *Sensors    `json:"sensors,omitempty"`

	// Probes says, for every probe, whether it ran, how long it took and why
	// an area is missing. A missing area is reported here, never fatal.
	Probes []ProbeStatus `json:"probes"`
}

// ProbeStatus is the outcome of one probe.
type ProbeStatus struct {
	Name       string  `json:"name"`
	OK         bool    `json:"ok"`
	NoData     bool    `json:"no_data,omitempty"` // the hardware/interface is absent
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

// System is DMI/SMBIOS identity.
type System struct {
	Vendor  string `json:"vendor,omitempty"`
	Product string `json:"product,omitempty"`
	Version string `json:"version,omitempty"`
	Serial  string `json:"serial,omitempty"`
	UUID    string `json:"uuid,omitempty"`
	SKU     string `json:"sku,omitempty"`
	Family  string `json:"family,omitempty"`

	BoardVendor  string `json:"board_vendor,omitempty"`
	BoardProduct string `json:"board_product,omitempty"`
	BoardVersion string `json:"board_version,omitempty"`
	BoardSerial  string `json:"board_serial,omitempty"`

	ChassisVendor   string `json:"chassis_vendor,omitempty"`
	ChassisType     string `json:"chassis_type,omitempty"`
	ChassisSerial   string `json:"chassis_serial,omitempty"`
	ChassisAssetTag string `json:"chassis_asset_tag,omitempty"`

	BIOSVendor  string `json:"bios_vendor,omitempty"`
	BIOSVersion string `json:"bios_version,omitempty"`
	BIOSDate    string `json:"bios_date,omitempty"`
}

// CPU summarises the processors.
type CPU struct {
	Vendor    string   `json:"vendor,omitempty"`
	Model     string   `json:"model"`
	Sockets   int      `json:"sockets"`
	Cores     int      `json:"cores"`   // physical cores, all sockets
	Threads   int      `json:"threads"` // logical CPUs online
	Flags     []string `json:"flags,omitempty"`
	Microcode string   `json:"microcode,omitempty"`
	MaxMHz    *float64 `json:"max_mhz,omitempty"`
}

// Memory is installed and usable memory plus the DIMMs SMBIOS lists.
type Memory struct {
	// TotalBytes is MemTotal from /proc/meminfo (usable by the kernel).
	TotalBytes uint64 `json:"total_bytes"`
	// InstalledBytes is the sum of populated DIMMs (nil when SMBIOS is absent).
	InstalledBytes *uint64 `json:"installed_bytes,omitempty"`
	// ECC is the SMBIOS type 16 error-correction type reduced to yes/no.
	ECC   *bool  `json:"ecc,omitempty"`
	DIMMs []DIMM `json:"dimms"`
}

// DIMM is one populated memory device (SMBIOS type 17).
type DIMM struct {
	Locator            string `json:"locator"`
	BankLocator        string `json:"bank_locator,omitempty"`
	SizeBytes          uint64 `json:"size_bytes"`
	Type               string `json:"type,omitempty"` // DDR4, DDR5, ...
	SpeedMTs           *int   `json:"speed_mts,omitempty"`
	ConfiguredSpeedMTs *int   `json:"configured_speed_mts,omitempty"`
	Manufacturer       string `json:"manufacturer,omitempty"`
	PartNumber         string `json:"part_number,omitempty"`
	Serial             string `json:"serial,omitempty"`
	// TotalWidth > DataWidth means the module carries ECC bits.
	TotalWidth *int `json:"total_width,omitempty"`
	DataWidth  *int `json:"data_width,omitempty"`
}

// Disk is one whole block device (no partitions, no loop/ram/zram).
type Disk struct {
	Name      string `json:"name"`  // kernel name, informational only: never an identity
	DevT      string `json:"dev_t"` // "major:minor" at enumeration
	SizeBytes uint64 `json:"size_bytes"`

	LogicalSectorSize  int   `json:"logical_sector_size,omitempty"`
	PhysicalSectorSize int   `json:"physical_sector_size,omitempty"`
	Rotational         *bool `json:"rotational,omitempty"`
	Removable          bool  `json:"removable,omitempty"`
	ReadOnly           bool  `json:"read_only,omitempty"`

	Transport string `json:"transport,omitempty"` // nvme | sata | sas | scsi | usb | virtio | unknown
	Class     string `json:"class,omitempty"`     // nvme | ssd | hdd (derived from transport and rotational)

	Vendor   string `json:"vendor,omitempty"`
	Model    string `json:"model,omitempty"`
	Serial   string `json:"serial,omitempty"`
	WWN      string `json:"wwn,omitempty"`
	EUI64    string `json:"eui64,omitempty"`
	NGUID    string `json:"nguid,omitempty"`
	Firmware string `json:"firmware,omitempty"`
	// IdentitySource says where the identity came from: udev | sysfs | nvme-identify | ata-identify.
	IdentitySource string `json:"identity_source,omitempty"`
}

// NIC is one network interface backed by hardware (virtual interfaces are skipped).
type NIC struct {
	Name          string `json:"name"`
	MAC           string `json:"mac"`
	PermanentMAC  string `json:"permanent_mac,omitempty"`
	Driver        string `json:"driver,omitempty"`
	DriverVersion string `json:"driver_version,omitempty"`
	Firmware      string `json:"firmware,omitempty"`
	PCIAddress    string `json:"pci_address,omitempty"`
	OperState     string `json:"oper_state,omitempty"`
	Carrier       *bool  `json:"carrier,omitempty"`
	// SpeedMbps is the negotiated speed (nil when the link is down or the driver does not say).
	SpeedMbps *int `json:"speed_mbps,omitempty"`
	// MaxSpeedMbps is the fastest supported link mode (nil when unknown).
	MaxSpeedMbps *int   `json:"max_speed_mbps,omitempty"`
	Duplex       string `json:"duplex,omitempty"`
	MTU          *int   `json:"mtu,omitempty"`
}

// PCIDevice is one PCI function with names from pci.ids.
type PCIDevice struct {
	Address   string `json:"address"`
	VendorID  string `json:"vendor_id"`
	DeviceID  string `json:"device_id"`
	Vendor    string `json:"vendor,omitempty"`
	Product   string `json:"product,omitempty"`
	ClassID   string `json:"class_id,omitempty"`
	Class     string `json:"class,omitempty"`
	Subclass  string `json:"subclass,omitempty"`
	Driver    string `json:"driver,omitempty"`
	NUMANode  *int   `json:"numa_node,omitempty"`
	LinkSpeed string `json:"link_speed,omitempty"` // current_link_speed
	LinkWidth string `json:"link_width,omitempty"` // current_link_width
	MaxSpeed  string `json:"max_link_speed,omitempty"`
	MaxWidth  string `json:"max_link_width,omitempty"`
}

// GPU is a graphics or compute accelerator.
type GPU struct {
	Index       int     `json:"index"`
	PCIAddress  string  `json:"pci_address,omitempty"`
	Vendor      string  `json:"vendor,omitempty"`
	Model       string  `json:"model,omitempty"`
	Driver      string  `json:"driver,omitempty"`
	Serial      string  `json:"serial,omitempty"`
	UUID        string  `json:"uuid,omitempty"`
	VBIOS       string  `json:"vbios,omitempty"`
	MemoryBytes *uint64 `json:"memory_bytes,omitempty"`
	Source      string  `json:"source,omitempty"` // ghw | nvidia-smi
}

// NUMA is the node topology.
type NUMA struct {
	Nodes []NUMANode `json:"nodes"`
}

// NUMANode is one NUMA node.
type NUMANode struct {
	ID          int     `json:"id"`
	CPUs        []int   `json:"cpus"`
	MemoryBytes *uint64 `json:"memory_bytes,omitempty"`
}

// Sensors is a one-shot reading of hwmon, thermal zones and EDAC.
type Sensors struct {
	Hwmon   []Sensor         `json:"hwmon"`
	Thermal []ThermalZone    `json:"thermal"`
	EDAC    []EDACController `json:"edac"`
}

// Sensor is one hwmon channel in base units (°C, V, RPM, W, A, J).
type Sensor struct {
	Chip   string   `json:"chip"`   // hwmon name file, e.g. "coretemp", "nvme"
	Device string   `json:"device"` // hwmonN
	Kind   string   `json:"kind"`   // temp | in | fan | power | curr | energy
	Index  int      `json:"index"`
	Label  string   `json:"label,omitempty"`
	Value  float64  `json:"value"`
	Unit   string   `json:"unit"`
	Min    *float64 `json:"min,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Crit   *float64 `json:"crit,omitempty"`
	Alarm  *bool    `json:"alarm,omitempty"`
}

// ID is a stable sensor name: "<chip>/<device>/<kind><index>[:label]".
func (s Sensor) ID() string {
	id := s.Chip + "/" + s.Device + "/" + s.Kind + strconv.Itoa(s.Index)
	if s.Label != "" {
		id += ":" + s.Label
	}
	return id
}

// ThermalZone is one /sys/class/thermal zone.
type ThermalZone struct {
	Name  string  `json:"name"` // thermal_zoneN
	Type  string  `json:"type"`
	TempC float64 `json:"temp_c"`
}

// EDACController is one memory controller's error counters.
type EDACController struct {
	Name     string       `json:"name"` // mc0
	Type     string       `json:"type,omitempty"`
	CE       uint64       `json:"ce_count"`
	UE       uint64       `json:"ue_count"`
	CENoInfo *uint64      `json:"ce_noinfo_count,omitempty"`
	UENoInfo *uint64      `json:"ue_noinfo_count,omitempty"`
	DIMMs    []EDACMemory `json:"dimms,omitempty"`
}

// EDACMemory is one dimmN/rankN/csrowN under a controller.
type EDACMemory struct {
	Name     string `json:"name"`            // dimm0, csrow0
	Label    string `json:"label,omitempty"` // e.g. "CPU_SrcID#0_Ha#0_Chan#0_DIMM#0"
	Location string `json:"location,omitempty"`
	SizeMB   *int   `json:"size_mb,omitempty"`
	CE       uint64 `json:"ce_count"`
	UE       uint64 `json:"ue_count"`
}
