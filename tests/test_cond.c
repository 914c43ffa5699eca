/* SPDX-License-Identifier: MIT */
/* weft_cond: threading.Condition. */
#include "runner.h"

#include <math.h>

/* Shared by most cases: the lock, the condition under test, and a second
 * condition for the handshakes of the test itself. */
typedef struct shared {
    weft_lock lock;
    weft_cond cond;       /* under test */
    weft_cond handshake;  /* the test's own signalling */
    int ready;            /* guarded by lock: waiters inside weft_cond_wait */
    int woke;             /* guarded by lock */
    int order[16];        /* guarded by lock: who woke, in order */
    int state;            /* guarded by lock */
} shared;

#define SHARED_INIT {WEFT_LOCK_INIT, WEFT_COND_INIT, WEFT_COND_INIT, 0, 0, {0}, 0}

static void lock(shared *s)
{
    CHECK_OK(weft_lock_acquire(&s->lock, WEFT_FOREVER));
}

static void unlock(shared *s)
{
    CHECK_OK(weft_lock_release(&s->lock));
}

/* With the lock held: wait on the handshake until *value >= want. */
static void await_value(shared *s, const int *value, int want)
{
    double deadline = weft_monotonic() + weft_test_long();

    while (*value < want) {
        double left = deadline - weft_monotonic();
        if (left <= 0)
            weft_test_fail(__FILE__, __LINE__, "stuck at %d, waited for %d", *value, want);
        (void)weft_cond_wait(&s->handshake, &s->lock, left);
    }
}

/* Announce "inside the wait", wait once without a predicate (weft promises
 * no spurious wake-ups), record the wake-up. */
static void *wait_once(void *arg)
{
    shared *s = arg;

    lock(s);
    s->ready++;
    weft_cond_notify_all(&s->handshake);
    CHECK_OK(weft_cond_wait(&s->cond, &s->lock, WEFT_FOREVER));
    CHECK(weft_lock_locked(&s->lock)); /* re-acquired */
    s->woke++;
    weft_cond_notify_all(&s->handshake);
    unlock(s);
    return NULL;
}

static bool more_than_two_woke(void *arg)
{
    shared *s = arg;
    return s->woke > 2;
}

/* Start n waiters and return with the lock held once all are waiting: they
 * gave the lock up only inside weft_cond_wait, so all are queued. */
static void start_waiters(shared *s, weft_thread **threads, int n)
{
    weft_test_start_all(threads, n, wait_once, s);
    lock(s);
    await_value(s, &s->ready, n);
}

/* With the lock held, after the notify that wakes the last of n waiters:
 * wait until all n have woken, unlock, join them; check the count. */
static void finish_waiters(shared *s, weft_thread **threads, int n)
{
    await_value(s, &s->woke, n);
    unlock(s);
    weft_test_join_all(threads, n);
    CHECK_EQ_INT(s->woke, n);
}

WEFT_TEST(cond_notify_n_wakes_exactly_n)
{
    enum { N = 5 };
    shared s = SHARED_INIT;
    weft_thread *threads[N];
    int round;

    for (round = 0; round < 2; round++) { /* twice: the state is sound after */
        s.ready = 0;
        s.woke = 0;
        start_waiters(&s, threads, N);
        CHECK_EQ_INT(s.woke, 0);
        weft_cond_notify(&s.cond, 2);
        await_value(&s, &s.woke, 2);
        /* A while longer, nobody else wakes. */
        CHECK_STATUS(weft_cond_wait_for(&s.handshake, &s.lock, more_than_two_woke, &s,
                                        0.1 * weft_test_time_scale()),
                     WEFT_ETIMEDOUT);
        CHECK_EQ_INT(s.woke, 2);
        weft_cond_notify_all(&s.cond);
        finish_waiters(&s, threads, N);
    }
}

WEFT_TEST(cond_notify_one_at_a_time)
{
    enum { N = 4 };
    shared s = SHARED_INIT;
    weft_thread *threads[N];
    int i;

    start_waiters(&s, threads, N);
    for (i = 1; i <= N; i++) {
        weft_cond_notify(&s.cond, 1);
        await_value(&s, &s.woke, i);
        CHECK_EQ_INT(s.woke, i);
    }
    unlock(&s);
    weft_test_join_all(threads, N);
}

WEFT_TEST(cond_notify_all_wakes_all)
{
    enum { N = 6 };
    shared s = SHARED_INIT;
    weft_thread *threads[N];

    start_waiters(&s, threads, N);
    weft_cond_notify_all(&s.cond);
    finish_waiters(&s, threads, N);
}

WEFT_TEST(cond_notify_more_than_waiting)
{
    enum { N = 3 };
    shared s = SHARED_INIT;
    weft_thread *threads[N];
    double t0;

    start_waiters(&s, threads, N);
    weft_cond_notify(&s.cond, 10); /* wakes the 3 there are */
    finish_waiters(&s, threads, N);
    /* The surplus is not saved for a later waiter. */
    lock(&s);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_cond_wait(&s.cond, &s.lock, 0.1), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);
    unlock(&s);
}

WEFT_TEST(cond_notify_without_waiters_is_not_saved)
{
    shared s = SHARED_INIT;
    double t0;

    weft_cond_notify(&s.cond, 1);
    weft_cond_notify_all(&s.cond);
    lock(&s);
    weft_cond_notify(&s.cond, 5);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_cond_wait(&s.cond, &s.lock, 0.1), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);
    CHECK(weft_lock_locked(&s.lock));
    unlock(&s);
}

WEFT_TEST(cond_notify_zero_wakes_nobody)
{
    shared s = SHARED_INIT;
    weft_thread *thread;

    start_waiters(&s, &thread, 1);
    weft_cond_notify(&s.cond, 0);
    unlock(&s);
    CHECK_STATUS(weft_thread_join(thread, 0.1, NULL), WEFT_ETIMEDOUT);
    lock(&s);
    CHECK_EQ_INT(s.woke, 0);
    weft_cond_notify(&s.cond, 1);
    unlock(&s);
    weft_test_join(thread);
    CHECK_EQ_INT(s.woke, 1);
}

WEFT_TEST(cond_notify_goes_to_earlier_waiter)
{
    /* A notify wakes a thread that waited when it was sent, not the next
     * thread to wait: here main itself waits right after notifying. */
    shared s = SHARED_INIT;
    weft_thread *thread;
    double t0;

    start_waiters(&s, &thread, 1);
    weft_cond_notify(&s.cond, 1);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_cond_wait(&s.cond, &s.lock, 0.1), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);
    await_value(&s, &s.woke, 1);
    unlock(&s);
    weft_test_join(thread);
}

static void *wait_in_turn(void *arg)
{
    shared *s = arg;
    int me;

    lock(s);
    me = s->ready++;
    weft_cond_notify_all(&s->handshake);
    CHECK_OK(weft_cond_wait(&s->cond, &s->lock, WEFT_FOREVER));
    s->order[s->woke++] = me;
    weft_cond_notify_all(&s->handshake);
    unlock(s);
    return NULL;
}

WEFT_TEST(cond_waiters_woken_oldest_first)
{
    enum { N = 6 };
    shared s = SHARED_INIT;
    weft_thread *threads[N];
    int i;

    /* Start them one by one, each queued before the next starts. */
    for (i = 0; i < N; i++) {
        threads[i] = weft_test_start(wait_in_turn, &s);
        lock(&s);
        await_value(&s, &s.ready, i + 1);
        unlock(&s);
    }
    lock(&s);
    weft_cond_notify(&s.cond, 2);
    await_value(&s, &s.woke, 2);
    weft_cond_notify(&s.cond, 1);
    await_value(&s, &s.woke, 3);
    weft_cond_notify_all(&s.cond);
    finish_waiters(&s, threads, N);
    /* The first two may come back in either order; the rest in order. */
    CHECK((s.order[0] == 0 && s.order[1] == 1) || (s.order[0] == 1 && s.order[1] == 0));
    CHECK_EQ_INT(s.order[2], 2);
}

typedef struct timed_wait {
    shared *s;
    double timeout;
    int status;
    double elapsed;
    bool locked_after;
} timed_wait;

static void *wait_with_timeout(void *arg)
{
    timed_wait *t = arg;
    double t0;

    lock(t->s);
    t->s->ready++;
    weft_cond_notify_all(&t->s->handshake);
    t0 = weft_monotonic();
    t->status = weft_cond_wait(&t->s->cond, &t->s->lock, t->timeout);
    t->elapsed = weft_monotonic() - t0;
    t->locked_after = weft_lock_locked(&t->s->lock);
    unlock(t->s);
    return NULL;
}

WEFT_TEST(cond_wait_timeout)
{
    enum { N = 4 };
    shared s = SHARED_INIT;
    timed_wait t[N];
    weft_thread *threads[N];
    int i;

    for (i = 0; i < N; i++) {
        t[i].s = &s;
        t[i].timeout = 0.2;
        t[i].status = 99;
        threads[i] = weft_test_start(wait_with_timeout, &t[i]);
    }
    for (i = 0; i < N; i++) {
        weft_test_join(threads[i]);
        CHECK_STATUS(t[i].status, WEFT_ETIMEDOUT);
        CHECK_DURATION(t[i].elapsed, 0.2);
        CHECK(t[i].locked_after);
    }
    CHECK(!weft_lock_locked(&s.lock));
}

WEFT_TEST(cond_wait_zero_timeout)
{
    shared s = SHARED_INIT;
    double t0;

    lock(&s);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_cond_wait(&s.cond, &s.lock, 0), WEFT_ETIMEDOUT);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack());
    CHECK(weft_lock_locked(&s.lock));
    unlock(&s);
    CHECK_STATUS(weft_lock_release(&s.lock), WEFT_EPERM); /* held exactly once */
}

WEFT_TEST(cond_wait_notified_before_timeout)
{
    shared s = SHARED_INIT;
    timed_wait t = {NULL, 0, 99, 0, false};
    weft_thread *thread;

    t.s = &s;
    t.timeout = weft_test_long();
    thread = weft_test_start(wait_with_timeout, &t);
    lock(&s);
    await_value(&s, &s.ready, 1); /* queued: it gave the lock up waiting */
    weft_cond_notify(&s.cond, 1);
    unlock(&s);
    weft_test_join(thread);
    CHECK_OK(t.status);
    CHECK_LT_DBL(t.elapsed, t.timeout);
    CHECK(t.locked_after);
}

WEFT_TEST(cond_wait_notified_then_lock_held_past_timeout)
{
    /* Notified while the notifier holds the lock (and so, where the
     * platform can, handed over to sleep on the lock: cond.c), the waiter
     * waits for the lock past its own deadline, and reports the notify. */
    shared s = SHARED_INIT;
    timed_wait t = {NULL, 0, 99, 0, false};
    weft_thread *thread;
    double until;

    t.s = &s;
    t.timeout = 0.05 * weft_test_time_scale();
    thread = weft_test_start(wait_with_timeout, &t);
    lock(&s);
    await_value(&s, &s.ready, 1); /* queued: it gave the lock up waiting */
    weft_cond_notify(&s.cond, 1);
    until = weft_monotonic() + 2 * t.timeout;
    while (weft_monotonic() < until)
        continue; /* hold the lock past the waiter's deadline */
    unlock(&s);
    weft_test_join(thread);
    CHECK_OK(t.status);
    CHECK(t.elapsed >= 2 * t.timeout);
    CHECK(t.locked_after);
}

WEFT_TEST(cond_wait_lock_not_held_eperm)
{
    shared s = SHARED_INIT;
    double t0 = weft_monotonic();

    CHECK_STATUS(weft_cond_wait(&s.cond, &s.lock, WEFT_FOREVER), WEFT_EPERM);
    CHECK_STATUS(weft_cond_wait(&s.cond, &s.lock, 1.0), WEFT_EPERM);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack()); /* did not wait */
    CHECK(!weft_lock_locked(&s.lock)); /* nothing changed */
    /* The condition still works. */
    lock(&s);
    CHECK_STATUS(weft_cond_wait(&s.cond, &s.lock, 0.01), WEFT_ETIMEDOUT);
    unlock(&s);
}

static bool always_true(void *arg)
{
    (void)arg;
    return true;
}

WEFT_TEST(cond_wait_null_and_bad_timeout_einval)
{
    shared s = SHARED_INIT;
    weft_rlock r = WEFT_RLOCK_INIT;

    lock(&s);
    CHECK_STATUS(weft_cond_wait(NULL, &s.lock, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_cond_wait(&s.cond, NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_cond_wait(&s.cond, &s.lock, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_cond_wait(&s.cond, &s.lock, NAN), WEFT_EINVAL);
    CHECK(weft_lock_locked(&s.lock)); /* nothing changed: still held */
    CHECK_STATUS(weft_cond_wait_for(NULL, &s.lock, always_true, NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_cond_wait_for(&s.cond, NULL, always_true, NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_cond_wait_for(&s.cond, &s.lock, NULL, NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_cond_wait_for(&s.cond, &s.lock, always_true, NULL, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_cond_wait_for(&s.cond, &s.lock, always_true, NULL, NAN), WEFT_EINVAL);
    CHECK(weft_lock_locked(&s.lock));
    unlock(&s);
    CHECK_OK(weft_rlock_acquire(&r, 0));
    CHECK_STATUS(weft_cond_wait_rlock(NULL, &r, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_cond_wait_rlock(&s.cond, NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_cond_wait_rlock(&s.cond, &r, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_cond_wait_rlock(&s.cond, &r, NAN), WEFT_EINVAL);
    CHECK(weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_release(&r));
    CHECK_STATUS(weft_rlock_release(&r), WEFT_EPERM); /* one level, as before */
}

WEFT_TEST(cond_zero_filled_works)
{
    weft_cond cond;
    shared s = SHARED_INIT;
    weft_thread *thread;

    memset(&cond, 0, sizeof cond);
    memcpy(&s.cond, &cond, sizeof cond);
    start_waiters(&s, &thread, 1);
    weft_cond_notify(&s.cond, 1);
    await_value(&s, &s.woke, 1);
    unlock(&s);
    weft_test_join(thread);
}

WEFT_TEST(cond_notify_null_does_nothing)
{
    weft_cond_notify(NULL, 1);
    weft_cond_notify(NULL, 0);
    weft_cond_notify_all(NULL);
    CHECK(true); /* reaching here is the test: no crash */
}

/* ---- wait_for -------------------------------------------------------------------- */

typedef struct pred_state {
    shared *s;
    int target;
    int calls;
    bool lock_held_in_pred;
} pred_state;

static bool state_reached(void *arg)
{
    pred_state *p = arg;

    p->calls++;
    if (!weft_lock_locked(&p->s->lock))
        p->lock_held_in_pred = false;
    return p->s->state >= p->target;
}

WEFT_TEST(cond_wait_for_true_at_once)
{
    shared s = SHARED_INIT;
    pred_state p = {NULL, 0, 0, true};
    double t0;

    p.s = &s;
    lock(&s);
    t0 = weft_monotonic();
    CHECK_OK(weft_cond_wait_for(&s.cond, &s.lock, state_reached, &p, WEFT_FOREVER));
    CHECK_OK(weft_cond_wait_for(&s.cond, &s.lock, state_reached, &p, 0));
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack());
    CHECK_EQ_INT(p.calls, 2); /* checked first, before any waiting */
    CHECK(p.lock_held_in_pred);
    CHECK(weft_lock_locked(&s.lock));
    unlock(&s);
}

WEFT_TEST(cond_wait_for_false_zero_timeout)
{
    shared s = SHARED_INIT;
    pred_state p = {NULL, 1, 0, true};

    p.s = &s;
    lock(&s);
    CHECK_STATUS(weft_cond_wait_for(&s.cond, &s.lock, state_reached, &p, 0), WEFT_ETIMEDOUT);
    CHECK_GE_INT(p.calls, 1);
    CHECK(weft_lock_locked(&s.lock));
    unlock(&s);
}

WEFT_TEST(cond_wait_for_lock_not_held_eperm)
{
    shared s = SHARED_INIT;
    pred_state p = {NULL, 0, 0, true};

    p.s = &s;
    CHECK_STATUS(weft_cond_wait_for(&s.cond, &s.lock, state_reached, &p, WEFT_FOREVER),
                 WEFT_EPERM);
    CHECK(!weft_lock_locked(&s.lock));
}

typedef struct wait_for_job {
    shared *s;
    pred_state pred;
    double timeout;
    int status;
    double elapsed;
    int state_seen;
} wait_for_job;

static void *run_wait_for(void *arg)
{
    wait_for_job *j = arg;
    double t0;

    lock(j->s);
    j->s->ready++;
    weft_cond_notify_all(&j->s->handshake);
    t0 = weft_monotonic();
    j->status = weft_cond_wait_for(&j->s->cond, &j->s->lock, state_reached, &j->pred, j->timeout);
    j->elapsed = weft_monotonic() - t0;
    j->state_seen = j->s->state;
    unlock(j->s);
    return NULL;
}

WEFT_TEST(cond_wait_for_becomes_true)
{
    shared s = SHARED_INIT;
    wait_for_job j;
    weft_thread *thread;
    int i;

    memset(&j, 0, sizeof j);
    j.s = &s;
    j.pred.s = &s;
    j.pred.target = 4;
    j.pred.lock_held_in_pred = true;
    j.timeout = WEFT_FOREVER;
    thread = weft_test_start(run_wait_for, &j);
    lock(&s);
    await_value(&s, &s.ready, 1);
    for (i = 0; i < 4; i++) {
        s.state++;
        weft_cond_notify(&s.cond, 1);
        unlock(&s);
        lock(&s);
    }
    unlock(&s);
    weft_test_join(thread);
    CHECK_OK(j.status);
    CHECK_EQ_INT(j.state_seen, 4);
    CHECK(j.pred.lock_held_in_pred);
}

WEFT_TEST(cond_wait_for_one_deadline)
{
    /* The predicate never holds and the waiter is woken again and again:
     * it must still give up at its one deadline, not restart the clock at
     * each wake-up (total ~ timeout, not timeout x wake-ups). */
    static const double timeout = 0.3;
    shared s = SHARED_INIT;
    wait_for_job j;
    weft_thread *thread;
    double t0 = weft_monotonic(), limit;

    memset(&j, 0, sizeof j);
    j.s = &s;
    j.pred.s = &s;
    j.pred.target = 1; /* state stays 0 */
    j.pred.lock_held_in_pred = true;
    j.timeout = timeout;
    thread = weft_test_start(run_wait_for, &j);
    limit = timeout + 3 * weft_test_slack();
    /* Notify every millisecond until the waiter returns (or far too long). */
    while (weft_thread_join(thread, 0.001, NULL) == WEFT_ETIMEDOUT &&
           weft_monotonic() - t0 < limit) {
        lock(&s);
        weft_cond_notify_all(&s.cond);
        unlock(&s);
    }
    weft_test_join(thread);
    CHECK_STATUS(j.status, WEFT_ETIMEDOUT);
    CHECK_DURATION(j.elapsed, timeout);
    CHECK_GE_INT(j.pred.calls, 3); /* it really was woken repeatedly */
    CHECK(j.pred.lock_held_in_pred);
}

/* ---- wait_rlock ------------------------------------------------------------------ */

typedef struct rlock_job {
    weft_rlock rlock;
    weft_cond cond;
    bool got_it;       /* guarded by rlock */
    bool was_owned;    /* before acquiring: false expected */
} rlock_job;

static void *take_rlock_and_notify(void *arg)
{
    rlock_job *j = arg;

    j->was_owned = weft_rlock_is_owned(&j->rlock);
    /* Main holds 3 levels and waits: it must have given up every one. */
    CHECK_OK(weft_rlock_acquire(&j->rlock, weft_test_long()));
    j->got_it = true;
    weft_cond_notify(&j->cond, 1);
    CHECK_OK(weft_rlock_release(&j->rlock));
    return NULL;
}

WEFT_TEST(cond_wait_rlock_restores_every_level)
{
    rlock_job j = {WEFT_RLOCK_INIT, WEFT_COND_INIT, false, true};
    weft_thread *thread;
    int i;

    for (i = 0; i < 3; i++)
        CHECK_OK(weft_rlock_acquire(&j.rlock, WEFT_FOREVER));
    thread = weft_test_start(take_rlock_and_notify, &j);
    while (!j.got_it) /* guarded by the rlock, held again on return */
        CHECK_OK(weft_cond_wait_rlock(&j.cond, &j.rlock, weft_test_long()));
    CHECK(weft_rlock_is_owned(&j.rlock));
    weft_test_join(thread);
    CHECK(!j.was_owned);
    for (i = 0; i < 3; i++) {
        CHECK(weft_rlock_is_owned(&j.rlock));
        CHECK_OK(weft_rlock_release(&j.rlock));
    }
    CHECK(!weft_rlock_is_owned(&j.rlock));
    CHECK_STATUS(weft_rlock_release(&j.rlock), WEFT_EPERM);
}

WEFT_TEST(cond_wait_rlock_timeout_restores_levels)
{
    weft_rlock r = WEFT_RLOCK_INIT;
    weft_cond c = WEFT_COND_INIT;
    double t0;

    CHECK_OK(weft_rlock_acquire(&r, WEFT_FOREVER));
    CHECK_OK(weft_rlock_acquire(&r, WEFT_FOREVER));
    t0 = weft_monotonic();
    CHECK_STATUS(weft_cond_wait_rlock(&c, &r, 0.1), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);
    CHECK(weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_release(&r));
    CHECK(weft_rlock_is_owned(&r));
    CHECK_OK(weft_rlock_release(&r));
    CHECK_STATUS(weft_rlock_release(&r), WEFT_EPERM);
}

typedef struct foreign_owner {
    weft_rlock rlock;
    weft_event held;
    weft_event done;
} foreign_owner;

static void *own_rlock_until_done(void *arg)
{
    foreign_owner *f = arg;

    CHECK_OK(weft_rlock_acquire(&f->rlock, WEFT_FOREVER));
    weft_event_set(&f->held);
    weft_test_wait_event(&f->done);
    CHECK_OK(weft_rlock_release(&f->rlock));
    return NULL;
}

WEFT_TEST(cond_wait_rlock_not_owner_eperm)
{
    foreign_owner f = {WEFT_RLOCK_INIT, WEFT_EVENT_INIT, WEFT_EVENT_INIT};
    weft_cond c = WEFT_COND_INIT;
    weft_thread *thread;

    CHECK_STATUS(weft_cond_wait_rlock(&c, &f.rlock, WEFT_FOREVER), WEFT_EPERM); /* unowned */
    thread = weft_test_start(own_rlock_until_done, &f);
    weft_test_wait_event(&f.held);
    CHECK_STATUS(weft_cond_wait_rlock(&c, &f.rlock, WEFT_FOREVER), WEFT_EPERM); /* other's */
    CHECK_STATUS(weft_rlock_acquire(&f.rlock, 0), WEFT_ETIMEDOUT);             /* unchanged */
    weft_event_set(&f.done);
    weft_test_join(thread);
    CHECK_OK(weft_rlock_acquire(&f.rlock, 0));
    CHECK_OK(weft_rlock_release(&f.rlock));
}

/* ---- Races ------------------------------------------------------------------------ */

typedef struct race {
    weft_lock lock;
    weft_cond cond;      /* under test */
    weft_cond handshake;
    long round;          /* guarded by lock: set by main */
    long rounds;
    int ready;           /* guarded by lock */
    long timed_done;     /* guarded by lock: rounds the timed waiter finished */
    long forever_woken;  /* guarded by lock */
    bool timed_ok;       /* guarded by lock: the timed waiter's last result */
} race;

static void race_wait_round(race *r, long round)
{
    double deadline = weft_monotonic() + weft_test_long();

    while (r->round < round) {
        CHECK_LT_DBL(weft_monotonic(), deadline);
        (void)weft_cond_wait(&r->handshake, &r->lock, deadline - weft_monotonic());
    }
}

/* The timed waiter's timeout. Main notifies some delay after both wait,
 * so that the notify lands right at the moment the timeout fires, where a
 * lost notify would hide. On even rounds the delay is a staircase, longer
 * after the timed waiter got the notify, shorter after it timed out: it
 * homes in on that moment whatever the platform's timer slack (up to
 * RACE_MAX_DELAY). On odd rounds it sweeps 0 to 252 us, for when
 * scheduling noise misleads the staircase. */
#define RACE_TIMEOUT 60e-6
#define RACE_MAX_DELAY 500e-6
#define RACE_SWEEP_STEP 4e-6

static void *race_timed_waiter(void *arg)
{
    race *r = arg;
    long round;

    CHECK_OK(weft_lock_acquire(&r->lock, WEFT_FOREVER));
    for (round = 1; round <= r->rounds; round++) {
        int status;
        race_wait_round(r, round);
        r->ready++;
        weft_cond_notify_all(&r->handshake);
        status = weft_cond_wait(&r->cond, &r->lock, RACE_TIMEOUT);
        CHECK(status == WEFT_OK || status == WEFT_ETIMEDOUT);
        r->timed_ok = status == WEFT_OK;
        r->timed_done = round;
        weft_cond_notify_all(&r->handshake);
    }
    CHECK_OK(weft_lock_release(&r->lock));
    return NULL;
}

static void *race_forever_waiter(void *arg)
{
    race *r = arg;
    long round;

    CHECK_OK(weft_lock_acquire(&r->lock, WEFT_FOREVER));
    for (round = 1; round <= r->rounds; round++) {
        race_wait_round(r, round);
        r->ready++;
        weft_cond_notify_all(&r->handshake);
        CHECK_OK(weft_cond_wait(&r->cond, &r->lock, WEFT_FOREVER));
        r->forever_woken = round;
        weft_cond_notify_all(&r->handshake);
    }
    CHECK_OK(weft_lock_release(&r->lock));
    return NULL;
}

static void race_await(race *r, const long *value, long want)
{
    double deadline = weft_monotonic() + weft_test_long();

    while (*value < want) {
        if (weft_monotonic() >= deadline)
            weft_test_fail(__FILE__, __LINE__, "round %ld: stuck at %ld, waited for %ld (a lost notify?)",
                           r->round, *value, want);
        (void)weft_cond_wait(&r->handshake, &r->lock, deadline - weft_monotonic());
    }
}

WEFT_TEST_TIMEOUT(cond_notify_not_lost_to_timeout, 90)
{
    /* A waiter with a tiny timeout and one without; notify(1) races the
     * timeout. Whoever it wakes returns WEFT_OK: if the timed waiter
     * reports a timeout, the notify must have gone to the other waiter. */
    race r;
    weft_thread *timed, *forever;
    double delay = 0;
    long round;

    memset(&r, 0, sizeof r);
    r.rounds = weft_test_iterations(4000);
    timed = weft_test_start(race_timed_waiter, &r);
    forever = weft_test_start(race_forever_waiter, &r);
    CHECK_OK(weft_lock_acquire(&r.lock, WEFT_FOREVER));
    for (round = 1; round <= r.rounds; round++) {
        r.ready = 0;
        r.round = round;
        weft_cond_notify_all(&r.handshake);
        {
            double deadline = weft_monotonic() + weft_test_long();
            while (r.ready < 2) {
                CHECK_LT_DBL(weft_monotonic(), deadline);
                (void)weft_cond_wait(&r.handshake, &r.lock, deadline - weft_monotonic());
            }
        }
        {
            /* A busy delay (not synchronisation): see RACE_TIMEOUT. */
            double until = weft_monotonic() + (round % 2 == 0 ? delay
                                                  : RACE_SWEEP_STEP * (double)(round / 2 % 64));
            while (weft_monotonic() < until) {
            }
        }
        weft_cond_notify(&r.cond, 1);
        race_await(&r, &r.timed_done, round);
        if (r.timed_ok) {
            /* The notify went to the timed waiter: the other still waits. */
            CHECK_EQ_INT(r.forever_woken, round - 1);
            weft_cond_notify(&r.cond, 1);
        }
        race_await(&r, &r.forever_woken, round);
        if (round % 2 == 0) {
            delay += (r.timed_ok ? 1 : -1) * (delay / 16 + 1e-6);
            delay = delay < 0 ? 0 : delay > RACE_MAX_DELAY ? RACE_MAX_DELAY : delay;
        }
    }
    CHECK_OK(weft_lock_release(&r.lock));
    weft_test_join(timed);
    weft_test_join(forever);
}

/* ---- Throughput ------------------------------------------------------------------- */

typedef struct ping_pong {
    weft_lock lock;
    weft_cond cond;
    long rounds;
    long turn;      /* guarded by lock: even: ping's turn, odd: pong's */
} ping_pong;

static void *player(void *arg, long parity)
{
    ping_pong *p = arg;
    long i;

    CHECK_OK(weft_lock_acquire(&p->lock, WEFT_FOREVER));
    for (i = 0; i < p->rounds; i++) {
        while (p->turn % 2 != parity)
            CHECK_OK(weft_cond_wait(&p->cond, &p->lock, weft_test_long()));
        p->turn++;
        weft_cond_notify(&p->cond, 1);
    }
    CHECK_OK(weft_lock_release(&p->lock));
    return NULL;
}

static void *ping(void *arg)
{
    return player(arg, 0);
}

static void *pong(void *arg)
{
    return player(arg, 1);
}

WEFT_TEST_TIMEOUT(cond_ping_pong, 120)
{
    ping_pong p = {WEFT_LOCK_INIT, WEFT_COND_INIT, 0, 0};
    weft_thread *a, *b;

    p.rounds = weft_test_iterations(100000);
    a = weft_test_start(ping, &p);
    b = weft_test_start(pong, &p);
    weft_test_join(a);
    weft_test_join(b);
    CHECK_EQ_INT(p.turn, 2 * p.rounds);
}

typedef struct buffer {
    weft_lock lock;
    weft_cond not_empty, not_full;
    int items[4];
    int count, head;
    long produced_sum, consumed_sum; /* guarded by lock */
    long per_producer;
    int producers_left;              /* guarded by lock */
} buffer;

static bool buffer_has_room(void *arg)
{
    buffer *b = arg;
    return b->count < 4;
}

static void *produce(void *arg)
{
    buffer *b = arg;
    long i;

    for (i = 1; i <= b->per_producer; i++) {
        CHECK_OK(weft_lock_acquire(&b->lock, WEFT_FOREVER));
        CHECK_OK(weft_cond_wait_for(&b->not_full, &b->lock, buffer_has_room, b, weft_test_long()));
        b->items[(b->head + b->count) % 4] = (int)(i % 1000);
        b->count++;
        b->produced_sum += i % 1000;
        weft_cond_notify(&b->not_empty, 1);
        CHECK_OK(weft_lock_release(&b->lock));
    }
    CHECK_OK(weft_lock_acquire(&b->lock, WEFT_FOREVER));
    b->producers_left--;
    weft_cond_notify_all(&b->not_empty);
    CHECK_OK(weft_lock_release(&b->lock));
    return NULL;
}

static void *consume(void *arg)
{
    buffer *b = arg;
    double deadline = weft_monotonic() + 5 * weft_test_long();

    CHECK_OK(weft_lock_acquire(&b->lock, WEFT_FOREVER));
    for (;;) {
        while (b->count == 0 && b->producers_left > 0) {
            /* Short timeouts on purpose: timeouts and notifies cross. */
            int status = weft_cond_wait(&b->not_empty, &b->lock, 0.001);
            CHECK(status == WEFT_OK || status == WEFT_ETIMEDOUT);
            CHECK_LT_DBL(weft_monotonic(), deadline);
        }
        if (b->count == 0)
            break;
        b->consumed_sum += b->items[b->head];
        b->head = (b->head + 1) % 4;
        b->count--;
        weft_cond_notify(&b->not_full, 1);
    }
    CHECK_OK(weft_lock_release(&b->lock));
    return NULL;
}

WEFT_TEST_TIMEOUT(cond_stress_bounded_buffer, 120)
{
    enum { PRODUCERS = 3, CONSUMERS = 3 };
    buffer b;
    weft_thread *threads[PRODUCERS + CONSUMERS];
    int i;

    memset(&b, 0, sizeof b);
    b.per_producer = weft_test_iterations(20000);
    b.producers_left = PRODUCERS;
    weft_test_start_all(threads, CONSUMERS, consume, &b);
    for (i = 0; i < PRODUCERS; i++)
        threads[CONSUMERS + i] = weft_test_start(produce, &b);
    weft_test_join_all(threads, PRODUCERS + CONSUMERS);
    CHECK_EQ_INT(b.count, 0);
    CHECK_EQ_INT(b.consumed_sum, b.produced_sum);
    CHECK(b.produced_sum > 0);
}
