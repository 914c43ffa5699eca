/* SPDX-License-Identifier: MIT */
/* The clocks and the CPU count (weft_sleep is thread.c's). */
#include "internal.h"
#include "sys/time.h"

int64_t weft_monotonic_ns(void)
{
    return weft_sys_monotonic_ns();
}

double weft_monotonic(void)
{
    return (double)weft_sys_monotonic_ns() / 1e9;
}

double weft_time(void)
{
    return (double)weft_sys_wall_ns() / 1e9;
}

int weft_cpu_count(void)
{
    return weft_sys_cpu_count();
}
