/* SPDX-License-Identifier: MIT */
/*
 * multiprocessing.Queue / JoinableQueue without a feeder thread or a server:
 * a shared block (sys/shm.h) holding a header and a byte ring, a lock
 * between processes that guards both, and two semaphores between processes
 * that waiters park on (sys/plock.h).
 *
 * Surviving a process killed at any instruction is the design's first
 * concern, as the lock's robust owner hands the next acquirer a queue whose
 * last holder stopped anywhere:
 * - The header's state is kept twice; a holder changes the copy that is not
 *   current and then flips `cur`, one aligned store. A holder that died
 *   before the flip changed nothing anyone reads: its message bytes past the
 *   tail are overwritten by the next put.
 * - A waiter counts itself in the state before it parks; a waker releases
 *   the semaphore before it takes the waiter out of the count, so a waker
 *   that dies between the two leaves an extra wake (harmless: waiters
 *   re-check), never a waiter nobody wakes. The next acquirer after a death
 *   wakes every counted waiter, which covers a holder that committed and
 *   died before waking anyone.
 * - A message larger than a quarter of the ring goes into a weft_shm block
 *   of its own (8 bytes of header, then the message), whose name travels
 *   through the ring. Where a block lives only while a handle to it is
 *   open (Windows), its producer keeps it open until the consumer marks it
 *   taken in its header. The consumer opens it, removes its name and then
 *   commits, all under the lock: a consumer that dies between the removal
 *   and the commit leaves a frame whose block is gone, which the next get
 *   skips (that message is lost, the queue is not). A producer killed after
 *   making the block and before committing its frame leaves the block's
 *   name behind (POSIX), which nothing can find again.
 *
 * Sizes: a 256 KiB ring holds a few large messages at once, and a block of
 * its own (a shm_open, a mapping, an unlink: tens of microseconds) is worth
 * it only for messages that copy for about as long. Measured on Linux, one
 * fork child putting 64-byte messages to its parent: 1.1 to 2.4 million a
 * second, against Python 3's multiprocessing.Queue's 0.1 million.
 */
#include "ipc.h"
#include "plock_spin.h"
#include "../sys/shm.h"

#include <string.h>

#define PQ_MAGIC 0x77707131u    /* "wpq1" */
#define PQ_HEADER 512u          /* bytes before the ring */
#define PQ_RING (256u * 1024u)  /* the ring's bytes, a multiple of 8 */
#define PQ_INLINE (PQ_RING / 4) /* the largest frame kept in the ring */
#define PQ_BIG ((uint64_t)1 << 63) /* in a frame's word: the payload is a block's name */
#define PQ_NAME 32u             /* a big frame's payload: the name and its NUL, padded */
#define PQ_LOCK_GRACE 1000000000 /* ns a timed call also waits for the lock (see pq_lock) */

enum { PQ_OPEN = 0, PQ_SHUT = 1, PQ_SHUT_NOW = 2 };

typedef struct pq_state {
    uint64_t head, tail;       /* byte offsets into the ring, never wrapped */
    uint64_t count;            /* messages between head and tail */
    uint64_t unfinished;       /* put and not yet task_done */
    uint64_t nget;             /* getters counted to park on get_wake */
    uint64_t nother;           /* putters and joiners counted to park on other_wake */
    uint64_t shutdown;         /* PQ_OPEN, PQ_SHUT, PQ_SHUT_NOW */
} pq_state;

typedef struct pq_header {
    uint32_t magic;
    uint32_t cur; /* which of slot[] is current: the commit point */
    uint64_t maxsize;
    pq_state slot[2];
} pq_header;
_Static_assert(sizeof(pq_header) <= PQ_HEADER, "the header fits before the ring");

struct weft_pqueue {
    weft__ipc_head head;
    weft_sys_shm shm;
    weft_sys_psync *lock;
    weft_sys_psync *get_wake;   /* getters park here, woken one per message */
    weft_sys_psync *other_wake; /* putters and joiners, woken all at once */
    pq_header *h;
    unsigned char *ring;
    /* Blocks this handle put, kept open until taken (!WEFT_SYS_SHM_NAME_KEEPS). */
    weft_shm **held;
    size_t nheld, held_cap;
};

#define BLOCK_DATA 8 /* a block's header: its `taken` word, padded */

/* ---- The state and its commit ------------------------------------------------------ */

static pq_state pq_read(const weft_pqueue *q)
{
    return q->h->slot[weft__load(&q->h->cur) & 1];
}

static void pq_commit(weft_pqueue *q, const pq_state *next)
{
    uint32_t other = (weft__load(&q->h->cur) & 1) ^ 1;

    q->h->slot[other] = *next;
    weft__store(&q->h->cur, other); /* release: the copy is complete first */
}

static uint64_t pad8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

static void ring_write(weft_pqueue *q, uint64_t at, const void *src, size_t n)
{
    size_t off = (size_t)(at % PQ_RING), first = n < PQ_RING - off ? n : PQ_RING - off;

    if (n == 0)
        return; /* src may be NULL then, which memcpy may not be given */
    memcpy(q->ring + off, src, first);
    memcpy(q->ring, (const unsigned char *)src + first, n - first);
}

static void ring_read(const weft_pqueue *q, uint64_t at, void *dst, size_t n)
{
    size_t off = (size_t)(at % PQ_RING), first = n < PQ_RING - off ? n : PQ_RING - off;

    memcpy(dst, q->ring + off, first);
    memcpy((unsigned char *)dst + first, q->ring, n - first);
}

static uint64_t frame_word(const weft_pqueue *q, uint64_t at)
{
    uint64_t w;

    ring_read(q, at, &w, sizeof w);
    return w;
}

/* The bytes a frame of this word takes in the ring. */
static uint64_t frame_size(uint64_t word)
{
    return 8 + ((word & PQ_BIG) ? PQ_NAME : pad8(word));
}

/* ---- Waking and parking --------------------------------------------------------------- */

/* Wake one counted getter: the release comes before the commit that takes
 * it out of the count (the file's comment says why). */
static void wake_getter(weft_pqueue *q)
{
    pq_state s = pq_read(q);

    if (s.nget == 0)
        return;
    (void)weft_sys_psem_release(q->get_wake, 1);
    s.nget--;
    pq_commit(q, &s);
}

/* Wake every counted putter and joiner (and every getter too when
 * `getters`): each re-checks what it waits for. */
static void wake_all(weft_pqueue *q, bool getters)
{
    pq_state s = pq_read(q);

    if (s.nother == 0 && (!getters || s.nget == 0))
        return;
    if (s.nother > 0)
        (void)weft_sys_psem_release(q->other_wake, (uint32_t)(s.nother < INT32_MAX ? s.nother : INT32_MAX));
    if (getters && s.nget > 0)
        (void)weft_sys_psem_release(q->get_wake, (uint32_t)(s.nget < INT32_MAX ? s.nget : INT32_MAX));
    s.nother = 0;
    if (getters)
        s.nget = 0;
    pq_commit(q, &s);
}

/* Acquire the queue's lock (timeout_status and call: what a timeout returns,
 * and its message's call name). A healthy holder keeps it for one copy of at
 * most PQ_INLINE bytes, so a timed call waits for it PQ_LOCK_GRACE past its
 * own deadline: a timeout of 0 still works under contention, and a holder
 * that died where the OS cannot tell (macOS) ends the wait. After a holder's
 * death every waiter is woken: the dead one may have committed and died
 * before it woke anyone. */
static int pq_lock(weft_pqueue *q, int64_t deadline, int timeout_status, const char *call)
{
    weft_sys_plock_at *at = weft_sys_plock_at_of(q->lock);
    int code = weft_sys_plock_try(at);
    int rc = WEFT_OK;

    if (code != 0) { /* held: the grace (with a clock read for a timeout of 0) only now */
        int64_t until = deadline == WEFT__NO_DEADLINE ? deadline
                        : deadline > WEFT__NO_DEADLINE - PQ_LOCK_GRACE
                            ? WEFT__NO_DEADLINE
                            : (deadline > 0 ? deadline : weft_sys_monotonic_ns()) + PQ_LOCK_GRACE;

        code = weft__plock_spin(at, code, WEFT__SPIN_PQUEUE);
        rc = weft_sys_plock_acquire_after(q->lock, code, until);
    }

    if (rc == WEFT_EOWNERDEAD) {
        wake_all(q, true);
        rc = WEFT_OK;
    }
    if (rc == WEFT_ETIMEDOUT)
        return weft__fail(timeout_status, "%s: timed out waiting for the queue's lock "
                          "(its holder may have died where the OS cannot tell)", call);
    return rc;
}

static void pq_unlock(weft_pqueue *q)
{
    (void)weft_sys_plock_release(q->lock);
}

static bool deadline_passed(int64_t deadline)
{
    return deadline != WEFT__NO_DEADLINE && (deadline == 0 || weft_sys_monotonic_ns() >= deadline);
}

/* With the lock held: count this caller as a waiter (a getter when
 * `getter`), park until woken or the deadline, and take the lock again.
 * Returns WEFT_OK, or what pq_lock returned (the lock is not held then; the
 * caller stays counted, which costs a later waker one spare wake). */
static int pq_park(weft_pqueue *q, bool getter, int64_t deadline, int timeout_status, const char *call)
{
    weft_sys_psync *sem = getter ? q->get_wake : q->other_wake;
    pq_state s = pq_read(q);
    int rc, relock;

    if (getter)
        s.nget++;
    else
        s.nother++;
    pq_commit(q, &s);
    pq_unlock(q);
    rc = weft_sys_psem_acquire(sem, deadline);
    relock = pq_lock(q, deadline, timeout_status, call);
    if (relock != WEFT_OK)
        return relock;
    /* Timed out: the caller is still counted, unless a waker released the
     * semaphore for it meanwhile, in which case that release is taken. */
    if (rc == WEFT_ETIMEDOUT && weft_sys_psem_acquire(sem, 0) != WEFT_OK) {
        s = pq_read(q);
        if (getter && s.nget > 0)
            s.nget--;
        else if (!getter && s.nother > 0)
            s.nother--;
        pq_commit(q, &s);
    }
    return WEFT_OK;
}

/* ---- Making and freeing ------------------------------------------------------------------ */

/* Close the held blocks that were taken (all of them when `all`). With the
 * queue's lock held, which also keeps this process's threads apart here. */
static void release_held(weft_pqueue *q, bool all)
{
    size_t i, kept = 0;

    for (i = 0; i < q->nheld; i++) {
        if (all || weft__load(weft_shm_ptr(q->held[i])) != 0)
            weft_shm_close(q->held[i]);
        else
            q->held[kept++] = q->held[i];
    }
    q->nheld = kept;
}

/* Room in the held list for one more block, with the queue's lock held. */
static int hold_room(weft_pqueue *q)
{
    size_t cap;
    weft_shm **held;

    release_held(q, false);
    if (q->nheld < q->held_cap)
        return WEFT_OK;
    cap = q->held_cap ? q->held_cap * 2 : 8;
    held = weft__realloc(q->held, cap * sizeof *held);
    if (!held)
        return weft__fail(WEFT_ENOMEM, "pqueue_put: no memory to keep a large message's block open");
    q->held = held;
    q->held_cap = cap;
    return WEFT_OK;
}

static void pq_free(weft_pqueue *q)
{
    release_held(q, true);
    weft__free(q->held);
    if (q->other_wake)
        weft_sys_psync_close(q->other_wake);
    if (q->get_wake)
        weft_sys_psync_close(q->get_wake);
    if (q->lock)
        weft_sys_psync_close(q->lock);
    if (q->h)
        weft_sys_shm_close(&q->shm);
    weft__free(q);
}

static void pq_map(weft_pqueue *q)
{
    q->h = q->shm.ptr;
    q->ring = (unsigned char *)q->shm.ptr + PQ_HEADER;
}

int weft_pqueue_create(weft_pqueue **out, size_t maxsize)
{
    weft_pqueue *q;
    int rc;

    if (!out)
        return weft__fail(WEFT_EINVAL, "pqueue_create: out is NULL");
    *out = NULL;
    q = weft__calloc(1, sizeof *q);
    if (!q)
        return weft__fail(WEFT_ENOMEM, "pqueue_create: no memory for the handle");
    q->head.kind = WEFT__IPC_PQUEUE;
    rc = weft_sys_shm_create(&q->shm, NULL, PQ_HEADER + PQ_RING);
    if (rc == WEFT_OK) {
        pq_map(q);
        rc = weft_sys_psync_create(&q->lock, WEFT_SYS_PLOCK, 0, false);
    }
    if (rc == WEFT_OK)
        rc = weft_sys_psync_create(&q->get_wake, WEFT_SYS_PSEM, 0, false);
    if (rc == WEFT_OK)
        rc = weft_sys_psync_create(&q->other_wake, WEFT_SYS_PSEM, 0, false);
    if (rc != WEFT_OK) {
        pq_free(q);
        return rc;
    }
    q->h->magic = PQ_MAGIC;
    q->h->maxsize = maxsize;
    *out = q;
    return WEFT_OK;
}

void weft_pqueue_close(weft_pqueue *q)
{
    if (q)
        pq_free(q);
}

/* ---- Putting ------------------------------------------------------------------------------ */

/* Copy a message too large for the ring into a block of its own; *name
 * receives the block's name (PQ_NAME bytes, NUL-padded), *block the block
 * when it must stay open until taken (else NULL). */
static int put_big(const void *msg, size_t len, char name[PQ_NAME], weft_shm **block)
{
    unsigned char *base;
    const char *shm_name;
    size_t shm_name_len;
    int rc;

    if (len > (size_t)PTRDIFF_MAX - BLOCK_DATA)
        return weft__fail(WEFT_ENOMEM, "pqueue_put: %zu bytes are more than a process can map", len);
    rc = weft_shm_create(block, NULL, BLOCK_DATA + len);
    if (rc != WEFT_OK)
        return weft__fail_wrap(rc, "pqueue_put: no block for a message of %zu bytes", len);
    base = weft_shm_ptr(*block);
    if (base) /* always, for a block just made: said for the compiler's bounds checks */
        memcpy(base + BLOCK_DATA, msg, len);
    memset(name, 0, PQ_NAME);
    shm_name = weft_shm_name(*block);
    shm_name_len = strlen(shm_name);
    memcpy(name, shm_name, shm_name_len < PQ_NAME - 1 ? shm_name_len : PQ_NAME - 1);
    if (WEFT_SYS_SHM_NAME_KEEPS) {
        weft_shm_close(*block);
        *block = NULL;
    }
    return WEFT_OK;
}

int weft_pqueue_put(weft_pqueue *q, const void *msg, size_t len, double timeout)
{
    int64_t deadline = 0;
    int rc = weft__begin_wait(q, timeout, &deadline);
    char name[PQ_NAME];
    weft_shm *block = NULL;
    uint64_t word, need;
    bool big;

    if (rc != WEFT_OK)
        return rc;
    if (!msg && len > 0)
        return weft__fail(WEFT_EINVAL, "pqueue_put: msg is NULL with a length of %zu", len);
    if (len > (size_t)PTRDIFF_MAX)
        return weft__fail(WEFT_ENOMEM, "pqueue_put: %zu bytes are more than a process can map", len);
    big = 8 + pad8(len) > PQ_INLINE;
    if (big && (rc = put_big(msg, len, name, &block)) != WEFT_OK)
        return rc;
    word = big ? PQ_BIG | (uint64_t)len : (uint64_t)len;
    need = frame_size(word);
    rc = pq_lock(q, deadline, WEFT_EFULL, "pqueue_put");
    while (rc == WEFT_OK) {
        pq_state s = pq_read(q);

        if (s.shutdown != PQ_OPEN) {
            rc = weft__fail_text(WEFT_ESHUTDOWN, "pqueue_put: the queue is shut down");
        } else if (block && (rc = hold_room(q)) != WEFT_OK) {
            /* nothing put */
        } else if ((q->h->maxsize == 0 || s.count < q->h->maxsize) && PQ_RING - (s.tail - s.head) >= need) {
            ring_write(q, s.tail, &word, sizeof word);
            ring_write(q, s.tail + 8, big ? (const void *)name : msg, big ? PQ_NAME : len);
            s.tail += need;
            s.count++;
            s.unfinished++;
            pq_commit(q, &s);
            if (block)
                q->held[q->nheld++] = block;
            wake_getter(q);
            pq_unlock(q);
            return WEFT_OK;
        } else if (deadline_passed(deadline)) {
            rc = weft__fail_text(WEFT_EFULL, "pqueue_put: timed out: the queue is full");
        } else {
            rc = pq_park(q, false, deadline, WEFT_EFULL, "pqueue_put");
            continue;
        }
        pq_unlock(q);
    }
    if (big)
        (void)weft_shm_unlink(name);
    weft_shm_close(block);
    return rc;
}

/* ---- Getting ------------------------------------------------------------------------------ */

/* Unlink every big frame's block between head and tail (an immediate
 * shutdown drops them). */
static void unlink_blocks(weft_pqueue *q, const pq_state *s)
{
    uint64_t at;

    for (at = s->head; at != s->tail; at += frame_size(frame_word(q, at))) {
        char name[PQ_NAME];

        if (frame_word(q, at) & PQ_BIG) {
            ring_read(q, at + 8, name, PQ_NAME);
            name[PQ_NAME - 1] = '\0';
            (void)weft_shm_unlink(name);
        }
    }
}

/* Remove the frame at the head, with the lock held (a lost or dropped
 * message counts as done for join). */
static void drop_head(weft_pqueue *q, uint64_t word, bool done)
{
    pq_state s = pq_read(q);

    s.head += frame_size(word);
    s.count--;
    if (done && s.unfinished > 0)
        s.unfinished--;
    pq_commit(q, &s);
}

/* Take the message at the head, with the lock held. WEFT_EAGAIN when the
 * head was a frame whose block a dead consumer had already removed (the
 * frame is gone now: try the next); otherwise the lock is released. */
static int take_head(weft_pqueue *q, void **msg, size_t *len)
{
    pq_state s = pq_read(q);
    uint64_t word = frame_word(q, s.head);
    size_t n = (size_t)(word & ~PQ_BIG);
    unsigned char *buf = weft__malloc(n ? n : 1);
    weft_shm *block = NULL;
    int rc = WEFT_OK;

    if (!buf)
        rc = weft__fail(WEFT_ENOMEM, "pqueue_get: no memory for a message of %zu bytes", n);
    if (rc == WEFT_OK && (word & PQ_BIG)) {
        char name[PQ_NAME];

        ring_read(q, s.head + 8, name, PQ_NAME);
        name[PQ_NAME - 1] = '\0';
        rc = weft_shm_open(&block, name);
        if (rc == WEFT_ENOENT) {
            weft__free(buf);
            drop_head(q, word, true);
            return WEFT_EAGAIN;
        }
        if (rc == WEFT_OK)
            (void)weft_shm_unlink(name);
    }
    if (rc != WEFT_OK) {
        weft__free(buf);
        pq_unlock(q);
        return rc;
    }
    if (!block)
        ring_read(q, s.head + 8, buf, n);
    drop_head(q, word, false);
    wake_all(q, false);
    pq_unlock(q);
    if (block) {
        memcpy(buf, (unsigned char *)weft_shm_ptr(block) + BLOCK_DATA, n);
        weft__store(weft_shm_ptr(block), 1); /* taken: its producer may close it */
        weft_shm_close(block);
    }
    *msg = buf;
    *len = n;
    return WEFT_OK;
}

int weft_pqueue_get(weft_pqueue *q, void **msg, size_t *len, double timeout)
{
    int64_t deadline = 0;
    int rc = weft__begin_wait(q, timeout, &deadline);

    if (rc != WEFT_OK)
        return rc;
    if (!msg || !len)
        return weft__fail(WEFT_EINVAL, "pqueue_get: %s is NULL", !msg ? "msg" : "len");
    rc = pq_lock(q, deadline, WEFT_EEMPTY, "pqueue_get");
    while (rc == WEFT_OK) {
        pq_state s = pq_read(q);

        if (s.count > 0) {
            rc = take_head(q, msg, len);
            if (rc != WEFT_EAGAIN)
                return rc;
            rc = WEFT_OK;
            continue;
        }
        if (s.shutdown != PQ_OPEN)
            rc = weft__fail_text(WEFT_ESHUTDOWN, "pqueue_get: the queue is shut down and empty");
        else if (deadline_passed(deadline))
            rc = weft__fail_text(WEFT_EEMPTY, "pqueue_get: timed out: the queue is empty");
        else {
            rc = pq_park(q, true, deadline, WEFT_EEMPTY, "pqueue_get");
            continue;
        }
        pq_unlock(q);
    }
    return rc;
}

/* ---- Tasks, size, shutdown ------------------------------------------------------------------ */

int weft_pqueue_task_done(weft_pqueue *q)
{
    pq_state s;
    int rc;

    if (!q)
        return weft__fail_null(__func__);
    rc = pq_lock(q, WEFT__NO_DEADLINE, WEFT_EOS, "pqueue_task_done");
    if (rc != WEFT_OK)
        return rc;
    s = pq_read(q);
    if (s.unfinished == 0) {
        pq_unlock(q);
        return weft__fail(WEFT_EINVAL, "pqueue_task_done: called more times than messages were put");
    }
    s.unfinished--;
    pq_commit(q, &s);
    if (s.unfinished == 0)
        wake_all(q, false);
    pq_unlock(q);
    return WEFT_OK;
}

int weft_pqueue_join(weft_pqueue *q, double timeout)
{
    int64_t deadline = 0;
    int rc = weft__begin_wait(q, timeout, &deadline);

    if (rc != WEFT_OK)
        return rc;
    rc = pq_lock(q, deadline, WEFT_ETIMEDOUT, "pqueue_join");
    while (rc == WEFT_OK) {
        if (pq_read(q).unfinished == 0) {
            pq_unlock(q);
            return WEFT_OK;
        }
        if (deadline_passed(deadline)) {
            pq_unlock(q);
            return weft__fail_text(WEFT_ETIMEDOUT, "pqueue_join: timed out: messages are still unfinished");
        }
        rc = pq_park(q, false, deadline, WEFT_ETIMEDOUT, "pqueue_join");
    }
    return rc;
}

size_t weft_pqueue_size(weft_pqueue *q)
{
    uint64_t count;

    if (!q || pq_lock(q, weft_sys_monotonic_ns(), WEFT_ETIMEDOUT, "pqueue_size") != WEFT_OK)
        return 0;
    count = pq_read(q).count;
    pq_unlock(q);
    return (size_t)count;
}

void weft_pqueue_shutdown(weft_pqueue *q, bool immediate)
{
    pq_state s;

    if (!q || pq_lock(q, WEFT__NO_DEADLINE, WEFT_EOS, "pqueue_shutdown") != WEFT_OK)
        return;
    s = pq_read(q);
    if (immediate) {
        unlink_blocks(q, &s);
        s.unfinished = s.unfinished > s.count ? s.unfinished - s.count : 0;
        s.head = s.tail;
        s.count = 0;
    }
    if (s.shutdown != PQ_SHUT_NOW)
        s.shutdown = immediate ? PQ_SHUT_NOW : PQ_SHUT;
    pq_commit(q, &s);
    wake_all(q, true);
    pq_unlock(q);
}

/* ---- Handing to a child ------------------------------------------------------------------ */

/* The files: the block, the lock, the two semaphores; the description: the
 * block's size (8 bytes, this machine's order). */
int weft__pqueue_export(const weft_pqueue *q, weft__ipc_handoff *out)
{
    uint64_t size = q->shm.size;

    memset(out, 0, sizeof *out);
    out->kind = WEFT__IPC_PQUEUE;
    out->files[0] = q->shm.file;
    out->files[1] = weft_sys_psync_file(q->lock);
    out->files[2] = weft_sys_psync_file(q->get_wake);
    out->files[3] = weft_sys_psync_file(q->other_wake);
    out->nfiles = 4;
    memcpy(out->desc, &size, sizeof size);
    out->desc_len = sizeof size;
    return WEFT_OK;
}

/* Unlike the one-file kinds, this import owns in->files whether it
 * succeeds or not (src/ipc/ipc.h): once some are adopted, a later failure
 * cannot hand those back, so it closes them all. */
int weft__pqueue_import(const weft__ipc_handoff *in, void **out)
{
    weft_pqueue *q;
    uint64_t size = 0;
    size_t adopted = 0, i;
    int rc = WEFT_OK;

    *out = NULL;
    if (in->desc_len == sizeof size)
        memcpy(&size, in->desc, sizeof size);
    if (in->kind != WEFT__IPC_PQUEUE || in->nfiles != 4 || size != PQ_HEADER + PQ_RING)
        rc = weft__fail(WEFT_EINVAL, "pqueue: the description handed over is not a pqueue's");
    q = rc == WEFT_OK ? weft__calloc(1, sizeof *q) : NULL;
    if (rc == WEFT_OK && !q)
        rc = weft__fail(WEFT_ENOMEM, "pqueue (handed over): no memory for the handle");
    if (rc == WEFT_OK && (rc = weft_sys_shm_adopt(&q->shm, in->files[0], (size_t)size)) == WEFT_OK) {
        adopted = 1;
        pq_map(q);
        if (q->h->magic != PQ_MAGIC)
            rc = weft__fail(WEFT_EINVAL, "pqueue: the block handed over is not a pqueue's");
    }
    if (rc == WEFT_OK && (rc = weft_sys_psync_adopt(&q->lock, WEFT_SYS_PLOCK, in->files[1])) == WEFT_OK)
        adopted = 2;
    if (rc == WEFT_OK && (rc = weft_sys_psync_adopt(&q->get_wake, WEFT_SYS_PSEM, in->files[2])) == WEFT_OK)
        adopted = 3;
    if (rc == WEFT_OK && (rc = weft_sys_psync_adopt(&q->other_wake, WEFT_SYS_PSEM, in->files[3])) == WEFT_OK)
        adopted = 4;
    if (rc != WEFT_OK) {
        if (q)
            pq_free(q);
        for (i = adopted; i < in->nfiles && i < WEFT__IPC_MAX_FILES; i++)
            weft_sys_close(in->files[i]);
        return rc;
    }
    q->head.kind = WEFT__IPC_PQUEUE;
    *out = q;
    return WEFT_OK;
}
