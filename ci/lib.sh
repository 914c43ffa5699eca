# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# ci/lib.sh: helpers shared by the ci/ scripts; source it, don't run it.
#
# Environment the scripts honour:
#   CC                  the C compiler for native builds (each script has a default)
#   WEFT_CI_JOBS        parallel build and test jobs for ci/consume.sh (default 2;
#                       the presets say 2 for the others)
#   WEFT_CI_GENERATOR   CMake generator for ci/consume.sh's builds
#                       (default: Ninja when it is installed, else CMake's default)

set -euo pipefail

# The source tree, in a form that both bash and native Windows programs
# (cmake.exe under Git Bash or MSYS2) understand: C:/... on Windows.
WEFT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if command -v cygpath >/dev/null 2>&1; then
  WEFT_ROOT=$(cygpath -m "$WEFT_ROOT")
fi
export WEFT_ROOT
WEFT_CI_JOBS=${WEFT_CI_JOBS:-2}

ci_log() { printf '\n==== %s\n' "$*"; }
ci_die() { printf '==== error: %s\n' "$*" >&2; exit 1; }

# A path that native Windows programs understand (identity elsewhere).
ci_native_path() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -m "$1"; else printf '%s\n' "$1"; fi
}

ci_is_windows() {
  case "$(uname -s)" in MINGW* | MSYS* | CYGWIN*) return 0 ;; *) return 1 ;; esac
}

# A fresh scratch directory (removed by the caller).
ci_tempdir() {
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/weft-ci.XXXXXX")
  ci_native_path "$d"
}

# The -G option for builds that do not use a preset.
ci_generator_args() {
  if [[ -n ${WEFT_CI_GENERATOR:-} ]]; then
    printf '%s\n' -G "$WEFT_CI_GENERATOR"
  elif command -v ninja >/dev/null 2>&1; then
    printf '%s\n' -G Ninja
  fi
}

# Use compiler $1 unless CC is already set; fall back to cc when $1 is missing.
ci_default_cc() {
  if [[ -z ${CC:-} ]]; then
    if command -v "$1" >/dev/null 2>&1; then CC=$1; else CC=cc; fi
  fi
  export CC
  printf '==== CC=%s (%s)\n' "$CC" "$("$CC" --version 2>/dev/null | head -n 1 || true)"
}

# Run "$@" and say how long it took.
ci_timed() {
  local start=$SECONDS
  "$@"
  printf '==== %s: done in %ss\n' "$*" $((SECONDS - start))
}
