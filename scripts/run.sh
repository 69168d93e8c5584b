#!/usr/bin/env bash
# `make run`: the whole thing on this machine, on the embedded default.
#   1. checks the packages the agent drives (scripts/install-deps.sh; as root it installs them),
#   2. builds bin/shakedown-agent, bin/shakedown-agent-core and bin/shakedown-coordinator (unless `make run` just did),
#   3. starts the coordinator with its embedded bucket under .run/data (loopback only),
#   4. captures this machine's expected spec into .run/spec.yaml if there is none,
#   5. runs the agent with the safe profile (no disk is written) against the coordinator,
#   6. prints the dashboard URL and the report's URL. Ctrl-C stops both.
# Settings (environment): RUN_DIR (.run), LISTEN (127.0.0.1:8443), S3_LISTEN (127.0.0.1:9000),
# IPERF_LISTEN (the coordinator's iperf3 server for the Network stage; default the LISTEN host, port 5201; "off"),
# PROFILE (safe), BIN_DIR (bin: prebuilt binaries there are used as they are), AGENT_ARGS (extra `shakedown-agent run` flags), KEEP_SERVING=1 (keep the
# coordinator up after the run until Ctrl-C; the default on a terminal and when the run holds; KEEP_SERVING= to exit).
set -euo pipefail
cd "$(dirname "$0")/.."

RUN_DIR=${RUN_DIR:-.run}
LISTEN=${LISTEN:-127.0.0.1:8443}
S3_LISTEN=${S3_LISTEN:-127.0.0.1:9000}
IPERF_LISTEN=${IPERF_LISTEN:-}
PROFILE=${PROFILE:-safe}
BIN_DIR=${BIN_DIR:-bin}
AGENT=$BIN_DIR/shakedown-agent
AGENT_CORE=$BIN_DIR/shakedown-agent-core # the front ($AGENT) execs it for run/status/action
COORD=$BIN_DIR/shakedown-coordinator

say() { printf '\033[1mrun:\033[0m %s\n' "$*"; }
die() { printf 'run: %s\n' "$*" >&2; exit 1; }

# 1. Packages. As root install-deps.sh installs what is missing; otherwise it prints exactly what is.
if ! bash scripts/install-deps.sh; then
  die "missing packages (see above); as root: make deps"
fi

# 2. Binaries.
if [ ! -x "$AGENT" ] || [ ! -x "$AGENT_CORE" ] || [ ! -x "$COORD" ] || [ -n "${REBUILD:-}" ]; then
  say "building the agent and the coordinator"
  make --no-print-directory build BIN="$BIN_DIR"
fi

mkdir -p "$RUN_DIR/data" "$RUN_DIR/state"
RUN_DIR=$(cd "$RUN_DIR" && pwd)
COORD_LOG="$RUN_DIR/coordinator.log"

coord_pid=""
agent_pid=""
cleanup() {
  trap - INT TERM EXIT
  if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
    kill -INT "$agent_pid" 2>/dev/null || true
    wait "$agent_pid" 2>/dev/null || true
  fi
  if [ -n "$coord_pid" ] && kill -0 "$coord_pid" 2>/dev/null; then
    say "stopping the coordinator"
    kill -INT "$coord_pid" 2>/dev/null || true
    wait "$coord_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'echo; say "interrupted"; exit 130' INT TERM

# 3. Coordinator with the embedded bucket.
say "starting the coordinator (data: $RUN_DIR/data, log: $COORD_LOG)"
"$COORD" serve --data "$RUN_DIR/data" --listen "$LISTEN" --s3-listen "$S3_LISTEN" ${IPERF_LISTEN:+--iperf-listen "$IPERF_LISTEN"} >"$COORD_LOG" 2>&1 &
coord_pid=$!
for _ in $(seq 1 120); do
  grep -q '^ready' "$COORD_LOG" 2>/dev/null && break
  kill -0 "$coord_pid" 2>/dev/null || { cat "$COORD_LOG" >&2; die "the coordinator exited (is $LISTEN or $S3_LISTEN in use?)"; }
  sleep 0.5
done
grep -q '^ready' "$COORD_LOG" || { cat "$COORD_LOG" >&2; die "the coordinator did not get ready in 60 s"; }
API=$(sed -n 's/^api: //p' "$COORD_LOG" | head -1)
FP=$(sed -n 's/^certificate: .* sha256:\([0-9a-fA-F]*\).*/\1/p' "$COORD_LOG" | head -1)
TOKEN_FILE=$(sed -n 's/^fleet token: //p' "$COORD_LOG" | head -1)
[ -n "$API" ] && [ -n "$FP" ] && [ -f "$TOKEN_FILE" ] || { cat "$COORD_LOG" >&2; die "could not read the API URL, certificate fingerprint or token file from the coordinator's output"; }
say "dashboard: $API/   (certificate sha256:$FP; your browser will ask you to accept it)"

# 4. Expected spec: captured from this machine the first time.
SPEC="$RUN_DIR/spec.yaml"
if [ ! -s "$SPEC" ]; then
  say "no expected spec yet: capturing this machine's into $SPEC (edit it to tighten what SpecValidate expects)"
  "$AGENT" spec capture >"$SPEC.tmp" && mv "$SPEC.tmp" "$SPEC"
else
  say "expected spec: $SPEC"
fi

# 5. The agent, safe profile, a new run each time.
say "running the agent (profile $PROFILE, state dir $RUN_DIR/state); Ctrl-C stops it"
set +e
# shellcheck disable=SC2086
"$AGENT" run --profile "$PROFILE" --new --state-dir "$RUN_DIR/state" \
  --coordinator "$API" --token-file "$TOKEN_FILE" --ca-fingerprint "$FP" \
  --stage.specvalidate.spec "$SPEC" ${AGENT_ARGS:-} &
agent_pid=$!
# A held run waits for an operator: say how to act while the agent keeps running.
(
  told=""
  while kill -0 "$agent_pid" 2>/dev/null; do
    st=$("$AGENT" status --json --state-dir "$RUN_DIR/state" 2>/dev/null | jq -r '.run.state + " " + (.run.failed_stage // "")' 2>/dev/null || true)
    if [ "${st%% *}" = "FailedHolding" ] && [ "$told" != "$st" ]; then
      told=$st
      say "the run holds after ${st#* } failed. In another terminal: $AGENT action retry|override|abandon --reason TEXT --state-dir $RUN_DIR/state"
    fi
    sleep 3
  done
) &
watch_pid=$!
wait "$agent_pid"
rc=$?
agent_pid=""
kill "$watch_pid" 2>/dev/null || true
set -e

# 6. Where the results are.
STATUS_JSON=$("$AGENT" status --json --state-dir "$RUN_DIR/state" 2>/dev/null || true)
RUN_ID=$(printf '%s' "$STATUS_JSON" | jq -r '.run.id // empty' 2>/dev/null || true)
HOST_ID=$(printf '%s' "$STATUS_JSON" | jq -r '.run.host_id // empty' 2>/dev/null || true)
STATE=$(printf '%s' "$STATUS_JSON" | jq -r '.run.state // empty' 2>/dev/null || true)
RESULT=$(printf '%s' "$STATUS_JSON" | jq -r '.run.result // empty' 2>/dev/null || true)
echo
say "run ${RUN_ID:-?}: state ${STATE:-?}${RESULT:+, result $RESULT} (agent exit $rc)"
say "dashboard: $API/"
if [ -n "$RUN_ID" ] && [ -n "$HOST_ID" ]; then
  say "report:    $API/o/runs/$HOST_ID/$RUN_ID/report.html   (bucket key runs/$HOST_ID/$RUN_ID/report.html)"
  local_html=$(ls -1t "$RUN_DIR"/state/runs/"$RUN_ID"/reporting-*/report.html 2>/dev/null | head -1 || true)
  [ -n "$local_html" ] && say "local copy: $local_html"
fi
# Interactive (a terminal): keep the dashboard up to look at the report until Ctrl-C.
# Non-interactive (scripts, tests): exit once the run completed.
if [ -z "${KEEP_SERVING+x}" ] && [ -t 0 ] && [ -t 1 ]; then KEEP_SERVING=1; fi
if [ "$STATE" != "Completed" ] || [ -n "${KEEP_SERVING:-}" ]; then
  say "the coordinator keeps serving; Ctrl-C to stop"
  wait "$coord_pid"
fi
exit "$rc"
