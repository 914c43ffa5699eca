/* SPDX-License-Identifier: MIT */
/*
 * threading.Barrier, following the algorithm of CPython's Lib/threading.py:
 * a round fills until `parties` threads are inside, then drains (everyone
 * leaves with their index) before the next round may fill. Resetting and
 * broken are the other two phases. State lives under `lock`; threads park on
 * the seq channel (`seq`, `waiters`). `state` and `count` are also read
 * without the lock by the snapshot getters, hence atomic accesses.
 *
 * `state`: bits 0-1 the phase, bits 2-31 the round, bumped when a round is
 * released. A waiter remembers its round: once the round has moved on it
 * was released and leaves with its index, whatever abort or reset did since
 * (generation-safe, as Java's CyclicBarrier; CPython's barrier hands such a
 * thread BrokenBarrierError). Rounds cannot overlap, since a round drains
 * before the next one fills, so a different round number can only mean
 * "released".
 *
 *     31                              2 1    0
 *     +--------------------------------+------+
 *     |             round              | phase|
 *     +--------------------------------+------+
 *
 * Zero-filled: round 0, filling.
 */
#include "sync.h"

enum { FILLING = 0, DRAINING = 1, RESETTING = 2, BROKEN = 3, PHASE_MASK = 3, ROUND_ONE = 4 };

static uint32_t state(const weft_barrier *b) { return weft__load_relaxed(&b->state); }
static uint32_t phase(const weft_barrier *b) { return state(b) & PHASE_MASK; }
static uint32_t round_of(uint32_t s) { return s & ~(uint32_t)PHASE_MASK; }

static void set_state(weft_barrier *b, uint32_t s)
{
    weft__store_relaxed(&b->state, s);
    weft__seq_wake_all(&b->seq, &b->waiters);
}

static void set_phase(weft_barrier *b, uint32_t p)
{
    set_state(b, round_of(state(b)) | p);
}

void weft_barrier_init(weft_barrier *barrier, uint32_t parties)
{
    if (!barrier)
        return;
    weft__lock_reset(&barrier->lock);
    barrier->parties = parties;
    barrier->count = 0;
    barrier->state = FILLING;
    barrier->seq = 0;
    barrier->waiters = 0;
}

#define BROKEN_TEXT \
    "barrier_wait: the barrier is broken (a wait timed out, or it was aborted or reset)"

int weft_barrier_wait(weft_barrier *b, double timeout)
{
    int64_t deadline;
    uint32_t index, count, round;
    int rc;

    if (!b)
        return weft__fail_null(__func__);
    if (b->parties == 0)
        return weft__fail(WEFT_EINVAL, "barrier_wait: the barrier has 0 parties (zero-filled, "
                                       "not set up by WEFT_BARRIER_INIT or barrier_init)");
    rc = weft__deadline(timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    weft__lock(&b->lock);
    /* The previous round must drain, or a reset finish, before we join. */
    while (phase(b) == DRAINING || phase(b) == RESETTING)
        weft__seq_wait(&b->seq, &b->waiters, &b->lock, WEFT__NO_DEADLINE);
    if (phase(b) == BROKEN) {
        weft__unlock(&b->lock);
        return weft__fail_text(WEFT_EBROKEN, BROKEN_TEXT);
    }
    round = round_of(state(b));
    index = weft__load_relaxed(&b->count);
    weft__store_relaxed(&b->count, index + 1);
    if (index + 1 == b->parties) {
        set_state(b, (round + ROUND_ONE) | DRAINING);
    } else {
        while (state(b) == (round | FILLING)) {
            if (weft__seq_wait(&b->seq, &b->waiters, &b->lock, deadline) == WEFT_ETIMEDOUT) {
                /* Unless the round was released or broken meanwhile. */
                if (state(b) == (round | FILLING))
                    set_phase(b, BROKEN);
                break;
            }
        }
    }
    rc = round_of(state(b)) != round ? (int)index : WEFT_EBROKEN;
    /* Leave; the last one out opens the barrier for the next round. */
    count = weft__load_relaxed(&b->count) - 1;
    weft__store_relaxed(&b->count, count);
    if (count == 0 && (phase(b) == DRAINING || phase(b) == RESETTING))
        set_phase(b, FILLING);
    weft__unlock(&b->lock);
    return rc == WEFT_EBROKEN ? weft__fail_text(rc, BROKEN_TEXT) : rc;
}

void weft_barrier_abort(weft_barrier *b)
{
    if (!b)
        return;
    weft__lock(&b->lock);
    set_phase(b, BROKEN);
    weft__unlock(&b->lock);
}

void weft_barrier_reset(weft_barrier *b)
{
    if (!b)
        return;
    weft__lock(&b->lock);
    if (weft__load_relaxed(&b->count) > 0) {
        /* Waiters of the filling round leave with EBROKEN, released ones
         * with their index; the last one out sets FILLING. A draining round
         * is left to finish as it is. */
        if (phase(b) == FILLING || phase(b) == BROKEN)
            set_phase(b, RESETTING);
    } else {
        set_phase(b, FILLING);
    }
    weft__unlock(&b->lock);
}

bool weft_barrier_broken(const weft_barrier *b)
{
    return b && phase(b) == BROKEN;
}

uint32_t weft_barrier_n_waiting(const weft_barrier *b)
{
    return b && phase(b) == FILLING ? weft__load_relaxed(&b->count) : 0;
}
