/* SPDX-License-Identifier: MIT */
/*
 * Reference competitors for bench_lock: the smallest correct futex lock,
 * Ulrich Drepper's three-state mutex ("Futexes Are Tricky", mutex 2), and
 * the smallest futex condition variable, a sequence counter. Linux only.
 * They have no spinning, no timeout, no owner and no fairness: they are the
 * floor a futex-based lock and condition can reach, not ones to use.
 *
 * The state word:
 *
 *   0  unlocked
 *   1  locked, no thread sleeps on it
 *   2  locked, and some thread may sleep on it (the releaser must wake one)
 *
 * The functions are out of line, like weft_lock_acquire() and
 * pthread_mutex_lock(), so every competitor pays one call per operation.
 */
#ifndef WEFT_BENCH_FUTEX_LOCK_REF_H
#define WEFT_BENCH_FUTEX_LOCK_REF_H

#include <stdint.h>

typedef struct futex_lock_ref {
    uint32_t state;
} futex_lock_ref;

#define FUTEX_LOCK_REF_INIT {0}

void futex_lock_ref_acquire(futex_lock_ref *lock);
void futex_lock_ref_release(futex_lock_ref *lock);

/*
 * The condition: a counter that every signal bumps. A waiter reads it
 * while it still holds the lock, releases the lock and sleeps only while
 * the counter still has the value it read, so a signal made after the
 * waiter read it (which needs the lock, hence comes after the release)
 * cannot be missed. Signal always makes the wake call, waiters or not: no
 * waiter count, nothing but the counter. Spurious wake-ups happen (a
 * signal may wake a thread that began to wait after it), so callers loop
 * on their predicate, as with any condition variable.
 */
typedef struct futex_cond_ref {
    uint32_t seq;
} futex_cond_ref;

#define FUTEX_COND_REF_INIT {0}

/* Release `lock`, sleep until a signal, acquire `lock` again. */
void futex_cond_ref_wait(futex_cond_ref *cond, futex_lock_ref *lock);
/* Wake one waiter, if any. */
void futex_cond_ref_signal(futex_cond_ref *cond);

#endif /* WEFT_BENCH_FUTEX_LOCK_REF_H */
