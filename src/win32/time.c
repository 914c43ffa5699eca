/* SPDX-License-Identifier: MIT */
/* Clocks and the CPU count on Windows (the counterpart of src/posix/time.c). */
#include "win32.h"

#define NS_PER_S INT64_C(1000000000)

/*
 * QueryPerformanceCounter is the monotonic clock: it never goes backwards,
 * is consistent across processors, and does not follow wall-clock changes.
 * Its frequency is fixed at boot, so it is read once and cached. Two words:
 * `qpc_frequency`, and `qpc_ns_per_tick`, the exact number of nanoseconds
 * per tick when the frequency divides 10^9 (10 MHz on current Windows, so
 * the usual conversion is one multiplication), else 0. The multiplier is
 * stored before the frequency is published, so a thread that sees the
 * frequency sees the multiplier too; two threads racing to fill the cache
 * store the same values.
 */
static WEFT_ALIGN8 uint64_t qpc_frequency;
static WEFT_ALIGN8 uint64_t qpc_ns_per_tick;

static int64_t frequency(void)
{
    uint64_t f = weft__load64(&qpc_frequency);
    LARGE_INTEGER li;

    if (f != 0)
        return (int64_t)f;
    /* Documented never to fail on Windows XP and later. */
    if (!QueryPerformanceFrequency(&li) || li.QuadPart <= 0)
        WEFT__FATAL((int)GetLastError(), "QueryPerformanceFrequency");
    f = (uint64_t)li.QuadPart;
    weft__store64(&qpc_ns_per_tick, (uint64_t)NS_PER_S % f == 0 ? (uint64_t)NS_PER_S / f : 0);
    weft__store64(&qpc_frequency, f);
    return (int64_t)f;
}

int64_t weft_sys_monotonic_ns(void)
{
    int64_t f = frequency();
    int64_t per_tick = (int64_t)weft__load64(&qpc_ns_per_tick);
    int64_t ticks, whole, rem;
    LARGE_INTEGER now;

    QueryPerformanceCounter(&now); /* cannot fail once the frequency read succeeded */
    ticks = now.QuadPart;
    if (per_tick != 0) /* overflows only after 292 years of uptime at 10 MHz */
        return ticks * per_tick;
    /* ticks * 10^9 would overflow 64 bits after about 15 minutes at 10 MHz:
     * convert whole seconds and the remainder separately. rem < f, and
     * rem * 10^9 fits in 64 bits while f < 9.2 GHz; a faster counter (none
     * exists today) takes the double path, which is still monotonic. */
    whole = ticks / f;
    rem = ticks % f;
    if (f <= INT64_MAX / NS_PER_S)
        return whole * NS_PER_S + rem * NS_PER_S / f;
    return whole * NS_PER_S + (int64_t)((double)rem * 1e9 / (double)f);
}

/* FILETIME counts 100 ns intervals since 1601-01-01 (UTC); the Unix epoch
 * is 11644473600 seconds later. */
#define EPOCH_DELTA_100NS INT64_C(116444736000000000)

DWORD weft__win32_ms_until(int64_t deadline_ns)
{
    int64_t now, left, ms;

    if (deadline_ns == WEFT__NO_DEADLINE)
        return INFINITE;
    now = weft_sys_monotonic_ns();
    left = deadline_ns > now ? deadline_ns - now : 0;
    ms = left / 1000000 + (left % 1000000 != 0);
    return ms >= (int64_t)INFINITE ? INFINITE - 1 : (DWORD)ms;
}

int64_t weft_sys_wall_ns(void)
{
    FILETIME ft;
    uint64_t t;

    /* The precise variant (Windows 8+): the plain one ticks at the timer
     * interrupt rate, 1 to 16 ms. */
    GetSystemTimePreciseAsFileTime(&ft);
    t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    return ((int64_t)t - EPOCH_DELTA_100NS) * 100;
}

static int popcount(DWORD_PTR mask)
{
    int n = 0;

    for (; mask != 0; mask &= mask - 1)
        n++;
    return n;
}

/*
 * The processors this process may run on.
 *
 * GetProcessAffinityMask describes one processor group (at most 64 logical
 * processors). It is the answer when the process is restricted (start
 * /affinity, a job object, SetProcessAffinityMask). On a machine with
 * several groups two cases need the whole-machine count instead:
 * - the masks come back zero: the process already has threads in several
 *   groups (Windows 11 and Server 2022 spread processes over all groups by
 *   default);
 * - the process mask is the whole of its group: nothing restricts the
 *   process, and on Windows 11 its threads may run in any group.
 * Windows 10 keeps a process in its primary group unless its threads set a
 * group affinity themselves, so there the second case over-counts by the
 * number of groups; this is a sizing hint (Python's os.cpu_count() reports
 * the whole machine too) and only machines with more than 64 logical
 * processors are concerned.
 */
int weft_sys_cpu_count(void)
{
    DWORD_PTR process_mask = 0, system_mask = 0;
    DWORD all = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS); /* 0 on failure */
    int n;

    if (GetProcessAffinityMask(GetCurrentProcess(), &process_mask, &system_mask) &&
        process_mask != 0) {
        n = popcount(process_mask);
        if (process_mask == system_mask && GetActiveProcessorGroupCount() > 1 && all > (DWORD)n)
            n = (int)all;
    } else {
        n = all > (DWORD)INT32_MAX ? INT32_MAX : (int)all;
    }
    return n > 0 ? n : 1;
}

int weft_sys_current_cpu(void)
{
    PROCESSOR_NUMBER n;

    GetCurrentProcessorNumberEx(&n);
    return (int)n.Group * 64 + n.Number; /* at most 64 CPUs a group */
}

/* The affinity is the process's on Windows already. */
bool weft_sys_several_cpus(void)
{
    return weft_sys_cpu_count() > 1;
}
