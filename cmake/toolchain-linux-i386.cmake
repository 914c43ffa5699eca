# SPDX-License-Identifier: MIT
# Build weft for 32-bit x86 Linux with the host's gcc -m32 (Debian's
# gcc-multilib), and run what it builds under qemu-i386 (ci/i386.sh). A
# kernel without ia32 emulation cannot run i386 programs itself; where the
# host can, configure with -DWEFT_I386_EMULATOR= (empty) and the tests run
# natively. Programs the tests start themselves reach qemu through
# binfmt_misc (ci/qemu.sh).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_C_FLAGS_INIT "-m32")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-m32")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-m32")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-m32")
set(CMAKE_LIBRARY_ARCHITECTURE i386-linux-gnu)
if(NOT DEFINED WEFT_I386_EMULATOR)
  set(WEFT_I386_EMULATOR qemu-i386)
endif()
set(WEFT_I386_EMULATOR "${WEFT_I386_EMULATOR}" CACHE STRING
    "The program that runs i386 programs for ctest (empty: the host runs them)")
if(WEFT_I386_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${WEFT_I386_EMULATOR})
endif()
