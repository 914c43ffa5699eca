/* SPDX-License-Identifier: MIT */
/*
 * concurrent.futures.ThreadPoolExecutor and Future, on weft's own lock,
 * condition, event, seq channel and threads (libuv's threadpool.c shape:
 * one lock, one condition, one work list per executor).
 *
 * Future state word (weft_future.state), changed under the future's lock,
 * read without it by done() and cancelled():
 *
 *   PENDING --(a worker takes it)--> FUTURE_RUNNING --(fn returned)--> FINISHED
 *      \--(cancel, shutdown(cancel_futures))--> CANCELLED
 *
 * FINISHED and CANCELLED are "done" and final. The change to a done state
 * is a sequentially consistent swap, so that weft_futures_wait's
 * "announce, then look" handshake (below) cannot miss it.
 *
 * Reference counts. A future has one reference for the caller's handle and
 * one for the executor, held from submit until a worker has run (or
 * skipped) it or shutdown(cancel_futures) has cancelled it. A future does
 * not point back to its executor, so the two lifetimes are independent.
 * An executor has one reference for its handle, one per worker thread (so
 * a worker never outlives its executor's memory), and short-lived ones
 * taken by the exit handler.
 *
 * Idle workers. `idle` counts the workers parked in the condition that no
 * notify has yet been aimed at: submit aims a notify(1) at one of them (and
 * decrements `idle` itself) before it considers starting a thread, as
 * CPython's `_idle_semaphore` does. weft_cond wakes exactly n waiters and
 * never spuriously, so the count stays exact.
 *
 * weft_futures_wait uses one process-wide seq channel (futures of several
 * executors may be mixed in one wait): a waiter announces itself in
 * `wait_users` (sequentially consistent), then looks at the futures under
 * `wait_lock`; a completion swaps the state in, then, only when
 * `wait_users` is not 0, bumps the seq under `wait_lock`. Either the waiter
 * sees the new state or the completer sees the waiter. Nothing is
 * allocated for a wait.
 *
 * Exit. Workers are daemon threads (an idle worker waits for work without a
 * time limit and would otherwise hold up weft_exit's join of non-daemon
 * threads forever). What Python's `threading._register_atexit(_python_exit)`
 * does is done by a weft_atexit handler, registered with the first
 * executor: it shuts down every executor not yet destroyed, waiting for its
 * queued and running calls, as Python does at interpreter exit.
 */
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PENDING = 0, FUTURE_RUNNING = 1, FINISHED = 2, CANCELLED = 3 };

typedef struct callback {
    void (*fn)(weft_future *future, void *arg);
    void *arg;
    struct callback *next;
} callback;

struct weft_future {
    uint32_t refs;
    uint32_t state;        /* PENDING, FUTURE_RUNNING, FINISHED, CANCELLED */
    weft_lock lock;        /* guards state changes, result, callbacks */
    weft_event done;       /* set once the state is FINISHED or CANCELLED */
    void *(*fn)(void *arg);
    void *arg;
    void *result;
    callback *cb_head, *cb_tail;
    weft_future *next;     /* in the executor's work list */
};

struct weft_executor {
    uint32_t refs;
    weft_lock lock;        /* guards everything below */
    weft_cond work;        /* idle workers wait here */
    weft_future *head, *tail; /* work list: futures not yet taken */
    size_t idle;           /* parked workers no notify is aimed at */
    size_t max_workers;
    size_t nthreads;       /* workers started */
    size_t cap;
    weft_thread **threads; /* their handles, released when the executor is freed */
    bool shutdown;
    char *prefix;
    /* The list of executors not yet destroyed, for the exit handler. */
    weft_executor *reg_prev, *reg_next;
    bool registered;
};

/* ---- Futures ----------------------------------------------------------------- */

static uint32_t wait_users;  /* threads inside weft_futures_wait */
static weft_lock wait_lock;  /* guards wait_seq changes */
static uint32_t wait_seq, wait_parked;

static void future_unref(weft_future *f)
{
    if (weft__fetch_sub(&f->refs, 1) == 1) {
        callback *cb = f->cb_head;
        while (cb) {
            callback *next = cb->next;
            weft__free(cb);
            cb = next;
        }
        weft__free(f);
    }
}

static bool state_done(uint32_t s)
{
    return s == FINISHED || s == CANCELLED;
}

/* With f->lock held and f not done: make it done (FINISHED with `result`,
 * or CANCELLED), release the lock, wake every kind of waiter and run the
 * callbacks, in the order added, on the calling thread. The caller holds a
 * reference to f. */
static void complete_locked(weft_future *f, uint32_t state, void *result)
{
    callback *cb = f->cb_head;

    f->result = result;
    f->cb_head = f->cb_tail = NULL;
    weft__swap(&f->state, state);
    weft__unlock(&f->lock);
    weft_event_set(&f->done);
    if (weft__load_sc(&wait_users) != 0) {
        weft__lock(&wait_lock);
        weft__seq_wake_all(&wait_seq, &wait_parked);
        weft__unlock(&wait_lock);
    }
    while (cb) {
        callback *next = cb->next;
        cb->fn(f, cb->arg);
        weft__free(cb);
        cb = next;
    }
}

/* Cancel f if it is pending; true when it is now cancelled. */
static bool future_cancel(weft_future *f)
{
    uint32_t s;

    weft__lock(&f->lock);
    s = weft__load_relaxed(&f->state);
    if (s == PENDING) {
        complete_locked(f, CANCELLED, NULL);
        return true;
    }
    weft__unlock(&f->lock);
    return s == CANCELLED;
}

/* weft_future_result by a deadline, for a valid future. */
static int future_result_until(weft_future *future, int64_t deadline, void **result)
{
    int rc = WEFT_OK;

    if (!state_done(weft__load(&future->state))) {
        rc = weft__event_wait_until(&future->done, deadline);
        if (rc != WEFT_OK)
            return rc;
    }
    weft__lock(&future->lock);
    if (weft__load_relaxed(&future->state) == CANCELLED) {
        rc = WEFT_ECANCELED;
    } else if (result) {
        *result = future->result;
    }
    weft__unlock(&future->lock);
    return rc;
}

int weft_future_result(weft_future *future, double timeout, void **result)
{
    int64_t deadline;
    int rc = weft__begin_wait(future, timeout, &deadline);

    return rc == WEFT_OK ? future_result_until(future, deadline, result) : rc;
}

bool weft_future_done(const weft_future *future)
{
    return future && state_done(weft__load(&future->state));
}

bool weft_future_cancelled(const weft_future *future)
{
    return future && weft__load(&future->state) == CANCELLED;
}

bool weft_future_cancel(weft_future *future)
{
    return future && future_cancel(future);
}

int weft_future_add_done_callback(weft_future *future,
                                  void (*fn)(weft_future *future, void *arg), void *arg)
{
    callback *cb;

    if (!future || !fn)
        return WEFT_EINVAL;
    weft__lock(&future->lock);
    if (state_done(weft__load_relaxed(&future->state))) {
        weft__unlock(&future->lock);
        fn(future, arg);
        return WEFT_OK;
    }
    cb = weft__malloc(sizeof *cb);
    if (!cb) {
        weft__unlock(&future->lock);
        return WEFT_ENOMEM;
    }
    cb->fn = fn;
    cb->arg = arg;
    cb->next = NULL;
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
    if (future)
        future_unref(future);
}

/* Whether the wait is over; *first: fs[0..*first) are known to be done
 * (they stay done), so ALL_COMPLETED never looks at them again. */
static bool wait_satisfied(weft_future *const fs[], size_t n, weft_wait_mode mode, size_t *first)
{
    size_t i;

    if (mode == WEFT_ALL_COMPLETED) {
        while (*first < n && state_done(weft__load_sc(&fs[*first]->state)))
            ++*first;
        return *first == n;
    }
    for (i = 0; i < n; i++) {
        if (state_done(weft__load_sc(&fs[i]->state)))
            return true;
    }
    return false;
}

int weft_futures_wait(weft_future *const fs[], size_t n, double timeout, weft_wait_mode mode)
{
    int64_t deadline;
    size_t i, first = 0;
    int rc = weft__deadline(timeout, &deadline);

    if (rc != WEFT_OK)
        return rc;
    if (mode != WEFT_FIRST_COMPLETED && mode != WEFT_ALL_COMPLETED)
        return WEFT_EINVAL;
    if (n == 0)
        return WEFT_OK;
    if (!fs)
        return WEFT_EINVAL;
    for (i = 0; i < n; i++) {
        if (!fs[i])
            return WEFT_EINVAL;
    }
    if (wait_satisfied(fs, n, mode, &first))
        return WEFT_OK;

    weft__fetch_add(&wait_users, 1);
    weft__lock(&wait_lock);
    for (;;) {
        if (wait_satisfied(fs, n, mode, &first)) {
            rc = WEFT_OK;
            break;
        }
        if (weft__seq_wait(&wait_seq, &wait_parked, &wait_lock, deadline) == WEFT_ETIMEDOUT) {
            rc = wait_satisfied(fs, n, mode, &first) ? WEFT_OK : WEFT_ETIMEDOUT;
            break;
        }
    }
    weft__unlock(&wait_lock);
    weft__fetch_sub(&wait_users, 1);
    return rc;
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

static void executor_unref(weft_executor *ex)
{
    size_t i;

    if (weft__fetch_sub(&ex->refs, 1) != 1)
        return;
    for (i = 0; i < ex->nthreads; i++)
        weft_thread_release(ex->threads[i]);
    weft__free(ex->threads);
    weft__free(ex->prefix);
    weft__free(ex);
}

static void registry_remove_locked(weft_executor *ex)
{
    if (!ex->registered)
        return;
    WEFT__LIST_REMOVE(registry, ex, reg_next, reg_prev);
    ex->reg_prev = ex->reg_next = NULL;
    ex->registered = false;
}

/* Run one future taken from the work list; drops the executor's
 * reference to it. */
static void run_future(weft_future *f)
{
    void *result;

    weft__lock(&f->lock);
    if (weft__load_relaxed(&f->state) != PENDING) { /* cancelled meanwhile */
        weft__unlock(&f->lock);
        future_unref(f);
        return;
    }
    weft__store(&f->state, FUTURE_RUNNING);
    weft__unlock(&f->lock);

    result = f->fn(f->arg);

    weft__lock(&f->lock);
    complete_locked(f, FINISHED, result);
    future_unref(f);
}

static void *worker_main(void *arg)
{
    weft_executor *ex = arg;
    weft_future *f;

    weft__lock(&ex->lock);
    for (;;) {
        while (!ex->head && !ex->shutdown) {
            ex->idle++; /* the notifier takes it back */
            weft__cond_wait_until(&ex->work, &ex->lock, WEFT__NO_DEADLINE);
        }
        f = ex->head;
        if (!f)
            break; /* shut down and nothing left to run */
        ex->head = f->next;
        if (!ex->head)
            ex->tail = NULL;
        f->next = NULL;
        weft__unlock(&ex->lock);
        run_future(f);
        weft__lock(&ex->lock);
    }
    weft__unlock(&ex->lock);
    executor_unref(ex);
    return NULL;
}

/* Python's _python_exit: shut down every executor not yet destroyed,
 * waiting for its calls. */
static void exit_handler(void *unused)
{
    weft_executor *ex;

    (void)unused;
    for (;;) {
        weft__lock(&executor_registry_lock);
        ex = registry;
        if (ex) {
            registry_remove_locked(ex);
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
        return WEFT_EINVAL;
    *out = NULL;
    ex = weft__calloc(1, sizeof *ex);
    if (!ex)
        return WEFT_ENOMEM;
    if (max_workers == 0) {
        int cpus = weft_cpu_count();
        max_workers = cpus + 4 < 32 ? (size_t)cpus + 4 : 32;
    }
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
            rc = WEFT_ENOMEM;
    }
    if (rc == WEFT_OK) {
        WEFT__LIST_PUSH(registry, ex, reg_next, reg_prev);
        ex->registered = true;
    }
    weft__unlock(&executor_registry_lock);
    if (rc != WEFT_OK) {
        weft__free(ex->prefix);
        weft__free(ex);
        return rc;
    }
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
    rc = weft_thread_start(&ex->threads[ex->nthreads], worker_main, ex, &opts);
    weft__free(name);
    if (rc != WEFT_OK) {
        weft__fetch_sub(&ex->refs, 1); /* the handle's keeps it above 0 */
        return rc;
    }
    ex->nthreads++;
    return WEFT_OK;
}

int weft_executor_submit(weft_executor *executor, weft_future **out, void *(*fn)(void *arg),
                         void *arg)
{
    weft_executor *ex = executor;
    weft_future *f;
    int rc = WEFT_OK;

    if (out)
        *out = NULL;
    if (!ex || !out || !fn)
        return WEFT_EINVAL;
    f = weft__calloc(1, sizeof *f);
    if (!f)
        return WEFT_ENOMEM;
    f->refs = 2; /* the caller's handle, the executor's */
    f->fn = fn;
    f->arg = arg;

    weft__lock(&ex->lock);
    if (ex->shutdown) {
        weft__unlock(&ex->lock);
        weft__free(f);
        return WEFT_ESHUTDOWN;
    }
    if (ex->idle > 0) {
        ex->idle--;
        weft_cond_notify(&ex->work, 1);
    } else if (ex->nthreads < ex->max_workers) {
        rc = start_worker_locked(ex);
        if (rc != WEFT_OK && ex->nthreads > 0)
            rc = WEFT_OK; /* the running workers will get to it */
    }
    if (rc == WEFT_OK) {
        if (ex->tail)
            ex->tail->next = f;
        else
            ex->head = f;
        ex->tail = f;
    }
    weft__unlock(&ex->lock);
    if (rc != WEFT_OK) {
        weft__free(f);
        return rc;
    }
    *out = f;
    return WEFT_OK;
}

void weft_executor_shutdown(weft_executor *executor, bool wait, bool cancel_futures)
{
    weft_executor *ex = executor;
    weft_future *cancelled = NULL, *f;
    weft_thread *self;
    size_t i, n;

    if (!ex)
        return;
    weft__lock(&ex->lock);
    ex->shutdown = true;
    if (cancel_futures) {
        cancelled = ex->head;
        ex->head = ex->tail = NULL;
    }
    ex->idle = 0;
    weft_cond_notify_all(&ex->work);
    n = ex->nthreads; /* no worker starts after the shutdown flag */
    weft__unlock(&ex->lock);

    while ((f = cancelled) != NULL) {
        cancelled = f->next;
        f->next = NULL;
        future_cancel(f);
        future_unref(f);
    }
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
    if (!executor)
        return;
    weft_executor_shutdown(executor, true, false);
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
    size_t i, submitted;
    int rc = weft__begin_wait(executor, timeout, &deadline);

    if (rc != WEFT_OK)
        return rc;
    if (!fn || (n > 0 && (!args || !results)))
        return WEFT_EINVAL;
    if (n == 0)
        return WEFT_OK;
    if (n > SIZE_MAX / sizeof *fs)
        return WEFT_ENOMEM;
    fs = weft__malloc(n * sizeof *fs);
    if (!fs)
        return WEFT_ENOMEM;
    for (i = 0; i < n; i++)
        results[i] = NULL;
    for (submitted = 0; submitted < n; submitted++) {
        rc = weft_executor_submit(executor, &fs[submitted], fn, args[submitted]);
        if (rc != WEFT_OK)
            break;
    }
    if (rc == WEFT_OK) {
        for (i = 0; i < n; i++) {
            rc = future_result_until(fs[i], deadline, &results[i]);
            if (rc != WEFT_OK)
                break;
        }
    }
    if (rc != WEFT_OK) {
        /* Python leaves map's iterator: the calls not started are
         * cancelled; the ones that finished keep their results. */
        for (i = 0; i < submitted; i++) {
            if (!weft_future_cancel(fs[i]))
                future_result_until(fs[i], 0, &results[i]);
        }
    }
    for (i = 0; i < submitted; i++)
        weft_future_release(fs[i]);
    weft__free(fs);
    return rc;
}
