#!/usr/bin/env bash
# Bounded fuzzing of what the coordinator and the agent read from outside:
#   fuzz_json_bodies       every strict JSON reader (protocol bodies, result
#                          bodies and their checks against a job, sweep specs)
#   fuzz_coordinator_http  raw bytes against the real coordinator in-process
#                          (HTTP server, routes, SQLite)
# Builds them with clang (libFuzzer, ASan, UBSan) in build-fuzz/, runs each
# for a fixed time from the seeds in bench/fuzz/seeds, and prints a table.
# Exits 1 if any run found a crash, a sanitizer report or a hang; the
# inputs that did are kept in build-fuzz/findings/.
#   bench/fuzz.sh                  300 s per target (10 minutes in all)
#   bench/fuzz.sh --quick          30 s per target (CI)
#   bench/fuzz.sh --seconds N
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=300
while (($#)); do
  case $1 in
    --quick) seconds=30 ;;
    --seconds) seconds=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# The fuzzing toolchain, on top of what scripts/setup.sh installs.
scripts/setup.sh
missing=()
for package in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "fuzz.sh: installing ${missing[*]}" >&2
  as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

build=${FUZZ_BUILD_DIR:-build-fuzz}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/tailsweep-ccache}
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTAILSWEEP_FUZZ=ON -DTAILSWEEP_BUILD_AGENT=OFF -DTAILSWEEP_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_json_bodies fuzz_coordinator_http

mkdir -p "$build/findings"
# ASan's leak check at exit would report the coordinator the HTTP target
# keeps for the whole process on purpose.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
rows=()
for target in json_bodies coordinator_http; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  dict=()
  [[ $target == coordinator_http ]] && dict=(-dict=bench/fuzz/http.dict)
  log="$build/fuzz_$target.log"
  echo "fuzz.sh: fuzz_$target for $seconds s (log: $log)" >&2
  set +e
  "$build/bin/fuzz_$target" "$corpus" "bench/fuzz/seeds/$target" "${dict[@]}" \
    -max_total_time="$seconds" -timeout=90 -rss_limit_mb=4096 -max_len=65536 \
    -artifact_prefix="$build/findings/$target-" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  stat() { awk -v key="stat::$1:" '$1 == key {print $2}' "$log" | tail -1; }
  runs=$(stat number_of_executed_units)
  rate=$(stat average_exec_per_sec)
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  entries=$(find "$corpus" -type f | wc -l)
  verdict=clean
  if ((rc != 0)); then
    verdict="FOUND (exit $rc): $(ls "$build/findings" | grep "^$target-" | head -3 | tr '\n' ' ')"
    status=1
  fi
  rows+=("$(printf '%-22s %8s s %12s %10s %10s %8s  %s' "fuzz_$target" "$seconds" "${runs:-?}" \
    "${rate:-?}" "${coverage:-?}" "$entries" "$verdict")")
done

printf '%-22s %10s %12s %10s %10s %8s  %s\n' target time runs "execs/s" edges corpus result
for row in "${rows[@]}"; do echo "$row"; done
exit $status
