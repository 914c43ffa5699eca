/* SPDX-License-Identifier: MIT */
/*
 * queue.Queue, LifoQueue and PriorityQueue with the semantics of CPython's
 * Lib/queue.py: maxsize, task_done and join, and Python 3.13's shutdown.
 *
 * Two counters carry the state every kind shares: `tail`, the items put so
 * far (times TAIL_ONE; its low bit, TAIL_CLOSED, says the queue takes no
 * more), and `head`, the items taken so far (an immediate shutdown's
 * dropped items included). The size is tail / TAIL_ONE - head; the
 * unfinished tasks are tail / TAIL_ONE - done, `done` counting task_done
 * calls and dropped items.
 *
 * A FIFO queue takes no lock for an item. Its items live in a list of
 * fixed-size chunks whose slots read NULL until a put fills them; item
 * number i lives in the chunk whose `base` is at most i, in slot i - base.
 * A put claims its number with one compare-and-swap on tail (which fails
 * once TAIL_CLOSED is set, and which checks the room of a bounded queue
 * first), then publishes the item in its slot (a release store). A get
 * reads the slot of number head and, if it is filled, claims it with one
 * compare-and-swap on head; so the getter reads the slots, never tail, and
 * the only line it takes from the producer is the one being filled. A
 * thread reads the chunk pointer after the counter, and its compare-and-
 * swap succeeds only if the counter did not move meanwhile: then the chunk
 * it read was the one of its number all along, and what it read there
 * (the item, for a get) was that number's.
 *
 * Only a chunk's end takes a lock: the put that finds the last chunk full
 * installs the next one under put_lock (taking a chunk from the pool or
 * allocating one; WEFT_ENOMEM leaves nothing claimed), and the get that
 * finds its chunk used up moves head_chunk on under get_lock and gives the
 * chunk to the pool, where a later install takes it. A thread that read a
 * chunk pointer just before it moved on may still read that chunk (its
 * base, a slot) before its compare-and-swap fails, so a chunk's memory
 * lives as long as the queue: chunks go to the pool, never back to the
 * allocator, until weft_queue_destroy. A queue keeps the memory of the most
 * items it ever held at once (8 bytes an item). For the same reason a
 * chunk may leave and come back while a thread holds its pointer: the
 * install and the move check that the chunk is really at its end.
 * Against ends with a lock each (a lock's acquire and release per end),
 * a put and a get in one thread went from 29-32 to 18-19 ns (batches of
 * 1000, 2 CPUs).
 *
 * Sleeping (a getter on an empty queue, a putter on a full one, a joiner)
 * is a wait on a weft_cond with weft__cond_wait_unless, under a lock that
 * the ends do not take for an item (a getter sleeps under put_lock, a
 * putter under get_lock). A sleeper counts itself (`getters_asleep`,
 * `putters_asleep`, a sequentially consistent increment), then looks at
 * the counters once more and waits; a put's compare-and-swap on tail is
 * itself sequentially consistent, so the sleeper's look sees it, or the
 * put's load of getters_asleep after it sees the sleeper and notifies (a
 * get and putters_asleep the same). An item claimed but not yet in its
 * slot (its putter between its two steps) is in the queue: a getter
 * waits for it to land (pausing, then yielding), whatever its timeout,
 * and never sleeps on it nor reports the queue empty, since items put
 * after it may have landed (queue_get_nowait_finds_a_landed_item).
 * A bounded queue's putter that finds no room looks at a copy of head
 * that gets publish once per batch of items (head_pub), and reads head
 * itself only after that look (and a spin on it) found none.
 * Getters and putters first look a few more times before they sleep: an
 * item put (or taken) a moment later then costs no system call on either
 * side. Each end remembers whether those looks paid lately, and stops
 * looking for a while when they did not (the spin hints).
 *
 * Across CPUs the cost of an item is the cache lines it moves, and a
 * getter that keeps up with a putter would move the line being filled for
 * every item; one that has taken every item it saw pauses once to let the
 * putter fill that line before it looks again (caught_up).
 *
 * LIFO and PRIORITY queues keep a stack or a heap in one array under
 * put_lock, which their gets take too, and sleep as the FIFO's ends did
 * before it went without locks: queue_sleep_until.
 */
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

enum { QUEUE_OPEN = 0, QUEUE_SHUT_DOWN = 1, QUEUE_SHUT_DOWN_NOW = 2 };

/* An item's number: tail, head, done, a chunk's base and what is read of
 * them are 64 bits on every target. With TAIL_CLOSED in tail, a 32-bit
 * count would wrap after 2^31 puts (about a minute at the rates
 * bench_queue measures), and the ends compare numbers as plain integers
 * (a chunk's base with head, say). */
typedef uint64_t item_no;

/* The number of a queue's first item: 0, but in the build of ci/i386.sh
 * (CMake's WEFT_QUEUE_FIRST_ITEM), whose queues start 100 items short of
 * 2^32, so that its tests carry item numbers across 2^32 on a target where
 * size_t stops there. */
#ifndef WEFT_QUEUE_FIRST_ITEM
#define WEFT_QUEUE_FIRST_ITEM 0
#endif
#define FIRST_ITEM ((item_no)WEFT_QUEUE_FIRST_ITEM)

/* Item slots per chunk: a chunk is 1 KiB on a 64-bit target. */
#define CHUNK_SLOTS 126

typedef struct chunk {
    WEFT_ALIGN8 item_no base; /* the number of the item in slots[0]; set again when reused */
    void *next;  /* the next chunk, published before a put claims a slot there;
                  * in the pool, the next pooled chunk */
    void *slots[CHUNK_SLOTS]; /* NULL until an item is put there (NULL_ITEM for NULL) */
} chunk;

/* tail counts items in steps of TAIL_ONE; TAIL_CLOSED set: no more puts. */
#define TAIL_CLOSED ((item_no)1)
#define TAIL_ONE ((item_no)2)

static item_no count_of(item_no tail)
{
    return tail / TAIL_ONE;
}

/* What a slot holds for a NULL item, whose slot must not look empty. */
static char null_item;
#define NULL_ITEM ((void *)&null_item)

/* A stack or heap entry; seq orders equal items of a PRIORITY queue. */
typedef struct item_entry {
    void *item;
    uint64_t seq;
} item_entry;

/* A spin hint: how an end's last spins before a sleep (or a getter's pauses
 * once it has caught up) went: each waiter that spun and found nothing doubles the
 * number of waiters after it that go to sleep without spinning (up to
 * 2^SPIN_MISSES_MAX - 1); one that found what it waited for makes them
 * spin again. Where the other end runs beside the
 * waiter, a spin finds the change within a microsecond and saves two
 * system calls; where it does not run (other processes hold the CPUs, or
 * more threads than CPUs) the spin only burns the time it needs: profiled
 * under such load (1P/1C bounded, unpinned), half the queue's CPU time
 * went to spins that found nothing. One word, bits 0-7 the waiters still
 * to go without spinning, bits 8-15 the fruitless spins in a row; a FIFO's
 * threads update it without a lock (relaxed: a lost update only makes one
 * more or one fewer waiter spin). */
#define SPIN_MISSES_MAX 6
#define HINT_SKIP 0xffu
#define HINT_MISSES_SHIFT 8

/* A putter that finds the queue full waits (while it spins) for this much
 * room, or a quarter of maxsize if that is less, rather than for one slot:
 * the consumer then takes a run of items while the producer stays off the
 * get end's cache line, and the producer fills the run without reading
 * head again. One slot at a time measured half the throughput. */
#define ROOM_BATCH 64

/* Padding that keeps the fields before it and after it on different cache
 * lines, whatever the alignment of the queue. */
#define CACHE_LINE_GAP(name) char name[WEFT__CACHE_LINE]

struct weft_queue {
    /* The put end. A FIFO's put reads this line and writes tail; the lock
     * is for chunk installs, sleeping getters and join. */
    weft_lock put_lock;
    WEFT_ALIGN8 item_no head_seen; /* head as last read here; never ahead of head */
    uint32_t getters_asleep; /* getters asleep on not_empty */
    uint32_t put_spin;       /* a spin hint */
    void *tail_chunk;        /* FIFO: the chunk of item number tail (a chunk *) */
    /* A bounded FIFO: head as a get last published it, every pub_batch
     * items (a store that may land after a later one: only a hint, never
     * ahead of head). A putter that finds no room by head_seen reads
     * this, and spins on it, rather than head, whose line every get
     * writes: each read of head cost the consumer a line transfer. Here,
     * a get moves the put line once per batch. */
    WEFT_ALIGN8 item_no head_pub;
    CACHE_LINE_GAP(gap_put);
    WEFT_ALIGN8 item_no tail; /* items put so far, times TAIL_ONE, | TAIL_CLOSED */
    CACHE_LINE_GAP(gap_tail);
    /* The get end; the same. */
    weft_lock get_lock;      /* FIFO only: moving head_chunk on, sleeping putters */
    WEFT_ALIGN8 item_no tail_seen;        /* LIFO, PRIORITY: tail / TAIL_ONE as last read */
    WEFT_ALIGN8 item_no filled_to;        /* FIFO: slots up to this number were seen filled */
    uint32_t putters_asleep; /* putters asleep on not_full */
    uint32_t get_spin;       /* a spin hint */
    uint32_t run_pause;      /* FIFO: a spin hint, whether pauses once caught up paid */
    void *head_chunk;        /* FIFO: the chunk of item number head (a chunk *) */
    CACHE_LINE_GAP(gap_get);
    WEFT_ALIGN8 item_no head; /* items taken (or dropped) so far */
    CACHE_LINE_GAP(gap_head);
    /* Read by both ends, written when a thread sleeps or at shutdown. */
    weft_cond not_empty;
    weft_cond not_full;
    weft_cond all_done;
    uint32_t state;
    weft_queue_kind kind;
    size_t maxsize;
    size_t pub_batch; /* bounded FIFO: the gets between head_pub's updates */
    int (*compare)(const void *a, const void *b);
    weft_lock pool_lock; /* FIFO: guards pool */
    chunk *pool;         /* FIFO: chunks to reuse, linked by next */
    item_entry *array; /* LIFO and PRIORITY, under put_lock */
    size_t cap;
    uint64_t next_seq; /* PRIORITY: the order of puts */
    CACHE_LINE_GAP(gap_shared);
    WEFT_ALIGN8 item_no done; /* task_done calls so far, plus dropped items */
};

static bool is_fifo(const weft_queue *q)
{
    return q->kind == WEFT_QUEUE_FIFO;
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
    q->pub_batch = opts->maxsize / 4 < ROOM_BATCH ? opts->maxsize / 4 : ROOM_BATCH;
    if (q->pub_batch == 0)
        q->pub_batch = 1;
    q->compare = opts->compare;
    q->head = q->head_seen = q->head_pub = q->filled_to = q->tail_seen = q->done = FIRST_ITEM;
    q->tail = FIRST_ITEM * TAIL_ONE;
    if (is_fifo(q)) {
        chunk *first = weft__calloc(1, sizeof *first);

        if (!first) {
            weft__free(q);
            return weft__fail(WEFT_ENOMEM, "queue_create: no memory for the queue's first chunk");
        }
        first->base = FIRST_ITEM;
        q->tail_chunk = q->head_chunk = first;
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

/* A chunk for the put end to install: one from the pool, emptied, or a new
 * one; NULL when there is no memory. A pooled chunk may still be read by a
 * thread that read its pointer before it left the queue: every access to
 * its base and slots is atomic, and that thread's compare-and-swap fails. */
static chunk *pool_take(weft_queue *q)
{
    chunk *c;
    size_t i;

    weft__lock(&q->pool_lock);
    c = q->pool;
    if (c)
        q->pool = weft__load_ptr(&c->next);
    weft__unlock(&q->pool_lock);
    if (!c)
        return weft__calloc(1, sizeof *c);
    for (i = 0; i < CHUNK_SLOTS; i++)
        weft__store_ptr(&c->slots[i], NULL);
    weft__store_ptr(&c->next, NULL);
    return c;
}

static void pool_give(weft_queue *q, chunk *c)
{
    weft__lock(&q->pool_lock);
    weft__store_ptr(&c->next, q->pool);
    q->pool = c;
    weft__unlock(&q->pool_lock);
}

/* A put found `full`, the last chunk, full: install the next one, unless
 * another put did meanwhile. The put may have read `full` long ago, and it
 * may have left the queue and come back as its last chunk since: it is
 * full only if tail stands at its end (tail cannot pass it). WEFT_OK (the
 * put tries again) or WEFT_ENOMEM (nothing changed). */
static int chunk_install(weft_queue *q, chunk *full)
{
    int rc = WEFT_OK;

    weft__lock(&q->put_lock);
    if (weft__load_ptr(&q->tail_chunk) == full &&
        count_of(weft__load64(&q->tail)) == weft__load64(&full->base) + CHUNK_SLOTS) {
        chunk *c = pool_take(q);

        if (c) {
            weft__store64(&c->base, weft__load64(&full->base) + CHUNK_SLOTS);
            weft__store_ptr(&full->next, c);
            weft__store_ptr(&q->tail_chunk, c);
        } else {
            rc = WEFT_ENOMEM;
        }
    }
    weft__unlock(&q->put_lock);
    return rc;
}

/* A get found every slot of `used` taken: move head_chunk on to the next
 * chunk and pool `used`, unless another get did meanwhile (`used` may even
 * have come back as head_chunk since the get read it: it is used up only
 * if head stands at its end, which head cannot pass). False when
 * there is no next chunk (the queue is empty at a chunk's end) or after an
 * immediate shutdown, which moved head past items whose puts may still be
 * writing their slots: their chunks stay where they are. */
static bool chunk_leave(weft_queue *q, chunk *used)
{
    bool moved = true;

    weft__lock(&q->get_lock);
    if (weft__load_sc(&q->state) == QUEUE_SHUT_DOWN_NOW) {
        moved = false;
    } else if (weft__load_ptr(&q->head_chunk) == used &&
               weft__load64(&q->head) == weft__load64(&used->base) + CHUNK_SLOTS) {
        chunk *next = weft__load_ptr(&used->next);

        if (next) {
            weft__store_ptr(&q->head_chunk, next);
            pool_give(q, used);
        } else {
            moved = false;
        }
    }
    weft__unlock(&q->get_lock);
    return moved;
}

/* What a put's claim came to. */
enum { CLAIM_OK, CLAIM_SHUT, CLAIM_FULL, CLAIM_NO_CHUNK };

/* Whether item number n may be put in a bounded queue, by head_seen, or
 * by head_pub read again (exact: head). A head past n means n is old
 * (tail has moved on), and the claim will fail anyway. */
static bool fifo_room_for(weft_queue *q, item_no n, bool exact)
{
    item_no seen = weft__load64(&q->head_seen), now;

    if (seen > n || n - seen < q->maxsize)
        return true;
    now = weft__load64(exact ? &q->head : &q->head_pub);
    if (now > seen)
        weft__store64(&q->head_seen, now);
    return now > n || n - now < q->maxsize;
}

/* Claim the next number with one compare-and-swap on tail and fill its
 * slot. CLAIM_NO_CHUNK: the last chunk, *full, has no slot left. */
static int fifo_try_put(weft_queue *q, void *item, chunk **full, bool exact)
{
    for (;;) {
        item_no tail = weft__load64(&q->tail), n = count_of(tail), base, at;
        chunk *c;

        if (tail & TAIL_CLOSED)
            return CLAIM_SHUT;
        if (q->maxsize != 0 && !fifo_room_for(q, n, exact))
            return CLAIM_FULL;
        c = weft__load_ptr(&q->tail_chunk);
        base = weft__load64(&c->base);
        if (n < base)
            continue; /* tail moved on (and tail_chunk) after it was read */
        at = n - base;
        if (at == CHUNK_SLOTS) {
            *full = c;
            return CLAIM_NO_CHUNK;
        }
        if (at > CHUNK_SLOTS)
            continue;
        if (weft__cas64(&q->tail, &tail, tail + TAIL_ONE)) {
            weft__store_ptr(&c->slots[at], item ? item : NULL_ITEM);
            return CLAIM_OK;
        }
    }
}

/* Take the item numbered head if its slot is filled, claiming it with one
 * compare-and-swap on head: false when it is not (or nothing is left past
 * the chunk's end). */
static bool fifo_try_get(weft_queue *q, void **item)
{
    for (;;) {
        item_no head = weft__load64(&q->head), base, at;
        chunk *c = weft__load_ptr(&q->head_chunk);
        void *got;

        base = weft__load64(&c->base);
        if (head < base)
            continue; /* head moved on (and head_chunk) after it was read */
        at = head - base;
        if (at >= CHUNK_SLOTS) {
            if (!chunk_leave(q, c))
                return false;
            continue;
        }
        got = weft__load_ptr(&c->slots[at]);
        if (!got) {
            /* Empty only if head has not moved: c may be a chunk that
             * other gets emptied and left, and an install took back and
             * emptied, after this get read head. While head stays, c is
             * head's chunk and cannot leave. */
            if (weft__load64(&q->head) != head)
                continue;
            return false;
        }
        if (weft__cas64(&q->head, &head, head + 1)) {
            if (q->maxsize != 0 && (head + 1) % q->pub_batch == 0)
                weft__store64(&q->head_pub, head + 1);
            *item = got == NULL_ITEM ? NULL : got;
            return true;
        }
    }
}

/* Whether an item was claimed by a put that has not filled its slot yet
 * (or the queue moved on since the caller looked). */
static bool fifo_in_flight(const weft_queue *q)
{
    item_no head = weft__load64(&q->head);

    return count_of(weft__load64(&q->tail)) != head;
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
    size_t count = (size_t)(count_of(q->tail) - q->head), i, parent;

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
    weft__store64(&q->tail, q->tail + TAIL_ONE);
    return WEFT_OK;
}

static void *array_take(weft_queue *q)
{
    size_t count = (size_t)(count_of(q->tail) - q->head - 1), i, child;
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

/* ---- Spin hints ------------------------------------------------------------------ */

/* Whether the hint lets this waiter spin (or pause) now. */
static bool hint_allows(uint32_t *hint)
{
    uint32_t h = weft__load_relaxed(hint);

    if ((h & HINT_SKIP) == 0)
        return true;
    weft__store_relaxed(hint, h - 1);
    return false;
}

/* Learn from a spin (or pause) that hint_allows() let happen. */
static void hint_learn(uint32_t *hint, bool paid)
{
    uint32_t misses = weft__load_relaxed(hint) >> HINT_MISSES_SHIFT;

    if (paid) {
        weft__store_relaxed(hint, 0);
        return;
    }
    if (misses < SPIN_MISSES_MAX)
        misses++;
    weft__store_relaxed(hint, misses << HINT_MISSES_SHIFT | ((1u << misses) - 1));
}

/* Spin for in_sight(q), unless the hint says spins have not paid lately;
 * then learn from how it went. With `lock` (LIFO, PRIORITY: the end's
 * lock, held) the spin lets go of it. A spin paid if the waiter can go on
 * (can_go(q)): a putter's spin waits for more room than one slot, and is
 * worth it as long as it spares the sleep. */
static void spin_if_it_pays(weft_queue *q, uint32_t *hint, weft_lock *lock,
                            bool (*in_sight)(const void *queue), bool (*can_go)(weft_queue *q))
{
    if (!hint_allows(hint))
        return;
    if (lock)
        weft__unlock(lock);
    (void)weft__spin_until(in_sight, q);
    if (lock)
        weft__lock(lock);
    hint_learn(hint, can_go(q));
}

/* Without a lock (weft__spin_until): whether an item seems to be there. */
static bool item_in_sight(const void *queue)
{
    const weft_queue *q = queue;
    item_no head = weft__load64(&q->head);

    return count_of(weft__load64(&q->tail)) != head;
}

static bool room_in_sight(const void *queue)
{
    const weft_queue *q = queue;
    item_no head = weft__load64(&q->head);
    size_t want = q->maxsize / 4 < ROOM_BATCH ? q->maxsize / 4 : ROOM_BATCH;

    return count_of(weft__load64(&q->tail)) - head + (want ? want : 1) <= q->maxsize;
}

/* ---- The FIFO's put and get ----------------------------------------------------- */

/* room_in_sight by head_pub, for pub_batch slots of room. */
static bool fifo_room_in_sight(const void *queue)
{
    const weft_queue *q = queue;
    item_no head = weft__load64(&q->head_pub);

    return count_of(weft__load64(&q->tail)) - head + q->pub_batch <= q->maxsize;
}

/* A FIFO's can_go for spin_if_it_pays. */
static bool fifo_has_room(weft_queue *q)
{
    item_no head = weft__load64(&q->head);

    return count_of(weft__load64(&q->tail)) - head < q->maxsize;
}

static bool fifo_has_item(weft_queue *q)
{
    return item_in_sight(q);
}

/* A sleeping getter's question (weft__cond_wait_unless): whether it may
 * stop sleeping. An item claimed but not yet in its slot counts. */
static bool fifo_getter_may_go(void *queue)
{
    return item_in_sight(queue) || !is_open(queue);
}

static bool fifo_putter_may_go(void *queue)
{
    return fifo_has_room(queue) || !is_open(queue);
}

/* Sleep on `cond` once, counted in *asleep, unless may_go(q): under
 * `lock`, which only sleepers (and the ends' slow paths) take. The count
 * goes up (sequentially consistent) before weft__cond_wait_unless looks
 * again, and the other end's claim, as sequentially consistent, comes
 * before its load of the count: it sees the sleeper, or the sleeper's look
 * sees the claim. Returns WEFT_ETIMEDOUT if the deadline passed, else
 * WEFT_OK; the caller looks again. */
static int fifo_sleep(weft_queue *q, weft_lock *lock, uint32_t *asleep, weft_cond *cond,
                      bool (*may_go)(void *queue), int64_t deadline)
{
    int rc;

    weft__lock(lock);
    (void)weft__fetch_add(asleep, 1);
    rc = weft__cond_wait_unless(cond, lock, may_go, q, deadline);
    (void)weft__fetch_sub(asleep, 1);
    weft__unlock(lock);
    return rc;
}

/* How a FIFO end waits for room (a put) or an item (a get): its spin
 * hint and what its spin looks for, and the lock, count and condition it
 * sleeps with. Built only where a call waits: filled in on every call, it
 * cost a put and a get in one thread 2-3 ns (17 against 20). */
typedef struct fifo_waiting {
    uint32_t *hint;
    bool (*in_sight)(const void *queue);
    bool (*can_go)(weft_queue *q);
    weft_lock *lock;
    uint32_t *asleep;
    weft_cond *cond;
    bool (*may_go)(void *queue);
} fifo_waiting;

/* The end found no room (no item): spin once if that pays (*spun: this
 * call did), else sleep once. True when the caller looks again; false
 * when it gives up (a timeout of 0, or *timed_out: the deadline passed in
 * the last sleep). */
static bool fifo_wait_step(weft_queue *q, const fifo_waiting *w, bool *spun, bool *timed_out,
                           int64_t deadline)
{
    if (deadline != 0 && !*spun) {
        *spun = true;
        spin_if_it_pays(q, w->hint, NULL, w->in_sight, w->can_go);
        return true;
    }
    if (deadline == 0 || *timed_out)
        return false;
    *timed_out = fifo_sleep(q, w->lock, w->asleep, w->cond, w->may_go, deadline) ==
                 WEFT_ETIMEDOUT;
    return true;
}

/* A FIFO's put or get found the queue shut down: wait for the shutdown
 * call to let go of the queue (it holds put_lock to its end), so the
 * caller may free it once this call returns. */
static void shutdown_passed(weft_queue *q)
{
    weft__lock(&q->put_lock);
    weft__unlock(&q->put_lock);
}

static int fifo_put(weft_queue *q, void *item, int64_t deadline)
{
    bool spun = false, timed_out = false;
    chunk *full = NULL;

    for (;;) {
        /* The first look for room is by head_pub; once the spin (by
         * head_pub too) is behind it, or where there is none, by head. */
        switch (fifo_try_put(q, item, &full, spun || deadline == 0)) {
        case CLAIM_OK:
            /* After the claim, a sequentially consistent read-modify-write:
             * fifo_sleep says why this finds every sleeping getter. */
            if (weft__load_sc(&q->getters_asleep) != 0)
                weft_cond_notify(&q->not_empty, 1);
            return WEFT_OK;
        case CLAIM_SHUT:
            shutdown_passed(q);
            return weft__fail_text(WEFT_ESHUTDOWN, "queue_put: the queue is shut down");
        case CLAIM_NO_CHUNK:
            if (chunk_install(q, full) != WEFT_OK)
                return weft__fail(WEFT_ENOMEM,
                                  "queue_put: no memory for room for one more item (%zu held)",
                                  (size_t)(count_of(weft__load64(&q->tail)) -
                                           weft__load64(&q->head)));
            continue;
        default: /* CLAIM_FULL */
            break;
        }
        if (!fifo_wait_step(q,
                            &(const fifo_waiting){&q->put_spin, fifo_room_in_sight, fifo_has_room,
                                                  &q->get_lock, &q->putters_asleep, &q->not_full,
                                                  fifo_putter_may_go},
                            &spun, &timed_out, deadline))
            return weft__fail_text(WEFT_EFULL, "queue_put: the queue is full");
    }
}

/* The item slots in a cache line. */
#define LINE_SLOTS (WEFT__CACHE_LINE / sizeof(void *))

/* The pauses (weft__backoff's round) a getter leaves a producer to fill
 * the line it is writing: 32, about the time of a few puts. */
#define RUN_PAUSE_ROUND 5

/*
 * Whether the getter has taken every item it knew of (filled_to), so that
 * its next look is at slots not yet seen filled. A getter that catches up
 * with a producer still putting would take each item as it lands; every
 * put then finds the slot's line in the getter's cache and waits for it to
 * come back, so a line round trip between CPUs (70-1300 ns) sets the pace.
 * A getter that has caught up pauses once before it looks: the producer
 * fills the line meanwhile, and the line moves once per run rather than
 * once per item. It does not look first to see whether a run has started,
 * since that look, one more per run, cost the producer one more wait for
 * the line. Pausing at once took the unbounded 1P/1C and 2P/2C queues from
 * 1.40-1.72x the plain ring to 2.24-3.14x beside two busy processes
 * (bench_queue, pinned, cache-line round trip 850-1270 ns), when the
 * getter still read tail; reading the slots instead then took unbounded
 * 1P/1C beside them, pinned or not, from 1.21-2.19x to 2.00-3.41x, and
 * quiet from 2.71-4.83x to 4.14-7.36x (round trip 399-1658 ns).
 */
static bool caught_up(const weft_queue *q, item_no head)
{
    return weft__load64(&q->filled_to) <= head;
}

/* Count the filled slots from `head` into filled_to, up to the first
 * empty one or the chunk's end: the run a getter that caught up finds
 * after its pause, and at a chunk's start (head a multiple of CHUNK_SLOTS:
 * chunks begin at such numbers) the run there, which a getter looks for
 * without a pause, as one that kept up with a chunk's worth of items is
 * likely to find a run in the next (a bounded queue kept full would
 * otherwise pause once a chunk). Returns the run's length, and
 * in *to_end whether it reached the chunk's end. Only a hint: a chunk read
 * here may have moved on (its pointer read before a get moved head_chunk
 * on), and then the count is wrong or 0. */
static size_t run_count(weft_queue *q, item_no head, bool *to_end)
{
    chunk *c = weft__load_ptr(&q->head_chunk);
    item_no base = weft__load64(&c->base), at;

    *to_end = false;
    if (head >= base && head - base == CHUNK_SLOTS) {
        /* The get that took the chunk's last item has not moved on yet. */
        c = weft__load_ptr(&c->next);
        if (!c)
            return 0;
        base = weft__load64(&c->base);
    }
    if (head < base || head - base >= CHUNK_SLOTS)
        return 0;
    for (at = head - base; at < CHUNK_SLOTS && weft__load_ptr(&c->slots[at]); at++)
        ;
    *to_end = at == CHUNK_SLOTS;
    weft__store64(&q->filled_to, base + at);
    return (size_t)(at - (head - base));
}

/* After a pause: whether it paid, the producer having put a line's worth
 * of items (or filled its chunk) meanwhile. It does not where the queue
 * was empty and stays so, where the producer puts one item at a time (a
 * request and its reply), or where it is not running (other processes
 * hold its CPU, or it shares the getter's): then each pause only burnt its
 * 1-3 us, measured 0.8-3.7 us per item for a put and a get by turns in one
 * thread, so the pauses learn as the spins do (`run_pause`). */
static bool run_filled(weft_queue *q, item_no head)
{
    bool to_end;
    size_t run = run_count(q, head, &to_end);

    return run >= LINE_SLOTS || (run != 0 && to_end);
}

static int fifo_get(weft_queue *q, void **item, int64_t deadline)
{
    bool spun = false, timed_out = false;
    /* Not for a getter that waited: the item it finds is the one it waited
     * for, and a pause would only delay it. */
    bool may_pause = deadline != 0 && weft__spinning_pays();
    unsigned round = 0;

    for (;;) {
        if (may_pause) {
            item_no head = weft__load64(&q->head);

            may_pause = false;
            if (caught_up(q, head)) {
                bool to_end;

                if (head % CHUNK_SLOTS == 0) {
                    (void)run_count(q, head, &to_end);
                } else if (hint_allows(&q->run_pause)) {
                    weft__backoff(RUN_PAUSE_ROUND);
                    hint_learn(&q->run_pause, run_filled(q, head));
                }
            }
        }
        if (fifo_try_get(q, item)) {
            /* As in fifo_put, for sleeping putters. */
            if (weft__load_sc(&q->putters_asleep) != 0)
                weft_cond_notify(&q->not_full, 1);
            return WEFT_OK;
        }
        if (fifo_in_flight(q)) {
            /* A put claimed the item at head and is a store away from
             * putting it there: the queue holds it, and may hold items put
             * after it, so no get gives up now, whatever its timeout (a
             * get_nowait too). Only a preemption keeps the put there long;
             * a sleep would have nothing to end it. */
            weft__snooze(&round);
            continue;
        }
        if (!is_open(q)) {
            shutdown_passed(q);
            return weft__fail_text(WEFT_ESHUTDOWN, "queue_get: the queue is shut down and empty");
        }
        if (!fifo_wait_step(q,
                            &(const fifo_waiting){&q->get_spin, item_in_sight, fifo_has_item,
                                                  &q->put_lock, &q->getters_asleep,
                                                  &q->not_empty, fifo_getter_may_go},
                            &spun, &timed_out, deadline))
            return weft__fail_text(WEFT_EEMPTY, "queue_get: the queue is empty");
    }
}

/* ---- LIFO and PRIORITY: put and get under put_lock --------------------------- */

/* With the put lock: whether there is room for one more item. */
static bool has_room(weft_queue *q)
{
    if (q->maxsize == 0 || count_of(q->tail) - q->head_seen < q->maxsize)
        return true;
    q->head_seen = weft__load64(&q->head);
    return count_of(q->tail) - q->head_seen < q->maxsize;
}

/* With the lock: whether an item is there to take. */
static bool has_item(weft_queue *q)
{
    if (q->head != q->tail_seen)
        return true;
    q->tail_seen = count_of(weft__load64(&q->tail));
    return q->head != q->tail_seen;
}

/* A sleeping getter's question, under the lock: whether it may stop. */
static bool getter_may_go(const weft_queue *q)
{
    return count_of(q->tail) != weft__load64(&q->head) || !is_open(q);
}

static bool putter_may_go(const weft_queue *q)
{
    return count_of(weft__load64(&q->tail)) - q->head < q->maxsize || !is_open(q);
}

/*
 * With the lock held: unless may_go(q), sleep on `cond` once, counted in
 * *asleep, which the other end reads under the same lock: the count goes
 * up and may_go(q) is asked under it, so the other end's call that makes
 * the change either comes first and is seen, or sees the count and
 * notifies. Returns holding the lock again: WEFT_ETIMEDOUT if the deadline
 * passed, else WEFT_OK (woken, or may_go(q) held); the caller looks again.
 */
static int queue_sleep_until(weft_queue *q, uint32_t *asleep, weft_cond *cond,
                             bool (*may_go)(const weft_queue *q), int64_t deadline)
{
    int rc = WEFT_OK;

    if (!may_go(q)) {
        (void)weft__fetch_add(asleep, 1);
        rc = weft__cond_wait_until(cond, &q->put_lock, deadline);
        (void)weft__fetch_sub(asleep, 1);
    }
    return rc;
}

static int array_queue_put(weft_queue *q, void *item, int64_t deadline)
{
    bool spun = false, timed_out = false, wake = false;
    int rc;

    weft__lock(&q->put_lock);
    for (;;) {
        if (!is_open(q)) {
            rc = weft__fail_text(WEFT_ESHUTDOWN, "queue_put: the queue is shut down");
            break;
        }
        if (has_room(q)) {
            rc = array_put(q, item);
            if (rc == WEFT_OK) {
                wake = weft__load_relaxed(&q->getters_asleep) != 0;
            } else {
                weft__fail(rc, "queue_put: no memory for room for one more item (%zu held)",
                           (size_t)(count_of(q->tail) - q->head));
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
        timed_out = queue_sleep_until(q, &q->putters_asleep, &q->not_full, putter_may_go,
                                      deadline) == WEFT_ETIMEDOUT;
    }
    weft__unlock(&q->put_lock);
    if (wake)
        weft_cond_notify(&q->not_empty, 1);
    return rc;
}

static int array_queue_get(weft_queue *q, void **item, int64_t deadline)
{
    bool spun = false, timed_out = false, wake = false;
    int rc;

    weft__lock(&q->put_lock);
    for (;;) {
        if (has_item(q)) {
            *item = array_take(q);
            weft__store64(&q->head, q->head + 1);
            wake = weft__load_relaxed(&q->putters_asleep) != 0;
            rc = WEFT_OK;
            break;
        }
        if (!is_open(q)) {
            rc = weft__fail_text(WEFT_ESHUTDOWN, "queue_get: the queue is shut down and empty");
            break;
        }
        if (deadline != 0 && !spun) {
            spun = true;
            spin_if_it_pays(q, &q->get_spin, &q->put_lock, item_in_sight, has_item);
            continue;
        }
        if (deadline == 0 || timed_out) {
            rc = weft__fail_text(WEFT_EEMPTY, "queue_get: the queue is empty");
            break;
        }
        timed_out = queue_sleep_until(q, &q->getters_asleep, &q->not_empty, getter_may_go,
                                      deadline) == WEFT_ETIMEDOUT;
    }
    weft__unlock(&q->put_lock);
    if (wake)
        weft_cond_notify(&q->not_full, 1);
    return rc;
}

int weft_queue_put(weft_queue *q, void *item, double timeout)
{
    int64_t deadline;
    int rc;

    rc = weft__begin_wait(q, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    if (WEFT__HANDLE_DEAD(q, "queue"))
        return WEFT_EINVAL;
    return is_fifo(q) ? fifo_put(q, item, deadline) : array_queue_put(q, item, deadline);
}

int weft_queue_get(weft_queue *q, void **item, double timeout)
{
    int64_t deadline;
    int rc;

    rc = weft__begin_wait(q && item ? q : NULL, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    if (WEFT__HANDLE_DEAD(q, "queue"))
        return WEFT_EINVAL;
    return is_fifo(q) ? fifo_get(q, item, deadline) : array_queue_get(q, item, deadline);
}

/* ---- task_done and join --------------------------------------------------------- */

/* Whether every item put has been marked done (read done first: tail only
 * grows, so a done equal to a later tail was equal to tail then too). */
static bool all_done(void *queue)
{
    weft_queue *q = queue;
    item_no done = weft__load64(&q->done);

    return done == count_of(weft__load64(&q->tail));
}

/*
 * Most calls only count. The call that may be the last one (done + 1 ==
 * tail) finishes under the put lock: join looks under that lock too, so it
 * cannot return, and its caller free the queue, before this call's notify
 * is over. A count made without the lock saw tail > done + 1, and tail
 * only grows, so it was not the last. (A FIFO's put moves tail without the
 * lock: a put between this call's look and its count makes its notify
 * early, and the joiner it wakes looks again and waits on.)
 */
int weft_queue_task_done(weft_queue *q)
{
    bool locked = false;
    item_no done, tail;
    int rc = WEFT_OK;

    if (!q)
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(q, "queue"))
        return WEFT_EINVAL;
    done = weft__load64(&q->done);
    for (;;) {
        tail = count_of(weft__load64(&q->tail));
        if (done == tail) {
            rc = weft__fail(WEFT_EINVAL, "queue_task_done: called more times (%llu) than items "
                                         "were put",
                            (unsigned long long)done + 1);
            break;
        }
        if (done + 1 == tail && !locked) {
            weft__lock(&q->put_lock);
            locked = true;
            done = weft__load64(&q->done);
            continue;
        }
        if (weft__cas64(&q->done, &done, done + 1)) {
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

/* A size the queue really had, as Python's qsize() under its mutex: for a
 * LIFO or PRIORITY queue, tail - head under the lock; for a FIFO, tail
 * read between two reads of head that agree, so the size it had then.
 * The queue is never a const object (weft_queue_create allocates it). */
size_t weft_queue_size(const weft_queue *queue)
{
    weft_queue *q = (weft_queue *)queue;
    item_no head, n;

    if (!q || WEFT__HANDLE_DEAD(q, "queue"))
        return 0;
    if (is_fifo(q)) {
        head = weft__load64(&q->head);
        for (;;) {
            item_no again;

            n = count_of(weft__load64(&q->tail)) - head;
            again = weft__load64(&q->head);
            if (again == head)
                return (size_t)n;
            head = again;
        }
    }
    weft__lock(&q->put_lock);
    n = count_of(q->tail) - weft__load64(&q->head);
    weft__unlock(&q->put_lock);
    return (size_t)n;
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

/* Free the chunks from `c` on, linked by next. */
static void free_chunks(chunk *c)
{
    while (c) {
        chunk *next = c->next;

        weft__free(c);
        c = next;
    }
}

/* Count `dropped` items as done (never below zero unfinished, as in
 * Python, whose task_done may run ahead of gets). */
static void count_dropped(weft_queue *q, item_no count, item_no dropped)
{
    item_no done = weft__load64(&q->done);

    while (!weft__cas64(&q->done, &done, count - done > dropped ? done + dropped : count))
        ;
}

/* With the locks, state QUEUE_SHUT_DOWN_NOW and TAIL_CLOSED set: drop
 * every item not taken. A FIFO's getters may still take one meanwhile
 * (head moves under them); puts that claimed a number and have not filled
 * its slot yet drop theirs too, and write the slot later: the chunks stay
 * as they are (chunk_leave no longer moves head_chunk) until destroy. */
static void drop_items(weft_queue *q)
{
    item_no count = count_of(weft__load64(&q->tail)), head = weft__load64(&q->head);

    if (is_fifo(q)) {
        while (!weft__cas64(&q->head, &head, count))
            ;
        count_dropped(q, count, count - head);
        return;
    }
    count_dropped(q, count, count - q->head);
    q->tail_seen = count;
    weft__store64(&q->head, count);
}

/* Set TAIL_CLOSED: a FIFO's puts claim nothing more. */
static void close_tail(weft_queue *q)
{
    item_no tail = weft__load64(&q->tail);

    while (!(tail & TAIL_CLOSED) && !weft__cas64(&q->tail, &tail, tail | TAIL_CLOSED))
        ;
}

void weft_queue_shutdown(weft_queue *q, bool immediate)
{
    if (!q || WEFT__HANDLE_DEAD(q, "queue"))
        return;
    weft__lock(&q->put_lock);
    if (is_fifo(q))
        weft__lock(&q->get_lock);
    if (immediate) {
        weft__swap(&q->state, QUEUE_SHUT_DOWN_NOW);
        close_tail(q);
        drop_items(q);
    } else if (q->state == QUEUE_OPEN) {
        weft__swap(&q->state, QUEUE_SHUT_DOWN);
        close_tail(q);
    }
    /* Under the locks, so no woken thread returns (and frees the queue)
     * while this call still uses it; a FIFO's put or get that finds the
     * queue shut down without sleeping passes through put_lock before it
     * returns (shutdown_passed), for the same reason. */
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
    if (is_fifo(q)) {
        free_chunks(q->head_chunk);
        free_chunks(q->pool);
    }
    weft__free(q->array);
    weft__free(q);
}
