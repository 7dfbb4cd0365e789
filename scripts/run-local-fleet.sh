#!/usr/bin/env bash
# The main job: a whole fleet on this machine. Installs what is missing,
# builds, then
#   1. starts the coordinator on a fresh SQLite file under the output folder,
#   2. starts one real CPU agent and simulated Jetson Nano, Orin Nano and AGX
#      Orin agents (always labelled simulated),
#   3. submits the default sweep (examples/sweeps/local-fleet.json): fmnist-vit
#      curves at batch 1 and 4, its accuracy curve, POMT schedules, the
#      baseline, POMT (both schedules), Top-K and ToMe on 1,500 test images, each
#      device's method latencies with Top-K and ToMe matched to POMT's latency
#      (and evaluated), the baseline on weights clustered to 16, 64 and 256
#      shared values per matrix (evaluated, and timed against the dense model
#      in the same rounds on every device), and deit-tiny curves,
#   4. shows progress (and the dashboard's URL), renders the tables and plots
#      (tailsweep report), prints the tables, and stops everything it started
#      (with --keep, the coordinator and agents stay up for browsing until
#      Ctrl-C).
#   scripts/run-local-fleet.sh [--out results/local-fleet] [--spec FILE] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=results/local-fleet
SPEC=examples/sweeps/local-fleet.json
KEEP=0
while (($#)); do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    --spec) SPEC=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "run-local-fleet: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
scripts/setup.sh
scripts/build.sh >/dev/null
BIN=$PWD/build/bin

WORK=$(mktemp -d -t tailsweep-fleet.XXXXXX)
PIDS=()
cleanup() {
  # Only what this script started, by pid; agents first, then the coordinator.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$OUT"
DB=$OUT/fleet.db
rm -f "$DB" "$DB-wal" "$DB-shm"
head -c 24 /dev/urandom | base64 >"$WORK/enroll.token"
head -c 24 /dev/urandom | base64 >"$WORK/admin.token"
ADMIN=(--admin-token-file "$WORK/admin.token")

echo "== starting the coordinator on $DB" >&2
"$BIN/tailsweep" serve --db "$DB" --listen 127.0.0.1:0 --port-file "$WORK/port" \
  --enroll-token-file "$WORK/enroll.token" "${ADMIN[@]}" 2>"$WORK/coordinator.log" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s $WORK/port ]] && break; sleep 0.1; done
[[ -s $WORK/port ]] || { cat "$WORK/coordinator.log" >&2; exit 1; }
URL=http://127.0.0.1:$(cat "$WORK/port")
CONNECT=(--coordinator "$URL")

echo "== starting agents: this CPU, and simulated jetson-nano, jetson-orin-nano, jetson-agx-orin" >&2
for device in cpu sim:jetson-nano sim:jetson-orin-nano sim:jetson-agx-orin; do
  name=local-${device#sim:}
  "$BIN/tailsweep-agent" run "${CONNECT[@]}" --enroll-token-file "$WORK/enroll.token" \
    --device "$device" --name "$name" --state-dir "$WORK/state-$name" --data-dir "$PWD" \
    2>"$WORK/agent-$name.log" &
  PIDS+=($!)
done
for _ in $(seq 100); do
  n=$("$BIN/tailsweep" devices "${CONNECT[@]}" "${ADMIN[@]}" --json |
      /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["devices"]))')
  ((n >= 4)) && break
  sleep 0.2
done
"$BIN/tailsweep" devices "${CONNECT[@]}" "${ADMIN[@]}"

echo "== submitting $SPEC" >&2
SWEEP=$("$BIN/tailsweep" sweep create "$SPEC" "${CONNECT[@]}" "${ADMIN[@]}" --json |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["sweep_id"])')
STARTED=$(date +%s)
# The admin token is in a file of this run's temporary folder; it is never
# put in the URL (the dashboard asks for it: docs/dashboard.md).
echo "== dashboard: $URL/ (log in with the admin token in $WORK/admin.token)" >&2
if ! "$BIN/tailsweep" sweep wait "$SWEEP" "${CONNECT[@]}" "${ADMIN[@]}"; then
  echo "run-local-fleet: the sweep did not finish cleanly; the agents' logs:" >&2
  tail -n 5 "$WORK"/agent-*.log >&2
fi
echo "== sweep $SWEEP took $(($(date +%s) - STARTED)) s" >&2

"$BIN/tailsweep" report --db "$DB" --sweep "$SWEEP" --out "$OUT"
cat "$OUT/tables.md"
# The database stays out of git (it holds every raw sample); the report,
# its CSVs and plots are the committed artifacts.
echo "results written to $OUT/ (database: $DB)" >&2
if ((KEEP)); then
  echo "== --keep: the coordinator and agents stay up; dashboard: $URL/ (admin token:" \
    "$WORK/admin.token). Ctrl-C stops them." >&2
  trap 'exit 0' INT TERM
  while sleep 3600; do :; done
fi
