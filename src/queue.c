/* SPDX-License-Identifier: MIT */
/*
 * queue.Queue, LifoQueue and PriorityQueue with the semantics of CPython's
 * Lib/queue.py: maxsize, task_done and join, and Python 3.13's shutdown.
 *
 * Two counters carry the state every kind shares: `tail`, the items put so
 * far, and `head`, the items taken so far (an immediate shutdown's dropped
 * items included). The size is tail - head; the unfinished tasks are
 * tail - done, `done` counting task_done calls and dropped items.
 *
 * A FIFO queue has a lock for each end, so a producer and a consumer on
 * different CPUs do not pass one lock's cache line back and forth for every
 * item. Its items live in a list of fixed-size chunks whose slots read NULL
 * until a put fills them: a put counts the item in tail, then publishes it
 * in the next slot of the last chunk; a get finds items by reading the
 * slots after head, never tail, so tail's line stays with the producer and
 * the only line a getter takes from it is the one being filled. The get
 * end keeps how far it found slots filled (`tail_seen`), the put end head
 * as last read (`head_seen`); each looks again only when that copy says
 * the queue is empty, or full. A consumer that leaves a chunk keeps it as
 * the spare the producer empties and takes next, so a queue in steady use
 * does not allocate. LIFO and PRIORITY queues keep a stack or a heap in
 * one array under the put lock, which their gets take too.
 *
 * Sleeping (a getter on an empty queue, a putter on a full one, a joiner)
 * is a wait on a weft_cond. A getter sleeps under the put end's lock, and
 * a putter under the get end's: it counts itself there (`getters_asleep`,
 * `putters_asleep`), looks at the queue once more, and waits; the other
 * end publishes its counter and reads that count under the same lock, and
 * notifies (after its unlock) only when it is not 0. The lock orders the
 * two, so a put or a get is two atomic instructions (its lock's acquire
 * and release) and its counter a plain release store: a store-then-check
 * handshake without a lock needed a sequentially consistent store of the
 * counter, a third, on every item, where only a sleep pays for this one.
 * Getters and putters first look a few more times without their lock: an
 * item put (or taken) a moment later then costs no system call on either
 * side. Each end remembers whether those looks paid lately, and stops
 * looking for a while when they did not (spin_hint).
 *
 * Across CPUs the cost of an item is the cache lines it moves, and a
 * getter that keeps up with a putter would move the line being filled for
 * every item; one that has taken every item it saw pauses once to let the
 * putter fill that line before it looks again (caught_up).
 */
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

enum { QUEUE_OPEN = 0, QUEUE_SHUT_DOWN = 1, QUEUE_SHUT_DOWN_NOW = 2 };

/* Item slots per chunk: a chunk is 1 KiB on a 64-bit target. */
#define CHUNK_SLOTS 127

typedef struct chunk {
    void *next; /* the next chunk, published before the producer fills a slot there */
    void *slots[CHUNK_SLOTS]; /* NULL until an item is put there (NULL_ITEM for NULL) */
} chunk;

/* What a slot holds for a NULL item, whose slot must not look empty. */
static char null_item;
#define NULL_ITEM ((void *)&null_item)

/* A stack or heap entry; seq orders equal items of a PRIORITY queue. */
typedef struct item_entry {
    void *item;
    uint64_t seq;
} item_entry;

/* How an end's last spins before a sleep (or a getter's pauses once it
 * has caught up) went: each waiter that spun and found nothing doubles the
 * number of waiters after it that go to sleep without spinning (up to
 * 2^SPIN_MISSES_MAX - 1); one that found what it waited for makes them
 * spin again. Where the other end runs beside the
 * waiter, a spin finds the change within a microsecond and saves two
 * system calls; where it does not run (other processes hold the CPUs, or
 * more threads than CPUs) the spin only burns the time it needs: profiled
 * under such load (1P/1C bounded, unpinned), half the queue's CPU time
 * went to spins that found nothing. */
typedef struct spin_hint {
    uint8_t skip;   /* waiters still to go without spinning */
    uint8_t misses; /* fruitless spins in a row, up to SPIN_MISSES_MAX */
} spin_hint;

#define SPIN_MISSES_MAX 6

/* Padding that keeps the fields before it and after it on different cache
 * lines, whatever the alignment of the queue. */
#define CACHE_LINE_GAP(name) char name[WEFT__CACHE_LINE]

struct weft_queue {
    /* The put end, written under put_lock. Of it a FIFO's getter reads
     * `tail` only when it spins or sleeps for an item (else it reads the
     * slots), on a line of its own so that leaves the rest alone. */
    weft_lock put_lock;
    size_t head_seen; /* head as last read here; never ahead of head */
    uint32_t getters_asleep; /* getters asleep on not_empty: queue_sleep_until() */
    spin_hint put_spin;
    chunk *tail_chunk;
    size_t tail_slot;
    CACHE_LINE_GAP(gap_put);
    size_t tail; /* items put so far; a FIFO counts one before its slot is filled */
    CACHE_LINE_GAP(gap_tail);
    /* The get end, written under the lock get_lock_of() names; the same. */
    weft_lock get_lock; /* FIFO only */
    size_t tail_seen;      /* FIFO: items seen in slots; else tail as last read */
    uint32_t putters_asleep; /* putters asleep on not_full: queue_sleep_until() */
    spin_hint get_spin;    /* under the lock get_lock_of() names */
    spin_hint run_pause;   /* FIFO: whether pauses once caught up paid */
    chunk *head_chunk;
    size_t head_slot;
    CACHE_LINE_GAP(gap_get);
    size_t head; /* items taken (or dropped) so far */
    CACHE_LINE_GAP(gap_head);
    /* Read by both ends, written when a thread sleeps or at shutdown. */
    weft_cond not_empty;
    weft_cond not_full;
    weft_cond all_done;
    uint32_t state;
    weft_queue_kind kind;
    size_t maxsize;
    int (*compare)(const void *a, const void *b);
    void *spare;      /* FIFO: an emptied chunk for the put end to reuse */
    item_entry *array; /* LIFO and PRIORITY, under put_lock */
    size_t cap;
    uint64_t next_seq; /* PRIORITY: the order of puts */
    CACHE_LINE_GAP(gap_shared);
    size_t done; /* task_done calls so far, plus dropped items */
};

static bool is_fifo(const weft_queue *q)
{
    return q->kind == WEFT_QUEUE_FIFO;
}

/* The lock that guards the get end: LIFO and PRIORITY queues have one. */
static weft_lock *get_lock_of(weft_queue *q)
{
    return is_fifo(q) ? &q->get_lock : &q->put_lock;
}

int weft_queue_create(weft_queue **out, const weft_queue_opts *opts)
{
    weft_queue_opts defaults = {0};
    weft_queue *q;
    int rc;

    if (!out)
        return weft__fail_null(__func__);
    *out = NULL;
    if (!opts)
        opts = &defaults;
    rc = WEFT__RESERVED_CHECK("queue_create", opts);
    if (rc != WEFT_OK)
        return rc;
    if (opts->kind != WEFT_QUEUE_FIFO && opts->kind != WEFT_QUEUE_LIFO &&
        opts->kind != WEFT_QUEUE_PRIORITY)
        return weft__fail(WEFT_EINVAL, "queue_create: kind %d is not a weft_queue_kind",
                          (int)opts->kind);
    if (opts->kind == WEFT_QUEUE_PRIORITY && !opts->compare)
        return weft__fail(WEFT_EINVAL, "queue_create: a PRIORITY queue needs opts->compare");
    q = weft__calloc(1, sizeof *q);
    if (!q)
        return weft__fail(WEFT_ENOMEM, "queue_create: no memory for the queue");
    q->kind = opts->kind;
    q->maxsize = opts->maxsize;
    q->compare = opts->compare;
    if (is_fifo(q)) {
        q->tail_chunk = q->head_chunk = weft__calloc(1, sizeof(chunk));
        if (!q->tail_chunk) {
            weft__free(q);
            return weft__fail(WEFT_ENOMEM, "queue_create: no memory for the queue's first chunk");
        }
    }
    WEFT__HANDLE_BORN(q, "queue");
    *out = q;
    return WEFT_OK;
}

static bool is_open(const weft_queue *q)
{
    return weft__load_sc(&q->state) == QUEUE_OPEN;
}

/* ---- The FIFO's chunks --------------------------------------------------------- */

/* With the put lock: count the item in tail, then publish it in the next
 * slot, in a new chunk if the last is full (the spare, emptied, or a new
 * one). In that order, so a getter that took the item, having seen its
 * slot, never finds tail behind head (its task_done, a qsize). */
static int chunk_put(weft_queue *q, void *item)
{
    void **place;

    if (q->tail_slot == CHUNK_SLOTS) {
        chunk *c = weft__swap_ptr(&q->spare, NULL);

        if (c)
            memset(c, 0, sizeof *c);
        else if (!(c = weft__calloc(1, sizeof *c)))
            return WEFT_ENOMEM;
        weft__store_ptr(&q->tail_chunk->next, c);
        q->tail_chunk = c;
        q->tail_slot = 0;
    }
    place = &q->tail_chunk->slots[q->tail_slot++];
    weft__store_size_release(&q->tail, q->tail + 1);
    weft__store_ptr(place, item ? item : NULL_ITEM);
    return WEFT_OK;
}

/* Move the get end to the next chunk, if the producer has begun it (then it
 * is done with this one): false if it has not. */
static bool chunk_leave(weft_queue *q)
{
    chunk *used = q->head_chunk, *next = weft__load_ptr(&used->next);

    if (!next)
        return false;
    q->head_chunk = next;
    q->head_slot = 0;
    weft__free(weft__swap_ptr(&q->spare, used));
    return true;
}

/* With the get lock, all items seen taken: count the filled slots from
 * head into tail_seen, up to the first empty one or the chunk's end (puts
 * fill them in order), first moving to the next chunk if head is at the
 * end of its own and the producer has begun the next. */
static void chunk_look(weft_queue *q)
{
    void **first, **at, **end;

    if (q->head_slot == CHUNK_SLOTS && !chunk_leave(q))
        return;
    first = &q->head_chunk->slots[q->head_slot];
    end = q->head_chunk->slots + CHUNK_SLOTS;
    for (at = first; at < end && weft__load_ptr(at); at++)
        ;
    q->tail_seen = q->head + (size_t)(at - first);
}

/* An item chunk_look() counted: a plain read, since chunk_look's acquire
 * load already saw the slot filled, and nothing writes it again until the
 * chunk is left (on aarch64 an ldr where an ldar would wait for more). */
static void *chunk_take(weft_queue *q)
{
    void *item = q->head_chunk->slots[q->head_slot++];

    return item == NULL_ITEM ? NULL : item;
}

/* ---- The stack and the heap (LIFO, PRIORITY) ---------------------------------- */

/* Whether heap entry a must come out before b. */
static bool heap_before(const weft_queue *q, const item_entry *a, const item_entry *b)
{
    int c = q->compare(a->item, b->item);

    return c < 0 || (c == 0 && a->seq < b->seq);
}

static void swap_entries(item_entry *a, item_entry *b)
{
    item_entry t = *a;

    *a = *b;
    *b = t;
}

static int array_put(weft_queue *q, void *item)
{
    size_t count = q->tail - q->head, i, parent;

    if (count == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        item_entry *grown;

        if (cap < q->cap || cap > SIZE_MAX / sizeof *grown)
            return WEFT_ENOMEM;
        grown = weft__realloc(q->array, cap * sizeof *grown);
        if (!grown)
            return WEFT_ENOMEM;
        q->array = grown;
        q->cap = cap;
    }
    q->array[count] = (item_entry){item, q->next_seq++};
    if (q->kind == WEFT_QUEUE_PRIORITY) {
        for (i = count; i > 0; i = parent) {
            parent = (i - 1) / 2;
            if (!heap_before(q, &q->array[i], &q->array[parent]))
                break;
            swap_entries(&q->array[i], &q->array[parent]);
        }
    }
    weft__store_size_release(&q->tail, q->tail + 1);
    return WEFT_OK;
}

static void *array_take(weft_queue *q)
{
    size_t count = q->tail - q->head - 1, i, child;
    void *item;

    if (q->kind == WEFT_QUEUE_LIFO)
        return q->array[count].item;
    item = q->array[0].item;
    q->array[0] = q->array[count];
    for (i = 0; (child = 2 * i + 1) < count; i = child) {
        if (child + 1 < count && heap_before(q, &q->array[child + 1], &q->array[child]))
            child++;
        if (!heap_before(q, &q->array[child], &q->array[i]))
            break;
        swap_entries(&q->array[i], &q->array[child]);
    }
    return item;
}

/* ---- Put and get ---------------------------------------------------------------- */

/* With the put lock: whether there is room for one more item. */
static bool has_room(weft_queue *q)
{
    if (q->maxsize == 0 || q->tail - q->head_seen < q->maxsize)
        return true;
    q->head_seen = weft__load_size(&q->head);
    return q->tail - q->head_seen < q->maxsize;
}

/* With the get lock: whether an item is there to take. */
static bool has_item(weft_queue *q)
{
    if (q->head != q->tail_seen)
        return true;
    if (is_fifo(q))
        chunk_look(q);
    else
        q->tail_seen = weft__load_size(&q->tail);
    return q->head != q->tail_seen;
}

/* The item slots in a cache line. */
#define LINE_SLOTS (WEFT__CACHE_LINE / sizeof(void *))

/* The pauses (weft__backoff's round) a getter leaves a producer to fill
 * the line it is writing: 32, about the time of a few puts. */
#define RUN_PAUSE_ROUND 5

/*
 * With the get lock: whether the items seen are all taken, so that the
 * next look is at the slots after them. A getter that catches up with a
 * producer still putting would take each item as it lands; every put then
 * finds the slot's line in the getter's cache and waits for it to come
 * back, so a line round trip between CPUs (70-1300 ns) sets the pace. A
 * getter that has caught up pauses once (without its lock) before it
 * looks: the producer fills the line meanwhile, and the line moves once
 * per run rather than once per item. It does not look first to see
 * whether a run has started, since that look, one more per run, cost the
 * producer one more wait for the line. Pausing at once took the unbounded
 * 1P/1C and 2P/2C queues from 1.40-1.72x the plain ring to 2.24-3.14x
 * beside two busy processes (bench_queue, pinned, cache-line round trip
 * 850-1270 ns), when the getter still read tail; reading the slots instead
 * then took unbounded 1P/1C beside them, pinned or not, from 1.21-2.19x to
 * 2.00-3.41x, and quiet from 2.71-4.83x to 4.14-7.36x (round trip 399-1658
 * ns).
 */
static bool caught_up(const weft_queue *q)
{
    /* At a chunk's end the look stopped there, not at an empty slot. */
    return q->head == q->tail_seen && q->head_slot != CHUNK_SLOTS;
}

/* With the get lock, after such a pause: whether it paid, the producer
 * having put a line's worth of items (or filled its chunk) meanwhile. It
 * does not where the queue was empty and stays so, where the producer
 * puts one item at a time (a request and its reply), or where it is not
 * running (other processes hold its CPU, or it shares the getter's): then
 * each pause only burnt its 1-3 us, measured 0.8-3.7 us per item for a
 * put and a get by turns in one thread, so the pauses learn as the spins
 * do (`run_pause`). */
static bool run_filled(weft_queue *q)
{
    size_t run;

    chunk_look(q);
    run = q->tail_seen - q->head;
    return run >= LINE_SLOTS || (run != 0 && q->head_slot + run == CHUNK_SLOTS);
}

/* Without a lock (weft__spin_until): whether an item seems to be there. */
static bool item_in_sight(const void *queue)
{
    const weft_queue *q = queue;

    return weft__load_size(&q->tail) != weft__load_size(&q->head);
}

/* A putter that finds the queue full waits (while it spins) for this much
 * room, or a quarter of maxsize if that is less, rather than for one slot:
 * the consumer then takes a run of items while the producer stays off the
 * get end's cache line, and the producer fills the run without reading
 * head again. One slot at a time measured half the throughput. */
#define ROOM_BATCH 64

static bool room_in_sight(const void *queue)
{
    const weft_queue *q = queue;
    size_t head = weft__load_size(&q->head);
    size_t want = q->maxsize / 4 < ROOM_BATCH ? q->maxsize / 4 : ROOM_BATCH;

    return weft__load_size(&q->tail) - head + (want ? want : 1) <= q->maxsize;
}

/* Whether the hint lets this waiter spin (or pause) now. */
static bool hint_allows(spin_hint *hint)
{
    if (hint->skip == 0)
        return true;
    hint->skip--;
    return false;
}

/* Learn from a spin (or pause) that hint_allows() let happen. */
static void hint_learn(spin_hint *hint, bool paid)
{
    if (paid) {
        hint->misses = 0;
    } else {
        if (hint->misses < SPIN_MISSES_MAX)
            hint->misses++;
        hint->skip = (uint8_t)((1u << hint->misses) - 1);
    }
}

/* With the end's lock: spin for in_sight(q) (without that lock), unless
 * the hint says spins have not paid lately; then learn from how it went.
 * A spin paid if, back under the lock, the waiter can go on (can_go(q)):
 * a putter's spin waits for more room than one slot, and is worth it as
 * long as it spares the sleep. */
static void spin_if_it_pays(weft_queue *q, spin_hint *hint, weft_lock *lock,
                            bool (*in_sight)(const void *queue), bool (*can_go)(weft_queue *q))
{
    if (!hint_allows(hint))
        return;
    weft__unlock(lock);
    (void)weft__spin_until(in_sight, q);
    weft__lock(lock);
    hint_learn(hint, can_go(q));
}

/* A sleeping getter's question, under the put end's lock (where tail
 * stands still): whether it may stop sleeping. */
static bool getter_may_go(const weft_queue *q)
{
    return q->tail != weft__load_size(&q->head) || !is_open(q);
}

/* A sleeping putter's, under the get end's lock (head stands still). */
static bool putter_may_go(const weft_queue *q)
{
    return weft__load_size(&q->tail) - q->head < q->maxsize || !is_open(q);
}

/*
 * With `own` (the waiter's end's lock) held: unless may_go(q), sleep on
 * `cond` once, counted in *asleep, which is read under `other`, the lock
 * of the end whose change is awaited (the same lock for LIFO and PRIORITY
 * queues): the count goes up and may_go(q) is asked under it, so the
 * other end's call that makes the change either comes first and is seen,
 * or sees the count and notifies. The count goes down without that lock
 * (a notify that reads it too high finds nobody to wake), so a woken
 * sleeper goes back to its own end without taking the other's lock again.
 * Returns holding `own` again: WEFT_ETIMEDOUT if the deadline passed,
 * else WEFT_OK (woken, or may_go(q) held); the caller looks again.
 */
static int queue_sleep_until(weft_queue *q, weft_lock *own, weft_lock *other, uint32_t *asleep,
                       weft_cond *cond, bool (*may_go)(const weft_queue *q), int64_t deadline)
{
    int rc = WEFT_OK;

    if (other != own) {
        weft__unlock(own);
        weft__lock(other);
    }
    if (may_go(q)) {
        weft__unlock(other);
    } else {
        (void)weft__fetch_add(asleep, 1);
        rc = weft__cond_wait_leaving(cond, other, deadline);
        (void)weft__fetch_sub(asleep, 1);
    }
    weft__lock(own);
    return rc;
}

int weft_queue_put(weft_queue *q, void *item, double timeout)
{
    int64_t deadline;
    bool spun = false, timed_out = false, wake = false;
    int rc;

    rc = weft__begin_wait(q, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    if (WEFT__HANDLE_DEAD(q, "queue"))
        return WEFT_EINVAL;
    weft__lock(&q->put_lock);
    for (;;) {
        if (!is_open(q)) {
            rc = weft__fail_text(WEFT_ESHUTDOWN, "queue_put: the queue is shut down");
            break;
        }
        if (has_room(q)) {
            rc = is_fifo(q) ? chunk_put(q, item) : array_put(q, item);
            if (rc == WEFT_OK) {
                wake = weft__load_relaxed(&q->getters_asleep) != 0;
            } else {
                weft__fail(rc, "queue_put: no memory for room for one more item (%zu held)",
                           q->tail - q->head);
            }
            break;
        }
        if (deadline != 0 && !spun) {
            spun = true;
            spin_if_it_pays(q, &q->put_spin, &q->put_lock, room_in_sight, has_room);
            continue;
        }
        if (deadline == 0 || timed_out) {
            rc = weft__fail_text(WEFT_EFULL, "queue_put: the queue is full");
            break;
        }
        timed_out = queue_sleep_until(q, &q->put_lock, get_lock_of(q), &q->putters_asleep,
                                &q->not_full, putter_may_go, deadline) == WEFT_ETIMEDOUT;
    }
    weft__unlock(&q->put_lock);
    if (wake)
        weft_cond_notify(&q->not_empty, 1);
    return rc;
}

int weft_queue_get(weft_queue *q, void **item, double timeout)
{
    weft_lock *lock;
    int64_t deadline;
    bool spun = false, timed_out = false, may_pause, wake = false;
    int rc;

    rc = weft__begin_wait(q && item ? q : NULL, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    if (WEFT__HANDLE_DEAD(q, "queue"))
        return WEFT_EINVAL;
    lock = get_lock_of(q);
    /* Not for a getter that waited: the item it finds is the one it waited
     * for, and a pause would only delay it. */
    may_pause = is_fifo(q) && deadline != 0 && weft__spinning_pays();
    weft__lock(lock);
    for (;;) {
        if (may_pause && caught_up(q) && hint_allows(&q->run_pause)) {
            may_pause = false;
            weft__unlock(lock);
            weft__backoff(RUN_PAUSE_ROUND);
            weft__lock(lock);
            hint_learn(&q->run_pause, run_filled(q));
            continue;
        }
        if (has_item(q)) {
            *item = is_fifo(q) ? chunk_take(q) : array_take(q);
            weft__store_size_release(&q->head, q->head + 1);
            wake = weft__load_relaxed(&q->putters_asleep) != 0;
            break;
        }
        if (!is_open(q)) {
            rc = weft__fail_text(WEFT_ESHUTDOWN, "queue_get: the queue is shut down and empty");
            break;
        }
        if (deadline != 0 && !spun) {
            spun = true;
            may_pause = false;
            spin_if_it_pays(q, &q->get_spin, lock, item_in_sight, has_item);
            continue;
        }
        if (deadline == 0 || timed_out) {
            rc = weft__fail_text(WEFT_EEMPTY, "queue_get: the queue is empty");
            break;
        }
        timed_out = queue_sleep_until(q, lock, &q->put_lock, &q->getters_asleep, &q->not_empty,
                                getter_may_go, deadline) == WEFT_ETIMEDOUT;
    }
    weft__unlock(lock);
    if (wake)
        weft_cond_notify(&q->not_full, 1);
    return rc;
}

/* ---- task_done and join --------------------------------------------------------- */

/* Whether every item put has been marked done (read done first: tail only
 * grows, so a done equal to a later tail was equal to tail then too). */
static bool all_done(void *queue)
{
    weft_queue *q = queue;
    size_t done = weft__load_size(&q->done);

    return done == weft__load_size(&q->tail);
}

/*
 * Most calls only count. The call that may be the last one (done + 1 ==
 * tail) finishes under the put lock, where tail cannot move: join looks
 * under that lock too, so it cannot return, and its caller free the queue,
 * before this call's notify is over. A count made without the lock saw
 * tail > done + 1, and tail only grows, so it was not the last.
 */
int weft_queue_task_done(weft_queue *q)
{
    bool locked = false;
    size_t done, tail;
    int rc = WEFT_OK;

    if (!q)
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(q, "queue"))
        return WEFT_EINVAL;
    done = weft__load_size(&q->done);
    for (;;) {
        tail = weft__load_size(&q->tail);
        if (done == tail) {
            rc = weft__fail(WEFT_EINVAL, "queue_task_done: called more times (%zu) than items "
                                         "were put",
                            done + 1);
            break;
        }
        if (done + 1 == tail && !locked) {
            weft__lock(&q->put_lock);
            locked = true;
            done = weft__load_size(&q->done);
            continue;
        }
        if (weft__cas_size(&q->done, &done, done + 1)) {
            if (done + 1 == tail)
                weft_cond_notify_all(&q->all_done);
            break;
        }
    }
    if (locked)
        weft__unlock(&q->put_lock);
    return rc;
}

int weft_queue_join(weft_queue *q, double timeout)
{
    int64_t deadline;
    int rc;

    rc = weft__begin_wait(q, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    if (WEFT__HANDLE_DEAD(q, "queue"))
        return WEFT_EINVAL;
    /* Joiners look under the put lock, which the last task_done holds. */
    weft__lock(&q->put_lock);
    while (!all_done(q)) {
        if (weft__cond_wait_unless(&q->all_done, &q->put_lock, all_done, q, deadline) ==
                WEFT_ETIMEDOUT &&
            !all_done(q)) {
            rc = weft__fail_text(WEFT_ETIMEDOUT, "queue_join: timed out: tasks are not done");
            break;
        }
    }
    weft__unlock(&q->put_lock);
    return rc;
}

/* ---- Snapshots, shutdown, destroy ------------------------------------------------- */

/* Under the put lock tail stands still, so tail - head is the size the
 * queue had when head was read: a state it really was in, as Python's
 * qsize() under its mutex. The queue is never a const object
 * (weft_queue_create allocates it). */
size_t weft_queue_size(const weft_queue *queue)
{
    weft_queue *q = (weft_queue *)queue;
    size_t n;

    if (!q || WEFT__HANDLE_DEAD(q, "queue"))
        return 0;
    weft__lock(&q->put_lock);
    n = q->tail - weft__load_size(&q->head);
    weft__unlock(&q->put_lock);
    return n;
}

bool weft_queue_empty(const weft_queue *q)
{
    return weft_queue_size(q) == 0;
}

bool weft_queue_full(const weft_queue *q)
{
    return q && !WEFT__HANDLE_DEAD(q, "queue") && q->maxsize != 0 &&
           weft_queue_size(q) >= q->maxsize;
}

/* Free the chunks from `c` on, up to (not including) `last`. */
static void free_chunks(chunk *c, const chunk *last)
{
    while (c != last) {
        chunk *next = c->next;

        weft__free(c);
        c = next;
    }
}

/* With both locks: drop every item unseen; they count as done (never below
 * zero unfinished, as in Python, whose task_done may run ahead of gets). */
static void drop_items(weft_queue *q)
{
    size_t dropped = q->tail - q->head, done = weft__load_size(&q->done);

    while (!weft__cas_size(&q->done, &done,
                           q->tail - done > dropped ? done + dropped : q->tail))
        ;
    if (is_fifo(q)) {
        free_chunks(q->head_chunk, q->tail_chunk);
        q->head_chunk = q->tail_chunk;
        q->head_slot = q->tail_slot;
    }
    q->tail_seen = q->tail;
    weft__store_size(&q->head, q->tail);
}

void weft_queue_shutdown(weft_queue *q, bool immediate)
{
    if (!q || WEFT__HANDLE_DEAD(q, "queue"))
        return;
    weft__lock(&q->put_lock);
    if (is_fifo(q))
        weft__lock(&q->get_lock);
    if (immediate) {
        drop_items(q);
        weft__swap(&q->state, QUEUE_SHUT_DOWN_NOW);
    } else if (q->state == QUEUE_OPEN) {
        weft__swap(&q->state, QUEUE_SHUT_DOWN);
    }
    /* Under the locks, so no woken thread returns (and frees the queue)
     * while this call still uses it. */
    weft_cond_notify_all(&q->not_empty);
    weft_cond_notify_all(&q->not_full);
    if (immediate)
        weft_cond_notify_all(&q->all_done);
    if (is_fifo(q))
        weft__unlock(&q->get_lock);
    weft__unlock(&q->put_lock);
}

void weft_queue_destroy(weft_queue *q)
{
    if (!q || WEFT__HANDLE_DEAD(q, "queue"))
        return;
    WEFT__HANDLE_GONE(q);
    if (is_fifo(q))
        free_chunks(q->head_chunk, NULL);
    weft__free(q->spare);
    weft__free(q->array);
    weft__free(q);
}
