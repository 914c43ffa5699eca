/*
 * bench_util.h: what the benchmarks share: fatal errors, statistics over
 * repetitions (median, range, paired ratios, a verdict), integer options and
 * the "command:" and "build:" lines of the output.
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

/* "command:  VAR='x' ./bench --opt", with the environment variables among
 * vars[0..nvars-1] that are set, so a pasted table says how it was made. */
static inline void print_command(int argc, char **argv, const char *const *vars, size_t nvars)
{
    printf("command:  ");
    for (size_t i = 0; i < nvars; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            printf("%s='%s' ", vars[i], v);
    }
    for (int i = 0; i < argc; i++) {
        if (strpbrk(argv[i], " \t'\"$\\") || argv[i][0] == '\0')
            printf("%s'%s'", i ? " " : "", argv[i]);
        else
            printf("%s%s", i ? " " : "", argv[i]);
    }
    printf("\n");
}

/* "build:    Release, bench compiled by gcc 13.2, weft wait backend futex". */
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
}

#endif /* WEFT_BENCH_UTIL_H */
