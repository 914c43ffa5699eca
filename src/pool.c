/* SPDX-License-Identifier: MIT */
/*
 * multiprocessing.Pool: worker processes that run registered targets on
 * byte buffers, both sides of it.
 *
 * A worker is a child process running weft's internal target
 * WEFT__POOL_WORKER, with two pipes: tasks in, results out (src/wire.c's
 * calls and results). A map hands the inputs
 * out by an atomic counter to one driver per worker (the calling thread and
 * weft threads); a driver sends one task, reads its result, and goes on.
 * A worker that dies shows as the end of its result pipe: that input fails
 * with WEFT_ECHILD, the worker is reaped and a new one started. Workers are
 * told to stop by a task with an empty target name rather than by the end
 * of their task pipe, because a worker started with fork() holds copies of
 * the other workers' task pipes, and so would keep them from ending.
 */
#include "processes.h"

#include <stdlib.h>
#include <string.h>

typedef struct worker {
    weft__child *child; /* NULL: none runs; under the pool's lock */
    weft_sys_file to, from;
} worker;

struct weft_pool {
    weft_lock map_lock; /* one map (or join) at a time */
    weft_lock lock;     /* guards the workers' `child` and `terminated` */
    bool closed, terminated, joined;
    weft_start_method method;
    size_t count;
    worker *workers;
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

typedef struct map_job {
    weft_pool *pool;
    const char *target;
    const weft_buffer *items;
    weft_pool_result *results;
    size_t count;
    WEFT_ALIGN8 uint64_t next; /* the next input to hand out (atomic) */
} map_job;

typedef struct driver {
    map_job *job;
    worker *w;
} driver;

static bool terminated(weft_pool *pool)
{
    bool t;

    weft__lock(&pool->lock);
    t = pool->terminated;
    weft__unlock(&pool->lock);
    return t;
}

/* Run input i on worker w. A worker that is gone before it took the task
 * (its task pipe broke) is replaced and the task sent again, once; one
 * that ends while it has the task fails that input. */
static void run_input(map_job *job, worker *w, size_t i)
{
    weft_pool_result *r = &job->results[i];
    int attempt, rc = WEFT_ECHILD;

    *r = (weft_pool_result){WEFT_ECHILD, 0, NULL, 0};
    for (attempt = 0; attempt < 2; attempt++) {
        if (terminated(job->pool))
            return;
        if (!w->child && (rc = worker_start(job->pool, w)) != WEFT_OK) {
            if (w->child)
                worker_end(job->pool, w);
            r->status = rc == WEFT_ESHUTDOWN ? WEFT_ECHILD : rc;
            return;
        }
        rc = weft__wire_send_call(w->to, job->target, job->items[i].data, job->items[i].len);
        if (rc == WEFT_OK)
            break;
        worker_discard(job->pool, w);
    }
    if (rc != WEFT_OK) {
        r->status = rc;
        return;
    }
    rc = weft__wire_receive_result(w->from, r);
    if (rc != WEFT_OK) {
        r->status = rc;
        worker_discard(job->pool, w);
    }
}

static void *drive(void *arg)
{
    driver *d = arg;
    uint64_t i;

    while ((i = weft__fetch_add64(&d->job->next, 1)) < d->job->count)
        run_input(d->job, d->w, (size_t)i);
    return NULL;
}

int weft_pool_map(weft_pool *pool, const char *target, const weft_buffer *items, size_t count,
                  weft_pool_result *results)
{
    weft_thread_opts opts = {.name = "weft-pool-driver", .daemon = true};
    map_job job;
    driver *drivers;
    weft_thread **threads;
    size_t n, i, started;
    int rc = WEFT_OK;

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
    n = count < pool->count ? count : pool->count;
    drivers = weft__malloc((n + 1) * sizeof *drivers);
    threads = weft__malloc((n + 1) * sizeof *threads);
    if (!drivers || !threads) {
        weft__free(drivers);
        weft__free(threads);
        return weft__fail(WEFT_ENOMEM, "pool_map: no memory for %zu drivers", n + 1);
    }
    weft__lock(&pool->map_lock);
    if (pool->closed || terminated(pool)) {
        rc = weft__fail(WEFT_ESHUTDOWN, "pool_map: the pool is %s",
                        terminated(pool) ? "terminated" : "closed");
        goto out;
    }
    job = (map_job){pool, target, items, results, count, 0};
    /* The calling thread drives the first worker; threads drive the rest. */
    for (i = 0; i < n; i++)
        drivers[i] = (driver){&job, &pool->workers[i]};
    for (started = 1; started < n; started++) {
        if (weft_thread_start(&threads[started], drive, &drivers[started], &opts) != WEFT_OK)
            break;
    }
    if (n > 0)
        drive(&drivers[0]);
    for (i = 1; i < started; i++) {
        weft_thread_join(threads[i], WEFT_FOREVER, NULL);
        weft_thread_release(threads[i]);
    }
    for (i = 0; i < count && rc == WEFT_OK; i++)
        rc = results[i].status;
    if (rc != WEFT_OK)
        weft__fail(rc, "pool_map: input %zu of %zu failed: %s%s", i - 1, count, weft_strerror(rc),
                   rc == WEFT_ECHILD ? " (its worker ended while running it)" : "");
out:
    weft__unlock(&pool->map_lock);
    weft__free(drivers);
    weft__free(threads);
    return rc;
}

int weft_pool_create(weft_pool **out, const weft_pool_opts *opts)
{
    weft_pool_opts o = opts ? *opts : (weft_pool_opts){0};
    weft_pool *pool;
    size_t i;
    int rc;

    if (!out)
        return weft__fail_null(__func__);
    if (o.processes < 0)
        return weft__fail(WEFT_EINVAL, "pool_create: processes is %d", o.processes);
    rc = WEFT__RESERVED_CHECK("pool_create", &o);
    if (rc != WEFT_OK)
        return rc;
    if (o.method != WEFT_START_DEFAULT && o.method != WEFT_START_FORK &&
        o.method != WEFT_START_SPAWN)
        return weft__fail(WEFT_EINVAL, "pool_create: method %d is not a weft_start_method",
                          (int)o.method);
    pool = weft__calloc(1, sizeof *pool);
    if (!pool)
        return weft__fail(WEFT_ENOMEM, "pool_create: no memory for the pool");
    pool->method = o.method;
    pool->count = o.processes > 0 ? (size_t)o.processes : (size_t)weft_cpu_count();
    pool->workers = weft__calloc(pool->count, sizeof *pool->workers);
    if (!pool->workers) {
        rc = weft__fail(WEFT_ENOMEM, "pool_create: no memory for %zu workers", pool->count);
        weft__free(pool);
        return rc;
    }
    WEFT__HANDLE_BORN(pool, "pool");
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
    size_t i;
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
    weft__lock(&pool->map_lock);
    for (i = 0; i < pool->count; i++) {
        worker *w = &pool->workers[i];
        if (w->child) {
            weft__wire_send_call(w->to, "", NULL, 0); /* stop */
            worker_end(pool, w);
        }
    }
    pool->joined = true;
    weft__unlock(&pool->map_lock);
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
    WEFT__HANDLE_GONE(pool);
    weft__free(pool->workers);
    weft__free(pool);
}
