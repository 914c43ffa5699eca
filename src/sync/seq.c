/* SPDX-License-Identifier: MIT */
/* The seq channel: see internal.h. */
#include "sync.h"

int weft__seq_wait(uint32_t *seq, uint32_t *waiters, weft_lock *lock, int64_t deadline)
{
    /* seq only changes under the lock, so this is the value to sleep on. */
    uint32_t seen = weft__load_relaxed(seq);
    int rc;

    if (deadline == 0)
        return WEFT_ETIMEDOUT;
    weft__fetch_add(waiters, 1);
    weft__unlock(lock);
    rc = weft_sys_wait(seq, seen, deadline);
    weft__lock(lock);
    weft__fetch_sub(waiters, 1);
    return rc;
}

void weft__seq_wake_all(uint32_t *seq, const uint32_t *waiters)
{
    weft__fetch_add(seq, 1);
    if (weft__load_relaxed(waiters) != 0)
        weft_sys_wake_all(seq);
}
