#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/macos.sh: cross-build weft for macOS, arm64 and x86_64, with zig cc
# and -Werror (presets macos-arm64, macos-x86_64): the library, every test
# and every example compile and link against Apple's libc headers and
# stubs that zig carries. Nothing runs (Linux cannot run Mach-O programs);
# the point is the macOS branches of src/posix/ (the parking lot,
# pthread_cond_timedwait_relative_np, POSIX_SPAWN_CLOEXEC_DEFAULT,
# _NSGetExecutablePath, pthread_setname_np, pthread_threadid_np). The
# GitHub workflow's macOS jobs run them on a Mac.
# Prints "macos: N passed, N failed", one per architecture.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=zig.sh
source "$WEFT_ROOT/ci/zig.sh"
zig_install || exit 1
cd "$WEFT_ROOT" || exit 1

passed=0
failed=0
for preset in macos-arm64 macos-x86_64; do
  rm -rf "build-$preset"
  ci_log "$preset: configure and build"
  if cmake --preset "$preset" "$@" && cmake --build --preset "$preset"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    ci_log "$preset: FAILED"
  fi
done
echo "macos: $passed passed, $failed failed"
((failed == 0))
