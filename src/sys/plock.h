/* SPDX-License-Identifier: MIT */
/*
 * Locks, semaphores and events between processes: posix/plock.c,
 * win32/plock.c; used by the process layer (ipc/plock.c), which checks the
 * arguments and turns timeouts into deadlines.
 *
 * One object type for the four kinds: what each kind holds is the
 * backend's (POSIX: a robust process-shared mutex, or atomic words, in a
 * nameless shared mapping; Windows: a mutex, semaphore or event object),
 * and what a child is handed is one file (the mapping, the object's
 * handle).
 */
#ifndef WEFT_SYS_PLOCK_H
#define WEFT_SYS_PLOCK_H

#include "base.h"
#include "file.h"

#include <weft/base.h> /* the statuses its inline functions return */

typedef enum weft_sys_psync_kind {
    WEFT_SYS_PLOCK = 1,  /* a lock that its holder cannot take twice */
    WEFT_SYS_PRLOCK = 2, /* a recursive lock */
    WEFT_SYS_PSEM = 3,
    WEFT_SYS_PEVENT = 4
} weft_sys_psync_kind;

typedef struct weft_sys_psync weft_sys_psync;

/* Make an object of `kind`; a semaphore starts at `value` (at most
 * INT32_MAX) and, when `bounded`, may never pass it. Returns WEFT_OK,
 * WEFT_ENOMEM, WEFT_EAGAIN (no descriptor or handle left) or WEFT_EOS, with
 * a message. */
int weft_sys_psync_create(weft_sys_psync **out, weft_sys_psync_kind kind, uint32_t value,
                          bool bounded);

/* The file a child is handed for it (the object's file stays its own). */
weft_sys_file weft_sys_psync_file(const weft_sys_psync *p);

/* Make an object of `kind` from `file`, inherited from the process that
 * made it. On WEFT_OK the object owns the file; on failure (WEFT_ENOMEM,
 * WEFT_EINVAL for a file that is not such an object, WEFT_EOS; with a
 * message) the caller still does. */
int weft_sys_psync_adopt(weft_sys_psync **out, weft_sys_psync_kind kind, weft_sys_file file);

/* Free this process's object (the shared one lives on in other processes).
 * Not while a thread of this process uses it. */
void weft_sys_psync_close(weft_sys_psync *p);

/* A lock (PLOCK, PRLOCK), owned by the thread that acquired it: acquire by
 * the deadline. WEFT_OK; WEFT_EOWNERDEAD (acquired: the holder died holding
 * it, where the OS can tell); WEFT_ETIMEDOUT; WEFT_EPERM, without a
 * message, when the calling thread holds a PLOCK already (common code then
 * waits out the deadline, as threading.Lock waits for itself; a backend
 * that cannot tell may wait it out itself and return WEFT_ETIMEDOUT);
 * WEFT_EOVERFLOW (a PRLOCK's levels at the system's limit). Release:
 * WEFT_OK, or WEFT_EPERM (with a message) when the calling thread does not
 * hold it. */
int weft_sys_plock_acquire(weft_sys_psync *p, int64_t deadline);
int weft_sys_plock_release(weft_sys_psync *p);

/* The same acquire and release for the process layer's public calls,
 * made inline so that taking a free lock or giving one back is a single
 * call into the system where the backend can (issue 16: a weft_plock
 * within 1.1x of a bare process-shared mutex). `at` is where the lock
 * lives in this process (weft_sys_plock_at_of), fixed for the object's
 * life, so that the caller keeps it beside its handle and loads nothing
 * else.
 *   weft_sys_plock_try: 0 when it took a free lock; else a code of the
 *     backend's own (not a status: mapping it inline would lengthen the
 *     call) that only weft_sys_plock_acquire_after reads, which ends the
 *     acquire by the deadline with weft_sys_plock_acquire's outcomes.
 *   weft_sys_plock_held: whether a code of weft_sys_plock_try says only
 *     that the lock is held, so that another try soon may take it (a
 *     spin); false where the try tries nothing.
 *   weft_sys_plock_release_at: as weft_sys_plock_release. */
#if defined(_WIN32)
/* A mutex object is taken and given back by system calls, whose cost no
 * inline step would change: the first try tries nothing. */
typedef struct weft_sys_psync weft_sys_plock_at;

static inline int weft_sys_plock_try(weft_sys_plock_at *at)
{
    (void)at;
    return 1;
}

static inline bool weft_sys_plock_held(int code)
{
    (void)code;
    return false;
}

static inline int weft_sys_plock_release_at(weft_sys_plock_at *at)
{
    return weft_sys_plock_release(at);
}
#else
#include <errno.h>
#include <pthread.h>

typedef pthread_mutex_t weft_sys_plock_at;

/* The two calls of a free lock's acquire and release go through the GOT,
 * without the PLT's extra jump: 10.3 -> 9.7 ns a free weft_plock's
 * acquire + release (bench_ipc plock.uncontended, x86-64, glibc 2.36,
 * pinned, quiet; medians of 8 runs, a robust mutex's lock + unlock 9.0),
 * of which 0.2-0.5 ns is the jump and the rest where the code lands. GCC's
 * attribute; clang has none and keeps the PLT. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__PIC__) && defined(__x86_64__) && \
    defined(__has_attribute)
#if __has_attribute(noplt)
/* The redeclarations merge with the C library's; a build that warns of
 * them (-Wredundant-decls) is told they are meant. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wredundant-decls"
extern __typeof__(pthread_mutex_trylock) pthread_mutex_trylock __attribute__((noplt));
extern __typeof__(pthread_mutex_unlock) pthread_mutex_unlock __attribute__((noplt));
#pragma GCC diagnostic pop
#endif
#endif

/* A trylock, whatever the timeout: glibc's trylock of a robust
 * error-checking mutex is shorter than its lock (7.7 against 8.2 ns,
 * Debian glibc 2.36), and waiting forever, a lock after a failed trylock
 * measured no slower between two processes than a lock alone. The code is
 * the C library's error number. */
static inline int weft_sys_plock_try(weft_sys_plock_at *at)
{
    return pthread_mutex_trylock(at);
}

static inline bool weft_sys_plock_held(int code)
{
    return code == EBUSY;
}

/* WEFT_EPERM with its message: an unlock refused. Out of line, and with
 * nothing to be given, so that the caller keeps nothing across its unlock. */
int weft_sys_plock_release_refused(void);

static inline int weft_sys_plock_release_at(weft_sys_plock_at *at)
{
    /* EPERM is the one way an unlock of these mutexes fails. */
    return pthread_mutex_unlock(at) == 0 ? WEFT_OK : weft_sys_plock_release_refused();
}
#endif

weft_sys_plock_at *weft_sys_plock_at_of(weft_sys_psync *p);
int weft_sys_plock_acquire_after(weft_sys_psync *p, int code, int64_t deadline);

/* A semaphore: take one by the deadline (WEFT_OK, WEFT_ETIMEDOUT); give
 * back n >= 1 (WEFT_OK; WEFT_EOVERFLOW, nothing changed and no message,
 * when the value would pass its bound or INT32_MAX). */
int weft_sys_psem_acquire(weft_sys_psync *p, int64_t deadline);
int weft_sys_psem_release(weft_sys_psync *p, uint32_t n);

/* An event: as threading.Event; wait returns WEFT_OK when the flag was set
 * at some moment of the wait, else WEFT_ETIMEDOUT. */
void weft_sys_pevent_set(weft_sys_psync *p);
void weft_sys_pevent_clear(weft_sys_psync *p);
bool weft_sys_pevent_is_set(weft_sys_psync *p);
int weft_sys_pevent_wait(weft_sys_psync *p, int64_t deadline);

#endif /* WEFT_SYS_PLOCK_H */
