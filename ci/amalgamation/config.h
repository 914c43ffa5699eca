/* SPDX-License-Identifier: MIT */
/*
 * The top of the amalgamated weft.c: what the CMake build decides at
 * configure time (CMakeLists.txt, cmake/posix.cmake), decided here from the
 * compiler's platform macros, with the defaults CMake picks on the same
 * system. Where no macro can tell whether the C library has a call, the
 * portable path is taken.
 *
 * Define one of a group before compiling weft.c to choose otherwise, as
 * the CMake option in brackets would:
 *   WEFT_WAIT_FUTEX (Linux) or WEFT_WAIT_PARKINGLOT         [WEFT_WAIT]
 *   WEFT_CHILD_WAIT_PIDFD (Linux) or WEFT_CHILD_WAIT_POLL   [WEFT_CHILD_WAIT]
 *   WEFT_SPAWN_CLOSE_CLOSEFROM, _CLOEXEC or _SCAN           [WEFT_SPAWN_CLOSE]
 * Windows has one backend and nothing to choose.
 */
#define WEFT_BUILDING

#if !defined(_WIN32)

/* The POSIX backend's files want _GNU_SOURCE (pipe2, ppoll, gettid...). It
 * only works before the first system header, so it is defined here, for
 * the whole file. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

/* Only headers that define nothing but macros: every file pasted below
 * sees what these declare, and only the Linux build is tested. */
#if defined(__linux__)
#include <features.h>    /* __GLIBC__, __GLIBC_MINOR__ (glibc; musl has none) */
#include <sys/syscall.h> /* SYS_pidfd_open */
#elif defined(__FreeBSD__)
#include <osreldate.h> /* __FreeBSD_version */
#endif

/* The C library's calls that CMake looks for (WEFT_HAVE_*). pipe2: every
 * Linux C library, FreeBSD 10. sigtimedwait: Linux, FreeBSD, NetBSD (not
 * macOS nor OpenBSD). posix_spawn_file_actions_addchdir_np: glibc 2.29,
 * FreeBSD 13.1, macOS 10.15; musl has it too but says not which version
 * it is, so it gets the path without. */
#if defined(__linux__) || (defined(__FreeBSD__) && __FreeBSD_version >= 1000000)
#define WEFT_HAVE_PIPE2
#endif
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__)
#define WEFT_HAVE_SIGTIMEDWAIT
#endif
#if (defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))) ||  \
    (defined(__FreeBSD__) && __FreeBSD_version >= 1301000) ||                               \
    (defined(__ENVIRONMENT_MAC_OS_X_VERSION_MIN_REQUIRED__) &&                              \
     __ENVIRONMENT_MAC_OS_X_VERSION_MIN_REQUIRED__ >= 101500)
#define WEFT_HAVE_SPAWN_CHDIR_NP
#endif

/* WEFT_WAIT: futex on Linux, the parking lot elsewhere. */
#if !defined(WEFT_WAIT_FUTEX) && !defined(WEFT_WAIT_PARKINGLOT)
#if defined(__linux__)
#define WEFT_WAIT_FUTEX
#else
#define WEFT_WAIT_PARKINGLOT
#endif
#endif
#if defined(WEFT_WAIT_FUTEX) && !defined(__linux__)
#error "weft: WEFT_WAIT_FUTEX needs Linux"
#endif

/* WEFT_CHILD_WAIT: a pidfd where the Linux headers have the system call
 * (the kernel may still lack it: spawn.c then polls), else polling. */
#if !defined(WEFT_CHILD_WAIT_PIDFD) && !defined(WEFT_CHILD_WAIT_POLL) && defined(__linux__) &&  \
    defined(SYS_pidfd_open)
#define WEFT_CHILD_WAIT_PIDFD
#endif
#if defined(WEFT_CHILD_WAIT_PIDFD) && !(defined(__linux__) && defined(SYS_pidfd_open))
#error "weft: WEFT_CHILD_WAIT_PIDFD needs Linux headers with SYS_pidfd_open"
#endif

/* WEFT_SPAWN_CLOSE: the closefrom file action (glibc 2.34, FreeBSD 13.1),
 * else POSIX_SPAWN_CLOEXEC_DEFAULT (macOS, the one system that has it),
 * else the descriptor scan. */
#if !defined(WEFT_SPAWN_CLOSE_CLOSEFROM) && !defined(WEFT_SPAWN_CLOSE_CLOEXEC) &&             \
    !defined(WEFT_SPAWN_CLOSE_SCAN)
#if (defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))) ||  \
    (defined(__FreeBSD__) && __FreeBSD_version >= 1301000)
#define WEFT_SPAWN_CLOSE_CLOSEFROM
#elif defined(__APPLE__)
#define WEFT_SPAWN_CLOSE_CLOEXEC
#else
#define WEFT_SPAWN_CLOSE_SCAN
#endif
#endif

#endif /* !_WIN32 */
