package collector

import (
	"context"
	"fmt"
	"strconv"
)

// dmiProbe fills Inventory.System from /sys/class/dmi/id (kernel doc:
// Documentation/ABI/testing/sysfs-class-dmi... the files are world-readable
// except the serials and product_uuid, which are root-only) and completes it
// from the SMBIOS table /sys/firmware/dmi/tables/DMI (types 0-3) when readable.
type dmiProbe struct{}

func init() { Register(dmiProbe{}) }

func (dmiProbe) Name() string { return "dmi" }

func (dmiProbe) Files(Env) []string {
	return []string{"/sys/class/dmi/id/*", "/sys/firmware/dmi/tables/smbios_entry_point", "/sys/firmware/dmi/tables/DMI"}
}

func (dmiProbe) Collect(ctx context.Context, env Env, inv *Inventory) error {
	id := func(f string) string {
		v := cleanID(readString(env.Sys("class", "dmi", "id", f)))
		if isJunkID(v) {
			return ""
		}
		return v
	}
	s := System{
		Vendor: id("sys_vendor"), Product: id("product_name"), Version: id("product_version"),
		Serial: id("product_serial"), UUID: normUUID(readString(env.Sys("class", "dmi", "id", "product_uuid"))),
		SKU: id("product_sku"), Family: id("product_family"),
		BoardVendor: id("board_vendor"), BoardProduct: id("board_name"), BoardVersion: id("board_version"),
		BoardSerial:   id("board_serial"),
		ChassisVendor: id("chassis_vendor"), ChassisSerial: id("chassis_serial"), ChassisAssetTag: id("chassis_asset_tag"),
		BIOSVendor: id("bios_vendor"), BIOSVersion: id("bios_version"), BIOSDate: id("bios_date"),
	}
	if n, err := strconv.Atoi(readString(env.Sys("class", "dmi", "id", "chassis_type"))); err == nil {
		s.ChassisType = chassisTypeName(n)
	}
	tbl, tblErr := sessionFrom(ctx, env).smbiosTable()
	if tblErr == nil {
		fillSystem(&s, tbl.System)
	}
	if s == (System{}) {
		if tblErr != nil {
			return fmt.Errorf("read DMI: no /sys/class/dmi/id data: %w", tblErr)
		}
		return fmt.Errorf("read DMI: %w: no identity in sysfs or SMBIOS", ErrNoData)
	}
	inv.System = &s
	return nil
}

// fillSystem copies every field of from that s lacks, dropping placeholders.
func fillSystem(s *System, from System) {
	pairs := []struct{ dst, src *string }{
		{&s.Vendor, &from.Vendor}, {&s.Product, &from.Product}, {&s.Version, &from.Version},
		{&s.Serial, &from.Serial}, {&s.SKU, &from.SKU}, {&s.Family, &from.Family},
		{&s.BoardVendor, &from.BoardVendor}, {&s.BoardProduct, &from.BoardProduct},
		{&s.BoardVersion, &from.BoardVersion}, {&s.BoardSerial, &from.BoardSerial},
		{&s.ChassisVendor, &from.ChassisVendor}, {&s.ChassisType, &from.ChassisType},
		{&s.ChassisSerial, &from.ChassisSerial}, {&s.ChassisAssetTag, &from.ChassisAssetTag},
		{&s.BIOSVendor, &from.BIOSVendor}, {&s.BIOSVersion, &from.BIOSVersion}, {&s.BIOSDate, &from.BIOSDate},
	}
	for _, p := range pairs {
		if *p.dst == "" && !isJunkID(*p.src) {
			*p.dst = *p.src
		}
	}
	if s.UUID == "" {
		s.UUID = normUUID(from.UUID)
	}
}
