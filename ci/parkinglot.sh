#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/parkinglot.sh: the parking-lot wait backend (the one macOS and the BSDs
# use) built and tested on Linux, so it cannot rot (preset "parkinglot"),
# gcc unless CC says otherwise.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ci_default_cc gcc
exec bash "$WEFT_ROOT/ci/build-and-test.sh" parkinglot "$@"
