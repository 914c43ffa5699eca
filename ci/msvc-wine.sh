#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/msvc-wine.sh [crt | KIND...]: weft built with the MSVC ABI on Linux
# (clang-cl + lld-link against Wine's Universal CRT, see
# cmake/toolchain-clang-cl-wine.cmake), the whole suite run under Wine, for
# each KIND (default: all three):
#   static    preset msvc-wine-static   the static library
#   shared    preset msvc-wine-shared   the DLL
#   atomics   preset msvc-wine-atomics  static, with src/ compiled as cl.exe
#                                       would: __clang__ undefined, so that
#                                       src/atomic.h takes its MSVC branch
#                                       (ci/msvc/msvc-branch.cmake)
# Every kind runs, even after one fails. "crt" only makes the folder the
# presets link with (build-msvc-wine-crt/): import libraries under MSVC's
# names and weft's CI start-up code (ci/msvc/), which Wine does not ship.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=wine.sh
source "$WEFT_ROOT/ci/wine.sh"

llvm=${WEFT_LLVM_VERSION:-14}
wine_lib=/usr/lib/x86_64-linux-gnu/wine/x86_64-windows
wine_include=/usr/include/wine/wine
crt=$WEFT_ROOT/build-msvc-wine-crt

# The folder the toolchain file's WEFT_MSVC_WINE_LIBS names.
make_crt() {
  local lib name src tool
  for tool in clang-cl-$llvm lld-link-$llvm llvm-lib-$llvm; do
    command -v "$tool" >/dev/null 2>&1 ||
      ci_die "$tool is not installed (ci/install-deps.sh installs clang-$llvm lld-$llvm llvm-$llvm)"
  done
  [[ -d $wine_include/msvcrt && -f $wine_lib/libucrtbase.a ]] ||
    ci_die "Wine's MSVC headers or import libraries are missing (ci/install-deps.sh installs libwine-dev)"
  rm -rf "$crt"
  mkdir -p "$crt"
  for lib in "$wine_lib"/lib*.a; do
    name=${lib##*/lib}
    ln -s "$lib" "$crt/${name%.a}.lib"
  done
  # The SDK's synchronization.lib imports WaitOnAddress and its kin from an
  # API set that Wine forwards to kernelbase, whose import library has them.
  ln -s "$wine_lib/libkernelbase.a" "$crt/synchronization.lib"
  for src in crt_common crt_exe crt_dll; do
    # /GS-: the cookie's own code runs before the cookie is set.
    "clang-cl-$llvm" --target=x86_64-pc-windows-msvc /nologo /c /O2 /GS- /W4 /WX /MD \
      /X -imsvc "$wine_include/msvcrt" -imsvc "$wine_include/windows" \
      "/Fo$crt/$src.obj" -- "$WEFT_ROOT/ci/msvc/$src.c" # -- : /work/... is no option
  done
  "llvm-lib-$llvm" /nologo "/out:$crt/weft_ci_crt.lib" "$crt/crt_common.obj"
  echo "==== msvc-wine: $crt ready"
}

kinds=("$@")
[[ ${#kinds[@]} -gt 0 ]] || kinds=(static shared atomics)
make_crt
[[ ${kinds[*]} == crt ]] && exit 0

trap wine_stop EXIT
wine_start || exit 1
status=0
for kind in "${kinds[@]}"; do
  case $kind in
    static | shared | atomics) ;;
    *) ci_die "unknown kind $kind (static, shared, atomics or crt)" ;;
  esac
  start=$SECONDS
  bash "$WEFT_ROOT/ci/build-and-test.sh" "msvc-wine-$kind" || status=1
  printf '==== msvc-wine-%s: %ss\n' "$kind" $((SECONDS - start))
done
exit $status
