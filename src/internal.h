/* SPDX-License-Identifier: MIT */
/*
 * The base of weft's layers (HACKING.md): error reporting, memory, and the
 * steps of a fork, which every layer above and the backends use. The
 * layers above have their own headers: src/sync/sync.h, src/runtime.h,
 * src/processes.h.
 */
#ifndef WEFT_INTERNAL_H
#define WEFT_INTERNAL_H

#ifndef WEFT_BUILDING
#error "src/internal.h is internal to weft"
#endif

#include <weft.h>

#include "atomic.h"

/* ---- Errors ---------------------------------------------------------------- */

/* Record the OS error behind a WEFT_EOS for weft_last_os_error(), and
 * return WEFT_EOS so a backend can write `return weft__os_error(errno);`. */
int weft__os_error(int os_error);

/* Leave a message for weft_last_error_message() (printf-style; what failed
 * and why, with the names and values involved) and return `status`, so a
 * failing path can end with `return weft__fail(WEFT_EINVAL, "...", ...);`. */
int weft__fail(int status, const char *format, ...) WEFT__PRINTF(2, 3);

/* The same with a constant text, for paths that must stay cheap (a timeout,
 * an empty queue): `text` must live for ever (a string literal). */
int weft__fail_text(int status, const char *text);

/* The name of a public function as messages give it: `call` without its
 * "weft_" prefix ("lock_acquire"). */
const char *weft__call_name(const char *call);

/* WEFT_EINVAL, with the message that `call` (a function's __func__) was
 * given a NULL object or argument. */
int weft__fail_null(const char *call);

/* Put context in front of the message a lower layer left (the OS's words,
 * from weft__posix_status and kin): "<format...>: <that message>". */
int weft__fail_wrap(int status, const char *format, ...) WEFT__PRINTF(2, 3);

/* WEFT_OK when the `reserved` tail of the option struct `opts` is all zero,
 * else WEFT_EINVAL with a message naming `call`: a later weft gives those
 * slots a meaning (weft/base.h, "Option structs"). */
#define WEFT__RESERVED_CHECK(call, opts)                                                     \
    weft__reserved_check((call), (opts)->reserved,                                          \
                         sizeof (opts)->reserved / sizeof (opts)->reserved[0])
int weft__reserved_check(const char *call, void *const *reserved, size_t count);

/* An OS call that cannot fail did: print what failed and where, then abort.
 * Only for broken invariants, never for misuse or expected outcomes. */
#define WEFT__FATAL(os_error, what) weft__fatal(__FILE__, __LINE__, __func__, (os_error), (what))
WEFT_NORETURN void weft__fatal(const char *file, int line, const char *func, int os_error,
                               const char *what);

/* ---- Memory ------------------------------------------------------------------ */

/* Every allocation of the library goes through these four (src/memory.c),
 * never through malloc and its kin directly: the fault hook below sees them
 * all. Same contracts as the C library's. */
void *weft__malloc(size_t size);
void *weft__calloc(size_t count, size_t size);
void *weft__realloc(void *p, size_t size);
void weft__free(void *p);

/* strdup (not in C11): a copy of s from weft__malloc, or NULL. */
char *weft__strdup(const char *s);

/* Whether this allocation, made by the code at `caller` (a return address
 * in the library, or NULL), is to fail: always false, unless the library
 * was built with WEFT_FAULT_INJECTION, whose hook (src/fault.c) counts
 * them and remembers where the failed one was made. */
#ifdef WEFT_FAULT_INJECTION
bool weft__alloc_fails(const void *caller);
#else
static inline bool weft__alloc_fails(const void *caller)
{
    (void)caller;
    return false;
}
#endif

/* ---- Fork ---------------------------------------------------------------------- */

/* The steps of weft's one set of fork handlers (src/runtime.c's), which
 * hand each module's part (a weft__X_at_fork) its step. */
typedef enum weft__fork_step { WEFT__FORK_PREPARE, WEFT__FORK_PARENT, WEFT__FORK_CHILD } weft__fork_step;

#ifdef WEFT_FAULT_INJECTION
/* fault.c's part of the fork handlers (src/runtime.c). */
void weft__fault_at_fork(weft__fork_step step);
#endif

#endif /* WEFT_INTERNAL_H */
