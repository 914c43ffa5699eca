/* SPDX-License-Identifier: MIT */
/*
 * Drepper's three-state futex mutex (mutex 2) and a sequence-counter
 * condition, the bare-futex floor that bench_lock shows next to weft_lock,
 * weft_cond and pthreads. See the header for the meaning of the words.
 *
 * Acquire: one compare-and-swap 0 -> 1 when the lock is free. Otherwise the
 * waiter marks the word 2 ("someone may sleep") before it sleeps, and from
 * then on takes the lock as 0 -> 2, because it cannot know whether other
 * sleepers remain: a spurious 2 costs one needless wake, a missing 2 would
 * lose a wake-up.
 *
 * Release: one decrement. From 1 it reaches 0 and nobody needs waking. From
 * 2 the word is reset to 0 and one sleeper is woken.
 */
#ifndef _GNU_SOURCE /* APR's pkg-config flags define it too */
#define _GNU_SOURCE /* syscall() */
#endif

#include "futex_lock_ref.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint32_t cas(uint32_t *word, uint32_t expected, uint32_t desired)
{
    /* Returns the value seen; the swap happened when it equals expected. */
    __atomic_compare_exchange_n(word, &expected, desired, 0, __ATOMIC_ACQUIRE,
                                __ATOMIC_RELAXED);
    return expected;
}

static void futex_wait(uint32_t *word, uint32_t expected)
{
    /* Returns at once when *word != expected (EAGAIN), on a wake, on a
     * signal (EINTR) or spuriously; the caller re-checks in every case. */
    (void)syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, (void *)0,
                  (void *)0, 0);
}

static void futex_wake_one(uint32_t *word)
{
    (void)syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, (void *)0, (void *)0, 0);
}

void futex_lock_ref_acquire(futex_lock_ref *lock)
{
    uint32_t c = cas(&lock->state, 0, 1);

    if (c == 0)
        return; /* the uncontended path: one CAS */
    do {
        /* Make sure the word says 2 before sleeping on it, so that the
         * holder's release wakes us: it is 2 already, or the CAS turns 1
         * into 2. Only when the CAS sees 0 (released meanwhile) do we skip
         * the sleep and try to take the lock at once. */
        if (c == 2 || cas(&lock->state, 1, 2) != 0)
            futex_wait(&lock->state, 2);
    } while ((c = cas(&lock->state, 0, 2)) != 0);
}

void futex_lock_ref_release(futex_lock_ref *lock)
{
    if (__atomic_fetch_sub(&lock->state, 1, __ATOMIC_RELEASE) != 1) {
        /* It was 2: a thread may sleep. Free the lock, then wake one. */
        __atomic_store_n(&lock->state, 0, __ATOMIC_RELEASE);
        futex_wake_one(&lock->state);
    }
}

void futex_cond_ref_wait(futex_cond_ref *cond, futex_lock_ref *lock)
{
    /* Read under the lock: a signal that comes later changes the counter,
     * and then the futex wait returns at once. */
    uint32_t seq = __atomic_load_n(&cond->seq, __ATOMIC_RELAXED);

    futex_lock_ref_release(lock);
    futex_wait(&cond->seq, seq);
    futex_lock_ref_acquire(lock);
}

void futex_cond_ref_signal(futex_cond_ref *cond)
{
    __atomic_fetch_add(&cond->seq, 1, __ATOMIC_RELAXED);
    futex_wake_one(&cond->seq);
}
