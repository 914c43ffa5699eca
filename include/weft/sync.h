/* SPDX-License-Identifier: MIT */
/**
 * \file weft/sync.h
 * \brief Condition, Semaphore, BoundedSemaphore, Event and Barrier, with
 *        the meaning of Python's threading module.
 *
 * Like the locks, these are small structs that need no allocation, no
 * initialisation and no destruction: zero-filled memory and the `*_INIT`
 * initialisers are valid. Their fields are private. An object must not be
 * moved or freed while a thread uses it.
 */
#ifndef WEFT_SYNC_H
#define WEFT_SYNC_H

#include "base.h"
#include "lock.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * threading.Condition. Unlike Python's, a weft_cond is not bound to one
 * lock: each wait names the lock (or rlock) it releases while waiting.
 * Waiters are woken in the order they began to wait.
 */
typedef struct weft_cond {
    weft_lock guard; /**< private: guards the waiter list */
    uint32_t unused; /**< private */
    void *head;      /**< private: oldest waiter, in a ring of waiters */
} weft_cond;

/** A static initialiser for a weft_cond (zero-filling is the same). */
#define WEFT_COND_INIT {WEFT_LOCK_INIT, 0, NULL}

/**
 * Release `lock`, wait until notified or the timeout expires, then acquire
 * `lock` again (without a time limit, as Python does) before returning.
 *
 * \param cond the condition.
 * \param lock a lock the caller holds.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK` when notified; `WEFT_ETIMEDOUT` when the time ran out;
 *          `WEFT_EPERM` when `lock` is not locked (nothing changes);
 *          `WEFT_EINVAL` for NULL or a bad timeout (nothing changes).
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`, plus the time
 * to get the lock back.
 */
WEFT_API int weft_cond_wait(weft_cond *cond, weft_lock *lock, double timeout);

/**
 * weft_cond_wait() with an rlock: releases every level the caller holds
 * while waiting and restores them all before returning.
 *
 * \param cond the condition.
 * \param rlock an rlock the caller owns.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK` when notified; `WEFT_ETIMEDOUT` when the time ran out;
 *          `WEFT_EPERM` when the caller does not own `rlock` (nothing
 *          changes); `WEFT_EINVAL` for NULL or a bad timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`, plus the time
 * to get the rlock back.
 */
WEFT_API int weft_cond_wait_rlock(weft_cond *cond, weft_rlock *rlock, double timeout);

/**
 * Wait until `pred(arg)` is true (Condition.wait_for), with one deadline
 * for the whole wait however often the caller is woken. `pred` is called
 * with `lock` held, first before any waiting.
 *
 * \param cond the condition.
 * \param lock a lock the caller holds.
 * \param pred the predicate.
 * \param arg passed to `pred`.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds, for the
 *        whole wait.
 * \returns `WEFT_OK` when the predicate holds; `WEFT_ETIMEDOUT` when it
 *          still does not at the deadline (it is checked once more then);
 *          `WEFT_EPERM` when `lock` is not locked; `WEFT_EINVAL` for a NULL
 *          `cond`, `lock` or `pred`, or a bad timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`, plus the time
 * to get the lock back after each wake-up.
 */
WEFT_API int weft_cond_wait_for(weft_cond *cond, weft_lock *lock,
                                bool (*pred)(void *arg), void *arg, double timeout);

/**
 * Wake up to `n` waiters, oldest first (Condition.notify(n)). Exactly
 * min(n, waiting) threads are woken.
 *
 * \param cond the condition; NULL does nothing.
 * \param n how many waiters to wake; 0 wakes none.
 * \par Thread safety:
 * Safe from any thread. Python requires the caller to hold
 * the lock; weft does not check it, but a notify without it may
 * miss a thread that is about to wait. Never blocks.
 */
WEFT_API void weft_cond_notify(weft_cond *cond, size_t n);

/**
 * Wake every waiter (Condition.notify_all()).
 * \param cond the condition; NULL does nothing.
 * \par Thread safety:
 * As weft_cond_notify(). Never blocks.
 */
WEFT_API void weft_cond_notify_all(weft_cond *cond);

/**
 * threading.Semaphore and threading.BoundedSemaphore: a counter that
 * acquire decrements, waiting while it is 0, and release increments.
 */
typedef struct weft_sem {
    uint32_t value;   /**< private */
    uint32_t waiters; /**< private */
    uint32_t bound;   /**< private: the initial value of a bounded semaphore */
    uint32_t bounded; /**< private */
} weft_sem;

/** A static initialiser: a semaphore with value `n` (zero-filling: value 0). */
#define WEFT_SEM_INIT(n) {(n), 0, 0, 0}
/** A static initialiser: a bounded semaphore whose value may never pass `n`. */
#define WEFT_BOUNDED_SEM_INIT(n) {(n), 0, (n), 1}

/**
 * Initialise a semaphore with `value` (what WEFT_SEM_INIT() and
 * WEFT_BOUNDED_SEM_INIT() do statically).
 * \param sem the semaphore; NULL does nothing.
 * \param value the initial value.
 * \param bounded true: release may never raise the value above `value`.
 * \par Thread safety:
 * Not while any thread uses the semaphore. Never blocks.
 */
WEFT_API void weft_sem_init(weft_sem *sem, uint32_t value, bool bounded);

/**
 * Decrement the value, waiting while it is 0.
 * \param sem the semaphore.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK`; `WEFT_ETIMEDOUT` (nothing changed); `WEFT_EINVAL`
 *          for NULL or a bad timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`.
 */
WEFT_API int weft_sem_acquire(weft_sem *sem, double timeout);

/**
 * Add `n` to the value and wake up to `n` waiters.
 * \param sem the semaphore.
 * \param n how much to add; at least 1.
 * \returns `WEFT_OK`; `WEFT_EOVERFLOW` when a bounded semaphore would pass
 *          its initial value, or any semaphore 2^32-1 (nothing is released
 *          then); `WEFT_EINVAL` for NULL or `n` == 0.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_sem_release(weft_sem *sem, uint32_t n);

/**
 * The current value.
 * \param sem the semaphore.
 * \returns the value, a snapshot; 0 for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API uint32_t weft_sem_value(const weft_sem *sem);

/** threading.Event: a flag that threads can wait to see set. */
typedef struct weft_event {
    uint32_t state;   /**< private: bit 0 set, bits 1.. the number of sets */
    uint32_t waiters; /**< private */
} weft_event;

/** A static initialiser for a clear weft_event (zero-filling is the same). */
#define WEFT_EVENT_INIT {0, 0}

/**
 * Set the flag and wake every waiter (Event.set()).
 * \param event the event; NULL does nothing.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API void weft_event_set(weft_event *event);

/**
 * Clear the flag (Event.clear()).
 * \param event the event; NULL does nothing.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API void weft_event_clear(weft_event *event);

/**
 * Whether the flag is set (Event.is_set()).
 * \param event the event.
 * \returns the flag, a snapshot; false for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API bool weft_event_is_set(const weft_event *event);

/**
 * Wait until the flag is set (Event.wait(timeout)).
 * \param event the event.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK` when the flag was set during the wait or already set,
 *          even if it was cleared again before the waiter ran (Python
 *          semantics); `WEFT_ETIMEDOUT` when it was not set in time;
 *          `WEFT_EINVAL` for NULL or a bad timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`.
 */
WEFT_API int weft_event_wait(weft_event *event, double timeout);

/**
 * threading.Barrier: `parties` threads wait until all have arrived, then
 * all go on together; the barrier is then ready for the next round.
 */
typedef struct weft_barrier {
    weft_lock lock;   /**< private */
    uint32_t parties; /**< private */
    uint32_t count;   /**< private: threads inside wait() */
    uint32_t state;   /**< private: the phase (filling, draining, resetting or
                           broken) and the round number */
    uint32_t seq;     /**< private: bumped on every state change */
    uint32_t waiters; /**< private */
} weft_barrier;

/** A static initialiser for a barrier of `parties` threads. A zero-filled
 *  barrier has 0 parties and every wait on it returns `WEFT_EINVAL`. */
#define WEFT_BARRIER_INIT(parties) {WEFT_LOCK_INIT, (parties), 0, 0, 0, 0}

/**
 * Initialise a barrier (what WEFT_BARRIER_INIT() does statically).
 * \param barrier the barrier; NULL does nothing.
 * \param parties how many threads each round waits for; 0 makes every
 *        wait return `WEFT_EINVAL`.
 * \par Thread safety:
 * Not while any thread uses the barrier. Never blocks.
 */
WEFT_API void weft_barrier_init(weft_barrier *barrier, uint32_t parties);

/**
 * Wait until `parties` threads have called this (Barrier.wait(timeout)).
 *
 * \param barrier the barrier.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds; when it
 *        runs out the barrier breaks, as in Python.
 * \returns the arrival index, 0 for the first thread to arrive up to
 *          parties-1 for the last; `WEFT_EBROKEN` when the barrier is or
 *          becomes broken (abort, reset or a timeout) while waiting. A
 *          thread whose round was released keeps its index even when the
 *          barrier is aborted or reset before it wakes (as Java's
 *          CyclicBarrier; only later rounds see the break);
 *          `WEFT_EINVAL` for NULL, 0 parties or a bad timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`, and first,
 * without a limit, while the threads of the previous round are
 * still leaving (a moment).
 */
WEFT_API int weft_barrier_wait(weft_barrier *barrier, double timeout);

/**
 * Break the barrier (Barrier.abort()): current and future waits return
 * `WEFT_EBROKEN` until weft_barrier_reset().
 * \param barrier the barrier; NULL does nothing.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API void weft_barrier_abort(weft_barrier *barrier);

/**
 * Return the barrier to its empty, unbroken state (Barrier.reset());
 * threads waiting on it get `WEFT_EBROKEN`.
 * \param barrier the barrier; NULL does nothing.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API void weft_barrier_reset(weft_barrier *barrier);

/**
 * Whether the barrier is broken (Barrier.broken).
 * \param barrier the barrier.
 * \returns a snapshot; false for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API bool weft_barrier_broken(const weft_barrier *barrier);

/**
 * How many threads wait in the current round (Barrier.n_waiting).
 * \param barrier the barrier.
 * \returns a snapshot; 0 for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API uint32_t weft_barrier_n_waiting(const weft_barrier *barrier);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_SYNC_H */
