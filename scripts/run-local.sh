#!/usr/bin/env bash
# The main job, until the coordinator lands: a local profiling run on this
# machine. Installs what is missing, builds, then
#   1. profiles deit-tiny's latency against the token count (random:N, the
#      POMT curve protocol) at batch 1, each point to 1% precision,
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

echo "== 1/2: deit-tiny latency vs tokens (batch 1, random:N), each point to 1% precision" >&2
GRID=2:197:5; ((QUICK)) && GRID=2:197:39
"$BIN/tailsweep-agent" profile --model deit-tiny --tokens "$GRID" --precision 0.01 \
  --out "$OUT/deit-tiny-curve.json"
/usr/bin/python3 - "$OUT/deit-tiny-curve.json" >"$OUT/deit-tiny-curve.md" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
device, method = report["device"], report["method"]
print(f"{report['model']['name']}, {device['name']} ({'simulated' if device['simulated'] else 'measured'}), "
      f"{device['runtime']['intra_op_threads']} threads, GEMMs: {device['runtime']['gemm_backend']}; "
      f"each point until the median's 95% CI is within {100 * method['precision']:.0f}% "
      f"(cap {method['time_cap_s']:.0f} s); git {report['git_sha']}, {report['started_at']}\n")
print("| tokens | median ms | 95% CI of the median | samples | IQR/median | reached precision |")
print("|---|---|---|---|---|---|")
for p in report["points"]:
    print(f"| {p['tokens']} | {p['median_ms']:.2f} | {p['median_ci95_low_ms']:.2f}-"
          f"{p['median_ci95_high_ms']:.2f} | {p['samples']} | "
          f"{100 * p['iqr_ms'] / p['median_ms']:.1f}% | {'yes' if p['reached_precision'] else 'no'} |")
PY
cat "$OUT/deit-tiny-curve.md"

echo "== 2/2: engine vs PyTorch eager, every method" >&2
ROUNDS=8; MIN_TIME=4
((QUICK)) && ROUNDS=2 && MIN_TIME=1
/usr/bin/python3 -W ignore bench/engine_vs_pytorch.py --models deit-tiny,deit-small \
  --rounds "$ROUNDS" --min-time "$MIN_TIME" --json "$OUT/engine-vs-pytorch.json" \
  | tee "$OUT/engine-vs-pytorch.md"
echo "results written to $OUT/" >&2
