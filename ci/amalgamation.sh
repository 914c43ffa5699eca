#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/amalgamation.sh [COMPILER...]: weft as one weft.h and one weft.c
# (ci/amalgamate.py), built without CMake and used by a test program.
#
# Writes the pair into build-amalgamation/, then for each compiler (default:
# gcc, clang and x86_64-w64-mingw32-gcc) compiles weft.c on its own with
# `-std=c11 -Wall -Wextra -Wpedantic -Wshadow -Werror -O2 -c` (-Wshadow:
# one translation unit, where a file's local must not hide another's static), links
# ci/amalgamation/main.c with it (-pthread, or -lsynchronization for
# Windows) and runs it: a Windows program under Wine, unless this is
# Windows. gcc also builds the paths the other POSIX systems take (parking
# lot, polled child waits, descriptor scan). A compiler that is not
# installed fails its check. The program must print
# "amalgamation: weft <version> OK".
# The last line is "amalgamation: N passed, N failed".
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=wine.sh
source "$WEFT_ROOT/ci/wine.sh"
trap wine_stop EXIT

compilers=("$@")
[[ $# -gt 0 ]] || compilers=(gcc clang x86_64-w64-mingw32-gcc)
flags=(-std=c11 -Wall -Wextra -Wpedantic -Wshadow -Werror -O2)
others=(-DWEFT_WAIT_PARKINGLOT -DWEFT_CHILD_WAIT_POLL -DWEFT_SPAWN_CLOSE_SCAN)

build="$WEFT_ROOT/build-amalgamation"
rm -rf "$build"
ci_log "amalgamation: ci/amalgamate.py $build"
if ! python3 "$WEFT_ROOT/ci/amalgamate.py" "$build"; then
  echo "amalgamation: 0 passed, 1 failed"
  exit 1
fi
version=$(sed -n -E 's/^#define WEFT_VERSION_STRING "(.*)"$/\1/p' "$build/weft.h")
cd "$build" || exit 1

passed=0
failed=0
wine_ready=

# check NAME CC [FLAG...]: build weft.c and the program with CC, run it.
check() {
  local name=$1 cc=$2 exe out status=0 target libs run=()
  shift 2
  ci_log "amalgamation: $name: $cc ${flags[*]} $*"
  if ! command -v "$cc" >/dev/null 2>&1; then
    echo "==== amalgamation: $cc is not installed (ci/install-deps.sh installs it)"
    return 1
  fi
  target=$("$cc" -dumpmachine)
  if [[ $target == *mingw* ]]; then
    exe="main-$name.exe"
    libs=(-lsynchronization)
    if ! ci_is_windows; then
      if [[ -z $wine_ready ]]; then
        wine_ready=no
        wine_start && wine_ready=yes
      fi
      [[ $wine_ready == yes ]] || return 1
      run=(wine)
    fi
  else
    exe="main-$name"
    libs=(-pthread)
  fi
  "$cc" "${flags[@]}" "$@" -c weft.c -o "weft-$name.o" || return 1
  "$cc" "${flags[@]}" -I. "$WEFT_ROOT/ci/amalgamation/main.c" "weft-$name.o" "${libs[@]}" \
    -o "$exe" || return 1
  command -v timeout >/dev/null 2>&1 && run=(timeout 300 ${run[@]+"${run[@]}"})
  out=$(${run[@]+"${run[@]}"} "./$exe") || status=$?
  out=${out//$'\r'/}
  printf '%s\n' "$out"
  if ((status != 0)); then
    echo "==== amalgamation: $name: exit status $status"
    return 1
  fi
  [[ $out == "amalgamation: weft $version OK" ]] ||
    { echo "==== amalgamation: $name: unexpected output"; return 1; }
}

record() {
  if check "$@"; then
    passed=$((passed + 1))
    echo "==== amalgamation: ok: $1"
  else
    failed=$((failed + 1))
    echo "==== amalgamation: FAILED: $1"
  fi
}

for cc in "${compilers[@]}"; do
  record "$(basename "$cc")" "$cc"
  if [[ $(basename "$cc") == gcc ]] && ! ci_is_windows; then
    record gcc-other-posix "$cc" "${others[@]}"
  fi
done

echo "amalgamation: $passed passed, $failed failed"
((failed == 0))
