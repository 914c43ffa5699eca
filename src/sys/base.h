/* SPDX-License-Identifier: MIT */
/*
 * The backend contract, one header per mechanism (HACKING.md): what every
 * one of them shares. Common code holds all the meaning and calls only the
 * weft_sys_ functions; each backend (src/posix/, src/win32/) implements
 * them as plain operating-system facts, with no policy of its own. A
 * function never returns a raw errno or GetLastError(): it returns a weft
 * status, and for WEFT_EOS records the OS error (weft_last_os_error()).
 *
 * Time is int64_t nanoseconds. Deadlines are absolute, on the monotonic
 * clock; WEFT__NO_DEADLINE means none.
 */
#ifndef WEFT_SYS_BASE_H
#define WEFT_SYS_BASE_H


#ifndef WEFT_BUILDING
#error "src/sys/ is internal to weft"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


#define WEFT__NO_DEADLINE INT64_MAX

/* A function that does not return, on the backend's side as on the
 * common code's. */
#if defined(_MSC_VER) && !defined(__clang__)
#define WEFT__NORETURN __declspec(noreturn)
#else
#define WEFT__NORETURN _Noreturn
#endif

/* The OS's own words for the error `err` (an errno; a GetLastError()
 * value), UTF-8, into buf (cap > 0 bytes, always NUL-terminated); thread-
 * safe. Failure messages quote it with the number. */
void weft_sys_os_error_text(int err, char *buf, size_t cap);

#endif /* WEFT_SYS_BASE_H */
