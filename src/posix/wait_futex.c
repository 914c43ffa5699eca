/* SPDX-License-Identifier: MIT */
/*
 * weft_sys_wait on Linux futexes. FUTEX_WAIT_BITSET takes an absolute
 * timeout on CLOCK_MONOTONIC, which is exactly weft's deadline, so a wait
 * needs no clock read and cannot drift. Private futexes for weft's own
 * words, which are never shared between processes; shared ones for the
 * words of posix/plock.c, which live in shared memory.
 */
#define _GNU_SOURCE
#include "posix.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int futex_wait(const uint32_t *addr, uint32_t expected, int64_t deadline_ns, int private_flag)
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
    if (syscall(SYS_futex, addr, FUTEX_WAIT_BITSET | private_flag, expected, timeout, NULL,
                FUTEX_BITSET_MATCH_ANY) != 0 &&
        errno == ETIMEDOUT)
        return WEFT_ETIMEDOUT;
    return WEFT_OK;
}

static void futex_wake(const uint32_t *addr, int count, int private_flag)
{
    syscall(SYS_futex, addr, FUTEX_WAKE | private_flag, count, NULL, NULL, 0);
}

int weft_sys_wait(const uint32_t *addr, uint32_t expected, int64_t deadline_ns)
{
    return futex_wait(addr, expected, deadline_ns, FUTEX_PRIVATE_FLAG);
}

void weft_sys_wake_one(const uint32_t *addr)
{
    futex_wake(addr, 1, FUTEX_PRIVATE_FLAG);
}

void weft_sys_wake_all(const uint32_t *addr)
{
    futex_wake(addr, INT_MAX, FUTEX_PRIVATE_FLAG);
}

const bool weft_sys_requeue_moves = true;

void weft_sys_requeue_one(const uint32_t *from, uint32_t expected, const uint32_t *to)
{
    /* Wake none, move at most one (passed in the timeout argument's
     * place); EAGAIN when *from no longer holds expected: the sleeper has
     * gone or is about to see the change. */
    syscall(SYS_futex, from, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 0, (void *)(uintptr_t)1, to,
            expected);
}

int weft__posix_wait_shared(const uint32_t *addr, uint32_t expected, int64_t deadline_ns)
{
    return futex_wait(addr, expected, deadline_ns, 0);
}

void weft__posix_wake_shared(const uint32_t *addr, bool all)
{
    futex_wake(addr, all ? INT_MAX : 1, 0);
}

/* A futex word needs nothing after fork: the kernel keeps no waiter of a
 * thread the child lacks. */
void weft__posix_wait_after_fork(void)
{
}
