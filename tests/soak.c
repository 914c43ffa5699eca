/* SPDX-License-Identifier: MIT */
/*
 * weft's soak: randomized rounds of the races the unit tests pin down one at
 * a time, for a fixed time budget. Not a CTest test (it runs for as long as
 * it is told); ci/soak.sh runs it under ASan+UBSan and under TSan.
 *
 *     soak [--seed N] [--seconds S] [--scenario NAME]
 *
 * Every round draws its scenario and its parameters from a seeded PRNG of
 * its own (splitmix64). The first line printed is the run's seed and the
 * command that replays it. Round i+1's seed is a function of round i's, and
 * a round's scenario a function of its seed, so `--seed R` starts with the
 * very round whose seed was R; a failure prints that round's seed and the
 * command to replay it alone (`--scenario NAME` keeps every round to one
 * scenario). Thread scheduling is not replayed, only the parameters.
 *
 * Scenarios (each a function below):
 *   queue            FIFO/LIFO/PRIORITY, bounded or not, producers and
 *                    consumers with random timeouts, task_done/join, a plain
 *                    or immediate shutdown at a random moment: nothing is
 *                    lost or duplicated, every call returns a documented code
 *   executor         submits racing shutdown(wait, cancel_futures), done
 *                    callbacks, cancels, futures_wait, map: every future ends
 *                    done or cancelled, every call runs at most once, every
 *                    callback exactly once
 *   barrier          parties with random timeouts while another thread
 *                    aborts and resets: indexes or WEFT_EBROKEN/ETIMEDOUT
 *                    only, nothing hangs, the barrier works afterwards
 *   barrier_release  the releasing party aborts or resets at once: every
 *                    party of that round still gets its index
 *   exits            a child process (this program, `--child exits SEED`):
 *                    several threads call weft_exit(code) while main starts
 *                    threads; it ends with one of the codes, the atexit
 *                    handler ran once
 *   fork             (POSIX) a child process (`--child fork SEED`) forks
 *                    children, by WEFT_START_FORK and by fork(), while its
 *                    other threads use locks, queues, threads, atexit and an
 *                    executor (not under a sanitizer: FORK_QUIET); each child
 *                    uses a lock, a queue and a thread and ends with its
 *                    known code, through weft_exit, weft_exit_now or the
 *                    WEFT_START_FORK target's return
 *
 * A failed check prints what failed, the scenario and the seeds, and ends
 * the process with status 1 at once. A watchdog thread fails the run when
 * one round takes longer than WATCHDOG_SECONDS.
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* fork, waitpid, kill, setenv */
#endif
#include <weft.h>

#include "sanitizers.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

/* A round still running after this long has hung. */
#define WATCHDOG_SECONDS 30.0
/* A child process of the exits and fork scenarios still running after this
 * long has hung (less than the watchdog, which would hide its output). */
#define CHILD_SECONDS 25.0

/* ---- PRNG (splitmix64) ------------------------------------------------------ */

typedef struct rng {
    uint64_t state;
} rng;

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t rng_next(rng *r)
{
    r->state += UINT64_C(0x9E3779B97F4A7C15);
    return mix64(r->state);
}

/* 0..n-1 (n > 0). */
static uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

/* lo..hi inclusive. */
static int rng_range(rng *r, int lo, int hi)
{
    return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

static bool rng_chance(rng *r, uint32_t one_in)
{
    return rng_below(r, one_in) == 0;
}

/* A generator of its own for a thread, drawn from r. */
static rng rng_fork(rng *r)
{
    rng child = {rng_next(r)};
    return child;
}

/* A timeout for a call that a shutdown or an abort always ends: 0, a few
 * milliseconds or WEFT_FOREVER. */
static double rng_timeout(rng *r)
{
    switch (rng_below(r, 4)) {
    case 0:
        return 0;
    case 1:
        return WEFT_FOREVER;
    default:
        return rng_below(r, 3000) * 1e-6;
    }
}

/* Sleep 0..max_us microseconds. */
static void nap(rng *r, uint32_t max_us)
{
    weft_sleep(rng_below(r, max_us + 1) * 1e-6);
}

/* ---- The round being run, failures, the watchdog ----------------------------- */

static const char *self_path = "soak";
static uint64_t run_seed;
static bool child_mode; /* `--child MODE SEED`: a scenario's child process */
static weft_lock round_lock = WEFT_LOCK_INIT; /* guards the round_* fields */
static const char *round_name = "(none)";
static uint64_t round_seed;
static double round_start;

static void round_begin(const char *name, uint64_t seed)
{
    weft_lock_acquire(&round_lock, WEFT_FOREVER);
    round_name = name;
    round_seed = seed;
    round_start = weft_monotonic();
    weft_lock_release(&round_lock);
}

/* Print what failed, where, and how to replay it; end the process at once
 * (from any thread: exit() would wait for threads that may be stuck). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static WEFT_NORETURN void soak_fail(int line, const char *fmt, ...)
{
    char what[2048];
    const char *name;
    uint64_t seed;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    weft_lock_acquire(&round_lock, WEFT_FOREVER);
    name = round_name;
    seed = round_seed;
    weft_lock_release(&round_lock);
    fflush(stdout);
    fprintf(stderr,
            "soak: FAIL in scenario %s (round seed %" PRIu64 ", run seed %" PRIu64
            ", pid %" PRId64 "), soak.c:%d: %s\n",
            name, seed, run_seed, weft_getpid(), line, what);
    if (child_mode)
        fprintf(stderr, "soak: replay this child: %s --child %s %" PRIu64 "\n", self_path, name,
                seed);
    else
        fprintf(stderr, "soak: replay: %s --seed %" PRIu64 " --scenario %s\n", self_path, seed,
                name);
    fflush(stderr);
    _Exit(1);
}

#define EXPECT(cond)                                                           \
    do {                                                                       \
        if (!(cond))                                                           \
            soak_fail(__LINE__, "check failed: %s", #cond);                    \
    } while (0)

static int expect_status(int line, const char *call, int got, const int *allowed, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (got == allowed[i])
            return got;
    }
    soak_fail(line, "%s returned %s (%d), not a code allowed here (last error: %s)", call,
              weft_strerror(got), got, weft_last_error_message());
}

/* Evaluate `call` once; fail unless it returned one of the codes listed;
 * yield the code. */
#define EXPECT_STATUS(call, ...)                                               \
    expect_status(__LINE__, #call, (call), (const int[]){__VA_ARGS__},         \
                  sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

static weft_event soak_done = WEFT_EVENT_INIT;

static void *watchdog(void *arg)
{
    double elapsed;

    (void)arg;
    while (weft_event_wait(&soak_done, 1.0) == WEFT_ETIMEDOUT) {
        weft_lock_acquire(&round_lock, WEFT_FOREVER);
        elapsed = weft_monotonic() - round_start;
        weft_lock_release(&round_lock);
        if (elapsed > WATCHDOG_SECONDS)
            soak_fail(__LINE__, "watchdog: the round has run for %.0f s: it hangs", elapsed);
    }
    return NULL;
}

/* ---- Threads ------------------------------------------------------------------ */

static weft_thread *start_thread(weft_thread_fn fn, void *arg)
{
    weft_thread *thread = NULL;

    EXPECT_STATUS(weft_thread_start(&thread, fn, arg, NULL), WEFT_OK);
    return thread;
}

/* Join (without a limit: the watchdog catches a hang) and release. */
static void join_thread(weft_thread *thread)
{
    EXPECT_STATUS(weft_thread_join(thread, WEFT_FOREVER, NULL), WEFT_OK);
    weft_thread_release(thread);
}

/* A scenario's thread: the scenario's shared state, its number among the
 * threads of its kind, and a generator of its own. */
typedef struct worker {
    void *run;
    int index;
    rng r;
} worker;

/* Start `fn(w)` with w's fields filled (its generator drawn from r). */
static weft_thread *start_worker(worker *w, weft_thread_fn fn, void *run, int index, rng *r)
{
    w->run = run;
    w->index = index;
    w->r = rng_fork(r);
    return start_thread(fn, w);
}

/* ---- Scenario: queue ------------------------------------------------------------ */

enum { Q_MAX_PRODUCERS = 4, Q_MAX_CONSUMERS = 4, Q_MAX_ITEMS = 1500 };

typedef struct queue_run {
    weft_queue *queue;
    weft_queue_kind kind;
    size_t maxsize;
    long items;          /* per producer */
    weft_event shut;     /* set just before the shutdown */
    weft_lock lock;      /* guards put_ok, got, got_total */
    unsigned char put_ok[Q_MAX_PRODUCERS * Q_MAX_ITEMS];
    unsigned char got[Q_MAX_PRODUCERS * Q_MAX_ITEMS];
    long got_total;
} queue_run;

/* Item k (producer * Q_MAX_ITEMS + sequence) travels as k + 1, so NULL
 * never appears and a stray pointer shows. */
static void *queue_item(long k)
{
    return (void *)(uintptr_t)(k + 1);
}

static long queue_index(void *item)
{
    return (long)(uintptr_t)item - 1;
}

/* PRIORITY: five priority classes, FIFO within each. */
static int queue_compare(const void *a, const void *b)
{
    unsigned long ka = (unsigned long)(uintptr_t)a * 2654435761u % 5;
    unsigned long kb = (unsigned long)(uintptr_t)b * 2654435761u % 5;

    return (ka > kb) - (ka < kb);
}

static void *queue_producer(void *arg)
{
    worker *w = arg;
    queue_run *run = w->run;
    long seq, k;
    double timeout;
    int rc;

    for (seq = 0; seq < run->items; seq++) {
        k = w->index * Q_MAX_ITEMS + seq;
        do {
            timeout = rng_timeout(&w->r);
            rc = EXPECT_STATUS(weft_queue_put(run->queue, queue_item(k), timeout), WEFT_OK,
                               WEFT_EFULL, WEFT_ESHUTDOWN);
            if (rc == WEFT_EFULL)
                EXPECT(run->maxsize > 0 && timeout >= 0);
        } while (rc == WEFT_EFULL && rng_chance(&w->r, 2)); /* else: that item is skipped */
        if (rc == WEFT_ESHUTDOWN) {
            EXPECT(weft_event_is_set(&run->shut));
            return NULL;
        }
        if (rc == WEFT_OK) {
            weft_lock_acquire(&run->lock, WEFT_FOREVER);
            run->put_ok[k] = 1;
            weft_lock_release(&run->lock);
        }
        if (rng_chance(&w->r, 64))
            nap(&w->r, 500);
    }
    return NULL;
}

static void *queue_consumer(void *arg)
{
    worker *w = arg;
    queue_run *run = w->run;
    long last[Q_MAX_PRODUCERS], k;
    bool twice;
    void *item;
    double timeout;
    int rc, p;

    for (p = 0; p < Q_MAX_PRODUCERS; p++)
        last[p] = -1;
    for (;;) {
        timeout = rng_timeout(&w->r);
        rc = EXPECT_STATUS(weft_queue_get(run->queue, &item, timeout), WEFT_OK, WEFT_EEMPTY,
                           WEFT_ESHUTDOWN);
        if (rc == WEFT_EEMPTY) {
            EXPECT(timeout >= 0);
            continue;
        }
        if (rc == WEFT_ESHUTDOWN) {
            EXPECT(weft_event_is_set(&run->shut));
            return NULL;
        }
        k = queue_index(item);
        if (k < 0 || k >= Q_MAX_PRODUCERS * Q_MAX_ITEMS || k % Q_MAX_ITEMS >= run->items)
            soak_fail(__LINE__, "queue_get handed out %p, never put", item);
        weft_lock_acquire(&run->lock, WEFT_FOREVER);
        twice = run->got[k]++ > 0;
        run->got_total++;
        weft_lock_release(&run->lock);
        if (twice)
            soak_fail(__LINE__, "item %ld was handed out twice", k);
        /* One consumer sees each producer's items of a FIFO queue in order. */
        p = (int)(k / Q_MAX_ITEMS);
        if (run->kind == WEFT_QUEUE_FIFO && k % Q_MAX_ITEMS <= last[p])
            soak_fail(__LINE__, "FIFO: item %ld of producer %d came after item %ld", k % Q_MAX_ITEMS,
                      p, last[p]);
        last[p] = k % Q_MAX_ITEMS;
        if (rng_chance(&w->r, 32))
            nap(&w->r, 300);
        EXPECT_STATUS(weft_queue_task_done(run->queue), WEFT_OK);
    }
}

/* Joins with short timeouts while the others work: never wrong, never stuck. */
static void *queue_joiner(void *arg)
{
    worker *w = arg;
    queue_run *run = w->run;

    while (!weft_event_is_set(&run->shut))
        EXPECT_STATUS(weft_queue_join(run->queue, rng_below(&w->r, 2000) * 1e-6), WEFT_OK,
                      WEFT_ETIMEDOUT);
    return NULL;
}

static void scenario_queue(rng *r)
{
    enum { MODE_PLAIN, MODE_IMMEDIATE, MODE_PLAIN_THEN_IMMEDIATE, MODE_AFTER_JOIN };
    static const char *const kinds[] = {"FIFO", "LIFO", "PRIORITY"};
    static const char *const modes[] = {"plain", "immediate", "plain then immediate",
                                        "after join"};
    queue_run *run = calloc(1, sizeof *run);
    worker workers[Q_MAX_PRODUCERS + Q_MAX_CONSUMERS + 1];
    weft_thread *threads[Q_MAX_PRODUCERS + Q_MAX_CONSUMERS + 1];
    weft_queue_opts opts = {.kind = WEFT_QUEUE_FIFO};
    int producers, consumers, n = 0, mode, i;
    bool joiner, dropped;
    long k, put_total = 0;
    void *item;

    EXPECT(run != NULL);
    run->kind = (weft_queue_kind)rng_below(r, 3);
    run->maxsize = rng_chance(r, 2) ? 0 : (size_t)rng_range(r, 1, 8);
    run->items = rng_range(r, 1, Q_MAX_ITEMS);
    producers = rng_range(r, 1, Q_MAX_PRODUCERS);
    consumers = rng_range(r, 1, Q_MAX_CONSUMERS);
    joiner = rng_chance(r, 2);
    mode = (int)rng_below(r, 4);
    printf("queue %s maxsize %lu, %d producers x %ld items, %d consumers%s, shutdown %s\n",
           kinds[run->kind], (unsigned long)run->maxsize, producers, run->items, consumers,
           joiner ? ", a joiner" : "", modes[mode]);
    opts.kind = run->kind;
    opts.maxsize = run->maxsize;
    opts.compare = run->kind == WEFT_QUEUE_PRIORITY ? queue_compare : NULL;
    EXPECT_STATUS(weft_queue_create(&run->queue, &opts), WEFT_OK);

    for (i = 0; i < producers + consumers + (joiner ? 1 : 0); i++) {
        threads[n++] = start_worker(&workers[i],
                                    i < producers                ? queue_producer
                                    : i < producers + consumers ? queue_consumer
                                                                : queue_joiner,
                                    run, i < producers ? i : i - producers, r);
    }

    if (mode == MODE_AFTER_JOIN) {
        for (i = 0; i < producers; i++)
            join_thread(threads[i]);
        /* Every item put is taken and marked done. */
        EXPECT_STATUS(weft_queue_join(run->queue, WEFT_FOREVER), WEFT_OK);
        EXPECT(weft_queue_size(run->queue) == 0);
    } else {
        nap(r, rng_chance(r, 2) ? 2000 : 20000);
    }
    weft_event_set(&run->shut);
    weft_queue_shutdown(run->queue, mode == MODE_IMMEDIATE);
    if (mode == MODE_PLAIN_THEN_IMMEDIATE) {
        nap(r, 2000);
        weft_queue_shutdown(run->queue, true);
    }
    for (i = mode == MODE_AFTER_JOIN ? producers : 0; i < n; i++)
        join_thread(threads[i]);

    /* The consumers left on WEFT_ESHUTDOWN: the queue is empty and stays so. */
    EXPECT_STATUS(weft_queue_get(run->queue, &item, 0), WEFT_ESHUTDOWN);
    EXPECT_STATUS(weft_queue_put(run->queue, queue_item(0), 0), WEFT_ESHUTDOWN);
    EXPECT(weft_queue_size(run->queue) == 0);
    EXPECT(weft_queue_empty(run->queue));
    dropped = mode == MODE_IMMEDIATE || mode == MODE_PLAIN_THEN_IMMEDIATE;
    for (k = 0; k < Q_MAX_PRODUCERS * Q_MAX_ITEMS; k++) {
        put_total += run->put_ok[k];
        if (run->got[k] && !run->put_ok[k])
            soak_fail(__LINE__, "item %ld was handed out but its put failed", k);
        if (!dropped && run->put_ok[k] && !run->got[k])
            soak_fail(__LINE__, "item %ld was put and lost (no immediate shutdown)", k);
    }
    EXPECT(run->got_total <= put_total);
    /* Dropped items count as done; the consumers marked the rest. */
    EXPECT_STATUS(weft_queue_join(run->queue, 0), WEFT_OK);
    EXPECT_STATUS(weft_queue_task_done(run->queue), WEFT_EINVAL);
    weft_queue_destroy(run->queue);
    free(run);
}

/* ---- Scenario: executor --------------------------------------------------------- */

enum { X_MAX_SUBMITTERS = 3, X_MAX_TASKS = 60, X_MAX_CALLBACKS = 3, X_MAP = 4 };

typedef struct exec_run exec_run;

typedef struct exec_task {
    exec_run *run;
    weft_future *future; /* NULL when the submit failed */
    bool released;       /* the submitter gave the handle back early */
    bool cancel_said_yes;
    uint32_t work_us;
    int callbacks_added; /* by the submitter only */
    int callbacks_ran;   /* under run->lock */
    int runs;            /* under run->lock */
} exec_task;

struct exec_run {
    weft_executor *executor;
    weft_event shut; /* set just before a shutdown */
    weft_lock lock;
    long per_submitter;
    exec_task tasks[X_MAX_SUBMITTERS][X_MAX_TASKS];
};

static void *exec_call(void *arg)
{
    exec_task *t = arg;

    weft_lock_acquire(&t->run->lock, WEFT_FOREVER);
    t->runs++;
    weft_lock_release(&t->run->lock);
    if (t->work_us)
        weft_sleep(t->work_us * 1e-6);
    return t;
}

static void exec_callback(weft_future *future, void *arg)
{
    exec_task *t = arg;

    if (future != t->future)
        soak_fail(__LINE__, "a done callback was given another future");
    if (!weft_future_done(future))
        soak_fail(__LINE__, "a done callback ran before its future was done");
    weft_lock_acquire(&t->run->lock, WEFT_FOREVER);
    t->callbacks_ran++;
    weft_lock_release(&t->run->lock);
}

static void *exec_map_call(void *arg)
{
    return (char *)arg + 1;
}

/* One executor_map of X_MAP calls. */
static void exec_map(exec_run *run, rng *r)
{
    static char base[X_MAP * 2];
    void *args[X_MAP], *results[X_MAP];
    int i, rc;

    for (i = 0; i < X_MAP; i++) {
        args[i] = base + i;
        results[i] = args; /* neither NULL nor a result: a slot map left alone shows */
    }
    rc = EXPECT_STATUS(weft_executor_map(run->executor, exec_map_call, args, results, X_MAP,
                                         rng_chance(r, 2) ? WEFT_FOREVER : 0.002),
                       WEFT_OK, WEFT_ETIMEDOUT, WEFT_ECANCELED, WEFT_ESHUTDOWN);
    for (i = 0; i < X_MAP; i++) {
        if (rc == WEFT_OK || results[i] != NULL)
            EXPECT(results[i] == base + i + 1);
    }
    if (rc == WEFT_ECANCELED || rc == WEFT_ESHUTDOWN)
        EXPECT(weft_event_is_set(&run->shut));
}

/* futures_wait over the submitter's futures so far (those still held). */
static void exec_wait(exec_run *run, int s, long count, rng *r)
{
    weft_future *fs[X_MAX_TASKS];
    weft_wait_mode mode = rng_chance(r, 2) ? WEFT_ALL_COMPLETED : WEFT_FIRST_COMPLETED;
    size_t n = 0, done = 0, i;
    long k;
    int rc;

    for (k = 0; k < count; k++) {
        if (run->tasks[s][k].future && !run->tasks[s][k].released)
            fs[n++] = run->tasks[s][k].future;
    }
    rc = EXPECT_STATUS(weft_futures_wait(fs, n, rng_below(r, 3000) * 1e-6, mode), WEFT_OK,
                       WEFT_ETIMEDOUT);
    for (i = 0; i < n; i++)
        done += weft_future_done(fs[i]);
    if (rc == WEFT_OK && n > 0)
        EXPECT(mode == WEFT_ALL_COMPLETED ? done == n : done >= 1);
}

static void *exec_submitter_main(void *arg)
{
    worker *sub = arg;
    exec_run *run = sub->run;
    exec_task *t, *other;
    weft_future *future;
    void *result;
    long k;
    int c, rc;

    for (k = 0; k < run->per_submitter; k++) {
        t = &run->tasks[sub->index][k];
        t->run = run;
        t->work_us = rng_chance(&sub->r, 3) ? 0 : rng_below(&sub->r, 300);
        future = NULL;
        rc = EXPECT_STATUS(weft_executor_submit(run->executor, &future, exec_call, t), WEFT_OK,
                           WEFT_ESHUTDOWN);
        if (rc == WEFT_ESHUTDOWN) {
            EXPECT(future == NULL);
            EXPECT(weft_event_is_set(&run->shut));
            break;
        }
        t->future = future;
        for (c = rng_range(&sub->r, 0, X_MAX_CALLBACKS); c > 0; c--) {
            EXPECT_STATUS(weft_future_add_done_callback(future, exec_callback, t), WEFT_OK);
            t->callbacks_added++;
        }
        /* Now and then: cancel, wait, take a result, map, give back early. */
        other = &run->tasks[sub->index][rng_below(&sub->r, (uint32_t)k + 1)];
        if (other->future && !other->released) {
            switch (rng_below(&sub->r, 8)) {
            case 0:
                if (weft_future_cancel(other->future)) {
                    other->cancel_said_yes = true;
                    EXPECT(weft_future_cancelled(other->future));
                    EXPECT(weft_future_done(other->future));
                }
                break;
            case 1:
                rc = EXPECT_STATUS(weft_future_result(other->future, rng_timeout(&sub->r), &result),
                                   WEFT_OK, WEFT_ETIMEDOUT, WEFT_ECANCELED);
                if (rc == WEFT_OK)
                    EXPECT(result == other);
                if (rc == WEFT_ECANCELED)
                    EXPECT(weft_future_cancelled(other->future));
                break;
            case 2:
                exec_wait(run, sub->index, k + 1, &sub->r);
                break;
            case 3:
                if (rng_chance(&sub->r, 4))
                    exec_map(run, &sub->r);
                break;
            case 4:
                if (rng_chance(&sub->r, 4)) {
                    other->released = true;
                    weft_future_release(other->future);
                }
                break;
            default:
                break;
            }
        }
        if (rng_chance(&sub->r, 16))
            nap(&sub->r, 500);
    }
    return NULL;
}

static void *exec_shutdown_now(void *arg)
{
    exec_run *run = arg;

    weft_event_set(&run->shut);
    weft_executor_shutdown(run->executor, false, true);
    return NULL;
}

static void scenario_executor(rng *r)
{
    exec_run *run = calloc(1, sizeof *run);
    worker subs[X_MAX_SUBMITTERS];
    weft_thread *threads[X_MAX_SUBMITTERS + 1], *racer = NULL;
    int submitters, workers, s, n = 0;
    bool wait, cancel;
    exec_task *t;
    void *result;
    long k;
    int rc;

    EXPECT(run != NULL);
    workers = rng_range(r, 1, 4);
    submitters = rng_range(r, 1, X_MAX_SUBMITTERS);
    run->per_submitter = rng_range(r, 1, X_MAX_TASKS);
    wait = rng_chance(r, 2);
    cancel = rng_chance(r, 2);
    printf("executor %d workers, %d submitters x %ld, shutdown(wait %d, cancel %d)\n",
           workers, submitters, run->per_submitter, wait, cancel);
    EXPECT_STATUS(weft_executor_create(&run->executor, (size_t)workers, "soak"), WEFT_OK);
    for (s = 0; s < submitters; s++) {
        threads[n++] = start_worker(&subs[s], exec_submitter_main, run, s, r);
    }
    nap(r, rng_chance(r, 2) ? 2000 : 30000);
    if (rng_chance(r, 3)) /* a second shutdown racing the first */
        racer = start_thread(exec_shutdown_now, run);
    weft_event_set(&run->shut);
    weft_executor_shutdown(run->executor, wait, cancel);
    if (racer)
        join_thread(racer);
    while (n > 0)
        join_thread(threads[--n]);
    weft_executor_destroy(run->executor); /* waits for every call */

    for (s = 0; s < submitters; s++) {
        for (k = 0; k < run->per_submitter; k++) {
            t = &run->tasks[s][k];
            if (t->runs > 1)
                soak_fail(__LINE__, "task %d/%ld ran %d times", s, k, t->runs);
            if (t->callbacks_ran != t->callbacks_added)
                soak_fail(__LINE__, "task %d/%ld: %d done callbacks added, %d ran", s, k,
                          t->callbacks_added, t->callbacks_ran);
            if (!t->future) {
                EXPECT(t->runs == 0);
                continue;
            }
            if (t->released)
                continue;
            if (!weft_future_done(t->future))
                soak_fail(__LINE__, "task %d/%ld: not done after the executor's destroy", s, k);
            rc = EXPECT_STATUS(weft_future_result(t->future, 0, &result), WEFT_OK, WEFT_ECANCELED);
            if (rc == WEFT_OK)
                EXPECT(result == t && t->runs == 1 && !weft_future_cancelled(t->future));
            else
                EXPECT(t->runs == 0 && weft_future_cancelled(t->future));
            if (t->cancel_said_yes)
                EXPECT(rc == WEFT_ECANCELED);
            weft_future_release(t->future);
        }
    }
    free(run);
}

/* ---- Scenario: barrier (abort and reset racing waits) ------------------------- */

enum { B_MAX_PARTIES = 5 };

typedef struct barrier_run {
    weft_barrier barrier;
    uint32_t parties;
    int rounds;
    int disruptions;
} barrier_run;

static void *barrier_waiter(void *arg)
{
    worker *w = arg;
    barrier_run *run = w->run;
    double timeout;
    int i, rc;

    for (i = 0; i < run->rounds; i++) {
        timeout = rng_chance(&w->r, 3) ? WEFT_FOREVER : rng_range(&w->r, 0, 20000) * 1e-6;
        rc = weft_barrier_wait(&run->barrier, timeout);
        if (rc >= 0 && (uint32_t)rc < run->parties)
            continue;
        if (rc != WEFT_EBROKEN && rc != WEFT_ETIMEDOUT)
            soak_fail(__LINE__, "barrier_wait returned %d (%s): neither an index below %u nor "
                      "WEFT_EBROKEN/ETIMEDOUT", rc, weft_strerror(rc), run->parties);
        if (rng_chance(&w->r, 4)) /* Python's idiom: the one that saw it break resets */
            weft_barrier_reset(&run->barrier);
        else if (rng_chance(&w->r, 2))
            nap(&w->r, 1000);
    }
    return NULL;
}

static void *barrier_disruptor(void *arg)
{
    worker *w = arg;
    barrier_run *run = w->run;
    int i;

    for (i = 0; i < run->disruptions; i++) {
        nap(&w->r, 5000);
        if (rng_chance(&w->r, 2))
            weft_barrier_abort(&run->barrier);
        else
            weft_barrier_reset(&run->barrier);
    }
    return NULL;
}

/* After the chaos: one clean round, every index given once. */
static void *barrier_clean_wait(void *arg)
{
    barrier_run *run = arg;
    int rc = weft_barrier_wait(&run->barrier, WEFT_FOREVER);

    if (rc < 0 || (uint32_t)rc >= run->parties)
        soak_fail(__LINE__, "a clean round after reset: barrier_wait returned %d (%s)", rc,
                  weft_strerror(rc));
    return (void *)(uintptr_t)(1u << rc);
}

static void scenario_barrier(rng *r)
{
    barrier_run run;
    worker workers[B_MAX_PARTIES + 1];
    weft_thread *threads[B_MAX_PARTIES + 1];
    uint32_t i, mask = 0;
    void *bit;

    memset(&run, 0, sizeof run);
    run.parties = (uint32_t)rng_range(r, 2, B_MAX_PARTIES);
    run.rounds = rng_range(r, 5, 60);
    run.disruptions = rng_range(r, 1, 8);
    weft_barrier_init(&run.barrier, run.parties);
    printf("barrier %u parties x %d rounds, %d aborts/resets\n", run.parties, run.rounds,
           run.disruptions);
    for (i = 0; i <= run.parties; i++) {
        threads[i] = start_worker(&workers[i],
                                  i < run.parties ? barrier_waiter : barrier_disruptor, &run,
                                  (int)i, r);
    }
    join_thread(threads[run.parties]);
    /* A party may wait without a limit in a round the others have left:
     * abort until every one has finished its rounds. */
    for (i = 0; i < run.parties; i++) {
        while (EXPECT_STATUS(weft_thread_join(threads[i], 0.01, NULL), WEFT_OK, WEFT_ETIMEDOUT) ==
               WEFT_ETIMEDOUT)
            weft_barrier_abort(&run.barrier);
        weft_thread_release(threads[i]);
    }
    weft_barrier_reset(&run.barrier);
    EXPECT(!weft_barrier_broken(&run.barrier));
    EXPECT(weft_barrier_n_waiting(&run.barrier) == 0);
    for (i = 0; i < run.parties; i++)
        threads[i] = start_thread(barrier_clean_wait, &run);
    for (i = 0; i < run.parties; i++) {
        EXPECT_STATUS(weft_thread_join(threads[i], WEFT_FOREVER, &bit), WEFT_OK);
        weft_thread_release(threads[i]);
        if (mask & (uint32_t)(uintptr_t)bit)
            soak_fail(__LINE__, "a clean round gave index mask %#x twice",
                      (unsigned)(uintptr_t)bit);
        mask |= (uint32_t)(uintptr_t)bit;
    }
    EXPECT(mask == (1u << run.parties) - 1);
}

/* ---- Scenario: barrier_release (the releasing party aborts or resets) ------- */

enum { BR_MAX_ROUNDS = 40 };

typedef struct release_run {
    weft_barrier barrier; /* the one under test */
    weft_barrier meet;    /* rounds of the test itself */
    uint32_t parties;
    int rounds;
    weft_lock lock;
    uint32_t masks[BR_MAX_ROUNDS]; /* under lock: indexes given in each round */
} release_run;

static void *release_party(void *arg)
{
    worker *w = arg;
    release_run *run = w->run;
    bool aborted;
    uint32_t bit;
    int i, rc;

    for (i = 0; i < run->rounds; i++) {
        rc = weft_barrier_wait(&run->barrier, WEFT_FOREVER);
        aborted = false;
        if (rc == (int)run->parties - 1) {
            /* The last to arrive released the others: break the barrier
             * before they wake. They were released; they keep their index. */
            aborted = rng_chance(&w->r, 2);
            if (aborted)
                weft_barrier_abort(&run->barrier);
            else
                weft_barrier_reset(&run->barrier);
        }
        if (rc < 0 || (uint32_t)rc >= run->parties)
            soak_fail(__LINE__, "round %d: a released party got %d (%s), not its index: the "
                      "releasing party's abort/reset reached it after its round ended",
                      i, rc, weft_strerror(rc));
        bit = 1u << rc;
        weft_lock_acquire(&run->lock, WEFT_FOREVER);
        if (run->masks[i] & bit)
            soak_fail(__LINE__, "round %d: index %d given twice", i, rc);
        run->masks[i] |= bit;
        weft_lock_release(&run->lock);
        EXPECT(weft_barrier_wait(&run->meet, WEFT_FOREVER) >= 0);
        if (aborted)
            weft_barrier_reset(&run->barrier);
        EXPECT(weft_barrier_wait(&run->meet, WEFT_FOREVER) >= 0);
    }
    return NULL;
}

static void scenario_barrier_release(rng *r)
{
    release_run *run = calloc(1, sizeof *run);
    worker workers[B_MAX_PARTIES];
    weft_thread *threads[B_MAX_PARTIES];
    uint32_t i;
    int k;

    EXPECT(run != NULL);
    run->parties = (uint32_t)rng_range(r, 2, B_MAX_PARTIES);
    run->rounds = rng_range(r, 5, BR_MAX_ROUNDS);
    weft_barrier_init(&run->barrier, run->parties);
    weft_barrier_init(&run->meet, run->parties);
    printf("barrier_release %u parties x %d rounds\n", run->parties, run->rounds);
    for (i = 0; i < run->parties; i++) {
        threads[i] = start_worker(&workers[i], release_party, run, (int)i, r);
    }
    for (i = 0; i < run->parties; i++)
        join_thread(threads[i]);
    for (k = 0; k < run->rounds; k++)
        EXPECT(run->masks[k] == (1u << run->parties) - 1);
    free(run);
}

/* ---- Child processes of this program -------------------------------------------- */

/* Run `self --child MODE SEED` to its end; check it exited with one of
 * `codes` (the first `n`), printed `text` exactly once on stdout and
 * nothing on stderr. */
static void run_child(const char *mode, uint64_t seed, const int *codes, size_t n,
                      const char *text)
{
    char seed_text[32];
    const char *argv[5];
    char *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0, i, seen = 0;
    const char *p;
    int code = -1000, rc;
    bool code_ok = false;

    snprintf(seed_text, sizeof seed_text, "%" PRIu64, seed);
    argv[0] = self_path;
    argv[1] = "--child";
    argv[2] = mode;
    argv[3] = seed_text;
    argv[4] = NULL;
    rc = weft_run(argv, NULL, CHILD_SECONDS, &code, &out, &out_len, &err, &err_len);
    for (i = 0; i < n; i++)
        code_ok |= code == codes[i];
    for (p = out; p && (p = strstr(p, text)) != NULL; p += strlen(text))
        seen++;
    if (rc != WEFT_OK || !code_ok || seen != 1 || err_len > 0)
        soak_fail(__LINE__,
                  "child `%s --child %s %s`: weft_run: %s, exit code %d, \"%s\" printed %lu "
                  "times, %lu bytes on stderr\n---- its stdout:\n%s---- its stderr:\n%s----",
                  self_path, mode, seed_text, weft_strerror(rc), code, text,
                  (unsigned long)seen, (unsigned long)err_len,
                  out ? out : "", err ? err : "");
    weft_free(out);
    weft_free(err);
}

/* ---- Scenario: exits (several threads call weft_exit while main starts threads) */

enum { EXIT_MAX_EXITERS = 4, EXIT_FIRST_CODE = 10, EXIT_MAIN_CODE = 20 };
enum { MAIN_BLOCKS, MAIN_EXITS, MAIN_RETURNS };

/* What a child of the exits scenario does, from its seed alone, so the
 * parent knows the codes it may end with. */
typedef struct exit_plan {
    rng r;
    int exiters;
    int starts;   /* threads main starts before it ends */
    int main_end; /* MAIN_BLOCKS, MAIN_EXITS or MAIN_RETURNS */
} exit_plan;

static exit_plan exit_plan_of(uint64_t seed)
{
    exit_plan plan;

    plan.r.state = seed;
    plan.exiters = rng_range(&plan.r, 1, EXIT_MAX_EXITERS);
    plan.starts = rng_range(&plan.r, 0, 200);
    plan.main_end = (int)rng_below(&plan.r, 3);
    return plan;
}

typedef struct exiter {
    int code;
    uint32_t delay_us;
} exiter;

static void *exiter_main(void *arg)
{
    exiter *e = arg;

    weft_sleep(e->delay_us * 1e-6);
    weft_exit(e->code);
}

static void *short_thread(void *arg)
{
    return arg;
}

static void exit_handler(void *arg)
{
    (void)arg;
    printf("soak-exits: handler ran\n");
}

static int child_exits(uint64_t seed)
{
    static exiter exiters[EXIT_MAX_EXITERS];
    static weft_event never = WEFT_EVENT_INIT;
    exit_plan plan = exit_plan_of(seed);
    weft_thread_opts opts = {0};
    weft_thread *thread;
    int i, rc;

    EXPECT_STATUS(weft_atexit(exit_handler, NULL), WEFT_OK);
    for (i = 0; i < plan.exiters; i++) {
        exiters[i].code = EXIT_FIRST_CODE + i;
        exiters[i].delay_us = rng_below(&plan.r, 3000);
        opts.daemon = rng_chance(&plan.r, 2);
        /* An exiter that started first may be through the handlers already. */
        if (EXPECT_STATUS(weft_thread_start(&thread, exiter_main, &exiters[i], &opts), WEFT_OK,
                          WEFT_ESHUTDOWN) == WEFT_ESHUTDOWN)
            break;
        weft_thread_release(thread);
    }
    for (i = 0; i < plan.starts; i++) {
        opts.daemon = rng_chance(&plan.r, 3);
        rc = EXPECT_STATUS(weft_thread_start(&thread, short_thread, NULL, &opts), WEFT_OK,
                           WEFT_ESHUTDOWN);
        if (rc == WEFT_ESHUTDOWN)
            break;
        if (rng_chance(&plan.r, 2))
            EXPECT_STATUS(weft_thread_join(thread, WEFT_FOREVER, NULL), WEFT_OK);
        weft_thread_release(thread);
    }
    if (plan.main_end == MAIN_EXITS)
        weft_exit(EXIT_MAIN_CODE);
    if (plan.main_end == MAIN_RETURNS)
        return EXIT_MAIN_CODE;
    weft_event_wait(&never, WEFT_FOREVER); /* an exiter ends the process */
    soak_fail(__LINE__, "a wait for an event nobody sets returned");
}

static void scenario_exits(rng *r)
{
    uint64_t seed = rng_next(r);
    exit_plan plan = exit_plan_of(seed);
    int codes[EXIT_MAX_EXITERS + 1], n = 0, i;

    for (i = 0; i < plan.exiters; i++)
        codes[n++] = EXIT_FIRST_CODE + i;
    if (plan.main_end != MAIN_BLOCKS)
        codes[n++] = EXIT_MAIN_CODE;
    printf("exits: %d exiting threads, main starts %d threads then %s\n", plan.exiters,
           plan.starts,
           plan.main_end == MAIN_BLOCKS ? "blocks"
           : plan.main_end == MAIN_EXITS ? "calls weft_exit"
                                         : "returns");
    run_child("exits", seed, codes, (size_t)n, "soak-exits: handler ran");
}

/* ---- Scenario: fork children using weft (POSIX) -------------------------------- */

#ifndef _WIN32

enum { FORK_MAX_BUSY = 3, FORK_MAX_FORKERS = 2, FORK_ITEMS = 3 };

/* The sanitizers' allocators (clang 14's ASan and TSan, at least) do not
 * hold their locks across fork(): a child forked while another thread
 * allocates blocks in its first malloc or thread start, whatever weft does
 * (seen with both). Under a sanitizer the scenario forks from one thread
 * while no other runs ("quiet"); ci/soak.sh's run without a sanitizer
 * keeps the busy threads, which hold weft's own locks at the fork. */
#define FORK_QUIET (WEFT_TEST_ASAN || WEFT_TEST_TSAN)

static void *fork_child_thread(void *arg)
{
    weft_queue *queue = arg;
    long i;

    for (i = 0; i < FORK_ITEMS; i++)
        EXPECT_STATUS(weft_queue_put(queue, queue_item(i), WEFT_FOREVER), WEFT_OK);
    return queue;
}

/* What every fork child does with weft before it ends. */
static void fork_child_work(void)
{
    weft_lock lock = WEFT_LOCK_INIT;
    weft_queue *queue = NULL;
    weft_thread *thread;
    void *item, *result = NULL;
    long i;

    EXPECT_STATUS(weft_lock_acquire(&lock, 1.0), WEFT_OK);
    EXPECT_STATUS(weft_queue_create(&queue, NULL), WEFT_OK);
    thread = start_thread(fork_child_thread, queue);
    for (i = 0; i < FORK_ITEMS; i++) {
        EXPECT_STATUS(weft_queue_get(queue, &item, 10.0), WEFT_OK);
        EXPECT(queue_index(item) == i);
    }
    EXPECT_STATUS(weft_thread_join(thread, 10.0, &result), WEFT_OK);
    EXPECT(result == queue);
    weft_thread_release(thread);
    weft_queue_destroy(queue);
    EXPECT_STATUS(weft_lock_release(&lock), WEFT_OK);
}

/* The WEFT_START_FORK target: its argument is the exit code. */
static int fork_child_target(const void *arg, size_t len)
{
    int code = -1;

    EXPECT(len == sizeof code);
    memcpy(&code, arg, sizeof code);
    fork_child_work();
    return code;
}

/* A counter guarded by a lock: the children that ended as expected. */
typedef struct tally {
    weft_lock lock;
    long value;
} tally;

static long tally_add(tally *t, long n)
{
    long now;

    weft_lock_acquire(&t->lock, WEFT_FOREVER);
    now = t->value += n;
    weft_lock_release(&t->lock);
    return now;
}

typedef struct fork_state {
    weft_event stop;      /* the busy threads end */
    weft_lock shared;     /* busy threads' lock */
    weft_queue *queue;    /* busy threads' queue */
    weft_executor *executor;
    int forks;            /* per forker */
    tally children;       /* children that ended as expected */
} fork_state;

static void noop_handler(void *arg)
{
    (void)arg;
}

/* Keeps weft's locks busy while others fork: a lock, a queue, thread
 * starts, atexit registrations, executor submits. */
static void *fork_busy(void *arg)
{
    worker *w = arg;
    fork_state *st = w->run;
    weft_future *future;
    void *item;

    while (!weft_event_is_set(&st->stop)) {
        switch (rng_below(&w->r, 5)) {
        case 0:
            EXPECT_STATUS(weft_lock_acquire(&st->shared, WEFT_FOREVER), WEFT_OK);
            nap(&w->r, 100);
            EXPECT_STATUS(weft_lock_release(&st->shared), WEFT_OK);
            break;
        case 1:
            EXPECT_STATUS(weft_queue_put(st->queue, queue_item(w->index), 0), WEFT_OK);
            EXPECT_STATUS(weft_queue_get(st->queue, &item, 0), WEFT_OK, WEFT_EEMPTY);
            break;
        case 2:
            join_thread(start_thread(short_thread, NULL));
            break;
        case 3:
            EXPECT_STATUS(weft_atexit(noop_handler, w), WEFT_OK);
            EXPECT_STATUS(weft_atexit_unregister(noop_handler, w), WEFT_OK);
            break;
        default:
            EXPECT_STATUS(weft_executor_submit(st->executor, &future, short_thread, w), WEFT_OK);
            EXPECT_STATUS(weft_future_result(future, WEFT_FOREVER, &item), WEFT_OK);
            EXPECT(item == w);
            weft_future_release(future);
            break;
        }
    }
    return NULL;
}

/* Wait for a fork()ed child within CHILD_SECONDS; its exit code, or -N for
 * signal N. */
static int fork_wait(pid_t pid)
{
    double deadline = weft_monotonic() + CHILD_SECONDS - 5.0;
    int status = 0;
    pid_t got;

    for (;;) {
        got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        if (got == -1)
            soak_fail(__LINE__, "waitpid(%ld) failed", (long)pid);
        if (weft_monotonic() > deadline) {
            kill(pid, SIGKILL);
            soak_fail(__LINE__, "the fork() child %ld hangs", (long)pid);
        }
        weft_sleep(0.001);
    }
}

static void *forker(void *arg)
{
    worker *w = arg;
    fork_state *st = w->run;
    weft_process_opts opts = {.method = WEFT_START_FORK};
    weft_process *child;
    int i, code, got;
    pid_t pid;

    for (i = 0; i < st->forks; i++) {
        code = 30 + w->index * 20 + i;
        nap(&w->r, 2000);
        if (rng_chance(&w->r, 2)) {
            EXPECT_STATUS(weft_process_start(&child, "soak_fork_child", &code, sizeof code, &opts),
                          WEFT_OK);
            if (weft_process_join(child, CHILD_SECONDS - 5.0) != WEFT_OK) {
                weft_process_kill(child);
                soak_fail(__LINE__, "the WEFT_START_FORK child (code %d) hangs", code);
            }
            EXPECT_STATUS(weft_process_exitcode(child, &got), WEFT_OK);
            weft_process_release(child);
        } else {
            bool orderly = rng_chance(&w->r, 2);

            fflush(stdout);
            pid = fork();
            if (pid == -1)
                soak_fail(__LINE__, "fork() failed");
            if (pid == 0) {
                fork_child_work();
                if (orderly)
                    weft_exit(code);
                weft_exit_now(code);
            }
            got = fork_wait(pid);
        }
        if (got != code)
            soak_fail(__LINE__, "a fork child ended with %d, not %d", got, code);
        tally_add(&st->children, 1);
    }
    return NULL;
}

static int child_fork(uint64_t seed)
{
    static fork_state st;
    worker busy[FORK_MAX_BUSY], forkers[FORK_MAX_FORKERS];
    weft_thread *busy_threads[FORK_MAX_BUSY], *forker_threads[FORK_MAX_FORKERS];
    rng r = {seed};
    int n_busy = FORK_QUIET ? 0 : rng_range(&r, 1, FORK_MAX_BUSY);
    int n_forkers = FORK_QUIET ? 1 : rng_range(&r, 1, FORK_MAX_FORKERS);
    int i;

    st.forks = rng_range(&r, 1, 4);
    EXPECT_STATUS(weft_queue_create(&st.queue, NULL), WEFT_OK);
    EXPECT_STATUS(weft_executor_create(&st.executor, 2, NULL), WEFT_OK);
    for (i = 0; i < n_busy; i++) {
        busy_threads[i] = start_worker(&busy[i], fork_busy, &st, i, &r);
    }
    for (i = 0; i < n_forkers; i++) {
        forker_threads[i] = start_worker(&forkers[i], forker, &st, i, &r);
    }
    for (i = 0; i < n_forkers; i++)
        join_thread(forker_threads[i]);
    weft_event_set(&st.stop);
    for (i = 0; i < n_busy; i++)
        join_thread(busy_threads[i]);
    weft_executor_destroy(st.executor);
    weft_queue_destroy(st.queue);
    EXPECT(st.children.value == (long)n_forkers * st.forks);
    printf("soak-fork: %ld children ok\n", st.children.value);
    return 0;
}

/* Append `option` to the environment variable `name` (a sanitizer's options). */
static void append_option(const char *name, const char *option)
{
    const char *old = getenv(name);
    char value[1024];

    snprintf(value, sizeof value, "%s%s%s", old ? old : "", old && *old ? ":" : "", option);
    EXPECT(setenv(name, value, 1) == 0);
}

static void scenario_fork(rng *r)
{
    static bool options_set;
    static const int ok[] = {0};

    /* LeakSanitizer hangs at exit in a child forked from a threaded process;
     * ThreadSanitizer kills a child that starts threads after such a fork
     * unless told not to. Children only: this process read its options. */
    if (!options_set) {
        append_option("ASAN_OPTIONS", "detect_leaks=0");
        append_option("TSAN_OPTIONS", "die_after_fork=0");
        options_set = true;
    }
    printf(FORK_QUIET ? "fork (quiet: one thread, under a sanitizer)\n" : "fork\n");
    run_child("fork", rng_next(r), ok, 1, "children ok");
}

#endif /* _WIN32 */

/* ---- main ------------------------------------------------------------------------ */

typedef struct scenario {
    const char *name;
    void (*run)(rng *r);
    long rounds; /* how many ran */
} scenario;

static scenario scenarios[] = {
    {"queue", scenario_queue, 0},
    {"executor", scenario_executor, 0},
    {"barrier", scenario_barrier, 0},
    {"barrier_release", scenario_barrier_release, 0},
    {"exits", scenario_exits, 0},
#ifndef _WIN32
    {"fork", scenario_fork, 0},
#endif
};
enum { N_SCENARIOS = sizeof scenarios / sizeof scenarios[0] };

static int usage(void)
{
    fprintf(stderr, "usage: %s [--seed N] [--seconds S] [--scenario NAME]\n  scenarios:",
            self_path);
    for (size_t i = 0; i < N_SCENARIOS; i++)
        fprintf(stderr, " %s", scenarios[i].name);
    fprintf(stderr, "\n");
    return 2;
}

static bool parse_u64(const char *text, uint64_t *value)
{
    char *end;

    if (!text || !*text)
        return false;
    *value = strtoull(text, &end, 10);
    return *end == '\0';
}

static scenario *find_scenario(const char *name)
{
    for (size_t i = 0; i < N_SCENARIOS; i++) {
        if (strcmp(scenarios[i].name, name) == 0)
            return &scenarios[i];
    }
    return NULL;
}

/* `soak --child MODE SEED`: the child processes of the exits and fork
 * scenarios. */
static int child_main(const char *mode, const char *seed_text)
{
    uint64_t seed;

    if (!parse_u64(seed_text, &seed))
        return usage();
    run_seed = seed;
    child_mode = true;
    if (strcmp(mode, "exits") == 0) {
        round_begin("exits", seed);
        return child_exits(seed);
    }
#ifndef _WIN32
    if (strcmp(mode, "fork") == 0) {
        round_begin("fork", seed);
        return child_fork(seed);
    }
#endif
    return usage();
}

int main(int argc, char **argv)
{
    uint64_t seed = 0, next, seconds = 60;
    bool seeded = false;
    scenario *only = NULL, *s;
    weft_thread *dog;
    double t0;
    long rounds = 0;
    rng r;
    int i;

#ifndef _WIN32
    weft_process_register("soak_fork_child", fork_child_target);
#endif
    weft_process_main(argc, argv);
    if (argc > 0 && argv[0])
        self_path = argv[0];
    if (argc == 4 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2], argv[3]);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc && parse_u64(argv[i + 1], &seed)) {
            seeded = true;
            i++;
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc &&
                   parse_u64(argv[i + 1], &seconds)) {
            i++;
        } else if (strcmp(argv[i], "--scenario") == 0 && i + 1 < argc &&
                   (only = find_scenario(argv[i + 1])) != NULL) {
            i++;
        } else {
            return usage();
        }
    }
    if (!seeded)
        seed = mix64((uint64_t)weft_monotonic_ns() ^ (uint64_t)weft_time() * 1000003u ^
                     (uint64_t)weft_getpid() << 32);
    run_seed = seed;
    printf("soak: seed %" PRIu64 "\n", seed);
    printf("soak: replay: %s --seed %" PRIu64 " --seconds %" PRIu64 "%s%s\n", self_path, seed,
           seconds, only ? " --scenario " : "", only ? only->name : "");
    fflush(stdout);

    round_begin("(start)", seed);
    dog = start_thread(watchdog, NULL);
    t0 = weft_monotonic();
    /* At least one round, then rounds until the budget is spent. */
    for (next = seed; rounds == 0 || weft_monotonic() - t0 < (double)seconds; rounds++) {
        r.state = next;
        next = mix64(next + UINT64_C(0x9E3779B97F4A7C15));
        s = only ? only : &scenarios[mix64(r.state ^ UINT64_C(0x5DEECE66D)) % N_SCENARIOS];
        round_begin(s->name, r.state);
        /* The scenario ends the line with its parameters. */
        printf("soak: round %ld, seed %" PRIu64 ": ", rounds, r.state);
        s->run(&r);
        s->rounds++;
    }
    weft_event_set(&soak_done);
    join_thread(dog);
    printf("soak: passed: %ld rounds in %.1f s (", rounds, weft_monotonic() - t0);
    for (i = 0; i < N_SCENARIOS; i++)
        printf("%s%s %ld", i ? ", " : "", scenarios[i].name, scenarios[i].rounds);
    printf("), seed %" PRIu64 "\n", seed);
    return 0;
}
