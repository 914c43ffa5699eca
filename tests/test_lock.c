/* SPDX-License-Identifier: MIT */
/* weft_lock: threading.Lock. */
#include "runner.h"

#include <math.h>

WEFT_TEST(lock_acquire_release)
{
    weft_lock lock = WEFT_LOCK_INIT;

    CHECK(!weft_lock_locked(&lock));
    CHECK_OK(weft_lock_acquire(&lock, WEFT_FOREVER));
    CHECK(weft_lock_locked(&lock));
    CHECK_OK(weft_lock_release(&lock));
    CHECK(!weft_lock_locked(&lock));
    /* Again, to see the release left a usable lock. */
    CHECK_OK(weft_lock_acquire(&lock, 5.0));
    CHECK(weft_lock_locked(&lock));
    CHECK_OK(weft_lock_release(&lock));
    CHECK(!weft_lock_locked(&lock));
}

WEFT_TEST(lock_zero_filled_is_unlocked)
{
    weft_lock lock;
    static weft_lock static_lock; /* zero by C's rules */

    memset(&lock, 0, sizeof lock);
    CHECK(!weft_lock_locked(&lock));
    CHECK_OK(weft_lock_acquire(&lock, 0));
    CHECK_OK(weft_lock_release(&lock));
    CHECK(!weft_lock_locked(&static_lock));
    CHECK_OK(weft_lock_acquire(&static_lock, 0));
    CHECK_OK(weft_lock_release(&static_lock));
}

WEFT_TEST(lock_try_acquire)
{
    weft_lock lock = WEFT_LOCK_INIT;
    double t0;

    CHECK_OK(weft_lock_acquire(&lock, 0));
    t0 = weft_monotonic();
    CHECK_STATUS(weft_lock_acquire(&lock, 0), WEFT_ETIMEDOUT);
    CHECK_STATUS(weft_lock_acquire(&lock, 0.0), WEFT_ETIMEDOUT);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack()); /* did not block */
    CHECK(weft_lock_locked(&lock)); /* a failed try changes nothing */
    CHECK_OK(weft_lock_release(&lock));
    CHECK_OK(weft_lock_acquire(&lock, 0));
    CHECK_OK(weft_lock_release(&lock));
}

static void *try_acquire_once(void *arg)
{
    return (void *)(intptr_t)weft_lock_acquire(arg, 0);
}

WEFT_TEST(lock_try_acquire_contended)
{
    weft_lock lock = WEFT_LOCK_INIT;

    CHECK_OK(weft_lock_acquire(&lock, WEFT_FOREVER));
    CHECK_EQ_INT((intptr_t)weft_test_join(weft_test_start(try_acquire_once, &lock)),
                 WEFT_ETIMEDOUT);
    CHECK(weft_lock_locked(&lock));
    CHECK_OK(weft_lock_release(&lock));
    CHECK_EQ_INT((intptr_t)weft_test_join(weft_test_start(try_acquire_once, &lock)), WEFT_OK);
    CHECK(weft_lock_locked(&lock)); /* the thread took it and ended */
    CHECK_OK(weft_lock_release(&lock));
}

typedef struct contended {
    weft_lock lock;
    weft_test_counter started;
    weft_test_counter finished;
} contended;

static void *acquire_then_release(void *arg)
{
    contended *c = arg;

    weft_test_counter_add(&c->started, 1);
    CHECK_OK(weft_lock_acquire(&c->lock, WEFT_FOREVER));
    CHECK(weft_lock_locked(&c->lock));
    CHECK_OK(weft_lock_release(&c->lock));
    weft_test_counter_add(&c->finished, 1);
    return NULL;
}

WEFT_TEST(lock_acquire_contended)
{
    enum { N = 5 };
    contended c = {WEFT_LOCK_INIT, WEFT_TEST_COUNTER_INIT, WEFT_TEST_COUNTER_INIT};
    weft_thread *threads[N];

    CHECK_OK(weft_lock_acquire(&c.lock, WEFT_FOREVER));
    weft_test_start_all(threads, N, acquire_then_release, &c);
    weft_test_counter_wait(&c.started, N);
    /* While the lock is held, none of them gets through. */
    CHECK_STATUS(weft_thread_join(threads[0], 0.1, NULL), WEFT_ETIMEDOUT);
    CHECK_EQ_INT(weft_test_counter_get(&c.finished), 0);
    CHECK_OK(weft_lock_release(&c.lock));
    weft_test_join_all(threads, N);
    CHECK_EQ_INT(weft_test_counter_get(&c.finished), N);
    CHECK(!weft_lock_locked(&c.lock));
}

typedef struct timed {
    weft_lock *lock;
    double timeout;
    int status;
    double elapsed;
} timed;

static void *timed_acquire(void *arg)
{
    timed *t = arg;
    double t0 = weft_monotonic();

    t->status = weft_lock_acquire(t->lock, t->timeout);
    t->elapsed = weft_monotonic() - t0;
    return NULL;
}

WEFT_TEST(lock_timed_acquire_times_out)
{
    weft_lock lock = WEFT_LOCK_INIT;
    timed t = {&lock, 0.2, 99, 0};
    double t0;

    CHECK_OK(weft_lock_acquire(&lock, WEFT_FOREVER));
    t0 = weft_monotonic();
    weft_test_join(weft_test_start(timed_acquire, &t));
    CHECK_STATUS(t.status, WEFT_ETIMEDOUT);
    CHECK_GE_DBL(t.elapsed, 0.2 - 1e-3);
    CHECK_ELAPSED(t0, 0.2);
    CHECK(weft_lock_locked(&lock));
    CHECK_OK(weft_lock_release(&lock));
}

WEFT_TEST(lock_timed_acquire_by_holder_times_out)
{
    /* Not recursive: the holder asking again waits for itself. */
    weft_lock lock = WEFT_LOCK_INIT;
    double t0;

    CHECK_OK(weft_lock_acquire(&lock, WEFT_FOREVER));
    t0 = weft_monotonic();
    CHECK_STATUS(weft_lock_acquire(&lock, 0.1), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);
    CHECK_OK(weft_lock_release(&lock));
}

WEFT_TEST(lock_timed_acquire_succeeds_when_released)
{
    weft_lock lock = WEFT_LOCK_INIT;
    timed t = {&lock, 0, 99, 0};
    weft_thread *thread;

    t.timeout = weft_test_long();
    CHECK_OK(weft_lock_acquire(&lock, WEFT_FOREVER));
    thread = weft_test_start(timed_acquire, &t);
    /* It waits while the lock is held ... */
    CHECK_STATUS(weft_thread_join(thread, 0.1, NULL), WEFT_ETIMEDOUT);
    /* ... and gets it as soon as it is released, long before its timeout. */
    CHECK_OK(weft_lock_release(&lock));
    weft_test_join(thread);
    CHECK_OK(t.status);
    CHECK_LT_DBL(t.elapsed, t.timeout);
    CHECK(weft_lock_locked(&lock));
    CHECK_OK(weft_lock_release(&lock));
}

WEFT_TEST(lock_huge_timeout_waits_like_forever)
{
    /* Values too large to represent are WEFT_FOREVER: they must neither
     * time out at once (an overflowed deadline) nor be refused. */
    static const double huge[] = {1e18, 1e300, INFINITY};
    weft_lock lock = WEFT_LOCK_INIT;
    size_t i;

    for (i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        timed t = {&lock, 0, 99, 0};
        weft_thread *thread;

        t.timeout = huge[i];
        CHECK_OK(weft_lock_acquire(&lock, huge[i])); /* free: at once */
        thread = weft_test_start(timed_acquire, &t);
        CHECK_STATUS(weft_thread_join(thread, 0.1, NULL), WEFT_ETIMEDOUT);
        CHECK_OK(weft_lock_release(&lock));
        weft_test_join(thread);
        CHECK_OK(t.status);
        CHECK_OK(weft_lock_release(&lock));
    }
}

static void *release_lock(void *arg)
{
    return (void *)(intptr_t)weft_lock_release(arg);
}

WEFT_TEST(lock_release_from_other_thread)
{
    weft_lock lock = WEFT_LOCK_INIT;

    CHECK_OK(weft_lock_acquire(&lock, WEFT_FOREVER));
    CHECK_EQ_INT((intptr_t)weft_test_join(weft_test_start(release_lock, &lock)), WEFT_OK);
    CHECK(!weft_lock_locked(&lock));
    CHECK_OK(weft_lock_acquire(&lock, 0));
    CHECK_OK(weft_lock_release(&lock));
}

/* Every case runs in a process of its own, which has one thread until the
 * case starts another: where the C library says so, the lock's public
 * calls then use plain loads and stores (lock.c). A lock taken that way
 * must still hold off a thread started later, and its release must wake
 * that thread, parked on it, once the process has two. */
WEFT_TEST(lock_taken_single_threaded_then_contended)
{
    contended c = {WEFT_LOCK_INIT, WEFT_TEST_COUNTER_INIT, WEFT_TEST_COUNTER_INIT};
    weft_thread *thread;

    /* Used while this is the only thread, then taken again. */
    CHECK_OK(weft_lock_acquire(&c.lock, WEFT_FOREVER));
    CHECK_OK(weft_lock_release(&c.lock));
    CHECK_STATUS(weft_lock_release(&c.lock), WEFT_EPERM);
    CHECK_OK(weft_lock_acquire(&c.lock, WEFT_FOREVER));
    thread = weft_test_start(acquire_then_release, &c);
    weft_test_counter_wait(&c.started, 1);
    /* Long enough for the thread to spin, find the lock held and park. */
    CHECK_STATUS(weft_thread_join(thread, 0.2, NULL), WEFT_ETIMEDOUT);
    CHECK_EQ_INT(weft_test_counter_get(&c.finished), 0);
    CHECK(weft_lock_locked(&c.lock));
    CHECK_OK(weft_lock_release(&c.lock)); /* must wake it */
    weft_test_join(thread);
    CHECK_EQ_INT(weft_test_counter_get(&c.finished), 1);
    CHECK(!weft_lock_locked(&c.lock));
    CHECK_OK(weft_lock_acquire(&c.lock, 0));
    CHECK_OK(weft_lock_release(&c.lock));
    CHECK_STATUS(weft_lock_release(&c.lock), WEFT_EPERM);
}

typedef struct reacquire {
    weft_lock lock;
    weft_test_counter phase;
} reacquire;

static void *acquire_twice(void *arg)
{
    reacquire *r = arg;

    CHECK_OK(weft_lock_acquire(&r->lock, WEFT_FOREVER));
    weft_test_counter_add(&r->phase, 1);
    CHECK_OK(weft_lock_acquire(&r->lock, WEFT_FOREVER)); /* waits for a release */
    weft_test_counter_add(&r->phase, 1);
    return NULL;
}

WEFT_TEST(lock_reacquire_needs_release_by_anyone)
{
    reacquire r = {WEFT_LOCK_INIT, WEFT_TEST_COUNTER_INIT};
    weft_thread *thread = weft_test_start(acquire_twice, &r);

    weft_test_counter_wait(&r.phase, 1);
    CHECK_STATUS(weft_thread_join(thread, 0.1, NULL), WEFT_ETIMEDOUT);
    CHECK_EQ_INT(weft_test_counter_get(&r.phase), 1);
    CHECK_OK(weft_lock_release(&r.lock)); /* main releases the thread's lock */
    weft_test_join(thread);
    CHECK_EQ_INT(weft_test_counter_get(&r.phase), 2);
    CHECK(weft_lock_locked(&r.lock));
    CHECK_OK(weft_lock_release(&r.lock));
}

WEFT_TEST(lock_usable_after_timed_out_acquire)
{
    /* CPython issue 11618: the state after a timed-out wait. */
    weft_lock lock = WEFT_LOCK_INIT;
    timed t = {&lock, 0.01, 99, 0};
    int i;

    CHECK_OK(weft_lock_acquire(&lock, WEFT_FOREVER));
    CHECK_STATUS(weft_lock_acquire(&lock, 0.01), WEFT_ETIMEDOUT);
    weft_test_join(weft_test_start(timed_acquire, &t)); /* a waiter times out too */
    CHECK_STATUS(t.status, WEFT_ETIMEDOUT);
    CHECK_OK(weft_lock_release(&lock));
    CHECK(!weft_lock_locked(&lock));
    for (i = 0; i < 3; i++) {
        CHECK_OK(weft_lock_acquire(&lock, 0));
        CHECK_OK(weft_lock_release(&lock));
    }
    /* And a blocked waiter is still woken by a release. */
    CHECK_OK(weft_lock_acquire(&lock, WEFT_FOREVER));
    t.timeout = weft_test_long();
    {
        weft_thread *thread = weft_test_start(timed_acquire, &t);
        CHECK_STATUS(weft_thread_join(thread, 0.05, NULL), WEFT_ETIMEDOUT);
        CHECK_OK(weft_lock_release(&lock));
        weft_test_join(thread);
    }
    CHECK_OK(t.status);
    CHECK_OK(weft_lock_release(&lock));
}

WEFT_TEST(lock_release_unlocked_eperm)
{
    weft_lock lock = WEFT_LOCK_INIT;

    CHECK_STATUS(weft_lock_release(&lock), WEFT_EPERM);
    CHECK(!weft_lock_locked(&lock)); /* nothing changed */
    CHECK_OK(weft_lock_acquire(&lock, 0));
    CHECK_OK(weft_lock_release(&lock));
    CHECK_STATUS(weft_lock_release(&lock), WEFT_EPERM); /* released twice */
    CHECK(!weft_lock_locked(&lock));
    CHECK_OK(weft_lock_acquire(&lock, 0));
    CHECK(weft_lock_locked(&lock));
    CHECK_STATUS(weft_lock_acquire(&lock, 0), WEFT_ETIMEDOUT);
    CHECK_OK(weft_lock_release(&lock));
}

static void *nothing(void *arg)
{
    return arg;
}

/* Once the process has had a second thread, a release decrements the word
 * (lock.c): that of a free lock wraps it, and the release must put 0 back
 * and say WEFT_EPERM, the lock as usable as before. */
WEFT_TEST(lock_release_unlocked_eperm_threaded)
{
    weft_lock lock = WEFT_LOCK_INIT;
    int i;

    weft_test_join(weft_test_start(nothing, NULL));
    for (i = 0; i < 2; i++) {
        CHECK_STATUS(weft_lock_release(&lock), WEFT_EPERM);
        CHECK(strstr(weft_last_error_message(), "not locked") != NULL);
        CHECK(!weft_lock_locked(&lock));
        CHECK_OK(weft_lock_acquire(&lock, 0));
        CHECK(weft_lock_locked(&lock));
        CHECK_STATUS(weft_lock_acquire(&lock, 0), WEFT_ETIMEDOUT);
        CHECK_OK(weft_lock_release(&lock));
    }
    CHECK_EQ_INT((intptr_t)weft_test_join(weft_test_start(release_lock, &lock)), WEFT_EPERM);
    CHECK_OK(weft_lock_acquire(&lock, 0));
    CHECK_OK(weft_lock_release(&lock));
}

WEFT_TEST(lock_null_einval)
{
    CHECK_STATUS(weft_lock_acquire(NULL, WEFT_FOREVER), WEFT_EINVAL);
    CHECK_STATUS(weft_lock_acquire(NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_lock_acquire(NULL, 1.0), WEFT_EINVAL);
    CHECK_STATUS(weft_lock_release(NULL), WEFT_EINVAL);
    CHECK(!weft_lock_locked(NULL));
}

WEFT_TEST(lock_bad_timeout_einval)
{
    static const double bad[] = {-2.0, -0.5, -1e-9, -1e300, -INFINITY};
    weft_lock lock = WEFT_LOCK_INIT;
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* Unlocked: refused, not acquired. */
        CHECK_STATUS(weft_lock_acquire(&lock, bad[i]), WEFT_EINVAL);
        CHECK(!weft_lock_locked(&lock));
    }
    CHECK_STATUS(weft_lock_acquire(&lock, NAN), WEFT_EINVAL);
    CHECK(!weft_lock_locked(&lock));
    /* Locked: refused at once, not waited on. */
    CHECK_OK(weft_lock_acquire(&lock, 0));
    CHECK_STATUS(weft_lock_acquire(&lock, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_lock_acquire(&lock, NAN), WEFT_EINVAL);
    CHECK(weft_lock_locked(&lock));
    CHECK_OK(weft_lock_release(&lock));
}

/* ---- Stress -------------------------------------------------------------------- */

enum { STRESS_THREADS = 8, STRESS_ITERATIONS = 100000 };

static int stress_acquire(void *lock, long i)
{
    return (void)i, weft_lock_acquire(lock, WEFT_FOREVER);
}

static int stress_release(void *lock, long i)
{
    return (void)i, weft_lock_release(lock);
}

WEFT_TEST_TIMEOUT(lock_stress_counter_exact, 120)
{
    weft_lock lock = WEFT_LOCK_INIT;
    weft_test_exclusion x;

    weft_test_exclusion_init(&x, stress_acquire, stress_release, &lock, STRESS_THREADS,
                             STRESS_ITERATIONS, 0);
    weft_test_exclusion_run(&x);
    CHECK_EQ_INT(x.counter, STRESS_THREADS * x.iterations);
    CHECK(!weft_lock_locked(&lock));
}

/* Contended acquires with tiny timeouts: the timeout path and the wake-up
 * path cross all the time; a lost wake-up or a miscounted waiter shows as a
 * wrong counter or a hang. */
static int stress_acquire_or_time_out(void *lock, long i)
{
    return weft_lock_acquire(lock, (i % 3) == 0 ? 0 : 1e-4 * (double)(i % 7));
}

WEFT_TEST_TIMEOUT(lock_stress_timed_acquires, 120)
{
    weft_lock lock = WEFT_LOCK_INIT;
    weft_test_exclusion x;

    weft_test_exclusion_init(&x, stress_acquire_or_time_out, stress_release, &lock,
                             STRESS_THREADS, STRESS_ITERATIONS / 4, 0);
    weft_test_exclusion_run(&x); /* checks counter + timeouts == attempts */
    CHECK(x.counter > 0);
    CHECK(!weft_lock_locked(&lock));
    CHECK_OK(weft_lock_acquire(&lock, 0));
    CHECK_OK(weft_lock_release(&lock));
}
