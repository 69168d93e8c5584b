//
// Use and distribution licensed under the Apache license version 2.
//
// See the COPYING file in the root project directory for full text.
//

package types

const (
	EnvVarChroot             = "PCIDB_CHROOT"
	EnvVarPath               = "PCIDB_PATH"
	EnvVarCacheOnly          = "PCIDB_CACHE_ONLY"
	EnvVarCachePath          = "PCIDB_CACHE_PATH"
	EnvVarEnableNetworkFetch = "PCIDB_ENABLE_NETWORK_FETCH"
)
