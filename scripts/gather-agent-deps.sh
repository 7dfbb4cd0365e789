#!/usr/bin/env bash
# Gathers, from this Debian machine's installed packages, what building and
# testing tailsweep-agent needs on an x86-64 machine that has LibTorch (say, a
# CUDA server with PyTorch's wheel) but none of Debian's -dev packages and no
# way to fetch them: headers, CMake configs, the libraries to link, and the
# shared libraries they need at run time. scripts/gpu-check.sh builds with it.
#   scripts/gather-agent-deps.sh [DIR]      (default: .agent-deps, git-ignored)
# Needs the packages of scripts/setup.sh installed.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-.agent-deps}
triplet=$(gcc -print-multiarch)

DEV_PACKAGES=(nlohmann-json3-dev libcli11-dev libfmt-dev libfmt9 libgtest-dev libgmock-dev
              zlib1g-dev libssl-dev libcurl4-openssl-dev)
rm -rf "$DIR"
mkdir -p "$DIR"
for package in "${DEV_PACKAGES[@]}"; do
  dpkg -L "$package" | while read -r path; do
    [[ -f $path || -L $path ]] || continue
    case $path in
      /usr/share/doc/* | /usr/share/man/* | /usr/src/* | /usr/share/lintian/*) continue ;;
      # Static libraries: only GoogleTest's, which ships no shared ones.
      *.a) [[ $path == */libgtest* || $path == */libgmock* ]] || continue ;;
    esac
    mkdir -p "$DIR$(dirname "$path")"
    # Dereference: a link to /lib/... (zlib's) must not point off the tree.
    cp -L "$path" "$DIR$path"
  done
done

# Run-time closure of the shared libraries linked against, less glibc's own.
libdir="$DIR/usr/lib/$triplet"
for library in "/usr/lib/$triplet/libcurl.so.4" "/usr/lib/$triplet/libfmt.so.9"; do
  ldd "$library" | awk '$3 ~ /^\// {print $1, $3}' | while read -r soname path; do
    case $soname in
      # glibc and the C++ runtime: the machine's own, which LibTorch needs anyway.
      libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | librt.so.* | libresolv.so.* | ld-linux* | libstdc++.so.* | libgcc_s.so.*) continue ;;
    esac
    cp -L "$path" "$libdir/$soname"
  done
  cp -L "$library" "$libdir/$(basename "$library")"
done
echo "gather-agent-deps: $(du -sh "$DIR" | cut -f1) in $DIR" >&2
