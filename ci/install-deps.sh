#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/install-deps.sh [PACKAGE...]: make sure the Debian/Ubuntu packages CI
# needs are installed (default: all of them), with apt-get, as root or through
# sudo -n, never asking anything. Packages already installed are not asked
# for again, and when all are there apt is not touched at all.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ $# -gt 0 ]]; then
  wanted=("$@")
else
  # make + gcc: the README's commands; ninja, clang and its sanitizer
  # runtimes: the presets; mingw-w64 + Wine: the Windows builds and their
  # tests; pkg-config: ci/consume.sh and the benchmarks' competitors, which
  # are GLib, libuv, APR and APR-util (ci/bench.sh); python3: the benchmarks'
  # Python reference and their report; doxygen: the API reference
  # (ci/docs.sh; no graphviz, the reference has no diagrams). clang-cl,
  # lld-link, llvm-lib of LLVM 14 and Wine's MSVC-style headers and import
  # libraries: the MSVC-ABI build run under Wine (ci/msvc-wine.sh). The
  # ports: gcc-multilib (ci/i386.sh), qemu-user (i386 and aarch64 tests),
  # the arm64 glibc and libgcc_s that qemu-aarch64 runs the tests against
  # (ci/aarch64.sh), nodejs + npm to fetch zig (ci/zig.sh: the macOS, musl
  # and aarch64 builds).
  wanted=(cmake make gcc libc6-dev ninja-build clang pkg-config
          gcc-mingw-w64-x86-64 wine wine64
          clang-14 lld-14 llvm-14 libwine-dev
          libglib2.0-dev libuv1-dev libapr1-dev libaprutil1-dev python3 doxygen
          gcc-multilib qemu-user libc6-arm64-cross libgcc-s1-arm64-cross nodejs)
  # NodeSource's nodejs carries npm itself (and conflicts with Debian's npm).
  command -v npm >/dev/null 2>&1 || wanted+=(npm)
  # The sanitizer runtimes are a package of their own on Debian 12 and later.
  if command -v apt-cache >/dev/null 2>&1 &&
     apt-cache show libclang-rt-dev >/dev/null 2>&1; then
    wanted+=(libclang-rt-dev)
  fi
fi

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

command -v apt-get >/dev/null 2>&1 || ci_die "apt-get not found: install by hand: ${wanted[*]}"

missing=()
for p in "${wanted[@]}"; do
  installed "$p" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "==== install-deps: all present: ${wanted[*]}"
  exit 0
fi

if [[ $(id -u) == 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  ci_die "not root and no sudo: cannot install ${missing[*]}"
fi

ci_log "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q </dev/null
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" </dev/null
