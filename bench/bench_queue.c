/* SPDX-License-Identifier: MIT */
/*
 * bench_queue: weft_queue and weft_executor against what a C programmer
 * would write by hand with pthreads, and against the queues and pools of
 * GLib, libuv and APR-util where those were found at build time.
 *
 * What is measured
 *   - Queue throughput: P producer and P consumer threads (1P/1C, 2P/2C,
 *     4P/4C by default) move --items items through one FIFO queue, bounded
 *     to --maxsize (1024) or unbounded; millions of items per second, from
 *     the moment every thread may run to the moment the last consumer has
 *     its last item. Each producer puts items/P distinct non-NULL values;
 *     the last producer to finish puts one NULL sentinel per consumer;
 *     every consumer counts and sums what it gets, and the totals are
 *     checked. Competitors:
 *       weft              weft_queue (WEFT_QUEUE_FIFO), bounded and unbounded;
 *       plain ring        (the baseline) a power-of-two ring buffer (growing
 *                         by doubling when unbounded) under one
 *                         pthread_mutex_t, with the textbook two conditions:
 *                         pthread_cond_signal(not_empty) after every put,
 *                         and, when bounded, pthread_cond_signal(not_full)
 *                         after every get;
 *       GLib GAsyncQueue  unbounded shapes only (it has no bound); it takes
 *                         no NULL item, so the sentinel travels as the
 *                         address of a static byte;
 *       APR apr_queue     bounded shapes only (apr_queue_push blocks when
 *                         full; there is no unbounded form), from a pool of
 *                         its own under one root pool (apr_initialize once).
 *   - Executor throughput: submit --tasks empty tasks (fn returns its arg),
 *     then wait for every result in order; million calls per second.
 *   - Executor round trip: submit one empty task, wait for its result,
 *     release what the submit made; repeated --trips times; microseconds
 *     per trip.
 *     Every pool has 2 workers and is warmed (2 x 2 tasks, untimed) before
 *     the clock starts; every task is allocated per submit and the
 *     submitter waits for that task's own result, as with a future:
 *       weft              weft_executor_submit + weft_future_result;
 *       plain pool        (the baseline) 2 pthreads taking tasks from a
 *                         mutex + condition list; each task is malloc'ed
 *                         with its own done flag, mutex and condition,
 *                         signalled by the worker, and freed after its
 *                         result is read;
 *       GLib GThreadPool  g_thread_pool_new(2 threads, exclusive=FALSE); the
 *                         task is the plain pool's (done flag, mutex,
 *                         condition), so the two differ only in the pool;
 *       libuv uv_queue_work  libuv's thread pool, sized to 2 by setting
 *                         UV_THREADPOOL_SIZE=2 before its first use. libuv
 *                         lets only the loop's own thread call
 *                         uv_queue_work, and hands each result back by
 *                         running the after-work callback on that thread,
 *                         so the fair setup is the one libuv is written
 *                         for: the submitting thread owns a uv_loop_t and
 *                         runs uv_run(UV_RUN_ONCE) until the task's
 *                         after-work callback has marked it done (its
 *                         "future"). A loop in a thread of its own would
 *                         add two hand-offs per task that no other
 *                         competitor pays (uv_async_send to reach the
 *                         loop thread, a condition back to the submitter).
 *                         libuv's pool threads live as long as the
 *                         process; the others start theirs per run, before
 *                         the clock starts.
 *   - Executor as used (issue 18): --rounds (10) rounds of --tasks empty
 *     tasks through pools of --workers (2) workers, each as its users call
 *     it, without a handle per task where the pool has none: every task
 *     adds one to a shared atomic done counter and the last one of a round
 *     signals the submitter (a mutex and condition), which waits for that
 *     alone; million calls per second from the first submit to the last
 *     round's signal (and the finish step named below, each round). A run
 *     of one round of 100,000 calls took 2-16 ms for weft and the minimal
 *     pool: beside two busy processes, about a time slice of the
 *     scheduler, so whether the submitter lost its CPU during a run
 *     decided it (unpinned, cache-line round trip 674 ns: the minimal pool
 *     ranged 1.1-43 Mcalls/s in one bench run). The submitter runs in a
 *     thread of its own, pinned to the first usable CPU unless --no-pin;
 *     every pool starts its workers from it, and a thread starts with its
 *     creator's CPUs, so pinned, the whole pool shares that one CPU with
 *     the submitter. Competitors:
 *       weft forget       weft_executor_submit(ex, NULL, ...): no future;
 *       weft released     a future, released right after its submit;
 *       weft kept         every future kept, released after the last call
 *                         (in the timing);
 *       minimal pool      (the baseline) pthreads taking (fn, arg) pairs
 *                         from a growing ring under one mutex and
 *                         condition, signalled after every put;
 *       GLib GThreadPool  g_thread_pool_push of the argument;
 *       libuv uv_queue_work  one uv_work_t per call (allocated before the
 *                         clock), no after-work callback; the loop runs
 *                         once the calls are done, to retire them (timed);
 *                         its pool keeps UV_THREADPOOL_SIZE=2 workers
 *                         whatever --workers says.
 *
 * How
 *   As bench_lock: each repetition runs every competitor of every shape
 *   once, in an order shuffled anew each repetition (bench_order), so that
 *   drift and what one run leaves the next fall on all alike; reported are
 *   the median, minimum and maximum over the repetitions, the ratio of the
 *   medians to the plain competitor and the spread of the per-repetition
 *   ("paired") ratios; the summary gives weft's paired ratio to every
 *   competitor of every family and checks the targets of issues 6, 15 and
 *   18. The queue threads are plain pthreads;
 *   on Linux producer i is pinned to usable CPU 2i and consumer i to CPU
 *   2i+1 (round robin; --no-pin turns this off), so that a 1P/1C pair
 *   really runs on two CPUs. csw/kitem is the process's context switches
 *   (getrusage) per 1000 items or tasks: a hint at how often a side slept;
 *   cpu ns is the CPU time of the whole process (user + system, every
 *   thread, libuv's and GLib's included) per item or task: the work each
 *   competitor costs, which other load on the machine disturbs less than
 *   the rate does.
 *   Every measured row is also printed as an "@result" line (bench_util.h).
 *
 * Usage: bench_queue [--smoke] [--reps N] [--items N] [--maxsize N]
 *                    [--pairs A,B,..] [--tasks N] [--trips N] [--no-pin]
 *                    [--verbose] [--only A,B,..] [--workers N] [--rounds N]
 *                    [--families queue,executor,asused] [--regime NAME]
 * Environment: WEFT_BENCH_REPS, WEFT_BENCH_ITEMS, WEFT_BENCH_TASKS,
 *              WEFT_BENCH_TRIPS (the command line wins).
 */
#include "bench_features.h"

#include <weft/executor.h>
#include <weft/queue.h>
#include <weft/time.h>

#define BENCH_NAME "bench_queue"
#include "bench_util.h"
#include "bench_threads.h"
#include "bench_regime.h"

#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_competitors.h"

#define MAX_REPS BENCH_MAX_REPS
#define MAX_PAIRS 32
#define MAX_PAIR_COUNTS 8
#define CACHE_LINE 64
#define POOL_WORKERS 2

/* ---- The plain ring ------------------------------------------------------------------
 * The textbook bounded buffer: one mutex, two conditions, a signal after
 * every put and (bounded only) after every get. Unbounded, it doubles. */

typedef struct plain_ring {
    pthread_mutex_t mutex;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    void **buf;
    size_t mask; /* capacity - 1, capacity a power of two */
    size_t head;
    size_t count;
    size_t maxsize; /* 0: unbounded */
} plain_ring;

static void *ring_create(size_t maxsize)
{
    plain_ring *r = calloc(1, sizeof *r);
    size_t cap = 16;

    if (!r)
        die("out of memory");
    while (cap < maxsize)
        cap *= 2;
    r->buf = malloc(cap * sizeof *r->buf);
    if (!r->buf)
        die("out of memory");
    r->mask = cap - 1;
    r->maxsize = maxsize;
    check(pthread_mutex_init(&r->mutex, NULL), "pthread_mutex_init");
    check(pthread_cond_init(&r->not_empty, NULL), "pthread_cond_init");
    check(pthread_cond_init(&r->not_full, NULL), "pthread_cond_init");
    return r;
}

static void ring_grow(plain_ring *r)
{
    size_t cap = r->mask + 1;
    void **grown = malloc(2 * cap * sizeof *grown);

    if (!grown)
        die("out of memory");
    for (size_t i = 0; i < r->count; i++)
        grown[i] = r->buf[(r->head + i) & r->mask];
    free(r->buf);
    r->buf = grown;
    r->mask = 2 * cap - 1;
    r->head = 0;
}

static void ring_put(void *queue, void *item)
{
    plain_ring *r = queue;

    check(pthread_mutex_lock(&r->mutex), "pthread_mutex_lock");
    while (r->maxsize && r->count >= r->maxsize)
        check(pthread_cond_wait(&r->not_full, &r->mutex), "pthread_cond_wait");
    if (r->count > r->mask)
        ring_grow(r);
    r->buf[(r->head + r->count) & r->mask] = item;
    r->count++;
    check(pthread_cond_signal(&r->not_empty), "pthread_cond_signal");
    check(pthread_mutex_unlock(&r->mutex), "pthread_mutex_unlock");
}

static void *ring_get(void *queue)
{
    plain_ring *r = queue;
    void *item;

    check(pthread_mutex_lock(&r->mutex), "pthread_mutex_lock");
    while (r->count == 0)
        check(pthread_cond_wait(&r->not_empty, &r->mutex), "pthread_cond_wait");
    item = r->buf[r->head];
    r->head = (r->head + 1) & r->mask;
    r->count--;
    if (r->maxsize)
        check(pthread_cond_signal(&r->not_full), "pthread_cond_signal");
    check(pthread_mutex_unlock(&r->mutex), "pthread_mutex_unlock");
    return item;
}

static void ring_destroy(void *queue)
{
    plain_ring *r = queue;

    check(pthread_cond_destroy(&r->not_full), "pthread_cond_destroy");
    check(pthread_cond_destroy(&r->not_empty), "pthread_cond_destroy");
    check(pthread_mutex_destroy(&r->mutex), "pthread_mutex_destroy");
    free(r->buf);
    free(r);
}

/* ---- weft_queue ------------------------------------------------------------------------ */

static void *wq_create(size_t maxsize)
{
    weft_queue_opts opts = {.kind = WEFT_QUEUE_FIFO, .maxsize = maxsize};
    weft_queue *q;

    if (weft_queue_create(&q, &opts) != WEFT_OK)
        die("weft_queue_create failed");
    return q;
}

static void wq_put(void *queue, void *item)
{
    int rc = weft_queue_put(queue, item, WEFT_FOREVER);

    if (rc != WEFT_OK)
        die("weft_queue_put failed: %d", rc);
}

static void *wq_get(void *queue)
{
    void *item;
    int rc = weft_queue_get(queue, &item, WEFT_FOREVER);

    if (rc != WEFT_OK)
        die("weft_queue_get failed: %d", rc);
    return item;
}

static void wq_destroy(void *queue)
{
    weft_queue_destroy(queue);
}

/* ---- GLib GAsyncQueue (unbounded only) ---------------------------------------------------
 * It refuses NULL items, so the sentinel NULL travels as &gaq_null. */

#ifdef WEFT_BENCH_HAVE_GLIB
static char gaq_null;

static void *gaq_create(size_t maxsize)
{
    (void)maxsize; /* unbounded shapes only */
    return g_async_queue_new();
}

static void gaq_put(void *queue, void *item)
{
    g_async_queue_push(queue, item ? item : &gaq_null);
}

static void *gaq_get(void *queue)
{
    void *item = g_async_queue_pop(queue);

    return item == &gaq_null ? NULL : item;
}

static void gaq_destroy(void *queue)
{
    g_async_queue_unref(queue);
}
#endif

/* ---- APR-util apr_queue (bounded only) ---------------------------------------------------
 * Each queue lives in a pool of its own under apr_root, destroyed with it.
 * A push or pop interrupted by a signal returns APR_EINTR: try again. */

#ifdef WEFT_BENCH_HAVE_APRUTIL
static apr_pool_t *apr_root;

typedef struct apr_bounded {
    apr_pool_t *pool;
    apr_queue_t *queue;
} apr_bounded;

static void apr_check(apr_status_t rc, const char *what)
{
    char buf[128];

    if (rc != APR_SUCCESS)
        die("%s failed: %s", what, apr_strerror(rc, buf, sizeof buf));
}

static void apr_start(void)
{
    apr_check(apr_initialize(), "apr_initialize");
    atexit(apr_terminate);
    apr_check(apr_pool_create(&apr_root, NULL), "apr_pool_create");
}

static void *aq_create(size_t maxsize)
{
    apr_pool_t *pool;
    apr_bounded *b;

    if (maxsize == 0 || maxsize > UINT_MAX)
        die("apr_queue: bound %zu out of range", maxsize);
    apr_check(apr_pool_create(&pool, apr_root), "apr_pool_create");
    b = apr_palloc(pool, sizeof *b);
    if (!b)
        die("out of memory");
    b->pool = pool;
    apr_check(apr_queue_create(&b->queue, (unsigned)maxsize, pool), "apr_queue_create");
    return b;
}

static void aq_put(void *queue, void *item)
{
    apr_bounded *b = queue;
    apr_status_t rc;

    while ((rc = apr_queue_push(b->queue, item)) == APR_EINTR)
        ;
    apr_check(rc, "apr_queue_push");
}

static void *aq_get(void *queue)
{
    apr_bounded *b = queue;
    void *item = NULL;
    apr_status_t rc;

    while ((rc = apr_queue_pop(b->queue, &item)) == APR_EINTR)
        ;
    apr_check(rc, "apr_queue_pop");
    return item;
}

static void aq_destroy(void *queue)
{
    apr_bounded *b = queue;

    apr_pool_destroy(b->pool); /* runs the queue's cleanup too */
}
#endif

/* ---- The queue competitors ---------------------------------------------------------------- */

enum { BOTH, BOUNDED_ONLY, UNBOUNDED_ONLY };

typedef struct queue_competitor {
    const char *name;
    bool baseline;
    int shapes; /* BOTH, BOUNDED_ONLY or UNBOUNDED_ONLY */
    void *(*create)(size_t maxsize);
    void (*put)(void *queue, void *item);
    void *(*get)(void *queue);
    void (*destroy)(void *queue);
} queue_competitor;

static const queue_competitor queue_competitors[] = {
    {"weft", false, BOTH, wq_create, wq_put, wq_get, wq_destroy},
    {"plain ring", true, BOTH, ring_create, ring_put, ring_get, ring_destroy},
#ifdef WEFT_BENCH_HAVE_GLIB
    {"GLib GAsyncQueue", false, UNBOUNDED_ONLY, gaq_create, gaq_put, gaq_get, gaq_destroy},
#endif
#ifdef WEFT_BENCH_HAVE_APRUTIL
    {"APR apr_queue", false, BOUNDED_ONLY, aq_create, aq_put, aq_get, aq_destroy},
#endif
};

#define NQCOMP ((int)(sizeof queue_competitors / sizeof queue_competitors[0]))

static bool queue_fits(const queue_competitor *c, size_t maxsize)
{
    return c->shapes == BOTH || (c->shapes == BOUNDED_ONLY) == (maxsize != 0);
}

/* ---- One queue run ---------------------------------------------------------------------- */

typedef struct qthread {
    alignas(CACHE_LINE) uint64_t first; /* producer: its first value */
    uint64_t n;                         /* producer: values to put; consumer: items got */
    uint64_t sum;                       /* consumer: sum of the values got */
    int64_t end_ns;                     /* consumer: when it got its sentinel */
    pthread_t thread;
} qthread;

static struct {
    const queue_competitor *comp;
    void *queue;
    int consumers;
    alignas(CACHE_LINE) atomic_int producers_left;
    alignas(CACHE_LINE) start_barrier barrier;
} qrun;

static qthread producers[MAX_PAIRS], consumers[MAX_PAIRS];

static void *producer_fn(void *arg)
{
    qthread *t = arg;
    const queue_competitor *c = qrun.comp;
    void *q = qrun.queue;

    barrier_wait(&qrun.barrier);
    for (uint64_t v = t->first; v < t->first + t->n; v++)
        c->put(q, (void *)(uintptr_t)v);
    if (atomic_fetch_sub(&qrun.producers_left, 1) == 1)
        for (int i = 0; i < qrun.consumers; i++)
            c->put(q, NULL);
    return NULL;
}

static void *consumer_fn(void *arg)
{
    qthread *t = arg;
    const queue_competitor *c = qrun.comp;
    void *q = qrun.queue;
    uint64_t n = 0, sum = 0;

    barrier_wait(&qrun.barrier);
    for (;;) {
        void *item = c->get(q);
        if (!item)
            break;
        n++;
        sum += (uint64_t)(uintptr_t)item;
    }
    t->end_ns = weft_monotonic_ns();
    t->n = n;
    t->sum = sum;
    return NULL;
}

typedef struct run_result {
    double value; /* the rate or the time */
    double csw;   /* context switches per 1000 items or tasks */
    double cpu;   /* CPU time of the process per item or task, ns */
} run_result;

/* The process's context switches and CPU time (user + system) so far. */
typedef struct rusage_sample {
    long csw;
    int64_t cpu_ns;
} rusage_sample;

static rusage_sample usage_sample(void)
{
    struct rusage ru;
    rusage_sample u;

    check(getrusage(RUSAGE_SELF, &ru), "getrusage");
    u.csw = ru.ru_nvcsw + ru.ru_nivcsw;
    u.cpu_ns = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
               ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
    return u;
}

/* csw and cpu of `r`: what happened since u0, per 1000 items and per item. */
static void usage_since(run_result *r, rusage_sample u0, uint64_t items)
{
    rusage_sample u1 = usage_sample();

    r->csw = (double)(u1.csw - u0.csw) * 1000.0 / (double)items;
    r->cpu = (double)(u1.cpu_ns - u0.cpu_ns) / (double)items;
}

/* Million items per second through the queue. */
static run_result run_queue(const queue_competitor *c, int pairs, size_t maxsize, uint64_t items)
{
    uint64_t per = items / (uint64_t)pairs, total = per * (uint64_t)pairs;
    uint64_t got = 0, sum = 0, want_sum = total * (total + 1) / 2;
    int64_t end = 0;
    rusage_sample u0;
    run_result res;

    qrun.comp = c;
    qrun.queue = c->create(maxsize);
    qrun.consumers = pairs;
    atomic_store(&qrun.producers_left, pairs);
    barrier_init(&qrun.barrier, 2 * pairs);
    u0 = usage_sample();
    for (int i = 0; i < pairs; i++) {
        producers[i].first = 1 + (uint64_t)i * per;
        producers[i].n = per;
        consumers[i].n = consumers[i].sum = 0;
        bench_start_thread(&producers[i].thread, 2 * i, producer_fn, &producers[i]);
        bench_start_thread(&consumers[i].thread, 2 * i + 1, consumer_fn, &consumers[i]);
    }
    for (int i = 0; i < pairs; i++) {
        check(pthread_join(producers[i].thread, NULL), "pthread_join");
        check(pthread_join(consumers[i].thread, NULL), "pthread_join");
    }
    usage_since(&res, u0, total);
    for (int i = 0; i < pairs; i++) {
        got += consumers[i].n;
        sum += consumers[i].sum;
        if (consumers[i].end_ns > end)
            end = consumers[i].end_ns;
    }
    if (got != total || sum != want_sum)
        die("%s: %llu items got (sum %llu), %llu put (sum %llu)", c->name,
            (unsigned long long)got, (unsigned long long)sum, (unsigned long long)total,
            (unsigned long long)want_sum);
    res.value = (double)total / (double)(end - qrun.barrier.released_ns) * 1e3;
    barrier_destroy(&qrun.barrier);
    c->destroy(qrun.queue);
    return res;
}

/* ---- A task with its own completion ------------------------------------------------------------
 * What the plain pool and GThreadPool run: malloc'ed per submit, with its
 * own done flag, mutex and condition, like a future; the submitter waits
 * for it, reads the result and frees it. */

typedef struct ptask {
    struct ptask *next; /* in the plain pool's list */
    void *(*fn)(void *arg);
    void *arg;
    void *result;
    bool done;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
} ptask;

static ptask *task_new(void *(*fn)(void *), void *arg)
{
    ptask *t = malloc(sizeof *t);

    if (!t)
        die("out of memory");
    t->next = NULL;
    t->fn = fn;
    t->arg = arg;
    t->result = NULL;
    t->done = false;
    check(pthread_mutex_init(&t->mutex, NULL), "pthread_mutex_init");
    check(pthread_cond_init(&t->cond, NULL), "pthread_cond_init");
    return t;
}

/* On a worker: run the task and signal its submitter. */
static void task_run(ptask *t)
{
    void *result = t->fn(t->arg);

    check(pthread_mutex_lock(&t->mutex), "pthread_mutex_lock");
    t->result = result;
    t->done = true;
    check(pthread_cond_signal(&t->cond), "pthread_cond_signal");
    check(pthread_mutex_unlock(&t->mutex), "pthread_mutex_unlock");
}

/* Wait for the task, free it, return its result. `pool` is unused: this
 * is the `result` of the competitors that run ptasks. */
static void *task_result(void *pool, void *handle)
{
    ptask *t = handle;
    void *result;

    (void)pool;
    check(pthread_mutex_lock(&t->mutex), "pthread_mutex_lock");
    while (!t->done)
        check(pthread_cond_wait(&t->cond, &t->mutex), "pthread_cond_wait");
    result = t->result;
    check(pthread_mutex_unlock(&t->mutex), "pthread_mutex_unlock");
    check(pthread_cond_destroy(&t->cond), "pthread_cond_destroy");
    check(pthread_mutex_destroy(&t->mutex), "pthread_mutex_destroy");
    free(t);
    return result;
}

/* ---- The plain pool --------------------------------------------------------------------------
 * A fixed pool of pthreads taking tasks from a mutex + condition list. */

typedef struct plain_pool {
    pthread_mutex_t mutex;
    pthread_cond_t not_empty;
    ptask *head, *tail;
    bool stop;
    pthread_t threads[POOL_WORKERS];
} plain_pool;

static void *pool_worker(void *arg)
{
    plain_pool *p = arg;

    for (;;) {
        ptask *t;

        check(pthread_mutex_lock(&p->mutex), "pthread_mutex_lock");
        while (!p->head && !p->stop)
            check(pthread_cond_wait(&p->not_empty, &p->mutex), "pthread_cond_wait");
        t = p->head;
        if (t) {
            p->head = t->next;
            if (!p->head)
                p->tail = NULL;
        }
        check(pthread_mutex_unlock(&p->mutex), "pthread_mutex_unlock");
        if (!t)
            return NULL; /* stopped and drained */
        task_run(t);
    }
}

static void *pool_create(void)
{
    plain_pool *p = calloc(1, sizeof *p);

    if (!p)
        die("out of memory");
    check(pthread_mutex_init(&p->mutex, NULL), "pthread_mutex_init");
    check(pthread_cond_init(&p->not_empty, NULL), "pthread_cond_init");
    for (int i = 0; i < POOL_WORKERS; i++)
        check(pthread_create(&p->threads[i], NULL, pool_worker, p), "pthread_create");
    return p;
}

static void *pool_submit(void *pool, void *(*fn)(void *), void *arg)
{
    plain_pool *p = pool;
    ptask *t = task_new(fn, arg);

    check(pthread_mutex_lock(&p->mutex), "pthread_mutex_lock");
    if (p->tail)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    check(pthread_cond_signal(&p->not_empty), "pthread_cond_signal");
    check(pthread_mutex_unlock(&p->mutex), "pthread_mutex_unlock");
    return t;
}

static void pool_destroy(void *pool)
{
    plain_pool *p = pool;

    check(pthread_mutex_lock(&p->mutex), "pthread_mutex_lock");
    p->stop = true;
    check(pthread_cond_broadcast(&p->not_empty), "pthread_cond_broadcast");
    check(pthread_mutex_unlock(&p->mutex), "pthread_mutex_unlock");
    for (int i = 0; i < POOL_WORKERS; i++)
        check(pthread_join(p->threads[i], NULL), "pthread_join");
    check(pthread_cond_destroy(&p->not_empty), "pthread_cond_destroy");
    check(pthread_mutex_destroy(&p->mutex), "pthread_mutex_destroy");
    free(p);
}

/* ---- weft_executor ------------------------------------------------------------------------------ */

static void *wex_create(void)
{
    weft_executor *ex;

    if (weft_executor_create(&ex, POOL_WORKERS, "bench") != WEFT_OK)
        die("weft_executor_create failed");
    return ex;
}

static void *wex_submit(void *pool, void *(*fn)(void *), void *arg)
{
    weft_future *f;
    int rc = weft_executor_submit(pool, &f, fn, arg);

    if (rc != WEFT_OK)
        die("weft_executor_submit failed: %d", rc);
    return f;
}

static void *wex_result(void *pool, void *handle)
{
    void *result = NULL;
    int rc = weft_future_result(handle, WEFT_FOREVER, &result);

    (void)pool;
    if (rc != WEFT_OK)
        die("weft_future_result failed: %d", rc);
    weft_future_release(handle);
    return result;
}

static void wex_destroy(void *pool)
{
    weft_executor_destroy(pool);
}

/* ---- GLib GThreadPool ------------------------------------------------------------------------------
 * Not exclusive (threads shared with GLib's other pools, as by default),
 * at most POOL_WORKERS of them running this pool's tasks: ptasks. */

#ifdef WEFT_BENCH_HAVE_GLIB
static void gpool_run(gpointer data, gpointer user_data)
{
    (void)user_data;
    task_run(data);
}

static void *gpool_create(void)
{
    GError *err = NULL;
    GThreadPool *p = g_thread_pool_new(gpool_run, NULL, POOL_WORKERS, FALSE, &err);

    if (!p)
        die("g_thread_pool_new failed: %s", err ? err->message : "no reason given");
    return p;
}

static void *gpool_submit(void *pool, void *(*fn)(void *), void *arg)
{
    GError *err = NULL;
    ptask *t = task_new(fn, arg);

    if (!g_thread_pool_push(pool, t, &err))
        die("g_thread_pool_push failed: %s", err ? err->message : "no reason given");
    return t;
}

static void gpool_destroy(void *pool)
{
    g_thread_pool_free(pool, FALSE, TRUE); /* wait for queued tasks */
}
#endif

/* ---- libuv uv_queue_work -----------------------------------------------------------------------------
 * The submitting thread owns the loop and runs it until the task's
 * after-work callback (on that thread) has marked it done; see the head
 * comment for why. The pool is libuv's process-wide one, UV_THREADPOOL_SIZE
 * workers (set to POOL_WORKERS in main before its first use). */

#ifdef WEFT_BENCH_HAVE_UV
typedef struct uv_task {
    uv_work_t req; /* req.data: the task */
    void *(*fn)(void *arg);
    void *arg;
    void *result;
    bool done; /* set on the loop's thread: no lock */
} uv_task;

static void uv_check(int rc, const char *what)
{
    if (rc != 0)
        die("%s failed: %s", what, uv_strerror(rc));
}

static void uvt_work(uv_work_t *req)
{
    uv_task *t = req->data;

    t->result = t->fn(t->arg);
}

static void uvt_after_work(uv_work_t *req, int status)
{
    uv_task *t = req->data;

    uv_check(status, "uv_queue_work (after work)");
    t->done = true;
}

static void *uvt_create(void)
{
    uv_loop_t *loop = malloc(sizeof *loop);

    if (!loop)
        die("out of memory");
    uv_check(uv_loop_init(loop), "uv_loop_init");
    return loop;
}

static void *uvt_submit(void *pool, void *(*fn)(void *), void *arg)
{
    uv_task *t = malloc(sizeof *t);

    if (!t)
        die("out of memory");
    t->req.data = t;
    t->fn = fn;
    t->arg = arg;
    t->result = NULL;
    t->done = false;
    uv_check(uv_queue_work(pool, &t->req, uvt_work, uvt_after_work), "uv_queue_work");
    return t;
}

static void *uvt_result(void *pool, void *handle)
{
    uv_task *t = handle;
    void *result;

    while (!t->done)
        (void)uv_run(pool, UV_RUN_ONCE);
    result = t->result;
    free(t);
    return result;
}

static void uvt_destroy(void *pool)
{
    (void)uv_run(pool, UV_RUN_DEFAULT); /* nothing is left; closes nothing */
    uv_check(uv_loop_close(pool), "uv_loop_close");
    free(pool);
}
#endif

/* ---- The executor competitors ------------------------------------------------------------------------
 * create starts a pool of POOL_WORKERS; submit hands it one call and
 * returns what to wait on; result waits for that call, releases what
 * submit made and returns the call's result; destroy waits for the pool's
 * threads (or, for libuv, closes the loop). */

typedef struct exec_competitor {
    const char *name;
    bool baseline;
    void *(*create)(void);
    void *(*submit)(void *pool, void *(*fn)(void *), void *arg);
    void *(*result)(void *pool, void *handle);
    void (*destroy)(void *pool);
} exec_competitor;

static const exec_competitor exec_competitors[] = {
    {"weft", false, wex_create, wex_submit, wex_result, wex_destroy},
    {"plain pool", true, pool_create, pool_submit, task_result, pool_destroy},
#ifdef WEFT_BENCH_HAVE_GLIB
    {"GLib GThreadPool", false, gpool_create, gpool_submit, task_result, gpool_destroy},
#endif
#ifdef WEFT_BENCH_HAVE_UV
    {"libuv uv_queue_work", false, uvt_create, uvt_submit, uvt_result, uvt_destroy},
#endif
};

#define NECOMP ((int)(sizeof exec_competitors / sizeof exec_competitors[0]))

/* The task is empty: it returns its argument, which is checked. */
static void *empty_task(void *arg)
{
    return arg;
}

static void **slots; /* a throughput run's handles, --tasks of them */

static void *task_arg(uint64_t i)
{
    return (void *)(uintptr_t)(i + 1);
}

static void exec_check(const exec_competitor *c, void *result, uint64_t i)
{
    if (result != task_arg(i))
        die("%s: result %p, expected %p", c->name, result, task_arg(i));
}

/* Throughput (calls per second) or round trip (microseconds per trip) of
 * n calls, on a pool that was started and warmed before the clock. */
static double exec_measure(const exec_competitor *c, bool roundtrip, uint64_t n)
{
    void *pool = c->create();
    void *warm[2 * POOL_WORKERS];
    int64_t t0, t1;

    for (int i = 0; i < 2 * POOL_WORKERS; i++)
        warm[i] = c->submit(pool, empty_task, task_arg(0));
    for (int i = 0; i < 2 * POOL_WORKERS; i++)
        exec_check(c, c->result(pool, warm[i]), 0);

    t0 = weft_monotonic_ns();
    if (roundtrip) {
        for (uint64_t i = 0; i < n; i++)
            exec_check(c, c->result(pool, c->submit(pool, empty_task, task_arg(i))), i);
    } else {
        for (uint64_t i = 0; i < n; i++)
            slots[i] = c->submit(pool, empty_task, task_arg(i));
        for (uint64_t i = 0; i < n; i++)
            exec_check(c, c->result(pool, slots[i]), i);
    }
    t1 = weft_monotonic_ns();
    c->destroy(pool);
    return roundtrip ? (double)(t1 - t0) / 1e3 / (double)n : (double)n / (double)(t1 - t0) * 1e9;
}

/* ---- Executors as they are used (issue 18) -------------------------------------------------------
 * No handle per task where the pool has none: every task adds one to a
 * shared atomic done counter, and the one that completes the run signals
 * the submitter (a mutex + condition), which waits for that alone. weft
 * runs three ways: its future kept until the end (released after the
 * wait, in the timing), released at once after the submit, and no future
 * at all (fire-and-forget). The submitter runs in a thread of its own,
 * pinned to the first usable CPU unless --no-pin; the pools' workers,
 * started from it, inherit that one CPU (weft's and GLib's start theirs
 * at the first submit; libuv's pool is the process's, started by the
 * first uv_queue_work). */

#define USE_MAX_WORKERS 64

static atomic_ulong use_done;
static unsigned long use_target;
static pthread_mutex_t use_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t use_cond = PTHREAD_COND_INITIALIZER;
static bool use_all_done;

static void *use_task(void *arg)
{
    if (atomic_fetch_add_explicit(&use_done, 1, memory_order_acq_rel) + 1 == use_target) {
        check(pthread_mutex_lock(&use_mutex), "pthread_mutex_lock");
        use_all_done = true;
        check(pthread_cond_signal(&use_cond), "pthread_cond_signal");
        check(pthread_mutex_unlock(&use_mutex), "pthread_mutex_unlock");
    }
    return arg;
}

static void use_expect(unsigned long n)
{
    atomic_store(&use_done, 0);
    use_target = n;
    use_all_done = false;
}

static void use_wait(void)
{
    check(pthread_mutex_lock(&use_mutex), "pthread_mutex_lock");
    while (!use_all_done)
        check(pthread_cond_wait(&use_cond, &use_mutex), "pthread_cond_wait");
    check(pthread_mutex_unlock(&use_mutex), "pthread_mutex_unlock");
}

/* The minimal pool: a mutex, a condition and a growing ring of calls. */
typedef struct min_call {
    void *(*fn)(void *arg);
    void *arg;
} min_call;

typedef struct min_pool {
    pthread_mutex_t mutex;
    pthread_cond_t not_empty;
    min_call *ring;
    size_t mask, head, count;
    bool stop;
    int nthreads;
    pthread_t threads[USE_MAX_WORKERS];
} min_pool;

static void *min_worker(void *arg)
{
    min_pool *p = arg;

    for (;;) {
        min_call c;

        check(pthread_mutex_lock(&p->mutex), "pthread_mutex_lock");
        while (p->count == 0 && !p->stop)
            check(pthread_cond_wait(&p->not_empty, &p->mutex), "pthread_cond_wait");
        if (p->count == 0) {
            check(pthread_mutex_unlock(&p->mutex), "pthread_mutex_unlock");
            return NULL;
        }
        c = p->ring[p->head];
        p->head = (p->head + 1) & p->mask;
        p->count--;
        check(pthread_mutex_unlock(&p->mutex), "pthread_mutex_unlock");
        c.fn(c.arg);
    }
}

static void *min_create(int workers, uint64_t n)
{
    min_pool *p = calloc(1, sizeof *p);

    (void)n;
    if (!p || !(p->ring = malloc(1024 * sizeof *p->ring)))
        die("out of memory");
    p->mask = 1023;
    check(pthread_mutex_init(&p->mutex, NULL), "pthread_mutex_init");
    check(pthread_cond_init(&p->not_empty, NULL), "pthread_cond_init");
    p->nthreads = workers;
    for (int i = 0; i < workers; i++)
        check(pthread_create(&p->threads[i], NULL, min_worker, p), "pthread_create");
    return p;
}

static void min_submit(void *pool, uint64_t i)
{
    min_pool *p = pool;

    check(pthread_mutex_lock(&p->mutex), "pthread_mutex_lock");
    if (p->count > p->mask) { /* full: double, unwrapping */
        size_t cap = (p->mask + 1) * 2;
        min_call *grown = malloc(cap * sizeof *grown);
        if (!grown)
            die("out of memory");
        for (size_t k = 0; k < p->count; k++)
            grown[k] = p->ring[(p->head + k) & p->mask];
        free(p->ring);
        p->ring = grown;
        p->head = 0;
        p->mask = cap - 1;
    }
    p->ring[(p->head + p->count) & p->mask] = (min_call){use_task, task_arg(i)};
    p->count++;
    check(pthread_cond_signal(&p->not_empty), "pthread_cond_signal");
    check(pthread_mutex_unlock(&p->mutex), "pthread_mutex_unlock");
}

static void min_destroy(void *pool)
{
    min_pool *p = pool;

    check(pthread_mutex_lock(&p->mutex), "pthread_mutex_lock");
    p->stop = true;
    check(pthread_cond_broadcast(&p->not_empty), "pthread_cond_broadcast");
    check(pthread_mutex_unlock(&p->mutex), "pthread_mutex_unlock");
    for (int i = 0; i < p->nthreads; i++)
        check(pthread_join(p->threads[i], NULL), "pthread_join");
    check(pthread_cond_destroy(&p->not_empty), "pthread_cond_destroy");
    check(pthread_mutex_destroy(&p->mutex), "pthread_mutex_destroy");
    free(p->ring);
    free(p);
}

/* weft, three ways. */
static void *wuse_create(int workers, uint64_t n)
{
    weft_executor *ex;

    (void)n;
    if (weft_executor_create(&ex, (size_t)workers, "bench") != WEFT_OK)
        die("weft_executor_create failed");
    return ex;
}

static void wuse_submit_forget(void *pool, uint64_t i)
{
    int rc = weft_executor_submit(pool, NULL, use_task, task_arg(i));

    if (rc != WEFT_OK)
        die("weft_executor_submit failed: %d", rc);
}

static void wuse_submit_released(void *pool, uint64_t i)
{
    weft_future *f;
    int rc = weft_executor_submit(pool, &f, use_task, task_arg(i));

    if (rc != WEFT_OK)
        die("weft_executor_submit failed: %d", rc);
    weft_future_release(f);
}

static uint64_t kept_count; /* slots holding futures of the run */

static void wuse_submit_kept(void *pool, uint64_t i)
{
    int rc = weft_executor_submit(pool, (weft_future **)&slots[i], use_task, task_arg(i));

    if (rc != WEFT_OK)
        die("weft_executor_submit failed: %d", rc);
    kept_count = i + 1;
}

static void wuse_finish_kept(void *pool)
{
    (void)pool;
    for (uint64_t i = 0; i < kept_count; i++)
        weft_future_release(slots[i]);
    kept_count = 0;
}

static void wuse_destroy(void *pool)
{
    weft_executor_destroy(pool);
}

#ifdef WEFT_BENCH_HAVE_GLIB
static void guse_run(gpointer data, gpointer user_data)
{
    (void)user_data;
    use_task(data);
}

static void *guse_create(int workers, uint64_t n)
{
    GError *err = NULL;
    GThreadPool *p = g_thread_pool_new(guse_run, NULL, workers, FALSE, &err);

    (void)n;
    if (!p)
        die("g_thread_pool_new failed: %s", err ? err->message : "no reason given");
    return p;
}

static void guse_submit(void *pool, uint64_t i)
{
    GError *err = NULL;

    if (!g_thread_pool_push(pool, task_arg(i), &err))
        die("g_thread_pool_push failed: %s", err ? err->message : "no reason given");
}
#endif

#ifdef WEFT_BENCH_HAVE_UV
/* The loop's requests, one per call as libuv wants (allocated before the
 * clock); no after-work callback: nothing comes back per call. */
typedef struct uv_use {
    uv_loop_t loop;
    uv_work_t *reqs;
} uv_use;

static void uvuse_work(uv_work_t *req)
{
    use_task(req->data);
}

static void *uvuse_create(int workers, uint64_t n)
{
    uv_use *u = malloc(sizeof *u);

    (void)workers; /* UV_THREADPOOL_SIZE, process-wide: set in main */
    if (!u || !(u->reqs = malloc((size_t)n * sizeof *u->reqs)))
        die("out of memory");
    uv_check(uv_loop_init(&u->loop), "uv_loop_init");
    return u;
}

static void uvuse_submit(void *pool, uint64_t i)
{
    uv_use *u = pool;

    u->reqs[i].data = task_arg(i);
    uv_check(uv_queue_work(&u->loop, &u->reqs[i], uvuse_work, NULL), "uv_queue_work");
}

/* The loop runs once the calls are done, to retire their requests. */
static void uvuse_finish(void *pool)
{
    uv_use *u = pool;

    (void)uv_run(&u->loop, UV_RUN_DEFAULT);
}

static void uvuse_destroy(void *pool)
{
    uv_use *u = pool;

    uv_check(uv_loop_close(&u->loop), "uv_loop_close");
    free(u->reqs);
    free(u);
}
#endif

typedef struct use_competitor {
    const char *name;
    bool baseline;
    void *(*create)(int workers, uint64_t n);
    void (*submit)(void *pool, uint64_t i);
    void (*finish)(void *pool); /* after the last call, in the timing; NULL: nothing */
    void (*destroy)(void *pool);
} use_competitor;

static const use_competitor use_competitors[] = {
    {"weft forget", false, wuse_create, wuse_submit_forget, NULL, wuse_destroy},
    {"weft released", false, wuse_create, wuse_submit_released, NULL, wuse_destroy},
    {"weft kept", false, wuse_create, wuse_submit_kept, wuse_finish_kept, wuse_destroy},
    {"minimal pool", true, min_create, min_submit, NULL, min_destroy},
#ifdef WEFT_BENCH_HAVE_GLIB
    {"GLib GThreadPool", false, guse_create, guse_submit, NULL, gpool_destroy},
#endif
#ifdef WEFT_BENCH_HAVE_UV
    {"libuv uv_queue_work", false, uvuse_create, uvuse_submit, uvuse_finish, uvuse_destroy},
#endif
};

#define NUCOMP ((int)(sizeof use_competitors / sizeof use_competitors[0]))

typedef struct use_run {
    const use_competitor *c;
    int workers;
    uint64_t n;
    int rounds;
    double rate; /* Mcalls/s */
} use_run;

/* In the submitting thread: start and warm the pool, then time `rounds`
 * rounds of n calls, each until its last call is done (and the
 * competitor's finish step). */
static void *use_measure_thread(void *arg)
{
    use_run *r = arg;
    const use_competitor *c = r->c;
    void *pool = c->create(r->workers, r->n);
    int64_t t0, t1;

    use_expect(2 * (unsigned long)r->workers);
    for (uint64_t i = 0; i < 2 * (uint64_t)r->workers; i++)
        c->submit(pool, i);
    use_wait();
    if (c->finish)
        c->finish(pool);
    t0 = weft_monotonic_ns();
    for (int round = 0; round < r->rounds; round++) {
        use_expect((unsigned long)r->n);
        for (uint64_t i = 0; i < r->n; i++)
            c->submit(pool, i);
        use_wait();
        if (c->finish)
            c->finish(pool);
    }
    t1 = weft_monotonic_ns();
    c->destroy(pool);
    r->rate = (double)r->n * (double)r->rounds / (double)(t1 - t0) * 1e3;
    return NULL;
}

static run_result run_use(const use_competitor *c, int workers, uint64_t n, int rounds)
{
    use_run r = {c, workers, n, rounds, 0};
    rusage_sample u0 = usage_sample();
    run_result res;
    pthread_t t;

    bench_start_thread(&t, 0, use_measure_thread, &r);
    check(pthread_join(t, NULL), "pthread_join");
    res.value = r.rate;
    usage_since(&res, u0, n * (uint64_t)rounds);
    return res;
}

/* ---- Settings ---------------------------------------------------------------------------------- */

typedef struct settings {
    int reps;
    long long items;
    long long maxsize;
    int pairs[MAX_PAIR_COUNTS];
    int npair_counts;
    long long tasks;
    long long trips;
    int workers; /* the executor-as-used family's pools */
    int rounds;  /* and the rounds of --tasks calls of its runs */
    bool pin;
    bool verbose;
    const char *only;   /* NULL, or comma-separated parts of competitor names */
    const char *groups; /* NULL, or "queue", "executor" or both */
} settings;

static void parse_pairs(void *ctx, const char *text, const char *what)
{
    settings *s = ctx;

    s->npair_counts = parse_int_list(text, what, 1, MAX_PAIRS, s->pairs, MAX_PAIR_COUNTS, "pair count");
}

static const char usage[] =
    "usage: bench_queue [--smoke] [--reps N] [--items N] [--maxsize N] [--pairs A,B,...]\n"
    "                   [--tasks N] [--trips N] [--no-pin] [--verbose] [--only A,B,...]\n"
    "                   [--workers N] [--families A,B]\n"
    "  --reps N        repetitions, every competitor once each (default 7)\n"
    "  --items N       items through the queue per run, all producers (default 2000000)\n"
    "  --maxsize N     the bound of the bounded queues (default 1024)\n"
    "  --pairs A,B     producer/consumer pairs of the queue runs (default 1,2,4)\n"
    "  --tasks N       empty tasks per executor throughput run (default 100000)\n"
    "  --trips N       submit->result round trips per run (default 50000)\n"
    "  --workers N     workers of each pool in the executor-as-used family (default 2;\n"
    "                  libuv keeps 2: its pool size is read once per process)\n"
    "  --rounds N      rounds of --tasks calls in each run of the executor-as-used\n"
    "                  family (default 10)\n"
    "  --smoke         a quick check: 1 repetition, 20000 items, 5000 tasks, 1000 trips,\n"
    "                  1 round\n"
    "  --no-pin        leave the queue threads to the scheduler (Linux pins producer i\n"
    "                  to the 2i-th usable CPU, consumer i to the (2i+1)-th, round robin)\n"
    "  --verbose       print every run as it ends, on stderr\n"
    "  --only A,B      run only the competitors whose names contain A or B (weft and\n"
    "                  the plain baselines always run, for the ratios)\n"
    "  --families A,B  run only these families: queue, executor (its three families),\n"
    "                  asused (the executor-as-used family alone)\n"
    "competitors: weft, plain ring, GLib GAsyncQueue (unbounded), APR apr_queue (bounded);\n"
    "  weft, plain pool, GLib GThreadPool, libuv uv_queue_work (executor); those whose\n"
    "  library was not found at build time are skipped\n"
    BENCH_REGIME_USAGE
    "environment: WEFT_BENCH_REPS, WEFT_BENCH_ITEMS, WEFT_BENCH_TASKS,\n"
    "  WEFT_BENCH_TRIPS set the same; the command line wins\n";

/* ---- Families ------------------------------------------------------------------------------------
 * After the runs, each family (a queue shape, executor throughput, executor
 * round trip) gathers its rows, for the tables, the @result lines, the
 * summary and the targets. */

#define NSHAPES (2 * MAX_PAIR_COUNTS) /* every pair count, bounded and unbounded */
#define MAX_ROWS (NQCOMP > NECOMP ? (NQCOMP > NUCOMP ? NQCOMP : NUCOMP) : (NECOMP > NUCOMP ? NECOMP : NUCOMP))
#define MAX_FAMILIES (NSHAPES + 3)

typedef struct family {
    bool queue;      /* a queue shape, else an executor family */
    char id[40];     /* for bench_result: "queue.bounded.1p1c" */
    char label[24];  /* the table's first column: "1P/1C 1024" */
    const char *unit;
    bool higher;     /* higher is better */
    int nrows, weft, base;
    const char *name[MAX_ROWS];
    const double *v[MAX_ROWS];
    const double *csw[MAX_ROWS];
    const double *cpu[MAX_ROWS];
} family;

static double queue_rate[NSHAPES][NQCOMP][MAX_REPS];
static double queue_csw[NSHAPES][NQCOMP][MAX_REPS];
static double queue_cpu[NSHAPES][NQCOMP][MAX_REPS];
static double exec_value[2][NECOMP][MAX_REPS]; /* [0]: Mcalls/s, [1]: us per trip */
static double exec_csw[2][NECOMP][MAX_REPS];
static double exec_cpu[2][NECOMP][MAX_REPS];
static double use_value[NUCOMP][MAX_REPS]; /* Mcalls/s */
static double use_csw[NUCOMP][MAX_REPS];
static double use_cpu[NUCOMP][MAX_REPS];
static bool use_active[NUCOMP];
static family families[MAX_FAMILIES];
static int nfamilies;
static bool queue_active[NQCOMP], exec_active[NECOMP]; /* --only */
static bool run_queues, run_executors, run_asused;    /* --families */

static int shape_pairs(const settings *s, int shape)
{
    return s->pairs[shape / 2];
}

static size_t shape_maxsize(const settings *s, int shape)
{
    return shape % 2 ? 0 : (size_t)s->maxsize;
}

static void shape_name(const settings *s, int shape, char *buf, size_t size)
{
    int p = shape_pairs(s, shape);

    if (shape % 2)
        snprintf(buf, size, "%dP/%dC unb", p, p);
    else
        snprintf(buf, size, "%dP/%dC %zu", p, p, shape_maxsize(s, shape));
}

static family *new_family(bool queue, const char *unit, bool higher)
{
    family *f = &families[nfamilies++];

    f->queue = queue;
    f->unit = unit;
    f->higher = higher;
    f->nrows = 0;
    f->weft = f->base = -1;
    return f;
}

static void add_row(family *f, const char *name, bool baseline, const double *v, const double *csw,
                    const double *cpu)
{
    if (strcmp(name, "weft") == 0)
        f->weft = f->nrows;
    if (baseline)
        f->base = f->nrows;
    f->name[f->nrows] = name;
    f->v[f->nrows] = v;
    f->csw[f->nrows] = csw;
    f->cpu[f->nrows] = cpu;
    f->nrows++;
}

static int find_row(const family *f, const char *name);

static void gather_families(const settings *s, int nshapes)
{
    for (int shape = 0; run_queues && shape < nshapes; shape++) {
        family *f = new_family(true, "Mitems/s", true);
        int p = shape_pairs(s, shape);

        snprintf(f->id, sizeof f->id, "queue.%s.%dp%dc", shape % 2 ? "unbounded" : "bounded", p, p);
        shape_name(s, shape, f->label, sizeof f->label);
        for (int c = 0; c < NQCOMP; c++)
            if (queue_active[c] && queue_fits(&queue_competitors[c], shape_maxsize(s, shape)))
                add_row(f, queue_competitors[c].name, queue_competitors[c].baseline,
                        queue_rate[shape][c], queue_csw[shape][c], queue_cpu[shape][c]);
    }
    for (int mode = 0; run_executors && mode < 2; mode++) {
        family *f = new_family(false, mode ? "us" : "Mcalls/s", !mode);

        snprintf(f->id, sizeof f->id, "executor.%s", mode ? "roundtrip" : "throughput");
        snprintf(f->label, sizeof f->label, "%s", mode ? "round trip" : "throughput");
        for (int c = 0; c < NECOMP; c++)
            if (exec_active[c])
                add_row(f, exec_competitors[c].name, exec_competitors[c].baseline,
                        exec_value[mode][c], exec_csw[mode][c], exec_cpu[mode][c]);
    }
    if (run_asused) {
        family *f = new_family(false, "Mcalls/s", true);

        snprintf(f->id, sizeof f->id, "executor.asused");
        snprintf(f->label, sizeof f->label, "as used");
        for (int c = 0; c < NUCOMP; c++)
            if (use_active[c])
                add_row(f, use_competitors[c].name, use_competitors[c].baseline, use_value[c],
                        use_csw[c], use_cpu[c]);
        f->weft = find_row(f, "weft forget");
    }
}

static int find_row(const family *f, const char *name)
{
    for (int k = 0; k < f->nrows; k++)
        if (strcmp(f->name[k], name) == 0)
            return k;
    return -1;
}

/* ---- Output ---------------------------------------------------------------------------------------- */

static void print_header(const char *what, const char *unit_column)
{
    printf("%-12s %-20s %9s %9s %9s  %5s  %-17s  %9s  %7s\n", what, "competitor", "median", "min",
           "max", "ratio", "paired", unit_column, "cpu ns");
}

/* The family's rows: median, min, max, ratio of the medians to the
 * baseline, the median (min-max) of the per-repetition ratios; then the
 * csw and cpu columns. */
static void print_family(const family *f, int reps, const char *fmt)
{
    for (int k = 0; k < f->nrows; k++) {
        printf("%-12s %-20s", f->label, f->name[k]);
        print_stats(f->v[k], f->base >= 0 ? f->v[f->base] : NULL, k == f->base, reps, fmt, 17);
        printf("  %9.2f  %7.0f\n", median(f->csw[k], reps), median(f->cpu[k], reps));
    }
}

/* weft against every other row of every family, the best one marked. */
static void print_summary(int reps)
{
    printf("\nSummary: weft / each competitor, ratio of medians; paired median; verdict\n");
    printf("  rate: above 1.00 weft is faster; time: below 1.00 weft is faster;"
           " * the family's best competitor\n");
    for (int i = 0; i < nfamilies; i++) {
        const family *f = &families[i];
        int best = -1;

        for (int k = 0; k < f->nrows; k++) {
            double m = median(f->v[k], reps);
            if (k == f->weft)
                continue;
            if (best < 0 || (f->higher ? m > median(f->v[best], reps) : m < median(f->v[best], reps)))
                best = k;
        }
        for (int k = 0; k < f->nrows; k++) {
            if (k == f->weft || strncmp(f->name[k], "weft", 4) == 0)
                continue;
            printf("  %-20s %c %-20s %s x%5.2f; x%5.2f   %s\n", f->id, k == best ? '*' : ' ',
                   f->name[k], f->higher ? "rate" : "time", median_ratio(f->v[f->weft], f->v[k], reps),
                   paired_median(f->v[f->weft], f->v[k], reps),
                   verdict(f->v[f->weft], f->v[k], reps, !f->higher));
        }
    }
}

/* The bars of issues 6 and 15 that this bench measures, on the paired median of
 * weft / competitor (time for round trips, rate for the rest). */
static const struct {
    const char *family; /* a family id, or a prefix ending in '.' */
    const char *competitor;
    bool at_least; /* the ratio must be >= bar (rates); else <= bar (times) */
    double bar;
    const char *weft; /* weft's row; NULL: the family's own */
} targets[] = {
    {"queue.", "plain ring", true, 1.0, NULL},
    {"queue.bounded.1p1c", "plain ring", true, 2.0, NULL}, /* issue 15 */
    {"queue.unbounded.1p1c", "plain ring", true, 2.0, NULL},
    {"queue.unbounded.", "GLib GAsyncQueue", true, 3.0, NULL},
    {"executor.throughput", "GLib GThreadPool", true, 3.0, NULL},
    {"executor.roundtrip", "GLib GThreadPool", false, 1.0, NULL},
    /* issue 18 */
    {"executor.roundtrip", "GLib GThreadPool", false, 0.2, NULL},
    {"executor.asused", "minimal pool", true, 1.0, "weft forget"},
    {"executor.asused", "GLib GThreadPool", true, 2.0, "weft forget"},
    {"executor.asused", "minimal pool", true, 0.7, "weft released"},
};

static void print_targets(int reps)
{
    size_t n = sizeof targets / sizeof targets[0];
    int met = 0, missed = 0;

    printf("\nTargets (issues 6, 15 and 18), on the paired median of weft / competitor:\n");
    for (size_t t = 0; t < n; t++) {
        size_t len = strlen(targets[t].family);
        bool prefix = targets[t].family[len - 1] == '.';
        bool any = false;

        for (int i = 0; i < nfamilies; i++) {
            const family *f = &families[i];
            int k = find_row(f, targets[t].competitor);
            int w = targets[t].weft ? find_row(f, targets[t].weft) : f->weft;
            double r;
            bool ok;

            if (prefix ? strncmp(f->id, targets[t].family, len) != 0
                       : strcmp(f->id, targets[t].family) != 0)
                continue;
            if (k < 0 || w < 0)
                continue;
            any = true;
            r = paired_median(f->v[w], f->v[k], reps);
            ok = targets[t].at_least ? r >= targets[t].bar : r <= targets[t].bar;
            met += ok;
            missed += !ok;
            printf("  %-20s %-13s %s %s %.2fx %-18s x%5.2f  %s\n", f->id, f->name[w],
                   f->higher ? "rate" : "time", targets[t].at_least ? ">=" : "<=", targets[t].bar,
                   targets[t].competitor, r, ok ? "met" : "MISSED");
        }
        if (!any)
            printf("  %-20s %s: not measured (its library skipped at build time, or the shape not in --pairs)\n", targets[t].family,
                   targets[t].competitor);
    }
    printf("  %d met, %d missed\n", met, missed);
}

/* ---- main ---------------------------------------------------------------------------------------------- */

static run_result run_exec(const exec_competitor *c, bool roundtrip, const settings *s)
{
    uint64_t n = (uint64_t)(roundtrip ? s->trips : s->tasks);
    rusage_sample u0 = usage_sample();
    run_result r;

    r.value = exec_measure(c, roundtrip, n);
    if (!roundtrip)
        r.value /= 1e6; /* Mcalls/s */
    usage_since(&r, u0, n);
    return r;
}

int main(int argc, char **argv)
{
    settings s = {.reps = 7, .items = 2000000, .maxsize = 1024, .pairs = {1, 2, 4},
                  .npair_counts = 3, .tasks = 100000, .trips = 50000, .workers = POOL_WORKERS,
                  .rounds = 10, .pin = HAVE_AFFINITY,
                  .verbose = false, .only = NULL, .groups = NULL};
    const bench_option options[] = {
        BENCH_OPT_INT("--reps", "WEFT_BENCH_REPS", &s.reps, 1, MAX_REPS, 1),
        BENCH_OPT_REGIME,
        BENCH_OPT_LLONG("--items", "WEFT_BENCH_ITEMS", &s.items, 1, 1000000000000LL, 20000),
        BENCH_OPT_LLONG("--maxsize", NULL, &s.maxsize, 1, UINT_MAX, 0),
        BENCH_OPT_CUSTOM("--pairs", NULL, parse_pairs, &s),
        BENCH_OPT_LLONG("--tasks", "WEFT_BENCH_TASKS", &s.tasks, 1, 100000000, 5000),
        BENCH_OPT_LLONG("--trips", "WEFT_BENCH_TRIPS", &s.trips, 1, 1000000000000LL, 1000),
        BENCH_OPT_INT("--workers", NULL, &s.workers, 1, USE_MAX_WORKERS, 0),
        BENCH_OPT_INT("--rounds", NULL, &s.rounds, 1, 1000, 1),
        BENCH_OPT_FLAG("--no-pin", &s.pin, false),
        BENCH_OPT_FLAG("--verbose", &s.verbose, true),
        BENCH_OPT_TEXT("--only", NULL, &s.only),
        BENCH_OPT_TEXT("--families", NULL, &s.groups),
    };
    int nshapes, nqruns;
    /* bench_order's permutations, of each family's runs in turn */
    int order[2 * MAX_PAIR_COUNTS * NQCOMP + 2 * NECOMP + NUCOMP];
    int64_t started;
    bool progress;
    char name[32];

    bench_parse_options(options, BENCH_NOPTS(options), usage, argc, argv);
    for (int t = 0; t < s.npair_counts; t++)
        if (s.items < s.pairs[t])
            die("--items %lld: fewer items than producers (%d)", s.items, s.pairs[t]);
    run_queues = bench_selected("queue", s.groups, true);
    run_executors = bench_selected("executor", s.groups, true);
    run_asused = run_executors || bench_selected("asused", s.groups, false);
    if (!run_queues && !run_asused)
        die("--families %s: expected queue, executor (both executor families) or asused "
            "(the executor-as-used one alone)", s.groups);
    for (int c = 0; c < NQCOMP; c++)
        queue_active[c] = run_queues && (queue_competitors[c].baseline ||
                                         strcmp(queue_competitors[c].name, "weft") == 0 ||
                                         bench_selected(queue_competitors[c].name, s.only, false));
    for (int c = 0; c < NECOMP; c++)
        exec_active[c] = run_executors && (exec_competitors[c].baseline ||
                                           strcmp(exec_competitors[c].name, "weft") == 0 ||
                                           bench_selected(exec_competitors[c].name, s.only, false));
    for (int c = 0; c < NUCOMP; c++)
        use_active[c] = run_asused && (use_competitors[c].baseline ||
                                          strncmp(use_competitors[c].name, "weft", 4) == 0 ||
                                          bench_selected(use_competitors[c].name, s.only, false));
    find_usable_cpus();
    pin_threads = s.pin;
    nshapes = 2 * s.npair_counts;
    nqruns = nshapes * NQCOMP;
    progress = !s.verbose && isatty(STDERR_FILENO) != 0;
    slots = malloc((size_t)s.tasks * sizeof *slots);
    if (!slots)
        die("out of memory");
#ifdef WEFT_BENCH_HAVE_UV
    /* Read once, by libuv's first uv_queue_work: as many workers as the others. */
    check(setenv("UV_THREADPOOL_SIZE", "2", 1), "setenv UV_THREADPOOL_SIZE");
#endif
#ifdef WEFT_BENCH_HAVE_APRUTIL
    apr_start();
#endif

    printf("weft bench_queue: weft_queue and weft_executor against a plain mutex+condvar "
           "ring and pool, GLib, libuv and APR-util\n");
    print_command(argc, argv, options, BENCH_NOPTS(options));
    print_skipped();
    printf("settings: %d repetition%s; queue: %lld items per run, bounded to %lld or "
           "unbounded, with",
           s.reps, s.reps == 1 ? "" : "s", s.items, s.maxsize);
    for (int t = 0; t < s.npair_counts; t++)
        printf("%s %dP/%dC", t ? "," : "", s.pairs[t], s.pairs[t]);
    printf(";\n          executor (%d workers): %lld tasks per throughput run, %lld round "
           "trips per run;\n          executor as used: %d workers, %d round%s of %lld tasks per run\n",
           POOL_WORKERS, s.tasks, s.trips, s.workers, s.rounds, s.rounds == 1 ? "" : "s", s.tasks);
    if (s.only || s.groups)
        printf("          only: %s; families: %s\n", s.only ? s.only : "every competitor",
               s.groups ? s.groups : "queue, executor");
    print_build();
    printf("machine:  %d CPUs usable; queue threads %s\n", weft_cpu_count(),
           s.pin ? "pinned round robin, producer i to CPU 2i, consumer i to CPU 2i+1"
                 : "not pinned (left to the scheduler)");
    bench_regime(s.pin);
    printf("order:    each repetition runs every competitor once, in an order shuffled anew "
           "each repetition\n");
    fflush(stdout);

    started = weft_monotonic_ns();

    /* One untimed round: faulting in code, stacks, the allocator's arenas
     * and libuv's and GLib's threads. */
    for (int c = 0; c < NQCOMP; c++)
        for (int b = 0; queue_active[c] && b < 2; b++)
            if (queue_fits(&queue_competitors[c], b ? 0 : (size_t)s.maxsize))
                (void)run_queue(&queue_competitors[c], s.pairs[0], b ? 0 : (size_t)s.maxsize,
                                (uint64_t)(s.items / 16 + s.pairs[0]));
    for (int c = 0; c < NECOMP; c++)
        for (int mode = 0; exec_active[c] && mode < 2; mode++)
            (void)exec_measure(&exec_competitors[c], mode,
                               (uint64_t)(mode ? s.trips : s.tasks) / 16 + 1);
    for (int c = 0; c < NUCOMP; c++)
        if (use_active[c])
            (void)run_use(&use_competitors[c], s.workers, (uint64_t)s.tasks / 16 + 1, 1);

    for (int r = 0; r < s.reps; r++) {
        bench_order(order, nqruns, r);
        for (int i = 0; i < nqruns; i++) {
            int k = order[i];
            int shape = k / NQCOMP, c = k % NQCOMP;
            run_result res;

            if (!queue_active[c] || !queue_fits(&queue_competitors[c], shape_maxsize(&s, shape)))
                continue;
            res = run_queue(&queue_competitors[c], shape_pairs(&s, shape),
                            shape_maxsize(&s, shape), (uint64_t)s.items);
            queue_rate[shape][c][r] = res.value;
            queue_csw[shape][c][r] = res.csw;
            queue_cpu[shape][c][r] = res.cpu;
            if (s.verbose) {
                shape_name(&s, shape, name, sizeof name);
                fprintf(stderr, "rep %2d  queue %-12s %-20s %8.3f Mitems/s  csw/kitem %.2f  "
                        "cpu %.0f ns/item\n",
                        r + 1, name, queue_competitors[c].name, res.value, res.csw, res.cpu);
            }
        }
        bench_order(order, 2 * NECOMP, r);
        for (int i = 0; i < 2 * NECOMP; i++) {
            int k = order[i];
            int mode = k / NECOMP, c = k % NECOMP;
            run_result res;

            if (!exec_active[c])
                continue;
            res = run_exec(&exec_competitors[c], mode != 0, &s);
            exec_value[mode][c][r] = res.value;
            exec_csw[mode][c][r] = res.csw;
            exec_cpu[mode][c][r] = res.cpu;
            if (s.verbose)
                fprintf(stderr, "rep %2d  executor %-10s %-20s %10.3f %s  csw/ktask %.2f  "
                        "cpu %.0f ns/task\n", r + 1, mode ? "round trip" : "throughput",
                        exec_competitors[c].name, res.value, mode ? "us/trip" : "Mcalls/s",
                        res.csw, res.cpu);
        }
        bench_order(order, NUCOMP, r);
        for (int i = 0; i < NUCOMP; i++) {
            int c = order[i];
            run_result res;

            if (!use_active[c])
                continue;
            res = run_use(&use_competitors[c], s.workers, (uint64_t)s.tasks, s.rounds);
            use_value[c][r] = res.value;
            use_csw[c][r] = res.csw;
            use_cpu[c][r] = res.cpu;
            if (s.verbose)
                fprintf(stderr, "rep %2d  executor as used   %-20s %10.3f Mcalls/s  csw/ktask %.2f  "
                        "cpu %.0f ns/task\n", r + 1, use_competitors[c].name, res.value, res.csw,
                        res.cpu);
        }
        if (progress)
            fprintf(stderr, "\rrepetition %d/%d done", r + 1, s.reps);
    }
    if (progress)
        fprintf(stderr, "\r%30s\r", "");
    gather_families(&s, nshapes);

    if (run_queues) {
        printf("\nQueue throughput, FIFO, P producers and P consumers: Mitems/s (higher is "
               "better)\n");
        printf("  ratio = median / median of the plain ring; above 1.00 faster than it\n");
        printf("  paired = the same ratio within each repetition: median (min-max)\n");
        printf("  csw/kitem = context switches of the process per 1000 items (median)\n");
        printf("  cpu ns = CPU time of the process (all threads, user + system) per item (median)\n");
        print_header("shape", "csw/kitem");
        for (int i = 0; i < nfamilies; i++)
            if (families[i].queue)
                print_family(&families[i], s.reps, "%.3f");
    }
    for (int i = 0; i < nfamilies; i++) {
        const family *f = &families[i];

        if (f->queue)
            continue;
        if (strcmp(f->id, "executor.asused") == 0)
            printf("\nExecutor as used, %d x %lld empty tasks that count themselves done on a "
                   "shared atomic, %d workers: Mcalls/s (higher is better)\n"
                   "  weft forget: no future; weft released: future released after the submit; "
                   "weft kept: every\n  future released after the last call; the others make no "
                   "handle per task\n"
                   "  ratio = median / median of the minimal pool; above 1.00 faster than it\n",
                   s.rounds, s.tasks, s.workers);
        else if (f->higher)
            printf("\nExecutor throughput, %lld empty tasks submitted, then every result "
                   "waited for: Mcalls/s (higher is better)\n"
                   "  ratio = median / median of the plain pool; above 1.00 faster than it\n",
                   s.tasks);
        else
            printf("\nExecutor round trip, submit one empty task and wait for its result: "
                   "us/trip (lower is better)\n"
                   "  ratio = median / median of the plain pool; below 1.00 faster than it\n");
        printf("  paired = the same ratio within each repetition: median (min-max)\n");
        printf("  csw/ktask = context switches of the process per 1000 tasks (median)\n");
        printf("  cpu ns = CPU time of the process (all threads, user + system) per task (median)\n");
        print_header("what", "csw/ktask");
        print_family(f, s.reps, f->higher ? "%.3f" : "%.2f");
    }

    print_summary(s.reps);
    print_targets(s.reps);

    printf("\n");
    for (int i = 0; i < nfamilies; i++)
        for (int k = 0; k < families[i].nrows; k++)
            bench_result(families[i].id, families[i].name[k], families[i].v[k], s.reps,
                         families[i].unit, families[i].higher);

    printf("\ntotal time: %.1f s\n", (double)(weft_monotonic_ns() - started) / 1e9);
    free(slots);
    return 0;
}
