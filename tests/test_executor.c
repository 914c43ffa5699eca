/* SPDX-License-Identifier: MIT */
/* weft_executor and weft_future: concurrent.futures.ThreadPoolExecutor. */
#ifdef __linux__
#define _GNU_SOURCE /* sched_setaffinity, sched_getcpu (executor_round_trips_on_one_cpu) */
#elif !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L /* setenv */
#endif
#include "runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __linux__
#include <sched.h>
#endif

/* ---- Pieces the cases share ------------------------------------------------------ */

/* Returns its argument plus one. */
static void *plus_one(void *arg)
{
    return (void *)((intptr_t)arg + 1);
}

/* Returns its argument times two. */
static void *twice(void *arg)
{
    return (void *)((intptr_t)arg * 2);
}

/* A call that says it started, then waits for its gate. */
typedef struct gated {
    weft_event gate;
    weft_test_counter started;
    weft_test_counter ran; /* calls that returned */
} gated;

#define GATED_INIT {WEFT_EVENT_INIT, WEFT_TEST_COUNTER_INIT, WEFT_TEST_COUNTER_INIT}

static void *wait_gate(void *arg)
{
    gated *g = arg;

    weft_test_counter_add(&g->started, 1);
    CHECK_OK(weft_event_wait(&g->gate, weft_test_long()));
    weft_test_counter_add(&g->ran, 1);
    return arg;
}

/* Counts its calls. */
static void *count_call(void *arg)
{
    weft_test_counter_add(arg, 1);
    return NULL;
}

static size_t threads_now(void)
{
    return weft_thread_active_count();
}

/* ---- Creation and misuse ----------------------------------------------------------- */

WEFT_TEST(executor_invalid_arguments)
{
    weft_executor *ex = NULL;
    weft_future *f = (weft_future *)&f;
    void *r = NULL;

    CHECK_STATUS(weft_executor_create(NULL, 1, NULL), WEFT_EINVAL);
    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK(ex != NULL);
    CHECK_STATUS(weft_executor_submit(NULL, &f, plus_one, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_executor_submit(ex, &f, NULL, NULL), WEFT_EINVAL);
    CHECK(f == NULL);
    CHECK_STATUS(weft_executor_submit(ex, NULL, NULL, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_executor_map(NULL, plus_one, NULL, NULL, 0, 1.0), WEFT_EINVAL);
    CHECK_STATUS(weft_executor_map(ex, NULL, NULL, NULL, 0, 1.0), WEFT_EINVAL);
    CHECK_STATUS(weft_executor_map(ex, plus_one, NULL, &r, 1, 1.0), WEFT_EINVAL);
    CHECK_STATUS(weft_executor_map(ex, plus_one, &r, NULL, 1, 1.0), WEFT_EINVAL);
    CHECK_STATUS(weft_executor_map(ex, plus_one, &r, &r, 1, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_executor_map(ex, plus_one, NULL, NULL, 0, WEFT_FOREVER), WEFT_OK);

    CHECK_STATUS(weft_future_result(NULL, 0, &r), WEFT_EINVAL);
    CHECK(!weft_future_done(NULL));
    CHECK(!weft_future_cancelled(NULL));
    CHECK(!weft_future_cancel(NULL));
    CHECK_STATUS(weft_future_add_done_callback(NULL, NULL, NULL), WEFT_EINVAL);
    weft_future_release(NULL);
    weft_executor_shutdown(NULL, true, true);
    weft_executor_destroy(NULL);

    CHECK_OK(weft_executor_submit(ex, &f, plus_one, (void *)41));
    CHECK_STATUS(weft_future_result(f, -2.0, &r), WEFT_EINVAL);
    CHECK_STATUS(weft_future_result(f, NAN, &r), WEFT_EINVAL);
    CHECK_STATUS(weft_future_add_done_callback(f, NULL, NULL), WEFT_EINVAL);
    CHECK_OK(weft_future_result(f, WEFT_FOREVER, &r));
    CHECK_EQ_INT((intptr_t)r, 42);
    weft_future_release(f);
    weft_executor_destroy(ex);
}

WEFT_TEST(executor_create_starts_no_thread)
{
    weft_executor *ex = NULL;
    size_t before = threads_now();

    CHECK_OK(weft_executor_create(&ex, 4, NULL));
    CHECK_EQ_UINT(threads_now(), before);
    weft_executor_destroy(ex);
    CHECK_EQ_UINT(threads_now(), before);
}

/* ---- submit and result --------------------------------------------------------------- */

WEFT_TEST(executor_submit_result)
{
    weft_executor *ex = NULL;
    weft_future *f = NULL;
    void *r = NULL;

    CHECK_OK(weft_executor_create(&ex, 2, NULL));
    CHECK_OK(weft_executor_submit(ex, &f, plus_one, (void *)1));
    CHECK_OK(weft_future_result(f, weft_test_long(), &r));
    CHECK_EQ_INT((intptr_t)r, 2);
    CHECK(weft_future_done(f));
    CHECK(!weft_future_cancelled(f));
    CHECK(!weft_future_cancel(f)); /* finished: too late */
    CHECK(!weft_future_cancelled(f));
    CHECK_OK(weft_future_result(f, 0, NULL)); /* NULL result is fine */
    r = NULL;
    CHECK_OK(weft_future_result(f, 0, &r)); /* again: the same result */
    CHECK_EQ_INT((intptr_t)r, 2);
    weft_future_release(f);
    weft_executor_destroy(ex);
}

WEFT_TEST(executor_result_timeout)
{
    weft_executor *ex = NULL;
    weft_future *f = NULL;
    gated g = GATED_INIT;
    void *r = NULL;
    double t0;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &f, wait_gate, &g));
    CHECK_STATUS(weft_future_result(f, 0, &r), WEFT_ETIMEDOUT);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_future_result(f, 0.1, &r), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);
    CHECK(r == NULL);
    CHECK(!weft_future_done(f));
    weft_event_set(&g.gate);
    CHECK_OK(weft_future_result(f, WEFT_FOREVER, &r));
    CHECK_EQ_PTR(r, &g);
    CHECK(weft_future_done(f));
    weft_future_release(f);
    weft_executor_destroy(ex);
}

typedef struct whoami {
    char name[64];
    bool daemon;
    uint64_t ident;
} whoami;

static void *record_self(void *arg)
{
    whoami *w = arg;
    weft_thread *self = weft_thread_current();

    snprintf(w->name, sizeof w->name, "%s", weft_thread_name(self));
    w->daemon = weft_thread_is_daemon(self);
    w->ident = weft_thread_ident(self);
    return NULL;
}

WEFT_TEST(executor_worker_names)
{
    weft_executor *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    weft_future *f = NULL, *fg = NULL;
    gated g = GATED_INIT;
    whoami w;

    CHECK_OK(weft_executor_create(&a, 1, NULL));
    CHECK_OK(weft_executor_create(&b, 1, "pool"));  /* a prefix takes no number */
    CHECK_OK(weft_executor_create(&c, 2, ""));      /* "" is no prefix, as in Python */
    CHECK_OK(weft_executor_create(&d, 2, "pool"));

    CHECK_OK(weft_executor_submit(a, &f, record_self, &w));
    CHECK_OK(weft_future_result(f, weft_test_long(), NULL));
    weft_future_release(f);
    CHECK_EQ_STR(w.name, "ThreadPoolExecutor-0_0");
    CHECK(w.daemon);
    CHECK(w.ident != weft_thread_ident(weft_thread_current()));

    CHECK_OK(weft_executor_submit(b, &f, record_self, &w));
    CHECK_OK(weft_future_result(f, weft_test_long(), NULL));
    weft_future_release(f);
    CHECK_EQ_STR(w.name, "pool_0");

    CHECK_OK(weft_executor_submit(c, &f, record_self, &w));
    CHECK_OK(weft_future_result(f, weft_test_long(), NULL));
    weft_future_release(f);
    CHECK_EQ_STR(w.name, "ThreadPoolExecutor-1_0");

    /* The second worker of d: the first is kept busy. */
    CHECK_OK(weft_executor_submit(d, &fg, wait_gate, &g));
    weft_test_counter_wait(&g.started, 1);
    CHECK_OK(weft_executor_submit(d, &f, record_self, &w));
    CHECK_OK(weft_future_result(f, weft_test_long(), NULL));
    weft_future_release(f);
    CHECK_EQ_STR(w.name, "pool_1");
    weft_event_set(&g.gate);
    CHECK_OK(weft_future_result(fg, weft_test_long(), NULL));
    weft_future_release(fg);

    weft_executor_destroy(a);
    weft_executor_destroy(b);
    weft_executor_destroy(c);
    weft_executor_destroy(d);
}

#ifdef __linux__
enum { COMM_WORKERS = 12 };

typedef struct comm_seen {
    weft_barrier *all_running; /* so that each task has a worker of its own */
    char comm[32];            /* the OS name, from /proc */
    char name[64];            /* weft's name */
} comm_seen;

static void *read_comm(void *arg)
{
    comm_seen *seen = arg;
    weft_thread *self = weft_thread_current();
    char path[64];
    FILE *f;

    CHECK(weft_barrier_wait(seen->all_running, weft_test_long()) >= 0); /* its index */
    snprintf(seen->name, sizeof seen->name, "%s", weft_thread_name(self));
    snprintf(path, sizeof path, "/proc/self/task/%llu/comm",
             (unsigned long long)weft_thread_native_id(self));
    f = fopen(path, "r");
    CHECK(f != NULL);
    CHECK(fgets(seen->comm, sizeof seen->comm, f) != NULL);
    fclose(f);
    seen->comm[strcspn(seen->comm, "\n")] = '\0';
    return NULL;
}
#endif

/* The kernel keeps 15 bytes of a thread's name: "ThreadPoolExecutor-0_11"
 * shows there as "ThreadPo..-0_11", its worker number kept; weft's own name
 * is Python's. */
WEFT_TEST(executor_worker_os_names_keep_numbers)
{
#ifdef __linux__
    weft_barrier all_running = WEFT_BARRIER_INIT(COMM_WORKERS);
    comm_seen seen[COMM_WORKERS];
    weft_future *f[COMM_WORKERS];
    weft_executor *ex = NULL;
    char expected[64];
    size_t len;
    int i, j;

    CHECK_OK(weft_executor_create(&ex, COMM_WORKERS, NULL));
    for (i = 0; i < COMM_WORKERS; i++) {
        seen[i].all_running = &all_running;
        CHECK_OK(weft_executor_submit(ex, &f[i], read_comm, &seen[i]));
    }
    for (i = 0; i < COMM_WORKERS; i++) {
        CHECK_OK(weft_future_result(f[i], weft_test_long(), NULL));
        weft_future_release(f[i]);
    }
    weft_executor_destroy(ex);
    for (i = 0; i < COMM_WORKERS; i++) {
        CHECK(strncmp(seen[i].name, "ThreadPoolExecutor-0_", 21) == 0);
        len = strlen(seen[i].name + 21);
        snprintf(expected, sizeof expected, "%.*s..-0_%s", (int)(10 - len),
                 "ThreadPoolExecutor", seen[i].name + 21);
        CHECK_EQ_STR(seen[i].comm, expected);
        for (j = 0; j < i; j++)
            CHECK(strcmp(seen[i].comm, seen[j].comm) != 0);
    }
#else
    weft_test_skip("the OS-visible name is read from Linux's /proc");
#endif
}

WEFT_TEST(executor_max_workers_bounds_threads)
{
    enum { MAX = 3, CALLS = 12 };
    weft_executor *ex = NULL;
    weft_future *fs[CALLS];
    gated g = GATED_INIT;
    size_t before = threads_now();
    int i;

    CHECK_OK(weft_executor_create(&ex, MAX, NULL));
    for (i = 0; i < CALLS; i++)
        CHECK_OK(weft_executor_submit(ex, &fs[i], wait_gate, &g));
    weft_test_counter_wait(&g.started, MAX);
    weft_test_settle();
    CHECK_EQ_INT(weft_test_counter_get(&g.started), MAX);
    CHECK_EQ_UINT(threads_now(), before + MAX);
    weft_event_set(&g.gate);
    CHECK_OK(weft_futures_wait(fs, CALLS, weft_test_long(), WEFT_ALL_COMPLETED));
    CHECK_EQ_INT(weft_test_counter_get(&g.ran), CALLS);
    CHECK_EQ_UINT(threads_now(), before + MAX);
    for (i = 0; i < CALLS; i++)
        weft_future_release(fs[i]);
    weft_executor_destroy(ex);
    CHECK_EQ_UINT(threads_now(), before);
}

WEFT_TEST(executor_default_max_workers)
{
    int cpus = weft_cpu_count();
    long want = cpus + 4 < 32 ? cpus + 4 : 32;
    weft_executor *ex = NULL;
    weft_future *fs[40];
    gated g = GATED_INIT;
    size_t before = threads_now();
    int i;

    CHECK_OK(weft_executor_create(&ex, 0, NULL));
    for (i = 0; i < 40; i++)
        CHECK_OK(weft_executor_submit(ex, &fs[i], wait_gate, &g));
    weft_test_counter_wait(&g.started, want);
    weft_test_settle();
    CHECK_EQ_INT(weft_test_counter_get(&g.started), want);
    CHECK_EQ_UINT(threads_now(), before + (size_t)want);
    weft_event_set(&g.gate);
    for (i = 0; i < 40; i++) {
        CHECK_OK(weft_future_result(fs[i], weft_test_long(), NULL));
        weft_future_release(fs[i]);
    }
    weft_executor_destroy(ex);
}

/* An idle worker is reused before a new one starts: calls made one after
 * the other, each after the last finished, start (nearly always) one
 * worker. Without the reuse the fourth call would have started a fourth. */
WEFT_TEST(executor_reuses_idle_worker)
{
    enum { MAX = 4, ROUNDS = 20 };
    weft_executor *ex = NULL;
    weft_future *f = NULL;
    size_t before = threads_now();
    int i;

    CHECK_OK(weft_executor_create(&ex, MAX, NULL));
    for (i = 0; i < ROUNDS; i++) {
        CHECK_OK(weft_executor_submit(ex, &f, plus_one, NULL));
        CHECK_OK(weft_future_result(f, weft_test_long(), NULL));
        weft_future_release(f);
        weft_test_settle(); /* let the worker go back to waiting */
    }
    CHECK_LT_INT((int64_t)(threads_now() - before), MAX);
    weft_executor_destroy(ex);
}

/* ---- map ------------------------------------------------------------------------------- */

WEFT_TEST(executor_map_in_order)
{
    enum { N = 200 };
    weft_executor *ex = NULL;
    void *args[N], *results[N];
    intptr_t i;

    for (i = 0; i < N; i++)
        args[i] = (void *)i;
    CHECK_OK(weft_executor_create(&ex, 4, NULL));
    CHECK_OK(weft_executor_map(ex, twice, args, results, N, WEFT_FOREVER));
    for (i = 0; i < N; i++)
        CHECK_EQ_INT((intptr_t)results[i], 2 * i);
    CHECK_OK(weft_executor_map(ex, plus_one, args, results, N, weft_test_long()));
    for (i = 0; i < N; i++)
        CHECK_EQ_INT((intptr_t)results[i], i + 1);
    weft_executor_destroy(ex);
}

/* map's calls for this case: argument 0 returns at once, the others wait
 * for the gate. */
static gated map_gate = GATED_INIT;

static void *first_fast(void *arg)
{
    if ((intptr_t)arg == 0)
        return (void *)100;
    wait_gate(&map_gate);
    return (void *)((intptr_t)arg + 100);
}

WEFT_TEST(executor_map_timeout_cancels_the_rest)
{
    enum { N = 6 };
    weft_executor *ex = NULL;
    void *args[N], *results[N];
    intptr_t i;
    double t0;

    for (i = 0; i < N; i++) {
        args[i] = (void *)i;
        results[i] = (void *)-1;
    }
    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    t0 = weft_monotonic();
    CHECK_STATUS(weft_executor_map(ex, first_fast, args, results, N, 0.2), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.2);
    CHECK_EQ_INT((intptr_t)results[0], 100); /* finished in time */
    for (i = 1; i < N; i++)
        CHECK(results[i] == NULL);
    weft_event_set(&map_gate.gate);
    weft_executor_shutdown(ex, true, false);
    /* Only the call that was running when time ran out ran; the rest were
     * cancelled. */
    CHECK_EQ_INT(weft_test_counter_get(&map_gate.started), 1);
    CHECK_EQ_INT(weft_test_counter_get(&map_gate.ran), 1);
    weft_executor_destroy(ex);
}

WEFT_TEST(executor_map_after_shutdown)
{
    weft_executor *ex = NULL;
    void *args[2] = {NULL, NULL}, *results[2];

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    weft_executor_shutdown(ex, false, false);
    CHECK_STATUS(weft_executor_map(ex, plus_one, args, results, 2, WEFT_FOREVER),
                 WEFT_ESHUTDOWN);
    weft_executor_destroy(ex);
}

/* ---- cancel ----------------------------------------------------------------------------- */

WEFT_TEST(executor_cancel_pending_only)
{
    weft_executor *ex = NULL;
    weft_future *running = NULL, *pending = NULL;
    weft_test_counter calls = WEFT_TEST_COUNTER_INIT;
    gated g = GATED_INIT;
    void *r = (void *)1;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &running, wait_gate, &g));
    weft_test_counter_wait(&g.started, 1);
    CHECK_OK(weft_executor_submit(ex, &pending, count_call, &calls));

    CHECK(!weft_future_cancel(running)); /* it runs */
    CHECK(!weft_future_cancelled(running));
    CHECK(!weft_future_done(running));

    CHECK(!weft_future_done(pending));
    CHECK(weft_future_cancel(pending));
    CHECK(weft_future_cancelled(pending));
    CHECK(weft_future_done(pending));
    CHECK(weft_future_cancel(pending)); /* again: still cancelled */
    CHECK_STATUS(weft_future_result(pending, 0, &r), WEFT_ECANCELED);
    CHECK_STATUS(weft_future_result(pending, WEFT_FOREVER, &r), WEFT_ECANCELED);
    CHECK(r == (void *)1); /* untouched */

    weft_event_set(&g.gate);
    CHECK_OK(weft_future_result(running, weft_test_long(), &r));
    CHECK_EQ_PTR(r, &g);
    CHECK(!weft_future_cancel(running)); /* finished */
    weft_executor_shutdown(ex, true, false);
    CHECK_EQ_INT(weft_test_counter_get(&calls), 0); /* never ran */
    weft_future_release(running);
    weft_future_release(pending);
    weft_executor_destroy(ex);
}

/* ---- done callbacks ------------------------------------------------------------------------ */

typedef struct calls {
    weft_lock lock;
    int order[8];
    uint64_t thread[8];
    weft_future *future[8];
    int n;
    weft_test_counter done;
} calls;

typedef struct tag {
    calls *c;
    int id;
} tag;

static void note(weft_future *f, void *arg)
{
    tag *t = arg;
    calls *c = t->c;

    CHECK_OK(weft_lock_acquire(&c->lock, WEFT_FOREVER));
    CHECK_LT_INT(c->n, 8);
    c->order[c->n] = t->id;
    c->thread[c->n] = weft_thread_ident(weft_thread_current());
    c->future[c->n] = f;
    c->n++;
    CHECK_OK(weft_lock_release(&c->lock));
    CHECK(weft_future_done(f));
    weft_test_counter_add(&c->done, 1);
}

WEFT_TEST(executor_done_callbacks_in_order_on_worker)
{
    weft_executor *ex = NULL;
    weft_future *f = NULL;
    gated g = GATED_INIT;
    calls c = {WEFT_LOCK_INIT, {0}, {0}, {0}, 0, WEFT_TEST_COUNTER_INIT};
    tag tags[4] = {{&c, 1}, {&c, 2}, {&c, 3}, {&c, 4}};
    uint64_t me = weft_thread_ident(weft_thread_current());
    int i;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &f, wait_gate, &g));
    for (i = 0; i < 3; i++)
        CHECK_OK(weft_future_add_done_callback(f, note, &tags[i]));
    CHECK_EQ_INT(weft_test_counter_get(&c.done), 0);
    weft_event_set(&g.gate);
    weft_test_counter_wait(&c.done, 3);
    for (i = 0; i < 3; i++) {
        CHECK_EQ_INT(c.order[i], i + 1);
        CHECK(c.thread[i] != me); /* the worker completed it */
        CHECK_EQ_PTR(c.future[i], f);
    }
    /* Added to a done future: runs at once, on the caller. */
    CHECK_OK(weft_future_add_done_callback(f, note, &tags[3]));
    CHECK_EQ_INT(weft_test_counter_get(&c.done), 4);
    CHECK_EQ_INT(c.order[3], 4);
    CHECK_EQ_UINT(c.thread[3], me);
    weft_future_release(f);
    weft_executor_destroy(ex);
}

WEFT_TEST(executor_done_callbacks_on_cancel)
{
    weft_executor *ex = NULL;
    weft_future *running = NULL, *pending = NULL;
    gated g = GATED_INIT;
    calls c = {WEFT_LOCK_INIT, {0}, {0}, {0}, 0, WEFT_TEST_COUNTER_INIT};
    tag tags[2] = {{&c, 1}, {&c, 2}};
    uint64_t me = weft_thread_ident(weft_thread_current());

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &running, wait_gate, &g));
    weft_test_counter_wait(&g.started, 1);
    CHECK_OK(weft_executor_submit(ex, &pending, plus_one, NULL));
    CHECK_OK(weft_future_add_done_callback(pending, note, &tags[0]));
    CHECK_OK(weft_future_add_done_callback(pending, note, &tags[1]));
    CHECK(weft_future_cancel(pending));
    /* Run by the cancelling thread, before cancel returned, once each. */
    CHECK_EQ_INT(weft_test_counter_get(&c.done), 2);
    CHECK_EQ_INT(c.order[0], 1);
    CHECK_EQ_INT(c.order[1], 2);
    CHECK_EQ_UINT(c.thread[0], me);
    CHECK_EQ_UINT(c.thread[1], me);
    CHECK(weft_future_cancel(pending));
    CHECK_EQ_INT(weft_test_counter_get(&c.done), 2);
    weft_event_set(&g.gate);
    weft_executor_destroy(ex);
    CHECK_EQ_INT(weft_test_counter_get(&c.done), 2);
    weft_future_release(running);
    weft_future_release(pending);
}

/* A callback may give back the last handle of its own future. */
static void release_self(weft_future *f, void *arg)
{
    weft_future_release(f);
    weft_test_counter_add(arg, 1);
}

WEFT_TEST(executor_callback_releases_its_future)
{
    enum { N = 50 };
    weft_executor *ex = NULL;
    weft_test_counter released = WEFT_TEST_COUNTER_INIT;
    weft_future *f;
    int i;

    CHECK_OK(weft_executor_create(&ex, 4, NULL));
    for (i = 0; i < N; i++) {
        CHECK_OK(weft_executor_submit(ex, &f, plus_one, NULL));
        CHECK_OK(weft_future_add_done_callback(f, release_self, &released));
    }
    weft_test_counter_wait(&released, N);
    weft_executor_destroy(ex);
}

/* ---- futures_wait ------------------------------------------------------------------------------ */

WEFT_TEST(executor_futures_wait_arguments)
{
    weft_executor *ex = NULL;
    weft_future *fs[2] = {NULL, NULL};

    CHECK_OK(weft_futures_wait(NULL, 0, 0, WEFT_ALL_COMPLETED));
    CHECK_OK(weft_futures_wait(fs, 0, WEFT_FOREVER, WEFT_FIRST_COMPLETED));
    CHECK_STATUS(weft_futures_wait(NULL, 1, 0, WEFT_ALL_COMPLETED), WEFT_EINVAL);
    CHECK_STATUS(weft_futures_wait(fs, 2, 0, WEFT_ALL_COMPLETED), WEFT_EINVAL);
    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &fs[0], plus_one, NULL));
    CHECK_STATUS(weft_futures_wait(fs, 2, 0, WEFT_FIRST_COMPLETED), WEFT_EINVAL); /* NULL element */
    CHECK_STATUS(weft_futures_wait(fs, 1, -2.0, WEFT_ALL_COMPLETED), WEFT_EINVAL);
    CHECK_STATUS(weft_futures_wait(fs, 1, NAN, WEFT_ALL_COMPLETED), WEFT_EINVAL);
    CHECK_OK(weft_futures_wait(fs, 1, weft_test_long(), WEFT_ALL_COMPLETED));
    /* Already done: at once, with any timeout. */
    CHECK_OK(weft_futures_wait(fs, 1, 0, WEFT_ALL_COMPLETED));
    CHECK_OK(weft_futures_wait(fs, 1, 0, WEFT_FIRST_COMPLETED));
    weft_future_release(fs[0]);
    weft_executor_destroy(ex);
}

WEFT_TEST(executor_futures_wait_modes_across_executors)
{
    weft_executor *a = NULL, *b = NULL;
    weft_future *fs[3];
    gated g[3] = {GATED_INIT, GATED_INIT, GATED_INIT};
    double t0;
    int i;

    CHECK_OK(weft_executor_create(&a, 2, NULL));
    CHECK_OK(weft_executor_create(&b, 1, NULL));
    CHECK_OK(weft_executor_submit(a, &fs[0], wait_gate, &g[0]));
    CHECK_OK(weft_executor_submit(b, &fs[1], wait_gate, &g[1]));
    CHECK_OK(weft_executor_submit(a, &fs[2], wait_gate, &g[2]));

    CHECK_STATUS(weft_futures_wait(fs, 3, 0, WEFT_FIRST_COMPLETED), WEFT_ETIMEDOUT);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_futures_wait(fs, 3, 0.1, WEFT_FIRST_COMPLETED), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);

    weft_event_set(&g[1].gate); /* the future of the other executor */
    CHECK_OK(weft_futures_wait(fs, 3, weft_test_long(), WEFT_FIRST_COMPLETED));
    CHECK(weft_future_done(fs[1]));
    CHECK(!weft_future_done(fs[0]));
    CHECK(!weft_future_done(fs[2]));

    t0 = weft_monotonic();
    CHECK_STATUS(weft_futures_wait(fs, 3, 0.1, WEFT_ALL_COMPLETED), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);

    weft_event_set(&g[0].gate);
    weft_test_counter_wait(&g[0].ran, 1);
    CHECK_STATUS(weft_futures_wait(fs, 3, 0.05, WEFT_ALL_COMPLETED), WEFT_ETIMEDOUT);
    weft_event_set(&g[2].gate);
    CHECK_OK(weft_futures_wait(fs, 3, weft_test_long(), WEFT_ALL_COMPLETED));
    for (i = 0; i < 3; i++) {
        CHECK(weft_future_done(fs[i]));
        weft_future_release(fs[i]);
    }
    weft_executor_destroy(a);
    weft_executor_destroy(b);
}

/* A waiter blocked in futures_wait is woken by a cancel from another thread. */
typedef struct cancel_later {
    weft_future *f;
    weft_test_counter *waiting;
} cancel_later;

static void *cancel_when_waiting(void *arg)
{
    cancel_later *c = arg;

    weft_test_counter_wait(c->waiting, 1);
    weft_test_settle();
    CHECK(weft_future_cancel(c->f));
    return NULL;
}

WEFT_TEST(executor_futures_wait_woken_by_cancel)
{
    weft_executor *ex = NULL;
    weft_future *fs[2];
    gated g = GATED_INIT;
    weft_test_counter waiting = WEFT_TEST_COUNTER_INIT;
    cancel_later c;
    weft_thread *t;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &fs[0], wait_gate, &g));
    weft_test_counter_wait(&g.started, 1);
    CHECK_OK(weft_executor_submit(ex, &fs[1], plus_one, NULL));
    c.f = fs[1];
    c.waiting = &waiting;
    t = weft_test_start(cancel_when_waiting, &c);
    weft_test_counter_add(&waiting, 1);
    CHECK_OK(weft_futures_wait(fs, 2, weft_test_long(), WEFT_FIRST_COMPLETED));
    CHECK(weft_future_cancelled(fs[1]));
    CHECK(!weft_future_done(fs[0]));
    weft_test_join(t);
    weft_event_set(&g.gate);
    CHECK_OK(weft_futures_wait(fs, 2, weft_test_long(), WEFT_ALL_COMPLETED));
    weft_future_release(fs[0]);
    weft_future_release(fs[1]);
    weft_executor_destroy(ex);
}

/* ---- shutdown and destroy ------------------------------------------------------------------------ */

WEFT_TEST(executor_submit_after_shutdown)
{
    weft_executor *ex = NULL;
    weft_future *f = (weft_future *)&f;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    weft_executor_shutdown(ex, true, false);
    weft_executor_shutdown(ex, true, true); /* again: fine */
    CHECK_STATUS(weft_executor_submit(ex, &f, plus_one, NULL), WEFT_ESHUTDOWN);
    CHECK(f == NULL);
    weft_executor_destroy(ex);
}

WEFT_TEST(executor_shutdown_wait_runs_everything)
{
    enum { N = 64 };
    weft_executor *ex = NULL;
    weft_future *fs[N];
    weft_test_counter calls = WEFT_TEST_COUNTER_INIT;
    size_t before = threads_now();
    int i;

    CHECK_OK(weft_executor_create(&ex, 3, NULL));
    for (i = 0; i < N; i++)
        CHECK_OK(weft_executor_submit(ex, &fs[i], count_call, &calls));
    weft_executor_shutdown(ex, true, false);
    CHECK_EQ_INT(weft_test_counter_get(&calls), N);
    CHECK_EQ_UINT(threads_now(), before); /* the workers have ended */
    for (i = 0; i < N; i++) {
        CHECK(weft_future_done(fs[i]));
        CHECK(!weft_future_cancelled(fs[i]));
        weft_future_release(fs[i]);
    }
    weft_executor_destroy(ex);
}

WEFT_TEST(executor_shutdown_nowait_queued_calls_still_run)
{
    enum { N = 5 };
    weft_executor *ex = NULL;
    weft_future *fs[N];
    gated g = GATED_INIT;
    int i;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    for (i = 0; i < N; i++)
        CHECK_OK(weft_executor_submit(ex, &fs[i], wait_gate, &g));
    weft_test_counter_wait(&g.started, 1);
    weft_executor_shutdown(ex, false, false); /* returns while a call runs */
    CHECK(!weft_future_done(fs[0]));
    weft_event_set(&g.gate);
    for (i = 0; i < N; i++) {
        CHECK_OK(weft_future_result(fs[i], weft_test_long(), NULL));
        weft_future_release(fs[i]);
    }
    CHECK_EQ_INT(weft_test_counter_get(&g.ran), N);
    weft_executor_destroy(ex);
}

WEFT_TEST(executor_shutdown_cancel_futures)
{
    enum { N = 6 };
    weft_executor *ex = NULL;
    weft_future *fs[N];
    gated g = GATED_INIT;
    calls c = {WEFT_LOCK_INIT, {0}, {0}, {0}, 0, WEFT_TEST_COUNTER_INIT};
    tag t = {&c, 7};
    int i;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    for (i = 0; i < N; i++)
        CHECK_OK(weft_executor_submit(ex, &fs[i], wait_gate, &g));
    weft_test_counter_wait(&g.started, 1);
    CHECK_OK(weft_future_add_done_callback(fs[N - 1], note, &t));
    weft_executor_shutdown(ex, false, true);
    CHECK_EQ_INT(weft_test_counter_get(&c.done), 1); /* cancelled: callback ran */
    CHECK(!weft_future_cancelled(fs[0]));
    for (i = 1; i < N; i++)
        CHECK(weft_future_cancelled(fs[i]));
    weft_event_set(&g.gate);
    weft_executor_shutdown(ex, true, false);
    CHECK_OK(weft_future_result(fs[0], 0, NULL));
    CHECK_EQ_INT(weft_test_counter_get(&g.ran), 1);
    for (i = 0; i < N; i++)
        weft_future_release(fs[i]);
    weft_executor_destroy(ex);
}

/* Futures and executor given back in every order: nothing leaks (ASan) or
 * is used after it is freed. */
WEFT_TEST(executor_release_in_any_order)
{
    weft_executor *ex = NULL;
    weft_future *early = NULL, *late = NULL, *cancelled = NULL;
    gated g = GATED_INIT;
    void *r = NULL;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &early, wait_gate, &g));
    weft_test_counter_wait(&g.started, 1);
    CHECK_OK(weft_executor_submit(ex, &late, plus_one, (void *)9));
    CHECK_OK(weft_executor_submit(ex, &cancelled, plus_one, NULL));
    weft_future_release(early); /* still running: it runs on */
    CHECK(weft_future_cancel(cancelled));
    weft_event_set(&g.gate);
    weft_executor_destroy(ex); /* waits; the futures outlive it */
    CHECK(weft_future_done(late));
    CHECK_OK(weft_future_result(late, 0, &r));
    CHECK_EQ_INT((intptr_t)r, 10);
    CHECK_STATUS(weft_future_result(cancelled, 0, &r), WEFT_ECANCELED);
    weft_future_release(late);
    weft_future_release(cancelled);
    CHECK_EQ_INT(weft_test_counter_get(&g.ran), 1);
}

static void *open_gate_soon(void *arg)
{
    gated *g = arg;

    weft_test_settle();
    weft_event_set(&g->gate);
    return NULL;
}

WEFT_TEST(executor_destroy_waits_for_calls)
{
    enum { N = 4 };
    weft_executor *ex = NULL;
    weft_future *fs[N];
    gated g = GATED_INIT;
    weft_thread *t;
    int i;

    CHECK_OK(weft_executor_create(&ex, 2, NULL));
    for (i = 0; i < N; i++)
        CHECK_OK(weft_executor_submit(ex, &fs[i], wait_gate, &g));
    for (i = 0; i < N; i += 2)
        weft_future_release(fs[i]);
    weft_test_counter_wait(&g.started, 2);
    t = weft_test_start(open_gate_soon, &g);
    weft_executor_destroy(ex);
    CHECK_EQ_INT(weft_test_counter_get(&g.ran), N);
    for (i = 1; i < N; i += 2) {
        CHECK(weft_future_done(fs[i]));
        weft_future_release(fs[i]);
    }
    weft_test_join(t);
}

/* ---- Exit: Python's interpreter exit waits for the pool's calls ------------------------------------ */

static void *slow_print(void *arg)
{
    /* A wait no stop request could cut short, whoever starts the exit. */
    weft_event never = WEFT_EVENT_INIT;

    CHECK_STATUS(weft_event_wait(&never, 0.2), WEFT_ETIMEDOUT);
    printf("call %d done\n", (int)(intptr_t)arg);
    return NULL;
}

WEFT_CHILD_MODE(exit_waits_for_calls)
{
    weft_executor *ex = NULL;
    weft_future *f = NULL;
    int i;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    for (i = 1; i <= 2; i++) {
        CHECK_OK(weft_executor_submit(ex, &f, slow_print, (void *)(intptr_t)i));
        weft_future_release(f);
    }
    printf("main returns\n");
    return 4; /* neither shut down nor destroyed */
}

WEFT_TEST(executor_exit_waits_for_calls)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("exit_waits_for_calls", 4, out);
    CHECK_BEFORE(out, "main returns", "call 1 done");
    CHECK_BEFORE(out, "call 1 done", "call 2 done");
}

/* ---- Fork: a child's exit leaves the parent's executors alone ------------------------------------ */

/* A fork child's target that ends with the orderly exit. */
static int exit_seven(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    weft_exit(7);
}

WEFT_TEST_SETUP
{
    weft_process_register("exit_seven", exit_seven);
}

typedef struct busy_executor {
    weft_executor *ex;
    weft_event stop;
} busy_executor;

/* Submits and waits for calls until told to stop. */
static void *keep_executor_busy(void *arg)
{
    busy_executor *b = arg;
    weft_future *f = NULL;
    void *r = NULL;

    while (!weft_event_is_set(&b->stop)) {
        CHECK_OK(weft_executor_submit(b->ex, &f, plus_one, NULL));
        CHECK_OK(weft_future_result(f, weft_test_long(), &r));
        CHECK_EQ_PTR(r, (void *)1);
        weft_future_release(f);
    }
    return NULL;
}

WEFT_CHILD_MODE(fork_child_exits_beside_executor)
{
    weft_process_opts opts = {.method = WEFT_START_FORK};
    busy_executor b = {NULL, WEFT_EVENT_INIT};
    weft_process *child = NULL;
    weft_thread *busy;
    long i, n = weft_test_iterations(100);
    int code = -1;

    CHECK_OK(weft_executor_create(&b.ex, 2, NULL));
    busy = weft_test_start(keep_executor_busy, &b);
    /* Each child's exit must leave this executor alone: its workers are not
     * in the child, and its state may be caught in mid-change there. */
    for (i = 0; i < n; i++) {
        CHECK_OK(weft_process_start(&child, "exit_seven", NULL, 0, &opts));
        CHECK_OK(weft_process_join(child, weft_test_long()));
        CHECK_OK(weft_process_exitcode(child, &code));
        weft_process_release(child);
        if (code != 7)
            break;
    }
    printf("child exit code %d\n", code);
    weft_event_set(&b.stop);
    weft_test_join(busy);
    weft_executor_destroy(b.ex);
    return 0;
}

#ifndef _WIN32
/* Append `option` to the environment variable `name` (a sanitizer's
 * options, read by the child modes when they start). */
static void append_option(const char *name, const char *option)
{
    const char *old = getenv(name);
    char value[1024];

    snprintf(value, sizeof value, "%s%s%s", old ? old : "", old && *old ? ":" : "", option);
    CHECK_EQ_INT(setenv(name, value, 1), 0);
}
#endif

WEFT_TEST(executor_fork_child_exit_leaves_parents_executors_alone)
{
#ifdef _WIN32
    weft_test_skip("no fork() on Windows");
#else
    char out[WEFT_TEST_OUT_CAP];

    /* The children must end with the orderly exit (what is tested), where
     * LeakSanitizer hangs in a child forked from a threaded process, and
     * ThreadSanitizer sleeps a second. */
    append_option("ASAN_OPTIONS", "detect_leaks=0");
    append_option("TSAN_OPTIONS", "atexit_sleep_ms=0");
    weft_test_run_mode("fork_child_exits_beside_executor", 0, out);
    CHECK_ONCE(out, "child exit code 7");
#endif
}

/* ---- Stress ------------------------------------------------------------------------------------------ */

WEFT_TEST_TIMEOUT(executor_stress_many_futures, 120)
{
    long n = weft_test_iterations(100000), i;
    weft_executor *ex = NULL;
    weft_future **fs = malloc((size_t)n * sizeof *fs);
    void *r;

    CHECK(fs != NULL);
    CHECK_OK(weft_executor_create(&ex, 0, NULL));
    for (i = 0; i < n; i++)
        CHECK_OK(weft_executor_submit(ex, &fs[i], plus_one, (void *)(intptr_t)i));
    for (i = 0; i < n; i++) {
        CHECK_OK(weft_future_result(fs[i], weft_test_long(), &r));
        CHECK_EQ_INT((intptr_t)r, i + 1);
        weft_future_release(fs[i]);
    }
    weft_executor_destroy(ex);
    free(fs);
}

/* Several submitters, half the handles given back at once, callbacks,
 * cancels and waits racing the workers, then destroy. */
typedef struct stress {
    weft_executor *ex;
    long per_thread;
    weft_test_counter callbacks;
    weft_test_counter cancelled;
} stress;

static void count_cb(weft_future *f, void *arg)
{
    stress *s = arg;

    weft_test_counter_add(&s->callbacks, 1);
    if (weft_future_cancelled(f))
        weft_test_counter_add(&s->cancelled, 1);
}

static void *submitter(void *arg)
{
    stress *s = arg;
    weft_future *keep[16];
    long i;
    int k = 0, j;

    for (i = 0; i < s->per_thread; i++) {
        weft_future *f = NULL;
        CHECK_OK(weft_executor_submit(s->ex, &f, plus_one, (void *)(intptr_t)i));
        CHECK_OK(weft_future_add_done_callback(f, count_cb, s));
        if (i % 7 == 0)
            weft_future_cancel(f);
        if (i % 2 == 0) {
            weft_future_release(f);
            continue;
        }
        keep[k++] = f;
        if (k == 16) {
            CHECK_OK(weft_futures_wait(keep, 16, weft_test_long(),
                                       i % 4 == 1 ? WEFT_ALL_COMPLETED : WEFT_FIRST_COMPLETED));
            CHECK_OK(weft_futures_wait(keep, 16, weft_test_long(), WEFT_ALL_COMPLETED));
            for (j = 0; j < k; j++)
                weft_future_release(keep[j]);
            k = 0;
        }
    }
    for (j = 0; j < k; j++)
        weft_future_release(keep[j]);
    return NULL;
}

WEFT_TEST_TIMEOUT(executor_stress_concurrent_submitters, 120)
{
    enum { THREADS = 4 };
    stress s = {NULL, 0, WEFT_TEST_COUNTER_INIT, WEFT_TEST_COUNTER_INIT};
    weft_thread *threads[THREADS];

    s.per_thread = weft_test_iterations(25000);
    CHECK_OK(weft_executor_create(&s.ex, 4, NULL));
    weft_test_start_all(threads, THREADS, submitter, &s);
    weft_test_join_all(threads, THREADS);
    weft_executor_destroy(s.ex);
    CHECK_EQ_INT(weft_test_counter_get(&s.callbacks), THREADS * s.per_thread);
}

/* ---- Fire-and-forget and batches (issue 18) ---------------------------------------------------- */

/* A gate call without a future ahead of `n` counted calls without futures,
 * on one worker: the counted ones are queued behind the gate. */
static void submit_gate_then_counted(weft_executor *ex, gated *g, weft_test_counter *calls, int n)
{
    int i;

    CHECK_OK(weft_executor_submit(ex, NULL, wait_gate, g));
    weft_test_counter_wait(&g->started, 1);
    for (i = 0; i < n; i++)
        CHECK_OK(weft_executor_submit(ex, NULL, count_call, calls));
}

WEFT_TEST(executor_fire_and_forget_runs_every_call)
{
    enum { N = 10000 };
    weft_executor *ex = NULL;
    weft_test_counter calls = WEFT_TEST_COUNTER_INIT;
    int i;

    CHECK_OK(weft_executor_create(&ex, 3, NULL));
    for (i = 0; i < N; i++)
        CHECK_OK(weft_executor_submit(ex, NULL, count_call, &calls));
    weft_test_counter_wait(&calls, N);
    weft_executor_destroy(ex);
    CHECK_EQ_INT(weft_test_counter_get(&calls), N);
}

static void *open_gate_when_shutdown_waits(void *arg)
{
    gated *g = arg;

    weft_test_settle(); /* not needed for the check: makes the wait likely */
    weft_event_set(&g->gate);
    return NULL;
}

WEFT_TEST(executor_fire_and_forget_shutdown_waits_for_them)
{
    enum { N = 50 };
    weft_executor *ex = NULL;
    weft_test_counter calls = WEFT_TEST_COUNTER_INIT;
    gated g = GATED_INIT;
    weft_thread *opener;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    submit_gate_then_counted(ex, &g, &calls, N);
    CHECK_EQ_INT(weft_test_counter_get(&calls), 0);
    opener = weft_test_start(open_gate_when_shutdown_waits, &g);
    weft_executor_shutdown(ex, true, false);
    CHECK_EQ_INT(weft_test_counter_get(&g.ran), 1);
    CHECK_EQ_INT(weft_test_counter_get(&calls), N);
    weft_test_join(opener);
    weft_executor_destroy(ex);
}

WEFT_TEST(executor_fire_and_forget_cancel_futures_drops_them)
{
    enum { N = 50 };
    weft_executor *ex = NULL;
    weft_test_counter calls = WEFT_TEST_COUNTER_INIT;
    gated g = GATED_INIT;
    weft_future *kept = NULL;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    submit_gate_then_counted(ex, &g, &calls, N);
    CHECK_OK(weft_executor_submit(ex, &kept, plus_one, NULL));
    weft_executor_shutdown(ex, false, true);
    CHECK(weft_future_cancelled(kept));
    weft_event_set(&g.gate);
    weft_executor_destroy(ex);
    CHECK_EQ_INT(weft_test_counter_get(&g.ran), 1);
    CHECK_EQ_INT(weft_test_counter_get(&calls), 0);
    weft_future_release(kept);
}

WEFT_TEST(executor_submit_after_shutdown_enqueues_nothing)
{
    weft_executor *ex = NULL;
    weft_test_counter calls = WEFT_TEST_COUNTER_INIT;
    weft_test_counter *args[3] = {&calls, &calls, &calls};
    weft_future *fs[3] = {(weft_future *)&fs, (weft_future *)&fs, (weft_future *)&fs};

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, NULL, count_call, &calls)); /* a worker exists */
    weft_executor_shutdown(ex, true, false);
    CHECK_EQ_INT(weft_test_counter_get(&calls), 1);
    CHECK_STATUS(weft_executor_submit(ex, NULL, count_call, &calls), WEFT_ESHUTDOWN);
    CHECK(strstr(weft_last_error_message(), "shut down") != NULL);
    CHECK_STATUS(weft_executor_submit_n(ex, count_call, (void *const *)args, 3, NULL),
                 WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_executor_submit_n(ex, count_call, (void *const *)args, 3, fs),
                 WEFT_ESHUTDOWN);
    CHECK(fs[0] == NULL && fs[1] == NULL && fs[2] == NULL);
    weft_executor_destroy(ex);
    CHECK_EQ_INT(weft_test_counter_get(&calls), 1);
}

WEFT_TEST(executor_submit_n_results_in_order)
{
    enum { N = 500 };
    weft_executor *ex = NULL;
    void *args[N];
    weft_future *fs[N];
    void *r = NULL;
    int i;

    for (i = 0; i < N; i++)
        args[i] = (void *)(intptr_t)i;
    CHECK_OK(weft_executor_create(&ex, 3, NULL));
    CHECK_OK(weft_executor_submit_n(ex, twice, args, N, fs));
    for (i = 0; i < N; i++) {
        CHECK_OK(weft_future_result(fs[i], weft_test_long(), &r));
        CHECK_EQ_INT((intptr_t)r, 2 * i);
        CHECK_STATUS(weft_future_status(fs[i]), WEFT_OK);
        weft_future_release(fs[i]);
    }
    weft_executor_destroy(ex);
}

/* One worker, blocked: the batch is run in its order. */
static weft_lock order_lock = WEFT_LOCK_INIT;
static int order_seen[64];
static int order_count;

static void *note_order(void *arg)
{
    weft_lock_acquire(&order_lock, WEFT_FOREVER);
    order_seen[order_count++] = (int)(intptr_t)arg;
    weft_lock_release(&order_lock);
    return NULL;
}

WEFT_TEST(executor_submit_n_fire_and_forget_in_order)
{
    enum { N = 64 };
    weft_executor *ex = NULL;
    gated g = GATED_INIT;
    void *args[N];
    int i;

    for (i = 0; i < N; i++)
        args[i] = (void *)(intptr_t)i;
    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, NULL, wait_gate, &g));
    weft_test_counter_wait(&g.started, 1);
    CHECK_OK(weft_executor_submit_n(ex, note_order, args, N, NULL));
    weft_event_set(&g.gate);
    weft_executor_destroy(ex);
    CHECK_EQ_INT(order_count, N);
    for (i = 0; i < N; i++)
        CHECK_EQ_INT(order_seen[i], i);
}

WEFT_TEST(executor_submit_n_invalid_arguments)
{
    weft_executor *ex = NULL;
    void *args[2] = {NULL, NULL};
    weft_future *fs[2] = {(weft_future *)&fs, (weft_future *)&fs};

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_STATUS(weft_executor_submit_n(NULL, plus_one, args, 2, fs), WEFT_EINVAL);
    CHECK(fs[0] == NULL && fs[1] == NULL);
    CHECK_STATUS(weft_executor_submit_n(ex, NULL, args, 2, fs), WEFT_EINVAL);
    CHECK(strstr(weft_last_error_message(), "fn") != NULL);
    CHECK_STATUS(weft_executor_submit_n(ex, plus_one, NULL, 2, fs), WEFT_EINVAL);
    CHECK_STATUS(weft_executor_submit_n(ex, plus_one, NULL, 2, NULL), WEFT_EINVAL);
    /* n = 0: nothing to schedule, no worker started */
    CHECK_OK(weft_executor_submit_n(ex, plus_one, NULL, 0, NULL));
    CHECK_OK(weft_executor_submit_n(ex, plus_one, args, 0, fs));
    CHECK_EQ_UINT(threads_now(), 1);
    weft_executor_destroy(ex);
}

/* ---- weft_futures_next (as_completed) ------------------------------------------------------------ */

WEFT_TEST(executor_futures_next_in_finishing_order)
{
    weft_executor *ex = NULL;
    weft_future *fs[4]; /* gate, a, b, c */
    bool taken[4] = {false, false, false, false};
    gated g = GATED_INIT;
    size_t i = 99;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &fs[0], wait_gate, &g));
    weft_test_counter_wait(&g.started, 1);
    CHECK_OK(weft_executor_submit(ex, &fs[1], plus_one, NULL));
    CHECK_OK(weft_executor_submit(ex, &fs[2], plus_one, NULL));
    CHECK_OK(weft_executor_submit(ex, &fs[3], plus_one, NULL));
    CHECK_STATUS(weft_futures_next(fs, 4, taken, 0, &i), WEFT_ETIMEDOUT);
    CHECK_STATUS(weft_futures_next(fs, 4, taken, 0.01, &i), WEFT_ETIMEDOUT);
    CHECK(weft_future_cancel(fs[3])); /* finishes first */
    CHECK(weft_future_cancel(fs[1])); /* second */
    CHECK_OK(weft_futures_next(fs, 4, taken, 0, &i));
    CHECK_EQ_UINT(i, 3);
    CHECK_OK(weft_futures_next(fs, 4, taken, 0, &i));
    CHECK_EQ_UINT(i, 1);
    CHECK(taken[1] && taken[3] && !taken[0] && !taken[2]);
    CHECK_STATUS(weft_futures_next(fs, 4, taken, 0, &i), WEFT_ETIMEDOUT);
    weft_event_set(&g.gate); /* the gate finishes, then fs[2] runs */
    CHECK_OK(weft_futures_next(fs, 4, taken, weft_test_long(), &i));
    CHECK_EQ_UINT(i, 0);
    CHECK_OK(weft_futures_next(fs, 4, taken, weft_test_long(), &i));
    CHECK_EQ_UINT(i, 2);
    CHECK_STATUS(weft_futures_next(fs, 4, taken, WEFT_FOREVER, &i), WEFT_EEMPTY);
    for (i = 0; i < 4; i++)
        weft_future_release(fs[i]);
    weft_executor_destroy(ex);
}

/* Futures that were all done before the first call come in the order they
 * finished, not in the order of the array. */
WEFT_TEST(executor_futures_next_already_done_in_finishing_order)
{
    enum { N = 16 };
    weft_executor *ex = NULL;
    weft_future *fs[N];
    bool taken[N] = {false};
    size_t i, k;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    for (i = N; i-- > 0;) { /* fs[N-1] first: it finishes first */
        CHECK_OK(weft_executor_submit(ex, &fs[i], plus_one, NULL));
        CHECK_OK(weft_future_result(fs[i], weft_test_long(), NULL));
    }
    for (k = 0; k < N; k++) {
        CHECK_OK(weft_futures_next(fs, N, taken, 0, &i));
        CHECK_EQ_UINT(i, N - 1 - k);
    }
    CHECK_STATUS(weft_futures_next(fs, N, taken, 0, &i), WEFT_EEMPTY);
    for (i = 0; i < N; i++)
        weft_future_release(fs[i]);
    weft_executor_destroy(ex);
}

WEFT_TEST(executor_futures_next_invalid_arguments)
{
    weft_executor *ex = NULL;
    weft_future *fs[2] = {NULL, NULL};
    bool taken[2] = {false, false};
    size_t i = 7;

    CHECK_STATUS(weft_futures_next(NULL, 0, NULL, 0, &i), WEFT_EEMPTY);
    CHECK_STATUS(weft_futures_next(fs, 2, taken, 0, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_futures_next(NULL, 2, taken, 0, &i), WEFT_EINVAL);
    CHECK_STATUS(weft_futures_next(fs, 2, NULL, 0, &i), WEFT_EINVAL);
    CHECK_STATUS(weft_futures_next(fs, 2, taken, 0, &i), WEFT_EINVAL); /* NULL elements */
    CHECK(strstr(weft_last_error_message(), "fs[0]") != NULL);
    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &fs[1], plus_one, NULL));
    taken[0] = true; /* a NULL already taken is fine */
    CHECK_STATUS(weft_futures_next(fs, 2, taken, -2.0, &i), WEFT_EINVAL);
    CHECK_STATUS(weft_futures_next(fs, 2, taken, NAN, &i), WEFT_EINVAL);
    CHECK_OK(weft_futures_next(fs, 2, taken, weft_test_long(), &i));
    CHECK_EQ_UINT(i, 1);
    CHECK_STATUS(weft_futures_next(fs, 2, taken, 0, &i), WEFT_EEMPTY);
    weft_future_release(fs[1]);
    weft_executor_destroy(ex);
}

/* ---- weft_task_fail and weft_future_status ----------------------------------------------------- */

static weft_test_counter after_fail = WEFT_TEST_COUNTER_INIT;

/* Two frames down from the task, as real code fails. */
static WEFT_NORETURN void fail_deep(int status)
{
    weft_task_fail(status);
    weft_test_fail(__FILE__, __LINE__, "weft_task_fail(%d) returned in a task", status);
}

static void *fail_with(void *arg)
{
    fail_deep((int)(intptr_t)arg);
}

static void *fail_misused(void *arg)
{
    CHECK_STATUS(weft_task_fail(0), WEFT_EINVAL); /* not a failure: the task goes on */
    CHECK_STATUS(weft_task_fail(3), WEFT_EINVAL);
    weft_test_counter_add(&after_fail, 1);
    return arg;
}

static weft_test_counter callback_fail = WEFT_TEST_COUNTER_INIT;

static void fail_in_callback(weft_future *f, void *arg)
{
    (void)arg;
    CHECK_STATUS(weft_future_status(f), -1234);
    CHECK_STATUS(weft_task_fail(-1), WEFT_EPERM); /* the task has ended */
    weft_test_counter_add(&callback_fail, 1);
}

WEFT_TEST(executor_task_fail_status)
{
    weft_executor *ex = NULL;
    weft_future *failed = NULL, *ok = NULL, *pending = NULL, *cancelled = NULL, *gate = NULL;
    gated g = GATED_INIT;
    void *r = (void *)&r;

    CHECK_STATUS(weft_task_fail(-5), WEFT_EPERM); /* not in a task */
    CHECK(strstr(weft_last_error_message(), "task_fail") != NULL);
    CHECK_STATUS(weft_future_status(NULL), WEFT_EINVAL);

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &gate, wait_gate, &g));
    weft_test_counter_wait(&g.started, 1);
    CHECK_OK(weft_executor_submit(ex, &failed, fail_with, (void *)(intptr_t)-1234));
    CHECK_OK(weft_future_add_done_callback(failed, fail_in_callback, NULL));
    CHECK_OK(weft_executor_submit(ex, &ok, fail_misused, (void *)5));
    CHECK_OK(weft_executor_submit(ex, &pending, plus_one, NULL));
    CHECK_OK(weft_executor_submit(ex, &cancelled, plus_one, NULL));
    CHECK_STATUS(weft_future_status(gate), WEFT_EAGAIN);   /* running */
    CHECK_STATUS(weft_future_status(pending), WEFT_EAGAIN); /* pending */
    CHECK(weft_future_cancel(cancelled));
    CHECK_STATUS(weft_future_status(cancelled), WEFT_ECANCELED);
    weft_event_set(&g.gate);

    CHECK_STATUS(weft_future_result(failed, weft_test_long(), &r), -1234);
    CHECK(r == (void *)&r); /* left as it was */
    CHECK_STATUS(weft_future_status(failed), -1234);
    CHECK(weft_future_done(failed) && !weft_future_cancelled(failed));
    CHECK_OK(weft_future_result(ok, weft_test_long(), &r)); /* the worker went on */
    CHECK_EQ_INT((intptr_t)r, 5);
    CHECK_EQ_INT(weft_test_counter_get(&after_fail), 1);
    CHECK_OK(weft_future_result(pending, weft_test_long(), &r));
    CHECK_STATUS(weft_future_status(pending), WEFT_OK);
    CHECK_EQ_INT(weft_test_counter_get(&callback_fail), 1);
    weft_future_release(gate);
    weft_future_release(failed);
    weft_future_release(ok);
    weft_future_release(pending);
    weft_future_release(cancelled);
    weft_executor_destroy(ex);
}

/* Failures without a future, many in a row on every worker: the workers
 * survive each one and the calls after them run. */
WEFT_TEST(executor_task_fail_fire_and_forget)
{
    enum { N = 1000 };
    weft_executor *ex = NULL;
    weft_test_counter calls = WEFT_TEST_COUNTER_INIT;
    int i;

    CHECK_OK(weft_executor_create(&ex, 2, NULL));
    for (i = 0; i < N; i++) {
        CHECK_OK(weft_executor_submit(ex, NULL, fail_with, (void *)(intptr_t)-1));
        CHECK_OK(weft_executor_submit(ex, NULL, count_call, &calls));
    }
    weft_executor_destroy(ex);
    CHECK_EQ_INT(weft_test_counter_get(&calls), N);
}

/* Fails for a negative argument, else returns it. */
static void *fail_if_negative(void *arg)
{
    if ((intptr_t)arg < 0)
        fail_deep((int)(intptr_t)arg);
    return arg;
}

WEFT_TEST(executor_map_returns_the_task_failure)
{
    enum { N = 8 };
    weft_executor *ex = NULL;
    void *args[N], *results[N];
    int i;

    for (i = 0; i < N; i++)
        args[i] = (void *)(intptr_t)(i == 3 ? -77 : i + 1);
    CHECK_OK(weft_executor_create(&ex, 2, NULL));
    CHECK_STATUS(weft_executor_map(ex, fail_if_negative, args, results, N, weft_test_long()), -77);
    for (i = 0; i < 3; i++)
        CHECK_EQ_INT((intptr_t)results[i], i + 1);
    CHECK(results[3] == NULL);
    weft_executor_destroy(ex);
}

/* ---- The queue under many submitters ------------------------------------------------------------ */

enum { STRESS_SUBMITTERS = 4 };

typedef struct fifo_check {
    weft_executor *ex;
    int id;
    long calls;
    long last_seen[STRESS_SUBMITTERS]; /* per submitter, written by the one worker */
    weft_test_counter *ran;
} fifo_check;

typedef struct fifo_call {
    fifo_check *shared;
    int submitter;
    long seq;
} fifo_call;

static fifo_check fifo_shared;

/* One worker runs every call: each submitter's calls come in its order. */
static void *check_fifo(void *arg)
{
    fifo_call *c = arg;

    CHECK_EQ_INT(c->seq, c->shared->last_seen[c->submitter] + 1);
    c->shared->last_seen[c->submitter] = c->seq;
    weft_test_counter_add(c->shared->ran, 1);
    return NULL;
}

static void *submit_in_every_way(void *arg)
{
    fifo_check *me = arg;
    fifo_call *calls = malloc((size_t)me->calls * sizeof *calls);
    void *batch[40];
    long i = 0;

    CHECK(calls != NULL);
    while (i < me->calls) {
        long k, n;

        for (k = i; k < me->calls && k < i + 40; k++)
            calls[k] = (fifo_call){&fifo_shared, me->id, k};
        n = k - i;
        switch (i % 3) {
        case 0: /* fire-and-forget, one by one */
            for (k = i; k < i + n; k++)
                CHECK_OK(weft_executor_submit(me->ex, NULL, check_fifo, &calls[k]));
            break;
        case 1: { /* futures released at once */
            weft_future *f;
            for (k = i; k < i + n; k++) {
                CHECK_OK(weft_executor_submit(me->ex, &f, check_fifo, &calls[k]));
                weft_future_release(f);
            }
            break;
        }
        default: /* a batch crossing the queue's blocks */
            for (k = 0; k < n; k++)
                batch[k] = &calls[i + k];
            CHECK_OK(weft_executor_submit_n(me->ex, check_fifo, batch, (size_t)n, NULL));
        }
        i += n;
    }
    weft_test_counter_wait(fifo_shared.ran, (long)STRESS_SUBMITTERS * me->calls);
    free(calls);
    return NULL;
}

WEFT_TEST(executor_many_submitters_keep_each_ones_order)
{
    weft_test_counter ran = WEFT_TEST_COUNTER_INIT;
    fifo_check each[STRESS_SUBMITTERS];
    weft_thread *threads[STRESS_SUBMITTERS];
    weft_executor *ex = NULL;
    long calls = weft_test_iterations(20000);
    int i;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    fifo_shared.ran = &ran;
    for (i = 0; i < STRESS_SUBMITTERS; i++) {
        fifo_shared.last_seen[i] = -1;
        each[i] = (fifo_check){ex, i, calls, {0}, &ran};
        threads[i] = weft_test_start(submit_in_every_way, &each[i]);
    }
    for (i = 0; i < STRESS_SUBMITTERS; i++)
        weft_test_join(threads[i]);
    weft_executor_destroy(ex);
    CHECK_EQ_INT(weft_test_counter_get(&ran), STRESS_SUBMITTERS * calls);
}

/* Many workers take while many submitters put, and shutdown comes while
 * they do: every call accepted runs exactly once, none after the
 * shutdown returned. */
static weft_test_counter stress_runs = WEFT_TEST_COUNTER_INIT;
static weft_test_counter stress_accepted = WEFT_TEST_COUNTER_INIT;

static void *count_stress(void *arg)
{
    (void)arg;
    weft_test_counter_add(&stress_runs, 1);
    return NULL;
}

static void *submit_until_shutdown(void *arg)
{
    weft_executor *ex = arg;
    void *batch[7] = {NULL};
    long i;

    for (i = 0;; i++) {
        int rc = i % 5 == 4 ? weft_executor_submit_n(ex, count_stress, batch, 7, NULL)
                            : weft_executor_submit(ex, NULL, count_stress, NULL);
        if (rc == WEFT_ESHUTDOWN)
            return NULL;
        CHECK_OK(rc);
        weft_test_counter_add(&stress_accepted, i % 5 == 4 ? 7 : 1);
    }
}

WEFT_TEST(executor_shutdown_while_submitters_put)
{
    weft_thread *threads[STRESS_SUBMITTERS];
    weft_executor *ex = NULL;
    long after;
    int i;

    CHECK_OK(weft_executor_create(&ex, 3, NULL));
    for (i = 0; i < STRESS_SUBMITTERS; i++)
        threads[i] = weft_test_start(submit_until_shutdown, ex);
    weft_test_counter_wait(&stress_runs, weft_test_iterations(20000));
    weft_executor_shutdown(ex, true, false);
    after = weft_test_counter_get(&stress_runs);
    for (i = 0; i < STRESS_SUBMITTERS; i++)
        weft_test_join(threads[i]);
    CHECK_EQ_INT(after, weft_test_counter_get(&stress_accepted));
    CHECK_EQ_INT(weft_test_counter_get(&stress_runs), after);
    weft_executor_destroy(ex);
}

/* A call that waits for the one submitted right after it, which must run
 * on the other, idle, worker however quickly it follows: Python's idle
 * worker takes any call that waits. Each pair is submitted just as the
 * workers of the last one run out of work, when one of them spins for the
 * next put; it used to take the first call and leave the second waiting
 * behind it (the submits skipped the wake-up because a worker spun). */
typedef struct call_pair {
    weft_event second_ran;
} call_pair;

static void *wait_for_second(void *arg)
{
    call_pair *p = arg;

    return (void *)(intptr_t)weft_event_wait(&p->second_ran, weft_test_long());
}

static void *set_second_ran(void *arg)
{
    call_pair *p = arg;

    weft_event_set(&p->second_ran);
    return NULL;
}

WEFT_TEST(executor_call_behind_a_blocked_one_runs_on_an_idle_worker)
{
    weft_executor *ex = NULL;
    long i, n = weft_test_iterations(3000);

    CHECK_OK(weft_executor_create(&ex, 2, NULL));
    for (i = 0; i < n; i++) {
        call_pair p = {WEFT_EVENT_INIT};
        weft_future *first, *second;
        void *r = NULL;

        CHECK_OK(weft_executor_submit(ex, &first, wait_for_second, &p));
        CHECK_OK(weft_executor_submit(ex, &second, set_second_ran, &p));
        CHECK_OK(weft_future_result(first, weft_test_long(), &r));
        CHECK_EQ_INT((intptr_t)r, WEFT_OK); /* not timed out waiting for the second */
        CHECK_OK(weft_future_result(second, weft_test_long(), NULL));
        weft_future_release(first);
        weft_future_release(second);
    }
    weft_executor_destroy(ex);
}

/* Calls that all wait for each other need every worker: a burst of them,
 * one submit each, wakes the idle workers one after another (each one
 * woken that finds more calls waiting wakes the next). */
static void *wait_all_parties(void *arg)
{
    return (void *)(intptr_t)weft_barrier_wait(arg, weft_test_long());
}

enum { BURST_MAX = 16 };

/* Submit `parties` calls that wait for each other to ex, one submit each,
 * and check that every one met the others. */
static void burst_of_waiting_calls(weft_executor *ex, int parties)
{
    weft_barrier all;
    weft_future *fs[BURST_MAX];
    int i;

    weft_barrier_init(&all, (uint32_t)parties);
    for (i = 0; i < parties; i++)
        CHECK_OK(weft_executor_submit(ex, &fs[i], wait_all_parties, &all));
    for (i = 0; i < parties; i++) {
        void *r = NULL;
        CHECK_OK(weft_future_result(fs[i], weft_test_long(), &r));
        CHECK((intptr_t)r >= 0); /* every call met the others at the barrier */
        weft_future_release(fs[i]);
    }
}

WEFT_TEST(executor_burst_of_waiting_calls_wakes_every_worker)
{
    weft_executor *ex = NULL;
    long round, rounds = weft_test_iterations(300);

    CHECK_OK(weft_executor_create(&ex, 6, NULL));
    for (round = 0; round < rounds; round++)
        burst_of_waiting_calls(ex, 6);
    weft_executor_destroy(ex);
}

/* The same burst into a new executor each time, so that every burst
 * meets workers still starting. Submits that counted on one idle worker
 * (it was about to take an earlier call), or on one searcher, left the
 * last call with no worker to take it until a call ended: here never, as
 * the calls wait for each other (under ThreadSanitizer, which slows the
 * workers' start, 8 of 40 runs failed before the fix). */
WEFT_TEST(executor_burst_into_new_executor_starts_a_worker_per_waiting_call)
{
    long round, rounds = weft_test_iterations(200);

    for (round = 0; round < rounds; round++) {
        weft_executor *ex = NULL;
        CHECK_OK(weft_executor_create(&ex, BURST_MAX, NULL));
        burst_of_waiting_calls(ex, BURST_MAX);
        weft_executor_destroy(ex);
    }
}

/* Bursts of calls through more workers than CPUs, each burst submitted
 * as the last one's calls end (workers searching, parking, being woken):
 * no call is left in the queue while every worker sleeps. */
static weft_test_counter burst_ran = WEFT_TEST_COUNTER_INIT;

static void *count_burst(void *arg)
{
    (void)arg;
    weft_test_counter_add(&burst_ran, 1);
    return NULL;
}

WEFT_TEST(executor_bursts_leave_no_call_behind)
{
    weft_executor *ex = NULL;
    long round, rounds = weft_test_iterations(2000), done = 0;
    int i;

    CHECK_OK(weft_executor_create(&ex, 8, NULL));
    for (round = 0; round < rounds; round++) {
        int n = 1 + (int)(round % 40);
        for (i = 0; i < n; i++) {
            weft_future *f;
            if (i % 2) {
                CHECK_OK(weft_executor_submit(ex, NULL, count_burst, NULL));
            } else {
                CHECK_OK(weft_executor_submit(ex, &f, count_burst, NULL));
                weft_future_release(f);
            }
        }
        done += n;
        weft_test_counter_wait(&burst_ran, done);
    }
    weft_executor_destroy(ex);
}

/* Round trips (submit one call, wait for it) from two threads through two
 * workers: the workers park and are woken all the time, in every order,
 * and no call is left waiting while both sleep. A wake-up aimed at a
 * worker that had just left the idle count used to leave its token to
 * nobody, and every later submit saw a wake-up "under way" and woke no one
 * (the fork test below caught it first). */
static void *round_trips(void *arg)
{
    weft_executor *ex = arg;
    long i, n = weft_test_iterations(20000);

    for (i = 0; i < n; i++) {
        weft_future *f = NULL;
        void *r = NULL;

        CHECK_OK(weft_executor_submit(ex, &f, plus_one, (void *)(intptr_t)i));
        CHECK_OK(weft_future_result(f, weft_test_long(), &r));
        CHECK_EQ_INT((intptr_t)r, i + 1);
        weft_future_release(f);
    }
    return NULL;
}

WEFT_TEST(executor_round_trips_never_stall)
{
    weft_executor *ex = NULL;
    weft_thread *t[2];
    int i;

    CHECK_OK(weft_executor_create(&ex, 2, NULL));
    for (i = 0; i < 2; i++)
        t[i] = weft_test_start(round_trips, ex);
    for (i = 0; i < 2; i++)
        weft_test_join(t[i]);
    weft_executor_destroy(ex);
}

#ifdef __linux__
/* Returns the CPU it ran on, plus one. */
static void *cpu_of_call(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)(sched_getcpu() + 1);
}

/* A submitter pinned to one CPU (not the main thread: the process keeps
 * its CPUs, so spinning still pays as far as weft can tell) whose
 * executor's workers inherit its mask: every round trip is between two
 * threads on one CPU, where neither side spins for the other (each learns
 * the other's CPU from the last call: weft__spin_partner_cpu) and both
 * park at once. Round trips, a batch and fire-and-forget calls all
 * complete, and every call ran on that CPU. */
static void *one_cpu_round_trips(void *arg)
{
    int cpu = *(int *)arg;
    cpu_set_t one;
    weft_executor *ex = NULL;
    weft_future *fs[8];
    void *args[8] = {0};
    void *r = NULL;
    long i, n = weft_test_iterations(5000);

    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    CHECK_EQ_INT(sched_setaffinity(0, sizeof one, &one), 0);
    CHECK_OK(weft_executor_create(&ex, 2, NULL));
    for (i = 0; i < n; i++) {
        weft_future *f = NULL;

        CHECK_OK(weft_executor_submit(ex, &f, cpu_of_call, NULL));
        CHECK_OK(weft_future_result(f, weft_test_long(), &r));
        CHECK_EQ_INT((intptr_t)r, cpu + 1);
        weft_future_release(f);
        if (i % 64 == 0)
            CHECK_OK(weft_executor_submit(ex, NULL, cpu_of_call, NULL));
    }
    CHECK_OK(weft_executor_submit_n(ex, cpu_of_call, args, 8, fs));
    for (i = 0; i < 8; i++) {
        CHECK_OK(weft_future_result(fs[i], weft_test_long(), &r));
        CHECK_EQ_INT((intptr_t)r, cpu + 1);
        weft_future_release(fs[i]);
    }
    weft_executor_destroy(ex);
    return NULL;
}
#endif

WEFT_TEST(executor_round_trips_on_one_cpu)
{
#ifdef __linux__
    cpu_set_t mask;
    int cpu;

    CHECK_EQ_INT(sched_getaffinity(0, sizeof mask, &mask), 0);
    if (CPU_COUNT(&mask) < 2)
        weft_test_skip("the process runs on one CPU: there is nothing to share");
    for (cpu = 0; !CPU_ISSET(cpu, &mask); cpu++)
        ;
    weft_test_join(weft_test_start(one_cpu_round_trips, &cpu));
#else
    weft_test_skip("pins a thread to one CPU through Linux's sched_setaffinity");
#endif
}

/* Futures live in the executor's queue blocks: many of them, spanning
 * several blocks, outlive the executor and are released in an order of
 * their own; nothing leaks or is used after it is freed (ASan). */
WEFT_TEST(executor_futures_outlive_their_blocks_and_executor)
{
    enum { N = 200 };
    weft_executor *ex = NULL;
    weft_future *fs[N];
    void *r = NULL;
    int i;

    CHECK_OK(weft_executor_create(&ex, 2, NULL));
    for (i = 0; i < N; i++)
        CHECK_OK(weft_executor_submit(ex, &fs[i], plus_one, (void *)(intptr_t)i));
    for (i = 0; i < N; i += 2) /* every other one now, the rest after */
        weft_future_release(fs[i]);
    weft_executor_destroy(ex);
    for (i = N - 1; i > 0; i -= 2) {
        CHECK_OK(weft_future_result(fs[i], 0, &r));
        CHECK_EQ_INT((intptr_t)r, i + 1);
        weft_future_release(fs[i]);
    }
}

static weft_future *late_futures[310];

/* Releases every other one of late_futures, from arg (0 or 1) on. */
static void *release_every_other(void *arg)
{
    size_t i;

    for (i = (size_t)(uintptr_t)arg; i < 310; i += 2)
        weft_future_release(late_futures[i]);
    return NULL;
}

/* Futures of ten blocks released after their executor's destroy, by two
 * threads at once: each block goes back to the ended executor's cache or
 * to the allocator, and the last one frees what is left of the executor;
 * nothing leaks or is used after it is freed (ASan, TSan). */
WEFT_TEST(executor_futures_released_by_threads_after_destroy)
{
    weft_executor *ex = NULL;
    weft_thread *t[2];
    void *r = NULL;
    int i;

    CHECK_OK(weft_executor_create(&ex, 2, NULL));
    for (i = 0; i < 310; i++)
        CHECK_OK(weft_executor_submit(ex, &late_futures[i], plus_one, (void *)(intptr_t)i));
    weft_executor_destroy(ex);
    for (i = 0; i < 310; i++) {
        CHECK_OK(weft_future_result(late_futures[i], 0, &r));
        CHECK_EQ_INT((intptr_t)r, i + 1);
    }
    for (i = 0; i < 2; i++)
        CHECK_OK(weft_thread_start(&t[i], release_every_other, (void *)(uintptr_t)i, NULL));
    for (i = 0; i < 2; i++) {
        CHECK_OK(weft_thread_join(t[i], WEFT_FOREVER, NULL));
        weft_thread_release(t[i]);
    }
}
