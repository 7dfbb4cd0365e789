#!/usr/bin/env bash
# The main job, until the coordinator lands: a local profiling run on this
# machine. Installs what is missing, builds, then
#   1. profiles deit-tiny's latency against the token count (random:N, the
#      POMT curve protocol) at batch 1,
#   2. compares the engine with PyTorch eager for deit-tiny and deit-small,
#      every method, with a logits cross-check,
# prints both tables and writes them under results/local/ (Markdown + JSON).
#   scripts/run-local.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
[[ ${1:-} == --quick ]] && QUICK=1
scripts/setup.sh
scripts/build.sh >/dev/null
OUT=results/local
mkdir -p "$OUT"
BIN=build/bin

echo "== 1/2: deit-tiny latency vs tokens (batch 1, random:N), this machine" >&2
if ((QUICK)); then GRID="197 150 100 50 10"; TIME=1; else GRID=$(seq 197 -12 5); TIME=3; fi
METHODS=$(for n in $GRID; do printf 'random:%s;' "$n"; done)
"$BIN/tailsweep-bench-engine" --model deit-tiny --methods "${METHODS%;}" \
  --min-time "$TIME" --rounds 3 >"$OUT/deit-tiny-curve.jsonl"
/usr/bin/python3 - "$OUT/deit-tiny-curve.jsonl" >"$OUT/deit-tiny-curve.md" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(f"deit-tiny, batch {rows[0]['batch']}, {rows[0]['threads']} threads, GEMMs: {rows[0]['gemm']}\n")
print("| tokens | median ms | p25 | p75 | samples | GFLOP/s |")
print("|---|---|---|---|---|---|")
for row in sorted(rows, key=lambda r: -int(r["method"].split(":")[1])):
    q = statistics.quantiles(row["samples_ms"], n=4)
    print(f"| {row['method'].split(':')[1]} | {row['median_ms']:.2f} | {q[0]:.2f} | {q[2]:.2f} "
          f"| {len(row['samples_ms'])} | {row['gflop'] / row['median_ms'] * 1e3:.1f} |")
PY
cat "$OUT/deit-tiny-curve.md"

echo "== 2/2: engine vs PyTorch eager, every method" >&2
ROUNDS=4; MIN_TIME=4
((QUICK)) && ROUNDS=2 && MIN_TIME=1
/usr/bin/python3 -W ignore bench/engine_vs_pytorch.py --models deit-tiny,deit-small \
  --rounds "$ROUNDS" --min-time "$MIN_TIME" --json "$OUT/engine-vs-pytorch.json" \
  | tee "$OUT/engine-vs-pytorch.md"
echo "results written to $OUT/" >&2
