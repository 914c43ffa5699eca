#!/bin/sh
# Run a Windows program under Wine for ctest (CMAKE_CROSSCOMPILING_EMULATOR
# of cmake/toolchain-mingw-w64-x86_64.cmake): Wine's own diagnostics off, so
# a test's output is the program's; the program's exit status is returned.
# WINE names another wine binary; WINEPREFIX and WINEPATH pass through.
WINEDEBUG=-all
export WINEDEBUG
exec "${WINE:-wine}" "$@"
