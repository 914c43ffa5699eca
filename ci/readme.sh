#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/readme.sh [test|example|both]: run the two commands at the top of
# README.md exactly as written, from the top of the source tree, as a new user
# would (default generator, so `make` is enough; no preset, no ninja):
#   test     the line that builds and runs the test suite with ctest
#   example  the line that builds and runs examples/shared_counter
# Default: both, the test command first. The commands are read from README.md
# itself, so the README cannot drift from what CI runs.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WEFT_ROOT" || exit 1

# The one README line starting with `cmake -S . -B build` that contains $1.
readme_line() {
  local lines count
  lines=$(grep -E '^cmake -S \. -B build ' README.md | grep -F -- "$1" || true)
  count=$(printf '%s' "$lines" | grep -c . || true)
  [[ $count == 1 ]] ||
    ci_die "README.md should have exactly one 'cmake -S . -B build ...' line with '$1' (found $count)"
  printf '%s\n' "$lines"
}

run_readme() {
  local line
  line=$(readme_line "$1")
  ci_log "README $2: $line"
  # Exactly what a user pastes into a shell.
  bash -euo pipefail -c "$line"
}

what=${1:-both}
case $what in
  test) run_readme "ctest --test-dir build" "test command" ;;
  example) run_readme "./build/examples/shared_counter" "example command" ;;
  both)
    run_readme "ctest --test-dir build" "test command"
    run_readme "./build/examples/shared_counter" "example command"
    ;;
  *) ci_die "usage: ci/readme.sh [test|example|both]" ;;
esac
