/* SPDX-License-Identifier: MIT */
/*
 * bench_thread: weft's threads and thread-local values against pthreads,
 * C11 <threads.h>, GLib, libuv and APR.
 *
 * What is measured
 *   - Thread start + join (family thread.start_join): start a thread whose
 *     function returns at once, wait for it, give its handle back;
 *     microseconds per thread, the median of --starts threads per
 *     competitor and repetition (the mean is shown too).
 *       weft            weft_thread_start + weft_thread_join + weft_thread_release
 *       pthread         pthread_create + pthread_join (the baseline)
 *       pthread+name+tid  (Linux) the same, and the thread first does what
 *                       a weft thread does beyond that, as Python 3.14's
 *                       threads do: it names itself for the OS
 *                       ("Thread-N", pthread_setname_np) and reads its
 *                       native id (gettid)
 *       C11 threads     thrd_create + thrd_join
 *       GLib GThread    g_thread_new (no name) + g_thread_join
 *       GLib GThread named  g_thread_new("Thread-N"): GLib names the thread
 *                       for the OS (no native id)
 *       libuv uv_thread uv_thread_create + uv_thread_join
 *       APR apr_thread  apr_thread_create + apr_thread_exit (APR's way to
 *                       hand back a result) + apr_thread_join, in a pool
 *                       cleared after every thread (else it grows by a
 *                       record and a sub-pool per thread)
 *     Every competitor hands back a value from the thread and it is checked
 *     (libuv's threads have no result: the thread writes one). The rows
 *     whose threads get no OS-visible name are marked "(unnamed)": they do
 *     less than weft, so bench/report.py does not count them as the best
 *     competitor with weft's semantics (they are still shown, with ratios).
 *   - Thread-local get (family local.get) and set (local.set), on a key
 *     that holds a value (the path a program takes on every use);
 *     nanoseconds per call, one thread: --ops calls per competitor and
 *     repetition, timed in 100 chunks, and the median of the chunks:
 *     weft_local_get/set, pthread_getspecific/setspecific (the baseline),
 *     tss_get/tss_set, g_private_get/set, uv_key_get/set,
 *     apr_threadkey_private_get/set.
 *
 * How
 *   Everything runs in turns: within one repetition, item i of every
 *   competitor of a family is run and timed on its own before item i+1 of
 *   any, the first competitor rotating from one item to the next. An item
 *   is one thread started and joined, or a chunk of --ops/100 get or set
 *   calls (a fraction of a millisecond). On a shared two-CPU machine a
 *   neighbour's burst moves a whole run by more than the differences
 *   sought; in turns, every competitor sees the same moments, and the
 *   median over a repetition's items leaves out the few items a burst hit.
 *   Each get/set loop is generated from one text (DEFINE_LOCAL_LOOPS), so
 *   that every measured call is a direct, out-of-line call into the
 *   library and the loops differ in nothing else; they fold the values
 *   read into a checked sum, so the compiler cannot drop them.
 *   Reported are the median, minimum and maximum over the repetitions (of
 *   each repetition's median item), the ratio of the medians to the
 *   pthread row, the spread of the per-repetition ("paired") ratios, then
 *   weft against every other competitor, and one machine-readable `@result`
 *   line per row.
 *   Run it against both builds of the library (static, and shared with
 *   -DBUILD_SHARED_LIBS=ON): a thread-local in a shared library can cost a
 *   call per access, which is what the shared row shows.
 *
 * Competitors whose library was not found at build time (CMake defines
 * WEFT_BENCH_HAVE_GLIB, _UV, _APR, _C11_THREADS for those it found) are
 * left out, and the header of the output says which.
 *
 * Usage: bench_thread [--smoke] [--reps N] [--starts N] [--ops N] [--regime NAME]
 * Environment: WEFT_BENCH_REPS, WEFT_BENCH_STARTS, WEFT_BENCH_OPS (the
 *              command line wins).
 */
#if !defined(__linux__)
#define _XOPEN_SOURCE 700
#elif !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* pthread_setname_np and syscall(SYS_gettid), for "pthread+name+tid" */
#endif

#include <weft/local.h>
#include <weft/thread.h>
#include <weft/time.h>

#define BENCH_NAME "bench_thread"
#include "bench_util.h"
#include "bench_regime.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "bench_competitors.h"

#define MAX_REPS BENCH_MAX_REPS

/* ---- The keys and what they hold ----------------------------------------------------- */

static int the_value; /* what every key holds, and what every thread hands back */

static weft_local *wlocal;
static pthread_key_t pkey;
#if defined(WEFT_BENCH_HAVE_C11_THREADS)
static tss_t tkey;
#endif
#if defined(WEFT_BENCH_HAVE_GLIB)
static GPrivate gkey = G_PRIVATE_INIT(NULL);
#endif
#if defined(WEFT_BENCH_HAVE_UV)
static uv_key_t ukey;
#endif
#if defined(WEFT_BENCH_HAVE_APR)
static apr_pool_t *apr_root;   /* the keys' pool */
static apr_pool_t *apr_starts; /* the threads' pool, cleared after each */
static apr_threadkey_t *akey;

/* apr_initialize and the root pool, once for every APR competitor. */
static void apr_setup(void)
{
    static bool done;

    if (done)
        return;
    done = true;
    if (apr_initialize() != APR_SUCCESS)
        die("apr_initialize failed");
    atexit(apr_terminate);
    if (apr_pool_create(&apr_root, NULL) != APR_SUCCESS)
        die("apr_pool_create failed");
}

static void *apr_key_get(void)
{
    void *v = NULL;

    if (apr_threadkey_private_get(&v, akey) != APR_SUCCESS)
        die("apr_threadkey_private_get failed");
    return v;
}
#endif

/* ---- Thread start + join: one thread each call ----------------------------------------- */

static void *thread_fn(void *arg)
{
    return arg;
}

static void start_weft(void)
{
    weft_thread *t;
    void *result = NULL;

    if (weft_thread_start(&t, thread_fn, &the_value, NULL) != WEFT_OK)
        die("weft_thread_start failed");
    if (weft_thread_join(t, WEFT_FOREVER, &result) != WEFT_OK || result != &the_value)
        die("weft_thread_join failed");
    weft_thread_release(t);
}

static void start_pthread(void)
{
    pthread_t t;
    void *result = NULL;

    check(pthread_create(&t, NULL, thread_fn, &the_value), "pthread_create");
    check(pthread_join(t, &result), "pthread_join");
    if (result != &the_value)
        die("pthread_join: wrong result");
}

/* The name a thread gets, "Thread-N" as in weft and Python: formatted by
 * the starting thread, as weft does. */
static void next_thread_name(char *buf, size_t size)
{
    static unsigned counter;

    snprintf(buf, size, "Thread-%u", ++counter);
}

#if defined(__linux__)
typedef struct named_start {
    char name[32];
    long tid;
} named_start;

static void *named_fn(void *arg)
{
    named_start *n = arg;

    n->tid = (long)syscall(SYS_gettid);
    pthread_setname_np(pthread_self(), n->name);
    return thread_fn(&the_value);
}

static void start_pthread_named(void)
{
    named_start n;
    pthread_t t;
    void *result = NULL;

    next_thread_name(n.name, sizeof n.name);
    check(pthread_create(&t, NULL, named_fn, &n), "pthread_create");
    check(pthread_join(t, &result), "pthread_join");
    if (result != &the_value || n.tid <= 0)
        die("pthread_join: wrong result");
}
#endif

#if defined(WEFT_BENCH_HAVE_C11_THREADS)
static int c11_fn(void *arg)
{
    return arg == &the_value ? 7 : 1;
}

static void start_c11(void)
{
    thrd_t t;
    int result = 0;

    if (thrd_create(&t, c11_fn, &the_value) != thrd_success)
        die("thrd_create failed");
    if (thrd_join(t, &result) != thrd_success || result != 7)
        die("thrd_join failed");
}
#endif

#if defined(WEFT_BENCH_HAVE_GLIB)
static gpointer glib_fn(gpointer arg)
{
    return arg;
}

/* g_thread_new aborts when it cannot start a thread: GLib's way. */
static void start_glib(void)
{
    if (g_thread_join(g_thread_new(NULL, glib_fn, &the_value)) != &the_value)
        die("g_thread_join: wrong result");
}

static void start_glib_named(void)
{
    char name[32];

    next_thread_name(name, sizeof name);
    if (g_thread_join(g_thread_new(name, glib_fn, &the_value)) != &the_value)
        die("g_thread_join: wrong result");
}
#endif

#if defined(WEFT_BENCH_HAVE_UV)
static void uv_fn(void *arg)
{
    *(int *)arg = 7;
}

static void start_uv(void)
{
    uv_thread_t t;
    int result = 0;

    if (uv_thread_create(&t, uv_fn, &result) != 0)
        die("uv_thread_create failed");
    if (uv_thread_join(&t) != 0 || result != 7)
        die("uv_thread_join failed");
}
#endif

#if defined(WEFT_BENCH_HAVE_APR)
static void *APR_THREAD_FUNC apr_fn(apr_thread_t *self, void *arg)
{
    apr_thread_exit(self, arg == &the_value ? 7 : 1);
    return NULL;
}

static void setup_apr_starts(void)
{
    apr_setup();
    if (apr_pool_create(&apr_starts, apr_root) != APR_SUCCESS)
        die("apr_pool_create failed");
}

static void start_apr(void)
{
    apr_thread_t *t;
    apr_status_t result = 0;

    if (apr_thread_create(&t, NULL, apr_fn, &the_value, apr_starts) != APR_SUCCESS)
        die("apr_thread_create failed");
    if (apr_thread_join(&result, t) != APR_SUCCESS || result != 7)
        die("apr_thread_join failed");
    apr_pool_clear(apr_starts);
}
#endif

/* ---- Thread-local get and set: loops of n calls -----------------------------------------
 * Generated from one text: GET is an expression that reads the key, SET
 * one that stores &the_value in it and is true when that worked.
 * Nanoseconds per call. */

#define DEFINE_LOCAL_LOOPS(tag, GET, SET)                                      \
    static double get_##tag(long n)                                            \
    {                                                                          \
        uintptr_t sum = 0;                                                     \
        int64_t t0 = weft_monotonic_ns();                                      \
        for (long i = 0; i < n; i++)                                           \
            sum += (uintptr_t)(GET);                                           \
        t0 = weft_monotonic_ns() - t0;                                         \
        if (sum != (uintptr_t)&the_value * (uintptr_t)n)                       \
            die("%s returned a wrong value", #GET);                            \
        return (double)t0 / (double)n;                                         \
    }                                                                          \
    static double set_##tag(long n)                                            \
    {                                                                          \
        int64_t t0 = weft_monotonic_ns();                                      \
        for (long i = 0; i < n; i++)                                           \
            if (!(SET))                                                        \
                die("%s failed", #SET);                                        \
        return (double)(weft_monotonic_ns() - t0) / (double)n;                 \
    }

DEFINE_LOCAL_LOOPS(weft, weft_local_get(wlocal), weft_local_set(wlocal, &the_value) == WEFT_OK)
DEFINE_LOCAL_LOOPS(pthread, pthread_getspecific(pkey), pthread_setspecific(pkey, &the_value) == 0)
#if defined(WEFT_BENCH_HAVE_C11_THREADS)
DEFINE_LOCAL_LOOPS(c11, tss_get(tkey), tss_set(tkey, &the_value) == thrd_success)
#endif
#if defined(WEFT_BENCH_HAVE_GLIB)
DEFINE_LOCAL_LOOPS(glib, g_private_get(&gkey), (g_private_set(&gkey, &the_value), true))
#endif
#if defined(WEFT_BENCH_HAVE_UV)
DEFINE_LOCAL_LOOPS(uv, uv_key_get(&ukey), (uv_key_set(&ukey, &the_value), true))
#endif
#if defined(WEFT_BENCH_HAVE_APR)
DEFINE_LOCAL_LOOPS(apr, apr_key_get(), apr_threadkey_private_set(&the_value, akey) == APR_SUCCESS)
#endif

/* Create each key and store the value in it, before the first run. */
static void setup_weft_key(void)
{
    if (weft_local_create(&wlocal, NULL) != WEFT_OK)
        die("weft_local_create failed");
    if (weft_local_set(wlocal, &the_value) != WEFT_OK)
        die("weft_local_set failed");
}

static void setup_pthread_key(void)
{
    check(pthread_key_create(&pkey, NULL), "pthread_key_create");
    check(pthread_setspecific(pkey, &the_value), "pthread_setspecific");
}

#if defined(WEFT_BENCH_HAVE_C11_THREADS)
static void setup_c11_key(void)
{
    if (tss_create(&tkey, NULL) != thrd_success || tss_set(tkey, &the_value) != thrd_success)
        die("tss_create or tss_set failed");
}
#endif

#if defined(WEFT_BENCH_HAVE_GLIB)
static void setup_glib_key(void)
{
    g_private_set(&gkey, &the_value);
}
#endif

#if defined(WEFT_BENCH_HAVE_UV)
static void setup_uv_key(void)
{
    if (uv_key_create(&ukey) != 0)
        die("uv_key_create failed");
    uv_key_set(&ukey, &the_value);
}
#endif

#if defined(WEFT_BENCH_HAVE_APR)
static void setup_apr_key(void)
{
    apr_setup();
    if (apr_threadkey_private_create(&akey, NULL, apr_root) != APR_SUCCESS ||
        apr_threadkey_private_set(&the_value, akey) != APR_SUCCESS)
        die("apr_threadkey_private_create or _set failed");
}
#endif

/* ---- The table ------------------------------------------------------------------------------ */

enum { F_START, F_GET, F_SET, NFAMILIES };

static const struct family {
    const char *result; /* the family of the @result lines */
    const char *unit;
    const char *title;
} families[NFAMILIES] = {
    {"thread.start_join", "us",
     "Thread start + join, in turns: microseconds per thread, the median of a run's\n"
     "threads"},
    {"local.get", "ns",
     "Thread-local get, one thread, a key that holds a value, in turns: nanoseconds\n"
     "per call, the median of a run's 100 chunks"},
    {"local.set", "ns",
     "Thread-local set, one thread, a key that holds a value, in turns: nanoseconds\n"
     "per call, the median of a run's 100 chunks"},
};

typedef struct competitor {
    int family;            /* F_START, F_GET or F_SET */
    const char *name;      /* as in the @result lines */
    const char *calls;     /* what it calls, for the table */
    bool baseline;         /* the pthread row of the family */
    void (*setup)(void);   /* once, before the first run; NULL: nothing */
    void (*one)(void);     /* F_START: start one thread and join it */
    double (*run)(long n); /* F_GET, F_SET: nanoseconds per call over n calls */
} competitor;

static const competitor competitors[] = {
    {F_START, "weft", "weft_thread_start+join", false, NULL, start_weft, NULL},
    {F_START, "pthread (unnamed)", "pthread_create+join", true, NULL, start_pthread, NULL},
#if defined(__linux__)
    {F_START, "pthread+name+tid", "+setname_np+gettid", false, NULL, start_pthread_named, NULL},
#endif
#if defined(WEFT_BENCH_HAVE_C11_THREADS)
    {F_START, "C11 threads (unnamed)", "thrd_create+join", false, NULL, start_c11, NULL},
#endif
#if defined(WEFT_BENCH_HAVE_GLIB)
    {F_START, "GLib GThread (unnamed)", "g_thread_new(NULL)+join", false, NULL, start_glib, NULL},
    {F_START, "GLib GThread named", "g_thread_new(name)+join", false, NULL, start_glib_named,
     NULL},
#endif
#if defined(WEFT_BENCH_HAVE_UV)
    {F_START, "libuv uv_thread (unnamed)", "uv_thread_create+join", false, NULL, start_uv, NULL},
#endif
#if defined(WEFT_BENCH_HAVE_APR)
    {F_START, "APR apr_thread (unnamed)", "apr_thread_create+join", false, setup_apr_starts,
     start_apr, NULL},
#endif

    {F_GET, "weft", "weft_local_get", false, setup_weft_key, NULL, get_weft},
    {F_GET, "pthread", "pthread_getspecific", true, setup_pthread_key, NULL, get_pthread},
#if defined(WEFT_BENCH_HAVE_C11_THREADS)
    {F_GET, "C11 threads", "tss_get", false, setup_c11_key, NULL, get_c11},
#endif
#if defined(WEFT_BENCH_HAVE_GLIB)
    {F_GET, "GLib GPrivate", "g_private_get", false, setup_glib_key, NULL, get_glib},
#endif
#if defined(WEFT_BENCH_HAVE_UV)
    {F_GET, "libuv uv_key", "uv_key_get", false, setup_uv_key, NULL, get_uv},
#endif
#if defined(WEFT_BENCH_HAVE_APR)
    {F_GET, "APR apr_threadkey", "apr_threadkey_private_get", false, setup_apr_key, NULL,
     get_apr},
#endif

    {F_SET, "weft", "weft_local_set", false, NULL, NULL, set_weft},
    {F_SET, "pthread", "pthread_setspecific", true, NULL, NULL, set_pthread},
#if defined(WEFT_BENCH_HAVE_C11_THREADS)
    {F_SET, "C11 threads", "tss_set", false, NULL, NULL, set_c11},
#endif
#if defined(WEFT_BENCH_HAVE_GLIB)
    {F_SET, "GLib GPrivate", "g_private_set", false, NULL, NULL, set_glib},
#endif
#if defined(WEFT_BENCH_HAVE_UV)
    {F_SET, "libuv uv_key", "uv_key_set", false, NULL, NULL, set_uv},
#endif
#if defined(WEFT_BENCH_HAVE_APR)
    {F_SET, "APR apr_threadkey", "apr_threadkey_private_set", false, NULL, NULL, set_apr},
#endif
};

#define NCOMP ((int)(sizeof competitors / sizeof competitors[0]))

static int baseline_of(int c)
{
    for (int i = 0; i < NCOMP; i++)
        if (competitors[i].baseline && competitors[i].family == competitors[c].family)
            return i;
    return -1;
}

static int weft_of(int family)
{
    for (int i = 0; i < NCOMP; i++)
        if (competitors[i].family == family && strcmp(competitors[i].name, "weft") == 0)
            return i;
    die("no weft row in family %s", families[family].result);
}

/* ---- Settings ------------------------------------------------------------------------ */

typedef struct settings {
    int reps;
    long long starts;
    long long ops;
} settings;

static const char usage[] =
    "usage: bench_thread [--smoke] [--reps N] [--starts N] [--ops N]\n"
    "  --reps N     repetitions, each measuring every competitor (default 11)\n"
    "  --starts N   threads started and joined per competitor and repetition\n"
    "               (default 2000)\n"
    "  --ops N      get or set calls per competitor and repetition, timed in 100\n"
    "               chunks (default 20000000)\n"
    "  --smoke      a quick check: 1 repetition, 100 starts, 200000 ops\n"
    BENCH_REGIME_USAGE
    "environment: WEFT_BENCH_REPS, WEFT_BENCH_STARTS, WEFT_BENCH_OPS set the\n"
    "  same; the command line wins\n";

/* ---- Measuring ---------------------------------------------------------------------------- */

static double results[NCOMP][MAX_REPS]; /* per repetition: the median item */
static double means[NCOMP][MAX_REPS];   /* per repetition: the mean item */
static double *item_times[NCOMP];       /* each item's time in the current run */

/* The get and set loops are timed in this many chunks of --ops / CHUNKS
 * calls each. */
#define CHUNKS 100

/* The median of v[0..n-1], which it sorts. */
static double median_in_place(double *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, compare_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* One item of competitor c: one thread started and joined (microseconds),
 * or a chunk of `calls` get or set calls (nanoseconds per call). */
static double one_item(int c, long calls)
{
    int64_t t0;

    if (competitors[c].run)
        return competitors[c].run(calls);
    t0 = weft_monotonic_ns();
    competitors[c].one();
    return (double)(weft_monotonic_ns() - t0) / 1e3;
}

/* n items of every competitor of the family, in turns (item i of every
 * competitor before item i+1 of any, the first one rotating), each timed
 * on its own; the median and the mean per item into results[c][r] and
 * means[c][r] when r >= 0 (r < 0: a warm-up). */
static void run_turns(int family, long n, long calls, int r)
{
    int list[NCOMP], nlist = 0;
    double total[NCOMP] = {0};

    for (int c = 0; c < NCOMP; c++)
        if (competitors[c].family == family)
            list[nlist++] = c;
    for (long i = 0; i < n; i++) {
        for (int k = 0; k < nlist; k++) {
            int c = list[(i + k) % nlist];

            item_times[c][i] = one_item(c, calls);
            total[c] += item_times[c][i];
        }
    }
    if (r < 0)
        return;
    for (int k = 0; k < nlist; k++) {
        int c = list[k];

        means[c][r] = total[c] / (double)n;
        results[c][r] = median_in_place(item_times[c], n);
    }
}

/* Every family once: --starts threads, or --ops calls in CHUNKS chunks. */
static void run_all(const settings *s, int r)
{
    long starts = r < 0 ? (long)(s->starts / 16 + 1) : (long)s->starts;
    long chunk = (long)(s->ops / CHUNKS) + (s->ops % CHUNKS != 0);

    run_turns(F_START, starts, 0, r);
    run_turns(F_GET, CHUNKS, r < 0 ? chunk / 16 + 1 : chunk, r);
    run_turns(F_SET, CHUNKS, r < 0 ? chunk / 16 + 1 : chunk, r);
}

/* ---- Output ---------------------------------------------------------------------------- */

static void print_table(int family, double (*v)[MAX_REPS], const char *title, int reps)
{
    printf("\n%s (lower is better)\n", title);
    printf("  ratio = median / median of the pthread row; below 1.00 faster than pthreads\n");
    printf("  paired = the same ratio within each repetition: median (min-max)\n");
    printf("%-26s %-27s %9s %9s %9s  %5s  %s\n", "competitor", "calls", "median", "min", "max",
           "ratio", "paired");
    for (int c = 0; c < NCOMP; c++) {
        int b = baseline_of(c);

        if (competitors[c].family != family)
            continue;
        printf("%-26s %-27s", competitors[c].name, competitors[c].calls);
        print_stats(v[c], b < 0 ? NULL : v[b], b == c, reps, "%.2f", 0);
        printf("\n");
    }
}

/* weft against every other competitor of each family, and the best of them
 * that does what weft does. */
static void print_summary(int reps)
{
    printf("\nSummary: weft against every other competitor; time ratio weft / other, "
           "ratio of medians;\npaired median (min-max); below 1.00 weft is faster\n");
    for (int f = 0; f < NFAMILIES; f++) {
        int w = weft_of(f), best = -1;
        double lo, hi, ratios[MAX_REPS] = {0};

        for (int c = 0; c < NCOMP; c++) {
            if (c == w || competitors[c].family != f)
                continue;
            /* The best with weft's semantics: an "(unnamed)" thread does less. */
            if (!strstr(competitors[c].name, "(unnamed)") &&
                (best < 0 || median(results[c], reps) < median(results[best], reps)))
                best = c;
            paired_ratios(results[w], results[c], reps, ratios);
            min_max(ratios, reps, &lo, &hi);
            printf("  %-17s vs %-26s x%.2f; %.2f (%.2f-%.2f)  %s\n", families[f].result,
                   competitors[c].name, median_ratio(results[w], results[c], reps),
                   median(ratios, reps), lo, hi, verdict(results[w], results[c], reps, true));
        }
        if (best >= 0)
            printf("  %-17s best other: %s; weft x%.2f of it (paired %.2f)\n",
                   families[f].result, competitors[best].name,
                   median_ratio(results[w], results[best], reps),
                   paired_median(results[w], results[best], reps));
    }
}

/* ---- main ----------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    settings s = {.reps = 11, .starts = 2000, .ops = 20000000};
    const bench_option options[] = {
        BENCH_OPT_INT("--reps", "WEFT_BENCH_REPS", &s.reps, 1, MAX_REPS, 1),
        BENCH_OPT_REGIME,
        BENCH_OPT_LLONG("--starts", "WEFT_BENCH_STARTS", &s.starts, 1, 100000000, 100),
        BENCH_OPT_LLONG("--ops", "WEFT_BENCH_OPS", &s.ops, 1, 1000000000000LL, 200000),
    };
    int64_t started;

    bench_parse_options(options, BENCH_NOPTS(options), usage, argc, argv);
    printf("weft bench_thread: thread start+join and thread-local values against pthreads,\n"
           "C11 threads, GLib, libuv and APR\n");
    print_command(argc, argv, options, BENCH_NOPTS(options));
    print_skipped();
    printf("settings: %d repetition%s; %lld starts, %lld get/set calls per competitor and "
           "repetition\n",
           s.reps, s.reps == 1 ? "" : "s", s.starts, s.ops);
    print_build();
    printf("machine:  %d CPUs usable\n", weft_cpu_count());
    bench_regime(bench_regime_confined());
    printf("order:    in each repetition every family runs in turns: thread i (or chunk\n"
           "          i of the get/set calls) of every competitor before item i+1 of any,\n"
           "          the first one rotating\n");
    fflush(stdout);

    started = weft_monotonic_ns();
    for (int c = 0; c < NCOMP; c++) {
        if (competitors[c].setup)
            competitors[c].setup();
        size_t items = competitors[c].family == F_START ? (size_t)s.starts : CHUNKS;

        if (!(item_times[c] = malloc(items * sizeof *item_times[c])))
            die("out of memory");
    }

    /* One untimed round: faulting in code and stacks, weft's main-thread
     * record, each library's first-use setup, are paid outside the timed
     * runs. */
    run_all(&s, -1);

    for (int r = 0; r < s.reps; r++) {
        run_all(&s, r);
    }

    for (int f = 0; f < NFAMILIES; f++) {
        print_table(f, results, families[f].title, s.reps);
        if (f == F_START)
            print_table(f, means,
                        "The same threads, the mean per thread: a neighbour's burst on this\n"
                        "machine lands on a few threads and moves the mean, not the median",
                        s.reps);
    }
    print_summary(s.reps);

    printf("\n");
    for (int c = 0; c < NCOMP; c++)
        bench_result(families[competitors[c].family].result, competitors[c].name, results[c],
                     s.reps, families[competitors[c].family].unit, false);

    printf("\ntotal time: %.1f s\n", (double)(weft_monotonic_ns() - started) / 1e9);
    weft_local_destroy(wlocal);
    check(pthread_key_delete(pkey), "pthread_key_delete");
    for (int c = 0; c < NCOMP; c++)
        free(item_times[c]);
    return 0;
}
