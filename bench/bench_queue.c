/*
 * bench_queue: weft_queue and weft_executor against what a C programmer
 * would write by hand with pthreads.
 *
 * What is measured
 *   - Queue throughput: P producer and P consumer threads (1P/1C, 2P/2C,
 *     4P/4C by default) move --items items through one FIFO queue, bounded
 *     to --maxsize (1024) or unbounded; millions of items per second, from
 *     the moment every thread may run to the moment the last consumer has
 *     its last item. Competitors: weft_queue (WEFT_QUEUE_FIFO) and a plain
 *     ring: a power-of-two ring buffer (growing by doubling when unbounded)
 *     under one pthread_mutex_t, with the textbook two conditions:
 *     pthread_cond_signal(not_empty) after every put, and, when bounded,
 *     pthread_cond_signal(not_full) after every get (an unbounded ring has
 *     no putter that may wait, so it never signals not_full).
 *     Each producer puts items/P distinct non-NULL values; the last
 *     producer to finish puts one NULL sentinel per consumer; every
 *     consumer counts and sums what it gets, and the totals are checked.
 *   - Executor throughput: submit --tasks empty tasks (fn returns its arg),
 *     then wait for every result in order; tasks per second.
 *   - Executor round trip: submit one empty task, wait for its result,
 *     give the future back; repeated --trips times; microseconds per trip.
 *     Competitors: weft_executor with 2 workers against a plain pool: 2
 *     pthreads taking tasks from a mutex + condition-variable list; each
 *     task is malloc'ed with its own done flag, mutex and condition (as a
 *     future would be) and freed after its result is read.
 *
 * How
 *   As bench_lock: each repetition runs every competitor of every shape
 *   once, the first one rotating from one repetition to the next, so that
 *   drift falls on all alike; reported are the median, minimum and maximum
 *   over the repetitions, the ratio of the medians to the plain competitor
 *   and the spread of the per-repetition ("paired") ratios. The queue
 *   threads are plain pthreads; on Linux producer i is pinned to usable
 *   CPU 2i and consumer i to CPU 2i+1 (round robin; --no-pin turns this
 *   off), so that a 1P/1C pair really runs on two CPUs. csw/kitem is the
 *   process's context switches (getrusage) per 1000 items or tasks: a
 *   hint at how often a side slept.
 *
 * Usage: bench_queue [--smoke] [--reps N] [--items N] [--maxsize N]
 *                    [--pairs A,B,..] [--tasks N] [--trips N] [--no-pin]
 *                    [--verbose]
 * Environment: WEFT_BENCH_REPS, WEFT_BENCH_ITEMS, WEFT_BENCH_TASKS,
 *              WEFT_BENCH_TRIPS (the command line wins).
 */
#if defined(__linux__)
#define _GNU_SOURCE
#define HAVE_AFFINITY 1
#else
#define _XOPEN_SOURCE 700
#define HAVE_AFFINITY 0
#endif

#include <weft/executor.h>
#include <weft/queue.h>
#include <weft/time.h>

#define BENCH_NAME "bench_queue"
#include "bench_util.h"
#include "bench_threads.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    weft_queue_opts opts = {WEFT_QUEUE_FIFO, maxsize, NULL};
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

typedef struct queue_competitor {
    const char *name;
    bool baseline;
    void *(*create)(size_t maxsize);
    void (*put)(void *queue, void *item);
    void *(*get)(void *queue);
    void (*destroy)(void *queue);
} queue_competitor;

static const queue_competitor queue_competitors[] = {
    {"weft_queue", false, wq_create, wq_put, wq_get, wq_destroy},
    {"plain ring", true, ring_create, ring_put, ring_get, ring_destroy},
};

#define NQCOMP ((int)(sizeof queue_competitors / sizeof queue_competitors[0]))

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
} run_result;

/* Million items per second through the queue. */
static run_result run_queue(const queue_competitor *c, int pairs, size_t maxsize, uint64_t items)
{
    uint64_t per = items / (uint64_t)pairs, total = per * (uint64_t)pairs;
    uint64_t got = 0, sum = 0, want_sum = total * (total + 1) / 2;
    int64_t end = 0;
    long csw0;
    run_result res;

    qrun.comp = c;
    qrun.queue = c->create(maxsize);
    qrun.consumers = pairs;
    atomic_store(&qrun.producers_left, pairs);
    barrier_init(&qrun.barrier, 2 * pairs);
    csw0 = context_switches();
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
    res.csw = (double)(context_switches() - csw0) * 1000.0 / (double)total;
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

/* ---- The plain pool --------------------------------------------------------------------------
 * A fixed pool of pthreads taking tasks from a mutex + condition list; each
 * task carries its own done flag, mutex and condition, like a future. */

typedef struct ptask {
    struct ptask *next;
    void *(*fn)(void *arg);
    void *arg;
    void *result;
    bool done;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
} ptask;

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
        t->result = t->fn(t->arg);
        check(pthread_mutex_lock(&t->mutex), "pthread_mutex_lock");
        t->done = true;
        check(pthread_cond_signal(&t->cond), "pthread_cond_signal");
        check(pthread_mutex_unlock(&t->mutex), "pthread_mutex_unlock");
    }
}

static plain_pool *pool_create(void)
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

static ptask *pool_submit(plain_pool *p, void *(*fn)(void *), void *arg)
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

/* Wait for the task, free it, return its result. */
static void *pool_result(ptask *t)
{
    void *result;

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

static void pool_destroy(plain_pool *p)
{
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

/* ---- The executor competitors ----------------------------------------------------------------
 * The task is empty: it returns its argument, which is checked. */

static void *empty_task(void *arg)
{
    return arg;
}

static void **slots; /* a throughput run's futures or tasks, --tasks of them */

static void *task_arg(uint64_t i)
{
    return (void *)(uintptr_t)(i + 1);
}

static weft_executor *new_executor(void)
{
    weft_executor *ex;
    weft_future *f[2 * POOL_WORKERS];

    if (weft_executor_create(&ex, POOL_WORKERS, "bench") != WEFT_OK)
        die("weft_executor_create failed");
    /* Untimed: let the workers start. */
    for (int i = 0; i < 2 * POOL_WORKERS; i++)
        if (weft_executor_submit(ex, &f[i], empty_task, task_arg(0)) != WEFT_OK)
            die("weft_executor_submit failed");
    for (int i = 0; i < 2 * POOL_WORKERS; i++) {
        if (weft_future_result(f[i], WEFT_FOREVER, NULL) != WEFT_OK)
            die("weft_future_result failed");
        weft_future_release(f[i]);
    }
    return ex;
}

static void weft_wait(weft_future *f, uint64_t i)
{
    void *result = NULL;
    int rc = weft_future_result(f, WEFT_FOREVER, &result);

    if (rc != WEFT_OK || result != task_arg(i))
        die("weft_future_result: status %d, result %p, expected %p", rc, result, task_arg(i));
    weft_future_release(f);
}

static double throughput_weft(uint64_t n)
{
    weft_executor *ex = new_executor();
    int64_t t0 = weft_monotonic_ns(), t1;

    for (uint64_t i = 0; i < n; i++) {
        weft_future *f;
        int rc = weft_executor_submit(ex, &f, empty_task, task_arg(i));
        if (rc != WEFT_OK)
            die("weft_executor_submit failed: %d", rc);
        slots[i] = f;
    }
    for (uint64_t i = 0; i < n; i++)
        weft_wait(slots[i], i);
    t1 = weft_monotonic_ns();
    weft_executor_destroy(ex);
    return (double)n / (double)(t1 - t0) * 1e9; /* tasks per second */
}

static double roundtrip_weft(uint64_t n)
{
    weft_executor *ex = new_executor();
    int64_t t0 = weft_monotonic_ns(), t1;

    for (uint64_t i = 0; i < n; i++) {
        weft_future *f;
        int rc = weft_executor_submit(ex, &f, empty_task, task_arg(i));
        if (rc != WEFT_OK)
            die("weft_executor_submit failed: %d", rc);
        weft_wait(f, i);
    }
    t1 = weft_monotonic_ns();
    weft_executor_destroy(ex);
    return (double)(t1 - t0) / 1e3 / (double)n; /* microseconds per trip */
}

static plain_pool *new_pool(void)
{
    plain_pool *p = pool_create();
    ptask *t[2 * POOL_WORKERS];

    for (int i = 0; i < 2 * POOL_WORKERS; i++)
        t[i] = pool_submit(p, empty_task, task_arg(0));
    for (int i = 0; i < 2 * POOL_WORKERS; i++)
        (void)pool_result(t[i]);
    return p;
}

static void pool_wait(ptask *t, uint64_t i)
{
    void *result = pool_result(t);

    if (result != task_arg(i))
        die("plain pool: result %p, expected %p", result, task_arg(i));
}

static double throughput_pool(uint64_t n)
{
    plain_pool *p = new_pool();
    int64_t t0 = weft_monotonic_ns(), t1;

    for (uint64_t i = 0; i < n; i++)
        slots[i] = pool_submit(p, empty_task, task_arg(i));
    for (uint64_t i = 0; i < n; i++)
        pool_wait(slots[i], i);
    t1 = weft_monotonic_ns();
    pool_destroy(p);
    return (double)n / (double)(t1 - t0) * 1e9;
}

static double roundtrip_pool(uint64_t n)
{
    plain_pool *p = new_pool();
    int64_t t0 = weft_monotonic_ns(), t1;

    for (uint64_t i = 0; i < n; i++)
        pool_wait(pool_submit(p, empty_task, task_arg(i)), i);
    t1 = weft_monotonic_ns();
    pool_destroy(p);
    return (double)(t1 - t0) / 1e3 / (double)n;
}

typedef struct exec_competitor {
    const char *family; /* "submit" (throughput) or "trip" (round trip) */
    const char *name;
    bool baseline;
    bool roundtrip;
    double (*run)(uint64_t n);
} exec_competitor;

static const exec_competitor exec_competitors[] = {
    {"submit", "weft_executor", false, false, throughput_weft},
    {"submit", "plain pool", true, false, throughput_pool},
    {"trip", "weft_executor", false, true, roundtrip_weft},
    {"trip", "plain pool", true, true, roundtrip_pool},
};

#define NECOMP ((int)(sizeof exec_competitors / sizeof exec_competitors[0]))

static int exec_baseline_of(int c)
{
    for (int i = 0; i < NECOMP; i++)
        if (exec_competitors[i].baseline &&
            strcmp(exec_competitors[i].family, exec_competitors[c].family) == 0)
            return i;
    return -1;
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
    bool pin;
    bool verbose;
} settings;

static void parse_pairs(void *ctx, const char *text, const char *what)
{
    settings *s = ctx;

    s->npair_counts = parse_int_list(text, what, 1, MAX_PAIRS, s->pairs, MAX_PAIR_COUNTS, "pair count");
}

static const char usage[] =
    "usage: bench_queue [--smoke] [--reps N] [--items N] [--maxsize N] [--pairs A,B,...]\n"
    "                   [--tasks N] [--trips N] [--no-pin] [--verbose]\n"
    "  --reps N        repetitions, every competitor once each (default 7)\n"
    "  --items N       items through the queue per run, all producers (default 2000000)\n"
    "  --maxsize N     the bound of the bounded queues (default 1024)\n"
    "  --pairs A,B     producer/consumer pairs of the queue runs (default 1,2,4)\n"
    "  --tasks N       empty tasks per executor throughput run (default 100000)\n"
    "  --trips N       submit->result round trips per run (default 50000)\n"
    "  --smoke         a quick check: 1 repetition, 20000 items, 5000 tasks, 1000 trips\n"
    "  --no-pin        leave the queue threads to the scheduler (Linux pins producer i\n"
    "                  to the 2i-th usable CPU, consumer i to the (2i+1)-th, round robin)\n"
    "  --verbose       print every run as it ends, on stderr\n"
    "environment: WEFT_BENCH_REPS, WEFT_BENCH_ITEMS, WEFT_BENCH_TASKS,\n"
    "  WEFT_BENCH_TRIPS set the same; the command line wins\n";

/* ---- Output ---------------------------------------------------------------------------------------- */

/* One row: median, min, max, ratio of the medians to the baseline, and the
 * median (min-max) of the per-repetition ratios; then the csw column. */
static void print_row(const char *what, const char *name, bool is_base, const double *v,
                      const double *base, const double *csw, int reps, const char *fmt)
{
    printf("%-12s %-14s", what, name);
    print_stats(v, base, is_base, reps, fmt, 17);
    printf("  %8.2f\n", median(csw, reps));
}

/* ---- main ---------------------------------------------------------------------------------------------- */

#define NSHAPES (2 * MAX_PAIR_COUNTS) /* every pair count, bounded and unbounded */

static double queue_rate[NSHAPES][NQCOMP][MAX_REPS];
static double queue_csw[NSHAPES][NQCOMP][MAX_REPS];
static double exec_value[NECOMP][MAX_REPS];
static double exec_csw[NECOMP][MAX_REPS];

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

static run_result run_exec(const exec_competitor *c, const settings *s)
{
    uint64_t n = (uint64_t)(c->roundtrip ? s->trips : s->tasks);
    long csw0 = context_switches();
    run_result r;

    r.value = c->run(n);
    r.csw = (double)(context_switches() - csw0) * 1000.0 / (double)n;
    return r;
}

int main(int argc, char **argv)
{
    settings s = {.reps = 7, .items = 2000000, .maxsize = 1024, .pairs = {1, 2, 4},
                  .npair_counts = 3, .tasks = 100000, .trips = 50000, .pin = HAVE_AFFINITY,
                  .verbose = false};
    const bench_option options[] = {
        BENCH_OPT_INT("--reps", "WEFT_BENCH_REPS", &s.reps, 1, MAX_REPS, 1),
        BENCH_OPT_LLONG("--items", "WEFT_BENCH_ITEMS", &s.items, 1, 1000000000000LL, 20000),
        BENCH_OPT_LLONG("--maxsize", NULL, &s.maxsize, 1, 1LL << 30, 0),
        BENCH_OPT_CUSTOM("--pairs", NULL, parse_pairs, &s),
        BENCH_OPT_LLONG("--tasks", "WEFT_BENCH_TASKS", &s.tasks, 1, 100000000, 5000),
        BENCH_OPT_LLONG("--trips", "WEFT_BENCH_TRIPS", &s.trips, 1, 1000000000000LL, 1000),
        BENCH_OPT_FLAG("--no-pin", &s.pin, false),
        BENCH_OPT_FLAG("--verbose", &s.verbose, true),
    };
    int nshapes, nqruns;
    int64_t started;
    bool progress;
    char name[32];

    bench_parse_options(options, BENCH_NOPTS(options), usage, argc, argv);
    for (int t = 0; t < s.npair_counts; t++)
        if (s.items < s.pairs[t])
            die("--items %lld: fewer items than producers (%d)", s.items, s.pairs[t]);
    find_usable_cpus();
    pin_threads = s.pin;
    nshapes = 2 * s.npair_counts;
    nqruns = nshapes * NQCOMP;
    progress = !s.verbose && isatty(STDERR_FILENO) != 0;
    slots = malloc((size_t)s.tasks * sizeof *slots);
    if (!slots)
        die("out of memory");

    printf("weft bench_queue: weft_queue and weft_executor against a plain mutex+condvar "
           "ring and pool\n");
    print_command(argc, argv, options, BENCH_NOPTS(options));
    printf("settings: %d repetition%s; queue: %lld items per run, bounded to %lld or "
           "unbounded, with",
           s.reps, s.reps == 1 ? "" : "s", s.items, s.maxsize);
    for (int t = 0; t < s.npair_counts; t++)
        printf("%s %dP/%dC", t ? "," : "", s.pairs[t], s.pairs[t]);
    printf(";\n          executor (%d workers): %lld tasks per throughput run, %lld round "
           "trips per run\n",
           POOL_WORKERS, s.tasks, s.trips);
    print_build();
    printf("machine:  %d CPUs usable; queue threads %s\n", weft_cpu_count(),
           s.pin ? "pinned round robin, producer i to CPU 2i, consumer i to CPU 2i+1"
                 : "not pinned (left to the scheduler)");
    printf("order:    each repetition runs every competitor once, the first one rotating\n");
    fflush(stdout);

    started = weft_monotonic_ns();

    /* One untimed round: faulting in code, stacks and the allocator's arenas. */
    for (int c = 0; c < NQCOMP; c++)
        (void)run_queue(&queue_competitors[c], s.pairs[0], (size_t)s.maxsize,
                        (uint64_t)(s.items / 16 + s.pairs[0]));
    for (int c = 0; c < NECOMP; c++)
        (void)exec_competitors[c].run((uint64_t)(exec_competitors[c].roundtrip ? s.trips : s.tasks) / 16 + 1);

    for (int r = 0; r < s.reps; r++) {
        for (int i = 0; i < nqruns; i++) {
            int k = (r + i) % nqruns;
            int shape = k / NQCOMP, c = k % NQCOMP;
            run_result res = run_queue(&queue_competitors[c], shape_pairs(&s, shape),
                                       shape_maxsize(&s, shape), (uint64_t)s.items);
            queue_rate[shape][c][r] = res.value;
            queue_csw[shape][c][r] = res.csw;
            if (s.verbose) {
                shape_name(&s, shape, name, sizeof name);
                fprintf(stderr, "rep %2d  queue %-14s %-14s %8.3f Mitems/s  csw/kitem %.2f\n",
                        r + 1, name, queue_competitors[c].name, res.value, res.csw);
            }
        }
        for (int i = 0; i < NECOMP; i++) {
            int c = (r + i) % NECOMP;
            run_result res = run_exec(&exec_competitors[c], &s);
            exec_value[c][r] = res.value;
            exec_csw[c][r] = res.csw;
            if (s.verbose)
                fprintf(stderr, "rep %2d  %-6s %-14s %10.3f %s  csw/ktask %.2f\n", r + 1,
                        exec_competitors[c].family, exec_competitors[c].name,
                        exec_competitors[c].roundtrip ? res.value : res.value / 1e6,
                        exec_competitors[c].roundtrip ? "us/trip" : "Mtasks/s", res.csw);
        }
        if (progress)
            fprintf(stderr, "\rrepetition %d/%d done", r + 1, s.reps);
    }
    if (progress)
        fprintf(stderr, "\r%30s\r", "");

    printf("\nQueue throughput, FIFO, P producers and P consumers: Mitems/s (higher is better)\n");
    printf("  ratio = median / median of the plain ring; above 1.00 weft is faster\n");
    printf("  paired = the same ratio within each repetition: median (min-max)\n");
    printf("  csw/kitem = context switches of the process per 1000 items (median)\n");
    printf("%-12s %-14s %9s %9s %9s  %5s  %-17s  %8s\n", "shape", "competitor", "median", "min",
           "max", "ratio", "paired", "csw/kitem");
    for (int shape = 0; shape < nshapes; shape++) {
        int b = 0;

        for (int c = 0; c < NQCOMP; c++)
            if (queue_competitors[c].baseline)
                b = c;
        shape_name(&s, shape, name, sizeof name);
        for (int c = 0; c < NQCOMP; c++)
            print_row(name, queue_competitors[c].name, c == b, queue_rate[shape][c],
                      queue_rate[shape][b], queue_csw[shape][c], s.reps, "%.3f");
    }

    for (int roundtrip = 0; roundtrip < 2; roundtrip++) {
        double scaled[NECOMP][MAX_REPS];

        if (!roundtrip) {
            printf("\nExecutor throughput, %lld empty tasks submitted, then every result "
                   "waited for: Mtasks/s (higher is better)\n",
                   s.tasks);
            printf("  ratio = median / median of the plain pool; above 1.00 weft is faster\n");
        } else {
            printf("\nExecutor round trip, submit one empty task and wait for its result: "
                   "us/trip (lower is better)\n");
            printf("  ratio = median / median of the plain pool; below 1.00 weft is faster\n");
        }
        printf("  paired = the same ratio within each repetition: median (min-max)\n");
        printf("  csw/ktask = context switches of the process per 1000 tasks (median)\n");
        printf("%-12s %-14s %9s %9s %9s  %5s  %-17s  %8s\n", "what", "competitor", "median",
               "min", "max", "ratio", "paired", "csw/ktask");
        for (int c = 0; c < NECOMP; c++)
            for (int r = 0; r < s.reps; r++)
                scaled[c][r] = exec_competitors[c].roundtrip ? exec_value[c][r]
                                                             : exec_value[c][r] / 1e6;
        for (int c = 0; c < NECOMP; c++) {
            int b = exec_baseline_of(c);

            if (exec_competitors[c].roundtrip != (roundtrip != 0))
                continue;
            print_row(exec_competitors[c].family, exec_competitors[c].name, b == c, scaled[c],
                      scaled[b], exec_csw[c], s.reps, roundtrip ? "%.2f" : "%.3f");
        }
    }

    printf("\nSummary: weft / plain (ratio of medians; paired median)\n");
    for (int shape = 0; shape < nshapes; shape++) {
        int w = 0, b = 0;

        for (int c = 0; c < NQCOMP; c++) {
            if (queue_competitors[c].baseline)
                b = c;
            else
                w = c;
        }
        shape_name(&s, shape, name, sizeof name);
        printf("  weft_queue    %-14s rate x%.2f; x%.2f   %s\n", name,
               median(queue_rate[shape][w], s.reps) / median(queue_rate[shape][b], s.reps),
               paired_median(queue_rate[shape][w], queue_rate[shape][b], s.reps),
               verdict(queue_rate[shape][w], queue_rate[shape][b], s.reps, false));
    }
    for (int c = 0; c < NECOMP; c++) {
        int b = exec_baseline_of(c);

        if (b == c)
            continue;
        printf("  %-13s %-14s %s x%.2f; x%.2f   %s\n", exec_competitors[c].name,
               exec_competitors[c].roundtrip ? "round trip" : "throughput",
               exec_competitors[c].roundtrip ? "time" : "rate",
               median(exec_value[c], s.reps) / median(exec_value[b], s.reps),
               paired_median(exec_value[c], exec_value[b], s.reps),
               verdict(exec_value[c], exec_value[b], s.reps, exec_competitors[c].roundtrip));
    }
    printf("\ntotal time: %.1f s\n", (double)(weft_monotonic_ns() - started) / 1e9);
    free(slots);
    return 0;
}
