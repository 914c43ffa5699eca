/* SPDX-License-Identifier: MIT */
/*
 * What the benchmarks that run their own pthreads share: a start barrier,
 * CPU pinning and a context-switch count. Include after bench_util.h, in a
 * file that defined _GNU_SOURCE (Linux) before its first system header and
 * set HAVE_AFFINITY (1 where sched_getaffinity and
 * pthread_attr_setaffinity_np exist).
 */
#ifndef WEFT_BENCH_THREADS_H
#define WEFT_BENCH_THREADS_H

#include <weft/time.h>

#include <pthread.h>
#if HAVE_AFFINITY
#include <sched.h>
#endif
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

/* ---- A start barrier ---------------------------------------------------------
 * A mutex and a condition variable rather than pthread_barrier_t, which
 * macOS lacks. Reusable. The last thread to arrive stamps the release time,
 * so a measured window starts when every thread may run, however late the
 * main thread itself is scheduled afterwards. */

typedef struct start_barrier {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int parties;
    int arrived;
    unsigned generation;
    int64_t released_ns;
} start_barrier;

static inline void barrier_init(start_barrier *b, int parties)
{
    check(pthread_mutex_init(&b->mutex, NULL), "pthread_mutex_init");
    check(pthread_cond_init(&b->cond, NULL), "pthread_cond_init");
    b->parties = parties;
    b->arrived = 0;
    b->generation = 0;
    b->released_ns = 0;
}

static inline void barrier_destroy(start_barrier *b)
{
    check(pthread_cond_destroy(&b->cond), "pthread_cond_destroy");
    check(pthread_mutex_destroy(&b->mutex), "pthread_mutex_destroy");
}

/* Returns the time at which the barrier opened. */
static inline int64_t barrier_wait(start_barrier *b)
{
    int64_t released;

    check(pthread_mutex_lock(&b->mutex), "pthread_mutex_lock");
    if (++b->arrived == b->parties) {
        b->arrived = 0;
        b->generation++;
        b->released_ns = weft_monotonic_ns();
        check(pthread_cond_broadcast(&b->cond), "pthread_cond_broadcast");
    } else {
        unsigned generation = b->generation;
        while (generation == b->generation)
            check(pthread_cond_wait(&b->cond, &b->mutex), "pthread_cond_wait");
    }
    released = b->released_ns;
    check(pthread_mutex_unlock(&b->mutex), "pthread_mutex_unlock");
    return released;
}

/* ---- Pinning ------------------------------------------------------------------
 * Unpinned, the scheduler sometimes stacks the hammering threads on one CPU,
 * which time-slices them and makes results bimodal; pinned, thread `slot`
 * runs on the slot-th usable CPU, round robin. */

static bool pin_threads;
#if HAVE_AFFINITY
static int usable_cpus[CPU_SETSIZE];
static int nusable_cpus;
#endif

/* Call once, before bench_start_thread. */
static inline void find_usable_cpus(void)
{
#if HAVE_AFFINITY
    cpu_set_t set;

    CPU_ZERO(&set);
    check(sched_getaffinity(0, sizeof set, &set), "sched_getaffinity");
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set))
            usable_cpus[nusable_cpus++] = cpu;
    if (nusable_cpus == 0)
        die("sched_getaffinity: no usable CPU");
#endif
}

/* Start a pthread, pinned to the slot-th usable CPU when pinning is on. */
static inline void bench_start_thread(pthread_t *t, int slot, void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;

    check(pthread_attr_init(&attr), "pthread_attr_init");
#if HAVE_AFFINITY
    if (pin_threads) {
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(usable_cpus[slot % nusable_cpus], &set);
        check(pthread_attr_setaffinity_np(&attr, sizeof set, &set), "pthread_attr_setaffinity_np");
    }
#else
    (void)slot;
#endif
    check(pthread_create(t, &attr, fn, arg), "pthread_create");
    check(pthread_attr_destroy(&attr), "pthread_attr_destroy");
}

/* Context switches of the process so far (voluntary + involuntary). */
static inline long context_switches(void)
{
    struct rusage ru;

    check(getrusage(RUSAGE_SELF, &ru), "getrusage");
    return ru.ru_nvcsw + ru.ru_nivcsw;
}

#endif /* WEFT_BENCH_THREADS_H */
