/*
 * A reference competitor for bench_lock: the smallest correct futex lock,
 * Ulrich Drepper's three-state mutex ("Futexes Are Tricky", mutex 2).
 * Linux only. It has no spinning, no timeout, no owner and no fairness: it
 * is the floor a futex-based lock can reach, not a lock to use.
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

#endif /* WEFT_BENCH_FUTEX_LOCK_REF_H */
