# SPDX-License-Identifier: MIT
# The POSIX backend, included by the top-level CMakeLists.txt on every
# non-Windows system: which of src/posix/ is built (WEFT_BACKEND_SOURCES),
# and the configure checks for its files, pipes and child processes, whose
# results become compile definitions of src/posix/file.c and
# src/posix/child.c only.

include(CheckSymbolExists)

# One file per contract of src/sys/ (HACKING.md), of the two for the wait
# the one WEFT_WAIT chose.
if(WEFT_WAIT_RESOLVED STREQUAL "futex")
  if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
    message(FATAL_ERROR "WEFT_WAIT=futex needs Linux")
  endif()
  set(WEFT_WAIT_SOURCE src/posix/wait_futex.c)
elseif(WEFT_WAIT_RESOLVED STREQUAL "parkinglot")
  set(WEFT_WAIT_SOURCE src/posix/wait_parkinglot.c)
else()
  message(FATAL_ERROR "WEFT_WAIT=${WEFT_WAIT}: POSIX has futex (Linux) and parkinglot")
endif()
set(WEFT_BACKEND_SOURCES src/posix/child.c src/posix/conn.c src/posix/error.c src/posix/exit.c src/posix/file.c
  src/posix/fork.c src/posix/plock.c src/posix/shm.c src/posix/signals.c src/posix/thread.c src/posix/time.c ${WEFT_WAIT_SOURCE})

# What differs between POSIX systems lives in one file per family
# (src/posix/posix.h, "What differs"): pick the system's.
if(CMAKE_SYSTEM_NAME MATCHES "^(Linux|Android)$")
  set(WEFT_POSIX_OS_SOURCE src/posix/linux.c)
elseif(CMAKE_SYSTEM_NAME STREQUAL "Darwin")
  set(WEFT_POSIX_OS_SOURCE src/posix/darwin.c)
elseif(CMAKE_SYSTEM_NAME MATCHES "^(FreeBSD|DragonFly|NetBSD|OpenBSD)$")
  set(WEFT_POSIX_OS_SOURCE src/posix/bsd.c)
else()
  message(FATAL_ERROR "weft: no src/posix/ file for ${CMAKE_SYSTEM_NAME}: write one as posix/posix.h says")
endif()
list(APPEND WEFT_BACKEND_SOURCES ${WEFT_POSIX_OS_SOURCE})

# The backend's files define _GNU_SOURCE; -std=c11 hides these symbols
# from the checks without it.
set(CMAKE_REQUIRED_DEFINITIONS -D_GNU_SOURCE)
check_symbol_exists(pipe2 "fcntl.h;unistd.h" WEFT_HAVE_PIPE2)
# shm_open is in libc since glibc 2.34 (and in musl, macOS, the BSDs);
# older glibc has it in librt.
check_symbol_exists(shm_open "sys/mman.h" WEFT_HAVE_SHM_OPEN_IN_LIBC)
if(NOT WEFT_HAVE_SHM_OPEN_IN_LIBC)
  set(WEFT_POSIX_LIBRARIES rt)
endif()
check_symbol_exists(sigtimedwait "signal.h" WEFT_HAVE_SIGTIMEDWAIT)
check_symbol_exists(posix_spawn_file_actions_addclosefrom_np "spawn.h" WEFT_HAVE_SPAWN_CLOSEFROM)
check_symbol_exists(POSIX_SPAWN_CLOEXEC_DEFAULT "spawn.h" WEFT_HAVE_SPAWN_CLOEXEC_DEFAULT)
check_symbol_exists(posix_spawn_file_actions_addchdir "spawn.h" WEFT_HAVE_SPAWN_CHDIR)
check_symbol_exists(posix_spawn_file_actions_addchdir_np "spawn.h" WEFT_HAVE_SPAWN_CHDIR_NP)
check_symbol_exists(SYS_pidfd_open "sys/syscall.h" WEFT_HAVE_PIDFD_OPEN)
unset(CMAKE_REQUIRED_DEFINITIONS)
# The C library's "this process has one thread" flag (glibc 2.32+), which
# src/sys/thread.h reads for the lock's single-threaded path: a definition
# of the whole library (the top-level CMakeLists.txt), since the sync layer
# reads it inline. Without it (musl, macOS, the BSDs) that path is compiled
# out.
check_symbol_exists(__libc_single_threaded "sys/single_threaded.h" WEFT_HAVE_LIBC_SINGLE_THREADED)

# A spawned child must inherit only the files it is given, or it would hold
# copies of the parent's pipes. How the rest are closed (WEFT_SPAWN_CLOSE):
#   closefrom  posix_spawn_file_actions_addclosefrom_np (glibc 2.34+,
#              FreeBSD 13.1+)
#   cloexec    POSIX_SPAWN_CLOEXEC_DEFAULT (macOS)
#   scan       a close action for each open descriptor that is not
#              close-on-exec, found when spawning (older glibc and BSDs)
# auto takes the first the system has. The parkinglot preset, which stands
# for the other POSIX systems in CI, tests scan on Linux.
if(WEFT_SPAWN_CLOSE STREQUAL "auto")
  if(WEFT_HAVE_SPAWN_CLOSEFROM)
    set(WEFT_SPAWN_CLOSE_RESOLVED closefrom)
  elseif(WEFT_HAVE_SPAWN_CLOEXEC_DEFAULT)
    set(WEFT_SPAWN_CLOSE_RESOLVED cloexec)
  else()
    set(WEFT_SPAWN_CLOSE_RESOLVED scan)
  endif()
elseif(WEFT_SPAWN_CLOSE STREQUAL "closefrom" AND NOT WEFT_HAVE_SPAWN_CLOSEFROM)
  message(FATAL_ERROR "WEFT_SPAWN_CLOSE=closefrom: posix_spawn_file_actions_addclosefrom_np is missing")
elseif(WEFT_SPAWN_CLOSE STREQUAL "cloexec" AND NOT WEFT_HAVE_SPAWN_CLOEXEC_DEFAULT)
  message(FATAL_ERROR "WEFT_SPAWN_CLOSE=cloexec: POSIX_SPAWN_CLOEXEC_DEFAULT is missing")
elseif(WEFT_SPAWN_CLOSE MATCHES "^(closefrom|cloexec|scan)$")
  set(WEFT_SPAWN_CLOSE_RESOLVED ${WEFT_SPAWN_CLOSE})
else()
  message(FATAL_ERROR "WEFT_SPAWN_CLOSE=${WEFT_SPAWN_CLOSE}: choose auto, closefrom, cloexec or scan")
endif()
message(STATUS "weft: spawn closes other descriptors by ${WEFT_SPAWN_CLOSE_RESOLVED}")

if(WEFT_CHILD_WAIT STREQUAL "auto")
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND WEFT_HAVE_PIDFD_OPEN)
    set(WEFT_CHILD_WAIT_RESOLVED pidfd)
  else()
    set(WEFT_CHILD_WAIT_RESOLVED poll)
  endif()
elseif(WEFT_CHILD_WAIT STREQUAL "pidfd")
  if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux" OR NOT WEFT_HAVE_PIDFD_OPEN)
    message(FATAL_ERROR "WEFT_CHILD_WAIT=pidfd needs Linux headers with SYS_pidfd_open")
  endif()
  set(WEFT_CHILD_WAIT_RESOLVED pidfd)
elseif(WEFT_CHILD_WAIT STREQUAL "poll")
  set(WEFT_CHILD_WAIT_RESOLVED poll)
else()
  message(FATAL_ERROR "WEFT_CHILD_WAIT=${WEFT_CHILD_WAIT}: choose auto, pidfd or poll")
endif()
message(STATUS "weft: child wait ${WEFT_CHILD_WAIT_RESOLVED}")

set(weft_posix_definitions "")
foreach(have WEFT_HAVE_PIPE2 WEFT_HAVE_SIGTIMEDWAIT WEFT_HAVE_SPAWN_CHDIR WEFT_HAVE_SPAWN_CHDIR_NP)
  if(${have})
    list(APPEND weft_posix_definitions ${have})
  endif()
endforeach()
string(TOUPPER "WEFT_SPAWN_CLOSE_${WEFT_SPAWN_CLOSE_RESOLVED}" spawn_close_definition)
list(APPEND weft_posix_definitions ${spawn_close_definition})
if(WEFT_CHILD_WAIT_RESOLVED STREQUAL "pidfd")
  list(APPEND weft_posix_definitions WEFT_CHILD_WAIT_PIDFD)
endif()
set_source_files_properties(src/posix/file.c src/posix/child.c
  PROPERTIES COMPILE_DEFINITIONS "${weft_posix_definitions}")
