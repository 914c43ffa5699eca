#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/build-and-test.sh PRESET [extra cmake configure args...]
#
# The one build-and-test step of every CI matrix entry: configure, build and
# test the CMakePresets.json preset PRESET in build-PRESET/ (removed first, so
# every run starts clean), exactly as a developer's
#     cmake --preset P && cmake --build --preset P && ctest --preset P
# would. The presets hold the options (build type, sanitizers, backend,
# toolchain), the job counts (2) and the test settings.
#
# Environment:
#   CC                    the compiler (for the native presets)
#   WEFT_CI_TEST_PREFIX   a command to run ctest under, e.g. "setarch x86_64 -R"
#                         (ci/tsan.sh sets it when ThreadSanitizer needs it)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || ci_die "usage: ci/build-and-test.sh PRESET [cmake args...]"
preset=$1
shift

cd "$WEFT_ROOT" || exit 1
build="build-$preset"
rm -rf "$build"

ci_log "$preset: configure"
cmake --preset "$preset" "$@"
ci_log "$preset: build"
cmake --build --preset "$preset"
ci_log "$preset: test"
# shellcheck disable=SC2086 # the prefix is a command with arguments
${WEFT_CI_TEST_PREFIX:-} ctest --preset "$preset"
