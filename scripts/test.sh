#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every
# GoogleTest suite under CTest (labels: unit, integration, e2e).
#   scripts/test.sh [ctest options, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" "$@"
