/* SPDX-License-Identifier: MIT */
/* weft_call_once. */
#include "runner.h"

typedef struct init_state {
    weft_lock lock;
    int calls;      /* guarded by lock */
    bool finished;  /* guarded by lock */
    void *arg_seen; /* guarded by lock */
    double work;    /* seconds fn takes */
} init_state;

static void init_fn(void *arg)
{
    init_state *s = arg;

    CHECK_OK(weft_lock_acquire(&s->lock, WEFT_FOREVER));
    s->calls++;
    s->arg_seen = arg;
    CHECK_OK(weft_lock_release(&s->lock));
    if (s->work > 0)
        CHECK_OK(weft_sleep(s->work)); /* keep the others waiting on it */
    CHECK_OK(weft_lock_acquire(&s->lock, WEFT_FOREVER));
    s->finished = true;
    CHECK_OK(weft_lock_release(&s->lock));
}

WEFT_TEST(once_runs_once)
{
    weft_once once = WEFT_ONCE_INIT;
    init_state s = {WEFT_LOCK_INIT, 0, false, NULL, 0};

    weft_call_once(&once, init_fn, &s);
    CHECK_EQ_INT(s.calls, 1);
    CHECK(s.finished);
    CHECK_EQ_PTR(s.arg_seen, &s);
    weft_call_once(&once, init_fn, &s);
    weft_call_once(&once, init_fn, &s);
    CHECK_EQ_INT(s.calls, 1);
}

WEFT_TEST(once_zero_filled_and_independent)
{
    weft_once a, b;
    init_state sa = {WEFT_LOCK_INIT, 0, false, NULL, 0};
    init_state sb = {WEFT_LOCK_INIT, 0, false, NULL, 0};

    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    weft_call_once(&a, init_fn, &sa);
    weft_call_once(&a, init_fn, &sb); /* a has run: fn is not called */
    weft_call_once(&b, init_fn, &sb);
    weft_call_once(&b, init_fn, &sa);
    CHECK_EQ_INT(sa.calls, 1);
    CHECK_EQ_INT(sb.calls, 1);
}

WEFT_TEST(once_null_does_nothing)
{
    weft_once once = WEFT_ONCE_INIT;
    init_state s = {WEFT_LOCK_INIT, 0, false, NULL, 0};

    weft_call_once(NULL, init_fn, &s);
    CHECK_EQ_INT(s.calls, 0);
    weft_call_once(&once, NULL, &s);
    /* NULL fn did nothing, and did not use up the once. */
    weft_call_once(&once, init_fn, &s);
    CHECK_EQ_INT(s.calls, 1);
}

typedef struct race {
    weft_once once;
    init_state state;
    weft_barrier start;
} race;

static void *call_once_racing(void *arg)
{
    race *r = arg;
    bool finished;

    CHECK_GE_INT(weft_barrier_wait(&r->start, weft_test_long()), 0);
    weft_call_once(&r->once, init_fn, &r->state);
    /* Every caller returns only after fn has returned. */
    CHECK_OK(weft_lock_acquire(&r->state.lock, WEFT_FOREVER));
    finished = r->state.finished;
    CHECK_EQ_INT(r->state.calls, 1);
    CHECK_OK(weft_lock_release(&r->state.lock));
    CHECK(finished);
    return NULL;
}

WEFT_TEST(once_race)
{
    enum { N = 16, ROUNDS = 20 };
    int round;

    for (round = 0; round < ROUNDS; round++) {
        race r;

        memset(&r, 0, sizeof r);
        weft_barrier_init(&r.start, N);
        /* Now and then fn is slow, so the others surely wait for it. */
        r.state.work = (round % 5 == 0) ? 0.05 : 0;
        weft_test_run_all(N, call_once_racing, &r);
        CHECK_EQ_INT(r.state.calls, 1);
        CHECK(r.state.finished);
    }
}
