# SPDX-License-Identifier: MIT
# Cross-compile weft for aarch64 Linux against glibc 2.36 with zig cc, and
# run what it builds under qemu-aarch64 (ci/aarch64.sh). Debian's
# libc6-arm64-cross and libgcc-s1-arm64-cross hold the target's run-time
# libraries in /usr/aarch64-linux-gnu/lib; the programs name that folder's
# dynamic loader and search path themselves, so they run through qemu (or
# binfmt_misc) without QEMU_LD_PREFIX, which a child started with an
# explicit environment would lose. WEFT_AARCH64_SYSROOT names another
# folder.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(WEFT_ZIG_TARGET aarch64-linux-gnu.2.36)
if(NOT WEFT_AARCH64_SYSROOT)
  set(WEFT_AARCH64_SYSROOT /usr/aarch64-linux-gnu)
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES WEFT_AARCH64_SYSROOT)
set(_weft_aarch64_link
    "-Wl,--dynamic-linker=${WEFT_AARCH64_SYSROOT}/lib/ld-linux-aarch64.so.1 -Wl,-rpath,${WEFT_AARCH64_SYSROOT}/lib")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_weft_aarch64_link}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_weft_aarch64_link}")
# glibc's pthread_exit dlopens libgcc_s.so.1 to unwind, and a dlopen does
# not search the program's RUNPATH (zig's linker writes no DT_RPATH): the
# programs load it from the start instead.
set(CMAKE_C_STANDARD_LIBRARIES_INIT "${WEFT_AARCH64_SYSROOT}/lib/libgcc_s.so.1")
set(CMAKE_FIND_ROOT_PATH ${WEFT_AARCH64_SYSROOT})
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-zig.cmake)
