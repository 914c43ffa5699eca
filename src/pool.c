/* SPDX-License-Identifier: MIT */
/*
 * multiprocessing.Pool and ProcessPoolExecutor: worker processes that run
 * registered targets on byte buffers, both sides of it.
 *
 * A worker is a child process running weft's internal target
 * WEFT__POOL_WORKER, with two pipes: tasks in, results out (src/wire.c's
 * calls and results). The parent drives the workers from the threads of
 * one executor of as many threads as workers (pool->ex): every call on it
 * takes a free worker for as long as it runs, sends it a task, reads its
 * result, and gives the worker back. Since the executor never runs more
 * calls at once than there are workers, a call always finds one free. A
 * submit (apply_async) is one such call, whose future is the task's; a
 * map submits one call per worker (at most), which hand the inputs out by
 * an atomic counter, and waits for them.
 *
 * A worker that dies shows as the end of its result pipe: that input fails
 * with WEFT_ECHILD, the worker is reaped and a new one started for the
 * next input. Workers are told to stop by a task with an empty target
 * name rather than by the end of their task pipe, because a worker started
 * with fork() holds copies of the other workers' task pipes, and so would
 * keep them from ending.
 */
#include "processes.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct worker {
    weft__child *child;  /* NULL: none runs; under the pool's lock */
    weft_sys_file to, from;
    bool initialized;    /* the pool's initializer has run in this child */
    size_t served;       /* tasks this child ran (max_tasks_per_child) */
    struct worker *next; /* on the free list */
} worker;

struct weft_pool {
    weft_lock lock;      /* guards the workers' `child`, the flags, `free` */
    bool closed, terminated, joined;
    weft_start_method method;
    size_t count;
    worker *workers;
    worker *free;        /* the workers no call holds */
    weft_executor *ex;   /* its threads drive the workers */
    char *initializer;   /* NULL: none */
    size_t max_tasks;    /* a child's tasks before it is replaced; 0: no limit */
};

/* ---- The worker's side ----------------------------------------------------------- */

/* The current task's reply bytes (a worker serves one task at a time). */
static weft_lock reply_lock;
static bool serving;
static void *reply_data;
static size_t reply_len;

/* reply_lock is held while a result is written to the parent, so it is
 * not held across fork: a fork child only frees it. */
void weft__pool_at_fork(weft__fork_step step)
{
    if (step == WEFT__FORK_CHILD)
        weft__lock_reset(&reply_lock);
}

int weft_process_reply(const void *data, size_t len)
{
    void *copy;

    if (!data && len > 0)
        return weft__fail(WEFT_EINVAL, "process_reply: data is NULL, len %zu", len);
    copy = weft__malloc(len > 0 ? len : 1);
    if (!copy)
        return weft__fail(WEFT_ENOMEM, "process_reply: no memory for a copy of %zu bytes", len);
    if (len > 0)
        memcpy(copy, data, len);
    weft__lock(&reply_lock);
    if (!serving) {
        weft__unlock(&reply_lock);
        weft__free(copy);
        return weft__fail(WEFT_EINVAL, "process_reply: not in a target that a pool worker runs");
    }
    weft__free(reply_data);
    reply_data = copy;
    reply_len = len;
    weft__unlock(&reply_lock);
    return WEFT_OK;
}

/* Run one task already read; send its result. */
static int serve_task(weft_sys_file out, const char *name, const void *data, size_t len)
{
    weft_process_fn fn = weft__target_find(name);
    int status = WEFT_ENOENT, value = 0;
    int rc;

    if (fn) {
        value = fn(data, len);
        status = WEFT_OK;
    }
    weft__lock(&reply_lock);
    rc = weft__wire_send_result(out, status, value, reply_data, reply_len);
    weft__free(reply_data);
    reply_data = NULL;
    reply_len = 0;
    weft__unlock(&reply_lock);
    return rc;
}

int weft__pool_worker(const void *arg, size_t len)
{
    weft__wire_call task;
    weft_sys_file in, out;
    int rc;

    (void)arg;
    (void)len;
    weft__wire_parent(&in, &out);
    weft__lock(&reply_lock);
    serving = true;
    weft__unlock(&reply_lock);
    for (;;) {
        /* The end of the task pipe (the parent is gone) ends the worker too. */
        rc = weft__wire_receive_call(in, &task);
        if (rc == WEFT_ECHILD || (rc == WEFT_OK && task.name[0] == '\0')) {
            weft__wire_call_free(&task);
            return 0;
        }
        if (rc == WEFT_OK)
            rc = serve_task(out, task.name, task.arg, task.len);
        weft__wire_call_free(&task);
        if (rc != WEFT_OK)
            return 1;
    }
}

/* ---- The parent's side ------------------------------------------------------------- */

static int worker_start(weft_pool *pool, worker *w)
{
    weft__start how = {pool->method, WEFT__CHILD_DAEMON, WEFT__POOL_WORKER, weft__pool_worker,
                       NULL, 0, &w->to, &w->from, NULL, 0};
    weft__child *c;
    bool late;
    int rc;

    rc = weft__process_start(&c, &how);
    if (rc != WEFT_OK)
        return rc;
    weft__lock(&pool->lock);
    w->child = c;
    w->initialized = !pool->initializer;
    w->served = 0;
    late = pool->terminated;
    if (late)
        weft__child_signal(c, true);
    weft__unlock(&pool->lock);
    return late ? WEFT_ESHUTDOWN : WEFT_OK;
}

/* Wait for a worker that was told to stop, or died, and forget it. */
static void worker_end(weft_pool *pool, worker *w)
{
    weft__child *c;
    int code;

    weft_sys_close(w->to);
    weft_sys_close(w->from);
    w->to = w->from = WEFT__NO_FILE;
    weft__child_wait_until(w->child, WEFT__NO_DEADLINE, &code);
    weft__lock(&pool->lock);
    c = w->child;
    w->child = NULL;
    weft__unlock(&pool->lock);
    weft__child_release(c);
}

/* A worker that failed us: make sure it is gone, then forget it. */
static void worker_discard(weft_pool *pool, worker *w)
{
    weft__child_signal(w->child, true);
    worker_end(pool, w);
}

/* A worker that is done with: tell it to stop, and wait for it. */
static void worker_retire(weft_pool *pool, worker *w)
{
    weft__wire_send_call(w->to, "", NULL, 0);
    worker_end(pool, w);
}

/* Run the pool's initializer in a new child: WEFT_OK, or the status that
 * fails the task (the child is discarded then, so that every task given to
 * a child whose initializer failed fails, rather than run half set up). */
static int worker_init(weft_pool *pool, worker *w)
{
    weft_pool_result r = {WEFT_ECHILD, 0, NULL, 0};
    int rc = weft__wire_send_call(w->to, pool->initializer, NULL, 0);

    if (rc == WEFT_OK)
        rc = weft__wire_receive_result(w->from, &r);
    if (rc == WEFT_OK) {
        weft__free(r.data);
        rc = r.status != WEFT_OK ? r.status
             : r.value <= WEFT_EUSER ? r.value /* the program's own status */
             : r.value != 0 ? WEFT_ECHILD : WEFT_OK;
    }
    if (rc != WEFT_OK) {
        worker_discard(pool, w);
        return rc;
    }
    w->initialized = true;
    return WEFT_OK;
}

static bool terminated(weft_pool *pool)
{
    bool t;

    weft__lock(&pool->lock);
    t = pool->terminated;
    weft__unlock(&pool->lock);
    return t;
}

/* Run target on one input on worker w, its outcome into *r. A worker that
 * is gone before it took the task (its task pipe broke) is replaced and
 * the task sent again, once; one that ends while it has the task fails
 * that input. */
static void run_input(weft_pool *pool, worker *w, const char *target, const void *data,
                      size_t len, weft_pool_result *r)
{
    int attempt, rc = WEFT_ECHILD;

    *r = (weft_pool_result){WEFT_ECHILD, 0, NULL, 0};
    for (attempt = 0; attempt < 2; attempt++) {
        if (terminated(pool))
            return;
        if (!w->child && (rc = worker_start(pool, w)) != WEFT_OK) {
            if (w->child)
                worker_end(pool, w);
            r->status = rc == WEFT_ESHUTDOWN ? WEFT_ECHILD : rc;
            return;
        }
        if (!w->initialized && (rc = worker_init(pool, w)) != WEFT_OK) {
            r->status = rc;
            return;
        }
        rc = weft__wire_send_call(w->to, target, data, len);
        if (rc == WEFT_OK)
            break;
        worker_discard(pool, w);
    }
    if (rc != WEFT_OK) {
        r->status = rc;
        return;
    }
    rc = weft__wire_receive_result(w->from, r);
    if (rc != WEFT_OK) {
        r->status = rc;
        worker_discard(pool, w);
    } else if (pool->max_tasks && ++w->served == pool->max_tasks) {
        worker_retire(pool, w);
    }
}

/* A free worker for a call of the pool's executor (there is one: see the
 * top of the file), and its return. */
static worker *worker_take(weft_pool *pool)
{
    worker *w;

    weft__lock(&pool->lock);
    w = pool->free;
    pool->free = w->next;
    weft__unlock(&pool->lock);
    return w;
}

static void worker_give(weft_pool *pool, worker *w)
{
    weft__lock(&pool->lock);
    w->next = pool->free;
    pool->free = w;
    weft__unlock(&pool->lock);
}

/* The pool takes no more calls once closed or terminated: WEFT_OK, or
 * WEFT_ESHUTDOWN with a message naming `call`. */
static int pool_open(weft_pool *pool, const char *call)
{
    bool open, ended;

    weft__lock(&pool->lock);
    open = !pool->closed;
    ended = pool->terminated;
    weft__unlock(&pool->lock);
    if (open)
        return WEFT_OK;
    return weft__fail(WEFT_ESHUTDOWN, "%s: the pool is %s", call, ended ? "terminated" : "closed");
}

/* ---- Map ------------------------------------------------------------------------ */

typedef struct map_job {
    weft_pool *pool;
    const char *target;
    const weft_buffer *items;
    weft_pool_result *results;
    size_t count;
    WEFT_ALIGN8 uint64_t next; /* the next input to hand out (atomic) */
} map_job;

/* One of a map's calls: run inputs on one worker until none is left. */
static void *drive(void *arg)
{
    map_job *job = arg;
    worker *w = worker_take(job->pool);
    uint64_t i;

    while ((i = weft__fetch_add64(&job->next, 1)) < job->count)
        run_input(job->pool, w, job->target, job->items[i].data, job->items[i].len,
                  &job->results[i]);
    worker_give(job->pool, w);
    return NULL;
}

int weft_pool_map(weft_pool *pool, const char *target, const weft_buffer *items, size_t count,
                  weft_pool_result *results)
{
    map_job job = {pool, target, items, results, count, 0};
    weft_future **drivers;
    void **jobs;
    size_t n, i;
    int rc;

    if (!pool || !target || (count > 0 && (!items || !results)))
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(pool, "pool"))
        return WEFT_EINVAL;
    for (i = 0; i < count; i++) {
        if (!items[i].data && items[i].len > 0)
            return weft__fail(WEFT_EINVAL, "pool_map: items[%zu].data is NULL, len %zu", i,
                              items[i].len);
    }
    if (!weft__target_find(target))
        return weft__fail(WEFT_ENOENT, "pool_map: no target \"%.100s\" is registered", target);
    rc = pool_open(pool, "pool_map");
    if (rc != WEFT_OK || count == 0)
        return rc;
    n = count < pool->count ? count : pool->count;
    drivers = weft__malloc(n * sizeof *drivers);
    jobs = weft__malloc(n * sizeof *jobs);
    if (!drivers || !jobs) {
        weft__free(drivers);
        weft__free(jobs);
        return weft__fail(WEFT_ENOMEM, "pool_map: no memory for %zu drivers", n);
    }
    for (i = 0; i < n; i++)
        jobs[i] = &job;
    rc = weft__executor_submit(pool->ex, drive, jobs, n, drivers, NULL);
    if (rc == WEFT_OK) {
        for (i = 0; i < n; i++) {
            weft_future_result(drivers[i], WEFT_FOREVER, NULL);
            weft_future_release(drivers[i]);
        }
        for (i = 0; i < count && rc == WEFT_OK; i++)
            rc = results[i].status;
        if (rc != WEFT_OK)
            weft__fail(rc, "pool_map: input %zu of %zu failed: %s%s", i - 1, count,
                       weft_strerror(rc),
                       rc == WEFT_ECHILD ? " (its worker ended while running it)" : "");
    } else {
        /* closed meanwhile (the executor was shut down by a join) */
        weft__fail_wrap(rc, "pool_map");
    }
    weft__free(drivers);
    weft__free(jobs);
    return rc;
}

/* ---- Submit (apply_async) ------------------------------------------------------- */

/* One submitted task: its input and target copied, and its outcome, which
 * is the future's result until the future is released. */
typedef struct pool_call {
    weft_pool *pool;
    weft_pool_result result;
    size_t len;
    char *target;       /* in the same allocation, after the input */
    unsigned char arg[]; /* the input */
} pool_call;

static void *pool_call_run(void *arg)
{
    pool_call *c = arg;
    worker *w = worker_take(c->pool);

    run_input(c->pool, w, c->target, c->arg, c->len, &c->result);
    worker_give(c->pool, w);
    if (c->result.status != WEFT_OK)
        weft_task_fail(c->result.status); /* Future.exception() */
    return &c->result;
}

static void call_dispose(void *arg, void *result)
{
    pool_call *c = arg;

    (void)result; /* &c->result, when it ran */
    weft__free(c->result.data);
    weft__free(c);
}

/* weft_pool_submit and weft_executor_submit_target, once their handles
 * are checked: `call` names the public call in messages. */
static int pool_submit(weft_pool *pool, weft_future **out, const char *target, const void *arg,
                       size_t len, const char *call)
{
    size_t name = strlen(target) + 1;
    pool_call *c;
    void *one;
    int rc;

    if (!weft__target_find(target))
        return weft__fail(WEFT_ENOENT, "%s: no target \"%.100s\" is registered", call, target);
    rc = pool_open(pool, call);
    if (rc != WEFT_OK)
        return rc;
    c = len <= SIZE_MAX - sizeof *c - name ? weft__calloc(1, sizeof *c + len + name) : NULL;
    if (!c)
        return weft__fail(WEFT_ENOMEM, "%s: no memory for a task of %zu bytes", call, len);
    c->pool = pool;
    c->len = len;
    if (len > 0)
        memcpy(c->arg, arg, len);
    c->target = (char *)c->arg + len;
    memcpy(c->target, target, name);
    one = c;
    rc = weft__executor_submit(pool->ex, pool_call_run, &one, 1, out, call_dispose);
    if (rc != WEFT_OK) {
        weft__free(c);
        return weft__fail_wrap(rc, "%s", call);
    }
    return WEFT_OK;
}

/* The checks both submits share: WEFT_OK when the arguments can be used. */
static int submit_args(const char *call, weft_future **out, const char *target, const void *arg,
                       size_t len)
{
    if (out)
        *out = NULL;
    if (!out || !target || (!arg && len > 0))
        return weft__fail(WEFT_EINVAL, "%s: %s", call, !out ? "out is NULL"
                                                   : !target ? "target is NULL"
                                                             : "arg is NULL, len > 0");
    return WEFT_OK;
}

int weft_pool_submit(weft_pool *pool, weft_future **out, const char *target, const void *arg,
                     size_t len)
{
    int rc = submit_args("pool_submit", out, target, arg, len);

    if (rc != WEFT_OK)
        return rc;
    if (!pool)
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(pool, "pool"))
        return WEFT_EINVAL;
    return pool_submit(pool, out, target, arg, len, "pool_submit");
}

/* ---- Life ---------------------------------------------------------------------- */

/* pool_workers_end and pool_free: the end of a pool, in two steps, since a
 * pool of weft_executor_create_processes ends with its executor. */
static void pool_workers_end(weft_pool *pool)
{
    size_t i;

    for (i = 0; i < pool->count; i++) {
        if (pool->workers[i].child)
            worker_retire(pool, &pool->workers[i]);
    }
    pool->joined = true;
}

static void pool_free(weft_pool *pool)
{
    WEFT__HANDLE_GONE(pool);
    weft__free(pool->initializer);
    weft__free(pool->workers);
    weft__free(pool);
}

/* pool_opts' two fields took two of the four reserved slots: the struct
 * keeps its size (see weft_process_opts, process.c). */
typedef struct pool_opts_before_initializer {
    int processes;
    weft_start_method method;
    void *reserved[4];
} pool_opts_before_initializer;
_Static_assert(sizeof(weft_pool_opts) == sizeof(pool_opts_before_initializer),
               "weft_pool_opts must keep its size");

/* weft_pool_create's checks: WEFT_OK when the options can be used. */
static int pool_opts_check(const weft_pool_opts *o)
{
    int rc;

    if (o->processes < 0)
        return weft__fail(WEFT_EINVAL, "pool_create: processes is %d", o->processes);
    rc = WEFT__RESERVED_CHECK("pool_create", o);
    if (rc != WEFT_OK)
        return rc;
    rc = weft__start_method_check("pool_create", o->method);
    if (rc != WEFT_OK)
        return rc;
    if (o->initializer && !weft__target_find(o->initializer))
        return weft__fail(WEFT_ENOENT, "pool_create: no initializer \"%.100s\" is registered",
                          o->initializer);
    return WEFT_OK;
}

int weft_pool_create(weft_pool **out, const weft_pool_opts *opts)
{
    weft_pool_opts o = opts ? *opts : (weft_pool_opts){0};
    weft_pool *pool;
    size_t i;
    int rc;

    if (!out)
        return weft__fail_null(__func__);
    rc = pool_opts_check(&o);
    if (rc != WEFT_OK)
        return rc;
    pool = weft__calloc(1, sizeof *pool);
    if (!pool)
        return weft__fail(WEFT_ENOMEM, "pool_create: no memory for the pool");
    pool->method = o.method;
    pool->max_tasks = o.max_tasks_per_child;
    pool->count = o.processes > 0 ? (size_t)o.processes : (size_t)weft_cpu_count();
    pool->workers = weft__calloc(pool->count, sizeof *pool->workers);
    if (o.initializer && pool->workers)
        pool->initializer = weft__strdup(o.initializer);
    if (!pool->workers || (o.initializer && !pool->initializer)) {
        rc = weft__fail(WEFT_ENOMEM, "pool_create: no memory for %zu workers", pool->count);
        weft__free(pool->workers);
        weft__free(pool);
        return rc;
    }
    rc = weft_executor_create(&pool->ex, pool->count, "weft-pool");
    if (rc != WEFT_OK) {
        weft__fail_wrap(rc, "pool_create");
        weft__free(pool->initializer);
        weft__free(pool->workers);
        weft__free(pool);
        return rc;
    }
    WEFT__HANDLE_BORN(pool, "pool");
    for (i = pool->count; i-- > 0;)
        worker_give(pool, &pool->workers[i]);
    for (i = 0; i < pool->count && rc == WEFT_OK; i++)
        rc = worker_start(pool, &pool->workers[i]);
    if (rc != WEFT_OK) {
        weft__fail_wrap(rc, "pool_create: worker %zu of %zu did not start", i - 1, pool->count);
        weft_pool_destroy(pool); /* succeeds: the message stays */
        return rc;
    }
    *out = pool;
    return WEFT_OK;
}

int weft_pool_close(weft_pool *pool)
{
    if (!pool)
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(pool, "pool"))
        return WEFT_EINVAL;
    weft__lock(&pool->lock);
    pool->closed = true;
    weft__unlock(&pool->lock);
    return WEFT_OK;
}

int weft_pool_terminate(weft_pool *pool)
{
    size_t i;

    if (!pool)
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(pool, "pool"))
        return WEFT_EINVAL;
    weft__lock(&pool->lock);
    pool->closed = pool->terminated = true;
    for (i = 0; i < pool->count; i++) {
        if (pool->workers[i].child)
            weft__child_signal(pool->workers[i].child, true);
    }
    weft__unlock(&pool->lock);
    return WEFT_OK;
}

int weft_pool_join(weft_pool *pool)
{
    bool open;

    if (!pool)
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(pool, "pool"))
        return WEFT_EINVAL;
    weft__lock(&pool->lock);
    open = !pool->closed;
    weft__unlock(&pool->lock);
    if (open)
        return weft__fail(WEFT_EINVAL, "pool_join: the pool is open: close or terminate it first");
    /* The calls queued and running (maps, submits) finish first. */
    weft_executor_shutdown(pool->ex, true, false);
    pool_workers_end(pool);
    return WEFT_OK;
}

void weft_pool_destroy(weft_pool *pool)
{
    if (!pool || WEFT__HANDLE_DEAD(pool, "pool"))
        return;
    if (!pool->joined) {
        weft_pool_terminate(pool);
        weft_pool_join(pool);
    }
    weft_executor_destroy(pool->ex);
    pool_free(pool);
}

/* ---- ProcessPoolExecutor -------------------------------------------------------- */

/* The end of an executor of processes (after its shutdown with wait): its
 * pool's workers stop once their calls are done, as at weft_pool_join. */
static void executor_pool_end(void *owner)
{
    weft_pool *pool = owner;

    weft__lock(&pool->lock);
    pool->closed = true;
    weft__unlock(&pool->lock);
    pool_workers_end(pool);
    pool_free(pool);
}

int weft_executor_create_processes(weft_executor **out, size_t max_workers)
{
    weft_pool_opts opts = {0};
    weft_pool *pool;
    int rc;

    if (!out)
        return weft__fail_null(__func__);
    *out = NULL;
    if (max_workers > INT_MAX)
        return weft__fail(WEFT_EINVAL, "executor_create_processes: max_workers %zu is too many",
                          max_workers);
    opts.processes = (int)max_workers;
    rc = weft_pool_create(&pool, &opts);
    if (rc != WEFT_OK)
        return weft__fail_wrap(rc, "executor_create_processes");
    weft__executor_set_owner(pool->ex, pool, executor_pool_end);
    *out = pool->ex;
    return WEFT_OK;
}

int weft_executor_submit_target(weft_executor *executor, weft_future **out, const char *target,
                                const void *arg, size_t len)
{
    weft_pool *pool;
    int rc = submit_args("executor_submit_target", out, target, arg, len);

    if (rc != WEFT_OK)
        return rc;
    if (!executor)
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(executor, "executor"))
        return WEFT_EINVAL;
    pool = weft__executor_owner(executor);
    if (!pool)
        return weft__fail(WEFT_EINVAL, "executor_submit_target: the executor runs threads "
                                       "(weft_executor_create_processes makes one of processes)");
    return pool_submit(pool, out, target, arg, len, "executor_submit_target");
}
