/* SPDX-License-Identifier: MIT */
/*
 * threading.RLock: a weft_lock plus the owner's thread ident and a level
 * count. Only the owner touches `count`; `owner` is read by every acquirer
 * (atomically) to tell "mine, one more level" from "someone else's, wait".
 */
#include "sync.h"

static int rlock_acquire_slow(weft_rlock *rlock, double timeout)
{
    int64_t deadline;
    uint64_t me;
    int rc;

    rc = weft__begin_wait_in("rlock_acquire", rlock, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    me = weft__self_ident();
    if (weft__load64(&rlock->owner) == me) {
        if (rlock->count == UINT32_MAX)
            return weft__fail(WEFT_EOVERFLOW, "rlock_acquire: the rlock is held %lu times already",
                              (unsigned long)UINT32_MAX);
        rlock->count++;
        return WEFT_OK;
    }
    rc = weft__lock_until(&rlock->lock, deadline);
    if (rc != WEFT_OK)
        return weft__fail_text(rc, "rlock_acquire: timed out: another thread owns the rlock");
    weft__store64(&rlock->owner, me);
    rlock->count = 1;
    return WEFT_OK;
}

int weft_rlock_acquire(weft_rlock *rlock, double timeout)
{
    uint64_t me = weft__self_ident_cache;

    /* The common cases inline: a thread that has an ident takes a free
     * rlock, or one more level of its own. */
    if (rlock && me != 0 && weft__timeout_valid(timeout)) {
        if (weft__load64(&rlock->owner) == me && rlock->count != UINT32_MAX) {
            rlock->count++;
            return WEFT_OK;
        }
        if (weft__lock_try_public(&rlock->lock)) {
            weft__store64(&rlock->owner, me);
            rlock->count = 1;
            return WEFT_OK;
        }
    }
    return rlock_acquire_slow(rlock, timeout);
}

int weft_rlock_release(weft_rlock *rlock)
{
    if (!rlock)
        return weft__fail_null(__func__);
    if (!weft_rlock_is_owned(rlock))
        return weft__fail(WEFT_EPERM, "rlock_release: the calling thread does not own the rlock");
    if (--rlock->count == 0) {
        weft__store64(&rlock->owner, 0);
        (void)weft_lock_release(&rlock->lock); /* held: WEFT_OK */
    }
    return WEFT_OK;
}

bool weft_rlock_is_owned(const weft_rlock *rlock)
{
    uint64_t me;

    if (!rlock)
        return false;
    me = weft__self_ident();
    return weft__load64(&rlock->owner) == me;
}
