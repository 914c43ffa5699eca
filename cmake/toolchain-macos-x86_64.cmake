# SPDX-License-Identifier: MIT
# Cross-compile weft for macOS on x86_64 with zig cc (Apple's libc headers and
# stubs ship with zig): library, tests and examples compile and link; they
# cannot run on Linux (ci/macos.sh).
set(CMAKE_SYSTEM_NAME Darwin)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(WEFT_ZIG_TARGET x86_64-macos)
# zig picks the SDK and the architecture itself: no xcrun, no -arch.
set(CMAKE_OSX_SYSROOT "" CACHE PATH "")
set(CMAKE_OSX_ARCHITECTURES "" CACHE STRING "")
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-zig.cmake)
