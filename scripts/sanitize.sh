#!/usr/bin/env bash
# The unit and integration tests under AddressSanitizer and
# UndefinedBehaviorSanitizer (-DTAILSWEEP_SANITIZE=ON), built in
# build-sanitize/. UBSan stops at its first report, so any undefined
# behaviour fails the test it happens in.
#   scripts/sanitize.sh [ctest options, e.g. -L unit or -R Strict]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${SANITIZE_BUILD_DIR:-build-sanitize}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/tailsweep-ccache}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAILSWEEP_SANITIZE=ON \
  >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
# Leak checking is off: LibTorch and OpenBLAS keep allocations for the life
# of the process on purpose, and none of our own outlive a test otherwise
# unseen. Everything else (use after free, overflows, UB) aborts the test.
# allocator_may_return_null: an allocation too large to make fails as it would
# without ASan (the engine turns that into its one-line error; a test checks it).
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$BUILD_DIR"
if (($#)); then
  ctest --output-on-failure -j "$(nproc)" "$@"
else
  ctest --output-on-failure -j "$(nproc)" -L 'unit|integration'
fi
