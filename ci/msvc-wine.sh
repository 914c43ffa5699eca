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
#                                       (ci/msvc/msvc-branch.cmake); first,
#                                       src/ so compiled (not linked) for
#                                       MSVC's other targets: x86, ARM64, ARM
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
# As in cmake/toolchain-clang-cl-wine.cmake: Wine's headers as the system's.
wine_cflags=(/nologo /W4 /WX /X -imsvc "$wine_include/msvcrt" -imsvc "$wine_include/windows")

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
  # /GS-: the cookie's own code runs before the cookie is set. "--" before
  # a file: clang-cl would read /work/... as its option /wo.
  for src in crt_common crt_exe crt_dll; do
    "clang-cl-$llvm" --target=x86_64-pc-windows-msvc "${wine_cflags[@]}" /c /O2 /GS- /MD \
      "/Fo$crt/$src.obj" -- "$WEFT_ROOT/ci/msvc/$src.c"
  done
  "llvm-lib-$llvm" /nologo "/out:$crt/weft_ci_crt.lib" "$crt/crt_common.obj"
  echo "==== msvc-wine: $crt ready"
}

# The library's sources as cl.exe sees them (no __clang__) on the targets
# that cannot run here: compiled to check them, nothing more. x86 needs
# /arch:SSE2, cl.exe's default there, for _mm_mfence and _mm_pause.
check_other_targets() {
  local target f arch ok status=0
  for target in i686 aarch64 thumbv7; do
    arch=()
    [[ $target == i686 ]] && arch=(/arch:SSE2)
    ok=ok
    for f in "$WEFT_ROOT"/src/*.c "$WEFT_ROOT"/src/sync/*.c "$WEFT_ROOT"/src/ipc/*.c "$WEFT_ROOT"/src/win32/*.c; do
      "clang-cl-$llvm" "--target=$target-pc-windows-msvc" "${wine_cflags[@]}" "${arch[@]}" \
        "/FI$WEFT_ROOT/ci/msvc/wine-gaps.h" /U__clang__ /std:c11 /Zs \
        -DWEFT_BUILDING -DWEFT_STATIC "-I$WEFT_ROOT/include" -- "$f" ||
        ok=FAILED
    done
    echo "==== msvc-wine: src/ as cl.exe compiles it for $target: $ok"
    [[ $ok == ok ]] || status=1
  done
  return $status
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
  if [[ $kind == atomics ]]; then
    check_other_targets || status=1
  fi
  bash "$WEFT_ROOT/ci/build-and-test.sh" "msvc-wine-$kind" || status=1
  printf '==== msvc-wine-%s: %ss\n' "$kind" $((SECONDS - start))
done
exit $status
