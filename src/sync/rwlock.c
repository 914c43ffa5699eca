/* SPDX-License-Identifier: MIT */
/*
 * A writer-preferring reader-writer lock: state guarded by an internal
 * weft_lock, readers and writers parked on two seq channels.
 *
 * writers_waiting counts writers that want the lock (parked or about to
 * park); while it is non-zero new readers wait, which is what keeps writers
 * from starving. It doubles as the writers' channel waiter count: it can only
 * over-count, which costs at most a needless wake-up.
 */
#include "sync.h"

int weft_rwlock_read_acquire(weft_rwlock *rw, double timeout)
{
    int64_t deadline;
    int rc;

    rc = weft__begin_wait(rw, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    weft__lock(&rw->lock);
    while (rw->writer != 0 || rw->writers_waiting != 0) {
        rc = weft__seq_wait(&rw->readers_seq, &rw->readers_waiting, &rw->lock, deadline);
        if (rc != WEFT_OK)
            goto out;
    }
    if (rw->readers == UINT32_MAX) {
        rc = weft__fail(WEFT_EOVERFLOW, "rwlock_read_acquire: %lu readers hold it already",
                        (unsigned long)UINT32_MAX);
        goto out;
    }
    rw->readers++;
out:
    weft__unlock(&rw->lock);
    return weft__timed_out(rc, "rwlock_read_acquire: timed out: a writer holds or waits for it");
}

int weft_rwlock_read_release(weft_rwlock *rw)
{
    int rc = WEFT_OK;

    if (!rw)
        return weft__fail_null(__func__);
    weft__lock(&rw->lock);
    if (rw->readers == 0)
        rc = weft__fail(WEFT_EPERM, "rwlock_read_release: no reader holds the rwlock");
    else if (--rw->readers == 0 && rw->writers_waiting != 0)
        weft__seq_wake_all(&rw->writers_seq, &rw->writers_waiting);
    weft__unlock(&rw->lock);
    return rc;
}

int weft_rwlock_write_acquire(weft_rwlock *rw, double timeout)
{
    int64_t deadline;
    uint64_t me;
    int rc;

    rc = weft__begin_wait(rw, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    me = weft__self_ident();
    weft__lock(&rw->lock);
    rw->writers_waiting++;
    while (rw->writer != 0 || rw->readers != 0) {
        rc = weft__seq_wait(&rw->writers_seq, &rw->writers_waiting, &rw->lock, deadline);
        if (rc != WEFT_OK)
            break;
    }
    rw->writers_waiting--;
    if (rc == WEFT_OK)
        rw->writer = me;
    else if (rw->writers_waiting == 0 && rw->writer == 0)
        /* Readers held back only by this writer's wish may go in now. */
        weft__seq_wake_all(&rw->readers_seq, &rw->readers_waiting);
    weft__unlock(&rw->lock);
    return weft__timed_out(rc, "rwlock_write_acquire: timed out: readers or a writer hold it");
}

int weft_rwlock_write_release(weft_rwlock *rw)
{
    int rc = WEFT_OK;

    if (!rw)
        return weft__fail_null(__func__);
    weft__lock(&rw->lock);
    if (rw->writer == 0 || rw->writer != weft__self_ident()) {
        rc = weft__fail(WEFT_EPERM, rw->writer == 0
                                        ? "rwlock_write_release: no writer holds the rwlock"
                                        : "rwlock_write_release: another thread holds it for writing");
    } else {
        rw->writer = 0;
        if (rw->writers_waiting != 0)
            weft__seq_wake_all(&rw->writers_seq, &rw->writers_waiting);
        else
            weft__seq_wake_all(&rw->readers_seq, &rw->readers_waiting);
    }
    weft__unlock(&rw->lock);
    return rc;
}
