/* SPDX-License-Identifier: MIT */
/*
 * threading.Condition: a FIFO queue of waiters, each parked on its own word.
 *
 * Python's Condition keeps a deque of per-waiter locks and notify(n) hands
 * exactly n of them a wake-up; a shared sequence counter cannot promise
 * "exactly n", so weft does the same. A waiter lives on its thread's stack
 * and is linked into the queue, under the condition's `guard` lock, before
 * the caller's lock is released, so no notify can slip between the two.
 * notify() unlinks a waiter and sets its `signaled` word under the guard;
 * from then on the waiter may return and its memory vanish, which is why
 * the wake-up after it is harmless (see weft_sys_wake_one).
 *
 * A parked waiter that will take a lock again, notified while that lock is
 * held (as Python requires of notify), is not woken but handed over to the
 * lock: moved to sleep on the lock's word (weft_sys_requeue_one, where the
 * platform can), so the release wakes it into a free lock. Woken at once,
 * it would find the notifier still holding the lock and park a second
 * time: in a ping-pong beside two busy processes (bench_lock, unpinned,
 * cache-line round trip 83-4450 ns) half of the woken waiters did, and the
 * round trip took 1.0x pthread's time; handed over, 0.6x. The notifier
 * keeps the guard until the move is done, and a waiter handed over takes
 * the guard once before it leaves, so the move never touches a waiter's
 * vanished memory.
 */
#include "sync.h"

/* A waiter's word: WAITING while it looks, PARKED once it may sleep (a
 * notify must then make the wake-up call), SIGNALED once notified, HANDED
 * once notified and handed over to its lock. */
enum { WAITING = 0, SIGNALED = 1, PARKED = 2, HANDED = 3 };

typedef struct waiter {
    struct waiter *next;
    struct waiter *prev;
    weft_lock *lock; /* the lock it takes again once notified, or NULL */
    uint32_t signaled;
} waiter;

/* The waiters form a ring: the oldest is `head`, the newest head->prev.
 * A ring needs no tail pointer, which keeps a weft_cond to two words. */
static void enqueue(weft_cond *cond, waiter *w, weft_lock *lock)
{
    waiter *head;

    w->lock = lock;
    w->signaled = WAITING;
    weft__lock(&cond->guard);
    head = cond->head;
    if (head) {
        w->next = head;
        w->prev = head->prev;
        head->prev->next = w;
        head->prev = w;
    } else {
        w->next = w->prev = w;
        weft__store_ptr(&cond->head, w);
    }
    weft__unlock(&cond->guard);
}

/* Under the guard. */
static void unlink_waiter(weft_cond *cond, waiter *w)
{
    if (w->next == w) {
        weft__store_ptr(&cond->head, NULL);
        return;
    }
    w->prev->next = w->next;
    w->next->prev = w->prev;
    if (cond->head == w)
        weft__store_ptr(&cond->head, w->next);
}

/* Wait until notified or the deadline. First look at the word a few times
 * with growing pauses, as a contended lock does: a notify that comes within
 * microseconds (a ping-pong between two threads) then costs neither side a
 * system call. Then announce the sleep (WAITING -> PARKED) and sleep while
 * the word says PARKED. On a timeout the waiter takes itself out of the
 * queue, unless a notify got to it first: then it counts as notified, so a
 * notify(n) never wakes fewer than n. */
static int park(weft_cond *cond, waiter *w, int64_t deadline)
{
    uint32_t s = WAITING;
    int rc = WEFT_OK;

    /* Before the waiter parks, only a notify moves its word (to SIGNALED). */
    if (deadline != 0 &&
        weft__spin_until(weft__word_moved, &(weft__word_look){&w->signaled, WAITING}))
        return WEFT_OK;
    if (!weft__cas(&w->signaled, &s, PARKED))
        return WEFT_OK; /* notified meanwhile */
    while (weft__load(&w->signaled) == PARKED) {
        if (weft_sys_wait(&w->signaled, PARKED, deadline) == WEFT_ETIMEDOUT) {
            weft__lock(&cond->guard);
            if (weft__load_relaxed(&w->signaled) == PARKED) {
                unlink_waiter(cond, w);
                rc = WEFT_ETIMEDOUT;
            }
            weft__unlock(&cond->guard);
            break;
        }
    }
    return rc;
}

/* With `w` linked in and `lock` held: release it, park, take it again. */
static int wait_linked(weft_cond *cond, waiter *w, weft_lock *lock, int64_t deadline)
{
    int rc;

    weft__unlock(lock);
    rc = park(cond, w, deadline);
    if (weft__load(&w->signaled) != HANDED) {
        weft__lock(lock);
        return rc;
    }
    /* Wait for the notifier to be done moving this waiter. */
    weft__lock(&cond->guard);
    weft__unlock(&cond->guard);
    weft__lock_handed(lock);
    return rc;
}

int weft__cond_wait_until(weft_cond *cond, weft_lock *lock, int64_t deadline)
{
    waiter w;

    enqueue(cond, &w, lock);
    return wait_linked(cond, &w, lock, deadline);
}

int weft__cond_wait_leaving(weft_cond *cond, weft_lock *lock, int64_t deadline)
{
    waiter w;

    enqueue(cond, &w, NULL);
    weft__unlock(lock);
    return park(cond, &w, deadline);
}

int weft__cond_wait_unless(weft_cond *cond, weft_lock *lock, bool (*ready)(void *arg),
                           void *arg, int64_t deadline)
{
    waiter w;

    enqueue(cond, &w, lock);
    /* Pairs with the notifier's sequentially consistent store of its
     * change and load of `head`: it sees this waiter, or ready() sees the
     * change. */
    weft__fence_sc();
    if (ready(arg)) {
        weft__lock(&cond->guard);
        if (weft__load_relaxed(&w.signaled) != SIGNALED)
            unlink_waiter(cond, &w);
        weft__unlock(&cond->guard);
        return WEFT_OK;
    }
    return wait_linked(cond, &w, lock, deadline);
}

int weft_cond_wait(weft_cond *cond, weft_lock *lock, double timeout)
{
    int64_t deadline;
    int rc;

    rc = weft__begin_wait(cond && lock ? cond : NULL, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    if (!weft_lock_locked(lock))
        return weft__fail(WEFT_EPERM, "%s: the lock is not held", weft__call_name(__func__));
    return weft__timed_out(weft__cond_wait_until(cond, lock, deadline),
                           "cond_wait: timed out: not notified");
}

int weft_cond_wait_rlock(weft_cond *cond, weft_rlock *rlock, double timeout)
{
    int64_t deadline;
    uint32_t levels;
    uint64_t me;
    waiter w;
    int rc;

    rc = weft__begin_wait(cond && rlock ? cond : NULL, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    if (!weft_rlock_is_owned(rlock))
        return weft__fail(WEFT_EPERM, "cond_wait_rlock: the calling thread does not own the rlock");
    /* Give up every level at once, as RLock._release_save does. */
    me = weft__load64(&rlock->owner);
    levels = rlock->count;
    enqueue(cond, &w, NULL);
    rlock->count = 0;
    weft__store64(&rlock->owner, 0);
    weft__unlock(&rlock->lock);
    rc = park(cond, &w, deadline);
    weft__lock(&rlock->lock);
    weft__store64(&rlock->owner, me);
    rlock->count = levels;
    return weft__timed_out(rc, "cond_wait_rlock: timed out: not notified");
}

int weft_cond_wait_for(weft_cond *cond, weft_lock *lock, bool (*pred)(void *arg), void *arg,
                       double timeout)
{
    int64_t deadline;
    int rc;

    rc = weft__begin_wait(cond && lock && pred ? cond : NULL, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    if (!weft_lock_locked(lock))
        return weft__fail(WEFT_EPERM, "%s: the lock is not held", weft__call_name(__func__));
    while (!pred(arg)) {
        if (weft__cond_wait_until(cond, lock, deadline) == WEFT_ETIMEDOUT)
            return pred(arg) ? WEFT_OK
                             : weft__fail_text(WEFT_ETIMEDOUT,
                                               "cond_wait_for: timed out: the predicate is false");
    }
    return WEFT_OK;
}

/* Under the guard, with `w` unlinked: notify it. Only a waiter that
 * parked needs a system call; one that will take a held lock is handed
 * over to it (the file's comment says why). */
static void signal_waiter(waiter *w)
{
    uint32_t s = WAITING;
    weft_lock *lock = w->lock;

    if (weft__cas(&w->signaled, &s, SIGNALED)) {
        weft__spin_partner_spins(WEFT__SPIN_WAKE);
        return;
    }
    /* Parked: from now on only a notify changes the word. */
    if (lock && weft_sys_requeue_moves && weft__lock_mark_contended(lock)) {
        weft__store(&w->signaled, HANDED);
        weft_sys_requeue_one(&w->signaled, HANDED, &lock->state);
        /* A release between the mark and the move woke nobody. */
        if (weft__load(&lock->state) != WEFT__CONTENDED)
            weft_sys_wake_one(&lock->state);
        return;
    }
    weft__store(&w->signaled, SIGNALED);
    weft_sys_wake_one(&w->signaled);
}

void weft_cond_notify(weft_cond *cond, size_t n)
{
    waiter *w;

    /* Nobody waiting is the common case; a waiter links itself in before it
     * releases the caller's lock, so under that lock this read is exact.
     * Sequentially consistent for weft__cond_wait_unless's notifiers, who
     * do not hold that lock. */
    if (!cond || n == 0 || weft__load_ptr_sc(&cond->head) == NULL)
        return;
    weft__lock(&cond->guard);
    while (n > 0 && (w = cond->head) != NULL) {
        unlink_waiter(cond, w);
        signal_waiter(w);
        n--;
    }
    weft__unlock(&cond->guard);
}

void weft_cond_notify_all(weft_cond *cond)
{
    weft_cond_notify(cond, SIZE_MAX);
}
