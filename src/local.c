/* SPDX-License-Identifier: MIT */
/*
 * weft_local: thread-local values with destructors (threading.local).
 *
 * Each local has a small integer index, recycled after the local is
 * destroyed. Each thread that has set a value has a table: an array of
 * values indexed by it, grown as needed. The calling thread reaches its own
 * table through a thread-local cache (`cached`), so weft_local_get() is a
 * bounds check and a load, with no lock and no call into the backend.
 *
 * One lock, `locals_lock`, guards everything shared:
 *   - the index map (`slots`: index -> local, or the next free index) and
 *     the free list threaded through it;
 *   - the list of all tables (`tables`), which weft_local_destroy() walks
 *     to clear the destroyed index in every thread;
 *   - each table's `values` and `cap` against writes by other threads:
 *     only the owning thread changes `values`/`cap` (growth, under the
 *     lock) and only weft_local_destroy() writes another thread's elements
 *     (under the lock, and only the index it destroys). So the owner reads
 *     and writes its own elements without the lock: no one else touches
 *     those words, except by misuse (using a local while it is destroyed);
 *   - each local's `running` count: destructor calls by ending threads in
 *     progress, which weft_local_destroy() waits for (on `drained_seq`).
 * The lock is never held while a destructor runs, nor while calling into
 * thread.c, so it nests with no other lock.
 *
 * Why a list of our own rather than weft__registry_foreach(): destroy then
 * needs no lock but ours (no ordering against the registry lock, also for
 * the fork handlers), and a table is visible to destroy exactly as long as
 * it exists, whatever the record's registry membership.
 *
 * A thread's end (weft__locals_thread_end) takes its values out one at a
 * time under the lock, runs each destructor outside it, and goes round again
 * while destructors set new values, at most WEFT_LOCAL_DESTRUCTOR_ROUNDS
 * rounds; then it unlinks and frees the table and empties the cache.
 */
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

#include "weft/local.h"

struct weft_local {
    uint32_t index;                /* fixed while the local lives */
    uint32_t running;              /* thread-end destructor calls in progress; lock */
    bool dying;                    /* weft_local_destroy() began; lock */
    bool orphan;                   /* destroy returned; the last runner frees it; lock */
    void (*destructor)(void *value);
};

typedef struct table {
    void **values; /* cap elements; written by other threads only under the lock */
    size_t cap;    /* changed only by the owner, under the lock */
    struct table *prev, *next; /* the list of tables; lock */
} table;

/* An index-map entry: the live local that owns the index, or (local NULL)
 * the next free index. */
typedef struct slot {
    weft_local *local;
    uint32_t next_free;
} slot;

#define NO_INDEX UINT32_MAX
#define FIRST_CAP 8
/* Values per pass of weft_local_destroy (taken under the lock, destroyed
 * outside it). */
#define DESTROY_BATCH 64

static weft_lock locals_lock;
static slot *slots;        /* slots[0 .. slots_used-1] */
static uint32_t slots_used; /* indices handed out so far */
static uint32_t slots_cap;
static uint32_t free_head = NO_INDEX;
static table *tables;      /* every live table */
static uint32_t drained_seq, drained_waiters; /* destroy waits here */

/* The calling thread's table, cached: `values` and `cap` mirror
 * table->values and table->cap (written only by this thread), so that
 * weft_local_get() reads one thread-local block. `inflight` is the local
 * whose destructor this thread is running at its end, if any. */
static WEFT__THREAD_LOCAL WEFT__TLS_INITIAL_EXEC struct self_cache {
    void **values;
    size_t cap;
    table *tab;
    weft_local *inflight;
} cached;

/* realloc for n elements of `size` bytes; NULL when that overflows. */
static void *realloc_array(void *p, size_t n, size_t size)
{
    return n <= SIZE_MAX / size ? weft__realloc(p, n * size) : NULL;
}

/* ---- Fork -------------------------------------------------------------------- */

/* Only the forking thread exists in the child. The other threads' tables
 * are dropped unread (their values leak, as those threads' stacks do: no
 * destructor could run on the threads they belong to), and destructor
 * calls those threads had in progress will never finish. */
static void locals_after_fork_in_child(void)
{
    uint32_t i;

    tables = cached.tab;
    if (tables)
        tables->prev = tables->next = NULL;
    for (i = 0; i < slots_used; i++)
        if (slots[i].local)
            slots[i].local->running = slots[i].local == cached.inflight;
    drained_waiters = 0;
    weft__lock_reset(&locals_lock);
}

void weft__locals_at_fork(weft__fork_step step)
{
    if (step == WEFT__FORK_PREPARE)
        weft__lock(&locals_lock);
    else if (step == WEFT__FORK_PARENT)
        weft__unlock(&locals_lock);
    else
        locals_after_fork_in_child();
}

/* ---- Create, get, set --------------------------------------------------------------- */

int weft_local_create(weft_local **out, void (*destructor)(void *value))
{
    weft_local *local;
    uint32_t index;
    int rc;

    if (!out)
        return weft__fail_null(__func__);
    *out = NULL;
    rc = weft__runtime_init(); /* weft's fork handlers cover the locals */
    if (rc != WEFT_OK)
        return weft__fail_wrap(rc, "local_create");
    local = weft__calloc(1, sizeof *local);
    if (!local)
        return weft__fail(WEFT_ENOMEM, "local_create: no memory for the local");
    local->destructor = destructor;

    weft__lock(&locals_lock);
    if (free_head != NO_INDEX) {
        index = free_head;
        free_head = slots[index].next_free;
    } else {
        if (slots_used == slots_cap) {
            uint32_t ncap = slots_cap ? slots_cap : FIRST_CAP;
            slot *grown;

            /* Indices stay below NO_INDEX; the map's size must fit size_t. */
            while (ncap <= slots_used && ncap < NO_INDEX / 2)
                ncap *= 2;
            if (ncap <= slots_used || !(grown = realloc_array(slots, ncap, sizeof *slots))) {
                weft__unlock(&locals_lock);
                weft__free(local);
                return weft__fail(WEFT_ENOMEM, "local_create: no memory for %lu locals",
                                  (unsigned long)slots_used + 1);
            }
            slots = grown;
            slots_cap = ncap;
        }
        index = slots_used++;
    }
    slots[index].local = local;
    slots[index].next_free = NO_INDEX;
    local->index = index;
    weft__unlock(&locals_lock);

    WEFT__HANDLE_BORN(local, "local");
    *out = local;
    return WEFT_OK;
}

void *weft_local_get(weft_local *local)
{
    size_t index;

    if (!local || WEFT__HANDLE_DEAD(local, "local"))
        return NULL;
    index = local->index;
    return index < cached.cap ? cached.values[index] : NULL;
}

/* weft_local_set where the calling thread's table does not hold `index`:
 * create the table (and the thread's record, so that weft hears of the
 * thread's end) or grow it, then store. Out of line and called last, so
 * that weft_local_set's fast path is a bounds check and a store. */
static WEFT__NOINLINE int set_slow(size_t index, void *value)
{
    table *tab = cached.tab;
    bool fresh = tab == NULL;
    weft_thread *t = NULL;
    size_t ncap = fresh ? FIRST_CAP : tab->cap;
    void **values, **old;

    if (!value)
        return WEFT_OK; /* the value already reads as NULL */
    if (fresh) {
        /* The record, and the runtime with its exit hook: the main
         * thread's values are destroyed at the orderly exit, also when
         * main() just returns. */
        t = weft__self();
        if (!t)
            return weft__fail(WEFT_ENOMEM, "local_set: no memory for the calling thread's record");
        tab = weft__calloc(1, sizeof *tab);
        if (!tab)
            return weft__fail(WEFT_ENOMEM, "local_set: no memory for the thread's table of values");
    }
    while (ncap <= index && ncap <= SIZE_MAX / 2)
        ncap *= 2;
    values = ncap > index ? weft__calloc(ncap, sizeof *values) : NULL; /* calloc checks the size */
    if (!values) {
        if (fresh)
            weft__free(tab);
        return weft__fail(WEFT_ENOMEM, "local_set: no memory for a table of %lu values",
                          (unsigned long)index + 1);
    }

    weft__lock(&locals_lock);
    old = tab->values;
    if (old)
        memcpy(values, old, tab->cap * sizeof *values);
    tab->values = values;
    tab->cap = ncap;
    if (fresh) {
        WEFT__LIST_PUSH(tables, tab, next, prev);
        *weft__thread_locals(t) = tab;
    }
    weft__unlock(&locals_lock);

    weft__free(old);
    cached.tab = tab;
    cached.values = values;
    cached.cap = ncap;
    values[index] = value;
    return WEFT_OK;
}

int weft_local_set(weft_local *local, void *value)
{
    size_t index;

    if (!local)
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(local, "local"))
        return WEFT_EINVAL;
    index = local->index;
    if (index < cached.cap) {
        cached.values[index] = value;
        return WEFT_OK;
    }
    return set_slow(index, value);
}

/* ---- Destroy ------------------------------------------------------------------------ */

void weft_local_destroy(weft_local *local)
{
    void *batch[DESTROY_BATCH];
    size_t index, n, i;
    uint32_t mine;
    int own_rounds = 0;
    table *tab;

    if (!local || WEFT__HANDLE_DEAD(local, "local"))
        return;
    index = local->index;
    weft__lock(&locals_lock);
    local->dying = true;
    /* Take every thread's value out, a batch at a time, and destroy the
     * batch outside the lock. The index stays mapped to this local until
     * all are out: an ending thread that takes one meanwhile finds the
     * local, and counts its destructor call in `running`. A destructor run
     * here may set the local again, in the calling thread: that value is
     * taken in a later batch, at most WEFT_LOCAL_DESTRUCTOR_ROUNDS times
     * in all, as at a thread's end; after that it is dropped. */
    for (;;) {
        n = 0;
        for (tab = tables; tab && n < DESTROY_BATCH; tab = tab->next) {
            if (index < tab->cap && tab->values[index]) {
                if (tab != cached.tab || ++own_rounds <= WEFT_LOCAL_DESTRUCTOR_ROUNDS)
                    batch[n++] = tab->values[index];
                tab->values[index] = NULL;
            }
        }
        if (n == 0)
            break;
        weft__unlock(&locals_lock);
        if (local->destructor)
            for (i = 0; i < n; i++)
                local->destructor(batch[i]);
        weft__lock(&locals_lock);
    }
    /* Wait for ending threads' destructor calls of this local, but the
     * caller's own (a destructor destroying its own local at its thread's
     * end): that one ends after we return, and frees the local then. */
    mine = cached.inflight == local;
    while (local->running > mine)
        weft__seq_wait(&drained_seq, &drained_waiters, &locals_lock, WEFT__NO_DEADLINE);
    /* Given back (its destructors may still set it up to here), even if an
     * ending thread frees it later. */
    WEFT__HANDLE_GONE(local);
    slots[index].local = NULL;
    slots[index].next_free = free_head;
    free_head = (uint32_t)index;
    if (local->running == 0) {
        weft__unlock(&locals_lock);
        weft__free(local);
        return;
    }
    local->orphan = true;
    weft__unlock(&locals_lock);
}

/* ---- A thread's end -------------------------------------------------------------------- */

/* Run local's destructor on value at the calling thread's end: the call is
 * counted in local->running (by the caller, under the lock) so that a
 * concurrent weft_local_destroy() waits for it. */
static void run_at_end(weft_local *local, void *value)
{
    weft_local *outer = cached.inflight;
    bool free_it = false;

    cached.inflight = local;
    local->destructor(value);
    cached.inflight = outer;
    weft__lock(&locals_lock);
    if (--local->running == 0 && local->orphan)
        free_it = true;
    else if (local->dying)
        weft__seq_wake_all(&drained_seq, &drained_waiters);
    weft__unlock(&locals_lock);
    if (free_it)
        weft__free(local);
}

void weft__locals_thread_end(weft_thread *t)
{
    void **place = weft__thread_locals(t);
    table *tab = *place;
    int round;

    if (!tab)
        return; /* this thread never set a value: nothing to do */
    for (round = 0; round < WEFT_LOCAL_DESTRUCTOR_ROUNDS; round++) {
        bool found = false;
        size_t i = 0;

        for (;;) {
            weft_local *local;
            void *value;

            weft__lock(&locals_lock);
            while (i < tab->cap && tab->values[i] == NULL)
                i++;
            if (i == tab->cap) {
                weft__unlock(&locals_lock);
                break;
            }
            value = tab->values[i];
            tab->values[i] = NULL;
            local = slots[i].local;
            found = true;
            if (local && local->destructor) {
                local->running++;
                weft__unlock(&locals_lock);
                run_at_end(local, value);
            } else {
                weft__unlock(&locals_lock);
            }
            i++;
        }
        /* No value was left: no destructor ran, so none set a new one. */
        if (!found)
            break;
    }

    /* Whatever the last round's destructors set is dropped, as pthreads
     * does after PTHREAD_DESTRUCTOR_ITERATIONS. */
    weft__lock(&locals_lock);
    WEFT__LIST_REMOVE(tables, tab, next, prev);
    *place = NULL;
    weft__unlock(&locals_lock);

    if (cached.tab == tab) {
        cached.tab = NULL;
        cached.values = NULL;
        cached.cap = 0;
    }
    weft__free(tab->values);
    weft__free(tab);
}
