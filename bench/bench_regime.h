/* SPDX-License-Identifier: MIT */
/*
 * bench_regime.h: the machine's regime, measured and printed by every
 * timing bench before its first measurement, because the same code is
 * several times faster or slower from one regime to the next (issue 15):
 *
 *   - the spin-only round trip of a cache line between two CPUs (two
 *     threads pinned to the first two CPUs, each spinning until the line
 *     says its turn, then handing it back): what a hand-off costs when
 *     nobody sleeps;
 *   - the round trip through the platform's wait (futex on Linux, a pthread
 *     mutex + condition elsewhere) with both threads on one CPU and on two:
 *     what it costs when the waiter sleeps;
 *   - whether other processes load the CPUs: the CPUs they kept busy over a
 *     short window while the bench itself sat idle (/proc/stat's busy time
 *     minus the bench's own, /proc/self/stat), and the 1-minute load average;
 *   - the placement: whether the bench pins its threads, and the label the
 *     run was given (--regime or WEFT_BENCH_REGIME: "quiet", "oversubscribed",
 *     "external-load" from ci/bench.sh).
 *
 * Each figure is the median of a few runs (one short run with --smoke).
 * The output is a "regime:" header line for people and one line for
 * bench/report.py, tab-separated key=value fields, "na" where the machine
 * cannot say:
 *
 *   @regime<TAB>label=quiet<TAB>placement=pinned<TAB>cpus=2<TAB>spin_rt_ns=452
 *   <TAB>wait=futex<TAB>wait_rt_1cpu_ns=3100<TAB>wait_rt_2cpu_ns=9050
 *   <TAB>others_busy_cpus=0.04<TAB>loadavg=0.31<TAB>load=quiet<TAB>runs=5
 *
 * "load" is what the measurement found ("quiet" below 0.3 busy CPUs of
 * other processes, else "busy"), whatever the label says.
 *
 * Include after bench_util.h, in a file that defined _GNU_SOURCE on Linux
 * (pthread_setaffinity_np, syscall) or _XOPEN_SOURCE elsewhere.
 */
#ifndef WEFT_BENCH_REGIME_H
#define WEFT_BENCH_REGIME_H

#include <weft/time.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#define BENCH_REGIME_WAIT "futex"
#else
#define BENCH_REGIME_WAIT "pthread-cond"
#endif

/* Other processes that keep fewer CPUs than this busy leave the machine quiet. */
#define BENCH_REGIME_QUIET_CPUS 0.3
#define BENCH_REGIME_MAX_RUNS 5

/* The label of the run's regime (--regime, WEFT_BENCH_REGIME); NULL: from
 * the measurement. Every bench lists BENCH_OPT_REGIME among its options. */
static const char *bench_regime_label;
#define BENCH_OPT_REGIME BENCH_OPT_TEXT("--regime", "WEFT_BENCH_REGIME", &bench_regime_label)
#define BENCH_REGIME_USAGE                                                       \
    "  --regime NAME   the label of this run's regime in the output (ci/bench.sh:\n" \
    "                  quiet, oversubscribed, external-load; default: quiet or\n"    \
    "                  busy, from the load measured first; WEFT_BENCH_REGIME too)\n"

typedef struct regime_pingpong {
    _Atomic uint32_t turn; /* whose turn: 0 or 1 */
    bool spin;             /* spin on turn rather than wait */
    long rounds;
    int cpu[2];            /* where each player runs; -1: anywhere */
    _Atomic int ready;     /* players that are running where they should */
    uint32_t sleep[2];     /* Linux: the futex word each player sleeps on, always 0 */
    _Atomic int seen[2];   /* Linux: the player took the turn passed to it */
    bool pinned;           /* every player that asked for a CPU got it */
    int64_t ns;            /* player 0: the rounds, start to end */
#if !defined(__linux__)
    pthread_mutex_t mutex;
    pthread_cond_t cond;
#endif
} regime_pingpong;

typedef struct regime_player {
    regime_pingpong *pp;
    uint32_t me;
} regime_player;

/* The turn has passed to `me`: spin, or sleep in the platform's wait. */
static inline void regime_await(regime_pingpong *pp, uint32_t me)
{
    if (pp->spin) {
        unsigned n = 0;
        /* Yield now and then, so two spinners that the scheduler put on one
         * CPU (no pinning here) still finish. */
        while (atomic_load_explicit(&pp->turn, memory_order_acquire) != me)
            if (++n % 100000 == 0)
                sched_yield();
        return;
    }
#if defined(__linux__)
    /* Sleep at least once, whatever turn says: the word never changes, so
     * only the passer's wake (or a signal) ends the wait. */
    do
        syscall(SYS_futex, &pp->sleep[me], FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    while (atomic_load_explicit(&pp->turn, memory_order_acquire) != me);
    atomic_store(&pp->seen[me], 1);
#else
    check(pthread_mutex_lock(&pp->mutex), "pthread_mutex_lock");
    while (atomic_load_explicit(&pp->turn, memory_order_acquire) != me)
        check(pthread_cond_wait(&pp->cond, &pp->mutex), "pthread_cond_wait");
    check(pthread_mutex_unlock(&pp->mutex), "pthread_mutex_unlock");
#endif
}

static inline void regime_pass(regime_pingpong *pp, uint32_t to)
{
    if (pp->spin) {
        atomic_store_explicit(&pp->turn, to, memory_order_release);
        return;
    }
#if defined(__linux__)
    /* Wake until a sleeper was woken: the round trip is then two wake-ups
     * of a thread asleep in the kernel. A wait on a word that changes could
     * instead find the turn back before it slept, and on two CPUs the
     * players would never sleep. Yield while the other is not asleep yet,
     * in case it waits for this CPU. */
    atomic_store(&pp->seen[to], 0);
    atomic_store_explicit(&pp->turn, to, memory_order_release);
    /* Stop when the other has the turn, should a signal have woken it. */
    while (syscall(SYS_futex, &pp->sleep[to], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 1 &&
           !atomic_load(&pp->seen[to]))
        sched_yield();
#else
    check(pthread_mutex_lock(&pp->mutex), "pthread_mutex_lock");
    atomic_store_explicit(&pp->turn, to, memory_order_release);
    check(pthread_cond_signal(&pp->cond), "pthread_cond_signal");
    check(pthread_mutex_unlock(&pp->mutex), "pthread_mutex_unlock");
#endif
}

static inline void *regime_play(void *arg)
{
    regime_player *p = arg;
    regime_pingpong *pp = p->pp;
    int64_t t0 = 0;

#if defined(__linux__)
    if (pp->cpu[p->me] >= 0) {
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(pp->cpu[p->me], &set);
        if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
            pp->pinned = false; /* the CPU is not ours (a cpuset): measure unpinned */
    }
#endif
    atomic_fetch_add(&pp->ready, 1);
    while (atomic_load(&pp->ready) < 2)
        sched_yield();
    if (p->me == 0)
        t0 = weft_monotonic_ns();
    /* Player 0 has the turn first: it passes, then waits for it back. */
    for (long i = 0; i < pp->rounds; i++) {
        if (p->me == 0) {
            regime_pass(pp, 1);
            regime_await(pp, 0);
        } else {
            regime_await(pp, 1);
            regime_pass(pp, 0);
        }
    }
    if (p->me == 0)
        pp->ns = weft_monotonic_ns() - t0;
    return NULL;
}

/* The median round trip in ns of `runs` ping-pongs of `rounds` each, the
 * players on cpu0 and cpu1 (-1: anywhere); *pinned says whether they were. */
static inline double regime_round_trip(bool spin, int cpu0, int cpu1, long rounds, int runs,
                                       bool *pinned)
{
    double ns[BENCH_REGIME_MAX_RUNS];

    *pinned = cpu0 >= 0;
    for (int r = 0; r < runs; r++) {
        regime_pingpong pp = {.spin = spin, .rounds = rounds, .cpu = {cpu0, cpu1},
                              .pinned = true};
        regime_player players[2] = {{&pp, 0}, {&pp, 1}};
        pthread_t threads[2];

        atomic_init(&pp.turn, 0);
        atomic_init(&pp.ready, 0);
        atomic_init(&pp.seen[0], 0);
        atomic_init(&pp.seen[1], 0);
#if !defined(__linux__)
        check(pthread_mutex_init(&pp.mutex, NULL), "pthread_mutex_init");
        check(pthread_cond_init(&pp.cond, NULL), "pthread_cond_init");
#endif
        for (int i = 0; i < 2; i++)
            check(pthread_create(&threads[i], NULL, regime_play, &players[i]), "pthread_create");
        for (int i = 0; i < 2; i++)
            check(pthread_join(threads[i], NULL), "pthread_join");
#if !defined(__linux__)
        check(pthread_cond_destroy(&pp.cond), "pthread_cond_destroy");
        check(pthread_mutex_destroy(&pp.mutex), "pthread_mutex_destroy");
#endif
        *pinned = *pinned && pp.pinned;
        ns[r] = (double)pp.ns / (double)rounds;
    }
    return median(ns, runs);
}

/* The CPU ticks of /proc/stat's "cpu" line: busy (all but idle and iowait)
 * and total, with how many CPUs it sums; false where there is no /proc. */
static inline bool regime_cpu_ticks(double *busy, double *total, int *ncpus)
{
    FILE *f = fopen("/proc/stat", "r");
    char line[512];
    bool ok = false;

    *ncpus = 0;
    if (!f)
        return false;
    while (fgets(line, sizeof line, f)) {
        unsigned long long v[8] = {0};
        if (strncmp(line, "cpu ", 4) == 0 &&
            sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]) >= 4) {
            *total = 0;
            for (int i = 0; i < 8; i++)
                *total += (double)v[i];
            *busy = *total - (double)v[3] - (double)v[4];
            ok = true;
        } else if (strncmp(line, "cpu", 3) == 0) {
            (*ncpus)++;
        }
    }
    fclose(f);
    return ok && *ncpus > 0;
}

/* This process's CPU ticks (utime + stime of /proc/self/stat). */
static inline bool regime_self_ticks(double *ticks)
{
    FILE *f = fopen("/proc/self/stat", "r");
    char buf[1024], *p;
    unsigned long long ut, st;
    size_t n;

    if (!f)
        return false;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* After the command name (in parentheses, which may hold spaces): the
     * state, then fields 4 to 13, then utime and stime. */
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                     &st) != 2)
        return false;
    *ticks = (double)(ut + st);
    return true;
}

/* The CPUs other processes kept busy during `ms`, while this one slept;
 * negative where the system does not say. */
static inline double regime_others_busy(int ms)
{
    double b0, t0, b1, t1, s0, s1;
    int n0, n1;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    if (!regime_cpu_ticks(&b0, &t0, &n0) || !regime_self_ticks(&s0))
        return -1;
    nanosleep(&ts, NULL);
    if (!regime_cpu_ticks(&b1, &t1, &n1) || !regime_self_ticks(&s1) || t1 <= t0)
        return -1;
    double busy = (b1 - b0) - (s1 - s0);
    return busy > 0 ? busy / (t1 - t0) * n0 : 0.0;
}

static inline double regime_loadavg(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double v = -1;

    if (f) {
        if (fscanf(f, "%lf", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* The CPUs online, whichever this process may use (so CPU 1 exists under
 * `taskset -c 0`); elsewhere than Linux, where sysconf may not say, the
 * CPUs weft counts. */
static inline int regime_online_cpus(void)
{
#if defined(__linux__)
    return (int)sysconf(_SC_NPROCESSORS_ONLN);
#else
    return weft_cpu_count();
#endif
}

/* Whether the whole process was confined to fewer CPUs than are online
 * (taskset -c 0 ./bench_thread): the placement of the benches that start
 * their threads without pinning each. */
static inline bool bench_regime_confined(void)
{
#if defined(__linux__)
    cpu_set_t set;

    CPU_ZERO(&set);
    return sched_getaffinity(0, sizeof set, &set) == 0 &&
           CPU_COUNT(&set) < regime_online_cpus();
#else
    return false;
#endif
}

/* A figure, or "na" when it is negative (not measured). */
static inline const char *regime_fmt(char *buf, size_t size, const char *fmt, double v)
{
    if (v < 0)
        return "na";
    snprintf(buf, size, fmt, v);
    return buf;
}

/*
 * Measure the regime and print it: the "regime:" header line and the
 * @regime line, labelled with bench_regime_label (NULL: "quiet" or
 * "busy", from the measurement); `pinned` says whether the bench pins its
 * threads (or, for those that do not, bench_regime_confined()). Call it in the header, before any measurement,
 * from a process whose own threads are idle. Takes about a second, a few
 * tens of milliseconds with --smoke (bench_smoke_run).
 */
static inline void bench_regime(bool pinned)
{
    const char *label = bench_regime_label;
    int runs = bench_smoke_run ? 1 : BENCH_REGIME_MAX_RUNS;
    long spin_rounds = bench_smoke_run ? 200 : 20000, wait_rounds = bench_smoke_run ? 100 : 2000;
    int cpus = regime_online_cpus();
    double others, load, spin = -1, wait1, wait2;
    bool pin1, pin2 = false, pin_spin = false;
    const char *loaded;
    char b[5][32];

    /* First, while nothing of this process runs. */
    others = regime_others_busy(bench_smoke_run ? 20 : 250);
    load = regime_loadavg();
    loaded = others < 0 ? "na" : others < BENCH_REGIME_QUIET_CPUS ? "quiet" : "busy";
    if (!label || !*label)
        label = others < BENCH_REGIME_QUIET_CPUS ? "quiet" : "busy";

#if defined(__linux__)
    wait1 = regime_round_trip(false, 0, 0, wait_rounds, runs, &pin1);
#else
    wait1 = -1; /* no way to put both players on one CPU */
    pin1 = false;
#endif
    if (cpus >= 2 || cpus < 1) {
        int c0 = cpus >= 2 ? 0 : -1, c1 = cpus >= 2 ? 1 : -1;
        spin = regime_round_trip(true, c0, c1, spin_rounds, runs, &pin_spin);
        wait2 = regime_round_trip(false, c0, c1, wait_rounds, runs, &pin2);
    } else {
        wait2 = -1;
    }

    printf("regime:   %s, threads %s; %d CPUs; spin round trip CPU 0<->1 %s ns%s; " BENCH_REGIME_WAIT
           " round trip on one CPU %s ns, on two %s ns%s; other processes kept %s CPUs busy "
           "(loadavg %s), so %s; %d run%s each\n",
           label, pinned ? "pinned" : "unpinned", cpus, regime_fmt(b[0], 32, "%.0f", spin),
           pin_spin ? "" : " (unpinned)", regime_fmt(b[1], 32, "%.0f", wait1),
           regime_fmt(b[2], 32, "%.0f", wait2), pin1 && pin2 ? "" : " (not all pinned)",
           regime_fmt(b[3], 32, "%.2f", others), regime_fmt(b[4], 32, "%.2f", load), loaded, runs,
           runs == 1 ? "" : "s");
    printf("@regime\tlabel=%s\tplacement=%s\tcpus=%d\tspin_rt_ns=%s\twait=" BENCH_REGIME_WAIT
           "\twait_rt_1cpu_ns=%s\twait_rt_2cpu_ns=%s\tothers_busy_cpus=%s\tloadavg=%s\tload=%s"
           "\truns=%d\n",
           label, pinned ? "pinned" : "unpinned", cpus, regime_fmt(b[0], 32, "%.0f", spin),
           regime_fmt(b[1], 32, "%.0f", wait1), regime_fmt(b[2], 32, "%.0f", wait2),
           regime_fmt(b[3], 32, "%.2f", others), regime_fmt(b[4], 32, "%.2f", load), loaded,
           runs);
    fflush(stdout);
}

#endif /* WEFT_BENCH_REGIME_H */
