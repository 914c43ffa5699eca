/* The runner's main() and the helpers declared in runner.h. */
#include "runner.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef WEFT_TEST_STRESS_DEFAULT
#define WEFT_TEST_STRESS_DEFAULT 1.0
#endif

void weft_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    /* At once, from whichever thread failed: exit() would run atexit
     * handlers, and weft's would wait for the other threads, which may be
     * stuck because of the very failure being reported. */
    _Exit(1);
}

/* A positive number from the environment, or `fallback`. */
static double env_scale(const char *name, double fallback)
{
    const char *text = getenv(name);
    char *end;
    double value;

    if (text == NULL || *text == '\0')
        return fallback;
    value = strtod(text, &end);
    if (end == text || *end != '\0' || !(value > 0.0) || !isfinite(value)) {
        fprintf(stderr, "runner: ignoring %s=\"%s\" (want a positive number)\n", name, text);
        return fallback;
    }
    return value;
}

double weft_test_time_scale(void)
{
    return env_scale("WEFT_TEST_TIME_SCALE", 1.0);
}

double weft_test_slack(void)
{
    return 1.5 * weft_test_time_scale();
}

double weft_test_long(void)
{
    return 10.0 * weft_test_time_scale();
}

long weft_test_iterations(long n)
{
    double scaled = (double)n * env_scale("WEFT_TEST_STRESS_SCALE", WEFT_TEST_STRESS_DEFAULT);

    return scaled < 1.0 ? 1 : (long)scaled;
}

weft_thread *weft_test_start_named(weft_thread_fn fn, void *arg, const char *name)
{
    weft_thread *thread = NULL;
    weft_thread_opts opts = {0};

    opts.name = name;
    CHECK_OK(weft_thread_start(&thread, fn, arg, name ? &opts : NULL));
    CHECK(thread != NULL);
    return thread;
}

weft_thread *weft_test_start(weft_thread_fn fn, void *arg)
{
    return weft_test_start_named(fn, arg, NULL);
}

void *weft_test_join(weft_thread *thread)
{
    void *result = NULL;

    CHECK_OK(weft_thread_join(thread, weft_test_long(), &result));
    weft_thread_release(thread);
    return result;
}

void weft_test_start_all(weft_thread **threads, int n, weft_thread_fn fn, void *arg)
{
    int i;

    for (i = 0; i < n; i++)
        threads[i] = weft_test_start(fn, arg);
}

void weft_test_start_each(weft_thread **threads, int n, weft_thread_fn fn, void *args,
                          size_t size)
{
    int i;

    for (i = 0; i < n; i++)
        threads[i] = weft_test_start(fn, (char *)args + (size_t)i * size);
}

void weft_test_join_all(weft_thread **threads, int n)
{
    int i;

    for (i = 0; i < n; i++)
        weft_test_join(threads[i]);
}

void weft_test_run_all(int n, weft_thread_fn fn, void *arg)
{
    weft_thread *threads[64];

    CHECK(n > 0 && n <= 64);
    weft_test_start_all(threads, n, fn, arg);
    weft_test_join_all(threads, n);
}

void weft_test_wait_event(weft_event *event)
{
    CHECK_OK(weft_event_wait(event, weft_test_long()));
}

void weft_test_settle(void)
{
    CHECK_OK(weft_sleep(0.05 * weft_test_time_scale()));
}

void weft_test_counter_add(weft_test_counter *c, long n)
{
    CHECK_OK(weft_lock_acquire(&c->lock, WEFT_FOREVER));
    c->value += n;
    weft_cond_notify_all(&c->cond);
    CHECK_OK(weft_lock_release(&c->lock));
}

long weft_test_counter_get(weft_test_counter *c)
{
    long value;

    CHECK_OK(weft_lock_acquire(&c->lock, WEFT_FOREVER));
    value = c->value;
    CHECK_OK(weft_lock_release(&c->lock));
    return value;
}

void weft_test_counter_wait(weft_test_counter *c, long value)
{
    double deadline = weft_monotonic() + weft_test_long();

    CHECK_OK(weft_lock_acquire(&c->lock, WEFT_FOREVER));
    while (c->value < value) {
        double left = deadline - weft_monotonic();
        if (left <= 0.0)
            weft_test_fail(__FILE__, __LINE__, "counter stuck at %ld, waited for %ld", c->value,
                           value);
        (void)weft_cond_wait(&c->cond, &c->lock, left);
    }
    CHECK_OK(weft_lock_release(&c->lock));
}

void weft_test_exclusion_init(weft_test_exclusion *x, int (*acquire)(void *ctx, long i),
                              int (*release)(void *ctx, long i), void *ctx, int threads,
                              long iterations, int extra)
{
    memset(x, 0, sizeof *x);
    x->acquire = acquire;
    x->release = release;
    x->ctx = ctx;
    x->threads = threads;
    x->iterations = weft_test_iterations(iterations);
    weft_barrier_init(&x->start, (uint32_t)(threads + extra));
}

static void *exclusion_thread(void *arg)
{
    weft_test_exclusion *x = arg;
    long i, gave_up = 0;

    CHECK(weft_barrier_wait(&x->start, weft_test_long()) >= 0);
    for (i = 0; i < x->iterations; i++) {
        int status = x->acquire(x->ctx, i);
        if (status == WEFT_ETIMEDOUT) {
            gave_up++;
            continue;
        }
        CHECK_OK(status);
        CHECK_EQ_INT(x->inside++, 0);
        x->counter++;
        x->inside--;
        CHECK_OK(x->release(x->ctx, i));
    }
    CHECK_OK(weft_lock_acquire(&x->tally, WEFT_FOREVER));
    x->gave_up += gave_up;
    CHECK_OK(weft_lock_release(&x->tally));
    return NULL;
}

void weft_test_exclusion_run(weft_test_exclusion *x)
{
    weft_thread *threads[64];

    CHECK(x->threads > 0 && x->threads <= 64);
    weft_test_start_all(threads, x->threads, exclusion_thread, x);
    weft_test_join_all(threads, x->threads);
    CHECK_EQ_INT(x->counter + x->gave_up, (long)x->threads * x->iterations);
}

void weft_test_start_parked(weft_thread **threads, int n, weft_thread_fn fn, void *arg,
                            weft_test_counter *started)
{
    weft_test_start_all(threads, n, fn, arg);
    weft_test_counter_wait(started, n);
    weft_test_settle();
}

int main(int argc, char **argv)
{
    size_t i;

    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < weft_test_case_count; i++)
            printf("%s\n", weft_test_cases[i].name);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s <case> | --list\n", argc > 0 ? argv[0] : "test");
        return 2;
    }
    for (i = 0; i < weft_test_case_count; i++) {
        if (strcmp(argv[1], weft_test_cases[i].name) == 0) {
            weft_test_cases[i].fn();
            fflush(stdout);
            return 0;
        }
    }
    fprintf(stderr, "%s: no case named \"%s\" (try --list)\n", argc > 0 ? argv[0] : "test",
            argv[1]);
    return 2;
}
