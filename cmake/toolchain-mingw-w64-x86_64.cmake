# SPDX-License-Identifier: MIT
# Cross-compile weft for 64-bit Windows with mingw-w64, and run what it
# builds (tests, examples) under Wine, so that `ctest` is the same command
# as on every other platform:
#
#   cmake -S . -B build-mingw -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw-w64-x86_64.cmake
#   cmake --build build-mingw && ctest --test-dir build-mingw
#
# Set WEFT_MINGW_PREFIX (cache or environment) for a toolchain installed
# under another triplet prefix, and WINE (environment) for another Wine.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

if(NOT WEFT_MINGW_PREFIX)
  if(DEFINED ENV{WEFT_MINGW_PREFIX})
    set(WEFT_MINGW_PREFIX "$ENV{WEFT_MINGW_PREFIX}")
  else()
    set(WEFT_MINGW_PREFIX x86_64-w64-mingw32)
  endif()
endif()
# try_compile() projects read this file again: give them the same prefix.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES WEFT_MINGW_PREFIX)

set(CMAKE_C_COMPILER ${WEFT_MINGW_PREFIX}-gcc)
set(CMAKE_CXX_COMPILER ${WEFT_MINGW_PREFIX}-g++)
set(CMAKE_RC_COMPILER ${WEFT_MINGW_PREFIX}-windres)

# Look for headers, libraries and packages in the target's sysroot only;
# build tools (programs) come from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${WEFT_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# libgcc linked statically, so the .exe and .dll files need no
# libgcc_s_seh-1.dll beside them, under Wine or on a bare Windows machine.
# (weft uses the win32 thread model and needs no libwinpthread.)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static-libgcc")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static-libgcc")

# add_test() and try_run() prefix every Windows program with this. Run
# through sh so the script need not be executable in the checkout.
set(CMAKE_CROSSCOMPILING_EMULATOR "/bin/sh;${CMAKE_CURRENT_LIST_DIR}/wine-run.sh")
