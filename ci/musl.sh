#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/musl.sh: weft on musl, x86_64, linked statically with zig cc, and the
# whole suite run natively (static programs need no musl on the host):
# once with the default backends (preset musl: futex, pidfd) and once with
# the parking lot and polled child waits that macOS and the BSDs use
# (preset musl-parkinglot). Both run even when the first fails.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=zig.sh
source "$WEFT_ROOT/ci/zig.sh"
zig_install || exit 1

status=0
for preset in musl musl-parkinglot; do
  bash "$WEFT_ROOT/ci/build-and-test.sh" "$preset" "$@" || status=1
done
exit $status
