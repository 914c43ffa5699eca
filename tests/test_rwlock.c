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
    int i;

    CHECK_OK(weft_rwlock_read_acquire(&r.rw, 0)); /* main reads too */
    for (i = 0; i < N; i++)
        threads[i] = weft_test_start(read_together, &r);
    CHECK_GE_INT(weft_barrier_wait(&r.inside, weft_test_long()), 0);
    /* Readers inside: a writer cannot get in. */
    CHECK_EQ_INT(try_write_elsewhere(&r.rw), WEFT_ETIMEDOUT);
    CHECK_OK(weft_rwlock_read_release(&r.rw));
    for (i = 0; i < N; i++)
        weft_test_join(threads[i]);
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

WEFT_TEST(rwlock_timed_read_acquire_while_writing)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;
    timed t = {&rw, false, 0.2, 99, 0};
    weft_thread *thread;

    CHECK_OK(weft_rwlock_write_acquire(&rw, WEFT_FOREVER));
    weft_test_join(weft_test_start(timed_acquire, &t));
    CHECK_STATUS(t.status, WEFT_ETIMEDOUT);
    CHECK_GE_DBL(t.elapsed, 0.2 - 1e-3);
    CHECK_LT_DBL(t.elapsed, 0.2 + weft_test_slack());
    /* A timed reader gets in as soon as the writer leaves. */
    t.timeout = weft_test_long();
    thread = weft_test_start(timed_acquire, &t);
    CHECK_STATUS(weft_thread_join(thread, 0.05, NULL), WEFT_ETIMEDOUT);
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
    weft_test_join(weft_test_start(timed_acquire, &t));
    CHECK_STATUS(t.status, WEFT_ETIMEDOUT);
    CHECK_GE_DBL(t.elapsed, 0.2 - 1e-3);
    CHECK_LT_DBL(t.elapsed, 0.2 + weft_test_slack());
    /* Nothing changed: other readers still get in. */
    CHECK_EQ_INT(try_read_elsewhere(&rw), WEFT_OK);
    /* A timed writer gets in as soon as the last reader leaves. */
    t.timeout = weft_test_long();
    thread = weft_test_start(timed_acquire, &t);
    CHECK_STATUS(weft_thread_join(thread, 0.05, NULL), WEFT_ETIMEDOUT);
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
    int i;

    for (i = 0; i < READERS; i++)
        threads[i] = weft_test_start(keep_reading, &s);
    weft_test_counter_wait(&s.rounds, 2 * READERS);
    w.timeout = weft_test_long();
    weft_test_join(weft_test_start(timed_acquire, &w));
    CHECK_OK(w.status);
    CHECK_LT_DBL(w.elapsed, weft_test_slack());
    weft_event_set(&s.stop);
    for (i = 0; i < READERS; i++)
        weft_test_join(threads[i]);
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
    weft_barrier start;
    weft_event stop;
    long iterations;
    long counter;      /* guarded by rw (write) */
    int writers_inside;/* guarded by rw (write) */
    long reads;        /* guarded by count_lock */
    weft_lock count_lock;
} stress;

static void *increment_under_write_lock(void *arg)
{
    stress *s = arg;
    long i;

    CHECK(weft_barrier_wait(&s->start, weft_test_long()) >= 0);
    for (i = 0; i < s->iterations; i++) {
        CHECK_OK(weft_rwlock_write_acquire(&s->rw, WEFT_FOREVER));
        CHECK_EQ_INT(s->writers_inside++, 0);
        s->counter++;
        s->writers_inside--;
        CHECK_OK(weft_rwlock_write_release(&s->rw));
    }
    return NULL;
}

static void *read_while_others_write(void *arg)
{
    stress *s = arg;
    long last = 0;

    CHECK(weft_barrier_wait(&s->start, weft_test_long()) >= 0);
    /* Writers are preferred, so a reader may get in only once they are
     * done: read at least once after that. */
    do {
        long seen;
        CHECK_OK(weft_rwlock_read_acquire(&s->rw, WEFT_FOREVER));
        CHECK_EQ_INT(s->writers_inside, 0);
        seen = s->counter;
        CHECK_OK(weft_rwlock_read_release(&s->rw));
        CHECK_GE_INT(seen, last); /* the counter only grows */
        last = seen;
        CHECK_OK(weft_lock_acquire(&s->count_lock, WEFT_FOREVER));
        s->reads++;
        CHECK_OK(weft_lock_release(&s->count_lock));
    } while (!weft_event_is_set(&s->stop));
    return NULL;
}

WEFT_TEST_TIMEOUT(rwlock_stress_write_counter_exact, 120)
{
    stress s;
    weft_thread *writers[STRESS_THREADS], *readers[STRESS_READERS];
    int i;

    memset(&s, 0, sizeof s);
    weft_barrier_init(&s.start, STRESS_THREADS + STRESS_READERS);
    s.iterations = weft_test_iterations(STRESS_ITERATIONS);
    for (i = 0; i < STRESS_READERS; i++)
        readers[i] = weft_test_start(read_while_others_write, &s);
    for (i = 0; i < STRESS_THREADS; i++)
        writers[i] = weft_test_start(increment_under_write_lock, &s);
    for (i = 0; i < STRESS_THREADS; i++)
        weft_test_join(writers[i]);
    weft_event_set(&s.stop);
    for (i = 0; i < STRESS_READERS; i++)
        weft_test_join(readers[i]);
    CHECK_EQ_INT(s.counter, STRESS_THREADS * s.iterations);
    CHECK_GE_INT(s.reads, STRESS_READERS);
    CHECK_EQ_INT(try_write_elsewhere(&s.rw), WEFT_OK);
}
