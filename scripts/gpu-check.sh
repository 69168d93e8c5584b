#!/usr/bin/env bash
# gpu-check.sh: exercise the GPU stage on a real NVIDIA machine (there is no
# GPU where shakedown is developed). Builds the agent, runs only Inventory and
# GPU (profile quick: a 30 s burn; GPU_DURATION overrides), prints the GPU
# stage result with its findings and the nvidia-smi artifacts it kept.
# Takes about a minute; the agent's own timeout for the stage is 3 minutes.
# Needs: go, nvidia-smi (driver loaded); uses gpu_burn when it is on PATH or
# SHAKEDOWN_TOOL_GPU_BURN points at it (run it from its build directory:
# gpu_burn loads compare.ptx from there), else stress-ng --gpu.
# Usage: scripts/gpu-check.sh [STATE_DIR]   (default: a temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nvidia-smi >/dev/null || echo "gpu-check: nvidia-smi not on PATH: the stage will skip (or fail if GPUs are on the PCI bus)" >&2
state=${1:-$(mktemp -d /tmp/shakedown-gpu-check.XXXXXX)}
mkdir -p bin
go build -o bin/shakedown-agent ./agent
go build -o bin/shakedown-agent-core ./agent/core # the front execs it for run and status
skip=specvalidate,smart,cpustress,storage,network,psu,reporting
start=$(date +%s)
timeout 180 bin/shakedown-agent run --new --profile quick --state-dir "$state" --stage.skip="$skip" \
  --stage.gpu.duration="${GPU_DURATION:-30s}" --stage.gpu.timeout=3m --log.level=warn || true
echo
echo "== GPU stage ($(( $(date +%s) - start )) s), state dir $state"
bin/shakedown-agent status --state-dir "$state" | sed -n '1,/^$/p;/^GPU /p'
if command -v python3 >/dev/null; then
  python3 - "$state/journal.db" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cols = [r[1] for r in db.execute("pragma table_info(stages)")]
row = db.execute("select * from stages where name='GPU' order by rowid desc limit 1").fetchone()
if row is None:
    sys.exit("no GPU stage row")
rec = dict(zip(cols, row))
for k, v in rec.items():
    if isinstance(v, str) and v[:1] in "[{":
        try:
            v = json.loads(v)
        except ValueError:
            pass
    print(f"{k}: {json.dumps(v, indent=2) if isinstance(v, (dict, list)) else v}")
PY
fi
ls -la "$state"/runs/*/gpu-* 2>/dev/null || true
