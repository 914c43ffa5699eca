/* SPDX-License-Identifier: MIT */
/* Clocks and the CPU count on POSIX (the affinity mask: the OS files). */
#define _GNU_SOURCE /* clock_gettime under -std=c11 */
#include "posix.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

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
    int n = weft__os_affinity_cpus(true);

    return n > 0 ? n > 1 : sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

int weft_sys_cpu_count(void)
{
    /* The affinity mask, not the machine: containers and taskset limit it. */
    int n = weft__os_affinity_cpus(false);
    long online;

    if (n > 0)
        return n;
    online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}
