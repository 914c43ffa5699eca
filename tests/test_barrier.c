/* SPDX-License-Identifier: MIT */
/* weft_barrier: threading.Barrier. */
#include "runner.h"

#include <math.h>

enum { N = 5, ROUNDS = 10 };

typedef struct party {
    weft_barrier barrier;
    weft_lock lock;
    int index_count[ROUNDS][N]; /* guarded by lock */
    int arrived[ROUNDS];        /* guarded by lock: before the round's wait */
    int left[ROUNDS];           /* guarded by lock: after it */
    int rounds;
} party;

static void *run_rounds(void *arg)
{
    party *p = arg;
    int round;

    for (round = 0; round < p->rounds; round++) {
        int index;
        CHECK_OK(weft_lock_acquire(&p->lock, WEFT_FOREVER));
        p->arrived[round]++;
        CHECK_EQ_INT(round == 0 ? 0 : p->left[round - 1], round == 0 ? 0 : N);
        CHECK_OK(weft_lock_release(&p->lock));

        index = weft_barrier_wait(&p->barrier, weft_test_long());
        CHECK_GE_INT(index, 0);
        CHECK_LT_INT(index, N);

        CHECK_OK(weft_lock_acquire(&p->lock, WEFT_FOREVER));
        /* Nobody leaves before everybody arrived. */
        CHECK_EQ_INT(p->arrived[round], N);
        p->index_count[round][index]++;
        p->left[round]++;
        CHECK_OK(weft_lock_release(&p->lock));
        /* A second wait keeps the rounds in lockstep (as CPython's
         * multipass does): nobody arrives at round+1 while another is
         * still counting round. */
        CHECK_GE_INT(weft_barrier_wait(&p->barrier, weft_test_long()), 0);
    }
    return NULL;
}

static void run_party(party *p)
{
    weft_thread *threads[N - 1];
    int i, round;

    weft_test_start_all(threads, N - 1, run_rounds, p);
    run_rounds(p); /* main is the N-th party */
    weft_test_join_all(threads, N - 1);
    for (round = 0; round < p->rounds; round++) {
        CHECK_EQ_INT(p->left[round], N);
        for (i = 0; i < N; i++)
            CHECK_EQ_INT(p->index_count[round][i], 1); /* each index once */
    }
    CHECK_EQ_UINT(weft_barrier_n_waiting(&p->barrier), 0);
    CHECK(!weft_barrier_broken(&p->barrier));
}

WEFT_TEST(barrier_one_round)
{
    party p;

    memset(&p, 0, sizeof p);
    weft_barrier_init(&p.barrier, N);
    p.rounds = 1;
    run_party(&p);
}

WEFT_TEST(barrier_indices_every_round)
{
    party p;

    memset(&p, 0, sizeof p);
    weft_barrier_init(&p.barrier, N);
    p.rounds = ROUNDS;
    run_party(&p);
}

WEFT_TEST(barrier_static_initialiser)
{
    static party p = {WEFT_BARRIER_INIT(N), WEFT_LOCK_INIT, {{0}}, {0}, {0}, ROUNDS};

    run_party(&p);
}

WEFT_TEST(barrier_single_party)
{
    weft_barrier b = WEFT_BARRIER_INIT(1);

    CHECK_EQ_INT(weft_barrier_wait(&b, WEFT_FOREVER), 0);
    CHECK_EQ_INT(weft_barrier_wait(&b, 0), 0);
    CHECK_EQ_INT(weft_barrier_wait(&b, 1.0), 0);
    CHECK(!weft_barrier_broken(&b));
    CHECK_EQ_UINT(weft_barrier_n_waiting(&b), 0);
}

WEFT_TEST(barrier_zero_parties_einval)
{
    weft_barrier zeroed, initialised = WEFT_BARRIER_INIT(0), by_init;

    memset(&zeroed, 0, sizeof zeroed);
    memset(&by_init, 0xA5, sizeof by_init);
    weft_barrier_init(&by_init, 0);
    CHECK_STATUS(weft_barrier_wait(&zeroed, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_barrier_wait(&zeroed, WEFT_FOREVER), WEFT_EINVAL);
    CHECK_STATUS(weft_barrier_wait(&initialised, WEFT_FOREVER), WEFT_EINVAL);
    CHECK_STATUS(weft_barrier_wait(&by_init, WEFT_FOREVER), WEFT_EINVAL);
    CHECK_EQ_UINT(weft_barrier_n_waiting(&zeroed), 0);
    /* weft_barrier_init makes a used struct a fresh barrier. */
    weft_barrier_init(&by_init, 1);
    CHECK_EQ_INT(weft_barrier_wait(&by_init, 0), 0);
}

WEFT_TEST(barrier_null_and_bad_timeout)
{
    weft_barrier b = WEFT_BARRIER_INIT(2);

    CHECK_STATUS(weft_barrier_wait(NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_barrier_wait(NULL, WEFT_FOREVER), WEFT_EINVAL);
    weft_barrier_init(NULL, 3);
    weft_barrier_abort(NULL);
    weft_barrier_reset(NULL);
    CHECK(!weft_barrier_broken(NULL));
    CHECK_EQ_UINT(weft_barrier_n_waiting(NULL), 0);
    CHECK_STATUS(weft_barrier_wait(&b, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_barrier_wait(&b, NAN), WEFT_EINVAL);
    CHECK_STATUS(weft_barrier_wait(&b, -INFINITY), WEFT_EINVAL);
    /* A refused call neither waits nor breaks the barrier. */
    CHECK(!weft_barrier_broken(&b));
    CHECK_EQ_UINT(weft_barrier_n_waiting(&b), 0);
}

typedef struct waiter {
    weft_barrier *barrier;
    double timeout;
    int status;
    double elapsed;
} waiter;

static void *wait_barrier(void *arg)
{
    waiter *w = arg;
    double t0 = weft_monotonic();

    w->status = weft_barrier_wait(w->barrier, w->timeout);
    w->elapsed = weft_monotonic() - t0;
    return NULL;
}

/* Wait until `n` threads wait on the barrier (n_waiting), within the long
 * timeout: polling a state, not sleeping for synchronisation. */
static void await_waiting(weft_barrier *b, uint32_t n)
{
    double deadline = weft_monotonic() + weft_test_long();

    while (weft_barrier_n_waiting(b) < n) {
        if (weft_monotonic() > deadline)
            weft_test_fail(__FILE__, __LINE__, "n_waiting stuck at %u, waited for %u",
                           (unsigned)weft_barrier_n_waiting(b), (unsigned)n);
        CHECK_OK(weft_sleep(0.001));
    }
}

WEFT_TEST(barrier_n_waiting)
{
    weft_barrier b = WEFT_BARRIER_INIT(3);
    waiter w[2];
    weft_thread *threads[2];
    int i, index;

    CHECK_EQ_UINT(weft_barrier_n_waiting(&b), 0);
    for (i = 0; i < 2; i++) {
        w[i].barrier = &b;
        w[i].timeout = weft_test_long();
        threads[i] = weft_test_start(wait_barrier, &w[i]);
        await_waiting(&b, (uint32_t)i + 1);
        CHECK_EQ_UINT(weft_barrier_n_waiting(&b), (uint32_t)i + 1);
    }
    index = weft_barrier_wait(&b, weft_test_long());
    CHECK_EQ_INT(index, 2); /* main arrived last */
    weft_test_join_all(threads, 2);
    CHECK((w[0].status == 0 && w[1].status == 1) || (w[0].status == 1 && w[1].status == 0));
    CHECK_EQ_INT(w[0].status, 0); /* w[0] surely arrived first: w[1] started after */
    CHECK_EQ_UINT(weft_barrier_n_waiting(&b), 0);
}

WEFT_TEST(barrier_timeout_breaks_it)
{
    weft_barrier b = WEFT_BARRIER_INIT(2);
    waiter w[2];
    weft_thread *threads[2];
    double t0;
    int i;

    t0 = weft_monotonic();
    CHECK_STATUS(weft_barrier_wait(&b, 0.2), WEFT_EBROKEN); /* alone: times out */
    CHECK_ELAPSED(t0, 0.2);
    CHECK(weft_barrier_broken(&b));
    CHECK_EQ_UINT(weft_barrier_n_waiting(&b), 0);
    /* Broken: later waits fail at once, even ones that would complete it. */
    t0 = weft_monotonic();
    CHECK_STATUS(weft_barrier_wait(&b, WEFT_FOREVER), WEFT_EBROKEN);
    CHECK_STATUS(weft_barrier_wait(&b, 0), WEFT_EBROKEN);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack());
    /* Reset makes it usable again. */
    weft_barrier_reset(&b);
    CHECK(!weft_barrier_broken(&b));
    for (i = 0; i < 2; i++) {
        w[i].barrier = &b;
        w[i].timeout = weft_test_long();
        threads[i] = weft_test_start(wait_barrier, &w[i]);
    }
    weft_test_join_all(threads, 2);
    CHECK_EQ_INT(w[0].status + w[1].status, 0 + 1);
    CHECK(!weft_barrier_broken(&b));
}

WEFT_TEST(barrier_zero_timeout_alone_breaks_it)
{
    weft_barrier b = WEFT_BARRIER_INIT(2);

    CHECK_STATUS(weft_barrier_wait(&b, 0), WEFT_EBROKEN);
    CHECK(weft_barrier_broken(&b));
}

typedef struct late {
    weft_barrier barrier;
    weft_test_counter gave_up;
    int status[N];
    int next; /* guarded by gave_up.lock */
} late;

static void *wait_short_or_late(void *arg)
{
    late *l = arg;
    int me, index;

    CHECK_OK(weft_lock_acquire(&l->gave_up.lock, WEFT_FOREVER));
    me = l->next++;
    CHECK_OK(weft_lock_release(&l->gave_up.lock));
    if (me == 0) {
        /* The late one: arrives only after the others gave up. */
        weft_test_counter_wait(&l->gave_up, N - 1);
        index = weft_barrier_wait(&l->barrier, weft_test_long());
    } else {
        index = weft_barrier_wait(&l->barrier, 0.2);
        weft_test_counter_add(&l->gave_up, 1);
    }
    l->status[me] = index;
    return NULL;
}

WEFT_TEST(barrier_timeout_of_one_breaks_all)
{
    /* After CPython's test_timeout: one party is late; the first to time
     * out breaks the barrier for everyone, the late one included. */
    late l;
    int i;

    memset(&l, 0, sizeof l);
    weft_barrier_init(&l.barrier, N);
    weft_test_run_all(N, wait_short_or_late, &l);
    for (i = 0; i < N; i++)
        CHECK_STATUS(l.status[i], WEFT_EBROKEN);
    CHECK(weft_barrier_broken(&l.barrier));
}

typedef struct abortion {
    weft_barrier barrier;
    weft_barrier sync;       /* a second barrier for the test's own steps */
    weft_lock lock;
    int completed;           /* guarded by lock */
    int broken;              /* guarded by lock */
    int passed_after_reset;  /* guarded by lock */
    bool reset_after;
} abortion;

static void count(abortion *a, int *what)
{
    CHECK_OK(weft_lock_acquire(&a->lock, WEFT_FOREVER));
    (*what)++;
    CHECK_OK(weft_lock_release(&a->lock));
}

static void *abort_in_the_middle(void *arg)
{
    abortion *a = arg;
    int index = weft_barrier_wait(&a->barrier, weft_test_long());

    /* As in CPython, a thread still on its way out of the first wait when
     * the abort comes gets WEFT_EBROKEN there already. */
    if (index == N / 2) {
        weft_barrier_abort(&a->barrier);
        CHECK(weft_barrier_broken(&a->barrier));
    } else {
        int status = index;
        if (status >= 0) {
            CHECK_LT_INT(status, N);
            status = weft_barrier_wait(&a->barrier, weft_test_long());
        }
        if (status >= 0)
            count(a, &a->completed);
        else {
            CHECK_STATUS(status, WEFT_EBROKEN);
            count(a, &a->broken);
        }
    }
    if (a->reset_after) {
        /* Everyone has left the broken barrier before the reset, and
         * nobody enters it before: hence the two waits on sync. */
        if (weft_barrier_wait(&a->sync, weft_test_long()) == N / 2)
            weft_barrier_reset(&a->barrier);
        CHECK_GE_INT(weft_barrier_wait(&a->sync, weft_test_long()), 0);
        CHECK_GE_INT(weft_barrier_wait(&a->barrier, weft_test_long()), 0);
        count(a, &a->passed_after_reset);
    }
    return NULL;
}

static void run_abortion(abortion *a)
{
    weft_test_run_all(N, abort_in_the_middle, a);
}

WEFT_TEST(barrier_abort)
{
    abortion a;

    memset(&a, 0, sizeof a);
    weft_barrier_init(&a.barrier, N);
    weft_barrier_init(&a.sync, N);
    run_abortion(&a);
    CHECK_EQ_INT(a.completed, 0);
    CHECK_EQ_INT(a.broken, N - 1);
    CHECK(weft_barrier_broken(&a.barrier));
    /* Later waits fail at once too. */
    CHECK_STATUS(weft_barrier_wait(&a.barrier, WEFT_FOREVER), WEFT_EBROKEN);
    CHECK(weft_barrier_broken(&a.barrier));
}

WEFT_TEST(barrier_abort_then_reset)
{
    abortion a;

    memset(&a, 0, sizeof a);
    weft_barrier_init(&a.barrier, N);
    weft_barrier_init(&a.sync, N);
    a.reset_after = true;
    run_abortion(&a);
    CHECK_EQ_INT(a.completed, 0);
    CHECK_EQ_INT(a.broken, N - 1);
    CHECK_EQ_INT(a.passed_after_reset, N);
    CHECK(!weft_barrier_broken(&a.barrier));
}

WEFT_TEST(barrier_abort_wakes_waiters)
{
    weft_barrier b = WEFT_BARRIER_INIT(3);
    waiter w[2];
    weft_thread *threads[2];
    int i;

    for (i = 0; i < 2; i++) {
        w[i].barrier = &b;
        w[i].timeout = WEFT_FOREVER;
        threads[i] = weft_test_start(wait_barrier, &w[i]);
    }
    await_waiting(&b, 2);
    weft_barrier_abort(&b);
    for (i = 0; i < 2; i++) {
        weft_test_join(threads[i]);
        CHECK_STATUS(w[i].status, WEFT_EBROKEN);
    }
    CHECK(weft_barrier_broken(&b));
    CHECK_EQ_UINT(weft_barrier_n_waiting(&b), 0);
}

typedef struct resetting {
    weft_barrier barrier;
    weft_lock lock;
    int broken;  /* guarded by lock */
    int passed;  /* guarded by lock */
    int other;   /* guarded by lock */
} resetting;

static void *reset_in_the_middle(void *arg)
{
    resetting *r = arg;
    int index = weft_barrier_wait(&r->barrier, weft_test_long());

    CHECK_GE_INT(index, 0);
    if (index == N / 2) {
        /* Wait until the others wait in the second round, then reset. */
        await_waiting(&r->barrier, N - 1);
        weft_barrier_reset(&r->barrier);
    } else {
        int status = weft_barrier_wait(&r->barrier, weft_test_long());
        CHECK_OK(weft_lock_acquire(&r->lock, WEFT_FOREVER));
        if (status == WEFT_EBROKEN)
            r->broken++;
        else
            r->other++;
        CHECK_OK(weft_lock_release(&r->lock));
    }
    /* The barrier works again for everyone. */
    CHECK_GE_INT(weft_barrier_wait(&r->barrier, weft_test_long()), 0);
    CHECK_OK(weft_lock_acquire(&r->lock, WEFT_FOREVER));
    r->passed++;
    CHECK_OK(weft_lock_release(&r->lock));
    return NULL;
}

WEFT_TEST(barrier_reset_breaks_waiters_then_works)
{
    resetting r;

    memset(&r, 0, sizeof r);
    weft_barrier_init(&r.barrier, N);
    weft_test_run_all(N, reset_in_the_middle, &r);
    CHECK_EQ_INT(r.broken, N - 1);
    CHECK_EQ_INT(r.other, 0);
    CHECK_EQ_INT(r.passed, N);
    CHECK(!weft_barrier_broken(&r.barrier));
    CHECK_EQ_UINT(weft_barrier_n_waiting(&r.barrier), 0);
}

WEFT_TEST(barrier_reset_unused_is_harmless)
{
    weft_barrier b = WEFT_BARRIER_INIT(1);

    weft_barrier_reset(&b);
    CHECK(!weft_barrier_broken(&b));
    CHECK_EQ_INT(weft_barrier_wait(&b, 0), 0);
    weft_barrier_abort(&b);
    CHECK(weft_barrier_broken(&b));
    CHECK_STATUS(weft_barrier_wait(&b, 0), WEFT_EBROKEN); /* even with 1 party */
    weft_barrier_reset(&b);
    CHECK(!weft_barrier_broken(&b));
    CHECK_EQ_INT(weft_barrier_wait(&b, 0), 0);
}

typedef struct cycle {
    weft_barrier barrier;
    long rounds;
    long index_sum;   /* guarded by lock */
    weft_lock lock;
} cycle;

static void *cycle_rounds(void *arg)
{
    cycle *c = arg;
    long i, sum = 0;

    for (i = 0; i < c->rounds; i++) {
        int index = weft_barrier_wait(&c->barrier, weft_test_long());
        CHECK_GE_INT(index, 0);
        sum += index;
    }
    CHECK_OK(weft_lock_acquire(&c->lock, WEFT_FOREVER));
    c->index_sum += sum;
    CHECK_OK(weft_lock_release(&c->lock));
    return NULL;
}

WEFT_TEST_TIMEOUT(barrier_stress_many_rounds, 90)
{
    /* No lockstep help: threads rush into the next round while others are
     * still leaving the last one. */
    enum { THREADS = 4 };
    cycle c;

    memset(&c, 0, sizeof c);
    weft_barrier_init(&c.barrier, THREADS);
    c.rounds = weft_test_iterations(20000);
    weft_test_run_all(THREADS, cycle_rounds, &c);
    CHECK_EQ_INT(c.index_sum, c.rounds * (0 + 1 + 2 + 3));
    CHECK(!weft_barrier_broken(&c.barrier));
    CHECK_EQ_UINT(weft_barrier_n_waiting(&c.barrier), 0);
}

typedef struct released {
    weft_barrier barrier; /* under test */
    weft_barrier sync;    /* between rounds */
    long rounds;
    weft_lock lock;
    long broken;          /* guarded by lock: released parties that got WEFT_EBROKEN */
} released;

static void *break_after_release(void *arg)
{
    released *r = arg;
    long round;

    for (round = 0; round < r->rounds; round++) {
        int index = weft_barrier_wait(&r->barrier, weft_test_long());

        if (index == N - 1) {
            /* The round is released: break the barrier at once, while the
             * others may not have woken yet. */
            weft_barrier_abort(&r->barrier);
            if (round % 2)
                weft_barrier_reset(&r->barrier);
        } else if (index < 0) {
            CHECK_STATUS(index, WEFT_EBROKEN);
            CHECK_OK(weft_lock_acquire(&r->lock, WEFT_FOREVER));
            r->broken++;
            CHECK_OK(weft_lock_release(&r->lock));
        }
        /* Everyone has left the round: one party mends the barrier. */
        if (weft_barrier_wait(&r->sync, weft_test_long()) == 0)
            weft_barrier_reset(&r->barrier);
        CHECK_GE_INT(weft_barrier_wait(&r->sync, weft_test_long()), 0);
    }
    return NULL;
}

WEFT_TEST_TIMEOUT(barrier_released_party_keeps_its_index, 90)
{
    /* As Java's CyclicBarrier: a party released from a round gets its index,
     * even when the barrier is aborted (or aborted and reset) before it
     * wakes. Only later rounds see the break. */
    released r;

    memset(&r, 0, sizeof r);
    weft_barrier_init(&r.barrier, N);
    weft_barrier_init(&r.sync, N);
    r.rounds = weft_test_iterations(2000);
    weft_test_run_all(N, break_after_release, &r);
    CHECK_EQ_INT(r.broken, 0);
    CHECK(!weft_barrier_broken(&r.barrier));
}
