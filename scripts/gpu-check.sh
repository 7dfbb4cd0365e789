#!/usr/bin/env bash
# The CUDA checks, for a machine with an NVIDIA GPU and PyTorch's wheel
# (LibTorch with CUDA, and its CMake config) but without Debian's -dev
# packages: builds tailsweep-agent and its tests against that LibTorch with
# what scripts/gather-agent-deps.sh gathered, runs the tests (the CUDA ones
# run for real there), then measures real curves on the GPU. Writes logs and
# JSON results to $OUT (default gpu-check-out/). Steps are bounded in time
# and go on after a failure, so whatever finished comes back.
#   scripts/gather-agent-deps.sh            (on a Debian machine, beforehand)
#   OUT=DIR scripts/gpu-check.sh [--quick]
# --quick: build, test and the GPU eval only. TESTS=0 skips the test suite.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu-check-out}
DEPS=${DEPS:-$ROOT/.agent-deps}
DATA=${DATA:-$ROOT/.device-data}
BUILD=${BUILD:-$ROOT/build-cuda}
QUICK=${1:-}
TESTS=${TESTS:-1}
mkdir -p "$OUT"
step() { printf '\n== %s  (%s)\n' "$*" "$(date +%T)" | tee -a "$OUT/steps.log"; }
started=$(date +%s)

step environment
{
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw,power.limit,pstate --format=csv
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.get_device_name(0), "cxx11abi", torch._C._GLIBCXX_USE_CXX11_ABI)'
  g++ --version | head -1; cmake --version | head -1; ninja --version; nvcc --version | tail -2
} 2>&1 | tee "$OUT/environment.txt"

step configure
TORCH_CMAKE=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
DEPS_LIB=$DEPS/usr/lib/$(gcc -print-multiarch)
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
# DT_RPATH (not RUNPATH) so that libcurl's own dependencies are found in
# DEPS too; test discovery at ctest time, not at build time.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTAILSWEEP_BUILD_COORDINATOR=OFF -DTAILSWEEP_WITH_OPENCV=OFF \
  -DTAILSWEEP_GIT_SHA="${TAILSWEEP_GIT_SHA:-unknown}" \
  -DCMAKE_PREFIX_PATH="$TORCH_CMAKE;$DEPS/usr" \
  -DCMAKE_CUDA_COMPILER="$NVCC" -DCUDAToolkit_ROOT="$(dirname "$(dirname "$NVCC")")" \
  -DTORCH_CUDA_ARCH_LIST="$(python3 -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability(0))')" \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,--disable-new-dtags -Wl,-rpath,$DEPS_LIB -Wl,-rpath-link,$DEPS_LIB" \
  -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST \
  > "$OUT/configure.log" 2>&1
status=$?
tail -25 "$OUT/configure.log"
[[ $status -eq 0 ]] || { echo "configure failed"; exit 1; }

step build
targets=(tailsweep-agent)
[[ $TESTS == 1 ]] && targets+=(util_tests model_tests wire_tests analysis_tests device_tests data_tests
  fleet_tests agent_engine_tests measure_tests agent_cli_tests)
targets+=(${EXTRA_TARGETS:-})
cmake --build "$BUILD" -j "$(nproc)" -t "${targets[@]}" > "$OUT/build.log" 2>&1
status=$?
grep -E "error|FAILED" "$OUT/build.log" | head -40
[[ $status -eq 0 ]] || { tail -40 "$OUT/build.log"; echo "build failed"; exit 1; }
echo "built in $(( $(date +%s) - started )) s"

if [[ $TESTS == 1 ]]; then
  step tests
  # Four test processes of four threads each: 16 cores, not 8 x 16 threads.
  (cd "$BUILD" && OMP_NUM_THREADS=4 timeout 150 ctest --output-on-failure -j 4 > "$OUT/ctest.log" 2>&1)
  tail -30 "$OUT/ctest.log"
  "$BUILD/bin/agent_engine_tests" --gtest_filter='Cuda*:Attention*' 2>&1 | tail -12
fi

AGENT=$BUILD/bin/tailsweep-agent
step "eval on the GPU: fmnist-vit, all 10,000 test images (CPU: 88.72% top-1)"
timeout 120 "$AGENT" eval --device cuda --model fmnist-vit \
  --weights results/models/fmnist-vit.safetensors --dataset "fashion-mnist:$DATA/fashion-mnist" \
  --split test --batch 500 --out "$OUT/eval-fmnist-cuda.json" 2>&1 | tail -2

if [[ $QUICK == --quick ]]; then exit 0; fi
# deit-small in float32 on an H100 took 1.9 ms at batch 1 (launch-bound) and
# 19.6 ms at batch 64 on all tokens: a 2..197 curve at batch 64 is about
# 196 points x 11 passes x 10 ms. Batch 256 would be four times that.
step "deit-small L(n), 2..197, batch 1 and 64, 1% precision"
timeout 130 "$AGENT" profile --device cuda --model deit-small --tokens 2:197 --batch 1,64 \
  --precision 0.01 --time-cap 1 --out "$OUT/deit-small-curve.json" 2>&1 | tail -3
step "deit-small methods on the full input, batch 1 and 64"
timeout 40 "$AGENT" profile --device cuda --model deit-small --batch 1,64 --precision 0.01 \
  --time-cap 2 --methods none topk:4 topk:8 topk:13 tome:4 tome:8 tome:13 pomt:20 pomt:58 pomt:100 \
  --out "$OUT/deit-small-methods.json" 2>&1 | tail -3
step "done in $(( $(date +%s) - started )) s"
nvidia-smi --query-gpu=clocks.sm,clocks.mem,temperature.gpu,power.draw,clocks_event_reasons.active --format=csv
