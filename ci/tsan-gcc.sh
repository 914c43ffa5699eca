#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/tsan-gcc.sh: ThreadSanitizer built with gcc (preset "tsan-gcc"), the
# whole suite. gcc's TSan refuses some of what clang's accepts (a fence is
# an error with -Werror=tsan), so ci/tsan.sh's clang build does not speak
# for it. ci/sanitizer.sh first makes sure TSan can run on this kernel.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=sanitizer.sh
source "$WEFT_ROOT/ci/sanitizer.sh"
# The preset names gcc; the probe is built with the same compiler.
export CC=gcc
ci_default_cc gcc
sanitizer_setup thread
exec bash "$WEFT_ROOT/ci/build-and-test.sh" tsan-gcc "$@"
