/* SPDX-License-Identifier: MIT */
/*
 * weft_sys_wait for POSIX systems without futexes (macOS, the BSDs), and for
 * Linux built with -DWEFT_WAIT=parkinglot so CI keeps this path alive.
 *
 * A parking lot: a fixed table of buckets, each a pthread mutex and a list
 * of waiters, chosen by hashing the address. A waiter lives on its thread's
 * stack with its own condition variable, so parking never allocates and a
 * wake-one wakes exactly that thread. The word is compared under the
 * bucket's mutex and every wake takes that mutex too, so a wake that
 * follows a change of the word cannot be lost.
 *
 * Timeouts use the monotonic clock: condition variables on CLOCK_MONOTONIC
 * where pthread_condattr_setclock exists, and on macOS, which lacks it,
 * pthread_cond_timedwait_relative_np with the time left.
 */
#define _GNU_SOURCE
#include "posix.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#define BUCKET_BITS 8
#define BUCKETS (1u << BUCKET_BITS)

typedef struct parked {
    struct parked *next;
    struct parked *prev;
    const uint32_t *addr;
    pthread_cond_t cond;
    bool woken;
} parked;

typedef struct bucket {
    _Alignas(WEFT__CACHE_LINE) pthread_mutex_t mutex; /* one cache line per bucket */
    parked *head;
    parked *tail;
} bucket;

static bucket buckets[BUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;
#if !defined(__APPLE__)
static pthread_condattr_t monotonic_attr;
#endif

/* Also the after-fork reset: in a forked child only the forking thread
 * exists, and a bucket mutex may be held, and a list may hold waiters, of
 * threads that are gone. */
static void init_mutexes(void)
{
    unsigned i;

    for (i = 0; i < BUCKETS; i++) {
        int err = pthread_mutex_init(&buckets[i].mutex, NULL);

        if (err != 0)
            WEFT__FATAL(err, "pthread_mutex_init");
        buckets[i].head = buckets[i].tail = NULL;
    }
}

void weft__posix_wait_after_fork(void)
{
    init_mutexes();
}

#if !defined(__APPLE__)
static void init_monotonic_attr(void)
{
    int err = pthread_condattr_init(&monotonic_attr);

    if (err == 0)
        err = pthread_condattr_setclock(&monotonic_attr, CLOCK_MONOTONIC);
    if (err != 0)
        WEFT__FATAL(err, "pthread_condattr_setclock(CLOCK_MONOTONIC)");
}
#endif

static void init_buckets(void)
{
    init_mutexes();
    if (weft__posix_fork_handlers() != WEFT_OK)
        WEFT__FATAL(ENOMEM, "pthread_atfork");
#if !defined(__APPLE__)
    init_monotonic_attr();
#endif
}

static bucket *bucket_of(const uint32_t *addr)
{
    /* Fibonacci hashing: multiply by 2^64/phi, keep the top bits. */
    uint64_t h = (uint64_t)(uintptr_t)addr * UINT64_C(0x9E3779B97F4A7C15);

    pthread_once(&buckets_once, init_buckets);
    return &buckets[h >> (64 - BUCKET_BITS)];
}

static void lock_bucket(bucket *b)
{
    int err = pthread_mutex_lock(&b->mutex);

    if (err != 0)
        WEFT__FATAL(err, "pthread_mutex_lock");
}

static void unlock_bucket(bucket *b)
{
    pthread_mutex_unlock(&b->mutex);
}

static void unlink_parked(bucket *b, parked *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        b->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        b->tail = w->prev;
}

/* Sleep on w->cond until the deadline; returns the pthread error. */
static int sleep_until(bucket *b, parked *w, int64_t deadline_ns)
{
    struct timespec ts;

    if (deadline_ns == WEFT__NO_DEADLINE)
        return pthread_cond_wait(&w->cond, &b->mutex);
#if defined(__APPLE__)
    {
        int64_t left = deadline_ns - weft_sys_monotonic_ns();
        if (left <= 0)
            return ETIMEDOUT;
        ts = weft__timespec(left);
        return pthread_cond_timedwait_relative_np(&w->cond, &b->mutex, &ts);
    }
#else
    ts = weft__timespec(deadline_ns);
    return pthread_cond_timedwait(&w->cond, &b->mutex, &ts);
#endif
}

int weft_sys_wait(const uint32_t *addr, uint32_t expected, int64_t deadline_ns)
{
    bucket *b = bucket_of(addr);
    parked w;
    int rc = WEFT_OK;
    int err;

    if (deadline_ns == 0)
        return WEFT_ETIMEDOUT;
    lock_bucket(b);
    if (weft__load(addr) != expected) {
        unlock_bucket(b);
        return WEFT_OK;
    }
#if defined(__APPLE__)
    err = pthread_cond_init(&w.cond, NULL);
#else
    err = pthread_cond_init(&w.cond, &monotonic_attr);
#endif
    if (err != 0)
        WEFT__FATAL(err, "pthread_cond_init");
    w.addr = addr;
    w.woken = false;
    w.next = NULL;
    w.prev = b->tail;
    if (b->tail)
        b->tail->next = &w;
    else
        b->head = &w;
    b->tail = &w;
    while (!w.woken) {
        err = sleep_until(b, &w, deadline_ns);
        if (err == ETIMEDOUT) {
            if (!w.woken) {
                unlink_parked(b, &w);
                rc = WEFT_ETIMEDOUT;
            }
            break;
        }
    }
    unlock_bucket(b);
    pthread_cond_destroy(&w.cond);
    return rc;
}

static void wake(const uint32_t *addr, bool all)
{
    bucket *b = bucket_of(addr);
    parked *w, *next;

    lock_bucket(b);
    for (w = b->head; w; w = next) {
        next = w->next;
        if (w->addr != addr)
            continue;
        unlink_parked(b, w);
        w->woken = true;
        pthread_cond_signal(&w->cond);
        if (!all)
            break;
    }
    unlock_bucket(b);
}

void weft_sys_wake_one(const uint32_t *addr)
{
    wake(addr, false);
}

void weft_sys_wake_all(const uint32_t *addr)
{
    wake(addr, true);
}

/* A parked waiter sits in the bucket of its address; moving it to
 * another's would need both buckets' mutexes for a gain the futex path
 * measured only under load. */
const bool weft_sys_requeue_moves = false;

void weft_sys_requeue_one(const uint32_t *from, uint32_t expected, const uint32_t *to)
{
    (void)expected;
    (void)to;
    wake(from, false);
}

/* ---- Between processes ------------------------------------------------------------ */

/* The buckets are this process's: a waker in another process cannot find
 * a waiter parked here. And a process-shared condition variable is no way
 * out: glibc's is left broken (wake-ups lost, a later signal blocked) by a
 * waiter killed in its wait. So a wait between processes looks at its word,
 * with naps growing from 50 us to 2 ms: a change is seen within 2 ms, at
 * the cost of a few hundred looks a second while it waits (CPython's
 * semaphores do the same on macOS, which lacks sem_timedwait). */
int weft__posix_wait_shared(const uint32_t *addr, uint32_t expected, int64_t deadline_ns)
{
    int64_t nap = 50000;

    for (;;) {
        int64_t left;
        struct timespec ts;

        if (weft__load(addr) != expected)
            return WEFT_OK;
        left = deadline_ns == WEFT__NO_DEADLINE ? nap : deadline_ns - weft_sys_monotonic_ns();
        if (left <= 0)
            return WEFT_ETIMEDOUT;
        ts = weft__timespec(left < nap ? left : nap);
        nanosleep(&ts, NULL);
        if (nap < 2000000)
            nap *= 2;
    }
}

void weft__posix_wake_shared(const uint32_t *addr, bool all)
{
    (void)addr; /* the waiters see the change at their next look */
    (void)all;
}
