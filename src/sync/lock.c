/* SPDX-License-Identifier: MIT */
/*
 * threading.Lock on one 32-bit word.
 *
 *   state  0  unlocked
 *          1  locked, nobody parked
 *          2  locked, threads may be parked (release must wake one)
 *
 * Acquire tries 0 -> 1; failing that it marks the lock contended (swap in
 * 2) and parks on the word until a swap finds it unlocked. Release swaps in
 * 0 and wakes one thread only if the old state was 2, so an uncontended lock
 * never enters the kernel. Release has no owner check: Python's Lock may be
 * released by any thread.
 *
 * Before parking, a contender looks at the lock a few times with
 * exponentially growing pauses between looks (1, 2, 4 ... 128 `pause`s).
 * It reads the word only 8 times, so the holder keeps the cache line while
 * it runs a burst of critical sections, yet a lock freed soon is taken
 * without two system calls. bench/bench_lock measured this at 2-3x the
 * contended throughput of pthread_mutex_t on 2 cores, where a tight spin of
 * 100 reads (which steals the line from the holder) and no spin at all
 * reached about 0.9x and 1.2x. A word that is already 2 means threads are
 * parked: then spinning is skipped, and so it is when the process runs on
 * one CPU, where the holder cannot run while we spin (there it made a
 * condition ping-pong 1.9x slower than pthread's), and while this thread's
 * recent spins for locks have not been paying (spin.c: the holder was not
 * running, under load from other processes or more threads than CPUs).
 *
 * Before spinning, a contender whose CPU other tasks want, and whose
 * contended acquires come densely, gives its CPU to them once
 * (weft__spin_yield_cpu). Beside two busy processes on 2 CPUs, two
 * threads hammering one lock ran in step: whenever the holder lost its CPU
 * the other's spin missed and it parked, the holder's release woke it at
 * once and both ran together again, so they shared their CPUs' turns and
 * spent them passing the lock's cache line to each other (sched_switch
 * traces: 41% of the time both on a CPU, 11% one alone, 47% neither;
 * 0.6-0.7x the bare futex lock's throughput, whose contender parks at once
 * and so lets the other run alone). A contender that yields
 * runs in the other's off-turn instead, alone with the line (traced: 2%
 * both, 61% one alone); there the lock reached 145-170 Mops/s
 * (bench_lock, lock.contended.2, pinned, external load, 1.1-1.9x the
 * bare futex lock), yielding a few hundred times a second. With nothing
 * else ready the yield returns at once, so the quiet runs keep their
 * spin; with more threads than CPUs it hands the CPU to a sibling, which
 * cost nothing measurable (quiet lock.contended.8 at or above its
 * figure, fairness lower but above pthread's). A thread that waits for
 * notifications does not yield: its partner needs it back at once (a
 * condition ping-pong beside the busy processes went from 2-5 to 16-22
 * us a round trip when it did).
 *
 * Only dense contended acquires yield (less than 10 us apart): on Linux's
 * EEVDF a yield beside a busy process pushes the yielder back a time
 * slice, so a thread that meets a held lock now and then, whose spin
 * would take it within a microsecond, would wait milliseconds. Measured
 * beside two busy processes (pinned, cache-line round trip 86-768 ns as
 * bench_lock's @regime line put it): a thread taking a lock every 50 us
 * that another holds 1 us in 6 yielded 26-44 times in 3 s when every
 * contended acquire of a thread whose CPU was wanted yielded, and had
 * 40-56 waits over 1 ms (p99.9 4 ms in 5 runs of 5); counting only dense
 * ones, 1-3 yields, 22-28 waits over 1 ms (p99.9 47-331 us), as without
 * the yield (18-42, p99.9 4 ms in 2 runs of 5), while lock.contended.2
 * kept 140-160 Mops/s (without the yield 85-115). Parking at once instead
 * of yielding, as the bare futex lock does, was worse still: the wake-up
 * beside a busy process waits for a time slice too (34-84 waits over 1
 * ms, p99.9 2.5-4 ms).
 *
 * In a process with one thread (weft_sys_single_threaded) the public
 * acquire and release read and write the word with plain loads and stores
 * instead of the atomic read-modify-writes, as glibc's own mutex does
 * there: no other thread can look at the word meanwhile, and the one that
 * starts the second thread makes the word's value visible to it (a thread
 * start is a full barrier), so a lock taken single-threaded and released
 * after a thread started stays consistent. A signal handler that takes
 * and releases the lock between the load and the store leaves it as it
 * found it (locks are not async-signal-safe either way). Only the public
 * calls, the RLock's too (weft__lock_try_public, weft_lock_release):
 * weft's own locks (a condition's guard, the runtime's) are taken
 * by threaded code nearly always, and keep the one path.
 */
#include "sync.h"

enum { UNLOCKED = WEFT__UNLOCKED, LOCKED = WEFT__LOCKED, CONTENDED = WEFT__CONTENDED };

/* Take the lock as a thread that parks on it does: 2 marks the threads
 * that may sleep on the word, so a thread woken from it must leave 2 there
 * whether it takes the lock or sleeps again, or the release that wakes
 * the next one would be skipped. */
static int lock_parking(weft_lock *lock, int64_t deadline)
{
    while (weft__swap(&lock->state, CONTENDED) != UNLOCKED) {
        if (weft_sys_wait(&lock->state, CONTENDED, deadline) == WEFT_ETIMEDOUT)
            return WEFT_ETIMEDOUT;
    }
    return WEFT_OK;
}

static int lock_slow(weft_lock *lock, int64_t deadline)
{
    uint32_t s;
    unsigned round;

    if (deadline == 0)
        return WEFT_ETIMEDOUT;
    if (weft__spin_yield_cpu()) {
        s = UNLOCKED;
        if (weft__cas_acquire(&lock->state, &s, LOCKED))
            return WEFT_OK;
    }
    if (weft__spin_begin(WEFT__SPIN_LOCK)) {
        for (round = 0; round < WEFT__SPIN_ROUNDS; round++) {
            weft__backoff(round);
            s = weft__load_relaxed(&lock->state);
            if (s == UNLOCKED && weft__cas_acquire(&lock->state, &s, LOCKED)) {
                weft__spin_end(WEFT__SPIN_LOCK, true);
                return WEFT_OK;
            }
            if (s == CONTENDED)
                break; /* others parked first: says nothing of the spin */
        }
        if (round == WEFT__SPIN_ROUNDS)
            weft__spin_end(WEFT__SPIN_LOCK, false);
    }
    return lock_parking(lock, deadline);
}

void weft__lock_handed(weft_lock *lock)
{
    (void)lock_parking(lock, WEFT__NO_DEADLINE);
}

bool weft__lock_mark_contended(weft_lock *lock)
{
    uint32_t s = LOCKED;

    return weft__cas(&lock->state, &s, CONTENDED) || s == CONTENDED;
}

int weft__lock_until(weft_lock *lock, int64_t deadline)
{
    uint32_t s = UNLOCKED;

    if (weft__cas_acquire(&lock->state, &s, LOCKED))
        return WEFT_OK;
    return lock_slow(lock, deadline);
}

void weft__lock_contended(weft_lock *lock)
{
    (void)lock_slow(lock, WEFT__NO_DEADLINE);
}

void weft__lock_at_fork(weft_lock *lock, weft__fork_step step)
{
    if (step == WEFT__FORK_PREPARE)
        weft__lock(lock);
    else if (step == WEFT__FORK_PARENT)
        weft__unlock(lock);
    else
        weft__lock_reset(lock);
}

void weft__lock_reset(weft_lock *lock)
{
    *lock = (weft_lock)WEFT_LOCK_INIT;
}

/* Everything but the uncontended case, out of the fast path's way: not
 * inlined, so the fast path needs no stack frame and ends in a tail call. */
static WEFT__NOINLINE int acquire_slow(weft_lock *lock, double timeout)
{
    int64_t deadline;
    int rc;

    rc = weft__begin_wait_in("lock_acquire", lock, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    rc = weft__lock_until(lock, deadline);
    if (rc == WEFT_ETIMEDOUT)
        return weft__fail_text(rc, "lock_acquire: timed out: the lock is held");
    return rc;
}

int weft_lock_acquire(weft_lock *lock, double timeout)
{
    /* A free lock and a valid timeout need nothing more than this. */
    if (WEFT__LIKELY(lock && weft__timeout_valid(timeout) && weft__lock_try_public(lock)))
        return WEFT_OK;
    return acquire_slow(lock, timeout);
}

/* The rest of a release whose decrement did not find the lock plainly
 * locked: `was` is 2 (threads may be parked) or 0 (not locked: the
 * caller's error), and the word holds 1 or UINT32_MAX. A contended lock is
 * freed and one sleeper woken, as the bare futex lock does. A free one
 * looked held to the others for this moment: putting 0 back by a swap
 * finds a thread that parked on it meanwhile (it swapped in 2), which is
 * woken, so the lock is as usable as before. With one thread, the word
 * is 0 already. */
static WEFT__NOINLINE int release_rare(weft_lock *lock, uint32_t was)
{
    uint32_t now = weft__swap_release(&lock->state, UNLOCKED);

    if (was == CONTENDED || now == CONTENDED)
        weft_sys_wake_one(&lock->state);
    if (was == UNLOCKED)
        return weft__fail(WEFT_EPERM, "lock_release: the lock is not locked");
    return WEFT_OK;
}

int weft_lock_release(weft_lock *lock)
{
    int sign;

    if (!lock)
        return weft__fail_null(__func__);
    /* A decrement, not a swap of 0: one atomic step all the same, telling
     * a free lock and a contended one from a held one, but a `lock sub`
     * where the swap is an `xchg`, which alone made the uncontended
     * acquire+release 1.06x the bare futex lock's time, 1.00x with it
     * (bench_lock on the AMD EPYC VMs of bench/, pinned and unpinned,
     * quiet and under load, spin round trip 82-90 ns; made a swap, the
     * bare lock's release came to weft's time). With one thread, nobody
     * comes between the load and the store. */
    if (weft_sys_single_threaded()) {
        uint32_t old = weft__load_relaxed(&lock->state);

        weft__store_relaxed(&lock->state, UNLOCKED);
        return old == LOCKED ? WEFT_OK : release_rare(lock, old);
    }
    sign = weft__decrement_sign(&lock->state);
    return sign == 0 ? WEFT_OK : release_rare(lock, sign < 0 ? UNLOCKED : CONTENDED);
}

bool weft_lock_locked(const weft_lock *lock)
{
    return lock && weft__load_relaxed(&lock->state) != UNLOCKED;
}
