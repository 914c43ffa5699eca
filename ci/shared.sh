#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/shared.sh: weft as a shared library (preset "shared"; the benchmarks are
# built too, so they keep compiling), gcc unless CC says otherwise.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ci_default_cc gcc
exec bash "$WEFT_ROOT/ci/build-and-test.sh" shared "$@"
