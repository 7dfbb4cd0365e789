#!/usr/bin/env bash
# Installs every Debian package that tailsweep's build, tests, benchmarks and
# main job need, non-interactively, skipping what is already there. Safe to
# run again. Needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build ccache git pkg-config
  # the agent's engine: LibTorch, an optimised BLAS (without it Debian's
  # LibTorch falls back to the reference BLAS, >10x slower), and the oneDNN
  # that LibTorch ships with, whose headers the packed GEMMs use
  libtorch-dev libopenblas0-openmp libdnnl-dev
  # both sides (zlib: the gzipped IDX files of Fashion-MNIST)
  nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
  # real images for accuracy: Fashion-MNIST, read by agent/data/idx; JPEG/PNG
  # decoding for ImageNet folders (OpenCV's codecs only, not all of OpenCV)
  dataset-fashion-mnist libopencv-imgcodecs-dev
  # the coordinator: HTTP on Boost.Beast/Asio, TLS and hashing from OpenSSL,
  # SQLite; the agent's client: libcurl
  libboost-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev sqlite3
  # the design space's surrogates: gradient-boosted trees (XGBoost's C API)
  libxgboost-dev
  # tests; the dashboard's browser test (headless Chromium through Selenium)
  libgtest-dev libgmock-dev chromium chromium-driver python3-selenium
  # bench/ and the main job compare against PyTorch eager
  python3 python3-torch
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all ${#PACKAGES[@]} packages present" >&2
fi

# Make sure libblas.so.3 resolves to OpenBLAS's OpenMP flavour: it shares
# LibTorch's OpenMP thread pool instead of starting a second one.
triplet=$(gcc -print-multiarch)
for lib in libblas.so.3 liblapack.so.3; do
  target="/usr/lib/${triplet}/openblas-openmp/${lib}"
  current=$(readlink -f "/usr/lib/${triplet}/${lib}" || true)
  if [[ -e $target && $current != "$target" ]]; then
    echo "setup: pointing ${lib} at ${target}" >&2
    as_root update-alternatives --quiet --set "${lib}-${triplet}" "$target"
  fi
done
