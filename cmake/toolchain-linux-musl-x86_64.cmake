# SPDX-License-Identifier: MIT
# Build weft for x86_64 Linux with musl (zig cc), linked statically: the
# programs run on any x86_64 Linux kernel, this one included (ci/musl.sh).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(WEFT_ZIG_TARGET x86_64-linux-musl)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-zig.cmake)
