/*
 * What the common modules share among themselves: error reporting,
 * deadlines, the lock's internal entry points and the "seq channel" that
 * rwlock and barrier park on. Backends may use the error helpers too.
 */
#ifndef WEFT_INTERNAL_H
#define WEFT_INTERNAL_H

#ifndef WEFT_BUILDING
#error "src/internal.h is internal to weft"
#endif

#include <weft.h>

#include "atomic.h"
#include "sys.h"

/* ---- Errors ---------------------------------------------------------------- */

/* Record the OS error behind a WEFT_EOS for weft_last_os_error(), and
 * return WEFT_EOS so a backend can write `return weft__os_error(errno);`. */
int weft__os_error(int os_error);

/* An OS call that cannot fail did: print what failed and where, then abort.
 * Only for broken invariants, never for misuse or expected outcomes. */
#define WEFT__FATAL(os_error, what) weft__fatal(__FILE__, __LINE__, __func__, (os_error), (what))
WEFT_NORETURN void weft__fatal(const char *file, int line, const char *func, int os_error,
                               const char *what);

/* ---- Memory ------------------------------------------------------------------ */

/* strdup (not in C11): a malloc'd copy of s, or NULL. */
char *weft__strdup(const char *s);

/* ---- Deadlines --------------------------------------------------------------- */

/* Turn a public timeout (seconds; WEFT_FOREVER; 0) into an absolute
 * monotonic deadline in *deadline: WEFT__NO_DEADLINE for WEFT_FOREVER, 0 (a
 * deadline that has always passed) for 0. Returns WEFT_OK or WEFT_EINVAL for
 * NaN or a negative value other than WEFT_FOREVER. Inline for the common
 * WEFT_FOREVER, which every blocking acquire passes. */
int weft__deadline_slow(double timeout, int64_t *deadline);

/* Whether a public timeout is acceptable (weft__deadline would not return
 * WEFT_EINVAL): WEFT_FOREVER or not negative. NaN is not. */
static inline bool weft__timeout_valid(double timeout)
{
    return timeout >= 0.0 || timeout == WEFT_FOREVER;
}

static inline int weft__deadline(double timeout, int64_t *deadline)
{
    if (timeout == WEFT_FOREVER) {
        *deadline = WEFT__NO_DEADLINE;
        return WEFT_OK;
    }
    return weft__deadline_slow(timeout, deadline);
}

/* The prologue of every timed public call: WEFT_EINVAL for a NULL object
 * or a bad timeout, else the deadline. */
static inline int weft__begin_wait(const void *object, double timeout, int64_t *deadline)
{
    return object ? weft__deadline(timeout, deadline) : WEFT_EINVAL;
}

/* ---- The lock word ------------------------------------------------------------ */

/* Acquire a weft_lock by a deadline, with no argument checks: the one lock
 * path every internal user shares. Returns WEFT_OK or WEFT_ETIMEDOUT. */
int weft__lock_until(weft_lock *lock, int64_t deadline);

/* Acquire / release a weft_lock the caller knows is valid and (for release)
 * held. */
void weft__lock(weft_lock *lock);
void weft__unlock(weft_lock *lock);

/* ---- Conditions ------------------------------------------------------------------ */

/* weft_cond_wait by a deadline, without argument checks: `lock` is held. */
int weft__cond_wait_until(weft_cond *cond, weft_lock *lock, int64_t deadline);

/* ---- The seq channel ------------------------------------------------------------ */

/*
 * A condition variable for state guarded by a weft_lock, made of two words:
 * `seq`, bumped on every change worth waking for, and `waiters`, the number
 * of threads parked on it (so a change with nobody waiting costs no system
 * call). Used by rwlock and barrier, which wake everyone and let each waiter
 * re-check its state; weft_cond, which must wake exactly n, keeps a queue.
 */

/* With `lock` held: release it, sleep until *seq changes (or spuriously) or
 * the deadline passes, and acquire it again. Returns WEFT_OK or
 * WEFT_ETIMEDOUT (lock held in both cases). Callers loop on their state. */
int weft__seq_wait(uint32_t *seq, uint32_t *waiters, weft_lock *lock, int64_t deadline);

/* With the guarding lock held: bump *seq and wake every waiter. */
void weft__seq_wake_all(uint32_t *seq, const uint32_t *waiters);

/* ---- Threads -------------------------------------------------------------------- */

/* The calling thread's weft_thread_ident, making its record on first use.
 * 0 when that record could not be allocated. Inline: RLock and RWLock ask
 * for it on every call, and after the first it is one thread-local read. */
extern WEFT__THREAD_LOCAL uint64_t weft__self_ident_cache;
uint64_t weft__self_ident_slow(void);
static inline uint64_t weft__self_ident(void)
{
    uint64_t id = weft__self_ident_cache;

    return id != 0 ? id : weft__self_ident_slow();
}

/* The calling thread's record, made on first use, or NULL when it could not
 * be allocated (weft_thread_current() without the public contract). */
weft_thread *weft__self(void);

/* The calling thread's record if it has one, without making one: NULL
 * also before weft created its thread-local slot. */
weft_thread *weft__self_if_known(void);

/* Each record carries one pointer for local.c: the thread's table of
 * weft_local values. Only local.c reads or writes it. */
void **weft__thread_locals(weft_thread *t);

/* Call fn(t, ctx) for every live record, under the registry lock: fn must
 * not start, end or look up threads. */
void weft__registry_foreach(void (*fn)(weft_thread *t, void *ctx), void *ctx);

/* ---- Thread-local values (local.c) ------------------------------------------------ */

/* A thread is ending (weft's trampoline, weft_thread_exit, the slot
 * destructor of a borrowed thread, or the thread running an orderly exit):
 * run the destructors of its weft_local values, in rounds while destructors
 * set new values (a bounded number), and free its table. t is the calling
 * thread's record. */
void weft__locals_thread_end(weft_thread *t);

/* For the orderly exit: request a stop on every weft thread but the
 * caller; join every non-daemon weft thread but the caller, including those
 * started meanwhile, until none is left. */
void weft__threads_request_stop(void);
void weft__threads_join_non_daemon(void);

/* Set up the thread machinery (the thread-local slot, the fork handlers,
 * the main thread's record) if not done yet. WEFT_OK or the failure. */
int weft__threads_init(void);

/* local.c's part of weft's fork handlers, called by thread.c's. */
void weft__locals_before_fork(void);
void weft__locals_after_fork_in_parent(void);
void weft__locals_after_fork_in_child(void);

/* ---- Exit (exit.c) -------------------------------------------------------------- */

/* Make sure the C atexit hook that turns exit() and a return from main()
 * into an orderly exit is installed (idempotent, cheap after the first). */
void weft__exit_hook_install(void);

/* Whether weft_thread_start may still start threads: WEFT_OK, or
 * WEFT_ESHUTDOWN once the orderly exit has passed the point where threads
 * are joined. */
int weft__exit_allows_threads(void);

#endif /* WEFT_INTERNAL_H */
