/* SPDX-License-Identifier: MIT */
/* weft_sem: threading.Semaphore and threading.BoundedSemaphore. */
#include "runner.h"

#include <math.h>

WEFT_TEST(sem_counting)
{
    weft_sem sem = WEFT_SEM_INIT(2);

    CHECK_EQ_UINT(weft_sem_value(&sem), 2);
    CHECK_OK(weft_sem_acquire(&sem, WEFT_FOREVER));
    CHECK_EQ_UINT(weft_sem_value(&sem), 1);
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_EQ_UINT(weft_sem_value(&sem), 0);
    CHECK_STATUS(weft_sem_acquire(&sem, 0), WEFT_ETIMEDOUT);
    CHECK_EQ_UINT(weft_sem_value(&sem), 0);
    CHECK_OK(weft_sem_release(&sem, 1));
    CHECK_EQ_UINT(weft_sem_value(&sem), 1);
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_OK(weft_sem_release(&sem, 2));
    CHECK_EQ_UINT(weft_sem_value(&sem), 2);
}

WEFT_TEST(sem_zero_filled_is_zero_and_unbounded)
{
    weft_sem sem;

    memset(&sem, 0, sizeof sem);
    CHECK_EQ_UINT(weft_sem_value(&sem), 0);
    CHECK_STATUS(weft_sem_acquire(&sem, 0), WEFT_ETIMEDOUT);
    CHECK_OK(weft_sem_release(&sem, 1));
    CHECK_OK(weft_sem_release(&sem, 1)); /* no bound */
    CHECK_EQ_UINT(weft_sem_value(&sem), 2);
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_STATUS(weft_sem_acquire(&sem, 0), WEFT_ETIMEDOUT);
}

WEFT_TEST(sem_unbounded_release_past_initial)
{
    weft_sem sem = WEFT_SEM_INIT(1);

    CHECK_OK(weft_sem_release(&sem, 1));
    CHECK_EQ_UINT(weft_sem_value(&sem), 2);
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_STATUS(weft_sem_acquire(&sem, 0), WEFT_ETIMEDOUT);
}

WEFT_TEST(sem_timeout)
{
    weft_sem sem = WEFT_SEM_INIT(2);
    double t0;

    CHECK_OK(weft_sem_acquire(&sem, 0.005));
    CHECK_OK(weft_sem_acquire(&sem, 0.005));
    CHECK_STATUS(weft_sem_acquire(&sem, 0.005), WEFT_ETIMEDOUT);
    CHECK_OK(weft_sem_release(&sem, 1));
    CHECK_OK(weft_sem_acquire(&sem, 0.005));
    t0 = weft_monotonic();
    CHECK_STATUS(weft_sem_acquire(&sem, 0.2), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.2);
    CHECK_EQ_UINT(weft_sem_value(&sem), 0); /* nothing changed */
    /* Usable after the timed-out acquire. */
    CHECK_OK(weft_sem_release(&sem, 1));
    CHECK_EQ_UINT(weft_sem_value(&sem), 1);
    CHECK_OK(weft_sem_acquire(&sem, 0));
}

typedef struct contended {
    weft_sem sem;
    weft_test_counter started;
    weft_test_counter passed;
    double timeout;
} contended;

static void *acquire_once(void *arg)
{
    contended *c = arg;

    weft_test_counter_add(&c->started, 1);
    CHECK_OK(weft_sem_acquire(&c->sem, c->timeout));
    weft_test_counter_add(&c->passed, 1);
    return NULL;
}

static bool passed_more_than(contended *c, long n)
{
    /* A window for a wrong extra wake-up to show. */
    double end = weft_monotonic() + 0.1 * weft_test_time_scale();

    while (weft_monotonic() < end) {
        if (weft_test_counter_get(&c->passed) > n)
            return true;
        CHECK_OK(weft_sleep(0.005));
    }
    return weft_test_counter_get(&c->passed) > n;
}

WEFT_TEST(sem_release_n_wakes_n)
{
    enum { N = 5 };
    contended c = {WEFT_SEM_INIT(0), WEFT_TEST_COUNTER_INIT, WEFT_TEST_COUNTER_INIT, 0};
    weft_thread *threads[N];

    c.timeout = WEFT_FOREVER;
    weft_test_start_parked(threads, N, acquire_once, &c, &c.started);
    CHECK_EQ_INT(weft_test_counter_get(&c.passed), 0);
    CHECK_OK(weft_sem_release(&c.sem, 3)); /* one call, three waiters */
    weft_test_counter_wait(&c.passed, 3);
    CHECK(!passed_more_than(&c, 3));
    CHECK_EQ_UINT(weft_sem_value(&c.sem), 0);
    CHECK_OK(weft_sem_release(&c.sem, 2));
    weft_test_join_all(threads, N);
    CHECK_EQ_INT(weft_test_counter_get(&c.passed), N);
    CHECK_EQ_UINT(weft_sem_value(&c.sem), 0);
}

WEFT_TEST(sem_release_more_than_waiters_keeps_the_rest)
{
    enum { N = 2 };
    contended c = {WEFT_SEM_INIT(0), WEFT_TEST_COUNTER_INIT, WEFT_TEST_COUNTER_INIT, 0};
    weft_thread *threads[N];

    c.timeout = WEFT_FOREVER;
    weft_test_start_parked(threads, N, acquire_once, &c, &c.started);
    CHECK_OK(weft_sem_release(&c.sem, 5));
    weft_test_join_all(threads, N);
    CHECK_EQ_UINT(weft_sem_value(&c.sem), 3);
}

WEFT_TEST(sem_acquire_contended)
{
    /* After CPython's test_acquire_contended: value 7, one taken; ten
     * threads take two each, in phases as main releases. */
    enum { N = 10 };
    contended c = {WEFT_SEM_INIT(7), WEFT_TEST_COUNTER_INIT, WEFT_TEST_COUNTER_INIT, 0};
    weft_thread *threads[2 * N];
    int i;

    c.timeout = WEFT_FOREVER;
    CHECK_OK(weft_sem_acquire(&c.sem, 0));
    weft_test_start_all(threads, 2 * N, acquire_once, &c);
    weft_test_counter_wait(&c.passed, 6);
    CHECK(!passed_more_than(&c, 6));
    CHECK_OK(weft_sem_release(&c.sem, 7));
    weft_test_counter_wait(&c.passed, 13);
    CHECK(!passed_more_than(&c, 13));
    for (i = 0; i < 6; i++)
        CHECK_OK(weft_sem_release(&c.sem, 1));
    weft_test_counter_wait(&c.passed, 19);
    CHECK(!passed_more_than(&c, 19));
    CHECK_STATUS(weft_sem_acquire(&c.sem, 0), WEFT_ETIMEDOUT); /* still at 0 */
    CHECK_OK(weft_sem_release(&c.sem, 1));
    weft_test_join_all(threads, 2 * N);
    CHECK_EQ_INT(weft_test_counter_get(&c.passed), 2 * N);
    CHECK_EQ_UINT(weft_sem_value(&c.sem), 0);
}

static void *try_acquire_twice(void *arg)
{
    weft_sem *sem = arg;
    intptr_t got = 0;
    int i;

    for (i = 0; i < 2; i++) {
        int status = weft_sem_acquire(sem, 0);
        CHECK(status == WEFT_OK || status == WEFT_ETIMEDOUT);
        got += status == WEFT_OK;
    }
    return (void *)got;
}

WEFT_TEST(sem_try_acquire_contended)
{
    weft_sem sem = WEFT_SEM_INIT(4);
    weft_thread *threads[5];
    intptr_t got = 0;
    int i;

    CHECK_OK(weft_sem_acquire(&sem, 0));
    weft_test_start_all(threads, 5, try_acquire_twice, &sem);
    for (i = 0; i < 5; i++)
        got += (intptr_t)weft_test_join(threads[i]);
    CHECK_EQ_INT(got, 3); /* exactly the three there were */
    CHECK_EQ_UINT(weft_sem_value(&sem), 0);
}

WEFT_TEST(sem_timed_waiter_woken_by_release)
{
    contended c = {WEFT_SEM_INIT(0), WEFT_TEST_COUNTER_INIT, WEFT_TEST_COUNTER_INIT, 0};
    weft_thread *thread;

    c.timeout = weft_test_long();
    thread = weft_test_start(acquire_once, &c);
    weft_test_counter_wait(&c.started, 1);
    CHECK_STATUS(weft_thread_join(thread, 0.1, NULL), WEFT_ETIMEDOUT);
    CHECK_OK(weft_sem_release(&c.sem, 1));
    weft_test_join(thread);
    CHECK_EQ_UINT(weft_sem_value(&c.sem), 0);
}

WEFT_TEST(sem_bounded_overflow)
{
    weft_sem sem = WEFT_BOUNDED_SEM_INIT(2);

    CHECK_EQ_UINT(weft_sem_value(&sem), 2);
    CHECK_STATUS(weft_sem_release(&sem, 1), WEFT_EOVERFLOW);
    CHECK_EQ_UINT(weft_sem_value(&sem), 2);
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_STATUS(weft_sem_release(&sem, 2), WEFT_EOVERFLOW); /* nothing released */
    CHECK_EQ_UINT(weft_sem_value(&sem), 1);
    CHECK_OK(weft_sem_release(&sem, 1));
    CHECK_EQ_UINT(weft_sem_value(&sem), 2);
    CHECK_STATUS(weft_sem_release(&sem, 1), WEFT_EOVERFLOW);
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_OK(weft_sem_release(&sem, 2));
    CHECK_EQ_UINT(weft_sem_value(&sem), 2);
}

WEFT_TEST(sem_bounded_one_like_python_default)
{
    weft_sem sem = WEFT_BOUNDED_SEM_INIT(1);

    CHECK_STATUS(weft_sem_release(&sem, 1), WEFT_EOVERFLOW);
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_OK(weft_sem_release(&sem, 1));
    CHECK_STATUS(weft_sem_release(&sem, 1), WEFT_EOVERFLOW);
    CHECK_EQ_UINT(weft_sem_value(&sem), 1);
}

WEFT_TEST(sem_unbounded_overflow_at_max)
{
    weft_sem sem;

    weft_sem_init(&sem, UINT32_MAX, false);
    CHECK_EQ_UINT(weft_sem_value(&sem), UINT32_MAX);
    CHECK_STATUS(weft_sem_release(&sem, 1), WEFT_EOVERFLOW);
    CHECK_EQ_UINT(weft_sem_value(&sem), UINT32_MAX);
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_STATUS(weft_sem_release(&sem, 3), WEFT_EOVERFLOW);
    CHECK_EQ_UINT(weft_sem_value(&sem), UINT32_MAX - 2);
    CHECK_OK(weft_sem_release(&sem, 2));
    CHECK_EQ_UINT(weft_sem_value(&sem), UINT32_MAX);
}

WEFT_TEST(sem_init)
{
    weft_sem sem;

    memset(&sem, 0xA5, sizeof sem); /* whatever was there */
    weft_sem_init(&sem, 3, false);
    CHECK_EQ_UINT(weft_sem_value(&sem), 3);
    CHECK_OK(weft_sem_release(&sem, 1));
    CHECK_EQ_UINT(weft_sem_value(&sem), 4);

    weft_sem_init(&sem, 3, true);
    CHECK_EQ_UINT(weft_sem_value(&sem), 3);
    CHECK_STATUS(weft_sem_release(&sem, 1), WEFT_EOVERFLOW);
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_OK(weft_sem_release(&sem, 1));
    CHECK_EQ_UINT(weft_sem_value(&sem), 3);

    weft_sem_init(&sem, 0, true); /* a bounded semaphore that starts at 0 */
    CHECK_EQ_UINT(weft_sem_value(&sem), 0);
    CHECK_STATUS(weft_sem_acquire(&sem, 0), WEFT_ETIMEDOUT);
    CHECK_STATUS(weft_sem_release(&sem, 1), WEFT_EOVERFLOW);

    weft_sem_init(NULL, 1, false); /* does nothing */
}

WEFT_TEST(sem_static_initialisers)
{
    static weft_sem plain = WEFT_SEM_INIT(3);
    static weft_sem bounded = WEFT_BOUNDED_SEM_INIT(3);

    CHECK_EQ_UINT(weft_sem_value(&plain), 3);
    CHECK_EQ_UINT(weft_sem_value(&bounded), 3);
    CHECK_OK(weft_sem_release(&plain, 1));
    CHECK_STATUS(weft_sem_release(&bounded, 1), WEFT_EOVERFLOW);
    CHECK_EQ_UINT(weft_sem_value(&plain), 4);
    CHECK_EQ_UINT(weft_sem_value(&bounded), 3);
}

WEFT_TEST(sem_release_zero_einval)
{
    weft_sem sem = WEFT_SEM_INIT(1);
    weft_sem bounded = WEFT_BOUNDED_SEM_INIT(1);

    CHECK_STATUS(weft_sem_release(&sem, 0), WEFT_EINVAL);
    CHECK_EQ_UINT(weft_sem_value(&sem), 1);
    CHECK_STATUS(weft_sem_release(&bounded, 0), WEFT_EINVAL);
    CHECK_EQ_UINT(weft_sem_value(&bounded), 1);
}

WEFT_TEST(sem_null_and_bad_timeout_einval)
{
    weft_sem sem = WEFT_SEM_INIT(1);

    CHECK_STATUS(weft_sem_acquire(NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_sem_acquire(NULL, WEFT_FOREVER), WEFT_EINVAL);
    CHECK_STATUS(weft_sem_release(NULL, 1), WEFT_EINVAL);
    CHECK_EQ_UINT(weft_sem_value(NULL), 0);
    CHECK_STATUS(weft_sem_acquire(&sem, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_sem_acquire(&sem, NAN), WEFT_EINVAL);
    CHECK_STATUS(weft_sem_acquire(&sem, -INFINITY), WEFT_EINVAL);
    CHECK_EQ_UINT(weft_sem_value(&sem), 1); /* nothing taken */
    CHECK_OK(weft_sem_acquire(&sem, 0));
    CHECK_STATUS(weft_sem_acquire(&sem, -2.0), WEFT_EINVAL); /* at 0: refused, not waited */
    CHECK_EQ_UINT(weft_sem_value(&sem), 0);
}

/* ---- Stress -------------------------------------------------------------------- */

enum { STRESS_THREADS = 8, STRESS_ITERATIONS = 100000 };

static int acquire_sem(void *sem, long i)
{
    return (void)i, weft_sem_acquire(sem, WEFT_FOREVER);
}

static int release_sem(void *sem, long i)
{
    return (void)i, weft_sem_release(sem, 1);
}

WEFT_TEST_TIMEOUT(sem_stress_as_mutex_counter_exact, 120)
{
    weft_sem sem = WEFT_BOUNDED_SEM_INIT(1);
    weft_test_exclusion x;

    weft_test_exclusion_init(&x, acquire_sem, release_sem, &sem, STRESS_THREADS,
                             STRESS_ITERATIONS, 0);
    weft_test_exclusion_run(&x);
    CHECK_EQ_INT(x.counter, STRESS_THREADS * x.iterations);
    CHECK_EQ_UINT(weft_sem_value(&sem), 1);
}

typedef struct tokens {
    weft_sem sem;
    weft_barrier start;
    long iterations;
    weft_lock lock;
    int holders;     /* guarded by lock */
    int max_holders; /* guarded by lock */
} tokens;

static void *use_token(void *arg)
{
    tokens *t = arg;
    long i;

    CHECK(weft_barrier_wait(&t->start, weft_test_long()) >= 0);
    for (i = 0; i < t->iterations; i++) {
        int status = weft_sem_acquire(&t->sem, (i % 2) ? 1e-4 : WEFT_FOREVER);
        if (status == WEFT_ETIMEDOUT)
            continue;
        CHECK_OK(status);
        CHECK_OK(weft_lock_acquire(&t->lock, WEFT_FOREVER));
        t->holders++;
        if (t->holders > t->max_holders)
            t->max_holders = t->holders;
        CHECK_OK(weft_lock_release(&t->lock));
        /* holding a token here, as up to two other threads may */
        CHECK_OK(weft_lock_acquire(&t->lock, WEFT_FOREVER));
        t->holders--;
        CHECK_OK(weft_lock_release(&t->lock));
        CHECK_OK(weft_sem_release(&t->sem, 1)); /* EOVERFLOW if the bound broke */
    }
    return NULL;
}

WEFT_TEST_TIMEOUT(sem_stress_counting_with_timeouts, 120)
{
    /* Three tokens, eight threads, half the acquires with a tiny timeout:
     * the value ends where it began and never exceeded its bound. */
    tokens t;

    memset(&t, 0, sizeof t);
    weft_sem_init(&t.sem, 3, true);
    weft_barrier_init(&t.start, STRESS_THREADS);
    t.iterations = weft_test_iterations(STRESS_ITERATIONS / 4);
    weft_test_run_all(STRESS_THREADS, use_token, &t);
    CHECK_EQ_UINT(weft_sem_value(&t.sem), 3);
    CHECK_LE_INT(t.max_holders, 3);
}
