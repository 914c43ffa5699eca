#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/asan.sh: Debug build with AddressSanitizer + UndefinedBehaviorSanitizer
# and the handle checks of -DWEFT_DEBUG_HANDLES=ON (preset "asan"; the
# `handles` tests run only there), clang unless CC says otherwise. ci/sanitizer.sh first makes
# sure the sanitizers can run on this kernel.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=sanitizer.sh
source "$WEFT_ROOT/ci/sanitizer.sh"
ci_default_cc clang
sanitizer_setup address,undefined
exec bash "$WEFT_ROOT/ci/build-and-test.sh" asan "$@"
