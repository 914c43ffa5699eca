#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/consume.sh [static|shared|both]: install weft and use it as a user would.
#
# For each kind (default both): build weft (Release, no tests), install it to
# a temporary prefix with `cmake --install --prefix`, check the installed
# files, then build and run ci/consumer/main.c four ways:
#   find_package   ci/consumer/find_package: find_package(weft CONFIG) -> weft::weft
#   pkg-config     $CC main.c $(pkg-config [--static] --cflags --libs weft)
#                  (skipped with MSVC, which has no such command line)
#   pkg_check_modules  ci/consumer/pkg_check_modules: pkg_check_modules(weft
#                  IMPORTED_TARGET) -> PkgConfig::weft, as the README shows
#                  (with pkg-config; skipped with MSVC)
#   add_subdirectory  ci/consumer/add_subdirectory: weft's source tree inside
#                  a user's build (which must not get weft's tests, examples
#                  or install rules)
# Each consumer must print "consumer <how>: <kind> weft <version> OK, counter
# 20000", where <version> is weft_version(), which must equal the source
# tree's WEFT_VERSION_STRING (include/weft/version.h).
# The last line is "consume: N passed, N failed".
#
# Environment: CC (default cc), WEFT_CI_GENERATOR, WEFT_CI_JOBS (see lib.sh).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kinds=${1:-both}
case $kinds in
  both) kinds="static shared" ;;
  static | shared) ;;
  *) ci_die "usage: ci/consume.sh [static|shared|both]" ;;
esac

work="$WEFT_ROOT/build-consume"
weft_version=$(sed -n 's/^#define WEFT_VERSION_STRING "\([^"]*\)".*/\1/p' "$WEFT_ROOT/include/weft/version.h")
[[ -n $weft_version ]] || ci_die "no WEFT_VERSION_STRING in include/weft/version.h"
rm -rf "$work"
mkdir -p "$work"

gen=()
while IFS= read -r arg; do gen+=("$arg"); done < <(ci_generator_args)
cmake_gen() { cmake ${gen[@]+"${gen[@]}"} "$@"; }

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "==== consume: ok: $*"; }
fail() { failed=$((failed + 1)); echo "==== consume: FAILED: $*"; }

# Run a consumer and check its output line.
check_run() {
  local what=$1 kind=$2 how=$3 exe=$4 out status=0
  out=$("$exe" 2>&1) || status=$?
  if ((status == 0)); then
    out=${out//$'\r'/}
    printf '%s\n' "$out"
    if [[ $out == "consumer $how: $kind weft $weft_version OK, counter 20000" ]]; then
      pass "$what"
      return 0
    fi
    fail "$what: unexpected output"
  else
    printf '%s\n' "$out"
    fail "$what: exit status $status"
  fi
  return 1
}

# Run "$@" as step $1 of the checks; a failure counts and the script goes on.
step() {
  local what=$1
  shift
  ci_log "consume: $what"
  if "$@"; then return 0; fi
  fail "$what"
  return 1
}

exe_suffix=""
ci_is_windows && exe_suffix=".exe"

for kind in $kinds; do
  shared=OFF
  [[ $kind == shared ]] && shared=ON
  build="$work/$kind/build"
  prefix="$work/$kind/prefix"

  step "$kind: configure weft" cmake_gen -S "$WEFT_ROOT" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=$shared \
    -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_EXAMPLES=OFF || continue
  step "$kind: build weft" cmake --build "$build" --config Release -j "$WEFT_CI_JOBS" || continue
  step "$kind: install" cmake --install "$build" --config Release --prefix "$prefix" || continue
  compiler_id=$(sed -n 's/^CMAKE_C_COMPILER_ID:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
  [[ -n $compiler_id ]] || compiler_id=$(grep -h '^set(CMAKE_C_COMPILER_ID ' "$build"/CMakeFiles/*/CMakeCCompiler.cmake 2>/dev/null | sed 's/.*"\(.*\)".*/\1/' | head -n 1 || true)

  # ---- The installed tree ----
  ci_log "consume: $kind: installed files"
  (cd "$prefix" && find . -type f -o -type l | LC_ALL=C sort)
  missing=0
  for f in include/weft.h include/weft/base.h include/weft/lock.h include/weft/sync.h \
           include/weft/thread.h include/weft/time.h include/weft/version.h; do
    [[ -f $prefix/$f ]] || { echo "missing: $f"; missing=1; }
  done
  config=$(find "$prefix" -name weftConfig.cmake | head -n 1)
  version=$(find "$prefix" -name weftConfigVersion.cmake | head -n 1)
  pc=$(find "$prefix" -name weft.pc | head -n 1)
  [[ -n $config ]] || { echo "missing: weftConfig.cmake"; missing=1; }
  [[ -n $version ]] || { echo "missing: weftConfigVersion.cmake"; missing=1; }
  [[ -n $pc ]] || { echo "missing: weft.pc"; missing=1; }
  if [[ $kind == shared ]] && ci_is_windows; then
    ls "$prefix"/bin/*weft*.dll >/dev/null 2>&1 || { echo "missing: the DLL in bin/"; missing=1; }
  fi
  if ((missing)); then fail "$kind: installed files"; else pass "$kind: installed files"; fi

  # The symbols a shared ELF library exports: only the public weft_ API.
  if [[ $kind == shared ]] && [[ $(uname -s) == Linux ]] && command -v nm >/dev/null 2>&1; then
    so=$(find "$prefix" -name 'libweft.so.*' -type f | head -n 1)
    others=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v -E '^(weft_[a-z]|_init$|_fini$|_edata$|_end$|__bss_start$)' || true)
    if [[ -z $others ]]; then
      pass "$kind: libweft.so exports only weft_* ($(nm -D --defined-only "$so" | grep -c ' weft_') symbols)"
    else
      printf 'exported but not public API:\n%s\n' "$others"
      fail "$kind: libweft.so exports internal symbols"
    fi
    # Before 1.0 each minor version has its own SONAME (CMakeLists.txt).
    want=libweft.so.${weft_version%.*}
    ((${weft_version%%.*} > 0)) && want=libweft.so.${weft_version%%.*}
    soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
    if [[ $soname == "$want" ]]; then
      pass "$kind: SONAME $soname"
    else
      fail "$kind: SONAME '$soname', expected $want"
    fi
  fi

  # Windows finds a consumer's DLL on PATH (ELF and Mach-O consumers have
  # the library's directory as their run path).
  if [[ $kind == shared ]] && ci_is_windows; then
    PATH="$(cygpath -u "$prefix/bin"):$PATH"
    export PATH
  fi

  # ---- 1. find_package(weft CONFIG) ----
  b="$work/$kind/find_package"
  if step "$kind: find_package configure" cmake_gen -S "$WEFT_ROOT/ci/consumer/find_package" -B "$b" \
       -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=$prefix" &&
     step "$kind: find_package build" cmake --build "$b" --config Release; then
    check_run "$kind: find_package" "$kind" find_package "$b/bin/consumer$exe_suffix" || true
  fi

  # ---- 2. pkg-config ----
  if [[ $compiler_id == MSVC ]]; then
    echo "==== consume: $kind: pkg-config consumer skipped (MSVC has no cc command line)"
  elif ! command -v pkg-config >/dev/null 2>&1; then
    if [[ $(uname -s) == Linux ]]; then
      fail "$kind: pkg-config is not installed"
    else
      echo "==== consume: $kind: pkg-config consumer skipped (no pkg-config here)"
    fi
  else
    ci_log "consume: $kind: pkg-config"
    cc=${CC:-cc}
    command -v "$cc" >/dev/null 2>&1 || cc=gcc
    static_flag=()
    [[ $kind == static ]] && static_flag=(--static)
    pcdir=$(dirname "$pc")
    if flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config ${static_flag[@]+"${static_flag[@]}"} --cflags --libs weft); then
      echo "pkg-config${static_flag[*]:+ ${static_flag[*]}} --cflags --libs weft: $flags"
      rpath=()
      if [[ $kind == shared ]] && ! ci_is_windows; then
        libdir=$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=libdir weft)
        rpath=("-Wl,-rpath,$libdir")
      fi
      exe="$work/$kind/pkg-config-consumer$exe_suffix"
      # shellcheck disable=SC2086 # $flags is a list of options
      if (set -x && "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror '-DCONSUMER_HOW="pkg-config"' \
            "$WEFT_ROOT/ci/consumer/main.c" -o "$exe" $flags ${rpath[@]+"${rpath[@]}"}); then
        check_run "$kind: pkg-config" "$kind" pkg-config "$exe" || true
      else
        fail "$kind: pkg-config build"
      fi
      if [[ $kind == static ]] && [[ $flags != *-DWEFT_STATIC* ]]; then
        fail "$kind: weft.pc's Cflags lack -DWEFT_STATIC"
      fi
      if [[ $kind == static ]] && ! ci_is_windows && [[ $flags != *-pthread* && $flags != *-lpthread* ]]; then
        fail "$kind: weft.pc's Libs.private lack the thread library (-pthread)"
      fi
    else
      fail "$kind: pkg-config --cflags --libs weft"
    fi

    # ---- 2b. pkg_check_modules(... IMPORTED_TARGET), as the README shows ----
    b="$work/$kind/pkg_check_modules"
    if PKG_CONFIG_PATH="$pcdir" step "$kind: pkg_check_modules configure" \
         cmake_gen -S "$WEFT_ROOT/ci/consumer/pkg_check_modules" -B "$b" -DCMAKE_BUILD_TYPE=Release &&
       step "$kind: pkg_check_modules build" cmake --build "$b" --config Release; then
      check_run "$kind: pkg_check_modules" "$kind" pkg_check_modules "$b/bin/consumer$exe_suffix" || true
    fi
  fi

  # ---- 3. add_subdirectory(weft) ----
  b="$work/$kind/add_subdirectory"
  if step "$kind: add_subdirectory configure" cmake_gen -S "$WEFT_ROOT/ci/consumer/add_subdirectory" -B "$b" \
       -DCMAKE_BUILD_TYPE=Release "-DBUILD_SHARED_LIBS=$shared" "-DWEFT_SOURCE_DIR=$WEFT_ROOT" &&
     step "$kind: add_subdirectory build" cmake --build "$b" --config Release -j "$WEFT_CI_JOBS"; then
    check_run "$kind: add_subdirectory" "$kind" add_subdirectory "$b/bin/consumer$exe_suffix" || true
  fi
done

echo
echo "consume: $passed passed, $failed failed"
((failed == 0))
