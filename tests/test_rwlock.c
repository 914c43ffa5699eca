/* SPDX-License-Identifier: MIT */
/* weft_rwlock: many readers or one writer, writer-preferring. */
#include "runner.h"

#include <math.h>

/* A probe run in another thread: what a try-acquire sees from there. */
static void *try_read(void *arg)
{
    weft_rwlock *rw = arg;
    int status = weft_rwlock_read_acquire(rw, 0);

    if (status == WEFT_OK)
        CHECK_OK(weft_rwlock_read_release(rw));
    return (void *)(intptr_t)status;
}

static void *try_write(void *arg)
{
    weft_rwlock *rw = arg;
    int status = weft_rwlock_write_acquire(rw, 0);

    if (status == WEFT_OK)
        CHECK_OK(weft_rwlock_write_release(rw));
    return (void *)(intptr_t)status;
}

static int try_read_elsewhere(weft_rwlock *rw)
{
    return (int)(intptr_t)weft_test_join(weft_test_start(try_read, rw));
}

static int try_write_elsewhere(weft_rwlock *rw)
{
    return (int)(intptr_t)weft_test_join(weft_test_start(try_write, rw));
}

WEFT_TEST(rwlock_acquire_release)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;

    CHECK_OK(weft_rwlock_read_acquire(&rw, WEFT_FOREVER));
    CHECK_OK(weft_rwlock_read_release(&rw));
    CHECK_OK(weft_rwlock_write_acquire(&rw, WEFT_FOREVER));
    CHECK_OK(weft_rwlock_write_release(&rw));
    CHECK_OK(weft_rwlock_read_acquire(&rw, 0));
    CHECK_OK(weft_rwlock_read_release(&rw));
    CHECK_OK(weft_rwlock_write_acquire(&rw, 0));
    CHECK_OK(weft_rwlock_write_release(&rw));
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_OK);
}

WEFT_TEST(rwlock_zero_filled_is_unlocked)
{
    weft_rwlock rw;

    memset(&rw, 0, sizeof rw);
    CHECK_OK(weft_rwlock_write_acquire(&rw, 0));
    CHECK_OK(weft_rwlock_write_release(&rw));
    CHECK_OK(weft_rwlock_read_acquire(&rw, 0));
    CHECK_OK(weft_rwlock_read_release(&rw));
    CHECK_STATUS(weft_rwlock_read_release(&rw), WEFT_EPERM);
    CHECK_STATUS(weft_rwlock_write_release(&rw), WEFT_EPERM);
}

typedef struct readers {
    weft_rwlock rw;
    weft_barrier inside;
} readers;

static void *read_together(void *arg)
{
    readers *r = arg;
    int index;

    CHECK_OK(weft_rwlock_read_acquire(&r->rw, weft_test_long()));
    /* Every reader gets here while all hold the read lock: the barrier
     * would time out (EBROKEN) if readers excluded each other. */
    index = weft_barrier_wait(&r->inside, weft_test_long());
    CHECK_GE_INT(index, 0);
    CHECK_OK(weft_rwlock_read_release(&r->rw));
    return NULL;
}

WEFT_TEST(rwlock_readers_share)
{
    enum { N = 4 };
    readers r = {WEFT_RWLOCK_INIT, WEFT_BARRIER_INIT(N + 1)};
    weft_thread *threads[N];

    CHECK_OK(weft_rwlock_read_acquire(&r.rw, 0)); /* main reads too */
    weft_test_start_all(threads, N, read_together, &r);
    CHECK_GE_INT(weft_barrier_wait(&r.inside, weft_test_long()), 0);
    /* Readers inside: a writer cannot get in. */
    CHECK_EQ_INT(try_write_elsewhere(&r.rw), WEFT_ETIMEDOUT);
    CHECK_OK(weft_rwlock_read_release(&r.rw));
    weft_test_join_all(threads, N);
    CHECK_EQ_INT(try_write_elsewhere(&r.rw), WEFT_OK);
}

WEFT_TEST(rwlock_writer_excludes_everyone)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;

    CHECK_OK(weft_rwlock_write_acquire(&rw, WEFT_FOREVER));
    CHECK_EQ_INT(try_read_elsewhere(&rw), WEFT_ETIMEDOUT);
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_ETIMEDOUT);
    CHECK_OK(weft_rwlock_write_release(&rw));
    CHECK_EQ_INT(try_read_elsewhere(&rw), WEFT_OK);
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_OK);
}

WEFT_TEST(rwlock_writer_is_not_recursive)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;
    double t0;

    CHECK_OK(weft_rwlock_write_acquire(&rw, WEFT_FOREVER));
    t0 = weft_monotonic();
    CHECK_STATUS(weft_rwlock_write_acquire(&rw, 0.1), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);
    CHECK_STATUS(weft_rwlock_read_acquire(&rw, 0), WEFT_ETIMEDOUT);
    CHECK_OK(weft_rwlock_write_release(&rw));
    CHECK_STATUS(weft_rwlock_write_release(&rw), WEFT_EPERM);
}

typedef struct timed {
    weft_rwlock *rw;
    bool write;
    double timeout;
    int status;
    double elapsed;
} timed;

static void *timed_acquire(void *arg)
{
    timed *t = arg;
    double t0 = weft_monotonic();

    t->status = t->write ? weft_rwlock_write_acquire(t->rw, t->timeout)
                         : weft_rwlock_read_acquire(t->rw, t->timeout);
    t->elapsed = weft_monotonic() - t0;
    if (t->status == WEFT_OK)
        CHECK_OK(t->write ? weft_rwlock_write_release(t->rw) : weft_rwlock_read_release(t->rw));
    return NULL;
}

/* From another thread, a timed acquire that must time out: check it did,
 * after t->timeout. */
static void check_timed_acquire_times_out(timed *t)
{
    weft_test_join(weft_test_start(timed_acquire, t));
    CHECK_STATUS(t->status, WEFT_ETIMEDOUT);
    CHECK_DURATION(t->elapsed, t->timeout);
}

/* Start a timed acquire with the long timeout and check it is still
 * waiting a moment later: the case then lets it in. */
static weft_thread *start_blocked_timed_acquire(timed *t)
{
    weft_thread *thread;

    t->timeout = weft_test_long();
    thread = weft_test_start(timed_acquire, t);
    CHECK_STATUS(weft_thread_join(thread, 0.05, NULL), WEFT_ETIMEDOUT);
    return thread;
}

WEFT_TEST(rwlock_timed_read_acquire_while_writing)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;
    timed t = {&rw, false, 0.2, 99, 0};
    weft_thread *thread;

    CHECK_OK(weft_rwlock_write_acquire(&rw, WEFT_FOREVER));
    check_timed_acquire_times_out(&t);
    /* A timed reader gets in as soon as the writer leaves. */
    thread = start_blocked_timed_acquire(&t);
    CHECK_OK(weft_rwlock_write_release(&rw));
    weft_test_join(thread);
    CHECK_OK(t.status);
}

WEFT_TEST(rwlock_timed_write_acquire_while_reading)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;
    timed t = {&rw, true, 0.2, 99, 0};
    weft_thread *thread;

    CHECK_OK(weft_rwlock_read_acquire(&rw, WEFT_FOREVER));
    check_timed_acquire_times_out(&t);
    /* Nothing changed: other readers still get in. */
    CHECK_EQ_INT(try_read_elsewhere(&rw), WEFT_OK);
    /* A timed writer gets in as soon as the last reader leaves. */
    thread = start_blocked_timed_acquire(&t);
    CHECK_OK(weft_rwlock_read_release(&rw));
    weft_test_join(thread);
    CHECK_OK(t.status);
}

/* From another thread, try to read until that fails: proof that a writer
 * is now waiting (writer preference), without peeking inside. Returns
 * false when it never failed within weft_test_long(). */
static bool wait_until_readers_are_held_back(weft_rwlock *rw)
{
    double deadline = weft_monotonic() + weft_test_long();

    while (weft_monotonic() < deadline) {
        if (try_read_elsewhere(rw) == WEFT_ETIMEDOUT)
            return true;
        CHECK_OK(weft_sleep(0.001));
    }
    return false;
}

WEFT_TEST(rwlock_waiting_writer_holds_back_new_readers)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;
    timed w = {&rw, true, 0, 99, 0};
    weft_thread *writer;

    w.timeout = weft_test_long();
    CHECK_OK(weft_rwlock_read_acquire(&rw, WEFT_FOREVER));
    writer = weft_test_start(timed_acquire, &w);
    CHECK(wait_until_readers_are_held_back(&rw));
    CHECK(weft_thread_is_alive(writer)); /* still waiting behind the reader */
    CHECK_OK(weft_rwlock_read_release(&rw));
    weft_test_join(writer);
    CHECK_OK(w.status);
    CHECK_EQ_INT(try_read_elsewhere(&rw), WEFT_OK);
}

WEFT_TEST(rwlock_timed_out_writer_lets_readers_go)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;
    timed w = {&rw, true, 0, 99, 0};
    timed r = {&rw, false, 0, 99, 0};
    weft_thread *writer, *reader;

    w.timeout = 0.5 * weft_test_time_scale();
    r.timeout = weft_test_long();
    CHECK_OK(weft_rwlock_read_acquire(&rw, WEFT_FOREVER));
    writer = weft_test_start(timed_acquire, &w);
    CHECK(wait_until_readers_are_held_back(&rw));
    /* A reader queues behind the waiting writer ... */
    reader = weft_test_start(timed_acquire, &r);
    weft_test_join(writer);
    CHECK_STATUS(w.status, WEFT_ETIMEDOUT);
    CHECK_GE_DBL(w.elapsed, w.timeout - 1e-3);
    /* ... and goes on when the writer gives up, while main still reads. */
    weft_test_join(reader);
    CHECK_OK(r.status);
    CHECK_EQ_INT(try_read_elsewhere(&rw), WEFT_OK);
    CHECK_OK(weft_rwlock_read_release(&rw));
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_OK);
}

typedef struct starve {
    weft_rwlock rw;
    weft_event stop;
    weft_test_counter rounds;
} starve;

static void *keep_reading(void *arg)
{
    starve *s = arg;

    while (!weft_event_is_set(&s->stop)) {
        CHECK_OK(weft_rwlock_read_acquire(&s->rw, weft_test_long()));
        /* Hold it a little (work, not synchronisation): with several of
         * these overlapping, some reader is nearly always inside. */
        CHECK_OK(weft_sleep(0.002));
        CHECK_OK(weft_rwlock_read_release(&s->rw));
        weft_test_counter_add(&s->rounds, 1);
    }
    return NULL;
}

WEFT_TEST(rwlock_writer_not_starved_by_arriving_readers)
{
    enum { READERS = 4 };
    starve s = {WEFT_RWLOCK_INIT, WEFT_EVENT_INIT, WEFT_TEST_COUNTER_INIT};
    weft_thread *threads[READERS];
    timed w = {&s.rw, true, 0, 99, 0};

    weft_test_start_all(threads, READERS, keep_reading, &s);
    weft_test_counter_wait(&s.rounds, 2 * READERS);
    w.timeout = weft_test_long();
    weft_test_join(weft_test_start(timed_acquire, &w));
    CHECK_OK(w.status);
    CHECK_LT_DBL(w.elapsed, weft_test_slack());
    weft_event_set(&s.stop);
    weft_test_join_all(threads, READERS);
}

static void *release_write(void *arg)
{
    return (void *)(intptr_t)weft_rwlock_write_release(arg);
}

WEFT_TEST(rwlock_write_release_by_non_writer_eperm)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;

    CHECK_STATUS(weft_rwlock_write_release(&rw), WEFT_EPERM); /* unlocked */
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_OK);          /* nothing changed */
    CHECK_OK(weft_rwlock_write_acquire(&rw, WEFT_FOREVER));
    CHECK_EQ_INT((intptr_t)weft_test_join(weft_test_start(release_write, &rw)), WEFT_EPERM);
    /* Nothing changed: main still writes. */
    CHECK_EQ_INT(try_read_elsewhere(&rw), WEFT_ETIMEDOUT);
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_ETIMEDOUT);
    CHECK_OK(weft_rwlock_write_release(&rw));
    CHECK_STATUS(weft_rwlock_write_release(&rw), WEFT_EPERM);
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_OK);
}

WEFT_TEST(rwlock_write_release_while_reading_eperm)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;

    CHECK_OK(weft_rwlock_read_acquire(&rw, WEFT_FOREVER));
    CHECK_STATUS(weft_rwlock_write_release(&rw), WEFT_EPERM);
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_ETIMEDOUT); /* still read-locked */
    CHECK_EQ_INT(try_read_elsewhere(&rw), WEFT_OK);
    CHECK_OK(weft_rwlock_read_release(&rw));
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_OK);
}

WEFT_TEST(rwlock_read_release_without_reader_eperm)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;

    CHECK_STATUS(weft_rwlock_read_release(&rw), WEFT_EPERM);
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_OK); /* nothing changed */
    CHECK_OK(weft_rwlock_read_acquire(&rw, 0));
    CHECK_OK(weft_rwlock_read_release(&rw));
    CHECK_STATUS(weft_rwlock_read_release(&rw), WEFT_EPERM); /* released twice */
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_OK);
    /* A writer holds it and no reader does: EPERM, the writer keeps it. */
    CHECK_OK(weft_rwlock_write_acquire(&rw, WEFT_FOREVER));
    CHECK_STATUS(weft_rwlock_read_release(&rw), WEFT_EPERM);
    CHECK_EQ_INT(try_read_elsewhere(&rw), WEFT_ETIMEDOUT);
    CHECK_OK(weft_rwlock_write_release(&rw));
    CHECK_EQ_INT(try_read_elsewhere(&rw), WEFT_OK);
}

WEFT_TEST(rwlock_null_einval)
{
    CHECK_STATUS(weft_rwlock_read_acquire(NULL, WEFT_FOREVER), WEFT_EINVAL);
    CHECK_STATUS(weft_rwlock_read_acquire(NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_rwlock_read_release(NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_rwlock_write_acquire(NULL, WEFT_FOREVER), WEFT_EINVAL);
    CHECK_STATUS(weft_rwlock_write_acquire(NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_rwlock_write_release(NULL), WEFT_EINVAL);
}

WEFT_TEST(rwlock_bad_timeout_einval)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;

    CHECK_STATUS(weft_rwlock_read_acquire(&rw, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_rwlock_read_acquire(&rw, NAN), WEFT_EINVAL);
    CHECK_STATUS(weft_rwlock_write_acquire(&rw, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_rwlock_write_acquire(&rw, NAN), WEFT_EINVAL);
    CHECK_STATUS(weft_rwlock_write_acquire(&rw, -INFINITY), WEFT_EINVAL);
    /* None of them took the lock. */
    CHECK_STATUS(weft_rwlock_read_release(&rw), WEFT_EPERM);
    CHECK_STATUS(weft_rwlock_write_release(&rw), WEFT_EPERM);
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_OK);
    /* Contended: refused at once, not waited on, and the holder keeps it. */
    CHECK_OK(weft_rwlock_write_acquire(&rw, WEFT_FOREVER));
    CHECK_STATUS(weft_rwlock_read_acquire(&rw, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_rwlock_write_acquire(&rw, NAN), WEFT_EINVAL);
    CHECK_EQ_INT(try_read_elsewhere(&rw), WEFT_ETIMEDOUT);
    CHECK_OK(weft_rwlock_write_release(&rw));
    CHECK_EQ_INT(try_write_elsewhere(&rw), WEFT_OK);
}

/* ---- Stress -------------------------------------------------------------------- */

enum { STRESS_THREADS = 8, STRESS_ITERATIONS = 100000, STRESS_READERS = 2 };

typedef struct stress {
    weft_rwlock rw;
    weft_test_exclusion writers; /* counter, inside: guarded by rw (write) */
    weft_event stop;
    weft_test_counter reads;
} stress;

static int write_acquire(void *rw, long i)
{
    return (void)i, weft_rwlock_write_acquire(rw, WEFT_FOREVER);
}

static int write_release(void *rw, long i)
{
    return (void)i, weft_rwlock_write_release(rw);
}

static void *read_while_others_write(void *arg)
{
    stress *s = arg;
    long last = 0;

    CHECK(weft_barrier_wait(&s->writers.start, weft_test_long()) >= 0);
    /* Writers are preferred, so a reader may get in only once they are
     * done: read at least once after that. */
    do {
        long seen;
        CHECK_OK(weft_rwlock_read_acquire(&s->rw, WEFT_FOREVER));
        CHECK_EQ_INT(s->writers.inside, 0);
        seen = s->writers.counter;
        CHECK_OK(weft_rwlock_read_release(&s->rw));
        CHECK_GE_INT(seen, last); /* the counter only grows */
        last = seen;
        weft_test_counter_add(&s->reads, 1);
    } while (!weft_event_is_set(&s->stop));
    return NULL;
}

WEFT_TEST_TIMEOUT(rwlock_stress_write_counter_exact, 120)
{
    stress s;
    weft_thread *readers[STRESS_READERS];

    memset(&s, 0, sizeof s);
    weft_test_exclusion_init(&s.writers, write_acquire, write_release, &s.rw, STRESS_THREADS,
                             STRESS_ITERATIONS, STRESS_READERS);
    weft_test_start_all(readers, STRESS_READERS, read_while_others_write, &s);
    weft_test_exclusion_run(&s.writers);
    weft_event_set(&s.stop);
    weft_test_join_all(readers, STRESS_READERS);
    CHECK_EQ_INT(s.writers.counter, STRESS_THREADS * s.writers.iterations);
    CHECK_GE_INT(weft_test_counter_get(&s.reads), STRESS_READERS);
    CHECK_EQ_INT(try_write_elsewhere(&s.rw), WEFT_OK);
}
