/* SPDX-License-Identifier: MIT */
/* Clocks, sleep, CPU count and the conversion of public timeouts. */
#include "internal.h"

int weft__deadline_slow(double timeout, int64_t *deadline)
{
    int64_t now;
    double ns;

    if (!(timeout >= 0.0)) /* negative or NaN */
        return WEFT_EINVAL;
    if (timeout == 0.0) {
        *deadline = 0; /* already passed: try once, never sleep */
        return WEFT_OK;
    }
    now = weft_sys_monotonic_ns();
    ns = timeout * 1e9;
    /* A wait longer than the clock can express is a wait without limit. */
    if (ns >= (double)(WEFT__NO_DEADLINE - now)) {
        *deadline = WEFT__NO_DEADLINE;
    } else {
        /* Round up (ceil without libm): never wake before the timeout. */
        int64_t whole = (int64_t)ns;
        *deadline = now + whole + ((double)whole < ns);
    }
    return WEFT_OK;
}

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
