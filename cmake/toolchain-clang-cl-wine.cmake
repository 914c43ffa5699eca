# SPDX-License-Identifier: MIT
# Cross-compile weft for 64-bit Windows with the MSVC ABI on Linux: clang-cl
# and lld-link (LLVM 14) against Wine 8's MSVC-style Universal CRT headers
# and PE import libraries (Debian: clang-14 lld-14 llvm-14 libwine-dev), and
# run what it builds (tests, examples) under Wine. This is how weft's own CI
# builds the MSVC ABI (ci/msvc-wine.sh, presets msvc-wine-*); Windows users
# build with Visual Studio (presets msvc-*).
#
# Wine has the DLL half of the Universal CRT only, not the static half that
# MSVC links into every module, nor import libraries under MSVC's names, so
# WEFT_MSVC_WINE_LIBS (cache or environment) names a folder that
# ci/msvc-wine.sh fills first:
#   <name>.lib          links to Wine's lib<name>.a, one per DLL
#   crt_exe.obj,        weft's CI start-up code (ci/msvc/): entry points,
#   crt_dll.obj,        atexit, initializer tables, TLS directory, /GS
#   weft_ci_crt.lib     cookie
# ci/msvc/wine-gaps.h is forced into every compilation: the SDK's
# declarations and deprecations (C4996) that Wine's headers lack.
#
# Set WEFT_LLVM_VERSION for another LLVM than 14, and WINE (environment)
# for another Wine. The flags below are CMake's initial CMAKE_C_FLAGS and
# linker flags: add to them through CFLAGS and LDFLAGS (environment), as a
# CMAKE_C_FLAGS of your own replaces them.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)

foreach(_weft_var IN ITEMS WEFT_MSVC_WINE_LIBS WEFT_LLVM_VERSION)
  if(NOT ${_weft_var} AND DEFINED ENV{${_weft_var}})
    set(${_weft_var} "$ENV{${_weft_var}}")
  endif()
endforeach()
if(NOT WEFT_LLVM_VERSION)
  set(WEFT_LLVM_VERSION 14)
endif()
if(NOT WEFT_MSVC_WINE_LIBS OR NOT EXISTS "${WEFT_MSVC_WINE_LIBS}/crt_exe.obj")
  message(FATAL_ERROR "toolchain-clang-cl-wine.cmake: WEFT_MSVC_WINE_LIBS (\"${WEFT_MSVC_WINE_LIBS}\") "
    "is not a folder made by ci/msvc-wine.sh (no crt_exe.obj in it): run `bash ci/msvc-wine.sh crt` first")
endif()
# try_compile() projects read this file again: give them the same values.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES WEFT_MSVC_WINE_LIBS WEFT_LLVM_VERSION)

set(CMAKE_C_COMPILER clang-cl-${WEFT_LLVM_VERSION})
set(CMAKE_LINKER lld-link-${WEFT_LLVM_VERSION})
set(CMAKE_AR llvm-lib-${WEFT_LLVM_VERSION})
set(CMAKE_RC_COMPILER llvm-rc-${WEFT_LLVM_VERSION})
set(CMAKE_MT llvm-mt-${WEFT_LLVM_VERSION})

set(_weft_wine_include /usr/include/wine/wine)
get_filename_component(_weft_ci_msvc "${CMAKE_CURRENT_LIST_DIR}/../ci/msvc" ABSOLUTE)
# /X: no %INCLUDE%; -imsvc: Wine's headers as the system headers, after
# clang's own (stddef.h, stdint.h, intrin.h, ...).
set(CMAKE_C_FLAGS_INIT
  "--target=x86_64-pc-windows-msvc /X -imsvc ${_weft_wine_include}/msvcrt -imsvc ${_weft_wine_include}/windows /FI${_weft_ci_msvc}/wine-gaps.h")

# No default libraries (MSVC's static CRT is not here) but the Universal
# CRT's DLLs; the entry point and atexit of weft's CI start-up code; no
# manifest (none is needed). On the linker's command line rather than in
# CMAKE_C_STANDARD_LIBRARIES, so that CMake's own probes link as well.
set(_weft_link "/nodefaultlib /manifest:no /libpath:${WEFT_MSVC_WINE_LIBS} ucrtbase.lib vcruntime140.lib kernel32.lib weft_ci_crt.lib")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_weft_link} /entry:mainCRTStartup ${WEFT_MSVC_WINE_LIBS}/crt_exe.obj")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_weft_link} /entry:_DllMainCRTStartup ${WEFT_MSVC_WINE_LIBS}/crt_dll.obj")

# add_test() and try_run() prefix every Windows program with this, as in
# the mingw-w64 toolchain.
set(CMAKE_CROSSCOMPILING_EMULATOR "/bin/sh;${CMAKE_CURRENT_LIST_DIR}/wine-run.sh")
