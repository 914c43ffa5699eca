/* SPDX-License-Identifier: MIT */
/*
 * Whether spinning before parking can pay (sync.h has the spinning itself):
 * at all (several CPUs), and for the calling thread lately.
 *
 * Go's sync.Mutex spins only while other processors run, glibc's adaptive
 * mutex learns from the spins that took the lock how long to spin; this
 * learns from what the spins found, the one thing every system shows: a
 * spin that found its change adds SCORE_FOUND to the thread's score for
 * that kind of spin, one that did not takes SCORE_MISSED, so spinning goes
 * on while at least about 3 spins in 4 pay, roughly where the pauses of the
 * wasted ones (on the 2-CPU VMs of bench/, a `pause` took 46 ns and the
 * whole schedule 12 us) cost less than the system calls and context
 * switches the paying ones save (a futex round trip: 12 us on one CPU, 30
 * to 160 us across two). A thread out of score parks at once, but every
 * `gap`-th wait spins anyway (a probe): gap starts at PROBE_GAP_MIN and
 * doubles after each probe that found nothing, up to PROBE_GAP_MAX, so a
 * thread whose waits never pay spins in about one wait in 256, and one
 * whose partner is back on a CPU of its own finds out within a few waits.
 *
 * The length of a spin is not learned: spinning 2 rounds past the one that
 * lately found the change (glibc's way) made the pinned ping-pongs of
 * bench_lock 5 to 20 times slower under load, since every miss there
 * costs a wake-up across CPUs.
 */
#include "sync.h"

#include "../sys/thread.h"

enum {
    SCORE_MAX = 32,
    SCORE_FOUND = 1,
    SCORE_MISSED = 3,
    SCORE_PROBE_FOUND = 8, /* a probe that paid: spin again for a while */
    PROBE_GAP_MIN = 8,
    PROBE_GAP_MAX = 256,
    /* Rounds added to a wait right after waking a parked partner: its
     * wake-up took 10-20 us in half the cases beside two busy processes
     * (bench_queue's executor.roundtrip, cache-line round trip 79-763
     * ns), the schedule of WEFT__SPIN_ROUNDS about 6 us there, 2 more
     * about 25. */
    WOKEN_ROUNDS = 2,
    /* A yield that took longer than this gave the CPU to another thread or
     * process (a yield that finds nobody ready returns in about 1 us on
     * the VMs of bench/; another task's turn lasts milliseconds). */
    YIELD_RAN_NS = 20000,
    /* Contended acquires between two yields of a thread whose last yield
     * found its CPU free: 64, doubled after each such yield up to 1024, so
     * a quiet thread makes one system call in about 1024 slow paths (in
     * 64 it cost quiet lock.contended.2 about 2%) and one that finds load
     * again yields within about a millisecond of lock traffic. */
    YIELD_GAP_MIN = 64,
    YIELD_GAP_MAX = 1024,
    /* A thread whose CPU is wanted yields only at a contended acquire that
     * follows its last one (or its last yield) by less than this: a thread
     * that spends its time fighting for the lock gains from running alone
     * with it; one that meets a held lock now and then would wait a time
     * slice for a lock its spin takes within a microsecond (lock.c). */
    YIELD_DENSE_NS = 10000
};

uint32_t weft__spinning;

typedef struct spin_learned {
    uint16_t lost;  /* of SCORE_MAX: the score is SCORE_MAX - lost */
    uint16_t waits; /* waits without a spin since the score ran out */
    uint16_t gap;   /* waits between two probes; 0 stands for PROBE_GAP_MIN */
    uint16_t woke;  /* 1 after weft__spin_partner_woken, until the next spin */
    uint16_t beside; /* 1 after weft__spin_partner_cpu found the partner on this CPU */
} spin_learned;

/* Per thread, with no constructor: zero is the state of a thread that has
 * not spun yet (a full score, the shortest gap), hence `lost`. */
static WEFT__THREAD_LOCAL WEFT__TLS_INITIAL_EXEC spin_learned learned[WEFT__SPIN_KINDS];

/* Per thread, as `learned`: whether the last yield ran another task
 * (`wanted`), the contended acquires since it or since the last wait for a
 * notification, and when the last contended acquire of a thread whose CPU
 * is wanted (or its last yield) was (`last`, monotonic ns). */
static WEFT__THREAD_LOCAL WEFT__TLS_INITIAL_EXEC struct {
    uint16_t wanted;
    uint16_t acquires;
    uint16_t gap; /* 0 stands for YIELD_GAP_MIN */
    int64_t last;
} yielding;

bool weft__spinning_pays_slow(void)
{
    uint32_t known = weft_sys_several_cpus() ? 2 : 1;

    weft__store_relaxed(&weft__spinning, known);
    return known == 2;
}

bool weft__spin_begin(weft__spin_kind kind)
{
    spin_learned *l = &learned[kind];
    unsigned gap;

    /* A read or a lock between processes waits for another process,
     * which may run on another CPU whatever this process's affinity says
     * (pinned to one, it still gains): there the score alone judges. */
    if (kind != WEFT__SPIN_READ && kind != WEFT__SPIN_PLOCK && kind != WEFT__SPIN_PQUEUE &&
        !weft__spinning_pays())
        return false;
    if (l->lost < SCORE_MAX)
        return true;
    gap = l->gap ? l->gap : PROBE_GAP_MIN;
    if (++l->waits < gap)
        return false;
    l->waits = 0;
    return true;
}

bool weft__spin_yield_cpu(void)
{
    int64_t start;
    unsigned gap;

    if (!weft__spinning_pays())
        return false;
    gap = yielding.gap ? yielding.gap : YIELD_GAP_MIN;
    if (yielding.wanted) {
        /* The clock is read only here: a quiet thread pays nothing. */
        start = weft_sys_monotonic_ns();
        if (start - yielding.last >= YIELD_DENSE_NS) {
            yielding.last = start;
            return false;
        }
    } else {
        if (++yielding.acquires < gap)
            return false;
        start = weft_sys_monotonic_ns();
    }
    yielding.acquires = 0;
    weft_sys_thread_yield();
    yielding.last = weft_sys_monotonic_ns();
    yielding.wanted = yielding.last - start > YIELD_RAN_NS;
    if (yielding.wanted)
        yielding.gap = 0;
    else if (gap < YIELD_GAP_MAX)
        yielding.gap = (uint16_t)(gap * 2);
    return yielding.wanted;
}

void weft__spin_partner_spins(weft__spin_kind kind)
{
    spin_learned *l = &learned[kind];

    l->beside = 0; /* it runs, so not on this thread's CPU */
    if (l->lost > SCORE_MAX - SCORE_PROBE_FOUND)
        l->lost = SCORE_MAX - SCORE_PROBE_FOUND;
}

void weft__spin_partner_woken(void)
{
    spin_learned *l = &learned[WEFT__SPIN_WAKE];

    l->woke = 1;
    if (l->lost >= SCORE_MAX)
        l->waits = (uint16_t)((l->gap ? l->gap : PROBE_GAP_MIN) - 1);
}

void weft__spin_partner_cpu(int cpu)
{
    learned[WEFT__SPIN_WAKE].beside = cpu >= 0 && cpu == weft_sys_current_cpu();
}

unsigned weft__spin_begin_wake(void)
{
    spin_learned *l = &learned[WEFT__SPIN_WAKE];
    unsigned extra = l->woke ? WOKEN_ROUNDS : 0;

    l->woke = 0;
    /* A thread that waits for notifications has a partner that needs it
     * back soon: its lock waits do not yield (weft__spin_yield_cpu). */
    yielding.wanted = 0;
    yielding.acquires = 0;
    if (l->beside) { /* neither a spin nor a probe: the partner cannot run meanwhile */
        l->beside = 0;
        return 0;
    }
    return weft__spin_begin(WEFT__SPIN_WAKE) ? WEFT__SPIN_ROUNDS + extra : 0;
}

void weft__spin_end(weft__spin_kind kind, bool found)
{
    spin_learned *l = &learned[kind];
    unsigned lost = l->lost;
    bool probe = lost >= SCORE_MAX;

    if (found) {
        if (probe) {
            lost = SCORE_MAX - SCORE_PROBE_FOUND;
            l->gap = 0;
        } else {
            lost = lost > SCORE_FOUND ? lost - SCORE_FOUND : 0;
        }
    } else if (probe) {
        unsigned gap = l->gap ? l->gap : PROBE_GAP_MIN;

        l->gap = (uint16_t)(gap < PROBE_GAP_MAX ? gap * 2 : PROBE_GAP_MAX);
    } else {
        lost = lost + SCORE_MISSED < SCORE_MAX ? lost + SCORE_MISSED : SCORE_MAX;
        l->waits = 0;
    }
    l->lost = (uint16_t)lost;
}
