/* SPDX-License-Identifier: MIT */
/**
 * \file weft/lock.h
 * \brief Lock, RLock, RWLock and once (Python's threading.Lock and
 *        threading.RLock, plus a reader-writer lock and one-time init).
 *
 * Every object here is a few machine words that need no allocation, no
 * initialisation and no destruction: zero-filled memory and the `*_INIT`
 * initialisers are valid, unlocked objects. Their fields are private.
 * An object must not be moved or freed while a thread uses it.
 *
 * A weft_lock has no owner, as in Python: any thread may release it. A
 * weft_rlock belongs to the thread that acquired it, which may acquire it
 * again; only that thread may release it.
 */
#ifndef WEFT_LOCK_H
#define WEFT_LOCK_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** threading.Lock: a mutual-exclusion lock without an owner. */
typedef struct weft_lock {
    uint32_t state; /**< private */
} weft_lock;

/** A static initialiser for an unlocked weft_lock (zero-filling is the same). */
#define WEFT_LOCK_INIT {0}

/**
 * Acquire the lock, waiting up to `timeout` seconds.
 *
 * \param lock the lock.
 * \param timeout `WEFT_FOREVER`, 0 (try once) or the longest wait in seconds.
 * \returns `WEFT_OK` when the caller now holds the lock; `WEFT_ETIMEDOUT`
 *          when it could not be had in time (nothing changed);
 *          `WEFT_EINVAL` for a NULL lock or a bad timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`. Not recursive:
 * a thread that acquires a lock it holds waits for itself.
 */
WEFT_API int weft_lock_acquire(weft_lock *lock, double timeout);

/**
 * Release the lock, from any thread (Python semantics), and wake one thread
 * waiting for it.
 *
 * \param lock the lock.
 * \returns `WEFT_OK`; `WEFT_EPERM` when the lock is not locked (nothing
 *          changes); `WEFT_EINVAL` for NULL.
 * \par Thread safety:
 * Safe from any thread, not only the one that acquired it.
 * Never blocks.
 */
WEFT_API int weft_lock_release(weft_lock *lock);

/**
 * Whether the lock is held by some thread (threading.Lock.locked()).
 * \param lock the lock.
 * \returns true when locked; false when unlocked or NULL. A snapshot: it
 *          may change as soon as it is read.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API bool weft_lock_locked(const weft_lock *lock);

/** threading.RLock: a reentrant lock owned by the thread that holds it. */
typedef struct weft_rlock {
    weft_lock lock;  /**< private */
    uint32_t count;  /**< private: levels held by the owner */
    WEFT_ALIGN8 uint64_t owner; /**< private: weft_thread_ident of the owner, 0 if
                                     none; an atomic word, 8-aligned everywhere */
} weft_rlock;

/** A static initialiser for an unlocked weft_rlock (zero-filling is the same). */
#define WEFT_RLOCK_INIT {WEFT_LOCK_INIT, 0, 0}

/**
 * Acquire the rlock, or one more level of it when the caller owns it.
 *
 * \param rlock the rlock.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds; an owner
 *        never waits.
 * \returns `WEFT_OK`; `WEFT_ETIMEDOUT` (nothing changed); `WEFT_EOVERFLOW`
 *          when the owner already holds 2^32-1 levels; `WEFT_EINVAL` for
 *          NULL or a bad timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout` while another
 * thread owns it; never when the caller does.
 */
WEFT_API int weft_rlock_acquire(weft_rlock *rlock, double timeout);

/**
 * Release one level of the rlock; the last level unlocks it.
 *
 * \param rlock the rlock.
 * \returns `WEFT_OK`; `WEFT_EPERM` when the caller does not own it
 *          (nothing changes); `WEFT_EINVAL` for NULL.
 * \par Thread safety:
 * Only the owner can release; any other thread gets
 * `WEFT_EPERM`. Never blocks.
 */
WEFT_API int weft_rlock_release(weft_rlock *rlock);

/**
 * Whether the calling thread owns the rlock (RLock._is_owned()).
 * \param rlock the rlock.
 * \returns true when the caller holds at least one level; false otherwise
 *          or for NULL.
 * \par Thread safety:
 * Safe from any thread; the answer is about the caller.
 * Never blocks.
 */
WEFT_API bool weft_rlock_is_owned(const weft_rlock *rlock);

/**
 * A reader-writer lock: many readers or one writer. Writer-preferring: once
 * a writer waits, new readers wait behind it, so writers never starve. A
 * consequence: a thread that already reads and asks to read again while a
 * writer waits deadlocks, so do not nest read acquisitions.
 */
typedef struct weft_rwlock {
    weft_lock lock;          /**< private: guards the fields below */
    uint32_t readers;        /**< private: readers inside */
    uint32_t writers_waiting;/**< private */
    uint32_t readers_seq;    /**< private: bumped to wake readers */
    uint32_t writers_seq;    /**< private: bumped to wake a writer */
    uint32_t readers_waiting;/**< private */
    uint64_t writer;         /**< private: weft_thread_ident of the writer, 0 if none */
} weft_rwlock;

/** A static initialiser for an unlocked weft_rwlock (zero-filling is the same). */
#define WEFT_RWLOCK_INIT {WEFT_LOCK_INIT, 0, 0, 0, 0, 0, 0}

/**
 * Acquire the rwlock for reading, shared with other readers.
 * \param rwlock the rwlock.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK`; `WEFT_ETIMEDOUT` (nothing changed); `WEFT_EOVERFLOW`
 *          with 2^32-1 readers inside; `WEFT_EINVAL` for NULL or a bad
 *          timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout` while a writer
 * holds the lock or waits for it.
 */
WEFT_API int weft_rwlock_read_acquire(weft_rwlock *rwlock, double timeout);

/**
 * Release a read acquisition. Readers are not recorded by thread, so any
 * thread may release a read acquisition; the last reader out wakes a
 * waiting writer.
 * \param rwlock the rwlock.
 * \returns `WEFT_OK`; `WEFT_EPERM` when no reader holds the lock (nothing
 *          changes); `WEFT_EINVAL` for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_rwlock_read_release(weft_rwlock *rwlock);

/**
 * Acquire the rwlock for writing, alone.
 * \param rwlock the rwlock.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK`; `WEFT_ETIMEDOUT` (nothing changed; waiting readers go
 *          on); `WEFT_EINVAL` for NULL or a bad timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout` while readers
 * or another writer hold the lock. Not recursive: the writer asking
 * again waits for itself.
 */
WEFT_API int weft_rwlock_write_acquire(weft_rwlock *rwlock, double timeout);

/**
 * Release the write acquisition; only the writing thread may. Waiting
 * writers go first; readers go in when no writer waits.
 * \param rwlock the rwlock.
 * \returns `WEFT_OK`; `WEFT_EPERM` when the caller is not the writer
 *          (nothing changes); `WEFT_EINVAL` for NULL.
 * \par Thread safety:
 * Only the writing thread can release; any other gets
 * `WEFT_EPERM`. Never blocks.
 */
WEFT_API int weft_rwlock_write_release(weft_rwlock *rwlock);

/** One-time initialisation, like pthread_once with an argument. */
typedef struct weft_once {
    uint32_t state; /**< private */
} weft_once;

/** A static initialiser for a weft_once that has not run (zero-filling is the same). */
#define WEFT_ONCE_INIT {0}

/**
 * Run `fn(arg)` exactly once for `once`, however many threads call this.
 *
 * Every caller returns only after `fn` has returned. Calling it again from
 * inside `fn` for the same `once` deadlocks.
 *
 * \param once the once object; NULL does nothing.
 * \param fn the initialisation; NULL does nothing.
 * \param arg passed to `fn`.
 * \par Thread safety:
 * Safe from any thread. Blocks while another thread runs `fn`,
 * without a time limit.
 */
WEFT_API void weft_call_once(weft_once *once, void (*fn)(void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_LOCK_H */
