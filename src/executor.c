/* SPDX-License-Identifier: MIT */
/*
 * concurrent.futures.ThreadPoolExecutor and Future, on weft's own lock,
 * condition, event, seq channel and threads.
 *
 * A call waits in the executor's queue (below) as (fn, arg) and, when it
 * has a handle, a future (struct weft_future), which goes through the
 * states below. A fire-and-forget call (weft_executor_submit with out ==
 * NULL) has no future: nothing can cancel, wait for or look at it, and it
 * costs no allocation.
 *
 * Future state word (weft_future.state): the state in the low two bits,
 * and HAS_CALLBACKS, set (by weft_future_add_done_callback, under the
 * future's lock) while the future is not done and callbacks wait in its
 * list. Changed by compare-and-swap or swap, without a lock:
 *
 *   F_PENDING --(a worker takes it)--> F_RUNNING --(fn returned / task_fail)--> F_FINISHED
 *      \--(cancel, shutdown(cancel_futures))--> F_CANCELLED
 *
 * F_FINISHED and F_CANCELLED are "done" and final (HAS_CALLBACKS clear). The
 * change to a done state is a sequentially consistent swap, after the
 * result, the status and the finishing stamp are stored, so that a reader
 * that sees it done sees them, and weft_futures_wait's "announce, then
 * look" handshake (below) cannot miss it. The completer runs the callbacks
 * when the swap returned HAS_CALLBACKS: it takes the future's lock first,
 * so an add that set the bit has linked its callback by then.
 *
 * Reference counts. A future has one reference for the caller's handle and
 * one for the executor, held from submit until a worker has run (or
 * skipped) it or shutdown(cancel_futures) has cancelled it. A future does
 * not point back to its executor, and its handle does not keep the
 * executor alive: the future is a slot of the executor's queue (below),
 * whose block lives until its last slot is done with, which may be after
 * the executor's destroy. The block does point back to the executor: its
 * memory (not the executor) lives on, in `holds`, until the last block is
 * given back, so the last reference of a future, wherever it goes, gives
 * the block back to the executor's cache (`spares`).
 *
 * The cheap path (issue 18). A submit takes no lock and makes no system
 * call while no worker is parked:
 * - the queue is lock-free and unbounded (see struct qblock): a put is one
 *   compare-and-swap of put_index and a few stores into a slot, a take one
 *   compare-and-swap of take_index; a block of 31 calls is taken from
 *   the executor's cache of blocks (`spares`), or allocated when it is
 *   empty, once per 31 calls, and nothing else is allocated, for a call
 *   with a future either;
 * - `sleep` counts the idle workers (asleep on `wake_seq`, or about to
 *   be), the wake-ups aimed at them and not yet taken (tokens), and the
 *   worker searching for work (spinning, or woken and looking). A submit
 *   reads it after its put and wakes one idle worker only when no worker
 *   searches and no wake-up is under way, so a stream of calls wakes one
 *   worker at a time, not one per call (and a batch makes one decision);
 *   the searcher that takes a call and sees more waiting wakes the next,
 *   before it runs its own (which may block), or starts one when every
 *   worker runs a call and none is starting (a new worker looks at the
 *   queue as a woken one does): the calls may wait for each other, and
 *   the idle worker that submits counted on (adjust_workers) may have
 *   taken another's call. A worker that finds the
 *   queue empty counts itself idle and looks at the queue once more before
 *   it sleeps, and the searcher stops searching in the same step: either
 *   it sees the put or the submitter sees the count (both sides
 *   sequentially consistent). No lock on either side;
 * - shutdown closes the queue (CLOSED in put_index), so a later put fails,
 *   and `gate`, which counts the batches (weft_executor_submit_n, n > 1)
 *   under way (2 each) and holds SHUT_BIT once shutdown started; it waits
 *   until no batch is under way, so that every call a submit accepted is
 *   in the queue before the workers may see "shut down and empty" and
 *   end, and a batch is put whole or not at all.
 * bench/bench_queue's executor-as-used family measures it.
 *
 * weft_futures_wait and weft_futures_next use one process-wide seq channel
 * (futures of several executors may be mixed in one wait): a waiter
 * announces itself in `wait_users` (sequentially consistent), then looks at
 * the futures under `wait_lock`; a completion swaps the state in, then,
 * only when `wait_users` is not 0, bumps the seq under `wait_lock`. Either
 * the waiter sees the new state or the completer sees the waiter. Nothing
 * is allocated for a wait. The finishing order that weft_futures_next
 * follows is a process-wide counter, read only for a future whose handle
 * is still held.
 *
 * weft_task_fail. Each worker calls setjmp once, in worker_run, and a
 * failing task longjmps there: the worker completes the task it was
 * running with the status and enters its loop again.
 *
 * Exit. Workers are daemon threads (an idle worker waits for work without a
 * time limit and would otherwise hold up weft_exit's join of non-daemon
 * threads forever). What Python's `threading._register_atexit(_python_exit)`
 * does is done by a weft_atexit handler, registered with the first
 * executor: it shuts down every executor not yet destroyed, waiting for its
 * queued and running calls, as Python does at interpreter exit.
 */
#include "runtime.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_PENDING = 0, F_RUNNING = 1, F_FINISHED = 2, F_CANCELLED = 3, STATE_MASK = 3, HAS_CALLBACKS = 4 };

typedef struct callback {
    void (*fn)(weft_future *future, void *arg);
    void *arg;
    struct callback *next;
} callback;

/*
 * The calls waiting to run: an unbounded queue of blocks of slots, many
 * submitters and many workers, no lock (the design of crossbeam's
 * SegQueue). Positions count up in `put_index` and `take_index`, shifted
 * left by one: a block holds BLOCK_SLOTS calls, and the position after
 * them, never a call, is the moment the block is full (a put there waits
 * while the one that filled the block links the next), or emptied (a take
 * there waits while the one that emptied it moves to the next). The low
 * bit of take_index (HAS_NEXT) says the next block exists, so a take need
 * not look at put_index; its low bit (CLOSED) is set by shutdown, after
 * which a put fails, unless its submit was admitted before (a batch: see
 * `gate`).
 *
 * A future is the slot its call was put in (so a call with a future costs
 * no allocation either), and lives as long as the slot's block. A slot's
 * `written` is set by its put once the call is in it; its `qstate` gets
 * READ from its take and RELEASED once nothing refers to it (at once for a
 * call without a future, when the future's last reference goes for one
 * with). The block is freed when every slot has both: the take of the last
 * slot looks at each slot in turn, and marks the first one not yet done
 * with DESTROY; whoever then finishes that slot goes on from the next one
 * (block_scan), so the last one out gives the block back: to the
 * executor's cache, or to the allocator when the cache is full. A block
 * through malloc per 31 calls cost a page fault each on glibc (its arena
 * trims and grows again as the queue's blocks come and go), and each
 * slower submit let the workers catch up, park and be woken again, a few
 * microseconds per wake-up (bench_queue's executor-as-used family: 6-11
 * Mcalls/s instead of 30 in some runs).
 */
enum { BLOCK_SLOTS = 31, LAP = BLOCK_SLOTS + 1, SHIFT = 1, HAS_NEXT = 1, CLOSED = 1 };
enum { READ = 1, RELEASED = 2, SLOT_DONE = READ | RELEASED, DESTROY = 4 };
/* Blocks an executor keeps for reuse (4 KiB each): the queue of a stream
 * of calls that its workers keep up with spans a few. */
enum { SPARE_BLOCKS = 16 };

struct qblock;

/* A slot, and the future of its call when it has one: two cache lines
 * (blocks are aligned to a line), the call's, which its put writes and its
 * take reads, and the future's. A submitter that releases its future right
 * after the submit changes `refs` while a spinning worker may already be
 * taking the call: in one line, each such call moved the line to the
 * worker and back and made the submitter wait for it (bench_queue's
 * executor-as-used family, "weft released"). */
struct weft_future {
    union {
        struct {
            void *(*fn)(void *arg);
            void *arg;
            struct qblock *block; /* the block the slot is in */
            /* NULL, or what the last reference's going calls with arg and
             * result, whatever became of the call (the process pool's,
             * weft__executor_submit). */
            void (*dispose)(void *arg, void *result);
            uint32_t written;     /* 1 once the put has stored the queued_call */
            uint32_t qstate;      /* READ | RELEASED | DESTROY */
            bool has_future;
        };
        char call_line[WEFT__CACHE_LINE];
    };
    /* The future's part, when has_future. */
    uint32_t refs;         /* the handle's, the executor's */
    uint32_t state;        /* F_PENDING... | HAS_CALLBACKS; see above */
    int status;            /* WEFT_OK, or weft_task_fail's status */
    int done_cpu;          /* the finishing worker's CPU, or -1 */
    WEFT_ALIGN8 uint64_t finished_at; /* the finishing order (weft_futures_next), 0 if not asked */
    void *result;
    weft_event done;       /* set once the state is done */
    weft_lock lock;        /* guards the callback list */
    uint32_t waiter_cpu;   /* 1 + the CPU of a thread that waits for the result, or 0 */
    callback *cb_head, *cb_tail;
};
WEFT__ASSERT_ALIGNED8(struct weft_future, finished_at);

/* Slots a whole number of lines apart: a worker taking one call must not
 * pull in the line its submitter writes the next one into. */
#define SLOT_SIZE (((sizeof(struct weft_future) + WEFT__CACHE_LINE - 1) / WEFT__CACHE_LINE) * WEFT__CACHE_LINE)
typedef union padded_slot {
    struct weft_future slot;
    char line[SLOT_SIZE];
} padded_slot;

typedef struct qblock {
    padded_slot slots[BLOCK_SLOTS];
    struct qblock *next;
    weft_executor *ex;     /* whose cache it goes back to; holds ex's memory */
    void *allocated;       /* the allocation it is in, at a cache line within it */
} qblock;

struct weft_executor {
    /* Written by submitters on every submit. */
    size_t put_index;      /* the next position to fill, | CLOSED */
    qblock *put_block;     /* its block */
    uint32_t gate;         /* 2 per batch under way, | SHUT_BIT */
    /* Each group its own cache lines (the gap is a line, whatever the
     * alignment of the allocation): a line that moves between CPUs on
     * every call is what a call costs (issue 15). */
    char gap1[WEFT__CACHE_LINE];
    /* Read by every submit, written when a worker parks or starts. */
    uint32_t sleep;        /* IDLE(n) | TOKENS(n) | SEARCH(n): see below */
    uint32_t wake_seq;     /* idle workers sleep on it; bumped to wake them */
    uint32_t started;      /* workers started (nthreads, readable without the lock) */
    uint32_t starting;     /* workers started that have not looked at the queue yet */
    uint32_t shutdown;     /* set under lock once no submit can come any more */
    size_t max_workers;
    /* NULL, or the process pool whose calls it drives (set once, at
     * weft_executor_create_processes): then only its own calls are taken,
     * and its end comes with the executor's destroy. */
    void *owner;
    void (*owner_end)(void *owner);
    char gap2[WEFT__CACHE_LINE];
    /* Written by workers on every call. */
    size_t take_index;     /* the next position to take, | HAS_NEXT */
    qblock *take_block;    /* its block */
    char gap3[WEFT__CACHE_LINE];
    /* Written once per block of calls. */
    qblock *spares[SPARE_BLOCKS]; /* blocks given back, for the next ones needed (or NULL) */
    uint32_t holds;        /* what keeps this memory: 1 until the executor's end, 1 per
                            * block out of `spares` */
    char gap4[WEFT__CACHE_LINE];
    /* Written now and then. */
    uint32_t refs;         /* the handle's and the workers': the end at 0 */
    weft_lock lock;        /* guards starting workers: what follows */
    size_t nthreads;       /* workers started */
    size_t cap;
    weft_thread **threads; /* their handles, released when the executor is freed */
    char *prefix;
    /* The list of executors not yet destroyed, for the exit handler. */
    weft_executor *reg_prev, *reg_next;
    bool registered;
    bool shut_at_exit;     /* the exit handler has shut it down */
};

#define SHUT_BIT 1u

/* The counts of `sleep`, one word so that a worker's change from one to
 * another is one atomic step: the idle workers (asleep on wake_seq, or
 * about to be) no wake-up is aimed at; the wake-ups aimed at idle workers
 * and not yet taken (workers are fungible: any idle worker may take any
 * token); the workers awake and searching for a call (the one that spins
 * for a put, or a woken one until it takes a call or sleeps again). A
 * token or a searcher is only made while there is neither (wake_idle,
 * search_begin), or from the other (token_take), so AWAKE_OF is 0 or 1. */
#define IDLE_ONE 1u
#define TOKEN_ONE 0x10000u
#define SEARCH_ONE 0x1000000u
#define IDLE_OF(w) ((w) & 0xffffu)
#define TOKENS_OF(w) (((w) >> 16) & 0xffu)
#define AWAKE_OF(w) ((w) >> 16) /* tokens and searchers */
#define MAX_WORKERS 0x7fffu /* what IDLE_OF can count */

/* A worker's own state. */
typedef struct ex_worker {
    weft_executor *ex;
    bool in_task;          /* a call runs (for weft_task_fail) */
    weft_future *task;     /* its future, or NULL for a call without one */
    int status;            /* weft_task_fail's status */
    jmp_buf jmp;           /* where weft_task_fail returns to */
} ex_worker;

static WEFT__THREAD_LOCAL ex_worker *current_worker;

/* ---- Futures ----------------------------------------------------------------- */

static uint32_t wait_users;  /* threads inside weft_futures_wait / _next */
static weft_lock wait_lock;  /* guards wait_seq changes */
static uint32_t wait_seq, wait_parked;
static uint64_t finish_clock; /* the last finishing stamp handed out */

static void future_unref(weft_future *f);

static bool state_done(uint32_t s)
{
    return (s & STATE_MASK) >= F_FINISHED;
}

/* The future has left `old` (not done) for a done state: wake every kind
 * of waiter (unless no handle is left: then nobody waits or looks) and run
 * the callbacks, in the order added, on the calling thread. The caller
 * holds a reference to f. */
static void completed(weft_future *f, uint32_t old, bool handle)
{
    /* A result nobody was parked for is taken by a thread that spins or
     * runs: it may submit again within microseconds, so this thread (a
     * worker) should look for that submit before it sleeps. Without it
     * the submitter and the worker of a round trip settle into parking in
     * turn, each missing the other (executor.roundtrip). A result a
     * waiter was parked for is a round trip's too: once that waiter runs
     * it may submit again, and where both threads' spin scores ran out
     * (beside busy processes) they otherwise park in turn for good. */
    if (handle) {
        if (weft__event_set(&f->done))
            weft__spin_partner_woken();
        else
            weft__spin_partner_spins(WEFT__SPIN_WAKE);
    }
    if (handle && weft__load_sc(&wait_users) != 0) {
        weft__lock(&wait_lock);
        weft__seq_wake_all(&wait_seq, &wait_parked);
        weft__unlock(&wait_lock);
    }
    if (old & HAS_CALLBACKS) {
        callback *cb;

        weft__lock(&f->lock);
        cb = f->cb_head;
        f->cb_head = f->cb_tail = NULL;
        weft__unlock(&f->lock);
        while (cb) {
            callback *next = cb->next;
            cb->fn(f, cb->arg);
            weft__free(cb);
            cb = next;
        }
    }
}

/* The finishing stamp, taken only while someone holds a handle that could
 * ask for it (the executor's reference is the other one). */
static void stamp(weft_future *f)
{
    if (weft__load(&f->refs) > 1)
        weft__store64(&f->finished_at, weft__fetch_add64(&finish_clock, 1) + 1);
}

/* Cancel f if it is pending; true when it is now cancelled. */
static bool future_cancel(weft_future *f)
{
    uint32_t s = weft__load(&f->state);

    do {
        if ((s & STATE_MASK) != F_PENDING)
            return (s & STATE_MASK) == F_CANCELLED;
        stamp(f);
    } while (!weft__cas(&f->state, &s, F_CANCELLED));
    completed(f, s, true);
    return true;
}

/* weft_future_result by a deadline, for a valid future. */
static int future_result_until(weft_future *future, int64_t deadline, void **result)
{
    uint32_t s = weft__load(&future->state);

    if (!state_done(s)) {
        int rc;

        /* A round trip's two ends learn whether they share a CPU (see
         * weft__spin_partner_cpu): the worker that finishes the call from
         * this, and this thread, which may submit next and wait again,
         * from the worker's. */
        weft__store_relaxed(&future->waiter_cpu, (uint32_t)(weft_sys_current_cpu() + 1));
        rc = weft__event_wait_until(&future->done, deadline);
        if (rc != WEFT_OK)
            return rc;
        s = weft__load(&future->state);
        weft__spin_partner_cpu(future->done_cpu);
    }
    if ((s & STATE_MASK) == F_CANCELLED)
        return WEFT_ECANCELED;
    if (future->status != WEFT_OK)
        return future->status;
    if (result)
        *result = future->result;
    return WEFT_OK;
}

int weft_future_result(weft_future *future, double timeout, void **result)
{
    int64_t deadline;
    int rc = weft__begin_wait(future, timeout, &deadline);

    if (rc != WEFT_OK)
        return rc;
    if (WEFT__HANDLE_DEAD(future, "future"))
        return WEFT_EINVAL;
    rc = future_result_until(future, deadline, result);
    if (rc == WEFT_ECANCELED)
        return weft__fail_text(rc, "future_result: the call was cancelled");
    if (rc != WEFT_OK && rc != WEFT_ETIMEDOUT)
        return weft__fail(rc, "future_result: the task failed: %s", weft_strerror(rc));
    return weft__timed_out(rc, "future_result: timed out: the call is not done");
}

int weft_future_status(const weft_future *future)
{
    uint32_t s;

    if (!future)
        return weft__fail(WEFT_EINVAL, "future_status: the future is NULL");
    if (WEFT__HANDLE_DEAD(future, "future"))
        return WEFT_EINVAL;
    s = weft__load(&future->state) & STATE_MASK;
    if (s == F_CANCELLED)
        return WEFT_ECANCELED;
    return s == F_FINISHED ? future->status : WEFT_EAGAIN;
}

bool weft_future_done(const weft_future *future)
{
    return future && !WEFT__HANDLE_DEAD(future, "future") && state_done(weft__load(&future->state));
}

bool weft_future_cancelled(const weft_future *future)
{
    return future && !WEFT__HANDLE_DEAD(future, "future") &&
           (weft__load(&future->state) & STATE_MASK) == F_CANCELLED;
}

bool weft_future_cancel(weft_future *future)
{
    return future && !WEFT__HANDLE_DEAD(future, "future") && future_cancel(future);
}

int weft_future_add_done_callback(weft_future *future,
                                  void (*fn)(weft_future *future, void *arg), void *arg)
{
    callback *cb;
    uint32_t s;

    if (!future || !fn)
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(future, "future"))
        return WEFT_EINVAL;
    if (state_done(weft__load(&future->state))) {
        fn(future, arg);
        return WEFT_OK;
    }
    cb = weft__malloc(sizeof *cb);
    if (!cb)
        return weft__fail(WEFT_ENOMEM, "future_add_done_callback: no memory for the callback");
    cb->fn = fn;
    cb->arg = arg;
    cb->next = NULL;
    weft__lock(&future->lock);
    s = weft__load(&future->state);
    do {
        if (state_done(s)) { /* it finished meanwhile */
            weft__unlock(&future->lock);
            weft__free(cb);
            fn(future, arg);
            return WEFT_OK;
        }
    } while (!(s & HAS_CALLBACKS) && !weft__cas(&future->state, &s, s | HAS_CALLBACKS));
    if (future->cb_tail)
        future->cb_tail->next = cb;
    else
        future->cb_head = cb;
    future->cb_tail = cb;
    weft__unlock(&future->lock);
    return WEFT_OK;
}

void weft_future_release(weft_future *future)
{
    if (future && !WEFT__HANDLE_DEAD(future, "future")) {
        WEFT__HANDLE_GONE(future); /* given back, whatever the slot does next */
        future_unref(future);
    }
}

/* Wait on the process-wide channel until done(ctx) holds or the deadline
 * passes: WEFT_OK or WEFT_ETIMEDOUT. */
static int wait_channel(bool (*done)(void *ctx), void *ctx, int64_t deadline)
{
    int rc;

    if (done(ctx))
        return WEFT_OK;
    weft__fetch_add(&wait_users, 1);
    weft__lock(&wait_lock);
    for (;;) {
        if (done(ctx)) {
            rc = WEFT_OK;
            break;
        }
        if (weft__seq_wait(&wait_seq, &wait_parked, &wait_lock, deadline) == WEFT_ETIMEDOUT) {
            rc = done(ctx) ? WEFT_OK : WEFT_ETIMEDOUT;
            break;
        }
    }
    weft__unlock(&wait_lock);
    weft__fetch_sub(&wait_users, 1);
    return rc;
}

typedef struct wait_ctx {
    weft_future *const *fs;
    size_t n;
    weft_wait_mode mode;
    size_t first; /* fs[0..first) are known to be done (ALL_COMPLETED) */
    bool *taken;  /* weft_futures_next */
    size_t found; /* weft_futures_next: the pick, or n */
    size_t left;  /* weft_futures_next: how many are not taken */
} wait_ctx;

/* Whether the wait is over; for ALL_COMPLETED fs[0..first) stay done, so
 * they are never looked at again. */
static bool wait_satisfied(void *arg)
{
    wait_ctx *w = arg;
    size_t i;

    if (w->mode == WEFT_ALL_COMPLETED) {
        while (w->first < w->n && state_done(weft__load_sc(&w->fs[w->first]->state)))
            w->first++;
        return w->first == w->n;
    }
    for (i = 0; i < w->n; i++) {
        if (state_done(weft__load_sc(&w->fs[i]->state)))
            return true;
    }
    return false;
}

int weft_futures_wait(weft_future *const fs[], size_t n, double timeout, weft_wait_mode mode)
{
    wait_ctx w = {fs, n, mode, 0, NULL, 0, 0};
    int64_t deadline;
    size_t i;
    int rc = weft__deadline(timeout, &deadline);

    if (rc != WEFT_OK)
        return rc;
    if (mode != WEFT_FIRST_COMPLETED && mode != WEFT_ALL_COMPLETED)
        return weft__fail(WEFT_EINVAL, "futures_wait: mode %d is not a weft_wait_mode", (int)mode);
    if (n == 0)
        return WEFT_OK;
    if (!fs)
        return weft__fail(WEFT_EINVAL, "futures_wait: fs is NULL with n = %zu", n);
    for (i = 0; i < n; i++) {
        if (!fs[i])
            return weft__fail(WEFT_EINVAL, "futures_wait: fs[%zu] is NULL", i);
    }
    return weft__timed_out(wait_channel(wait_satisfied, &w, deadline),
                           "futures_wait: timed out: not done as the mode asks");
}

/* Among the futures not taken, the done one that finished first: true with
 * w->found, or false when none is done (w->left says how many are not
 * taken). */
static bool next_done(void *arg)
{
    wait_ctx *w = arg;
    uint64_t best = UINT64_MAX;
    size_t i;

    w->found = w->n;
    w->left = 0;
    for (i = 0; i < w->n; i++) {
        if (w->taken[i])
            continue;
        w->left++;
        if (state_done(weft__load_sc(&w->fs[i]->state))) {
            uint64_t at = weft__load64(&w->fs[i]->finished_at);
            if (w->found == w->n || at < best) {
                best = at;
                w->found = i;
            }
        }
    }
    return w->found < w->n || w->left == 0;
}

int weft_futures_next(weft_future *const fs[], size_t n, bool taken[], double timeout,
                      size_t *index)
{
    wait_ctx w = {fs, n, WEFT_FIRST_COMPLETED, 0, taken, 0, 0};
    int64_t deadline;
    size_t i;
    int rc = weft__deadline(timeout, &deadline);

    if (rc != WEFT_OK)
        return rc;
    if (!index)
        return weft__fail(WEFT_EINVAL, "futures_next: `index` is NULL");
    if (n > 0 && (!fs || !taken))
        return weft__fail(WEFT_EINVAL, "futures_next: `%s` is NULL with n = %zu",
                          fs ? "taken" : "fs", n);
    for (i = 0; i < n; i++) {
        if (!taken[i] && !fs[i])
            return weft__fail(WEFT_EINVAL, "futures_next: fs[%zu] is NULL", i);
    }
    rc = wait_channel(next_done, &w, deadline);
    if (rc != WEFT_OK)
        return weft__fail_text(rc, "futures_next: timed out: no other future is done");
    if (w.found == n)
        return weft__fail_text(WEFT_EEMPTY, "futures_next: every future was handed out");
    taken[w.found] = true;
    *index = w.found;
    return WEFT_OK;
}

/* ---- Executors ---------------------------------------------------------------- */

static weft_lock executor_registry_lock; /* guards the list below, the counter, the flag */
static weft_executor *registry;
static uint32_t unnamed_count;  /* executors given no prefix so far */
static bool exit_handler_registered;

/* The parent's executors are not the child's: their workers are not in it,
 * and their own locks may have been held at the fork. Left registered, the
 * child's orderly exit would shut them down and wait for those workers
 * forever (or follow a waiter list caught mid-change). */
static void forget_parents_executors(void)
{
    weft_executor *ex;

    for (ex = registry; ex; ex = ex->reg_next)
        ex->registered = false;
    registry = NULL;
}

/* The registry's lock before the wait lock, the order in which fork's
 * prepare step takes them (neither is held while taking the other). */
void weft__executors_at_fork(weft__fork_step step)
{
    if (step == WEFT__FORK_PARENT) {
        weft__lock_at_fork(&wait_lock, step);
        weft__lock_at_fork(&executor_registry_lock, step);
        return;
    }
    weft__lock_at_fork(&executor_registry_lock, step);
    weft__lock_at_fork(&wait_lock, step);
    if (step == WEFT__FORK_CHILD)
        forget_parents_executors();
}

static void block_scan(qblock *b, unsigned from);
static void slot_finish(weft_future *sl, uint32_t bits);

/* Free b (NULL: nothing): its memory is the allocation it sits in. */
static void block_free(qblock *b)
{
    if (b)
        weft__free(b->allocated);
}

/* The executor's end: the blocks from take_block on hold no call (the
 * executor was shut down and its workers have ended), but may hold
 * futures the program has not released: mark the slots never used as
 * done, and let block_scan free each block now or with its last future. */
static void blocks_end(qblock *b)
{
    while (b) {
        qblock *next = b->next;
        unsigned i;

        for (i = 0; i < BLOCK_SLOTS; i++) {
            weft_future *sl = &b->slots[i].slot;
            if (!weft__load(&sl->written))
                slot_finish(sl, SLOT_DONE);
        }
        block_scan(b, 0);
        b = next;
    }
}

/* Drop a hold on ex's memory; the last one frees it, with the blocks in
 * its cache (a block given back after the end may be there too). */
static void executor_let_go(weft_executor *ex)
{
    unsigned i;

    if (weft__fetch_sub(&ex->holds, 1) != 1)
        return;
    for (i = 0; i < SPARE_BLOCKS; i++)
        block_free(ex->spares[i]);
    weft__free(ex->threads);
    weft__free(ex->prefix);
    weft__free(ex);
}

static void executor_unref(weft_executor *ex)
{
    size_t i;

    if (weft__fetch_sub(&ex->refs, 1) != 1)
        return;
    for (i = 0; i < ex->nthreads; i++)
        weft_thread_release(ex->threads[i]);
    blocks_end(ex->take_block);
    executor_let_go(ex);
}

static void registry_remove_locked(weft_executor *ex)
{
    if (!ex->registered)
        return;
    WEFT__LIST_REMOVE(registry, ex, reg_next, reg_prev);
    ex->reg_prev = ex->reg_next = NULL;
    ex->registered = false;
}

/* ---- The queue of calls --------------------------------------------------------------- */

/* An empty block: one from the cache, else a new one; NULL when out of
 * memory. No lock: each cache entry is taken or filled by a swap. */
static qblock *block_new(weft_executor *ex)
{
    qblock *b = NULL;
    unsigned i;

    for (i = 0; !b && i < SPARE_BLOCKS; i++) {
        if (weft__load_ptr((void **)&ex->spares[i]))
            b = weft__swap_ptr((void **)&ex->spares[i], NULL);
    }
    if (!b) {
        char *allocated = weft__malloc(sizeof *b + WEFT__CACHE_LINE);
        if (!allocated)
            return NULL;
        b = (qblock *)(allocated + (WEFT__CACHE_LINE - (uintptr_t)allocated % WEFT__CACHE_LINE));
        b->allocated = allocated;
    }
    for (i = 0; i < BLOCK_SLOTS; i++) { /* the rest is written before it is read */
        b->slots[i].slot.written = b->slots[i].slot.qstate = 0;
        b->slots[i].slot.block = b;
    }
    b->next = NULL;
    b->ex = ex;
    weft__fetch_add(&ex->holds, 1);
    return b;
}

/* A block nobody looks at any more (the executor may have ended): back in
 * its executor's cache, or freed when the cache is full. A swap into an
 * entry seen empty may take out a block another thread put there
 * meanwhile: that one is placed on. */
static void block_put(qblock *b)
{
    weft_executor *ex = b->ex;
    unsigned i;

    for (i = 0; b && i < SPARE_BLOCKS; i++) {
        if (!weft__load_ptr((void **)&ex->spares[i]))
            b = weft__swap_ptr((void **)&ex->spares[i], b);
    }
    block_free(b);
    executor_let_go(ex);
}

/* Every slot of b before `from` is done: look at the others in turn, and
 * mark the first one not done yet with DESTROY, for whoever finishes it to
 * go on from there (slot_finish); free the block when all are done. Each
 * bit of a slot's qstate is set once, by one thread, so an add sets it. */
static void block_scan(qblock *b, unsigned from)
{
    unsigned i;

    for (i = from; i < BLOCK_SLOTS; i++) {
        weft_future *sl = &b->slots[i].slot;
        if ((weft__load(&sl->qstate) & SLOT_DONE) != SLOT_DONE &&
            (weft__fetch_add(&sl->qstate, DESTROY) & SLOT_DONE) != SLOT_DONE)
            return;
    }
    block_put(b);
}

/* Give a slot READ and/or RELEASED; the one that makes it done while the
 * block's scan waits on it goes on with the scan. */
static void slot_finish(weft_future *sl, uint32_t bits)
{
    uint32_t old = weft__fetch_add(&sl->qstate, bits);

    if ((old & DESTROY) && ((old + bits) & SLOT_DONE) == SLOT_DONE) {
        qblock *b = sl->block;
        block_scan(b, (unsigned)(((char *)sl - (char *)b->slots) / sizeof(padded_slot)) + 1);
    }
}

/* Put one call at the end of the queue, with a future (into *future)
 * when `future` is not NULL, and its dispose function. A put that fills a block links the next one:
 * *spare when the caller made one, else a new one. WEFT_OK; or, with
 * nothing put, WEFT_ESHUTDOWN once the queue is closed (unless `admitted`)
 * or WEFT_ENOMEM when that allocation failed. */
static int queue_put(weft_executor *ex, void *(*fn)(void *), void *arg, weft_future **future,
                     void (*dispose)(void *, void *), qblock **spare, bool admitted)
{
    size_t put = weft__load_size(&ex->put_index);
    qblock *b = weft__load_ptr((void **)&ex->put_block), *next = NULL;
    unsigned round = 0;

    for (;;) {
        size_t offset = (put >> SHIFT) % LAP;

        if (offset == BLOCK_SLOTS) { /* another put is linking the next block */
            weft__snooze(&round);
            put = weft__load_size(&ex->put_index);
            b = weft__load_ptr((void **)&ex->put_block);
            continue;
        }
        if ((put & CLOSED) && !admitted) {
            if (next)
                *spare = next;
            return weft__fail(WEFT_ESHUTDOWN, "executor_submit: the executor was shut down");
        }
        if (offset + 1 == BLOCK_SLOTS && !next) {
            next = *spare ? *spare : block_new(ex);
            *spare = NULL;
            if (!next)
                return weft__fail(WEFT_ENOMEM, "executor_submit: no memory for the queue");
        }
        if (weft__cas_size(&ex->put_index, &put, put + (1u << SHIFT))) {
            weft_future *sl = &b->slots[offset].slot;

            if (offset + 1 == BLOCK_SLOTS) {
                weft__store_ptr((void **)&ex->put_block, next);
                weft__store_size_release(&ex->put_index, put + (2u << SHIFT));
                weft__store_ptr((void **)&b->next, next);
                next = NULL;
            }
            sl->fn = fn;
            sl->arg = arg;
            sl->has_future = future != NULL;
            if (future) {
                sl->refs = 2; /* the handle's, the executor's */
                sl->state = F_PENDING;
                sl->status = WEFT_OK;
                sl->done_cpu = -1;
                sl->waiter_cpu = 0;
                sl->finished_at = 0;
                sl->result = NULL;
                sl->dispose = dispose;
                memset(&sl->done, 0, sizeof sl->done);
                memset(&sl->lock, 0, sizeof sl->lock);
                sl->cb_head = sl->cb_tail = NULL;
                WEFT__HANDLE_BORN(sl, "future");
                *future = sl;
            }
            weft__store(&sl->written, 1);
            if (next) /* made for a put that then found another slot: the caller's */
                *spare = next;
            return WEFT_OK;
        }
        b = weft__load_ptr((void **)&ex->put_block);
    }
}

/* A call taken from the queue. */
typedef struct queued_call {
    void *(*fn)(void *arg);
    void *arg;
    weft_future *future; /* NULL: fire-and-forget */
} queued_call;

/* Take the oldest call into *out: true, or false when the queue is empty. */
static bool queue_take(weft_executor *ex, queued_call *out)
{
    size_t take = weft__load_size(&ex->take_index);
    qblock *b = weft__load_ptr((void **)&ex->take_block);
    unsigned round = 0;

    for (;;) {
        size_t offset = (take >> SHIFT) % LAP, next_take = take + (1u << SHIFT);
        weft_future *sl;

        if (offset == BLOCK_SLOTS) { /* another take is moving to the next block */
            weft__snooze(&round);
            take = weft__load_size(&ex->take_index);
            b = weft__load_ptr((void **)&ex->take_block);
            continue;
        }
        if (!(next_take & HAS_NEXT)) {
            size_t put = weft__load_size(&ex->put_index);

            if (take >> SHIFT == put >> SHIFT)
                return false;
            if ((take >> SHIFT) / LAP != (put >> SHIFT) / LAP)
                next_take |= HAS_NEXT; /* the put is blocks ahead */
        }
        if (!weft__cas_size(&ex->take_index, &take, next_take)) {
            b = weft__load_ptr((void **)&ex->take_block);
            continue;
        }
        if (offset + 1 == BLOCK_SLOTS) { /* the block's last slot: move on */
            qblock *nb;
            size_t moved;

            round = 0;
            while (!(nb = weft__load_ptr((void **)&b->next)))
                weft__snooze(&round);
            moved = (next_take & ~(size_t)HAS_NEXT) + (1u << SHIFT);
            if (weft__load_ptr((void **)&nb->next))
                moved |= HAS_NEXT;
            weft__store_ptr((void **)&ex->take_block, nb);
            weft__store_size_release(&ex->take_index, moved);
        }
        sl = &b->slots[offset].slot;
        round = 0;
        while (!weft__load(&sl->written)) /* its put is a store away */
            weft__snooze(&round);
        out->fn = sl->fn;
        out->arg = sl->arg;
        out->future = sl->has_future ? sl : NULL;
        /* A future's slot stays until its last reference goes. */
        slot_finish(sl, out->future ? READ : SLOT_DONE);
        if (offset + 1 == BLOCK_SLOTS)
            block_scan(b, 0);
        return true;
    }
}

/* shutdown: no put may start after this (but those of admitted batches).
 * While a put links the next block it stores put_index itself: wait. */
static void queue_close(weft_executor *ex)
{
    size_t put = weft__load_size(&ex->put_index);
    unsigned round = 0;

    while (!(put & CLOSED)) {
        if ((put >> SHIFT) % LAP == BLOCK_SLOTS) {
            weft__snooze(&round);
            put = weft__load_size(&ex->put_index);
        } else {
            (void)weft__cas_size(&ex->put_index, &put, put | CLOSED);
        }
    }
}

/* Whether any call waits (or is being put): the look a worker takes after
 * it counted itself idle. */
static bool work_waits(weft_executor *ex)
{
    return weft__load_size(&ex->take_index) >> SHIFT != weft__load_size(&ex->put_index) >> SHIFT;
}

/* Drop a reference to the future f (the executor's, from a worker or
 * shutdown, or the handle's). The last one gives its slot back. */
static void future_unref(weft_future *f)
{
    if (weft__fetch_sub(&f->refs, 1) == 1) {
        if (f->dispose)
            f->dispose(f->arg, f->result);
        slot_finish(f, RELEASED);
    }
}

/* ---- Workers ------------------------------------------------------------------- */

/* The call has returned or failed (f->result and f->status are set).
 * Returns the CPU of a thread that waited for its result, or -1. */
static int task_end(ex_worker *w, weft_future *f)
{
    int waiter_cpu = -1;

    w->in_task = false;
    w->task = NULL;
    if (!f)
        return -1;
    if (weft__load(&f->refs) > 1) {
        stamp(f);
        /* Only a round trip's waiter uses the CPUs (weft__spin_partner_cpu),
         * so a call whose future is kept asks for none; a waiter that
         * comes after this look spins, as without them. */
        waiter_cpu = (int)weft__load_relaxed(&f->waiter_cpu) - 1;
        if (waiter_cpu >= 0)
            f->done_cpu = weft_sys_current_cpu(); /* seen by whoever sees the swap */
        completed(f, weft__swap(&f->state, F_FINISHED), true);
    } else { /* the handle was released: nobody else may touch f */
        uint32_t old = weft__load_relaxed(&f->state);

        weft__store_relaxed(&f->state, F_FINISHED);
        completed(f, old, false);
    }
    future_unref(f);
    return waiter_cpu;
}

/* Run one call taken from the queue: as task_end. */
static int run_call(ex_worker *w, const queued_call *c)
{
    weft_future *f = c->future;

    if (f) {
        uint32_t s = weft__load(&f->state);
        do {
            if ((s & STATE_MASK) != F_PENDING) { /* cancelled meanwhile */
                future_unref(f);
                return -1;
            }
            /* A released handle cannot cancel it any more. */
        } while (weft__load(&f->refs) > 1 && !weft__cas(&f->state, &s, s | F_RUNNING));
    }
    w->task = f;
    w->in_task = true;
    if (f)
        f->result = c->fn(c->arg);
    else
        c->fn(c->arg);
    return task_end(w, f);
}

/* The running call called weft_task_fail. */
static void task_failed(ex_worker *w)
{
    weft_future *f = w->task;

    if (f) {
        f->result = NULL;
        f->status = w->status;
    }
    (void)task_end(w, f);
}

typedef struct put_look {
    weft_executor *ex;
    size_t seen;
} put_look;

static bool put_moved(const void *arg)
{
    const put_look *look = arg;

    return weft__load_size(&look->ex->put_index) != look->seen;
}

static void worker_add(weft_executor *ex);

/* Wake an idle worker for calls just put, unless a worker is awake and
 * searching, or one is being woken, already (it takes the call, and if it
 * leaves more waiting, wakes the next: call_found). With no worker idle,
 * awake or starting, start one (below max_workers): every worker runs a
 * call, and the calls put may wait for each other. Submits that counted
 * on one idle worker (adjust_workers), or on one searcher, leave their
 * calls to the worker that takes the first of them, and it is the only
 * one left to see the others. No lock; a system call only when it wakes
 * or starts one. The caller's put, or take, comes before in the
 * sequentially consistent order. */
static void wake_idle(weft_executor *ex)
{
    uint32_t w = weft__load_sc(&ex->sleep);

    do {
        if (AWAKE_OF(w) != 0 || IDLE_OF(w) == 0) {
            /* A searching worker takes the call at once, and may finish
             * it within microseconds: a wait for its result by this
             * thread should look before it parks (see completed). */
            if (w >= SEARCH_ONE)
                weft__spin_partner_spins(WEFT__SPIN_WAKE);
            else if (w == 0 && weft__load(&ex->started) < ex->max_workers &&
                     weft__load_sc(&ex->starting) == 0)
                worker_add(ex);
            return;
        }
    } while (!weft__cas(&ex->sleep, &w, w - IDLE_ONE + TOKEN_ONE));
    /* The submitter's wait for the result probes (see completed); a
     * worker that wakes another for the calls it leaves keeps running its
     * own. */
    if (!current_worker || current_worker->ex != ex)
        weft__spin_partner_woken();
    weft__fetch_add(&ex->wake_seq, 1);
    weft_sys_wake_one(&ex->wake_seq);
}

/* A worker out of work becomes the searcher, when no other worker is
 * searching or being woken: true when it did. */
static bool search_begin(weft_executor *ex)
{
    uint32_t w = weft__load(&ex->sleep);

    while (AWAKE_OF(w) == 0) {
        if (weft__cas(&ex->sleep, &w, w + SEARCH_ONE))
            return true;
    }
    return false;
}

/* A worker that took a call after looking for one (searching, or back
 * from idle because calls waited) is about to run it, which may take any
 * time: it stops searching, and if calls still wait (submits that saw it
 * searching, or saw a wake-up under way, woke nobody), wakes an idle
 * worker for them. */
static void call_found(weft_executor *ex, bool searching)
{
    if (searching)
        weft__fetch_sub(&ex->sleep, SEARCH_ONE);
    if (work_waits(ex))
        wake_idle(ex);
}

/* A worker counted idle leaves the count: its own, or the token a
 * wake-up made of it (one of the two is there: a wake-up only moves a
 * count from IDLE to TOKEN), and with the token it becomes the searcher.
 * True when it took a token. */
static bool idle_leave(weft_executor *ex)
{
    uint32_t w = weft__load(&ex->sleep);

    while (!weft__cas(&ex->sleep, &w, IDLE_OF(w) ? w - IDLE_ONE : w - TOKEN_ONE + SEARCH_ONE))
        ;
    return IDLE_OF(w) == 0;
}

/* A worker counted idle takes a token if there is one, and searches: true
 * when it did (a wake-up was aimed at an idle worker). */
static bool token_take(weft_executor *ex)
{
    uint32_t w = weft__load(&ex->sleep);

    while (TOKENS_OF(w) != 0) {
        if (weft__cas(&ex->sleep, &w, w - TOKEN_ONE + SEARCH_ONE))
            return true;
    }
    return false;
}

/* Counted idle, with nothing to do (`seen`: wake_seq before the count):
 * sleep until a wake-up leaves a token or shutdown. True when it took a
 * token (it searches); false at shutdown, no longer counted. It looks for
 * a token before each wait, the first too: a wake-up aimed at an idle
 * worker that then left the count (idle_leave takes an IDLE count first)
 * may have found nobody asleep, and its token, left to a worker that
 * counted itself after it, would otherwise stay untaken while every
 * worker sleeps (and hold off every later wake-up: wake_idle). */
static bool worker_sleep(weft_executor *ex, uint32_t seen)
{
    for (;;) {
        if (token_take(ex))
            return true;
        if (weft__load(&ex->shutdown))
            return idle_leave(ex);
        (void)weft_sys_wait(&ex->wake_seq, seen, WEFT__NO_DEADLINE);
        seen = weft__load(&ex->wake_seq);
        /* a wake-up, spurious or not: look again */
    }
}

/* Run calls until the executor is shut down and nothing waits. A worker
 * runs calls one after another while there are any; out of them, it
 * searches (spins a little for a put) when no other worker searches or is
 * being woken (one is enough to catch a call that comes within
 * microseconds, and the others would only take the CPU from it), then
 * counts itself idle, looks once more, and sleeps. Submits wake an idle
 * worker only when none searches or is being woken, so a stream of calls
 * wakes one worker, not one per call; a worker woken, or the searcher,
 * that finds more calls waiting than it takes wakes the next. */
static void worker_loop(ex_worker *w)
{
    weft_executor *ex = w->ex;
    bool searching = false; /* counted in SEARCH */
    bool looked = true;     /* left idle because calls waited, or new (see worker_main) */
    uint32_t seen;
    queued_call c;

    for (;;) {
        if (queue_take(ex, &c)) {
            if (searching || looked)
                call_found(ex, searching);
            searching = looked = false;
            /* A thread that waited for the result may put the next call
             * soon (a round trip): no spin for it when it waits on this
             * CPU (see weft__spin_partner_cpu). Calls nobody waits for
             * leave the spin as it was: in a stream of them a searcher
             * that shares the submitter's CPU spares it the wake-ups (a
             * worker that stopped spinning for every submitter on its
             * CPU cost bench_queue's executor-as-used family, quiet,
             * futures kept, a quarter: 11-13 Mcalls/s against 15-19). */
            weft__spin_partner_cpu(run_call(w, &c));
            continue;
        }
        if (!searching)
            searching = search_begin(ex);
        if (searching && !weft__load(&ex->shutdown)) {
            /* The whole schedule of a wait (WEFT__SPIN_ROUNDS): a round
             * trip's next submit comes within it; with 6 rounds (63 pauses)
             * the worker slept in 20-50% of round trips, which then took
             * 3-6 us against 0.5-2 (bench_queue's executor.roundtrip).
             * Where spins stop paying, the spin score sends it to sleep. */
            put_look look = {ex, weft__load_size(&ex->put_index)};
            if (weft__spin_until(put_moved, &look))
                continue;
        }
        seen = weft__load(&ex->wake_seq);
        /* Idle, and no longer searching, in one step; then look once more
         * (either this sees a put, or its submitter sees the count). */
        weft__fetch_add(&ex->sleep, IDLE_ONE - (searching ? SEARCH_ONE : 0));
        if (work_waits(ex)) {
            searching = idle_leave(ex);
            looked = true;
        } else if (weft__load(&ex->shutdown)) {
            if (idle_leave(ex))
                weft__fetch_sub(&ex->sleep, SEARCH_ONE);
            break; /* shut down, and no submit can come any more */
        } else {
            searching = worker_sleep(ex, seen);
        }
    }
}

/* setjmp's frame: it stays for the worker's life, and its one local (w)
 * never changes, so nothing here is indeterminate after the longjmp. */
static void worker_run(ex_worker *w)
{
    if (setjmp(w->jmp) != 0)
        task_failed(w);
    worker_loop(w);
}

static void *worker_main(void *arg)
{
    ex_worker w;

    memset(&w, 0, sizeof w);
    w.ex = arg;
    current_worker = &w;
    /* Submits that saw this worker starting left their calls to it: it
     * looks at the queue after it leaves the count (see wake_idle). */
    weft__fetch_sub(&w.ex->starting, 1);
    worker_run(&w);
    current_worker = NULL;
    executor_unref(w.ex);
    return NULL;
}

int weft_task_fail(int status)
{
    ex_worker *w = current_worker;

    if (!w || !w->in_task)
        return weft__fail(WEFT_EPERM, "task_fail: not called by a task running on an executor's worker");
    if (status >= 0)
        return weft__fail(WEFT_EINVAL, "task_fail: status %d is not a failure (expected a negative code)",
                          status);
    w->status = status;
    longjmp(w->jmp, 1);
}

/* Python's _python_exit: shut down every executor not yet destroyed,
 * waiting for its calls. */
static void exit_handler(void *unused)
{
    weft_executor *ex;

    (void)unused;
    for (;;) {
        /* Each stays on the list (a handle the program dropped is still
         * found there, not lost) until weft_executor_destroy. */
        weft__lock(&executor_registry_lock);
        for (ex = registry; ex && ex->shut_at_exit; ex = ex->reg_next)
            ;
        if (ex) {
            ex->shut_at_exit = true;
            weft__fetch_add(&ex->refs, 1);
        }
        weft__unlock(&executor_registry_lock);
        if (!ex)
            return;
        weft_executor_shutdown(ex, true, false);
        executor_unref(ex);
    }
}

int weft_executor_create(weft_executor **out, size_t max_workers, const char *name_prefix)
{
    weft_executor *ex;
    int rc = WEFT_OK;

    if (!out)
        return weft__fail_null(__func__);
    *out = NULL;
    ex = weft__calloc(1, sizeof *ex);
    if (ex) {
        ex->holds = 1; /* the end's */
        ex->put_block = ex->take_block = block_new(ex);
    }
    if (!ex || !ex->put_block) {
        weft__free(ex);
        return weft__fail(WEFT_ENOMEM, "executor_create: no memory for the executor");
    }
    if (max_workers == 0) {
        int cpus = weft_cpu_count();
        max_workers = cpus + 4 < 32 ? (size_t)cpus + 4 : 32;
    }
    if (max_workers > MAX_WORKERS)
        max_workers = MAX_WORKERS;
    ex->max_workers = max_workers;
    ex->refs = 1;

    weft__lock(&executor_registry_lock);
    if (!exit_handler_registered) {
        rc = weft_atexit(exit_handler, NULL);
        exit_handler_registered = rc == WEFT_OK;
    }
    if (rc == WEFT_OK) {
        if (name_prefix && *name_prefix) { /* "" is no prefix, as in Python */
            ex->prefix = weft__strdup(name_prefix);
        } else {
            char buf[48];
            snprintf(buf, sizeof buf, "ThreadPoolExecutor-%u", (unsigned)unnamed_count);
            ex->prefix = weft__strdup(buf);
            if (ex->prefix)
                unnamed_count++;
        }
        if (!ex->prefix)
            rc = weft__fail(WEFT_ENOMEM, "executor_create: no memory for the name prefix");
    }
    if (rc == WEFT_OK) {
        WEFT__LIST_PUSH(registry, ex, reg_next, reg_prev);
        ex->registered = true;
    }
    weft__unlock(&executor_registry_lock);
    if (rc != WEFT_OK) {
        weft__free(ex->prefix);
        block_free(ex->put_block);
        weft__free(ex);
        return rc == WEFT_ENOMEM ? rc : weft__fail_wrap(rc, "executor_create");
    }
    WEFT__HANDLE_BORN(ex, "executor");
    *out = ex;
    return WEFT_OK;
}

/* With ex->lock held: start one more worker. */
static int start_worker_locked(weft_executor *ex)
{
    weft_thread_opts opts = {0};
    char *name;
    size_t len;
    int rc;

    if (ex->nthreads == ex->cap) {
        size_t cap = ex->cap ? ex->cap * 2 : 4;
        weft_thread **grown;
        if (cap > ex->max_workers)
            cap = ex->max_workers;
        grown = weft__realloc(ex->threads, cap * sizeof *grown);
        if (!grown)
            return WEFT_ENOMEM;
        ex->threads = grown;
        ex->cap = cap;
    }
    len = strlen(ex->prefix) + 24;
    name = weft__malloc(len);
    if (!name)
        return WEFT_ENOMEM;
    snprintf(name, len, "%s_%lu", ex->prefix, (unsigned long)ex->nthreads);
    opts.name = name;
    opts.daemon = true;
    weft__fetch_add(&ex->refs, 1); /* the worker's */
    weft__fetch_add(&ex->starting, 1);
    rc = weft_thread_start(&ex->threads[ex->nthreads], worker_main, ex, &opts);
    weft__free(name);
    if (rc != WEFT_OK) {
        weft__fetch_sub(&ex->starting, 1);
        weft__fetch_sub(&ex->refs, 1); /* the handle's keeps it above 0 */
        return rc;
    }
    ex->nthreads++;
    weft__store(&ex->started, (uint32_t)ex->nthreads);
    return WEFT_OK;
}

/* Python's _adjust_thread_count: start a worker when none is idle and
 * fewer than max_workers run. WEFT_OK, or why none could start when none
 * runs. */
static int adjust_workers(weft_executor *ex)
{
    int rc = WEFT_OK;

    if (weft__load(&ex->started) >= ex->max_workers || IDLE_OF(weft__load_sc(&ex->sleep)) != 0)
        return WEFT_OK;
    weft__lock(&ex->lock);
    if (IDLE_OF(weft__load(&ex->sleep)) == 0 && ex->nthreads < ex->max_workers &&
        !(weft__load_size(&ex->put_index) & CLOSED)) { /* shutdown counts the workers after */
        rc = start_worker_locked(ex);
        if (rc != WEFT_OK && ex->nthreads > 0)
            rc = WEFT_OK; /* the running workers will get to it */
    }
    weft__unlock(&ex->lock);
    return rc;
}

/* wake_idle's start, for calls every worker left waiting: none when one
 * started meanwhile (it looks at the queue after). A worker runs; if none
 * can start, it gets to the calls when its call ends. */
static void worker_add(weft_executor *ex)
{
    weft__lock(&ex->lock);
    if (weft__load(&ex->starting) == 0 && ex->nthreads < ex->max_workers &&
        !(weft__load_size(&ex->put_index) & CLOSED))
        (void)start_worker_locked(ex);
    weft__unlock(&ex->lock);
}

/* Give back the blocks of a chain. */
static void blocks_put(qblock *b)
{
    while (b) {
        qblock *next = b->next;
        block_put(b);
        b = next;
    }
}

/* weft_executor_submit_n's work, for the public calls and the process
 * pool's own (which gives every future of the batch `dispose`). */
static int submit_calls(weft_executor *ex, void *(*fn)(void *arg), void *const args[], size_t n,
                        weft_future *futures_out[], void (*dispose)(void *arg, void *result))
{
    qblock *spares = NULL, *spare;
    size_t i;
    int rc;

    if (n == 0)
        return WEFT_OK;
    /* All or nothing: everything a put may need is made first. A single
     * put makes its block itself, before it puts anything. */
    for (i = 0; n > 1 && i <= n / BLOCK_SLOTS; i++) {
        qblock *b = block_new(ex);
        if (!b) {
            blocks_put(spares);
            return weft__fail(WEFT_ENOMEM, "executor_submit: no memory for %zu calls", n);
        }
        b->next = spares;
        spares = b;
    }

    /* A single put is admitted by its own compare-and-swap of put_index; a
     * batch by the gate, so that shutdown cannot come between its puts. */
    rc = n > 1 && weft__fetch_add(&ex->gate, 2) & SHUT_BIT
             ? weft__fail(WEFT_ESHUTDOWN, "executor_submit: the executor was shut down")
             : adjust_workers(ex);
    for (i = 0; rc == WEFT_OK && i < n; i++) {
        spare = spares;
        if (spare) {
            spares = spare->next;
            spare->next = NULL; /* a block joins the queue with no next */
        }
        rc = queue_put(ex, fn, args[i], futures_out ? &futures_out[i] : NULL, dispose, &spare,
                       n > 1);
        if (spare) { /* not used: back on the list */
            spare->next = spares;
            spares = spare;
        }
    }
    if (n > 1)
        weft__fetch_sub(&ex->gate, 2);
    blocks_put(spares);
    if (rc != WEFT_OK) /* before any put (an admitted batch's puts never fail) */
        return rc;
    wake_idle(ex); /* one decision for the n calls */
    return WEFT_OK;
}

int weft_executor_submit_n(weft_executor *executor, void *(*fn)(void *arg), void *const args[],
                           size_t n, weft_future *futures_out[])
{
    weft_executor *ex = executor;

    if (futures_out && n > 0)
        memset(futures_out, 0, n * sizeof *futures_out);
    if (!ex || !fn || (n > 0 && !args))
        return weft__fail(WEFT_EINVAL, "executor_submit: %s is NULL",
                          !ex ? "the executor" : !fn ? "fn" : "args");
    if (WEFT__HANDLE_DEAD_IN("executor_submit", ex, "executor"))
        return WEFT_EINVAL;
    if (ex->owner)
        return weft__fail(WEFT_EINVAL, "executor_submit: the executor runs its calls in other "
                                       "processes: submit a target with executor_submit_target");
    return submit_calls(ex, fn, args, n, futures_out, NULL);
}

int weft__executor_submit(weft_executor *ex, void *(*fn)(void *arg), void *const args[], size_t n,
                          weft_future *futures_out[], void (*dispose)(void *arg, void *result))
{
    memset(futures_out, 0, n * sizeof *futures_out);
    return submit_calls(ex, fn, args, n, futures_out, dispose);
}

void weft__executor_set_owner(weft_executor *ex, void *owner, void (*end)(void *owner))
{
    ex->owner = owner;
    ex->owner_end = end;
}

void *weft__executor_owner(weft_executor *ex)
{
    return ex->owner;
}

int weft_executor_submit(weft_executor *executor, weft_future **out, void *(*fn)(void *arg),
                         void *arg)
{
    return weft_executor_submit_n(executor, fn, &arg, 1, out);
}

/* shutdown(cancel_futures): take every waiting call, cancel the futures
 * and drop the calls without one. */
static void cancel_waiting(weft_executor *ex)
{
    queued_call c;

    while (queue_take(ex, &c)) {
        if (c.future) {
            future_cancel(c.future);
            future_unref(c.future);
        }
    }
}

void weft_executor_shutdown(weft_executor *executor, bool wait, bool cancel_futures)
{
    weft_executor *ex = executor;
    weft_thread *self;
    size_t i, n;
    uint32_t g;

    if (!ex || WEFT__HANDLE_DEAD(ex, "executor"))
        return;
    /* Close the gate and the queue, then let the batches under way finish
     * their puts. */
    g = weft__load(&ex->gate);
    while (!(g & SHUT_BIT) && !weft__cas(&ex->gate, &g, g | SHUT_BIT))
        ;
    queue_close(ex);
    while (weft__load(&ex->gate) != SHUT_BIT)
        weft_sys_thread_yield();
    if (cancel_futures)
        cancel_waiting(ex);

    weft__lock(&ex->lock);
    weft__store(&ex->shutdown, 1);
    weft__fetch_add(&ex->wake_seq, 1);
    weft_sys_wake_all(&ex->wake_seq);
    n = ex->nthreads; /* no worker starts after the queue closed */
    weft__unlock(&ex->lock);

    if (!wait)
        return;
    self = weft__self_if_known();
    for (i = 0; i < n; i++) {
        if (ex->threads[i] != self)
            weft_thread_join(ex->threads[i], WEFT_FOREVER, NULL);
    }
}

void weft_executor_destroy(weft_executor *executor)
{
    if (!executor || WEFT__HANDLE_DEAD(executor, "executor"))
        return;
    weft_executor_shutdown(executor, true, false);
    if (executor->owner_end)
        executor->owner_end(executor->owner);
    WEFT__HANDLE_GONE(executor);
    weft__lock(&executor_registry_lock);
    registry_remove_locked(executor);
    weft__unlock(&executor_registry_lock);
    executor_unref(executor);
}

int weft_executor_map(weft_executor *executor, void *(*fn)(void *arg), void *const args[],
                      void *results[], size_t n, double timeout)
{
    weft_future **fs;
    int64_t deadline;
    size_t i;
    int rc = weft__begin_wait(executor, timeout, &deadline);

    if (rc != WEFT_OK)
        return rc;
    if (WEFT__HANDLE_DEAD(executor, "executor"))
        return WEFT_EINVAL;
    if (!fn || (n > 0 && (!args || !results)))
        return weft__fail_null(__func__);
    if (n == 0)
        return WEFT_OK;
    fs = n <= SIZE_MAX / sizeof *fs ? weft__malloc(n * sizeof *fs) : NULL;
    if (!fs)
        return weft__fail(WEFT_ENOMEM, "executor_map: no memory for %zu futures", n);
    for (i = 0; i < n; i++)
        results[i] = NULL;
    rc = weft_executor_submit_n(executor, fn, args, n, fs);
    if (rc != WEFT_OK) {
        weft__free(fs);
        return rc;
    }
    for (i = 0; i < n; i++) {
        rc = future_result_until(fs[i], deadline, &results[i]);
        if (rc != WEFT_OK)
            break;
    }
    if (rc != WEFT_OK) {
        weft__fail(rc, "executor_map: call %zu of %zu %s", i, n,
                   rc == WEFT_ETIMEDOUT ? "was not done by the deadline"
                   : rc == WEFT_ECANCELED ? "was cancelled"
                                          : "failed (weft_task_fail)");
        /* Python leaves map's iterator: the calls not started are
         * cancelled; the ones that finished keep their results. */
        for (i = 0; i < n; i++) {
            if (!weft_future_cancel(fs[i]))
                (void)future_result_until(fs[i], 0, &results[i]);
        }
    }
    for (i = 0; i < n; i++)
        weft_future_release(fs[i]);
    weft__free(fs);
    return rc;
}
