/* SPDX-License-Identifier: MIT */
/* weft_thread: threading.Thread, the basics. */
#include "runner.h"

#include <math.h>
#include <stdio.h>

static void *add_one(void *arg)
{
    return (void *)((intptr_t)arg + 1);
}

WEFT_TEST(thread_start_join_result)
{
    weft_thread *thread = NULL;
    void *result = NULL;

    CHECK_OK(weft_thread_start(&thread, add_one, (void *)(intptr_t)41, NULL));
    CHECK(thread != NULL);
    CHECK_OK(weft_thread_join(thread, WEFT_FOREVER, &result));
    CHECK_EQ_INT((intptr_t)result, 42);
    CHECK(!weft_thread_is_alive(thread));
    weft_thread_release(thread);
}

WEFT_TEST(thread_join_null_result_and_twice)
{
    weft_thread *thread = weft_test_start(add_one, (void *)(intptr_t)1);
    void *result = NULL;

    CHECK_OK(weft_thread_join(thread, WEFT_FOREVER, NULL));
    CHECK_OK(weft_thread_join(thread, WEFT_FOREVER, &result)); /* again: fine */
    CHECK_EQ_INT((intptr_t)result, 2);
    result = NULL;
    CHECK_OK(weft_thread_join(thread, 0, &result)); /* ended: no wait needed */
    CHECK_EQ_INT((intptr_t)result, 2);
    weft_thread_release(thread);
}

typedef struct gate {
    weft_event go;
    weft_event started;
    weft_event finished;
    weft_thread *handle;  /* set by main before `go` */
    weft_thread *current; /* weft_thread_current() in the thread */
    uint64_t ident, native_id, current_native_id;
    bool stop_before, stop_after;
    int sleep_status;
    double sleep_elapsed;
    int join_self;
    const char *name;
} gate;

static void *wait_for_go(void *arg)
{
    gate *g = arg;

    g->current = weft_thread_current();
    g->ident = weft_thread_ident(g->current);
    g->current_native_id = weft_thread_native_id(g->current);
    weft_event_set(&g->started);
    weft_test_wait_event(&g->go);
    weft_event_set(&g->finished);
    return (void *)(intptr_t)7;
}

/* Clear the gate and start fn(g). */
static weft_thread *start_gated(gate *g, weft_thread_fn fn)
{
    memset(g, 0, sizeof *g);
    return weft_test_start(fn, g);
}

/* start_gated(), then wait until the thread has set g->started. */
static weft_thread *start_gated_running(gate *g, weft_thread_fn fn)
{
    weft_thread *thread = start_gated(g, fn);

    weft_test_wait_event(&g->started);
    return thread;
}

WEFT_TEST(thread_join_timeout_while_running)
{
    gate g;
    weft_thread *thread;
    void *result = NULL;
    double t0;

    thread = start_gated_running(&g, wait_for_go);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_thread_join(thread, 0.2, &result), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.2);
    CHECK_STATUS(weft_thread_join(thread, 0, &result), WEFT_ETIMEDOUT);
    CHECK_EQ_PTR(result, NULL); /* no result while alive */
    CHECK(weft_thread_is_alive(thread));
    weft_event_set(&g.go);
    CHECK_OK(weft_thread_join(thread, weft_test_long(), &result));
    CHECK_EQ_INT((intptr_t)result, 7);
    CHECK(!weft_thread_is_alive(thread));
    weft_thread_release(thread);
}

WEFT_TEST(thread_is_alive)
{
    gate g;
    weft_thread *thread;

    thread = start_gated(&g, wait_for_go);
    CHECK(weft_thread_is_alive(thread)); /* from start on, even before it runs */
    weft_test_wait_event(&g.started);
    CHECK(weft_thread_is_alive(thread));
    weft_event_set(&g.go);
    CHECK_OK(weft_thread_join(thread, weft_test_long(), NULL));
    CHECK(!weft_thread_is_alive(thread));
    weft_thread_release(thread);
    CHECK(!weft_thread_is_alive(NULL));
}

static void *join_self(void *arg)
{
    gate *g = arg;
    double t0;

    weft_test_wait_event(&g->go); /* g->handle is set now */
    CHECK_EQ_PTR(weft_thread_current(), g->handle);
    t0 = weft_monotonic();
    g->join_self = weft_thread_join(weft_thread_current(), WEFT_FOREVER, NULL);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack()); /* refused, not waited */
    CHECK_STATUS(weft_thread_join(g->handle, 0, NULL), WEFT_EPERM);
    return NULL;
}

WEFT_TEST(thread_join_self_eperm)
{
    gate g;

    memset(&g, 0, sizeof g);
    g.join_self = 99;
    g.handle = weft_test_start(join_self, &g);
    weft_event_set(&g.go);
    weft_test_join(g.handle);
    CHECK_STATUS(g.join_self, WEFT_EPERM);
}

/* Joining oneself is WEFT_EPERM in the main thread too, although its record
 * (not started by weft) cannot be joined by another thread. */
WEFT_TEST(thread_join_main_from_main_eperm)
{
    CHECK_STATUS(weft_thread_join(weft_thread_main(), WEFT_FOREVER, NULL), WEFT_EPERM);
    CHECK_STATUS(weft_thread_join(weft_thread_current(), 0, NULL), WEFT_EPERM);
}

WEFT_TEST(thread_current_is_the_handle)
{
    gate g;
    weft_thread *thread;

    thread = start_gated_running(&g, wait_for_go);
    CHECK_EQ_PTR(g.current, thread);
    CHECK_EQ_UINT(g.ident, weft_thread_ident(thread));
    CHECK(weft_thread_current() != thread);
    weft_event_set(&g.go);
    weft_test_join(thread);
}

static void *join_target(void *arg)
{
    return (void *)(intptr_t)weft_thread_join(arg, 0, NULL);
}

WEFT_TEST(thread_main_thread_record)
{
    weft_thread *main_thread = weft_thread_current();

    CHECK(main_thread != NULL);
    CHECK_EQ_PTR(weft_thread_current(), main_thread); /* the same record each time */
    CHECK_EQ_STR(weft_thread_name(main_thread), "MainThread");
    CHECK(weft_thread_is_alive(main_thread));
    CHECK(!weft_thread_is_daemon(main_thread));
    CHECK_NE_UINT(weft_thread_ident(main_thread), 0);
    CHECK_NE_UINT(weft_thread_native_id(main_thread), 0);
    /* Not started by weft: another thread cannot join it. */
    CHECK_EQ_INT((intptr_t)weft_test_join(weft_test_start(join_target, main_thread)),
                 WEFT_EINVAL);
    /* A borrowed record: releasing it does nothing. */
    weft_thread_release(main_thread);
    CHECK_EQ_PTR(weft_thread_current(), main_thread);
    CHECK_EQ_STR(weft_thread_name(main_thread), "MainThread");
}

static void *report_main_name(void *arg)
{
    (void)arg;
    /* Started threads are not "MainThread", even when the main thread has
     * not asked for its record yet. */
    CHECK(strcmp(weft_thread_name(weft_thread_current()), "MainThread") != 0);
    return NULL;
}

WEFT_TEST(thread_main_named_even_if_asked_late)
{
    weft_test_join(weft_test_start(report_main_name, NULL));
    CHECK_EQ_STR(weft_thread_name(weft_thread_current()), "MainThread");
}

enum { MANY = 8 };

typedef struct crowd {
    gate gates[MANY];
    weft_thread *threads[MANY];
} crowd;

static void start_crowd(crowd *c)
{
    int i;

    memset(c, 0, sizeof *c);
    for (i = 0; i < MANY; i++)
        c->threads[i] = weft_test_start(wait_for_go, &c->gates[i]);
    for (i = 0; i < MANY; i++)
        weft_test_wait_event(&c->gates[i].started);
}

static void finish_crowd(crowd *c)
{
    int i;

    for (i = 0; i < MANY; i++)
        weft_event_set(&c->gates[i].go);
    for (i = 0; i < MANY; i++)
        weft_test_join(c->threads[i]);
}

WEFT_TEST(thread_idents_unique_nonzero)
{
    crowd c;
    uint64_t main_ident = weft_thread_ident(weft_thread_current());
    int i, j;

    CHECK_NE_UINT(main_ident, 0);
    start_crowd(&c);
    for (i = 0; i < MANY; i++) {
        uint64_t ident = weft_thread_ident(c.threads[i]);
        CHECK_NE_UINT(ident, 0);
        CHECK_EQ_UINT(ident, c.gates[i].ident); /* same seen from inside */
        CHECK_NE_UINT(ident, main_ident);
        for (j = 0; j < i; j++)
            CHECK_NE_UINT(ident, weft_thread_ident(c.threads[j]));
    }
    finish_crowd(&c);
    CHECK_EQ_UINT(weft_thread_ident(NULL), 0);
}

static void *report_ident(void *arg)
{
    (void)arg;
    return (void *)(uintptr_t)weft_thread_ident(weft_thread_current());
}

WEFT_TEST(thread_idents_never_reused)
{
    enum { N = 50 };
    uint64_t seen[N];
    int i, j;

    /* One after the other: the OS may reuse its thread ids; weft may not. */
    for (i = 0; i < N; i++) {
        weft_thread *thread = weft_test_start(report_ident, NULL);
        uint64_t ident = weft_thread_ident(thread);
        CHECK_EQ_UINT((uint64_t)(uintptr_t)weft_test_join(thread), (uint64_t)(uintptr_t)ident);
        for (j = 0; j < i; j++)
            CHECK_NE_UINT(ident, seen[j]);
        seen[i] = ident;
    }
}

WEFT_TEST(thread_ident_valid_after_end)
{
    weft_thread *thread = weft_test_start(add_one, NULL);
    uint64_t ident = weft_thread_ident(thread);

    CHECK_OK(weft_thread_join(thread, weft_test_long(), NULL));
    CHECK_EQ_UINT(weft_thread_ident(thread), ident); /* while the handle is held */
    weft_thread_release(thread);
}

WEFT_TEST(thread_native_ids_distinct)
{
    crowd c;
    uint64_t main_native = weft_thread_native_id(weft_thread_current());
    int i, j;

    CHECK_NE_UINT(main_native, 0);
    start_crowd(&c); /* all alive at once, so the OS cannot reuse an id */
    for (i = 0; i < MANY; i++) {
        uint64_t native = weft_thread_native_id(c.threads[i]);
        CHECK_NE_UINT(native, 0);
        CHECK_EQ_UINT(native, c.gates[i].current_native_id);
        CHECK_NE_UINT(native, main_native);
        for (j = 0; j < i; j++)
            CHECK_NE_UINT(native, weft_thread_native_id(c.threads[j]));
    }
    finish_crowd(&c);
    CHECK_EQ_UINT(weft_thread_native_id(NULL), 0);
}

WEFT_TEST(thread_native_id_right_after_start)
{
    /* "Blocks only until a newly started thread has begun to run." */
    gate g;
    weft_thread *thread;
    uint64_t native;

    thread = start_gated(&g, wait_for_go);
    native = weft_thread_native_id(thread);
    CHECK_NE_UINT(native, 0);
    weft_test_wait_event(&g.started);
    CHECK_EQ_UINT(native, g.current_native_id);
    weft_event_set(&g.go);
    weft_test_join(thread);
}

static void *signal_finished(void *arg)
{
    gate *g = arg;

    weft_test_wait_event(&g->go);
    /* The handle is gone; the thread still has its record. */
    CHECK(weft_thread_current() != NULL);
    CHECK(weft_thread_is_alive(weft_thread_current()));
    CHECK_NE_UINT(weft_thread_ident(weft_thread_current()), 0);
    weft_event_set(&g->finished);
    return NULL;
}

WEFT_TEST(thread_release_running_thread)
{
    gate g;
    weft_thread *thread;

    thread = start_gated(&g, signal_finished);
    weft_thread_release(thread); /* it runs on */
    weft_event_set(&g.go);
    weft_test_wait_event(&g.finished);
    /* Leaks, if any, are for the sanitizer builds to find at exit. */
}

WEFT_TEST(thread_release_ended_unjoined_thread)
{
    gate g;
    weft_thread *thread;

    thread = start_gated(&g, wait_for_go);
    weft_event_set(&g.go);
    weft_test_wait_event(&g.finished);
    {
        double deadline = weft_monotonic() + weft_test_long();
        while (weft_thread_is_alive(thread)) { /* ends right after `finished` */
            CHECK_LT_DBL(weft_monotonic(), deadline);
            CHECK_OK(weft_sleep(0.001));
        }
    }
    weft_thread_release(thread);
}

WEFT_TEST(thread_default_names)
{
    weft_thread *a, *b, *c;

    /* A fresh process: unnamed threads count from 1; named ones do not count. */
    a = weft_test_start(add_one, NULL);
    b = weft_test_start_named(add_one, NULL, "worker");
    c = weft_test_start(add_one, NULL);
    CHECK_EQ_STR(weft_thread_name(a), "Thread-1");
    CHECK_EQ_STR(weft_thread_name(b), "worker");
    CHECK_EQ_STR(weft_thread_name(c), "Thread-2");
    CHECK_OK(weft_thread_join(a, weft_test_long(), NULL));
    CHECK_EQ_STR(weft_thread_name(a), "Thread-1"); /* still there after the end */
    weft_test_join(a);
    weft_test_join(b);
    weft_test_join(c);
    CHECK(weft_thread_name(NULL) == NULL);
}

static void *report_name(void *arg)
{
    (void)arg;
    return (void *)weft_thread_name(weft_thread_current());
}

WEFT_TEST(thread_given_name)
{
    char name[32];
    weft_thread *thread;
    void *inside = NULL;

    snprintf(name, sizeof name, "%s", "worker-7");
    thread = weft_test_start_named(report_name, NULL, name);
    name[0] = 'X'; /* weft copied it */
    CHECK_EQ_STR(weft_thread_name(thread), "worker-7");
    CHECK_OK(weft_thread_join(thread, weft_test_long(), &inside));
    CHECK_EQ_STR((const char *)inside, "worker-7");
    weft_thread_release(thread);
}

WEFT_TEST(thread_long_and_utf8_names_kept)
{
    /* The OS-visible name may be truncated; weft's own name is not. */
    static const char *names[] = {
        "a-thread-name-much-longer-than-fifteen-bytes-and-then-some",
        "\xc3\xa9t\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\xa7\xb5-thread-name",
    };
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        weft_thread *thread = weft_test_start_named(report_name, NULL, names[i]);
        void *inside = NULL;
        CHECK_OK(weft_thread_join(thread, weft_test_long(), &inside));
        CHECK_EQ_STR(weft_thread_name(thread), names[i]);
        CHECK_EQ_STR((const char *)inside, names[i]);
        weft_thread_release(thread);
    }
}

WEFT_TEST(thread_daemon_flag)
{
    weft_thread_opts opts = {0};
    weft_thread *daemon, *normal;

    opts.daemon = true;
    CHECK_OK(weft_thread_start(&daemon, add_one, NULL, &opts));
    CHECK_OK(weft_thread_start(&normal, add_one, NULL, NULL));
    CHECK(weft_thread_is_daemon(daemon));
    CHECK(!weft_thread_is_daemon(normal));
    CHECK(!weft_thread_is_daemon(NULL));
    weft_test_join(daemon);
    weft_test_join(normal);
}

static int recurse(int depth)
{
    volatile char pad[1024];

    pad[0] = (char)depth;
    pad[sizeof pad - 1] = pad[0];
    return depth == 0 ? pad[sizeof pad - 1] : recurse(depth - 1) + 1;
}

static void *use_stack(void *arg)
{
    return (void *)(intptr_t)recurse((int)(intptr_t)arg);
}

WEFT_TEST(thread_stack_size)
{
    weft_thread_opts opts = {0};
    weft_thread *thread;
    void *result;

    /* 1 MiB, and an odd size that weft rounds up to a page. */
    opts.stack_size = 1024 * 1024;
    CHECK_OK(weft_thread_start(&thread, use_stack, (void *)(intptr_t)200, &opts));
    CHECK_OK(weft_thread_join(thread, weft_test_long(), &result));
    CHECK_EQ_INT((intptr_t)result, 200);
    weft_thread_release(thread);
    opts.stack_size = 512 * 1024 + 123;
    CHECK_OK(weft_thread_start(&thread, use_stack, (void *)(intptr_t)100, &opts));
    CHECK_OK(weft_thread_join(thread, weft_test_long(), &result));
    CHECK_EQ_INT((intptr_t)result, 100);
    weft_thread_release(thread);
}

WEFT_TEST(thread_start_einval)
{
    static char not_a_thread;
    weft_thread *thread = (weft_thread *)&not_a_thread; /* must be reset to NULL */

    CHECK_STATUS(weft_thread_start(NULL, add_one, NULL, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_thread_start(&thread, NULL, NULL, NULL), WEFT_EINVAL);
    CHECK(thread == NULL);
}

WEFT_TEST(thread_join_einval)
{
    weft_thread *thread = weft_test_start(add_one, NULL);

    CHECK_STATUS(weft_thread_join(NULL, 0, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_thread_join(NULL, WEFT_FOREVER, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_thread_join(thread, -2.0, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_thread_join(thread, NAN, NULL), WEFT_EINVAL);
    weft_test_join(thread);
    weft_thread_release(NULL); /* does nothing */
}

typedef struct joiners {
    weft_thread *target;
    gate g;
} joiners;

static void *join_other(void *arg)
{
    joiners *j = arg;
    void *result = NULL;

    CHECK_OK(weft_thread_join(j->target, weft_test_long(), &result));
    return result;
}

WEFT_TEST(thread_joined_from_several_threads)
{
    joiners j;
    weft_thread *a, *b;

    memset(&j, 0, sizeof j);
    j.target = weft_test_start(wait_for_go, &j.g);
    a = weft_test_start(join_other, &j);
    b = weft_test_start(join_other, &j);
    CHECK_STATUS(weft_thread_join(a, 0.05, NULL), WEFT_ETIMEDOUT);
    weft_event_set(&j.g.go);
    CHECK_EQ_INT((intptr_t)weft_test_join(a), 7);
    CHECK_EQ_INT((intptr_t)weft_test_join(b), 7);
    CHECK_OK(weft_thread_join(j.target, 0, NULL));
    weft_thread_release(j.target);
}

/* ---- Stop requests ------------------------------------------------------------- */

static void *sleep_until_stopped(void *arg)
{
    gate *g = arg;
    double t0;

    g->stop_before = weft_stop_requested();
    weft_event_set(&g->started);
    t0 = weft_monotonic();
    g->sleep_status = weft_sleep(weft_test_long());
    g->sleep_elapsed = weft_monotonic() - t0;
    g->stop_after = weft_stop_requested();
    return NULL;
}

/* Start fn(g), which sets g->started and sleeps: check it is still asleep
 * a while later, then ask it to stop. */
static weft_thread *start_sleeper_and_stop(gate *g, weft_thread_fn fn)
{
    weft_thread *thread = start_gated_running(g, fn);

    CHECK_STATUS(weft_thread_join(thread, 0.1, NULL), WEFT_ETIMEDOUT); /* sleeping */
    CHECK_OK(weft_thread_request_stop(thread));
    return thread;
}

WEFT_TEST(thread_request_stop_interrupts_sleep)
{
    gate g;
    weft_thread *thread;

    thread = start_sleeper_and_stop(&g, sleep_until_stopped);
    CHECK_OK(weft_thread_join(thread, weft_test_long(), NULL));
    CHECK(!g.stop_before);
    CHECK(g.stop_after);
    CHECK_STATUS(g.sleep_status, WEFT_ECANCELED);
    CHECK_LT_DBL(g.sleep_elapsed, weft_test_long() / 2); /* early */
    CHECK(!weft_stop_requested()); /* main was not asked */
    CHECK_OK(weft_thread_request_stop(thread)); /* ended: still fine */
    weft_thread_release(thread);
}

static void *sleep_forever_until_stopped(void *arg)
{
    gate *g = arg;

    weft_event_set(&g->started);
    g->sleep_status = weft_sleep(WEFT_FOREVER);
    return NULL;
}

WEFT_TEST(thread_request_stop_interrupts_sleep_forever)
{
    gate g;
    weft_thread *thread;

    thread = start_sleeper_and_stop(&g, sleep_forever_until_stopped);
    weft_test_join(thread);
    CHECK_STATUS(g.sleep_status, WEFT_ECANCELED);
}

static void *stop_then_sleep(void *arg)
{
    gate *g = arg;
    double t0;

    weft_test_wait_event(&g->go); /* the stop was requested before this */
    g->stop_before = weft_stop_requested();
    t0 = weft_monotonic();
    g->sleep_status = weft_sleep(weft_test_long());
    g->sleep_elapsed = weft_monotonic() - t0;
    /* It stays requested: every later sleep returns at once too. */
    CHECK_STATUS(weft_sleep(weft_test_long()), WEFT_ECANCELED);
    CHECK_STATUS(weft_sleep(0), WEFT_ECANCELED);
    return NULL;
}

WEFT_TEST(thread_stop_requested_before_sleep)
{
    gate g;
    weft_thread *thread;

    thread = start_gated(&g, stop_then_sleep);
    CHECK_OK(weft_thread_request_stop(thread));
    weft_event_set(&g.go);
    weft_test_join(thread);
    CHECK(g.stop_before);
    CHECK_STATUS(g.sleep_status, WEFT_ECANCELED);
    CHECK_LT_DBL(g.sleep_elapsed, weft_test_slack());
}

static void *report_stop_requested(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)weft_stop_requested();
}

WEFT_TEST(thread_stop_is_per_thread)
{
    gate g;
    weft_thread *stopped, *other;

    stopped = start_gated(&g, stop_then_sleep);
    CHECK_OK(weft_thread_request_stop(stopped));
    other = weft_test_start(report_stop_requested, NULL);
    CHECK_EQ_INT((intptr_t)weft_test_join(other), 0);
    CHECK(!weft_stop_requested());
    weft_event_set(&g.go);
    weft_test_join(stopped);
    CHECK(g.stop_before);
    CHECK_STATUS(weft_thread_request_stop(NULL), WEFT_EINVAL);
}

/* ---- Many ---------------------------------------------------------------------- */

WEFT_TEST(thread_many_short_threads)
{
    enum { BATCH = 16 };
    weft_thread *threads[BATCH];
    long rounds = weft_test_iterations(20), r;
    int i;

    for (r = 0; r < rounds; r++) {
        for (i = 0; i < BATCH; i++)
            threads[i] = weft_test_start(add_one, (void *)(intptr_t)i);
        for (i = 0; i < BATCH; i++)
            CHECK_EQ_INT((intptr_t)weft_test_join(threads[i]), i + 1);
    }
}

/* ---- Names ----------------------------------------------------------------------- */

static void *rename_self(void *arg)
{
    gate *g = arg;

    weft_test_wait_event(&g->go);
    CHECK_OK(weft_thread_set_name(weft_thread_current(), "renamed-inside"));
    g->name = weft_thread_name(weft_thread_current());
    weft_event_set(&g->finished);
    return NULL;
}

WEFT_TEST(thread_set_name)
{
    gate g;
    weft_thread *thread;
    const char *first, *second;
    char name[32];

    thread = start_gated(&g, rename_self);
    first = weft_thread_name(thread);
    CHECK_EQ_STR(first, "Thread-1");
    snprintf(name, sizeof name, "%s", "renamed-outside");
    CHECK_OK(weft_thread_set_name(thread, name));
    name[0] = 'X'; /* weft copied it */
    second = weft_thread_name(thread);
    CHECK_EQ_STR(second, "renamed-outside");
    CHECK_EQ_STR(first, "Thread-1"); /* earlier names stay valid */
    weft_event_set(&g.go);
    weft_test_wait_event(&g.finished);
    CHECK_EQ_STR(g.name, "renamed-inside");
    CHECK_EQ_STR(weft_thread_name(thread), "renamed-inside");
    CHECK_EQ_STR(second, "renamed-outside");
    CHECK_EQ_STR(first, "Thread-1");
    /* A long name is kept whole (the OS-visible one may be truncated). */
    CHECK_OK(weft_thread_set_name(thread, "a-name-well-beyond-the-fifteen-bytes-of-linux"));
    CHECK_EQ_STR(weft_thread_name(thread), "a-name-well-beyond-the-fifteen-bytes-of-linux");
    CHECK_OK(weft_thread_join(thread, weft_test_long(), NULL));
    CHECK_OK(weft_thread_set_name(thread, "after-the-end")); /* still our record */
    CHECK_EQ_STR(weft_thread_name(thread), "after-the-end");
    CHECK_EQ_STR(second, "renamed-outside");
    CHECK_STATUS(weft_thread_set_name(thread, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_thread_set_name(NULL, "x"), WEFT_EINVAL);
    CHECK_EQ_STR(weft_thread_name(thread), "after-the-end");
    weft_thread_release(thread);
}

WEFT_TEST(thread_set_name_renamed_does_not_take_a_number)
{
    weft_thread *a, *b;

    /* Renaming does not give back or consume "Thread-N" numbers. */
    a = weft_test_start(add_one, NULL);
    CHECK_OK(weft_thread_set_name(a, "custom"));
    b = weft_test_start(add_one, NULL);
    CHECK_EQ_STR(weft_thread_name(b), "Thread-2");
    weft_test_join(a);
    weft_test_join(b);
}

WEFT_TEST(thread_set_name_main)
{
    weft_thread *main_thread = weft_thread_current();
    const char *old = weft_thread_name(main_thread);

    CHECK_OK(weft_thread_set_name(main_thread, "Boss"));
    CHECK_EQ_STR(weft_thread_name(weft_thread_main()), "Boss");
    CHECK_EQ_STR(old, "MainThread"); /* the borrowed record lives on */
}

/* ---- The main thread --------------------------------------------------------------- */

static void *report_main(void *arg)
{
    (void)arg;
    return weft_thread_main();
}

WEFT_TEST(thread_main)
{
    weft_thread *main_thread = weft_thread_main();

    CHECK(main_thread != NULL);
    CHECK_EQ_STR(weft_thread_name(main_thread), "MainThread");
    CHECK_EQ_PTR(main_thread, weft_thread_current());
    CHECK_EQ_PTR(weft_thread_main(), main_thread);
    CHECK_EQ_PTR(weft_test_join(weft_test_start(report_main, NULL)), main_thread);
    CHECK(weft_thread_is_alive(main_thread));
}

WEFT_TEST(thread_main_asked_first_from_another_thread)
{
    /* A fresh process: the first to ask for the main thread's record is
     * another thread; main's own weft_thread_current() is the same record. */
    weft_thread *seen = weft_test_join(weft_test_start(report_main, NULL));

    CHECK(seen != NULL);
    CHECK_EQ_STR(weft_thread_name(seen), "MainThread");
    CHECK_EQ_PTR(weft_thread_current(), seen);
    CHECK_EQ_PTR(weft_thread_main(), seen);
}

/* ---- active_count, enumerate ---------------------------------------------------------- */

/* Whether `t` is among list[0..n-1]. */
static bool listed(weft_thread **list, size_t n, const weft_thread *t)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (list[i] == t)
            return true;
    return false;
}

WEFT_TEST(thread_active_count_and_enumerate)
{
    crowd c;
    weft_thread *list[MANY + 8];
    weft_thread *small[4];
    size_t n;
    int i;

    /* The main thread is always counted, asked for or not. */
    CHECK_EQ_UINT(weft_thread_active_count(), 1);
    n = weft_thread_enumerate(list, MANY + 8);
    CHECK_EQ_UINT(n, 1);
    CHECK_EQ_PTR(list[0], weft_thread_main());

    memset(&c, 0, sizeof c);
    for (i = 0; i < MANY; i++) {
        c.threads[i] = weft_test_start(wait_for_go, &c.gates[i]);
        /* Counted from the start on, running yet or not. */
        CHECK_EQ_UINT(weft_thread_active_count(), (size_t)i + 2);
    }
    for (i = 0; i < MANY; i++)
        weft_test_wait_event(&c.gates[i].started);
    CHECK_EQ_UINT(weft_thread_active_count(), MANY + 1);
    n = weft_thread_enumerate(list, MANY + 8);
    CHECK_EQ_UINT(n, MANY + 1);
    CHECK(listed(list, n, weft_thread_main()));
    CHECK(listed(list, n, weft_thread_current()));
    for (i = 0; i < MANY; i++)
        CHECK(listed(list, n, c.threads[i]));

    /* Too little room: the full count, only `cap` stored. */
    for (i = 0; i < 4; i++)
        small[i] = (weft_thread *)&c; /* a marker */
    CHECK_EQ_UINT(weft_thread_enumerate(small, 3), MANY + 1);
    for (i = 0; i < 3; i++)
        CHECK(small[i] == weft_thread_main() || listed(c.threads, MANY, small[i]));
    CHECK(small[0] != small[1] && small[1] != small[2] && small[0] != small[2]);
    CHECK(small[3] == (weft_thread *)&c); /* untouched */
    CHECK_EQ_UINT(weft_thread_enumerate(NULL, 0), MANY + 1);
    CHECK_EQ_UINT(weft_thread_enumerate(small, 0), MANY + 1);
    CHECK(small[0] != (weft_thread *)&c);

    /* A joined thread is no longer counted. */
    weft_event_set(&c.gates[0].go);
    CHECK_OK(weft_thread_join(c.threads[0], weft_test_long(), NULL));
    CHECK_EQ_UINT(weft_thread_active_count(), MANY);
    n = weft_thread_enumerate(list, MANY + 8);
    CHECK_EQ_UINT(n, MANY);
    CHECK(!listed(list, n, c.threads[0]));
    weft_thread_release(c.threads[0]);
    for (i = 1; i < MANY; i++)
        weft_event_set(&c.gates[i].go);
    for (i = 1; i < MANY; i++)
        weft_test_join(c.threads[i]);
    CHECK_EQ_UINT(weft_thread_active_count(), 1);
    CHECK_EQ_UINT(weft_thread_enumerate(list, MANY + 8), 1);
    CHECK_EQ_PTR(list[0], weft_thread_main());
}

enum { CHURNERS = 4 };

typedef struct churn {
    weft_event stop;
    weft_test_counter rounds;
} churn;

/* Start and join short threads until told to stop. */
static void *churn_threads(void *arg)
{
    churn *ch = arg;

    while (!weft_event_is_set(&ch->stop)) {
        weft_test_join(weft_test_start(add_one, NULL));
        weft_test_counter_add(&ch->rounds, 1);
    }
    return NULL;
}

WEFT_TEST(thread_active_count_under_churn)
{
    static churn ch; /* zero: a valid event and counter */
    weft_thread *threads[CHURNERS];
    weft_thread *list[2 * CHURNERS + 4];
    long checks = weft_test_iterations(2000), i;

    weft_test_start_all(threads, CHURNERS, churn_threads, &ch);
    for (i = 0; i < checks; i++) {
        /* The main thread, the churners, and at most one child each. */
        size_t count = weft_thread_active_count();
        size_t n = weft_thread_enumerate(list, sizeof list / sizeof list[0]);
        size_t j;
        CHECK(count >= 1 + CHURNERS && count <= 1 + 2 * CHURNERS);
        CHECK(n >= 1 + CHURNERS && n <= 1 + 2 * CHURNERS);
        CHECK(listed(list, n, weft_thread_main()));
        /* (The churners' children may end and be freed at any moment:
         * their pointers are not to be used, only counted.) */
        for (j = 0; j < CHURNERS; j++)
            CHECK(listed(list, n, threads[j]));
        for (j = 0; j < n && j < sizeof list / sizeof list[0]; j++)
            CHECK(list[j] != NULL);
    }
    weft_test_counter_wait(&ch.rounds, CHURNERS); /* they did churn */
    weft_event_set(&ch.stop);
    weft_test_join_all(threads, CHURNERS);
    CHECK_EQ_UINT(weft_thread_active_count(), 1);
}

/* ---- weft_thread_exit ------------------------------------------------------------------ */

static void *exit_early(void *arg)
{
    gate *g = arg;

    g->stop_before = true;
    weft_thread_exit((void *)(intptr_t)42);
    g->stop_after = true; /* never runs */
    return (void *)(intptr_t)1;
}

static void *call_exit_early(void *arg)
{
    exit_early(arg); /* from a nested call: the thread still ends */
    ((gate *)arg)->sleep_status = 1; /* never runs */
    return (void *)(intptr_t)2;
}

WEFT_TEST(thread_exit_from_weft_thread)
{
    gate g;
    weft_thread *thread;
    void *result = NULL;

    memset(&g, 0, sizeof g);
    thread = weft_test_start(call_exit_early, &g);
    CHECK_OK(weft_thread_join(thread, weft_test_long(), &result));
    CHECK_EQ_INT((intptr_t)result, 42);
    CHECK(!weft_thread_is_alive(thread));
    CHECK(g.stop_before);
    CHECK(!g.stop_after);
    CHECK_EQ_INT(g.sleep_status, 0);
    weft_thread_release(thread);
    CHECK_EQ_UINT(weft_thread_active_count(), 1);
}

WEFT_TEST(thread_exit_many)
{
    enum { N = 16 };
    gate gates[N];
    weft_thread *threads[N];
    int i;

    memset(gates, 0, sizeof gates);
    weft_test_start_each(threads, N, exit_early, gates, sizeof gates[0]);
    for (i = 0; i < N; i++)
        CHECK_EQ_INT((intptr_t)weft_test_join(threads[i]), 42);
    for (i = 0; i < N; i++)
        CHECK(gates[i].stop_before && !gates[i].stop_after);
}

/* ---- Timers ----------------------------------------------------------------------------- */

typedef struct fired {
    weft_event done;
    double at;       /* weft_monotonic() when fn ran */
    int calls;
    weft_thread *current;
    void *arg_seen;
} fired;

static void on_timer(void *arg)
{
    fired *f = arg;

    f->at = weft_monotonic();
    f->calls++;
    f->current = weft_thread_current();
    f->arg_seen = arg;
    weft_event_set(&f->done);
}

WEFT_TEST(thread_timer_fires_after_interval)
{
    fired f;
    weft_thread *timer = NULL;
    void *result = (void *)&f;
    double t0;

    memset(&f, 0, sizeof f);
    t0 = weft_monotonic();
    CHECK_OK(weft_timer_start(&timer, 0.2, on_timer, &f));
    CHECK(timer != NULL);
    CHECK(weft_thread_is_alive(timer));
    CHECK(!weft_thread_is_daemon(timer));
    CHECK_EQ_STR(weft_thread_name(timer), "Thread-1");
    weft_test_wait_event(&f.done);
    CHECK_OK(weft_thread_join(timer, weft_test_long(), &result));
    CHECK_EQ_PTR(result, NULL);
    CHECK_EQ_INT(f.calls, 1);
    CHECK_EQ_PTR(f.arg_seen, &f);
    CHECK_EQ_PTR(f.current, timer); /* ran in the timer's thread */
    CHECK_DURATION(f.at - t0, 0.2);
    weft_thread_release(timer);
}

WEFT_TEST(thread_timer_zero_interval)
{
    fired f;
    weft_thread *timer = NULL;

    memset(&f, 0, sizeof f);
    CHECK_OK(weft_timer_start(&timer, 0.0, on_timer, &f));
    weft_test_join(timer);
    CHECK_EQ_INT(f.calls, 1);
}

WEFT_TEST(thread_timer_cancelled)
{
    fired f;
    weft_thread *timer = NULL;
    double t0;

    memset(&f, 0, sizeof f);
    CHECK_OK(weft_timer_start(&timer, weft_test_long(), on_timer, &f));
    weft_test_settle(); /* likely waiting by now */
    t0 = weft_monotonic();
    CHECK_OK(weft_thread_request_stop(timer)); /* Timer.cancel() */
    CHECK_OK(weft_thread_join(timer, weft_test_long(), NULL));
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack()); /* ended early */
    CHECK_EQ_INT(f.calls, 0);
    CHECK(!weft_event_is_set(&f.done));
    weft_thread_release(timer);
}

WEFT_TEST(thread_timer_cancelled_at_once)
{
    fired f;
    weft_thread *timer = NULL;
    int i;

    /* Cancelled before its thread may even have run: fn never runs. */
    for (i = 0; i < 20; i++) {
        memset(&f, 0, sizeof f);
        CHECK_OK(weft_timer_start(&timer, 0.05, on_timer, &f));
        CHECK_OK(weft_thread_request_stop(timer));
        weft_test_join(timer);
        CHECK_EQ_INT(f.calls, 0);
    }
}

WEFT_TEST(thread_timer_einval)
{
    static char not_a_thread;
    weft_thread *timer = (weft_thread *)&not_a_thread; /* must be reset to NULL */
    fired f;

    memset(&f, 0, sizeof f);
    CHECK_STATUS(weft_timer_start(&timer, -1.0, on_timer, &f), WEFT_EINVAL);
    CHECK(timer == NULL);
    timer = (weft_thread *)&not_a_thread;
    CHECK_STATUS(weft_timer_start(&timer, NAN, on_timer, &f), WEFT_EINVAL);
    CHECK(timer == NULL);
    CHECK_STATUS(weft_timer_start(&timer, WEFT_FOREVER, on_timer, &f), WEFT_EINVAL);
    CHECK_STATUS(weft_timer_start(&timer, 0.1, NULL, &f), WEFT_EINVAL);
    CHECK(timer == NULL);
    CHECK_STATUS(weft_timer_start(NULL, 0.1, on_timer, &f), WEFT_EINVAL);
    CHECK_EQ_UINT(weft_thread_active_count(), 1); /* nothing was started */
    CHECK_EQ_INT(f.calls, 0);
}

/* ---- Daemon flag ------------------------------------------------------------------------ */

WEFT_TEST(thread_daemon_default_false_option_true)
{
    weft_thread_opts opts;
    weft_thread *zeroed, *daemon, *defaults;

    memset(&opts, 0, sizeof opts); /* a zero-filled struct means the defaults */
    zeroed = weft_test_start_named(add_one, NULL, NULL);
    CHECK_OK(weft_thread_start(&defaults, add_one, NULL, &opts));
    opts.daemon = true;
    CHECK_OK(weft_thread_start(&daemon, add_one, NULL, &opts));
    CHECK(!weft_thread_is_daemon(zeroed));
    CHECK(!weft_thread_is_daemon(defaults));
    CHECK(weft_thread_is_daemon(daemon));
    CHECK(!weft_thread_is_daemon(weft_thread_main()));
    CHECK_OK(weft_thread_join(daemon, weft_test_long(), NULL));
    CHECK(weft_thread_is_daemon(daemon)); /* still, after the end */
    weft_thread_release(daemon);
    weft_test_join(zeroed);
    weft_test_join(defaults);
}
