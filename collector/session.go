package collector

import (
	"context"
	"log/slog"
	"sync"

	"github.com/jaypipes/ghw"
	"github.com/jaypipes/pcidb"
)

// session holds what the probes of one Collect share: the PCI database (built
// once, for the vendors present) so PCI, GPU and accelerator lookups do not
// each parse pci.ids, and the SMBIOS table (system identity and DIMMs).
type session struct {
	env    Env
	dbOnce sync.Once
	db     *pcidb.PCIDB
	dbSrc  string
	dbErr  error

	smbiosOnce sync.Once
	smbios     *smbiosInfo
	smbiosErr  error
}

type sessionKey struct{}

func withSession(ctx context.Context, env Env) context.Context {
	return context.WithValue(ctx, sessionKey{}, &session{env: env})
}

func sessionFrom(ctx context.Context, env Env) *session {
	if s, ok := ctx.Value(sessionKey{}).(*session); ok && s.env.Root == env.Root && s.env.PCIIDs == env.PCIIDs {
		return s
	}
	return &session{env: env}
}

// pciDB returns the shared PCI database (vendors present under Root only).
func (s *session) pciDB() (*pcidb.PCIDB, string, error) {
	s.dbOnce.Do(func() {
		want, classes := pciIDsPresent(s.env)
		s.db, s.dbSrc, s.dbErr = loadPCIDB(s.env, want, classes)
		s.env.Logger().Debug("PCI database", "source", s.dbSrc, "err", s.dbErr)
	})
	return s.db, s.dbSrc, s.dbErr
}

// smbiosTable returns the SMBIOS table, read and parsed once for the dmi and
// memory probes.
func (s *session) smbiosTable() (*smbiosInfo, error) {
	s.smbiosOnce.Do(func() { s.smbios, s.smbiosErr = readSMBIOS(s.env) })
	return s.smbios, s.smbiosErr
}

// ghwOpts are the options every ghw call gets: the chroot, tools always
// disabled (ghw would exec ethtool itself, bypassing tool.Runner; ethtool is
// run by the NIC probe through Env.Tools instead), a discard logger (ghw's
// WithDisableWarnings does not work in v0.27.0), and the shared PCI database
// when one is needed. Topology is disabled.
func (s *session) ghwOpts(withDB bool) ([]any, error) {
	opts := []any{
		ghw.WithChroot(s.env.root()),
		ghw.WithDisableTools(),
		// Topology costs ~10 ms (it walks every memory block); the probes read
		// numa_node themselves and the NUMA probe reads the node directories.
		ghw.WithDisableTopology(),
		ghw.WithLogger(slog.New(slog.DiscardHandler)),
	}
	if withDB {
		db, _, err := s.pciDB()
		if err != nil {
			return nil, err
		}
		opts = append(opts, ghw.WithPCIDB(db))
	}
	return opts, nil
}
