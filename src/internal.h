/* SPDX-License-Identifier: MIT */
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

/* Leave a message for weft_last_error_message() (printf-style; what failed
 * and why, with the names and values involved) and return `status`, so a
 * failing path can end with `return weft__fail(WEFT_EINVAL, "...", ...);`. */
int weft__fail(int status, const char *format, ...) WEFT__PRINTF(2, 3);

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
/* The hook belongs to the process that set it: the fork handlers switch it
 * off in a child. */
void weft__fault_after_fork_in_child(void);
#else
static inline bool weft__alloc_fails(const void *caller)
{
    (void)caller;
    return false;
}
static inline void weft__fault_after_fork_in_child(void)
{
}
#endif

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
    return timeout == WEFT_FOREVER || timeout >= 0.0; /* the common case first */
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

/* ---- Spinning before parking --------------------------------------------------- */

/* A waiter that expects its wait to end soon looks at its word this many
 * times before it parks, with 1, 2, 4 ... 128 pauses before the looks
 * (lock.c says how this schedule was measured). */
#define WEFT__SPIN_ROUNDS 8

/* The pauses before look number `round`. */
static inline void weft__backoff(unsigned round)
{
    unsigned i;

    for (i = 0; i < (1u << round); i++)
        weft__cpu_relax();
}

/* Whether spinning can pay at all: false when the process runs on one CPU,
 * where the thread waited for cannot run while we spin. Asked once. */
bool weft__spinning_pays(void);

/* Before parking, look WEFT__SPIN_ROUNDS times, with growing pauses, for
 * what a waiter waits for: true as soon as ready(arg) holds; false after
 * the last look, or at once where spinning cannot pay. */
static inline bool weft__spin_until(bool (*ready)(const void *arg), const void *arg)
{
    unsigned round;

    if (!weft__spinning_pays())
        return false;
    for (round = 0; round < WEFT__SPIN_ROUNDS; round++) {
        weft__backoff(round);
        if (ready(arg))
            return true;
    }
    return false;
}

/* The commonest thing to look for: a word that no longer holds `from`. */
typedef struct weft__word_look {
    const uint32_t *word;
    uint32_t from;
} weft__word_look;

static inline bool weft__word_moved(const void *arg)
{
    const weft__word_look *look = arg;

    return weft__load(look->word) != look->from;
}

/* ---- The lock word ------------------------------------------------------------ */

/* Acquire a weft_lock by a deadline, with no argument checks: the one lock
 * path every internal user shares. Returns WEFT_OK or WEFT_ETIMEDOUT. */
int weft__lock_until(weft_lock *lock, int64_t deadline);

/* Acquire / release a weft_lock the caller knows is valid and (for release)
 * held. */
void weft__lock(weft_lock *lock);
void weft__unlock(weft_lock *lock);

/* The steps of weft's one set of fork handlers (thread.c's), which hand
 * each module's part its step. */
typedef enum weft__fork_step { WEFT__FORK_PREPARE, WEFT__FORK_PARENT, WEFT__FORK_CHILD } weft__fork_step;

/* A module's global lock across fork(): held before it, so the child finds
 * what it guards whole; released in the parent; made free in the child,
 * where the forking thread that held it is the only thread. Only for a lock
 * nobody holds while blocking (a fork would wait for it). */
void weft__lock_at_fork(weft_lock *lock, weft__fork_step step);

/* Free a lock in a fork child, whose holder (another thread) is gone. */
#define WEFT__LOCK_RESET(lock) ((lock) = (weft_lock)WEFT_LOCK_INIT)

/* ---- Conditions ------------------------------------------------------------------ */

/* weft_cond_wait by a deadline, without argument checks: `lock` is held. */
int weft__cond_wait_until(weft_cond *cond, weft_lock *lock, int64_t deadline);

/* The same for state that notifiers change without holding `lock`: they
 * store the change with a sequentially consistent store, then notify. The
 * waiter links itself in, then asks ready(arg) once more (with `lock`
 * held) and returns WEFT_OK at once if it holds. */
int weft__cond_wait_unless(weft_cond *cond, weft_lock *lock, bool (*ready)(void *arg),
                           void *arg, int64_t deadline);

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

/* ---- Intrusive lists ------------------------------------------------------------ */

/* A doubly linked list threaded through its nodes' members `next` and
 * `prev` (named by the caller); `head` is the list's first node or NULL.
 * The registries of threads, thread-local tables, executors and children
 * use these, each under its own lock. */
#define WEFT__LIST_PUSH(head, node, next, prev)                                              \
    do {                                                                                     \
        (node)->prev = NULL;                                                                 \
        (node)->next = (head);                                                               \
        if (head)                                                                            \
            (head)->prev = (node);                                                           \
        (head) = (node);                                                                     \
    } while (0)

#define WEFT__LIST_REMOVE(head, node, next, prev)                                            \
    do {                                                                                     \
        if ((node)->prev)                                                                    \
            (node)->prev->next = (node)->next;                                               \
        else                                                                                 \
            (head) = (node)->next;                                                           \
        if ((node)->next)                                                                    \
            (node)->next->prev = (node)->prev;                                               \
    } while (0)

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
 * caller (an exit a signal started); join every non-daemon weft thread but the caller, including those
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

/* ---- Child processes (child.c) -------------------------------------------------- */

/* What the orderly exit does with a child: nothing (a Popen), wait for it
 * (a Process), or terminate it and wait (a daemon Process, a pool worker). */
typedef enum weft__child_kind {
    WEFT__CHILD_POPEN,
    WEFT__CHILD_PROCESS,
    WEFT__CHILD_DAEMON
} weft__child_kind;

typedef struct weft__child weft__child;

/* A record for a child about to start (allocated first, so a started child
 * always has one); NULL when out of memory. Hand it to weft__child_started
 * once the child runs, or to weft__child_release if it never started. */
weft__child *weft__child_new(weft__child_kind kind);
void weft__child_started(weft__child *c, const weft_sys_child *sys);

/* The owner gives c back; it is freed once also reaped (by the reaper
 * thread, see child.c, soon after it ends). Reaps other released
 * children that have ended. */
void weft__child_release(weft__child *c);

/* Reap the released children that have ended (call before a start). */
void weft__children_sweep(void);

/* Reap if ended: WEFT_OK with *code (exit status, -N for signal N), or
 * WEFT_EAGAIN while it runs. */
int weft__child_poll(weft__child *c, int *code);

/* Wait for the end by the deadline and reap: WEFT_OK with *code,
 * WEFT_ETIMEDOUT, WEFT_EOS. */
int weft__child_wait(weft__child *c, int64_t deadline, int *code);

/* Signal the child unless it is already reaped (SIGTERM, or SIGKILL when
 * `kill`). */
int weft__child_signal(weft__child *c, bool kill);

int64_t weft__child_pid(const weft__child *c);

/* Hold from creating a child's pipes until the parent closed the child's
 * ends of them and the child is on the list (see child.c). */
void weft__child_start_lock(void);
void weft__child_start_unlock(void);

/* With the start lock held: whether the orderly exit has come to the
 * children, after which no process child may start. */
bool weft__children_closed(void);

/* The orderly exit's step: terminate daemon children, wait for process
 * children. */
void weft__children_at_exit(void);

/* child.c's part of the fork handlers. */
void weft__children_after_fork_in_child(void);

/* ---- Processes (process.c, pool.c) ------------------------------------------------ */

/* The function registered as `name`, or NULL. */
weft_process_fn weft__target_find(const char *name);

/* How a worker-side loop or a target is reached in a new child. */
typedef struct weft__start {
    weft_start_method method;
    weft__child_kind kind;
    /* A Process: the target and its argument. A pool worker: target NULL;
     * *to_child and *from_child receive the parent's ends of its pipes. */
    const char *target;
    const void *arg;
    size_t len;
    weft_sys_file *to_child, *from_child;
} weft__start;

/* Start a child as `how` says into a record made here (*out). Returns
 * WEFT_OK or the failure (nothing left behind). */
int weft__process_start(weft__child **out, const weft__start *how);

/* A pool worker's loop, in the child: read tasks from `in`, write results
 * to `out`, until told to stop or `in` ends. Returns the exit code. */
int weft__pool_serve(weft_sys_file in, weft_sys_file out);

/* Read / write exactly len bytes: WEFT_OK, WEFT_ECHILD when the other end
 * is gone (end of file, broken pipe), or WEFT_EOS. */
int weft__read_exact(weft_sys_file f, void *buf, size_t len);
int weft__write_exact(weft_sys_file f, const void *buf, size_t len);

/* The fork handlers' parts for process.c's targets, executor.c's registry
 * and wait lock, and pool.c's reply (a worker's target may fork). */
void weft__targets_at_fork(weft__fork_step step);
void weft__executors_at_fork(weft__fork_step step);
void weft__pool_after_fork_in_child(void);

/* ---- Exit (exit.c) -------------------------------------------------------------- */

/* exit.c's part of the fork handlers: the handler stack across fork; in the
 * child, no exit is under way (the parent's, if any, is not the child's). */
void weft__exit_at_fork(weft__fork_step step);

/* Make sure the C atexit hook that turns exit() and a return from main()
 * into an orderly exit is installed (idempotent, cheap after the first). */
void weft__exit_hook_install(void);

/* Whether weft_thread_start may still start threads: WEFT_OK, or
 * WEFT_ESHUTDOWN once the orderly exit has passed the point where threads
 * are joined. */
int weft__exit_allows_threads(void);

#endif /* WEFT_INTERNAL_H */
