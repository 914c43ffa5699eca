/* SPDX-License-Identifier: MIT */
/* weft_rlock: threading.RLock. */
#include "runner.h"

#include <math.h>

WEFT_TEST(rlock_acquire_release)
{
    weft_rlock r = WEFT_RLOCK_INIT;

    CHECK(!weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_acquire(&r, WEFT_FOREVER));
    CHECK(weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_release(&r));
    CHECK(!weft_rlock_is_owned(&r));
}

WEFT_TEST(rlock_zero_filled_is_unlocked)
{
    weft_rlock r;

    memset(&r, 0, sizeof r);
    CHECK(!weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_acquire(&r, 0));
    CHECK(weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_release(&r));
    CHECK_STATUS(weft_rlock_release(&r), WEFT_EPERM);
}

WEFT_TEST(rlock_recursion)
{
    weft_rlock r = WEFT_RLOCK_INIT;
    int i;

    CHECK_OK(weft_rlock_acquire(&r, WEFT_FOREVER));
    CHECK_OK(weft_rlock_acquire(&r, 0));   /* an owner never waits */
    CHECK_OK(weft_rlock_acquire(&r, 1.0));
    CHECK(weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_release(&r));
    CHECK_OK(weft_rlock_acquire(&r, WEFT_FOREVER));
    for (i = 0; i < 3; i++) {
        CHECK(weft_rlock_is_owned(&r));
        CHECK_OK(weft_rlock_release(&r));
    }
    CHECK(!weft_rlock_is_owned(&r));
    CHECK_STATUS(weft_rlock_release(&r), WEFT_EPERM);
}

WEFT_TEST(rlock_deep_recursion)
{
    enum { DEPTH = 10000 };
    weft_rlock r = WEFT_RLOCK_INIT;
    int i;

    for (i = 0; i < DEPTH; i++)
        CHECK_OK(weft_rlock_acquire(&r, 0));
    for (i = 0; i < DEPTH; i++) {
        CHECK(weft_rlock_is_owned(&r));
        CHECK_OK(weft_rlock_release(&r));
    }
    CHECK(!weft_rlock_is_owned(&r));
    CHECK_STATUS(weft_rlock_release(&r), WEFT_EPERM);
}

WEFT_TEST(rlock_release_unacquired_eperm)
{
    weft_rlock r = WEFT_RLOCK_INIT;

    CHECK_STATUS(weft_rlock_release(&r), WEFT_EPERM);
    CHECK(!weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_acquire(&r, 0));
    CHECK_OK(weft_rlock_acquire(&r, 0));
    CHECK_OK(weft_rlock_release(&r));
    CHECK_OK(weft_rlock_acquire(&r, 0));
    CHECK_OK(weft_rlock_release(&r));
    CHECK_OK(weft_rlock_release(&r));
    CHECK_STATUS(weft_rlock_release(&r), WEFT_EPERM);
    /* Still usable. */
    CHECK_OK(weft_rlock_acquire(&r, 0));
    CHECK_OK(weft_rlock_release(&r));
}

typedef struct owned_elsewhere {
    weft_rlock rlock;
    weft_event acquired;
    weft_event done;
    weft_event released;
    int levels;
} owned_elsewhere;

/* Take `levels` levels, then hold them until `done`, then give them back. */
static void *hold_rlock(void *arg)
{
    owned_elsewhere *o = arg;
    int i;

    for (i = 0; i < o->levels; i++)
        CHECK_OK(weft_rlock_acquire(&o->rlock, WEFT_FOREVER));
    weft_event_set(&o->acquired);
    weft_test_wait_event(&o->done);
    for (i = 0; i < o->levels; i++) {
        CHECK(weft_rlock_is_owned(&o->rlock));
        CHECK_OK(weft_rlock_release(&o->rlock));
    }
    CHECK(!weft_rlock_is_owned(&o->rlock));
    CHECK_STATUS(weft_rlock_release(&o->rlock), WEFT_EPERM);
    weft_event_set(&o->released);
    return NULL;
}

WEFT_TEST(rlock_release_by_non_owner_eperm)
{
    owned_elsewhere o = {WEFT_RLOCK_INIT, WEFT_EVENT_INIT, WEFT_EVENT_INIT, WEFT_EVENT_INIT, 2};
    weft_thread *thread = weft_test_start(hold_rlock, &o);

    weft_test_wait_event(&o.acquired);
    CHECK(!weft_rlock_is_owned(&o.rlock));
    CHECK_STATUS(weft_rlock_release(&o.rlock), WEFT_EPERM);
    CHECK_STATUS(weft_rlock_release(&o.rlock), WEFT_EPERM);
    /* Nothing changed: still held by the thread, with both its levels,
     * which it releases (and checks a third release fails) below. */
    CHECK_STATUS(weft_rlock_acquire(&o.rlock, 0), WEFT_ETIMEDOUT);
    CHECK(!weft_rlock_is_owned(&o.rlock));
    weft_event_set(&o.done);
    weft_test_join(thread);
    CHECK_OK(weft_rlock_acquire(&o.rlock, 0));
    CHECK_OK(weft_rlock_release(&o.rlock));
}

WEFT_TEST(rlock_timed_acquire_by_non_owner)
{
    owned_elsewhere o = {WEFT_RLOCK_INIT, WEFT_EVENT_INIT, WEFT_EVENT_INIT, WEFT_EVENT_INIT, 1};
    weft_thread *thread = weft_test_start(hold_rlock, &o);
    double t0;

    weft_test_wait_event(&o.acquired);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_rlock_acquire(&o.rlock, 0.2), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.2);
    CHECK(!weft_rlock_is_owned(&o.rlock));
    /* Usable after the timed-out acquire. */
    weft_event_set(&o.done);
    weft_test_join(thread);
    CHECK_OK(weft_rlock_acquire(&o.rlock, 0));
    CHECK(weft_rlock_is_owned(&o.rlock));
    CHECK_OK(weft_rlock_release(&o.rlock));
}

static void *report_is_owned(void *arg)
{
    return (void *)(intptr_t)weft_rlock_is_owned(arg);
}

WEFT_TEST(rlock_is_owned_per_thread)
{
    weft_rlock r = WEFT_RLOCK_INIT;

    CHECK(!weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_acquire(&r, WEFT_FOREVER));
    CHECK(weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_acquire(&r, WEFT_FOREVER));
    CHECK(weft_rlock_is_owned(&r));
    CHECK_EQ_INT((intptr_t)weft_test_join(weft_test_start(report_is_owned, &r)), 0);
    CHECK_OK(weft_rlock_release(&r));
    CHECK(weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_release(&r));
    CHECK(!weft_rlock_is_owned(&r));
}

typedef struct waiter {
    weft_rlock *rlock;
    weft_test_counter started;
    int status;
    bool owned;
} waiter;

static void *acquire_rlock_forever(void *arg)
{
    waiter *w = arg;

    weft_test_counter_add(&w->started, 1);
    w->status = weft_rlock_acquire(w->rlock, WEFT_FOREVER);
    w->owned = weft_rlock_is_owned(w->rlock);
    CHECK_OK(weft_rlock_acquire(w->rlock, 0));
    CHECK_OK(weft_rlock_release(w->rlock));
    CHECK_OK(weft_rlock_release(w->rlock));
    return NULL;
}

/* The case's process has one thread until the waiter starts: where the C
 * library says so, the two first acquires take the plain path of a
 * single-threaded process (lock.c), and the last release must still wake
 * the waiter parked on the word. */
WEFT_TEST(rlock_contended_waits_for_last_level)
{
    weft_rlock r = WEFT_RLOCK_INIT;
    waiter w = {&r, WEFT_TEST_COUNTER_INIT, 99, false};
    weft_thread *thread;

    CHECK_OK(weft_rlock_acquire(&r, WEFT_FOREVER));
    CHECK_OK(weft_rlock_acquire(&r, WEFT_FOREVER));
    thread = weft_test_start(acquire_rlock_forever, &w);
    weft_test_counter_wait(&w.started, 1);
    CHECK_STATUS(weft_thread_join(thread, 0.1, NULL), WEFT_ETIMEDOUT);
    CHECK_OK(weft_rlock_release(&r));
    /* One level is still held: the waiter still waits. */
    CHECK_STATUS(weft_thread_join(thread, 0.1, NULL), WEFT_ETIMEDOUT);
    CHECK(weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_release(&r));
    weft_test_join(thread);
    CHECK_OK(w.status);
    CHECK(w.owned);
    CHECK(!weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_acquire(&r, 0));
    CHECK_OK(weft_rlock_release(&r));
}

WEFT_TEST(rlock_null_einval)
{
    CHECK_STATUS(weft_rlock_acquire(NULL, WEFT_FOREVER), WEFT_EINVAL);
    CHECK_STATUS(weft_rlock_acquire(NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_rlock_release(NULL), WEFT_EINVAL);
    CHECK(!weft_rlock_is_owned(NULL));
}

WEFT_TEST(rlock_bad_timeout_einval)
{
    weft_rlock r = WEFT_RLOCK_INIT;

    CHECK_STATUS(weft_rlock_acquire(&r, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_rlock_acquire(&r, NAN), WEFT_EINVAL);
    CHECK_STATUS(weft_rlock_acquire(&r, -INFINITY), WEFT_EINVAL);
    CHECK(!weft_rlock_is_owned(&r));
    CHECK_STATUS(weft_rlock_release(&r), WEFT_EPERM); /* not acquired */
    /* By the owner too: a bad timeout is refused, not counted as a level. */
    CHECK_OK(weft_rlock_acquire(&r, 0));
    CHECK_STATUS(weft_rlock_acquire(&r, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_rlock_acquire(&r, NAN), WEFT_EINVAL);
    CHECK_OK(weft_rlock_release(&r));
    CHECK(!weft_rlock_is_owned(&r));
    CHECK_STATUS(weft_rlock_release(&r), WEFT_EPERM);
}

/* ---- Stress -------------------------------------------------------------------- */

enum { STRESS_THREADS = 8, STRESS_ITERATIONS = 100000 };

static int acquire_rlock(void *r, long i)
{
    CHECK_OK(weft_rlock_acquire(r, WEFT_FOREVER));
    /* Sometimes a second level. */
    return i % 4 == 0 ? weft_rlock_acquire(r, WEFT_FOREVER) : WEFT_OK;
}

static int release_rlock(void *r, long i)
{
    if (i % 4 == 0)
        CHECK_OK(weft_rlock_release(r));
    CHECK_OK(weft_rlock_release(r));
    CHECK(!weft_rlock_is_owned(r));
    return WEFT_OK;
}

WEFT_TEST_TIMEOUT(rlock_stress_counter_exact, 120)
{
    weft_rlock r = WEFT_RLOCK_INIT;
    weft_test_exclusion x;

    weft_test_exclusion_init(&x, acquire_rlock, release_rlock, &r, STRESS_THREADS,
                             STRESS_ITERATIONS, 0);
    weft_test_exclusion_run(&x);
    CHECK_EQ_INT(x.counter, STRESS_THREADS * x.iterations);
    CHECK_OK(weft_rlock_acquire(&r, 0));
    CHECK_OK(weft_rlock_release(&r));
}

/* The owner is one 64-bit atomic word: 8-aligned wherever the rlock is put,
 * also after a 4-byte member on i386, whose ABI aligns a uint64_t member to
 * 4 (where an access that straddles a cache line is not atomic). */
WEFT_TEST(rlock_owner_aligned_after_a_uint32)
{
    struct after {
        uint32_t flag;
        weft_rlock r;
    } a[2];
    int i;

    memset(a, 0, sizeof a);
    CHECK_EQ_UINT(offsetof(struct after, r) % 8, 0);
    CHECK_EQ_UINT((offsetof(struct after, r) + offsetof(weft_rlock, owner)) % 8, 0);
    for (i = 0; i < 2; i++) {
        CHECK_EQ_UINT((uintptr_t)&a[i].r.owner % 8, 0);
        CHECK_OK(weft_rlock_acquire(&a[i].r, 0));
        CHECK(weft_rlock_is_owned(&a[i].r));
        CHECK_OK(weft_rlock_release(&a[i].r));
    }
    CHECK_EQ_INT(a[0].flag + a[1].flag, 0); /* nothing wrote past the owner */
}
