/* SPDX-License-Identifier: MIT */
/**
 * \file weft/base.h
 * \brief What every weft module shares: the export macro, status codes,
 *        the timeout convention and the error helpers.
 *
 * Status: a function that can fail returns `int`, `WEFT_OK` (0) or one of
 * the negative `WEFT_E*` codes below. Misuse (NULL, releasing a lock that is
 * not held, a wrong owner) is reported as a code; weft never aborts on it.
 *
 * Timeouts are `double` seconds, relative, measured on the monotonic clock:
 * - `WEFT_FOREVER` blocks without limit;
 * - `0` never blocks (one attempt);
 * - a positive value is the longest wait; values too large to represent are
 *   treated as `WEFT_FOREVER`;
 * - any other negative value, and NaN, is `WEFT_EINVAL` (Python raises
 *   ValueError for a negative timeout other than -1).
 * Spurious wake-ups are never visible: every wait loops to its deadline.
 *
 * Threads: every function may be called from any thread, at the same time
 * as any other, unless its "Thread safety" paragraph says otherwise. That
 * paragraph also says whether the call blocks and for how long. "Never
 * blocks" means the call does not wait for another thread or process to do
 * something; it may still take one of weft's internal locks for a moment.
 *
 * Option structs (`weft_thread_opts`, `weft_queue_opts`,
 * `weft_process_opts`, `weft_pool_opts`, `weft_popen_opts`) are allocated by
 * the caller and end in `void *reserved[4]`, which must be zero: every
 * initializer that leaves it out zero-fills it (`{0}`, `{.daemon = true}`,
 * the positional `{WEFT_START_SPAWN, false}`), as does memset. A later
 * release turns reserved slots into fields whose zero value keeps today's
 * behaviour, so a program built against an older header passes a struct of
 * the same size with the new fields zero. A non-zero reserved slot is
 * `WEFT_EINVAL`: a program that sets a newer field fails on an older weft
 * rather than having it ignored. A slot holds a pointer, `size_t`, `int` or
 * `bool` alike on LP64, ILP32 and Win64 (tests/test_abi.c pins the
 * layouts). A leading size or version field (Win32's `cbSize`, SDL3's
 * `SDL_INIT_INTERFACE`) was not chosen: it would shift every positional
 * initializer by one member. Designated initializers are the form that
 * stays free of `-Wmissing-field-initializers` warnings as fields come.
 */
#ifndef WEFT_BASE_H
#define WEFT_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * \def WEFT_API
 * Marks the public functions. A static library (or the amalgamation) is
 * used with WEFT_STATIC defined, which the CMake target and weft.pc set for
 * their users; a shared build exports these symbols only.
 */
#if defined(WEFT_STATIC)
#  define WEFT_API
#elif defined(_WIN32) || defined(__CYGWIN__)
#  if defined(WEFT_BUILDING)
#    define WEFT_API __declspec(dllexport)
#  else
#    define WEFT_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define WEFT_API __attribute__((visibility("default")))
#else
#  define WEFT_API
#endif

/**
 * \def WEFT_NORETURN
 * The `noreturn` of <stdnoreturn.h>, usable from C and C++: marks
 * weft_exit(), weft_exit_now() and weft_thread_exit().
 */
#if defined(__cplusplus)
#  define WEFT_NORETURN [[noreturn]]
#elif defined(_MSC_VER)
#  define WEFT_NORETURN __declspec(noreturn)
#else
#  define WEFT_NORETURN _Noreturn
#endif

/**
 * \def WEFT_ALIGN8
 * Put before a struct member (or a variable) that is read and written as
 * one 64-bit atomic: aligns it to 8 bytes on every ABI. The i386 System V
 * ABI aligns a uint64_t member to 4 only, and a 64-bit atomic access
 * there (fildll / fistpll, cmpxchg8b) is atomic only within one cache
 * line. C11, C++11, MSVC, and gcc or clang in older modes.
 */
#if defined(__cplusplus) && __cplusplus >= 201103L
#  define WEFT_ALIGN8 alignas(8)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#  define WEFT_ALIGN8 _Alignas(8)
#elif defined(_MSC_VER)
#  define WEFT_ALIGN8 __declspec(align(8))
#elif defined(__GNUC__) || defined(__clang__)
#  define WEFT_ALIGN8 __attribute__((aligned(8)))
#else
#  define WEFT_ALIGN8 /* another compiler: its ABI's own alignment */
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Block without limit: the timeout argument that never expires. */
#define WEFT_FOREVER (-1.0)

/**
 * The status codes: X(name, value, description). One table yields the enum,
 * weft_strerror() and the names, so they cannot disagree. Each function's
 * documentation says which of them it can return, and when.
 */
#define WEFT_STATUS_MAP(X)                                                     \
    X(OK, 0, "success")                                                        \
    X(ETIMEDOUT, -1, "the timeout expired")                                    \
    X(EINVAL, -2, "invalid argument")                                          \
    X(ENOMEM, -3, "out of memory")                                             \
    X(EPERM, -4, "operation not permitted for the caller")                     \
    X(EEMPTY, -5, "empty")                                                     \
    X(EFULL, -6, "full")                                                       \
    X(ESHUTDOWN, -7, "shut down")                                              \
    X(ECANCELED, -8, "canceled")                                               \
    X(EBROKEN, -9, "broken barrier")                                           \
    X(EOVERFLOW, -10, "value too large")                                       \
    X(ENOENT, -11, "no such entry")                                            \
    X(EAGAIN, -12, "not yet; try again")                                       \
    X(EOS, -13, "an operating system call failed")                             \
    X(ECHILD, -14, "a child process ended before it finished its work")        \
    X(EOF, -15, "the other end is closed")                                     \
    X(EOWNERDEAD, -16, "acquired; the previous holder died holding it")        \
    X(EEXIST, -17, "already exists")

/** Status codes returned by weft functions: `WEFT_OK` (0) or negative. */
enum weft_status {
#define WEFT_STATUS_ENUM(name, value, text) WEFT_##name = (value),
    WEFT_STATUS_MAP(WEFT_STATUS_ENUM)
#undef WEFT_STATUS_ENUM
};

/** The first of the application's own status codes: `WEFT_EUSER` and the
 *  values below it (`WEFT_EUSER - n`) are never returned by weft itself,
 *  only handed back, as a task gave them to weft_task_fail(), by
 *  weft_future_result(). */
#define WEFT_EUSER (-10000)

/**
 * Describe a status code.
 *
 * \param status a value returned by a weft function.
 * \returns a static string such as "WEFT_ETIMEDOUT: the timeout expired";
 *          for `WEFT_EUSER` and below, a text saying it is the
 *          application's own code; "unknown weft status" for a value that
 *          is not a status code. Never NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API const char *weft_strerror(int status);

/**
 * The operating-system error behind the calling thread's last `WEFT_EOS`.
 *
 * \returns errno (POSIX) or GetLastError() (Windows) as recorded when a weft
 *          function of this thread last returned `WEFT_EOS`; 0 if none did.
 * \par Thread safety:
 * Per thread: each thread sees its own value. Never blocks.
 */
WEFT_API int weft_last_os_error(void);

/**
 * What went wrong in the calling thread's last failing weft call.
 *
 * A failing call leaves a message naming the call, the object or argument
 * involved and, for an operating-system failure, the OS's own error (as
 * `SDL_GetError` does). Calls that succeed leave it as it was.
 *
 * \returns the message, valid until this thread's next failing weft call;
 *          "" when no weft call of this thread has left one. Never NULL.
 * \par Thread safety:
 * Per thread: each thread sees its own message. Never blocks.
 */
WEFT_API const char *weft_last_error_message(void);

/**
 * Free a buffer that weft allocated for the caller (the output of
 * weft_popen_communicate() and weft_run(), a pool result's bytes).
 *
 * \param buffer the buffer; NULL is ignored.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API void weft_free(void *buffer);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_BASE_H */
