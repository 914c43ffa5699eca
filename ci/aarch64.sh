#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/aarch64.sh: weft for aarch64 Linux against glibc 2.36, cross-built with
# zig cc, the whole suite run under qemu-aarch64 (preset aarch64), with
# Debian's libc6-arm64-cross and libgcc-s1-arm64-cross as the target's
# libraries. binfmt_misc (ci/qemu.sh) runs the programs the tests start
# themselves. The few cases that check what qemu-user cannot emulate skip
# (tests/runner.h: weft_test_under_qemu_user).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=zig.sh
source "$WEFT_ROOT/ci/zig.sh"
# shellcheck source=qemu.sh
source "$WEFT_ROOT/ci/qemu.sh"

[[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 && -e /usr/aarch64-linux-gnu/lib/libgcc_s.so.1 ]] ||
  ci_die "no aarch64 glibc in /usr/aarch64-linux-gnu/lib (ci/install-deps.sh installs libc6-arm64-cross and libgcc-s1-arm64-cross)"
zig_install || exit 1
qemu_binfmt aarch64 || exit 1
exec bash "$WEFT_ROOT/ci/build-and-test.sh" aarch64 "$@"
