/*
 * bench_lock: weft_lock and weft_rlock against pthread_mutex_t (and, on
 * Linux, a bare three-state futex lock), uncontended and contended.
 *
 * What is measured
 *   - Uncontended: one thread, acquire + increment + release in a loop,
 *     in nanoseconds per operation.
 *   - Contended: T threads hammer one lock (acquire, increment a shared
 *     counter, release) for a fixed time; the total operations per second,
 *     and fairness = fewest / most operations done by one thread.
 *
 * How
 *   Each repetition runs every competitor once, the starting competitor
 *   rotating from one repetition to the next, so that drift (frequency
 *   scaling, a noisy neighbour) falls on all of them alike. Reported are
 *   the median, minimum and maximum over the repetitions, and the ratio of
 *   the medians to the pthread mutex of the same family; the "paired" range
 *   is the spread of the per-repetition ratios.
 *
 *   The hammering threads are plain pthreads, so weft's thread API is not
 *   what is measured. On Linux thread i is pinned to the i-th CPU the
 *   process may use (round robin; --no-pin turns this off), so that two
 *   threads on two CPUs really contend across cores: left to the
 *   scheduler, they sometimes share one CPU and take turns by time slice,
 *   which is several times faster and makes the results bimodal. They
 *   start together from a barrier; the window runs from the moment the
 *   last thread reaches the barrier (stamped by that thread) to the moment
 *   the main thread raises the stop flag. Every lock
 *   call is an out-of-line call into another translation unit (libweft,
 *   libc, futex_lock_ref.c), which also keeps the compiler from removing
 *   the loops; the counter it increments is checked afterwards, so a lock
 *   that lost an update would be caught.
 *
 * Usage: bench_lock [--smoke] [--reps N] [--ms N] [--ops N] [--threads A,B,..]
 *                   [--no-pin] [--verbose] [--only A,B,..]
 * Environment: WEFT_BENCH_REPS, WEFT_BENCH_MS, WEFT_BENCH_OPS,
 *              WEFT_BENCH_THREADS (the command line wins).
 */
/* The build is strict C11, so ask for POSIX: PTHREAD_MUTEX_RECURSIVE,
 * nanosleep, getrusage; on Linux also sched_getaffinity and
 * pthread_attr_setaffinity_np, which only _GNU_SOURCE declares. */
#if defined(__linux__)
#define _GNU_SOURCE
#define HAVE_AFFINITY 1
#else
#define _XOPEN_SOURCE 700
#define HAVE_AFFINITY 0
#endif

#include <weft/lock.h>
#include <weft/time.h>

#define BENCH_NAME "bench_lock"
#include "bench_util.h"
#include "bench_threads.h"

#if defined(WEFT_BENCH_FUTEX_REF)
#include "futex_lock_ref.h"
#endif

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_THREAD_COUNTS 8
#define MAX_REPS BENCH_MAX_REPS
#define CACHE_LINE 64

/* ---- Small helpers -------------------------------------------------------- */

/* Sleep on the monotonic clock until weft_monotonic_ns() reaches `until`. */
static void sleep_until(int64_t until)
{
    for (;;) {
        int64_t left = until - weft_monotonic_ns();
        struct timespec ts;

        if (left <= 0)
            return;
        ts.tv_sec = (time_t)(left / 1000000000);
        ts.tv_nsec = (long)(left % 1000000000);
        if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
            die("nanosleep failed: errno %d", errno);
    }
}

/* ---- The shared state ----------------------------------------------------------
 * The lock under test, the counter it protects, and the stop flag each sit
 * on their own cache line, so that only the lock's own traffic differs
 * between competitors. */

static struct {
    alignas(CACHE_LINE) union {
        weft_lock wl;
        weft_rlock wr;
        pthread_mutex_t pm;
#if defined(WEFT_BENCH_FUTEX_REF)
        futex_lock_ref fr;
#endif
    } lock;
    alignas(CACHE_LINE) uint64_t counter; /* protected by the lock */
    alignas(CACHE_LINE) atomic_int stop;
    alignas(CACHE_LINE) start_barrier barrier;
} g;

typedef struct worker {
    alignas(CACHE_LINE) uint64_t ops;
    pthread_t thread;
} worker;

static worker workers[MAX_THREADS];

/* ---- The competitors -----------------------------------------------------------
 * Each gets its own loops, generated from the same text, so every call is a
 * direct call and the loops differ only in the two lock calls. */

#define WEFT_LOCK_ACQ                                                          \
    if (weft_lock_acquire(&g.lock.wl, WEFT_FOREVER) != WEFT_OK)                \
        die("weft_lock_acquire failed")
#define WEFT_LOCK_REL                                                          \
    if (weft_lock_release(&g.lock.wl) != WEFT_OK)                              \
        die("weft_lock_release failed")
#define WEFT_RLOCK_ACQ                                                         \
    if (weft_rlock_acquire(&g.lock.wr, WEFT_FOREVER) != WEFT_OK)               \
        die("weft_rlock_acquire failed")
#define WEFT_RLOCK_REL                                                         \
    if (weft_rlock_release(&g.lock.wr) != WEFT_OK)                             \
        die("weft_rlock_release failed")
#define PTHREAD_ACQ                                                            \
    if (pthread_mutex_lock(&g.lock.pm) != 0)                                   \
        die("pthread_mutex_lock failed")
#define PTHREAD_REL                                                            \
    if (pthread_mutex_unlock(&g.lock.pm) != 0)                                 \
        die("pthread_mutex_unlock failed")
#define FUTEX_REF_ACQ futex_lock_ref_acquire(&g.lock.fr)
#define FUTEX_REF_REL futex_lock_ref_release(&g.lock.fr)

#define DEFINE_LOOPS(tag, ACQ, REL)                                            \
    static void uncontended_##tag(uint64_t ops)                                \
    {                                                                          \
        for (uint64_t i = 0; i < ops; i++) {                                   \
            ACQ;                                                               \
            g.counter++;                                                       \
            REL;                                                               \
        }                                                                      \
    }                                                                          \
    static void *hammer_##tag(void *arg)                                       \
    {                                                                          \
        worker *w = arg;                                                       \
        uint64_t ops = 0;                                                      \
        /* Outside the window: first-use costs (a weft thread record for  */   \
        /* the rlock owner, page faults) are paid here by everyone.      */   \
        ACQ;                                                                   \
        REL;                                                                   \
        barrier_wait(&g.barrier);                                              \
        while (!atomic_load_explicit(&g.stop, memory_order_relaxed)) {         \
            ACQ;                                                               \
            g.counter++;                                                       \
            REL;                                                               \
            ops++;                                                             \
        }                                                                      \
        w->ops = ops;                                                          \
        return NULL;                                                           \
    }

DEFINE_LOOPS(weft_lock, WEFT_LOCK_ACQ, WEFT_LOCK_REL)
DEFINE_LOOPS(weft_rlock, WEFT_RLOCK_ACQ, WEFT_RLOCK_REL)
DEFINE_LOOPS(pthread, PTHREAD_ACQ, PTHREAD_REL)
#if defined(WEFT_BENCH_FUTEX_REF)
DEFINE_LOOPS(futex_ref, FUTEX_REF_ACQ, FUTEX_REF_REL)
#endif

static void setup_weft_lock(void)
{
    weft_lock init = WEFT_LOCK_INIT;
    g.lock.wl = init;
}

static void setup_weft_rlock(void)
{
    weft_rlock init = WEFT_RLOCK_INIT;
    g.lock.wr = init;
}

static void setup_pthread_default(void)
{
    check(pthread_mutex_init(&g.lock.pm, NULL), "pthread_mutex_init");
}

static void setup_pthread_recursive(void)
{
    pthread_mutexattr_t attr;

    check(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    check(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE),
          "pthread_mutexattr_settype");
    check(pthread_mutex_init(&g.lock.pm, &attr), "pthread_mutex_init");
    check(pthread_mutexattr_destroy(&attr), "pthread_mutexattr_destroy");
}

static void teardown_pthread(void)
{
    check(pthread_mutex_destroy(&g.lock.pm), "pthread_mutex_destroy");
}

#if defined(WEFT_BENCH_FUTEX_REF)
static void setup_futex_ref(void)
{
    futex_lock_ref init = FUTEX_LOCK_REF_INIT;
    g.lock.fr = init;
}
#endif

static void teardown_nothing(void) {}

typedef struct competitor {
    const char *family;   /* "lock" or "rlock" */
    const char *name;
    bool baseline;        /* the pthread mutex the family is compared with */
    void (*setup)(void);
    void (*teardown)(void);
    void (*uncontended)(uint64_t ops);
    void *(*hammer)(void *arg);
} competitor;

static const competitor competitors[] = {
    {"lock", "weft_lock", false, setup_weft_lock, teardown_nothing,
     uncontended_weft_lock, hammer_weft_lock},
    {"lock", "pthread_mutex (default)", true, setup_pthread_default,
     teardown_pthread, uncontended_pthread, hammer_pthread},
#if defined(WEFT_BENCH_FUTEX_REF)
    {"lock", "futex_ref (Drepper mutex 2)", false, setup_futex_ref,
     teardown_nothing, uncontended_futex_ref, hammer_futex_ref},
#endif
    {"rlock", "weft_rlock", false, setup_weft_rlock, teardown_nothing,
     uncontended_weft_rlock, hammer_weft_rlock},
    {"rlock", "pthread_mutex (recursive)", true, setup_pthread_recursive,
     teardown_pthread, uncontended_pthread, hammer_pthread},
};

#define NCOMP ((int)(sizeof competitors / sizeof competitors[0]))

static bool active[NCOMP];

/* Whether `name` contains one of the comma-separated parts of `only`. */
static bool selected(const char *name, const char *only)
{
    const char *p = only;

    if (!only)
        return true;
    while (*p) {
        size_t n = strcspn(p, ",");
        for (const char *q = name; n && *q; q++)
            if (strncmp(q, p, n) == 0)
                return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* The pthread mutex of the competitor's family; -1 when it does not run. */
static int baseline_of(int c)
{
    for (int i = 0; i < NCOMP; i++)
        if (active[i] && competitors[i].baseline &&
            strcmp(competitors[i].family, competitors[c].family) == 0)
            return i;
    return -1;
}

/* ---- One measurement -------------------------------------------------------- */

/* Nanoseconds per acquire+release, one thread. */
static double run_uncontended(const competitor *c, uint64_t ops)
{
    int64_t t0, t1;

    c->setup();
    g.counter = 0;
    c->uncontended(ops / 16 + 1); /* warm the caches and branch predictors */
    g.counter = 0;
    t0 = weft_monotonic_ns();
    c->uncontended(ops);
    t1 = weft_monotonic_ns();
    if (g.counter != ops)
        die("%s: counter %llu after %llu uncontended operations", c->name,
            (unsigned long long)g.counter, (unsigned long long)ops);
    c->teardown();
    return (double)(t1 - t0) / (double)ops;
}

typedef struct contended_result {
    double mops;     /* million operations per second, all threads */
    double fairness; /* fewest / most operations of one thread */
    double csw;      /* context switches (voluntary + involuntary) per 1000 ops */
} contended_result;

static contended_result run_contended(const competitor *c, int nthreads, int duration_ms)
{
    contended_result r;
    uint64_t total = 0, lo = UINT64_MAX, hi = 0;
    int64_t t0, t1;
    long csw0, csw1;

    c->setup();
    g.counter = 0;
    atomic_store(&g.stop, 0);
    csw0 = context_switches();
    barrier_init(&g.barrier, nthreads + 1);
    for (int i = 0; i < nthreads; i++) {
        workers[i].ops = 0;
        bench_start_thread(&workers[i].thread, i, c->hammer, &workers[i]);
    }
    t0 = barrier_wait(&g.barrier);
    sleep_until(t0 + (int64_t)duration_ms * 1000000);
    atomic_store(&g.stop, 1);
    t1 = weft_monotonic_ns();
    for (int i = 0; i < nthreads; i++) {
        check(pthread_join(workers[i].thread, NULL), "pthread_join");
        total += workers[i].ops;
        if (workers[i].ops < lo)
            lo = workers[i].ops;
        if (workers[i].ops > hi)
            hi = workers[i].ops;
    }
    csw1 = context_switches();
    barrier_destroy(&g.barrier);
    if (g.counter != total)
        die("%s: counter %llu, but the threads did %llu operations: the lock "
            "let two threads in", c->name, (unsigned long long)g.counter,
            (unsigned long long)total);
    c->teardown();
    r.mops = (double)total / (double)(t1 - t0) * 1e3;
    r.fairness = hi ? (double)lo / (double)hi : 0.0;
    r.csw = total ? (double)(csw1 - csw0) * 1000.0 / (double)total : 0.0;
    return r;
}

/* ---- Settings -------------------------------------------------------------- */

typedef struct settings {
    int reps;
    int duration_ms;
    long long ops;
    int threads[MAX_THREAD_COUNTS];
    int nthread_counts;
    bool pin;
    bool verbose;
    const char *only; /* NULL, or comma-separated parts of competitor names */
} settings;

static void parse_threads(void *ctx, const char *text, const char *what)
{
    settings *s = ctx;

    s->nthread_counts = parse_int_list(text, what, 2, MAX_THREADS, s->threads, MAX_THREAD_COUNTS, "thread count");
}

static const char usage[] =
    "usage: bench_lock [--smoke] [--reps N] [--ms N] [--ops N] [--threads A,B,...]\n"
    "                  [--no-pin] [--verbose] [--only A,B,...]\n"
    "  --reps N        repetitions, every competitor once each (default 11)\n"
    "  --ms N          duration of each contended run in ms (default 200)\n"
    "  --ops N         operations per uncontended run (default 4000000)\n"
    "  --threads A,B   thread counts of the contended runs (default 2,8)\n"
    "  --smoke         a quick check: 1 repetition, 20 ms, 200000 ops\n"
    "  --no-pin        leave the hammering threads to the scheduler (Linux pins\n"
    "                  thread i to the i-th usable CPU, round robin)\n"
    "  --verbose       print every run as it ends, on stderr\n"
    "  --only A,B      run only the competitors whose names contain A or B\n"
    "                  (for perf or valgrind; ratios need the pthread rows)\n"
    "environment: WEFT_BENCH_REPS, WEFT_BENCH_MS, WEFT_BENCH_OPS,\n"
    "  WEFT_BENCH_THREADS set the same; the command line wins\n";

/* ---- Output -------------------------------------------------------------------- */

/* One table row: family, name and the statistics columns. */
static void print_row(int c, const double *v, const double *base, int reps,
                      const char *fmt_value)
{
    printf("%-6s %-28s", competitors[c].family, competitors[c].name);
    print_stats(v, base, competitors[c].baseline, reps, fmt_value, 17);
}

/* ---- main ----------------------------------------------------------------------- */

static double uncontended_ns[NCOMP][MAX_REPS];
static double contended_mops[MAX_THREAD_COUNTS][NCOMP][MAX_REPS];
static double contended_fair[MAX_THREAD_COUNTS][NCOMP][MAX_REPS];
static double contended_csw[MAX_THREAD_COUNTS][NCOMP][MAX_REPS];

#if defined(WEFT_BENCH_FUTEX_REF)
/* weft_lock against the bare futex lock, when both ran. */
static void print_floor(const settings *s)
{
    int w = -1, f = -1;
    double ratio;

    for (int c = 0; c < NCOMP; c++) {
        if (active[c] && strcmp(competitors[c].name, "weft_lock") == 0)
            w = c;
        else if (active[c] && strncmp(competitors[c].name, "futex_ref", 9) == 0)
            f = c;
    }
    if (w < 0 || f < 0)
        return;
    printf("Against the bare futex floor: weft_lock / futex_ref (ratio of medians; paired "
           "median)\n");
    ratio = median(uncontended_ns[w], s->reps) / median(uncontended_ns[f], s->reps);
    printf("  %-10s uncontended   time x%.2f; x%.2f\n", "weft_lock", ratio,
           paired_median(uncontended_ns[w], uncontended_ns[f], s->reps));
    for (int t = 0; t < s->nthread_counts; t++) {
        ratio = median(contended_mops[t][w], s->reps) / median(contended_mops[t][f], s->reps);
        printf("  %-10s %2d threads    rate x%.2f; x%.2f\n", "weft_lock", s->threads[t], ratio,
               paired_median(contended_mops[t][w], contended_mops[t][f], s->reps));
    }
}
#endif

int main(int argc, char **argv)
{
    settings s = {.reps = 11, .duration_ms = 200, .ops = 4000000, .threads = {2, 8},
                  .nthread_counts = 2, .pin = HAVE_AFFINITY, .verbose = false, .only = NULL};
    const bench_option options[] = {
        BENCH_OPT_INT("--reps", "WEFT_BENCH_REPS", &s.reps, 1, MAX_REPS, 1),
        BENCH_OPT_INT("--ms", "WEFT_BENCH_MS", &s.duration_ms, 1, 600000, 20),
        BENCH_OPT_LLONG("--ops", "WEFT_BENCH_OPS", &s.ops, 1, 1000000000000LL, 200000),
        BENCH_OPT_CUSTOM("--threads", "WEFT_BENCH_THREADS", parse_threads, &s),
        BENCH_OPT_FLAG("--no-pin", &s.pin, false),
        BENCH_OPT_FLAG("--verbose", &s.verbose, true),
        BENCH_OPT_TEXT("--only", NULL, &s.only),
    };
    int ncontended, nactive = 0, order[NCOMP];
    int64_t started;
    bool progress;

    bench_parse_options(options, BENCH_NOPTS(options), usage, argc, argv);
    find_usable_cpus();
    pin_threads = s.pin;
    for (int c = 0; c < NCOMP; c++)
        if ((active[c] = selected(competitors[c].name, s.only)))
            order[nactive++] = c;
    if (nactive == 0)
        die("--only %s: no competitor's name contains that", s.only);
    ncontended = s.nthread_counts * nactive;
    progress = !s.verbose && isatty(STDERR_FILENO) != 0;

    printf("weft bench_lock: weft_lock / weft_rlock against pthread_mutex_t\n");
    print_command(argc, argv, options, BENCH_NOPTS(options));
    printf("settings: %d repetition%s; uncontended %lld ops per run; contended "
           "%d ms per run with",
           s.reps, s.reps == 1 ? "" : "s", s.ops, s.duration_ms);
    for (int t = 0; t < s.nthread_counts; t++)
        printf("%s %d", t ? "," : "", s.threads[t]);
    printf(" threads\n");
    print_build();
    printf("machine:  %d CPUs usable; hammering threads %s\n", weft_cpu_count(),
           s.pin ? "pinned round robin, thread i to the i-th usable CPU"
                 : "not pinned (left to the scheduler)");
    printf("order:    each repetition runs every competitor once, the first one "
           "rotating\n");
    fflush(stdout);

    started = weft_monotonic_ns();

    /* One untimed round, so the first timed competitor is not the one that
     * pays for faulting in code, stacks and weft's main-thread record. */
    for (int i = 0; i < nactive; i++) {
        (void)run_uncontended(&competitors[order[i]], (uint64_t)(s.ops / 16 + 1));
        (void)run_contended(&competitors[order[i]], s.threads[0], 5);
    }

    for (int r = 0; r < s.reps; r++) {
        for (int i = 0; i < nactive; i++) {
            int c = order[(r + i) % nactive];
            uncontended_ns[c][r] = run_uncontended(&competitors[c], (uint64_t)s.ops);
            if (s.verbose)
                fprintf(stderr, "rep %2d  uncontended      %-28s %8.2f ns/op\n", r + 1,
                        competitors[c].name, uncontended_ns[c][r]);
        }
        for (int i = 0; i < ncontended; i++) {
            int k = (r + i) % ncontended;
            int t = k / nactive, c = order[k % nactive];
            contended_result res = run_contended(&competitors[c], s.threads[t], s.duration_ms);
            contended_mops[t][c][r] = res.mops;
            contended_fair[t][c][r] = res.fairness;
            contended_csw[t][c][r] = res.csw;
            if (s.verbose)
                fprintf(stderr, "rep %2d  %2d threads       %-28s %8.3f Mops/s  fairness %.2f  csw/kop %.2f\n",
                        r + 1, s.threads[t], competitors[c].name, res.mops, res.fairness,
                        res.csw);
        }
        if (progress)
            fprintf(stderr, "\rrepetition %d/%d done", r + 1, s.reps);
    }
    if (progress)
        fprintf(stderr, "\r%30s\r", "");

    printf("\nUncontended acquire+release, one thread: ns/op (lower is better)\n");
    printf("  ratio = median / median of the family's pthread mutex; below 1.00 "
           "weft is faster\n");
    printf("  paired = the same ratio within each repetition: median (min-max)\n");
    printf("%-6s %-28s %9s %9s %9s  %5s  %-17s\n", "family", "competitor", "median",
           "min", "max", "ratio", "paired");
    for (int i = 0; i < nactive; i++) {
        int c = order[i], b = baseline_of(c);
        print_row(c, uncontended_ns[c], b < 0 ? NULL : uncontended_ns[b], s.reps, "%.2f");
        printf("\n");
    }

    for (int t = 0; t < s.nthread_counts; t++) {
        printf("\nContended, %d threads on one lock: total Mops/s (higher is better)\n",
               s.threads[t]);
        printf("  ratio = median / median of the family's pthread mutex; above 1.00 "
               "weft is faster\n");
        printf("  paired = the same ratio within each repetition: median (min-max)\n");
        printf("  fairness = fewest / most operations of one thread (1.00 = even): "
               "median (min-max)\n");
        printf("  csw/kop = context switches of the process per 1000 operations "
               "(median)\n");
        printf("%-6s %-28s %9s %9s %9s  %5s  %-17s  %-17s %s\n", "family", "competitor",
               "median", "min", "max", "ratio", "paired", "fairness", "csw/kop");
        for (int i = 0; i < nactive; i++) {
            int c = order[i], b = baseline_of(c);
            double flo, fhi;
            print_row(c, contended_mops[t][c], b < 0 ? NULL : contended_mops[t][b],
                      s.reps, "%.3f");
            min_max(contended_fair[t][c], s.reps, &flo, &fhi);
            printf("  %.2f (%.2f-%.2f)  %7.2f\n", median(contended_fair[t][c], s.reps), flo,
                   fhi, median(contended_csw[t][c], s.reps));
        }
    }

    printf("\nSummary: weft against the pthread mutex (ratio of medians; paired median)\n");
    for (int i = 0; i < nactive; i++) {
        int c = order[i], b = baseline_of(c);
        double ratio;

        if (b < 0 || strncmp(competitors[c].name, "weft_", 5) != 0)
            continue;
        ratio = median(uncontended_ns[c], s.reps) / median(uncontended_ns[b], s.reps);
        printf("  %-10s uncontended   time x%.2f; x%.2f   %s\n", competitors[c].name, ratio,
               paired_median(uncontended_ns[c], uncontended_ns[b], s.reps),
               verdict(uncontended_ns[c], uncontended_ns[b], s.reps, true));
        for (int t = 0; t < s.nthread_counts; t++) {
            ratio = median(contended_mops[t][c], s.reps) /
                    median(contended_mops[t][b], s.reps);
            printf("  %-10s %2d threads    rate x%.2f; x%.2f   %s\n", competitors[c].name,
                   s.threads[t], ratio,
                   paired_median(contended_mops[t][c], contended_mops[t][b], s.reps),
                   verdict(contended_mops[t][c], contended_mops[t][b], s.reps, false));
        }
    }
#if defined(WEFT_BENCH_FUTEX_REF)
    print_floor(&s);
#endif
    printf("\ntotal time: %.1f s\n", (double)(weft_monotonic_ns() - started) / 1e9);
    return 0;
}
