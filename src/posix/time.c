/* SPDX-License-Identifier: MIT */
/* Clocks and the CPU count on POSIX. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "posix.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif

static int64_t clock_ns(clockid_t clock)
{
    struct timespec ts;

    if (clock_gettime(clock, &ts) != 0)
        WEFT__FATAL(errno, "clock_gettime");
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t weft_sys_monotonic_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

int64_t weft_sys_wall_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}

bool weft_sys_several_cpus(void)
{
#if defined(__linux__)
    cpu_set_t set;

    /* The main thread's mask (its id is the pid): the process's as set
     * from outside, whatever the caller's own. */
    if (sched_getaffinity(getpid(), sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set) > 1;
#endif
    return sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

int weft_sys_cpu_count(void)
{
    long n;
#if defined(__linux__)
    cpu_set_t set;

    /* The affinity mask, not the machine: containers and taskset limit it. */
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
#endif
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
