/*
 * bench_thread: weft's threads and thread-local values against pthreads.
 *
 * What is measured
 *   - Thread start + join: weft_thread_start + weft_thread_join +
 *     weft_thread_release against pthread_create + pthread_join, of a
 *     thread whose function returns at once; microseconds per thread, the
 *     average of --starts threads started one after the other.
 *   - weft_local_get against pthread_getspecific, and weft_local_set
 *     against pthread_setspecific, on a key that holds a value (the path a
 *     program takes on every use); nanoseconds per call, one thread, the
 *     average of --ops calls.
 *
 * How
 *   As bench_lock: each repetition runs every competitor once, the first
 *   one rotating from one repetition to the next, so that drift falls on
 *   all alike; reported are the median, minimum and maximum over the
 *   repetitions, the ratio of the medians to the pthread competitor, and
 *   the spread of the per-repetition ("paired") ratios. Every measured call
 *   is an out-of-line call into libweft or libc, and the loops fold the
 *   values read into a checked sum, so the compiler cannot drop them.
 *   Run it against both builds of the library (static, and shared with
 *   -DBUILD_SHARED_LIBS=ON): a thread-local in a shared library can cost a
 *   call per access, which is what the shared row shows.
 *
 * Usage: bench_thread [--smoke] [--reps N] [--starts N] [--ops N]
 * Environment: WEFT_BENCH_REPS, WEFT_BENCH_STARTS, WEFT_BENCH_OPS (the
 *              command line wins).
 */
#define _XOPEN_SOURCE 700

#include <weft/local.h>
#include <weft/thread.h>
#include <weft/time.h>

#define BENCH_NAME "bench_thread"
#include "bench_util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPS BENCH_MAX_REPS

/* ---- The competitors ------------------------------------------------------------- */

static weft_local *wlocal;
static pthread_key_t pkey;
static int the_value; /* what both keys hold */

static void *thread_fn(void *arg)
{
    return arg;
}

/* Microseconds per start + join. */
static double starts_weft(long n)
{
    int64_t t0 = weft_monotonic_ns();

    for (long i = 0; i < n; i++) {
        weft_thread *t;
        void *result = NULL;

        if (weft_thread_start(&t, thread_fn, &the_value, NULL) != WEFT_OK)
            die("weft_thread_start failed");
        if (weft_thread_join(t, WEFT_FOREVER, &result) != WEFT_OK || result != &the_value)
            die("weft_thread_join failed");
        weft_thread_release(t);
    }
    return (double)(weft_monotonic_ns() - t0) / 1e3 / (double)n;
}

static double starts_pthread(long n)
{
    int64_t t0 = weft_monotonic_ns();

    for (long i = 0; i < n; i++) {
        pthread_t t;
        void *result = NULL;

        check(pthread_create(&t, NULL, thread_fn, &the_value), "pthread_create");
        check(pthread_join(t, &result), "pthread_join");
        if (result != &the_value)
            die("pthread_join: wrong result");
    }
    return (double)(weft_monotonic_ns() - t0) / 1e3 / (double)n;
}

/* Nanoseconds per call. The sum of the values read is checked, which
 * keeps every call. */
static double get_weft(long n)
{
    uintptr_t sum = 0;
    int64_t t0 = weft_monotonic_ns();

    for (long i = 0; i < n; i++)
        sum += (uintptr_t)weft_local_get(wlocal);
    t0 = weft_monotonic_ns() - t0;
    if (sum != (uintptr_t)&the_value * (uintptr_t)n)
        die("weft_local_get returned a wrong value");
    return (double)t0 / (double)n;
}

static double get_pthread(long n)
{
    uintptr_t sum = 0;
    int64_t t0 = weft_monotonic_ns();

    for (long i = 0; i < n; i++)
        sum += (uintptr_t)pthread_getspecific(pkey);
    t0 = weft_monotonic_ns() - t0;
    if (sum != (uintptr_t)&the_value * (uintptr_t)n)
        die("pthread_getspecific returned a wrong value");
    return (double)t0 / (double)n;
}

static double set_weft(long n)
{
    int64_t t0 = weft_monotonic_ns();

    for (long i = 0; i < n; i++)
        if (weft_local_set(wlocal, &the_value) != WEFT_OK)
            die("weft_local_set failed");
    return (double)(weft_monotonic_ns() - t0) / (double)n;
}

static double set_pthread(long n)
{
    int64_t t0 = weft_monotonic_ns();

    for (long i = 0; i < n; i++)
        check(pthread_setspecific(pkey, &the_value), "pthread_setspecific");
    return (double)(weft_monotonic_ns() - t0) / (double)n;
}

typedef struct competitor {
    const char *family; /* the rows compared with each other */
    const char *name;
    bool baseline;      /* the pthread competitor of the family */
    bool per_thread;    /* counts in --starts rather than --ops */
    double (*run)(long n);
} competitor;

static const competitor competitors[] = {
    {"start", "weft_thread_start+join", false, true, starts_weft},
    {"start", "pthread_create+join", true, true, starts_pthread},
    {"get", "weft_local_get", false, false, get_weft},
    {"get", "pthread_getspecific", true, false, get_pthread},
    {"set", "weft_local_set", false, false, set_weft},
    {"set", "pthread_setspecific", true, false, set_pthread},
};

#define NCOMP ((int)(sizeof competitors / sizeof competitors[0]))

static int baseline_of(int c)
{
    for (int i = 0; i < NCOMP; i++)
        if (competitors[i].baseline && strcmp(competitors[i].family, competitors[c].family) == 0)
            return i;
    return -1;
}

/* ---- Settings ------------------------------------------------------------------------ */

typedef struct settings {
    int reps;
    long long starts;
    long long ops;
} settings;

static const char usage[] =
    "usage: bench_thread [--smoke] [--reps N] [--starts N] [--ops N]\n"
    "  --reps N     repetitions, every competitor once each (default 11)\n"
    "  --starts N   threads started and joined per run (default 2000)\n"
    "  --ops N      get or set calls per run (default 20000000)\n"
    "  --smoke      a quick check: 1 repetition, 100 starts, 200000 ops\n"
    "environment: WEFT_BENCH_REPS, WEFT_BENCH_STARTS, WEFT_BENCH_OPS set the\n"
    "  same; the command line wins\n";

/* ---- Output ---------------------------------------------------------------------------- */

static double results[NCOMP][MAX_REPS];

static void print_row(int c, int reps)
{
    int b = baseline_of(c);

    printf("%-6s %-24s", competitors[c].family, competitors[c].name);
    print_stats(results[c], b < 0 ? NULL : results[b], b == c, reps, "%.2f", 0);
    printf("\n");
}

static void print_table(const char *title, const char *unit, bool per_thread, int reps)
{
    printf("\n%s: %s (lower is better)\n", title, unit);
    printf("  ratio = median / median of the pthread row; below 1.00 weft is faster\n");
    printf("  paired = the same ratio within each repetition: median (min-max)\n");
    printf("%-6s %-24s %9s %9s %9s  %5s  %s\n", "what", "competitor", "median", "min", "max",
           "ratio", "paired");
    for (int c = 0; c < NCOMP; c++)
        if (competitors[c].per_thread == per_thread)
            print_row(c, reps);
}

/* ---- main ----------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    settings s = {.reps = 11, .starts = 2000, .ops = 20000000};
    const bench_option options[] = {
        BENCH_OPT_INT("--reps", "WEFT_BENCH_REPS", &s.reps, 1, MAX_REPS, 1),
        BENCH_OPT_LLONG("--starts", "WEFT_BENCH_STARTS", &s.starts, 1, 100000000, 100),
        BENCH_OPT_LLONG("--ops", "WEFT_BENCH_OPS", &s.ops, 1, 1000000000000LL, 200000),
    };
    int64_t started;

    bench_parse_options(options, BENCH_NOPTS(options), usage, argc, argv);
    printf("weft bench_thread: thread start+join and thread-local values against pthreads\n");
    print_command(argc, argv, options, BENCH_NOPTS(options));
    printf("settings: %d repetition%s; %lld starts, %lld get/set calls per run\n", s.reps,
           s.reps == 1 ? "" : "s", s.starts, s.ops);
    print_build();
    printf("machine:  %d CPUs usable\n", weft_cpu_count());
    printf("order:    each repetition runs every competitor once, the first one rotating\n");
    fflush(stdout);

    started = weft_monotonic_ns();
    if (weft_local_create(&wlocal, NULL) != WEFT_OK)
        die("weft_local_create failed");
    check(pthread_key_create(&pkey, NULL), "pthread_key_create");
    if (weft_local_set(wlocal, &the_value) != WEFT_OK)
        die("weft_local_set failed");
    check(pthread_setspecific(pkey, &the_value), "pthread_setspecific");

    /* One untimed round: faulting in code and stacks, weft's main-thread
     * record, the first thread's setup, are paid outside the timed runs. */
    for (int c = 0; c < NCOMP; c++)
        (void)competitors[c].run((long)(competitors[c].per_thread ? s.starts / 16 + 1 : s.ops / 16 + 1));

    for (int r = 0; r < s.reps; r++) {
        for (int i = 0; i < NCOMP; i++) {
            int c = (r + i) % NCOMP;
            results[c][r] = competitors[c].run((long)(competitors[c].per_thread ? s.starts : s.ops));
        }
    }

    print_table("Thread start + join, one after the other", "microseconds per thread", true,
                s.reps);
    print_table("Thread-local values, one thread, a key that holds a value",
                "nanoseconds per call", false, s.reps);

    printf("\nSummary: weft against pthreads (ratio of medians; paired median)\n");
    for (int c = 0; c < NCOMP; c++) {
        int b = baseline_of(c);

        if (b < 0 || b == c)
            continue;
        printf("  %-24s x%.2f; x%.2f   %s\n", competitors[c].name,
               median(results[c], s.reps) / median(results[b], s.reps),
               paired_median(results[c], results[b], s.reps),
               verdict(results[c], results[b], s.reps, true));
    }
    printf("\ntotal time: %.1f s\n", (double)(weft_monotonic_ns() - started) / 1e9);
    weft_local_destroy(wlocal);
    check(pthread_key_delete(pkey), "pthread_key_delete");
    return 0;
}
