/*
 * queue.Queue, LifoQueue and PriorityQueue, following the structure of
 * CPython's Lib/queue.py: one lock, three conditions (not_empty, not_full,
 * all_tasks_done), a count of unfinished tasks, and Python 3.13's shutdown.
 *
 * The items live in one growable array of entries, used as a ring (FIFO),
 * a stack (LIFO) or a binary heap (PRIORITY). A heap entry carries the
 * sequence number of its put, so equal items come out first in, first out.
 *
 * A getter that finds the queue empty first looks again a few times, with
 * growing pauses and without the lock, at `count` (written under the lock
 * with relaxed atomic stores for that), before it parks: an item that a
 * producer puts a moment later is then taken without two system calls.
 */
#include "internal.h"

#include <stdlib.h>

enum { RUNNING = 0, SHUT_DOWN = 1, SHUT_DOWN_NOW = 2 };

typedef struct entry {
    void *item;
    uint64_t seq;
} entry;

struct weft_queue {
    weft_lock lock;
    weft_cond not_empty;
    weft_cond not_full;
    weft_cond all_done;
    weft_queue_kind kind;
    size_t maxsize;
    int (*compare)(const void *a, const void *b);
    entry *buf;
    size_t cap;
    size_t head;       /* FIFO: where the oldest entry is */
    size_t count;      /* written under the lock; peeked at without it */
    uint64_t next_seq; /* PRIORITY: the order of puts */
    size_t unfinished; /* items put and not yet marked done */
    int state;
};

int weft_queue_create(weft_queue **out, const weft_queue_opts *opts)
{
    weft_queue_opts defaults = {WEFT_QUEUE_FIFO, 0, NULL};
    weft_queue *q;

    if (!out)
        return WEFT_EINVAL;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (opts->kind != WEFT_QUEUE_FIFO && opts->kind != WEFT_QUEUE_LIFO &&
        opts->kind != WEFT_QUEUE_PRIORITY)
        return WEFT_EINVAL;
    if (opts->kind == WEFT_QUEUE_PRIORITY && !opts->compare)
        return WEFT_EINVAL;
    q = calloc(1, sizeof *q);
    if (!q)
        return WEFT_ENOMEM;
    q->kind = opts->kind;
    q->maxsize = opts->maxsize;
    q->compare = opts->compare;
    *out = q;
    return WEFT_OK;
}

/* ---- The storage: ring, stack or heap ---------------------------------------------- */

/* Whether heap entry a must come out before b. */
static bool before(const weft_queue *q, const entry *a, const entry *b)
{
    int c = q->compare(a->item, b->item);

    return c < 0 || (c == 0 && a->seq < b->seq);
}

static void swap_entries(entry *a, entry *b)
{
    entry t = *a;

    *a = *b;
    *b = t;
}

/* Room for one more entry; a ring is laid out from 0 again when it grows. */
static int reserve(weft_queue *q)
{
    size_t cap, i;
    entry *grown;

    if (q->count < q->cap)
        return WEFT_OK;
    cap = q->cap ? q->cap * 2 : 16;
    if (cap < q->cap || cap > SIZE_MAX / sizeof *grown)
        return WEFT_ENOMEM;
    grown = malloc(cap * sizeof *grown);
    if (!grown)
        return WEFT_ENOMEM;
    for (i = 0; i < q->count; i++)
        grown[i] = q->buf[(q->head + i) % q->cap];
    free(q->buf);
    q->buf = grown;
    q->cap = cap;
    q->head = 0;
    return WEFT_OK;
}

static int push(weft_queue *q, void *item)
{
    size_t i, parent;
    int rc = reserve(q);

    if (rc != WEFT_OK)
        return rc;
    switch (q->kind) {
    case WEFT_QUEUE_FIFO:
        q->buf[(q->head + q->count) % q->cap] = (entry){item, 0};
        break;
    case WEFT_QUEUE_LIFO:
        q->buf[q->count] = (entry){item, 0};
        break;
    case WEFT_QUEUE_PRIORITY:
        i = q->count;
        q->buf[i] = (entry){item, q->next_seq++};
        for (; i > 0; i = parent) {
            parent = (i - 1) / 2;
            if (!before(q, &q->buf[i], &q->buf[parent]))
                break;
            swap_entries(&q->buf[i], &q->buf[parent]);
        }
        break;
    }
    weft__store_size(&q->count, q->count + 1);
    return WEFT_OK;
}

static void *pop(weft_queue *q)
{
    size_t i, child;
    void *item;

    weft__store_size(&q->count, q->count - 1);
    switch (q->kind) {
    case WEFT_QUEUE_FIFO:
        item = q->buf[q->head].item;
        q->head = (q->head + 1) % q->cap;
        return item;
    case WEFT_QUEUE_LIFO:
        return q->buf[q->count].item;
    default: /* WEFT_QUEUE_PRIORITY */
        item = q->buf[0].item;
        q->buf[0] = q->buf[q->count];
        for (i = 0; (child = 2 * i + 1) < q->count; i = child) {
            if (child + 1 < q->count && before(q, &q->buf[child + 1], &q->buf[child]))
                child++;
            if (!before(q, &q->buf[child], &q->buf[i]))
                break;
            swap_entries(&q->buf[i], &q->buf[child]);
        }
        return item;
    }
}

/* ---- Put, get, task_done, join --------------------------------------------------- */

/* Without the lock: wait a little for an item to appear. */
static void spin_for_item(const weft_queue *q)
{
    unsigned round, i;

    for (round = 0; round < 8; round++) {
        for (i = 0; i < (1u << round); i++)
            weft__cpu_relax();
        if (weft__load_size(&q->count) != 0)
            return;
    }
}

static bool is_full(const weft_queue *q)
{
    return q->maxsize != 0 && q->count >= q->maxsize;
}

int weft_queue_put(weft_queue *q, void *item, double timeout)
{
    int64_t deadline;
    int rc;

    rc = weft__begin_wait(q, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    weft__lock(&q->lock);
    for (;;) {
        if (q->state != RUNNING) {
            rc = WEFT_ESHUTDOWN;
            break;
        }
        if (!is_full(q)) {
            rc = push(q, item);
            if (rc == WEFT_OK) {
                q->unfinished++;
                weft_cond_notify(&q->not_empty, 1);
            }
            break;
        }
        if (weft__cond_wait_until(&q->not_full, &q->lock, deadline) == WEFT_ETIMEDOUT &&
            q->state == RUNNING && is_full(q)) {
            rc = WEFT_EFULL;
            break;
        }
    }
    weft__unlock(&q->lock);
    return rc;
}

int weft_queue_get(weft_queue *q, void **item, double timeout)
{
    int64_t deadline;
    bool spun = false;
    int rc;

    rc = weft__begin_wait(q && item ? q : NULL, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    weft__lock(&q->lock);
    for (;;) {
        if (q->count > 0) {
            *item = pop(q);
            weft_cond_notify(&q->not_full, 1);
            break;
        }
        if (q->state != RUNNING) {
            rc = WEFT_ESHUTDOWN;
            break;
        }
        if (deadline != 0 && !spun) {
            spun = true;
            weft__unlock(&q->lock);
            spin_for_item(q);
            weft__lock(&q->lock);
            continue;
        }
        if (weft__cond_wait_until(&q->not_empty, &q->lock, deadline) == WEFT_ETIMEDOUT &&
            q->count == 0 && q->state == RUNNING) {
            rc = WEFT_EEMPTY;
            break;
        }
    }
    weft__unlock(&q->lock);
    return rc;
}

int weft_queue_task_done(weft_queue *q)
{
    int rc = WEFT_OK;

    if (!q)
        return WEFT_EINVAL;
    weft__lock(&q->lock);
    if (q->unfinished == 0)
        rc = WEFT_EINVAL; /* task_done() called too many times */
    else if (--q->unfinished == 0)
        weft_cond_notify_all(&q->all_done);
    weft__unlock(&q->lock);
    return rc;
}

int weft_queue_join(weft_queue *q, double timeout)
{
    int64_t deadline;
    int rc;

    rc = weft__begin_wait(q, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    weft__lock(&q->lock);
    while (q->unfinished > 0) {
        if (weft__cond_wait_until(&q->all_done, &q->lock, deadline) == WEFT_ETIMEDOUT &&
            q->unfinished > 0) {
            rc = WEFT_ETIMEDOUT;
            break;
        }
    }
    weft__unlock(&q->lock);
    return rc;
}

/* ---- Snapshots, shutdown, destroy ------------------------------------------------- */

/* The snapshots take the lock of a queue passed as const: the queue itself
 * is never a const object (weft_queue_create allocates it). */
static size_t locked_count(const weft_queue *queue, bool *full)
{
    weft_queue *q = (weft_queue *)queue;
    size_t n;

    weft__lock(&q->lock);
    n = q->count;
    *full = is_full(q);
    weft__unlock(&q->lock);
    return n;
}

size_t weft_queue_size(const weft_queue *q)
{
    bool full;

    return q ? locked_count(q, &full) : 0;
}

bool weft_queue_empty(const weft_queue *q)
{
    return weft_queue_size(q) == 0;
}

bool weft_queue_full(const weft_queue *q)
{
    bool full = false;

    if (q)
        locked_count(q, &full);
    return full;
}

void weft_queue_shutdown(weft_queue *q, bool immediate)
{
    if (!q)
        return;
    weft__lock(&q->lock);
    if (immediate) {
        /* The items are dropped unseen and count as done, as in Python. */
        q->unfinished = q->unfinished > q->count ? q->unfinished - q->count : 0;
        weft__store_size(&q->count, 0);
        q->head = 0;
        q->state = SHUT_DOWN_NOW;
        weft_cond_notify_all(&q->all_done);
    } else if (q->state == RUNNING) {
        q->state = SHUT_DOWN;
    }
    weft_cond_notify_all(&q->not_empty);
    weft_cond_notify_all(&q->not_full);
    weft__unlock(&q->lock);
}

void weft_queue_destroy(weft_queue *q)
{
    if (!q)
        return;
    free(q->buf);
    free(q);
}
