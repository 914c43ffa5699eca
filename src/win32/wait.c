/* SPDX-License-Identifier: MIT */
/*
 * weft_sys_wait on WaitOnAddress / WakeByAddress* (Windows 8+; weft needs
 * Windows 10). The counterpart of src/posix/wait_futex.c: the same
 * compare-and-sleep on a 32-bit word. They are imported from the API set
 * api-ms-win-core-synch-l1-2-0 through the `synchronization` import library,
 * which CMake links.
 *
 * WaitOnAddress takes a relative timeout in milliseconds, so a finite
 * deadline costs a clock read on entry, and another when the wait timed out
 * (to tell "the deadline passed" from "Windows woke us a little early").
 */
#include "win32.h"

#define NS_PER_MS INT64_C(1000000)

_Static_assert(sizeof(uint32_t) == 4, "WaitOnAddress compares 4 bytes");

int weft_sys_wait(const uint32_t *addr, uint32_t expected, int64_t deadline_ns)
{
    DWORD ms = INFINITE;

    if (deadline_ns != WEFT__NO_DEADLINE) {
        int64_t now = weft_sys_monotonic_ns();
        int64_t left, left_ms;

        if (deadline_ns <= now)
            return WEFT_ETIMEDOUT;
        left = deadline_ns - now; /* > 0, and no overflow: now >= 0 */
        /* Round up, so the wait never ends before the deadline; written so
         * that it cannot overflow. */
        left_ms = left / NS_PER_MS + (left % NS_PER_MS != 0);
        /* INFINITE (0xFFFFFFFF) must not be reached by accident: a deadline
         * more than 49.7 days away waits 49.7 days, returns WEFT_OK, and the
         * caller's loop calls again. */
        ms = left_ms >= (int64_t)INFINITE ? INFINITE - 1 : (DWORD)left_ms;
    }
    /* The comparison of *addr with `expected` and the sleep are atomic with
     * respect to WakeByAddress*: a wake that follows a change of *addr is
     * never lost. WaitOnAddress takes a non-const address, though it only
     * reads it. */
    if (WaitOnAddress((volatile VOID *)addr, &expected, sizeof expected, ms))
        return WEFT_OK; /* woken, the word differs, or spuriously */
    /* FALSE with ERROR_TIMEOUT is the timeout. The timer runs on interrupt
     * time, not on QueryPerformanceCounter, so it can expire a fraction of a
     * millisecond before the deadline by our clock: report the timeout only
     * when the deadline has really passed; otherwise the caller calls again
     * and sleeps the rest (at least 1 ms). Any other failure is, as the
     * documentation says of low-memory conditions, an early wake-up. */
    if (GetLastError() == ERROR_TIMEOUT && ms != INFINITE &&
        weft_sys_monotonic_ns() >= deadline_ns)
        return WEFT_ETIMEDOUT;
    return WEFT_OK;
}

/* WakeByAddress* use the address only as a key to look up waiters; they
 * never read or write it, so waking an address whose memory is gone is
 * harmless, as sys/wait.h requires. */
void weft_sys_wake_one(const uint32_t *addr)
{
    WakeByAddressSingle((PVOID)addr);
}

void weft_sys_wake_all(const uint32_t *addr)
{
    WakeByAddressAll((PVOID)addr);
}

/* WaitOnAddress has no way to move a sleeper to another address. */
const bool weft_sys_requeue_moves = false;

void weft_sys_requeue_one(const uint32_t *from, uint32_t expected, const uint32_t *to)
{
    (void)expected;
    (void)to;
    WakeByAddressSingle((PVOID)from);
}
