/* SPDX-License-Identifier: MIT */
/*
 * bench_util.h: what the benchmarks share: fatal errors, statistics over
 * repetitions (median, range, paired ratios, a verdict), the option parser
 * (a table of options, each with its environment variable), the statistics
 * columns of a table row, and the "command:" and "build:" lines of the
 * output.
 *
 * A benchmark defines BENCH_NAME (its program name, for error messages)
 * before including this. Everything is static inline, so a benchmark that
 * uses only some of it compiles without warnings.
 */
#ifndef WEFT_BENCH_UTIL_H
#define WEFT_BENCH_UTIL_H

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench_util.h"
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef WEFT_BENCH_CONFIG
#define WEFT_BENCH_CONFIG "unknown"
#endif
#ifndef WEFT_BENCH_WAIT
#define WEFT_BENCH_WAIT "unknown"
#endif

/* The most repetitions a run may ask for. */
#define BENCH_MAX_REPS 1000

/* Whether --smoke was given: a quick check, so cheap measurements. */
static bool bench_smoke_run;

static inline _Noreturn void die(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs(BENCH_NAME ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

/* For calls that return 0 on success (pthreads, POSIX). */
static inline void check(int rc, const char *what)
{
    if (rc != 0)
        die("%s failed: %d", what, rc);
}

static inline int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double median(const double *v, int n)
{
    double tmp[BENCH_MAX_REPS];

    memcpy(tmp, v, (size_t)n * sizeof *v);
    qsort(tmp, (size_t)n, sizeof *tmp, compare_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2.0;
}

static inline void min_max(const double *v, int n, double *lo, double *hi)
{
    *lo = *hi = v[0];
    for (int i = 1; i < n; i++) {
        if (v[i] < *lo)
            *lo = v[i];
        if (v[i] > *hi)
            *hi = v[i];
    }
}

/* The per-repetition ratios v[r] / base[r] into ratios[]. */
static inline void paired_ratios(const double *v, const double *base, int reps, double *ratios)
{
    for (int r = 0; r < reps; r++)
        ratios[r] = base[r] > 0 ? v[r] / base[r] : 0.0;
}

/* The median of the per-repetition ratios v[r] / base[r]. */
static inline double paired_median(const double *v, const double *base, int reps)
{
    double ratios[BENCH_MAX_REPS] = {0};

    paired_ratios(v, base, reps, ratios);
    return median(ratios, reps);
}

/* The verdict of the paired ratios: a side wins only when it wins in every
 * repetition; otherwise the difference is within the run-to-run spread. */
static inline const char *verdict(const double *v, const double *base, int reps,
                                  bool lower_is_better)
{
    int wins = 0, losses = 0;

    for (int r = 0; r < reps; r++) {
        bool better = lower_is_better ? v[r] < base[r] : v[r] > base[r];
        bool worse = lower_is_better ? v[r] > base[r] : v[r] < base[r];
        wins += better;
        losses += worse;
    }
    if (reps == 1)
        return wins ? "weft faster (one repetition only)" : "WEFT SLOWER (one repetition only)";
    if (wins == reps)
        return "weft faster in every repetition";
    if (losses == reps)
        return "WEFT SLOWER in every repetition";
    return wins > losses ? "mixed, weft ahead in most repetitions"
                         : "mixed, WEFT BEHIND in most repetitions";
}

static inline long long parse_int(const char *text, const char *what, long long lo, long long hi)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < lo || v > hi)
        die("%s: expected an integer from %lld to %lld, got \"%s\"", what, lo, hi, text);
    return v;
}

/* A comma-separated list of integers in [lo, hi], at most max of them, into
 * out[]; returns how many. `noun` names one in errors ("thread count"). */
static inline int parse_int_list(const char *text, const char *what, long long lo, long long hi,
                                 int *out, int max, const char *noun)
{
    char buf[256];
    char *save = NULL;
    int n = 0;

    if (strlen(text) >= sizeof buf)
        die("%s: too long", what);
    strcpy(buf, text);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == max)
            die("%s: at most %d %ss", what, max, noun);
        out[n++] = (int)parse_int(tok, what, lo, hi);
    }
    if (n == 0)
        die("%s: no %s", what, noun);
    return n;
}

/* ---- Options --------------------------------------------------------------
 * A benchmark lists its options in a table of bench_option, made with the
 * macros below; bench_parse_options() then reads the environment variables
 * (in table order), and the command line, which wins:
 *   --smoke        sets every option that has a smoke value to it
 *   --help, -h     prints the usage text on stdout and exits 0
 *   a flag         sets its bool
 *   --name VALUE   an integer in [lo, hi], a text, or a custom parse
 * Anything else prints the usage text on stderr and dies. */

typedef struct bench_option {
    const char *name;  /* "--reps" */
    const char *env;   /* "WEFT_BENCH_REPS", or NULL: command line only */
    int *i;            /* one of i, ll, flag, text, parse says what it sets */
    long long *ll;
    bool *flag;
    const char **text;
    void (*parse)(void *ctx, const char *value, const char *what);
    void *ctx;         /* parse's first argument */
    long long lo, hi;  /* i, ll: the range */
    long long smoke;   /* i, ll: the value --smoke sets; 0: --smoke leaves it */
    bool flag_value;   /* flag: the value the option sets */
} bench_option;

#define BENCH_OPT_INT(name_, env_, p, lo_, hi_, smoke_)                        \
    {.name = (name_), .env = (env_), .i = (p), .lo = (lo_), .hi = (hi_), .smoke = (smoke_)}
#define BENCH_OPT_LLONG(name_, env_, p, lo_, hi_, smoke_)                      \
    {.name = (name_), .env = (env_), .ll = (p), .lo = (lo_), .hi = (hi_), .smoke = (smoke_)}
#define BENCH_OPT_FLAG(name_, p, value)                                        \
    {.name = (name_), .flag = (p), .flag_value = (value)}
#define BENCH_OPT_TEXT(name_, env_, p) {.name = (name_), .env = (env_), .text = (p)}
#define BENCH_OPT_CUSTOM(name_, env_, fn, ctx_)                                \
    {.name = (name_), .env = (env_), .parse = (fn), .ctx = (ctx_)}

#define BENCH_NOPTS(table) (sizeof(table) / sizeof(table)[0])

/* Set the option that takes a value from `value`; `what` names it in errors. */
static inline void bench_set_option(const bench_option *o, const char *value, const char *what)
{
    if (o->i)
        *o->i = (int)parse_int(value, what, o->lo, o->hi);
    else if (o->ll)
        *o->ll = parse_int(value, what, o->lo, o->hi);
    else if (o->text)
        *o->text = value;
    else if (o->parse)
        o->parse(o->ctx, value, what);
}

static inline void bench_parse_options(const bench_option *opts, size_t nopts,
                                       const char *usage, int argc, char **argv)
{
    for (size_t k = 0; k < nopts; k++) {
        const char *env = opts[k].env ? getenv(opts[k].env) : NULL;
        if (env && *env && !opts[k].flag)
            bench_set_option(&opts[k], env, opts[k].env);
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        const bench_option *o = NULL;

        if (strcmp(a, "--smoke") == 0) {
            bench_smoke_run = true;
            for (size_t k = 0; k < nopts; k++) {
                if (!opts[k].smoke)
                    continue;
                if (opts[k].i)
                    *opts[k].i = (int)opts[k].smoke;
                else if (opts[k].ll)
                    *opts[k].ll = opts[k].smoke;
            }
            continue;
        }
        for (size_t k = 0; k < nopts && !o; k++)
            if (strcmp(a, opts[k].name) == 0)
                o = &opts[k];
        if (o && o->flag) {
            *o->flag = o->flag_value;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
        if (!v) {
            fputs(usage, stderr);
            die("unknown option or missing value: %s", a);
        }
        if (!o) {
            fputs(usage, stderr);
            die("unknown option: %s", a);
        }
        bench_set_option(o, v, a);
        i++;
    }
}

/* "command:  VAR='x' ./bench --opt", with the options' environment
 * variables that are set, so a pasted table says how it was made. */
static inline void print_command(int argc, char **argv, const bench_option *opts, size_t nopts)
{
    printf("command:  ");
    for (size_t k = 0; k < nopts; k++) {
        const char *v = opts[k].env ? getenv(opts[k].env) : NULL;
        if (v && *v)
            printf("%s='%s' ", opts[k].env, v);
    }
    for (int i = 0; i < argc; i++) {
        if (strpbrk(argv[i], " \t'\"$\\") || argv[i][0] == '\0')
            printf("%s'%s'", i ? " " : "", argv[i]);
        else
            printf("%s%s", i ? " " : "", argv[i]);
    }
    printf("\n");
}

/* Whether `name` contains one of the comma-separated parts of `list`
 * (NULL: everything); exact, when `exact`, compares whole names. */
static inline bool bench_selected(const char *name, const char *list, bool exact)
{
    const char *p = list;

    if (!list)
        return true;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (exact) {
            if (n && strlen(name) == n && strncmp(name, p, n) == 0)
                return true;
        } else {
            for (const char *q = name; n && *q; q++)
                if (strncmp(q, p, n) == 0)
                    return true;
        }
        p += n + (p[n] == ',');
    }
    return false;
}

/* The order in which repetition `rep` runs `n` timed runs: a permutation of
 * 0..n-1, shuffled anew each repetition from a seed that is the repetition's
 * number (so a rerun repeats it). A rotation would put every run after the
 * same neighbour in every repetition, and what the run before leaves (the
 * CPUs the scheduler gave the load's busy processes, threads woken onto a
 * CPU) then falls on one competitor for good: unpinned under external
 * load (cache-line round trip 59-5290 ns), weft's 2-thread lock row always
 * came after the last competitor's 8-thread run and the bare futex lock's
 * after pthread's 2-thread run: weft read 0.41-0.59x the futex lock there,
 * 0.90-0.94x in a shuffled order. */
static inline void bench_order(int *order, int n, int rep)
{
    uint64_t x = 0x9e3779b97f4a7c15u * (uint64_t)(rep + 1);

    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j, t;

        x ^= x << 13; /* xorshift64 */
        x ^= x >> 7;
        x ^= x << 17;
        j = (int)(x % (uint64_t)(i + 1));
        t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* ---- Tables ---------------------------------------------------------------- */

/* The ratio of the medians of v and base (0 when base's is not positive). */
static inline double median_ratio(const double *v, const double *base, int reps)
{
    double base_med = median(base, reps);

    return base_med > 0 ? median(v, reps) / base_med : 0.0;
}

/* The statistics columns of a table row: median, min and max of v, each
 * printed with fmt in 9 columns; then the ratio of the medians to base and
 * the median (min-max) of the per-repetition ("paired") ratios, which
 * compare runs made moments apart and so resist drift best. "n/a" when
 * there is no base, "(baseline)" for the base row itself; the paired column
 * is padded to `pad`. For times the ratio is weft/pthread (lower is
 * better); for throughput too (higher is better). */
static inline void print_stats(const double *v, const double *base, bool is_base, int reps,
                               const char *fmt, int pad)
{
    double lo, hi, plo, phi, ratios[BENCH_MAX_REPS] = {0};
    char buf[64];

    min_max(v, reps, &lo, &hi);
    snprintf(buf, sizeof buf, fmt, median(v, reps));
    printf(" %9s", buf);
    snprintf(buf, sizeof buf, fmt, lo);
    printf(" %9s", buf);
    snprintf(buf, sizeof buf, fmt, hi);
    printf(" %9s", buf);
    if (!base) {
        printf("  %5s  %-*s", "n/a", pad, "n/a");
    } else if (is_base) {
        printf("  %5.2f  %-*s", 1.0, pad, "(baseline)");
    } else {
        paired_ratios(v, base, reps, ratios);
        min_max(ratios, reps, &plo, &phi);
        printf("  %5.2f  %4.2f (%4.2f-%4.2f)", median_ratio(v, base, reps), median(ratios, reps),
               plo, phi);
    }
}

/*
 * One machine-readable line per measured row, for bench/report.py (which
 * builds bench/RESULTS.md and the chart from every bench's output):
 *
 *   @result<TAB>family<TAB>competitor<TAB>median<TAB>min<TAB>max<TAB>unit<TAB>better
 *
 * `family` names what is compared (e.g. "lock.uncontended", see
 * bench/report.py for the list), `competitor` the implementation ("weft",
 * "pthread", "GLib GMutex", ...), `better` is "lower" (times) or "higher"
 * (throughput). Rows of one family are measured in the same run,
 * interleaved, so their ratios mean something.
 */
static inline void bench_result(const char *family, const char *competitor, const double *v,
                                int reps, const char *unit, bool higher_is_better)
{
    double lo, hi;

    min_max(v, reps, &lo, &hi);
    printf("@result\t%s\t%s\t%.6g\t%.6g\t%.6g\t%s\t%s\n", family, competitor, median(v, reps),
           lo, hi, unit, higher_is_better ? "higher" : "lower");
}

/* "skipped:  ..." : the competitor libraries this build was made without
 * (pkg-config did not find them), whose rows every bench leaves out; or
 * "none". */
static inline void print_skipped(void)
{
    static const char *const missing[] = {
#if !defined(WEFT_BENCH_HAVE_C11_THREADS)
        "C11 threads (no <threads.h>)",
#endif
#if !defined(WEFT_BENCH_HAVE_GLIB)
        "GLib (glib-2.0, gthread-2.0)",
#endif
#if !defined(WEFT_BENCH_HAVE_UV)
        "libuv",
#endif
#if !defined(WEFT_BENCH_HAVE_APR)
        "APR (apr-1)",
#endif
#if !defined(WEFT_BENCH_HAVE_APRUTIL)
        "APR-util (apr-util-1: apr_queue)",
#endif
        NULL};
    int i;

    printf("skipped:  ");
    for (i = 0; missing[i]; i++)
        printf("%s%s", i ? ", " : "", missing[i]);
    printf(i ? ": not found at build time\n" : "none (every competitor library was found at build time)\n");
}

/* "build:    Release, bench compiled by gcc 13.2, weft wait backend futex"
 * and "library:  weft linked statically" (or as a shared library). */
static inline void print_build(void)
{
    printf("build:    %s, bench compiled by %s %s, weft wait backend %s\n", WEFT_BENCH_CONFIG,
#if defined(__clang__)
           "clang",
#elif defined(__GNUC__)
           "gcc",
#else
           "cc",
#endif
#if defined(__VERSION__)
           __VERSION__,
#else
           "",
#endif
           WEFT_BENCH_WAIT);
#if defined(WEFT_STATIC)
    printf("library:  weft linked statically\n");
#else
    printf("library:  weft linked as a shared library\n");
#endif
}

#endif /* WEFT_BENCH_UTIL_H */
