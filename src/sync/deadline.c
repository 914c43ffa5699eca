/* SPDX-License-Identifier: MIT */
/* The conversion of public timeouts (seconds) into deadlines. */
#include "sync.h"

int weft__deadline_slow(const char *call, double timeout, int64_t *deadline)
{
    int64_t now;
    double ns;

    if (!(timeout >= 0.0)) /* negative or NaN */
        return weft__fail(WEFT_EINVAL,
                          "%s: timeout %g is neither WEFT_FOREVER nor 0 or more seconds",
                          weft__call_name(call), timeout);
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
