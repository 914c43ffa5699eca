/* SPDX-License-Identifier: MIT */
/* weft_queue: queue.Queue, LifoQueue and PriorityQueue, with Python 3.13's
 * shutdown. */
#include "runner.h"

#include <math.h>
#include <stdlib.h>

/* ---- Helpers ------------------------------------------------------------------ */

/* Items that are never dereferenced by FIFO and LIFO queues: sentinel
 * values, not pointers to anything. 0 is avoided so a NULL stands out. */
#define ITEM(n) ((void *)(uintptr_t)(0x1000u + (uintptr_t)(n)))
#define ITEM_NUM(p) ((long)((uintptr_t)(p) - 0x1000u))

static weft_queue *make_queue(weft_queue_kind kind, size_t maxsize,
                              int (*compare)(const void *, const void *))
{
    weft_queue_opts opts;
    weft_queue *q = NULL;

    memset(&opts, 0, sizeof opts);
    opts.kind = kind;
    opts.maxsize = maxsize;
    opts.compare = compare;
    CHECK_OK(weft_queue_create(&q, &opts));
    CHECK(q != NULL);
    return q;
}

/* Get with timeout 0 and check it is `want`. */
static void get_expect(weft_queue *q, void *want)
{
    void *got = NULL;

    CHECK_OK(weft_queue_get(q, &got, 0));
    CHECK_EQ_PTR(got, want);
}

/* An item of a priority queue: ordered by `prio` only; `seq` tells equal
 * items apart, to check FIFO order among them. */
typedef struct prio_item {
    int prio;
    int seq;
} prio_item;

static int compare_prio(const void *a, const void *b)
{
    const prio_item *x = a, *y = b;

    /* Only the sign may matter: return large magnitudes. */
    return x->prio < y->prio ? -1000 : x->prio > y->prio ? 1000 : 0;
}

/* A small deterministic generator (no rand(): same on every platform). */
static uint32_t lcg_next(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

/* ---- Create and misuse ------------------------------------------------------- */

WEFT_TEST(queue_create_null_opts_is_unbounded_fifo)
{
    weft_queue *q = NULL;
    long i;

    CHECK_OK(weft_queue_create(&q, NULL));
    CHECK(q != NULL);
    CHECK(weft_queue_empty(q));
    CHECK(!weft_queue_full(q));
    /* Unbounded: far more than any default capacity, none waits. */
    for (i = 0; i < 5000; i++) {
        CHECK_OK(weft_queue_put(q, ITEM(i), 0));
        CHECK(!weft_queue_full(q));
    }
    CHECK_EQ_UINT(weft_queue_size(q), 5000);
    for (i = 0; i < 5000; i++)
        get_expect(q, ITEM(i));
    CHECK(weft_queue_empty(q));
    weft_queue_destroy(q);
}

WEFT_TEST(queue_create_einval)
{
    weft_queue_opts opts;
    weft_queue *q;

    CHECK_STATUS(weft_queue_create(NULL, NULL), WEFT_EINVAL);

    memset(&opts, 0, sizeof opts);
    opts.kind = WEFT_QUEUE_PRIORITY; /* without compare */
    q = ITEM(1);
    CHECK_STATUS(weft_queue_create(&q, &opts), WEFT_EINVAL);
    CHECK(q == NULL);
    opts.maxsize = 8;
    q = ITEM(1);
    CHECK_STATUS(weft_queue_create(&q, &opts), WEFT_EINVAL);
    CHECK(q == NULL);

    memset(&opts, 0, sizeof opts);
    opts.kind = (weft_queue_kind)3; /* one past the last */
    q = ITEM(1);
    CHECK_STATUS(weft_queue_create(&q, &opts), WEFT_EINVAL);
    CHECK(q == NULL);
    opts.kind = (weft_queue_kind)1000;
    opts.compare = compare_prio;
    q = ITEM(1);
    CHECK_STATUS(weft_queue_create(&q, &opts), WEFT_EINVAL);
    CHECK(q == NULL);
    opts.kind = (weft_queue_kind)-1;
    q = ITEM(1);
    CHECK_STATUS(weft_queue_create(&q, &opts), WEFT_EINVAL);
    CHECK(q == NULL);

    /* NULL out with valid options too. */
    opts.kind = WEFT_QUEUE_PRIORITY;
    CHECK_STATUS(weft_queue_create(NULL, &opts), WEFT_EINVAL);

    /* Each valid kind is accepted. */
    opts.kind = WEFT_QUEUE_FIFO;
    CHECK_OK(weft_queue_create(&q, &opts));
    weft_queue_destroy(q);
    opts.kind = WEFT_QUEUE_LIFO;
    CHECK_OK(weft_queue_create(&q, &opts));
    weft_queue_destroy(q);
    opts.kind = WEFT_QUEUE_PRIORITY;
    CHECK_OK(weft_queue_create(&q, &opts));
    weft_queue_destroy(q);
}

WEFT_TEST(queue_null_arguments)
{
    weft_queue *q;
    void *got = ITEM(99);

    CHECK_STATUS(weft_queue_put(NULL, ITEM(1), 0), WEFT_EINVAL);
    CHECK_STATUS(weft_queue_put(NULL, ITEM(1), WEFT_FOREVER), WEFT_EINVAL);
    CHECK_STATUS(weft_queue_get(NULL, &got, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_queue_get(NULL, &got, WEFT_FOREVER), WEFT_EINVAL);
    CHECK_EQ_PTR(got, ITEM(99));
    CHECK_STATUS(weft_queue_task_done(NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_queue_join(NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_queue_join(NULL, WEFT_FOREVER), WEFT_EINVAL);
    CHECK_EQ_UINT(weft_queue_size(NULL), 0);
    CHECK(weft_queue_empty(NULL));
    CHECK(!weft_queue_full(NULL));
    weft_queue_shutdown(NULL, false);
    weft_queue_shutdown(NULL, true);
    weft_queue_destroy(NULL);

    /* A NULL place for the item: EINVAL, and the item stays queued. */
    q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
    CHECK_STATUS(weft_queue_get(q, NULL, 0), WEFT_EINVAL);
    CHECK_OK(weft_queue_put(q, ITEM(1), 0));
    CHECK_STATUS(weft_queue_get(q, NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_queue_get(q, NULL, WEFT_FOREVER), WEFT_EINVAL);
    CHECK_STATUS(weft_queue_get(q, NULL, 1.0), WEFT_EINVAL);
    CHECK_EQ_UINT(weft_queue_size(q), 1);
    get_expect(q, ITEM(1));
    CHECK_OK(weft_queue_task_done(q));
    CHECK_OK(weft_queue_join(q, 0));
    weft_queue_destroy(q);
}

WEFT_TEST(queue_bad_timeouts)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 1, NULL);
    const double bad[] = {-2.0, -0.5, -1e-9, -1e300, -INFINITY, NAN};
    void *got = ITEM(99);
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* Empty: a get with a bad timeout fails at once; nothing is put. */
        CHECK_STATUS(weft_queue_get(q, &got, bad[i]), WEFT_EINVAL);
        CHECK_STATUS(weft_queue_put(q, ITEM(1), bad[i]), WEFT_EINVAL);
        CHECK_EQ_UINT(weft_queue_size(q), 0);
        CHECK_OK(weft_queue_join(q, 0));
        CHECK_STATUS(weft_queue_join(q, bad[i]), WEFT_EINVAL);

        /* Full: a put with a bad timeout is refused, a get takes nothing. */
        CHECK_OK(weft_queue_put(q, ITEM(2), 0));
        CHECK_STATUS(weft_queue_put(q, ITEM(3), bad[i]), WEFT_EINVAL);
        CHECK_STATUS(weft_queue_get(q, &got, bad[i]), WEFT_EINVAL);
        CHECK_EQ_UINT(weft_queue_size(q), 1);
        CHECK_STATUS(weft_queue_join(q, bad[i]), WEFT_EINVAL);
        get_expect(q, ITEM(2));
        /* Only the good put counts as a task. */
        CHECK_OK(weft_queue_task_done(q));
        CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
        CHECK_OK(weft_queue_join(q, 0));
    }
    CHECK_EQ_PTR(got, ITEM(99)); /* no failed get wrote it */
    /* Too large to represent: treated as forever, so it returns at once
     * when there is no need to wait. */
    CHECK_OK(weft_queue_put(q, ITEM(4), 1e300));
    get_expect(q, ITEM(4));
    CHECK_OK(weft_queue_put(q, ITEM(5), INFINITY));
    CHECK_OK(weft_queue_get(q, &got, INFINITY));
    CHECK_EQ_PTR(got, ITEM(5));
    CHECK_OK(weft_queue_task_done(q));
    CHECK_OK(weft_queue_task_done(q));
    CHECK_OK(weft_queue_join(q, 1e300));
    weft_queue_destroy(q);
}

/* ---- Order ----------------------------------------------------------------- */

WEFT_TEST(queue_fifo_order)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
    long i, next_put = 0, next_get = 0;

    for (i = 0; i < 10; i++)
        CHECK_OK(weft_queue_put(q, ITEM(next_put++), 0));
    for (i = 0; i < 4; i++)
        get_expect(q, ITEM(next_get++));
    /* Grow while the ring (if it is one) has wrapped. */
    for (i = 0; i < 1000; i++)
        CHECK_OK(weft_queue_put(q, ITEM(next_put++), WEFT_FOREVER));
    CHECK_EQ_UINT(weft_queue_size(q), (size_t)(next_put - next_get));
    /* Interleave: 3 in, 2 out, many times. */
    for (i = 0; i < 3000; i++) {
        CHECK_OK(weft_queue_put(q, ITEM(next_put++), 0));
        if (i % 3 != 2)
            get_expect(q, ITEM(next_get++));
    }
    while (next_get < next_put)
        get_expect(q, ITEM(next_get++));
    CHECK(weft_queue_empty(q));
    weft_queue_destroy(q);
}

/* Thousands of items: a FIFO crosses many of its chunks, in order, and an
 * immediate shutdown drops several chunks' worth (ASan sees them freed). */
WEFT_TEST(queue_fifo_many_items)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
    void *got;
    uintptr_t i;

    for (i = 1; i <= 5000; i++)
        CHECK_OK(weft_queue_put(q, ITEM(i), 0));
    CHECK_EQ_UINT(weft_queue_size(q), 5000);
    for (i = 1; i <= 2000; i++)
        get_expect(q, ITEM(i));
    for (i = 5001; i <= 6000; i++)
        CHECK_OK(weft_queue_put(q, ITEM(i), 0));
    for (i = 2001; i <= 3000; i++)
        get_expect(q, ITEM(i));
    CHECK_EQ_UINT(weft_queue_size(q), 3000);
    for (i = 1; i <= 3000; i++)
        CHECK_OK(weft_queue_task_done(q));
    weft_queue_shutdown(q, true);
    CHECK_EQ_UINT(weft_queue_size(q), 0);
    CHECK_STATUS(weft_queue_get(q, &got, 0), WEFT_ESHUTDOWN);
    CHECK_OK(weft_queue_join(q, 0));
    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    weft_queue_destroy(q);
}

WEFT_TEST(queue_fifo_bounded_wraps)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 5, NULL);
    long i, next_put = 0, next_get = 0;

    /* In a queue of 5, keep 1..5 items while the position goes round. */
    for (i = 0; i < 2000; i++) {
        while (next_put - next_get < 1 + i % 5)
            CHECK_OK(weft_queue_put(q, ITEM(next_put++), 0));
        CHECK_EQ_INT(weft_queue_full(q), next_put - next_get == 5);
        get_expect(q, ITEM(next_get++));
    }
    while (next_get < next_put)
        get_expect(q, ITEM(next_get++));
    weft_queue_destroy(q);
}

WEFT_TEST(queue_lifo_order)
{
    weft_queue *q = make_queue(WEFT_QUEUE_LIFO, 0, NULL);
    long i;

    for (i = 0; i < 1000; i++)
        CHECK_OK(weft_queue_put(q, ITEM(i), 0));
    CHECK_EQ_UINT(weft_queue_size(q), 1000);
    for (i = 999; i >= 500; i--)
        get_expect(q, ITEM(i));
    /* New items come out before the older ones left. */
    CHECK_OK(weft_queue_put(q, ITEM(2000), 0));
    CHECK_OK(weft_queue_put(q, ITEM(2001), 0));
    get_expect(q, ITEM(2001));
    CHECK_OK(weft_queue_put(q, ITEM(2002), 0));
    get_expect(q, ITEM(2002));
    get_expect(q, ITEM(2000));
    for (i = 499; i >= 0; i--)
        get_expect(q, ITEM(i));
    CHECK(weft_queue_empty(q));
    weft_queue_destroy(q);
}

WEFT_TEST(queue_priority_order)
{
    static prio_item items[] = {
        {5, 0}, {1, 1}, {3, 2}, {1, 3}, {5, 4}, {0, 5}, {3, 6}, {1, 7}, {-7, 8}, {5, 9},
    };
    /* Expected: by prio, FIFO (by seq, the order of the puts) among equals. */
    static const int want[] = {8, 5, 1, 3, 7, 2, 6, 0, 4, 9};
    weft_queue *q = make_queue(WEFT_QUEUE_PRIORITY, 0, compare_prio);
    size_t i;

    for (i = 0; i < sizeof items / sizeof items[0]; i++)
        CHECK_OK(weft_queue_put(q, &items[i], 0));
    CHECK_EQ_UINT(weft_queue_size(q), 10);
    for (i = 0; i < sizeof want / sizeof want[0]; i++)
        get_expect(q, &items[want[i]]);
    CHECK(weft_queue_empty(q));
    weft_queue_destroy(q);
}

/* Many items with few distinct priorities, puts and gets interleaved: the
 * output is a stable sort of what was in the queue. */
WEFT_TEST(queue_priority_stable_interleaved)
{
    enum { N = 4000 };
    prio_item *items = calloc(N, sizeof *items);
    weft_queue *q = make_queue(WEFT_QUEUE_PRIORITY, 0, compare_prio);
    uint32_t rng = 12345;
    int put = 0, got = 0, last_prio = 0;
    int *last_seq_of = calloc(16, sizeof *last_seq_of);

    CHECK(items != NULL && last_seq_of != NULL);
    while (put < N) {
        int burst = (int)(lcg_next(&rng) % 40), k;
        int take = (int)(lcg_next(&rng) % 30);

        for (k = 0; k < burst && put < N; k++) {
            items[put].prio = (int)(lcg_next(&rng) % 16);
            items[put].seq = put;
            CHECK_OK(weft_queue_put(q, &items[put], 0));
            put++;
        }
        /* Within one drain the priorities never go down, and among equal
         * priorities the sequence numbers go up. */
        for (k = 0; k < 16; k++)
            last_seq_of[k] = -1;
        last_prio = -1;
        for (k = 0; k < take && got < put; k++) {
            void *p = NULL;
            prio_item *it;

            CHECK_OK(weft_queue_get(q, &p, 0));
            it = p;
            CHECK(it >= items && it < items + put);
            CHECK_GE_INT(it->prio, last_prio);
            CHECK_LT_INT(last_seq_of[it->prio], it->seq);
            last_prio = it->prio;
            last_seq_of[it->prio] = it->seq;
            got++;
        }
    }
    /* FIFO among equals holds across drains too: seq of a given priority
     * comes out in increasing order over the whole run. */
    CHECK_EQ_UINT(weft_queue_size(q), (size_t)(put - got));
    {
        int k;
        for (k = 0; k < 16; k++)
            last_seq_of[k] = -1;
        last_prio = -1;
        while (got < put) {
            void *p = NULL;
            prio_item *it;

            CHECK_OK(weft_queue_get(q, &p, 0));
            it = p;
            CHECK_GE_INT(it->prio, last_prio);
            CHECK_LT_INT(last_seq_of[it->prio], it->seq);
            last_prio = it->prio;
            last_seq_of[it->prio] = it->seq;
            got++;
        }
    }
    CHECK(weft_queue_empty(q));
    weft_queue_destroy(q);
    free(items);
    free(last_seq_of);
}

/* All equal: a priority queue is then a FIFO. */
WEFT_TEST(queue_priority_all_equal_is_fifo)
{
    enum { N = 1000 };
    static prio_item items[N];
    weft_queue *q = make_queue(WEFT_QUEUE_PRIORITY, 0, compare_prio);
    int i;

    for (i = 0; i < N; i++) {
        items[i].prio = 7;
        items[i].seq = i;
        CHECK_OK(weft_queue_put(q, &items[i], 0));
    }
    for (i = 0; i < N / 2; i++)
        get_expect(q, &items[i]);
    for (i = 0; i < N / 2; i++) { /* reuse the first half, put again */
        CHECK_OK(weft_queue_put(q, &items[i], 0));
    }
    for (i = N / 2; i < N; i++)
        get_expect(q, &items[i]);
    for (i = 0; i < N / 2; i++)
        get_expect(q, &items[i]);
    weft_queue_destroy(q);
}

/* ---- Bounds and timeouts ------------------------------------------------------ */

static void check_bounded(weft_queue_kind kind)
{
    static prio_item items[4] = {{3, 0}, {1, 1}, {2, 2}, {0, 3}};
    weft_queue *q = make_queue(kind, 3, kind == WEFT_QUEUE_PRIORITY ? compare_prio : NULL);
    void *got = NULL;
    double t0;

    CHECK(!weft_queue_full(q));
    CHECK_OK(weft_queue_put(q, &items[0], 0));
    CHECK_OK(weft_queue_put(q, &items[1], WEFT_FOREVER));
    CHECK(!weft_queue_full(q));
    CHECK_OK(weft_queue_put(q, &items[2], 5.0));
    CHECK(weft_queue_full(q));
    CHECK_EQ_UINT(weft_queue_size(q), 3);

    t0 = weft_monotonic();
    CHECK_STATUS(weft_queue_put(q, &items[3], 0), WEFT_EFULL);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack()); /* did not wait */
    t0 = weft_monotonic();
    CHECK_STATUS(weft_queue_put(q, &items[3], 0.2), WEFT_EFULL);
    CHECK_ELAPSED(t0, 0.2);
    /* Nothing was put: still 3, and the smallest priority item (0) is not
     * there to come out first. */
    CHECK_EQ_UINT(weft_queue_size(q), 3);
    CHECK(weft_queue_full(q));

    CHECK_OK(weft_queue_get(q, &got, 0));
    CHECK(got != &items[3]);
    CHECK(!weft_queue_full(q));
    CHECK_OK(weft_queue_put(q, &items[3], 0));
    CHECK(weft_queue_full(q));
    while (weft_queue_get(q, &got, 0) == WEFT_OK)
        CHECK_OK(weft_queue_task_done(q));
    CHECK_OK(weft_queue_task_done(q)); /* the first get */
    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    CHECK_OK(weft_queue_join(q, 0));
    weft_queue_destroy(q);
}

WEFT_TEST(queue_maxsize_bounds_puts_fifo)
{
    check_bounded(WEFT_QUEUE_FIFO);
}

WEFT_TEST(queue_maxsize_bounds_puts_lifo)
{
    check_bounded(WEFT_QUEUE_LIFO);
}

WEFT_TEST(queue_maxsize_bounds_puts_priority)
{
    check_bounded(WEFT_QUEUE_PRIORITY);
}

WEFT_TEST(queue_maxsize_one)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 1, NULL);
    long i;

    for (i = 0; i < 100; i++) {
        CHECK(!weft_queue_full(q));
        CHECK(weft_queue_empty(q));
        CHECK_OK(weft_queue_put(q, ITEM(i), 0));
        CHECK(weft_queue_full(q));
        CHECK(!weft_queue_empty(q));
        CHECK_STATUS(weft_queue_put(q, ITEM(i + 1000), 0), WEFT_EFULL);
        get_expect(q, ITEM(i));
    }
    weft_queue_destroy(q);
}

WEFT_TEST(queue_get_timeout_empty)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
    void *got = NULL;
    double t0;

    t0 = weft_monotonic();
    CHECK_STATUS(weft_queue_get(q, &got, 0), WEFT_EEMPTY);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack());
    t0 = weft_monotonic();
    CHECK_STATUS(weft_queue_get(q, &got, 0.25), WEFT_EEMPTY);
    CHECK_ELAPSED(t0, 0.25);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_queue_get(q, &got, 0.01), WEFT_EEMPTY);
    CHECK_ELAPSED(t0, 0.01);
    /* A timeout that expires is not a task. */
    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    CHECK_OK(weft_queue_join(q, 0));
    weft_queue_destroy(q);
}

WEFT_TEST(queue_put_timeout_full)
{
    weft_queue *q = make_queue(WEFT_QUEUE_LIFO, 2, NULL);
    double t0;

    CHECK_OK(weft_queue_put(q, ITEM(1), 0));
    CHECK_OK(weft_queue_put(q, ITEM(2), 0));
    t0 = weft_monotonic();
    CHECK_STATUS(weft_queue_put(q, ITEM(3), 0.25), WEFT_EFULL);
    CHECK_ELAPSED(t0, 0.25);
    CHECK_EQ_UINT(weft_queue_size(q), 2);
    get_expect(q, ITEM(2));
    get_expect(q, ITEM(1));
    CHECK_OK(weft_queue_task_done(q));
    CHECK_OK(weft_queue_task_done(q));
    /* The failed put was no task. */
    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    CHECK_OK(weft_queue_join(q, 0));
    weft_queue_destroy(q);
}

/* A thread blocked in a get or a put, announcing itself to `started`. */
typedef struct blocked {
    weft_queue *q;
    double timeout;
    void *item;              /* to put / got */
    weft_test_counter *started;
    int status;
    double elapsed;
} blocked;

static void *blocked_get(void *arg)
{
    blocked *b = arg;
    double t0 = weft_monotonic();

    weft_test_counter_add(b->started, 1);
    b->status = weft_queue_get(b->q, &b->item, b->timeout);
    b->elapsed = weft_monotonic() - t0;
    return NULL;
}

static void *blocked_put(void *arg)
{
    blocked *b = arg;
    double t0 = weft_monotonic();

    weft_test_counter_add(b->started, 1);
    b->status = weft_queue_put(b->q, b->item, b->timeout);
    b->elapsed = weft_monotonic() - t0;
    return NULL;
}

/* Start `n` threads running fn over bs[0..n-1]; wait until each has
 * announced itself, then settle so that they are likely parked. */
static void start_blocked(weft_thread **threads, blocked *bs, int n, weft_thread_fn fn,
                          weft_test_counter *started)
{
    int i;

    for (i = 0; i < n; i++)
        bs[i].started = started;
    weft_test_start_each(threads, n, fn, bs, sizeof *bs);
    weft_test_counter_wait(started, n);
    weft_test_settle();
}

WEFT_TEST(queue_get_waits_for_put)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
    weft_test_counter started = WEFT_TEST_COUNTER_INIT;
    weft_thread *threads[2];
    blocked bs[2];

    memset(bs, 0, sizeof bs);
    bs[0].q = bs[1].q = q;
    bs[0].timeout = WEFT_FOREVER;
    bs[1].timeout = weft_test_long();
    start_blocked(threads, bs, 2, blocked_get, &started);
    CHECK_OK(weft_queue_put(q, ITEM(1), 0));
    CHECK_OK(weft_queue_put(q, ITEM(2), 0));
    weft_test_join_all(threads, 2);
    CHECK_OK(bs[0].status);
    CHECK_OK(bs[1].status);
    CHECK(bs[1].elapsed < weft_test_long());
    /* Each got one of them. */
    CHECK((bs[0].item == ITEM(1) && bs[1].item == ITEM(2)) ||
          (bs[0].item == ITEM(2) && bs[1].item == ITEM(1)));
    CHECK(weft_queue_empty(q));
    weft_queue_destroy(q);
}

WEFT_TEST(queue_put_waits_for_get)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 1, NULL);
    weft_test_counter started = WEFT_TEST_COUNTER_INIT;
    weft_thread *threads[2];
    blocked bs[2];
    void *a = NULL, *b = NULL;

    CHECK_OK(weft_queue_put(q, ITEM(0), 0));
    memset(bs, 0, sizeof bs);
    bs[0].q = bs[1].q = q;
    bs[0].timeout = WEFT_FOREVER;
    bs[0].item = ITEM(1);
    bs[1].timeout = weft_test_long();
    bs[1].item = ITEM(2);
    start_blocked(threads, bs, 2, blocked_put, &started);
    CHECK_EQ_UINT(weft_queue_size(q), 1);
    /* Each get makes room for one waiting putter. */
    get_expect(q, ITEM(0));
    CHECK_OK(weft_queue_get(q, &a, weft_test_long()));
    CHECK_OK(weft_queue_get(q, &b, weft_test_long()));
    weft_test_join_all(threads, 2);
    CHECK_OK(bs[0].status);
    CHECK_OK(bs[1].status);
    CHECK((a == ITEM(1) && b == ITEM(2)) || (a == ITEM(2) && b == ITEM(1)));
    CHECK(weft_queue_empty(q));
    weft_queue_destroy(q);
}

/* ---- task_done and join -------------------------------------------------------- */

WEFT_TEST(queue_task_done_too_often)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);

    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    CHECK_OK(weft_queue_join(q, 0));

    CHECK_OK(weft_queue_put(q, ITEM(1), 0));
    CHECK_OK(weft_queue_put(q, ITEM(2), 0));
    get_expect(q, ITEM(1));
    get_expect(q, ITEM(2));
    CHECK_OK(weft_queue_task_done(q));
    CHECK_OK(weft_queue_task_done(q));
    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    CHECK_OK(weft_queue_join(q, 0));

    /* Nothing changed: one more put is exactly one unfinished task (had
     * the count gone below zero, join would now see it done). */
    CHECK_OK(weft_queue_put(q, ITEM(3), 0));
    CHECK_STATUS(weft_queue_join(q, 0), WEFT_ETIMEDOUT);
    /* task_done counts puts, not gets: allowed before the get. */
    CHECK_OK(weft_queue_task_done(q));
    CHECK_OK(weft_queue_join(q, 0));
    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    CHECK_EQ_UINT(weft_queue_size(q), 1);
    get_expect(q, ITEM(3));
    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    CHECK_OK(weft_queue_join(q, 0));
    weft_queue_destroy(q);
}

WEFT_TEST(queue_join_timeout)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
    double t0;

    /* Nothing put: done at once. */
    CHECK_OK(weft_queue_join(q, 0));
    CHECK_OK(weft_queue_join(q, WEFT_FOREVER));

    CHECK_OK(weft_queue_put(q, ITEM(1), 0));
    CHECK_OK(weft_queue_put(q, ITEM(2), 0));
    CHECK_STATUS(weft_queue_join(q, 0), WEFT_ETIMEDOUT);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_queue_join(q, 0.2), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.2);
    /* Got but not done: still pending. */
    get_expect(q, ITEM(1));
    get_expect(q, ITEM(2));
    CHECK(weft_queue_empty(q));
    t0 = weft_monotonic();
    CHECK_STATUS(weft_queue_join(q, 0.1), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);
    CHECK_OK(weft_queue_task_done(q));
    CHECK_STATUS(weft_queue_join(q, 0), WEFT_ETIMEDOUT);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_queue_join(q, 0.1), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);
    CHECK_OK(weft_queue_task_done(q));
    CHECK_OK(weft_queue_join(q, 0));
    CHECK_OK(weft_queue_join(q, 5.0));
    CHECK_OK(weft_queue_join(q, WEFT_FOREVER));
    weft_queue_destroy(q);
}

/* Joiners blocked in join: none may return before the last task_done. */
typedef struct join_ctx {
    weft_queue *q;
    double timeout;
    weft_test_counter *started;
    weft_event *last_begun; /* set just before the last task_done call */
    int status;
    bool saw_last_begun;
} join_ctx;

static void *joiner(void *arg)
{
    join_ctx *j = arg;

    weft_test_counter_add(j->started, 1);
    j->status = weft_queue_join(j->q, j->timeout);
    j->saw_last_begun = weft_event_is_set(j->last_begun);
    return NULL;
}

WEFT_TEST(queue_join_waits_for_last_task_done)
{
    enum { JOINERS = 4, ITEMS = 5 };
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
    weft_test_counter started = WEFT_TEST_COUNTER_INIT;
    weft_event last_begun = WEFT_EVENT_INIT;
    weft_thread *threads[JOINERS];
    join_ctx js[JOINERS];
    int i;

    for (i = 0; i < ITEMS; i++)
        CHECK_OK(weft_queue_put(q, ITEM(i), 0));
    memset(js, 0, sizeof js);
    for (i = 0; i < JOINERS; i++) {
        js[i].q = q;
        js[i].timeout = i % 2 ? weft_test_long() : WEFT_FOREVER;
        js[i].started = &started;
        js[i].last_begun = &last_begun;
    }
    weft_test_start_each(threads, JOINERS, joiner, js, sizeof js[0]);
    weft_test_counter_wait(&started, JOINERS);
    weft_test_settle();
    for (i = 0; i < ITEMS; i++) {
        get_expect(q, ITEM(i));
        if (i == ITEMS - 1) {
            weft_test_settle(); /* let an early joiner show itself */
            for (int k = 0; k < JOINERS; k++)
                CHECK(weft_thread_is_alive(threads[k]));
            weft_event_set(&last_begun);
        }
        CHECK_OK(weft_queue_task_done(q));
    }
    weft_test_join_all(threads, JOINERS);
    for (i = 0; i < JOINERS; i++) {
        CHECK_OK(js[i].status);
        CHECK(js[i].saw_last_begun);
    }
    weft_queue_destroy(q);
}

/* ---- size, empty, full ----------------------------------------------------- */

/* A worker that takes one item and marks it done. */
static void *take_and_finish(void *arg)
{
    weft_queue *q = arg;
    void *item;

    CHECK_OK(weft_queue_get(q, &item, WEFT_FOREVER));
    weft_sleep(0); /* give the joiner a chance to run inside the window */
    CHECK_OK(weft_queue_task_done(q));
    return NULL;
}

/* Python's "q.join() means the work is done": the queue may be freed as
 * soon as join returns, while the worker's last task_done is returning.
 * The last task_done must be done with the queue by then (ASan sees it
 * otherwise). */
WEFT_TEST(queue_destroy_right_after_join)
{
    long rounds = weft_test_iterations(2000), i;

    for (i = 0; i < rounds; i++) {
        weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
        weft_thread *t;

        CHECK_OK(weft_thread_start(&t, take_and_finish, q, NULL));
        CHECK_OK(weft_queue_put(q, ITEM(1), WEFT_FOREVER));
        CHECK_OK(weft_queue_join(q, WEFT_FOREVER));
        weft_queue_destroy(q);
        CHECK_OK(weft_thread_join(t, WEFT_FOREVER, NULL));
        weft_thread_release(t);
    }
}

WEFT_TEST(queue_size_empty_full)
{
    weft_queue *u = make_queue(WEFT_QUEUE_LIFO, 0, NULL);
    weft_queue *b = make_queue(WEFT_QUEUE_FIFO, 2, NULL);
    void *got;

    CHECK_EQ_UINT(weft_queue_size(u), 0);
    CHECK(weft_queue_empty(u));
    CHECK(!weft_queue_full(u));
    CHECK_OK(weft_queue_put(u, ITEM(1), 0));
    CHECK_EQ_UINT(weft_queue_size(u), 1);
    CHECK(!weft_queue_empty(u));
    CHECK(!weft_queue_full(u)); /* unbounded: never full */
    CHECK_OK(weft_queue_get(u, &got, 0));
    CHECK_EQ_UINT(weft_queue_size(u), 0);
    CHECK(weft_queue_empty(u));

    CHECK(weft_queue_empty(b));
    CHECK(!weft_queue_full(b));
    CHECK_OK(weft_queue_put(b, ITEM(1), 0));
    CHECK(!weft_queue_empty(b));
    CHECK(!weft_queue_full(b));
    CHECK_OK(weft_queue_put(b, ITEM(2), 0));
    CHECK(weft_queue_full(b));
    CHECK_EQ_UINT(weft_queue_size(b), 2);
    CHECK_OK(weft_queue_get(b, &got, 0));
    CHECK(!weft_queue_full(b));
    CHECK_EQ_UINT(weft_queue_size(b), 1);
    /* After a shutdown they still report the truth. */
    weft_queue_shutdown(b, false);
    CHECK_EQ_UINT(weft_queue_size(b), 1);
    CHECK(!weft_queue_empty(b));
    weft_queue_shutdown(b, true);
    CHECK_EQ_UINT(weft_queue_size(b), 0);
    CHECK(weft_queue_empty(b));
    CHECK(!weft_queue_full(b));
    weft_queue_destroy(u);
    weft_queue_destroy(b);
}

/* ---- Shutdown --------------------------------------------------------------- */

WEFT_TEST(queue_shutdown_plain_drains)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 3, NULL);
    void *got = NULL;
    double t0;
    int i;

    for (i = 0; i < 3; i++)
        CHECK_OK(weft_queue_put(q, ITEM(i), 0));
    weft_queue_shutdown(q, false);
    /* Puts fail, whatever the timeout and though the queue is full. */
    t0 = weft_monotonic();
    CHECK_STATUS(weft_queue_put(q, ITEM(9), 0), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_queue_put(q, ITEM(9), WEFT_FOREVER), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_queue_put(q, ITEM(9), 5.0), WEFT_ESHUTDOWN);
    CHECK_EQ_UINT(weft_queue_size(q), 3);
    /* The items left come out in order. */
    get_expect(q, ITEM(0));
    CHECK_OK(weft_queue_get(q, &got, WEFT_FOREVER));
    CHECK_EQ_PTR(got, ITEM(1));
    /* Room now, but still no put. */
    CHECK_STATUS(weft_queue_put(q, ITEM(9), 0), WEFT_ESHUTDOWN);
    CHECK_OK(weft_queue_get(q, &got, 5.0));
    CHECK_EQ_PTR(got, ITEM(2));
    /* Empty and shut down: gets fail at once, whatever the timeout. */
    got = ITEM(77);
    CHECK_STATUS(weft_queue_get(q, &got, 0), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_queue_get(q, &got, WEFT_FOREVER), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_queue_get(q, &got, 5.0), WEFT_ESHUTDOWN);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack()); /* none waited */
    CHECK(weft_queue_empty(q));
    /* The tasks are still to be done. */
    CHECK_STATUS(weft_queue_join(q, 0), WEFT_ETIMEDOUT);
    for (i = 0; i < 3; i++)
        CHECK_OK(weft_queue_task_done(q));
    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    CHECK_OK(weft_queue_join(q, 0));
    /* Shutting down again (plain) changes nothing. */
    weft_queue_shutdown(q, false);
    CHECK_STATUS(weft_queue_get(q, &got, 0), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_queue_put(q, ITEM(9), 0), WEFT_ESHUTDOWN);
    weft_queue_destroy(q);
}

WEFT_TEST(queue_shutdown_immediate_drops)
{
    static prio_item items[3] = {{2, 0}, {1, 1}, {3, 2}};
    weft_queue *q = make_queue(WEFT_QUEUE_PRIORITY, 0, compare_prio);
    void *got = ITEM(77);
    double t0;
    int i;

    for (i = 0; i < 3; i++)
        CHECK_OK(weft_queue_put(q, &items[i], 0));
    weft_queue_shutdown(q, true);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_queue_get(q, &got, 0), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_queue_get(q, &got, WEFT_FOREVER), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_queue_get(q, &got, 5.0), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_queue_put(q, &items[0], 0), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_queue_put(q, &items[0], WEFT_FOREVER), WEFT_ESHUTDOWN);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack());
    CHECK_EQ_PTR(got, ITEM(77)); /* nothing handed out */
    CHECK_EQ_UINT(weft_queue_size(q), 0);
    CHECK(weft_queue_empty(q));
    /* The dropped items count as done. */
    CHECK_OK(weft_queue_join(q, 0));
    CHECK_OK(weft_queue_join(q, WEFT_FOREVER));
    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    /* The items themselves were not touched. */
    CHECK_EQ_INT(items[0].prio, 2);
    CHECK_EQ_INT(items[1].prio, 1);
    CHECK_EQ_INT(items[2].prio, 3);
    weft_queue_destroy(q);
}

/* Items got but not done before an immediate shutdown stay pending: only
 * the dropped ones are counted done (Python 3.13 Queue.shutdown). */
WEFT_TEST(queue_shutdown_immediate_keeps_tasks_in_hand)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
    int i;

    for (i = 0; i < 4; i++)
        CHECK_OK(weft_queue_put(q, ITEM(i), 0));
    get_expect(q, ITEM(0));
    get_expect(q, ITEM(1));
    CHECK_OK(weft_queue_task_done(q)); /* ITEM(0) done, ITEM(1) in hand */
    weft_queue_shutdown(q, true);
    CHECK_EQ_UINT(weft_queue_size(q), 0);
    CHECK_STATUS(weft_queue_join(q, 0), WEFT_ETIMEDOUT);
    CHECK_OK(weft_queue_task_done(q)); /* ITEM(1) */
    CHECK_OK(weft_queue_join(q, 0));
    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    weft_queue_destroy(q);
}

WEFT_TEST(queue_shutdown_plain_then_immediate)
{
    weft_queue *q = make_queue(WEFT_QUEUE_LIFO, 0, NULL);
    void *got = NULL;
    int i;

    for (i = 0; i < 3; i++)
        CHECK_OK(weft_queue_put(q, ITEM(i), 0));
    weft_queue_shutdown(q, false);
    get_expect(q, ITEM(2));
    CHECK_EQ_UINT(weft_queue_size(q), 2);
    weft_queue_shutdown(q, true); /* turns into an immediate one */
    CHECK_EQ_UINT(weft_queue_size(q), 0);
    CHECK_STATUS(weft_queue_get(q, &got, 0), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_queue_join(q, 0), WEFT_ETIMEDOUT); /* ITEM(2) in hand */
    CHECK_OK(weft_queue_task_done(q));
    CHECK_OK(weft_queue_join(q, 0));
    /* An immediate shutdown followed by a plain one stays immediate (the
     * queue is empty and no put works anyway). */
    weft_queue_shutdown(q, false);
    CHECK_STATUS(weft_queue_get(q, &got, 0), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_queue_put(q, ITEM(5), 0), WEFT_ESHUTDOWN);
    weft_queue_destroy(q);
}

/* Blocked getters: woken by a shutdown of either kind, all ESHUTDOWN. */
static void check_shutdown_wakes_getters(bool immediate)
{
    enum { N = 6 };
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 4, NULL);
    weft_test_counter started = WEFT_TEST_COUNTER_INIT;
    weft_thread *threads[N];
    blocked bs[N];
    double t0;
    int i;

    memset(bs, 0, sizeof bs);
    for (i = 0; i < N; i++) {
        bs[i].q = q;
        bs[i].timeout = i % 2 ? 1e6 * weft_test_time_scale() : WEFT_FOREVER;
        bs[i].item = ITEM(100 + i);
    }
    start_blocked(threads, bs, N, blocked_get, &started);
    t0 = weft_monotonic();
    weft_queue_shutdown(q, immediate);
    weft_test_join_all(threads, N);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_long());
    for (i = 0; i < N; i++) {
        CHECK_STATUS(bs[i].status, WEFT_ESHUTDOWN);
        CHECK_EQ_PTR(bs[i].item, ITEM(100 + i)); /* nothing handed out */
    }
    CHECK_OK(weft_queue_join(q, 0));
    weft_queue_destroy(q);
}

WEFT_TEST(queue_shutdown_wakes_getters_plain)
{
    check_shutdown_wakes_getters(false);
}

WEFT_TEST(queue_shutdown_wakes_getters_immediate)
{
    check_shutdown_wakes_getters(true);
}

/* Blocked putters on a full queue: woken by a shutdown, all ESHUTDOWN,
 * none of their items put. */
static void check_shutdown_wakes_putters(bool immediate)
{
    enum { N = 6 };
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 2, NULL);
    weft_test_counter started = WEFT_TEST_COUNTER_INIT;
    weft_thread *threads[N];
    blocked bs[N];
    void *got = NULL;
    int i;

    CHECK_OK(weft_queue_put(q, ITEM(1), 0));
    CHECK_OK(weft_queue_put(q, ITEM(2), 0));
    memset(bs, 0, sizeof bs);
    for (i = 0; i < N; i++) {
        bs[i].q = q;
        bs[i].timeout = i % 2 ? 1e6 * weft_test_time_scale() : WEFT_FOREVER;
        bs[i].item = ITEM(100 + i);
    }
    start_blocked(threads, bs, N, blocked_put, &started);
    weft_queue_shutdown(q, immediate);
    weft_test_join_all(threads, N);
    for (i = 0; i < N; i++)
        CHECK_STATUS(bs[i].status, WEFT_ESHUTDOWN);
    if (immediate) {
        CHECK_EQ_UINT(weft_queue_size(q), 0);
        CHECK_OK(weft_queue_join(q, 0));
    } else {
        CHECK_EQ_UINT(weft_queue_size(q), 2);
        get_expect(q, ITEM(1));
        get_expect(q, ITEM(2));
        CHECK_OK(weft_queue_task_done(q));
        CHECK_OK(weft_queue_task_done(q));
        CHECK_OK(weft_queue_join(q, 0));
    }
    CHECK_STATUS(weft_queue_get(q, &got, 0), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_queue_task_done(q), WEFT_EINVAL);
    weft_queue_destroy(q);
}

WEFT_TEST(queue_shutdown_wakes_putters_plain)
{
    check_shutdown_wakes_putters(false);
}

WEFT_TEST(queue_shutdown_wakes_putters_immediate)
{
    check_shutdown_wakes_putters(true);
}

/* Getters and putters on two queues, one shutdown each: every one woken. */
static void check_shutdown_wakes_putters_and_getters(weft_queue_kind kind)
{
    enum { N = 4 };
    weft_queue *empty = make_queue(kind, 1, NULL);
    weft_queue *full = make_queue(kind, 1, NULL);
    weft_test_counter started = WEFT_TEST_COUNTER_INIT;
    weft_thread *threads[2 * N];
    blocked bs[2 * N];
    int i;

    CHECK_OK(weft_queue_put(full, ITEM(0), 0));
    memset(bs, 0, sizeof bs);
    for (i = 0; i < 2 * N; i++) {
        bs[i].q = i < N ? empty : full;
        bs[i].timeout = WEFT_FOREVER;
        bs[i].item = ITEM(i + 1);
        bs[i].started = &started;
    }
    weft_test_start_each(threads, N, blocked_get, bs, sizeof bs[0]);
    weft_test_start_each(threads + N, N, blocked_put, bs + N, sizeof bs[0]);
    weft_test_counter_wait(&started, 2 * N);
    weft_test_settle();
    weft_queue_shutdown(empty, false);
    weft_queue_shutdown(full, false);
    weft_test_join_all(threads, 2 * N);
    for (i = 0; i < 2 * N; i++)
        CHECK_STATUS(bs[i].status, WEFT_ESHUTDOWN);
    CHECK_EQ_UINT(weft_queue_size(full), 1);
    get_expect(full, ITEM(0));
    weft_queue_destroy(empty);
    weft_queue_destroy(full);
}

WEFT_TEST(queue_shutdown_wakes_putters_and_getters)
{
    check_shutdown_wakes_putters_and_getters(WEFT_QUEUE_LIFO);
}

/* The same on FIFO queues, whose two ends have a lock each. */
WEFT_TEST(queue_shutdown_wakes_putters_and_getters_fifo)
{
    check_shutdown_wakes_putters_and_getters(WEFT_QUEUE_FIFO);
}

/* An immediate shutdown drops the items and wakes the joiners with OK. */
WEFT_TEST(queue_shutdown_immediate_releases_join)
{
    enum { JOINERS = 3 };
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
    weft_test_counter started = WEFT_TEST_COUNTER_INIT;
    weft_event begun = WEFT_EVENT_INIT;
    weft_thread *threads[JOINERS];
    join_ctx js[JOINERS];
    int i;

    for (i = 0; i < 10; i++)
        CHECK_OK(weft_queue_put(q, ITEM(i), 0));
    memset(js, 0, sizeof js);
    for (i = 0; i < JOINERS; i++) {
        js[i].q = q;
        js[i].timeout = i == 0 ? WEFT_FOREVER : 1e6 * weft_test_time_scale();
        js[i].started = &started;
        js[i].last_begun = &begun;
    }
    weft_test_start_each(threads, JOINERS, joiner, js, sizeof js[0]);
    weft_test_counter_wait(&started, JOINERS);
    weft_test_settle();
    weft_event_set(&begun);
    weft_queue_shutdown(q, true);
    weft_test_join_all(threads, JOINERS);
    for (i = 0; i < JOINERS; i++) {
        CHECK_OK(js[i].status);
        CHECK(js[i].saw_last_begun);
    }
    CHECK_EQ_UINT(weft_queue_size(q), 0);
    weft_queue_destroy(q);
}

/* ---- Destroy ------------------------------------------------------------------- */

static bool compare_forbidden;

static int compare_guarded(const void *a, const void *b)
{
    if (compare_forbidden)
        weft_test_fail(__FILE__, __LINE__, "compare called during destroy/shutdown");
    return compare_prio(a, b);
}

/* Destroying a queue that still holds items never touches them: the items
 * are dangling pointers (freed memory, which ASan would catch), wild
 * sentinel values and a stack object whose contents must not change. */
static void check_destroy_untouched(weft_queue_kind kind)
{
    weft_queue *q = make_queue(kind, 0, kind == WEFT_QUEUE_PRIORITY ? compare_guarded : NULL);
    prio_item on_stack[3] = {{1, 0}, {2, 1}, {0, 2}};
    prio_item *heap = malloc(8 * sizeof *heap);
    int i;

    CHECK(heap != NULL);
    /* Enough items that the queue has grown its storage. */
    for (i = 0; i < 200; i++) {
        heap[i % 8].prio = i % 5;
        heap[i % 8].seq = i;
        CHECK_OK(weft_queue_put(q, &heap[i % 8], 0));
    }
    for (i = 0; i < 3; i++)
        CHECK_OK(weft_queue_put(q, &on_stack[i], 0));
    if (kind != WEFT_QUEUE_PRIORITY) {
        /* Wild values too; a priority queue would compare them. */
        CHECK_OK(weft_queue_put(q, ITEM(0xdead0000), 0));
        CHECK_OK(weft_queue_put(q, (void *)(uintptr_t)1, 0));
    }
    free(heap); /* every queued heap item now dangles */
    compare_forbidden = true;
    weft_queue_destroy(q);
    compare_forbidden = false;
    CHECK_EQ_INT(on_stack[0].prio, 1);
    CHECK_EQ_INT(on_stack[1].prio, 2);
    CHECK_EQ_INT(on_stack[2].prio, 0);
    CHECK_EQ_INT(on_stack[2].seq, 2);
}

WEFT_TEST(queue_destroy_with_items_fifo)
{
    check_destroy_untouched(WEFT_QUEUE_FIFO);
}

WEFT_TEST(queue_destroy_with_items_lifo)
{
    check_destroy_untouched(WEFT_QUEUE_LIFO);
}

WEFT_TEST(queue_destroy_with_items_priority)
{
    check_destroy_untouched(WEFT_QUEUE_PRIORITY);
}

/* An immediate shutdown drops the items without touching them either. */
WEFT_TEST(queue_shutdown_immediate_never_touches_items)
{
    weft_queue *q = make_queue(WEFT_QUEUE_PRIORITY, 0, compare_guarded);
    prio_item *heap = malloc(16 * sizeof *heap);
    int i;

    CHECK(heap != NULL);
    for (i = 0; i < 16; i++) {
        heap[i].prio = 15 - i;
        heap[i].seq = i;
        CHECK_OK(weft_queue_put(q, &heap[i], 0));
    }
    free(heap);
    compare_forbidden = true;
    weft_queue_shutdown(q, true);
    compare_forbidden = false;
    CHECK_EQ_UINT(weft_queue_size(q), 0);
    CHECK_OK(weft_queue_join(q, 0));
    weft_queue_destroy(q);
}

/* A NULL item is an item like any other. */
WEFT_TEST(queue_null_item)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
    void *got = ITEM(1);

    CHECK_OK(weft_queue_put(q, NULL, 0));
    CHECK_EQ_UINT(weft_queue_size(q), 1);
    CHECK_OK(weft_queue_get(q, &got, 0));
    CHECK(got == NULL);
    CHECK_OK(weft_queue_task_done(q));
    CHECK_OK(weft_queue_join(q, 0));
    weft_queue_destroy(q);
}

/* A FIFO's getter finds items by their slots, which read NULL until a put
 * fills them: NULL items among others, in runs that end at every point of
 * chunks that are emptied and reused, come out as put, and nothing comes
 * out of the slots an earlier run filled. */
WEFT_TEST(queue_null_items_across_reused_chunks)
{
    weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
    void *got = ITEM(1);
    int run, i, n;

    for (run = 0; run < 200; run++) {
        n = 1 + run * 37 % 300;
        for (i = 0; i < n; i++)
            CHECK_OK(weft_queue_put(q, i % 3 == run % 3 ? NULL : ITEM(i), 0));
        CHECK_EQ_UINT(weft_queue_size(q), (size_t)n);
        for (i = 0; i < n; i++)
            get_expect(q, i % 3 == run % 3 ? NULL : ITEM(i));
        CHECK_STATUS(weft_queue_get(q, &got, 0), WEFT_EEMPTY);
    }
    weft_queue_destroy(q);
}

/* ---- Stress ----------------------------------------------------------------- */

/* Up to STRESS_PAIRS producers and as many consumers. */
enum { STRESS_PAIRS = 4, STRESS_BOUND = 64 };

typedef struct stress {
    weft_queue *q;
    int pairs;         /* producers, and consumers */
    long per_producer; /* items each producer puts */
    double timeout;    /* of each put and get, tried again when it ran out; 0: none */
    unsigned char *seen;   /* per item: how many times it was got */
    weft_barrier start;
} stress;

typedef struct producer {
    stress *s;
    int index;
} producer;

typedef struct consumer {
    stress *s;
    weft_lock lock; /* guards done: read by the main thread after join */
    long done;
    long last_of[STRESS_PAIRS]; /* last sequence number per producer */
    bool ordered; /* a producer's items come out in the order put */
    int status; /* what the get that ended the loop returned */
} consumer;

/* Item k of producer p: p * per_producer + k + 1 (never 0). */
static double stress_timeout(const stress *s)
{
    return s->timeout > 0 ? s->timeout : WEFT_FOREVER;
}

static void *stress_producer(void *arg)
{
    producer *p = arg;
    stress *s = p->s;
    long k;

    weft_barrier_wait(&s->start, WEFT_FOREVER);
    for (k = 0; k < s->per_producer; k++) {
        long id = p->index * s->per_producer + k + 1;
        int rc;

        do
            rc = weft_queue_put(s->q, (void *)(uintptr_t)id, stress_timeout(s));
        while (rc == WEFT_EFULL && s->timeout > 0);

        if (rc != WEFT_OK)
            weft_test_fail(__FILE__, __LINE__, "put: %s", weft_strerror(rc));
    }
    return NULL;
}

static void *stress_consumer(void *arg)
{
    consumer *c = arg;
    stress *s = c->s;
    long total = s->pairs * s->per_producer;

    weft_barrier_wait(&s->start, WEFT_FOREVER);
    for (;;) {
        void *item = NULL;
        long id, p, k;
        int rc;

        do
            rc = weft_queue_get(s->q, &item, stress_timeout(s));
        while (rc == WEFT_EEMPTY && s->timeout > 0);

        if (rc != WEFT_OK) {
            c->status = rc;
            break;
        }
        id = (long)(uintptr_t)item;
        if (id < 1 || id > total)
            weft_test_fail(__FILE__, __LINE__, "got a foreign item %ld", id);
        p = (id - 1) / s->per_producer;
        k = (id - 1) % s->per_producer;
        /* FIFO, and PRIORITY by id: a producer's items come out in the
         * order it put them. */
        if (c->ordered && k <= c->last_of[p])
            weft_test_fail(__FILE__, __LINE__,
                           "producer %ld: item %ld after item %ld", p, k, c->last_of[p]);
        c->last_of[p] = k;
        s->seen[id - 1]++;
        weft_lock_acquire(&c->lock, WEFT_FOREVER);
        c->done++;
        weft_lock_release(&c->lock);
        rc = weft_queue_task_done(s->q);
        if (rc != WEFT_OK)
            weft_test_fail(__FILE__, __LINE__, "task_done: %s", weft_strerror(rc));
    }
    return NULL;
}

/* Items of the stress are numbers, ordered as such. */
static int compare_ids(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;

    return x < y ? -1 : x > y;
}

static void run_stress_timed(weft_queue_kind kind, size_t bound, int pairs, long per_producer,
                             double timeout)
{
    weft_thread *producers[STRESS_PAIRS], *consumers[STRESS_PAIRS];
    producer ps[STRESS_PAIRS];
    consumer cs[STRESS_PAIRS];
    stress s;
    long total, sum, i;
    bool ordered = kind != WEFT_QUEUE_LIFO;
    int k;

    memset(&s, 0, sizeof s);
    s.q = make_queue(kind, bound, kind == WEFT_QUEUE_PRIORITY ? compare_ids : NULL);
    s.pairs = pairs;
    s.per_producer = per_producer;
    s.timeout = timeout;
    total = pairs * per_producer;
    s.seen = calloc((size_t)total, 1);
    CHECK(s.seen != NULL);
    weft_barrier_init(&s.start, (uint32_t)(2 * pairs));
    for (k = 0; k < pairs; k++) {
        ps[k].s = &s;
        ps[k].index = k;
    }
    memset(cs, 0, sizeof cs);
    for (k = 0; k < pairs; k++) {
        int p;

        cs[k].s = &s;
        cs[k].ordered = ordered; /* the lock: zero-filled is unlocked */
        for (p = 0; p < pairs; p++)
            cs[k].last_of[p] = -1;
    }
    weft_test_start_each(consumers, pairs, stress_consumer, cs, sizeof cs[0]);
    weft_test_start_each(producers, pairs, stress_producer, ps, sizeof ps[0]);

    /* Every put has been made; the consumers may still be at work. */
    for (k = 0; k < pairs; k++)
        CHECK(weft_thread_join(producers[k], WEFT_FOREVER, NULL) == WEFT_OK);
    for (k = 0; k < pairs; k++)
        weft_thread_release(producers[k]);
    CHECK_OK(weft_queue_join(s.q, WEFT_FOREVER));
    /* join returned only after the last task_done: every count is in. */
    sum = 0;
    for (k = 0; k < pairs; k++) {
        weft_lock_acquire(&cs[k].lock, WEFT_FOREVER);
        sum += cs[k].done;
        weft_lock_release(&cs[k].lock);
    }
    CHECK_EQ_INT(sum, total);
    CHECK(weft_queue_empty(s.q));
    CHECK_STATUS(weft_queue_task_done(s.q), WEFT_EINVAL);

    /* A plain shutdown sends the consumers home. */
    weft_queue_shutdown(s.q, false);
    weft_test_join_all(consumers, pairs);
    for (k = 0; k < pairs; k++)
        CHECK_STATUS(cs[k].status, WEFT_ESHUTDOWN);
    for (i = 0; i < total; i++) {
        if (s.seen[i] != 1)
            weft_test_fail(__FILE__, __LINE__, "item %ld received %d times", i + 1,
                           s.seen[i]);
    }
    weft_queue_destroy(s.q);
    free(s.seen);
}

static void run_stress(weft_queue_kind kind, size_t bound, int pairs, long per_producer)
{
    run_stress_timed(kind, bound, pairs, per_producer, 0);
}

WEFT_TEST_TIMEOUT(queue_stress_fifo, 120)
{
    run_stress(WEFT_QUEUE_FIFO, STRESS_BOUND, STRESS_PAIRS, weft_test_iterations(250000));
}

/* A FIFO keeps its items in chunks of a little over a hundred: a bound of
 * several chunks, and no bound, make the ends cross chunks all the time. */
WEFT_TEST_TIMEOUT(queue_stress_fifo_bound_1000, 120)
{
    run_stress(WEFT_QUEUE_FIFO, 1000, STRESS_PAIRS, weft_test_iterations(250000));
}

WEFT_TEST_TIMEOUT(queue_stress_fifo_unbounded, 120)
{
    run_stress(WEFT_QUEUE_FIFO, 0, STRESS_PAIRS, weft_test_iterations(250000));
}

WEFT_TEST_TIMEOUT(queue_stress_lifo, 120)
{
    run_stress(WEFT_QUEUE_LIFO, STRESS_BOUND, STRESS_PAIRS, weft_test_iterations(50000));
}

WEFT_TEST_TIMEOUT(queue_stress_priority, 120)
{
    run_stress(WEFT_QUEUE_PRIORITY, STRESS_BOUND, STRESS_PAIRS, weft_test_iterations(50000));
}

/* One producer and one consumer: the getter keeps catching up with the
 * putter, and pauses to leave the putter a line to fill before it looks
 * again, finding a run, a short one or none. Every item once, in
 * order, with no bound and with bounds below, at and above a line's worth
 * of items and a chunk's. */
WEFT_TEST_TIMEOUT(queue_stress_fifo_1p1c_unbounded, 120)
{
    run_stress(WEFT_QUEUE_FIFO, 0, 1, weft_test_iterations(500000));
}

/* The items in a cache line of a 64-bit target's queue. */
enum { LINE_ITEMS = 8 };

WEFT_TEST_TIMEOUT(queue_stress_fifo_1p1c_bounds, 120)
{
    static const size_t bounds[] = {1, 3, 8, 9, 127, 128, 1024};
    size_t i;

    /* Fewer items through the small bounds, where a side often sleeps. */
    for (i = 0; i < sizeof bounds / sizeof bounds[0]; i++)
        run_stress(WEFT_QUEUE_FIFO, bounds[i], 1,
                   weft_test_iterations(bounds[i] <= 2 * LINE_ITEMS ? 10000 : 100000));
}

/* Two producers, two consumers on a queue of one item: the putters sleep
 * on a full queue and the getters on an empty one, by turns, for every
 * item; a lost wake-up on either side would hang here. */
WEFT_TEST_TIMEOUT(queue_stress_fifo_bound_1_sleepers_both_sides, 120)
{
    run_stress(WEFT_QUEUE_FIFO, 1, 2, weft_test_iterations(20000));
}

/* The same with a LIFO queue, whose getters and putters sleep under the
 * one lock both ends share. */
WEFT_TEST_TIMEOUT(queue_stress_lifo_bound_1_sleepers_both_sides, 120)
{
    run_stress(WEFT_QUEUE_LIFO, 1, 2, weft_test_iterations(20000));
}

/* Sleepers on both sides whose waits run out (a millisecond) and are
 * tried again, among others being woken: a sleeper that leaves on its
 * timeout must leave nothing behind that keeps a later one asleep. */
WEFT_TEST_TIMEOUT(queue_stress_fifo_bound_1_timed_sleepers, 120)
{
    run_stress_timed(WEFT_QUEUE_FIFO, 1, 2, weft_test_iterations(5000), 0.001);
}

/* ---- Shutdown in the middle of a stream ------------------------------------------ */

/* Producers put without end and consumers take, all across chunk ends,
 * until a shutdown stops them: a FIFO's ends claim items without a lock,
 * so an immediate shutdown lands among puts between their claim and their
 * store, gets between their look and their claim, and chunks leaving the
 * get end for reuse. */
enum { MIDSTREAM_ITEMS = 1 << 20, MIDSTREAM_BEFORE = 20000 };

typedef struct midstream {
    weft_queue *q;
    int pairs;
    weft_lock lock;  /* guards got and seen */
    long got;        /* items taken, all consumers */
    unsigned char *seen;
    weft_event enough; /* set once MIDSTREAM_BEFORE items were taken */
    weft_barrier start;
} midstream;

typedef struct midstream_producer {
    midstream *m;
    long index;
    long put; /* items put, the first `put` of this producer's ids */
    int status;
} midstream_producer;

typedef struct midstream_consumer {
    midstream *m;
    long last_of[STRESS_PAIRS];
    int status;
} midstream_consumer;

static void *midstream_put(void *arg)
{
    midstream_producer *p = arg;
    int rc = WEFT_OK;

    weft_barrier_wait(&p->m->start, WEFT_FOREVER);
    while (p->put < MIDSTREAM_ITEMS) {
        /* Items of producer i are i * MIDSTREAM_ITEMS + k + 1; NULL-free. */
        rc = weft_queue_put(p->m->q, (void *)(uintptr_t)(p->index * MIDSTREAM_ITEMS + p->put + 1),
                            WEFT_FOREVER);
        if (rc != WEFT_OK)
            break;
        p->put++;
    }
    p->status = rc;
    return NULL;
}

static void *midstream_get(void *arg)
{
    midstream_consumer *c = arg;
    midstream *m = c->m;

    weft_barrier_wait(&m->start, WEFT_FOREVER);
    for (;;) {
        void *item = NULL;
        long id, p, k;
        int rc = weft_queue_get(m->q, &item, WEFT_FOREVER);

        if (rc != WEFT_OK) {
            c->status = rc;
            break;
        }
        id = (long)(uintptr_t)item - 1;
        p = id / MIDSTREAM_ITEMS;
        k = id % MIDSTREAM_ITEMS;
        if (id < 0 || p >= m->pairs)
            weft_test_fail(__FILE__, __LINE__, "got a foreign item %ld", id + 1);
        if (k <= c->last_of[p])
            weft_test_fail(__FILE__, __LINE__, "producer %ld: item %ld after item %ld", p, k,
                           c->last_of[p]);
        c->last_of[p] = k;
        weft_lock_acquire(&m->lock, WEFT_FOREVER);
        m->seen[id]++;
        if (++m->got == MIDSTREAM_BEFORE)
            weft_event_set(&m->enough);
        weft_lock_release(&m->lock);
        CHECK_OK(weft_queue_task_done(m->q));
    }
    return NULL;
}

static void run_midstream(size_t bound, int pairs, bool immediate)
{
    weft_thread *producers[STRESS_PAIRS], *consumers[STRESS_PAIRS];
    midstream_producer ps[STRESS_PAIRS];
    midstream_consumer cs[STRESS_PAIRS];
    midstream m;
    long put = 0, p, k;
    int i;

    memset(&m, 0, sizeof m);
    memset(ps, 0, sizeof ps);
    memset(cs, 0, sizeof cs);
    m.q = make_queue(WEFT_QUEUE_FIFO, bound, NULL);
    m.pairs = pairs;
    m.seen = calloc((size_t)pairs * MIDSTREAM_ITEMS, 1);
    CHECK(m.seen != NULL);
    weft_barrier_init(&m.start, (uint32_t)(2 * pairs));
    for (i = 0; i < pairs; i++) {
        ps[i].m = &m;
        ps[i].index = i;
        cs[i].m = &m;
        for (p = 0; p < STRESS_PAIRS; p++)
            cs[i].last_of[p] = -1;
    }
    weft_test_start_each(consumers, pairs, midstream_get, cs, sizeof cs[0]);
    weft_test_start_each(producers, pairs, midstream_put, ps, sizeof ps[0]);
    CHECK_OK(weft_event_wait(&m.enough, WEFT_FOREVER));
    weft_queue_shutdown(m.q, immediate);
    weft_test_join_all(producers, pairs);
    weft_test_join_all(consumers, pairs);

    for (i = 0; i < pairs; i++) {
        CHECK(ps[i].status == WEFT_ESHUTDOWN || ps[i].put == MIDSTREAM_ITEMS);
        CHECK_STATUS(cs[i].status, WEFT_ESHUTDOWN);
        put += ps[i].put;
    }
    /* Each item taken once, and only items whose put succeeded; after a
     * plain shutdown, every one of them. */
    for (p = 0; p < pairs; p++) {
        for (k = 0; k < MIDSTREAM_ITEMS; k++) {
            unsigned char n = m.seen[p * MIDSTREAM_ITEMS + k];

            if (n > 1 || (n == 1 && k >= ps[p].put) || (!immediate && k < ps[p].put && n != 1))
                weft_test_fail(__FILE__, __LINE__, "producer %ld item %ld taken %d times (%ld put)",
                               p, k, n, ps[p].put);
        }
    }
    CHECK(immediate || m.got == put);
    /* Dropped items count as done: nothing is left to join. */
    CHECK_EQ_UINT(weft_queue_size(m.q), 0);
    CHECK_OK(weft_queue_join(m.q, 0));
    CHECK_STATUS(weft_queue_task_done(m.q), WEFT_EINVAL);
    CHECK_STATUS(weft_queue_put(m.q, ITEM(1), 0), WEFT_ESHUTDOWN);
    weft_queue_destroy(m.q);
    free(m.seen);
}

WEFT_TEST_TIMEOUT(queue_midstream_shutdown_immediate_unbounded, 120)
{
    run_midstream(0, STRESS_PAIRS, true);
}

WEFT_TEST_TIMEOUT(queue_midstream_shutdown_immediate_bound_300, 120)
{
    run_midstream(300, STRESS_PAIRS, true);
}

WEFT_TEST_TIMEOUT(queue_midstream_shutdown_plain_unbounded, 120)
{
    run_midstream(0, STRESS_PAIRS, false);
}

WEFT_TEST_TIMEOUT(queue_midstream_shutdown_plain_bound_300, 120)
{
    run_midstream(300, STRESS_PAIRS, false);
}

WEFT_TEST_TIMEOUT(queue_midstream_shutdown_immediate_1p1c, 120)
{
    run_midstream(0, 1, true);
}

/* ---- A get that cannot miss ----------------------------------------------------- */

/* Producers release a token after each put returns, and consumers take one
 * before each get: a get then always has a landed item that no other get
 * has claimed, and get_nowait must find one, though other gets empty and
 * leave chunks (which puts take back and empty) under it. */
enum { NEVER_EMPTY_ITEMS = 200000 };

typedef struct never_empty {
    weft_queue *q;
    weft_sem landed;
    long per_thread;
    weft_barrier start;
} never_empty;

static void *never_empty_put(void *arg)
{
    never_empty *n = arg;
    long i;

    weft_barrier_wait(&n->start, WEFT_FOREVER);
    for (i = 0; i < n->per_thread; i++) {
        CHECK_OK(weft_queue_put(n->q, ITEM(1), WEFT_FOREVER));
        CHECK_OK(weft_sem_release(&n->landed, 1));
    }
    return NULL;
}

static void *never_empty_get(void *arg)
{
    never_empty *n = arg;
    long i;

    weft_barrier_wait(&n->start, WEFT_FOREVER);
    for (i = 0; i < n->per_thread; i++) {
        void *item = NULL;

        CHECK_OK(weft_sem_acquire(&n->landed, WEFT_FOREVER));
        CHECK_OK(weft_queue_get(n->q, &item, 0));
        CHECK(item == ITEM(1));
    }
    return NULL;
}

WEFT_TEST_TIMEOUT(queue_get_nowait_finds_a_landed_item, 120)
{
    weft_thread *threads[2 * STRESS_PAIRS];
    never_empty n;

    memset(&n, 0, sizeof n);
    n.q = make_queue(WEFT_QUEUE_FIFO, 0, NULL);
    n.per_thread = weft_test_iterations(NEVER_EMPTY_ITEMS) / STRESS_PAIRS;
    weft_sem_init(&n.landed, 0, false);
    weft_barrier_init(&n.start, 2 * STRESS_PAIRS);
    weft_test_start_all(threads, STRESS_PAIRS, never_empty_get, &n);
    weft_test_start_all(threads + STRESS_PAIRS, STRESS_PAIRS, never_empty_put, &n);
    weft_test_join_all(threads, 2 * STRESS_PAIRS);
    CHECK_EQ_UINT(weft_queue_size(n.q), 0);
    weft_queue_destroy(n.q);
}
