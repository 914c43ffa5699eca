/* SPDX-License-Identifier: MIT */
/*
 * weft_sys_wait on Linux futexes. FUTEX_WAIT_BITSET takes an absolute
 * timeout on CLOCK_MONOTONIC, which is exactly weft's deadline, so a wait
 * needs no clock read and cannot drift. Private futexes: weft's words are
 * never shared between processes.
 */
#define _GNU_SOURCE
#include "posix.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int weft_sys_wait(const uint32_t *addr, uint32_t expected, int64_t deadline_ns)
{
    struct timespec ts, *timeout = NULL;

    if (deadline_ns == 0)
        return WEFT_ETIMEDOUT;
    if (deadline_ns != WEFT__NO_DEADLINE) {
        ts = weft__timespec(deadline_ns);
        timeout = &ts;
    }
    /* EAGAIN (the word changed), EINTR and spurious returns all mean "look
     * again"; only an expired deadline is reported. */
    if (syscall(SYS_futex, addr, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, timeout, NULL,
                FUTEX_BITSET_MATCH_ANY) != 0 &&
        errno == ETIMEDOUT)
        return WEFT_ETIMEDOUT;
    return WEFT_OK;
}

void weft_sys_wake_one(const uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
}

void weft_sys_wake_all(const uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT_MAX, NULL, NULL, 0);
}

/* A futex word needs nothing after fork: the kernel keeps no waiter of a
 * thread the child lacks. */
void weft__posix_wait_after_fork(void)
{
}
