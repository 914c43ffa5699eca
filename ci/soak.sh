#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/soak.sh: the soak (tests/soak.c) under ASan+UBSan, then under TSan, for
# a fixed time each, then briefly without a sanitizer, where its fork
# scenario forks while other threads hold weft's locks (the sanitizers'
# allocators cannot fork then); clang unless CC says otherwise.
#
# Each build configures its own small tree (build-soak-asan, -tsan, -plain;
# removed first) and builds only the soak target. Each run prints its seed
# first, and a failure prints the command that replays the failing round.
#
# Environment:
#   WEFT_SOAK_SECONDS  seconds the ASan and the TSan run each spend on rounds
#                      (default 55); the plain run takes half. The builds and
#                      runs take under 3 minutes on 2 cores.
#   WEFT_SOAK_SEED     replay a run: the seed it printed (default: a new one)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=sanitizer.sh
source "$WEFT_ROOT/ci/sanitizer.sh"
ci_default_cc clang

seconds=${WEFT_SOAK_SECONDS:-55}
seed_args=()
[[ -n ${WEFT_SOAK_SEED:-} ]] && seed_args=(--seed "$WEFT_SOAK_SEED")
failed=0
results=()

# soak NAME SANITIZE BUILD_TYPE SECONDS ENV...: build and run one soak.
soak() {
  local name=$1 sanitize=$2 build_type=$3 seconds=$4 build="$WEFT_ROOT/build-soak-$1" status=0 seed
  shift 4
  export WEFT_CI_TEST_PREFIX=""
  [[ -z $sanitize ]] || sanitizer_setup "$sanitize"
  ci_log "soak $name: build (${sanitize:-no sanitizer}, $build_type)"
  rm -rf "$build"
  # shellcheck disable=SC2046 # ci_generator_args prints separate words
  cmake -S "$WEFT_ROOT" -B "$build" $(ci_generator_args) -DCMAKE_BUILD_TYPE="$build_type" \
    -DWEFT_WERROR=ON -DWEFT_SANITIZE="$sanitize" -DWEFT_BUILD_EXAMPLES=OFF
  cmake --build "$build" --target soak -j "$WEFT_CI_JOBS"
  ci_log "soak $name: run for ${seconds}s"
  # The watchdog inside fails a hung round after 30 s; this timeout is for
  # a soak that cannot even report.
  # shellcheck disable=SC2086 # the prefix is a command with arguments
  env "$@" timeout --kill-after=10 $((seconds + 90)) ${WEFT_CI_TEST_PREFIX:-} \
    "$build/tests/soak" --seconds "$seconds" ${seed_args[@]+"${seed_args[@]}"} \
    | tee "$build/soak.log" || status=$?
  seed=$(sed -n 's/^soak: seed //p' "$build/soak.log" | head -n 1)
  if ((status == 0)); then
    results+=("soak $name: passed (seed $seed)")
  else
    results+=("soak $name: FAILED with status $status (seed $seed; replay: WEFT_SOAK_SEED=$seed bash ci/soak.sh, or the command it printed)")
    failed=1
  fi
}

set -o pipefail
soak asan address,undefined Debug "$seconds" \
  ASAN_OPTIONS="strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# atexit_sleep_ms: TSan's default second at every exit would make the exits
# and fork scenarios' child processes slow, not more thorough.
soak tsan thread RelWithDebInfo "$seconds" \
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:atexit_sleep_ms=50"
soak plain "" RelWithDebInfo $((seconds / 2))

echo
printf '==== %s\n' "${results[@]}"
exit "$failed"
