#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/tsan.sh: ThreadSanitizer build and tests (preset "tsan"), clang unless CC
# says otherwise. ci/sanitizer.sh first makes sure ThreadSanitizer can run on
# this kernel (lowering vm.mmap_rnd_bits or turning ASLR off for ctest).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=sanitizer.sh
source "$WEFT_ROOT/ci/sanitizer.sh"
ci_default_cc clang
sanitizer_setup thread
exec bash "$WEFT_ROOT/ci/build-and-test.sh" tsan "$@"
