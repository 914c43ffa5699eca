#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/mingw-shared.sh: cross-build for Windows x86_64 with mingw-w64 as a DLL,
# and run the tests under Wine (preset "mingw-shared").
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=wine.sh
source "$WEFT_ROOT/ci/wine.sh"
trap wine_stop EXIT
wine_start || exit 1
bash "$WEFT_ROOT/ci/build-and-test.sh" mingw-shared "$@"
