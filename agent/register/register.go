// Package register is the one place that says which stages are compiled into
// the agent: each blank import runs that stage package's init(), which calls
// stage.Register. The run order is the fixed list in agent/engine.
package register

import (
	// Stages: one import per line, kept sorted.
	_ "github.com/shakedown/shakedown/agent/stage/cpustress"
	_ "github.com/shakedown/shakedown/agent/stage/gpu"
	_ "github.com/shakedown/shakedown/agent/stage/inventory"
	_ "github.com/shakedown/shakedown/agent/stage/network"
	_ "github.com/shakedown/shakedown/agent/stage/psu"
	_ "github.com/shakedown/shakedown/agent/stage/reporting"
	_ "github.com/shakedown/shakedown/agent/stage/smart"
	_ "github.com/shakedown/shakedown/agent/stage/specvalidate"
	_ "github.com/shakedown/shakedown/agent/stage/storage"

	// Services that run beside the stages.
	_ "github.com/shakedown/shakedown/agent/sidecar"
)
