package collector

import (
	"context"
)

// sensorsProbe fills Inventory.Sensors with one reading of hwmon, thermal
// zones and EDAC through ReadSensors (collector/sensors.go).
type sensorsProbe struct{}

func init() { Register(sensorsProbe{}) }

func (sensorsProbe) Name() string { return "sensors" }

func (sensorsProbe) Files(Env) []string {
	return []string{
		"/sys/class/hwmon",
		"/sys/class/thermal",
		"/sys/devices/system/edac/mc",
		"/sys/class/hwmon/*",
		"/sys/class/hwmon/*/name",
		"/sys/class/hwmon/*/{temp,in,fan,power,curr,energy}*_*",
		"/sys/class/hwmon/*/device/name",
		"/sys/class/hwmon/*/device/{temp,in,fan,power,curr,energy}*_*",
		"/sys/class/thermal/thermal_zone*/{type,temp}",
		"/sys/devices/system/edac/mc/mc*/{ce_count,ue_count,ce_noinfo_count,ue_noinfo_count,mc_name,size_mb}",
		"/sys/devices/system/edac/mc/mc*/dimm*/{dimm_ce_count,dimm_ue_count,dimm_label,dimm_location,size}",
		"/sys/devices/system/edac/mc/mc*/csrow*/{ce_count,ue_count,size_mb,ch*_dimm_label}",
	}
}

func (sensorsProbe) Collect(ctx context.Context, env Env, inv *Inventory) error {
	s, err := ReadSensors(ctx, env)
	if s != nil && (len(s.Hwmon) > 0 || len(s.Thermal) > 0 || len(s.EDAC) > 0) {
		inv.Sensors = s
	}
	return err
}
