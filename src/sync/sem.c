/* SPDX-License-Identifier: MIT */
/*
 * threading.Semaphore and BoundedSemaphore on one word, `value`, with a
 * count of parked threads so release enters the kernel only when someone
 * sleeps. A bounded semaphore remembers its initial value in `bound`.
 */
#include "sync.h"

void weft_sem_init(weft_sem *sem, uint32_t value, bool bounded)
{
    if (!sem)
        return;
    sem->value = value;
    sem->waiters = 0;
    sem->bound = bounded ? value : 0;
    sem->bounded = bounded ? 1 : 0;
}

static bool try_take(weft_sem *sem)
{
    uint32_t v = weft__load_relaxed(&sem->value);

    while (v > 0) {
        if (weft__cas(&sem->value, &v, v - 1))
            return true;
    }
    return false;
}

#define SEM_TIMED_OUT "sem_acquire: timed out: the semaphore's value is 0"

int weft_sem_acquire(weft_sem *sem, double timeout)
{
    int64_t deadline;
    int rc;

    rc = weft__begin_wait(sem, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    if (try_take(sem))
        return WEFT_OK;
    if (deadline == 0)
        return weft__fail_text(WEFT_ETIMEDOUT, SEM_TIMED_OUT);
    weft__fetch_add(&sem->waiters, 1);
    for (;;) {
        if (try_take(sem)) {
            rc = WEFT_OK;
            break;
        }
        if (weft_sys_wait(&sem->value, 0, deadline) == WEFT_ETIMEDOUT) {
            rc = WEFT_ETIMEDOUT;
            break;
        }
    }
    weft__fetch_sub(&sem->waiters, 1);
    return weft__timed_out(rc, SEM_TIMED_OUT);
}

int weft_sem_release(weft_sem *sem, uint32_t n)
{
    uint32_t v, limit;

    if (!sem)
        return weft__fail_null(__func__);
    if (n == 0)
        return weft__fail(WEFT_EINVAL, "sem_release: n is 0: release at least 1");
    limit = weft__load_relaxed(&sem->bounded) ? weft__load_relaxed(&sem->bound) : UINT32_MAX;
    v = weft__load_relaxed(&sem->value);
    do {
        if (v > limit || limit - v < n)
            return weft__fail(WEFT_EOVERFLOW,
                              "sem_release: %lu more would pass the bound %lu (value %lu)",
                              (unsigned long)n, (unsigned long)limit, (unsigned long)v);
    } while (!weft__cas(&sem->value, &v, v + n));
    if (weft__load_sc(&sem->waiters) != 0) {
        if (n == 1)
            weft_sys_wake_one(&sem->value);
        else
            weft_sys_wake_all(&sem->value);
    }
    return WEFT_OK;
}

uint32_t weft_sem_value(const weft_sem *sem)
{
    return sem ? weft__load_relaxed(&sem->value) : 0;
}
