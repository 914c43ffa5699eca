/* SPDX-License-Identifier: MIT */
/* weft/time.h: clocks, sleep, CPU count. */
#include "runner.h"

#include <math.h>
#include <time.h>

WEFT_TEST(time_monotonic_never_decreases)
{
    double prev = weft_monotonic();
    int64_t prev_ns = weft_monotonic_ns();
    long i;

    for (i = 0; i < 100000; i++) {
        double now = weft_monotonic();
        int64_t now_ns = weft_monotonic_ns();
        CHECK_GE_DBL(now, prev);
        CHECK_GE_INT(now_ns, prev_ns);
        prev = now;
        prev_ns = now_ns;
    }
}

WEFT_TEST(time_monotonic_ns_agrees_with_seconds)
{
    int i;

    for (i = 0; i < 1000; i++) {
        int64_t before = weft_monotonic_ns();
        double seconds = weft_monotonic();
        int64_t after = weft_monotonic_ns();
        /* One clock, two units: the seconds reading lies between the two
         * nanosecond readings (1 us for double rounding). */
        CHECK_GE_DBL(seconds, (double)before / 1e9 - 1e-6);
        CHECK_GE_DBL((double)after / 1e9 + 1e-6, seconds);
    }
}

WEFT_TEST(time_monotonic_advances_during_sleep)
{
    int64_t t0 = weft_monotonic_ns();

    CHECK_OK(weft_sleep(0.05));
    CHECK_GE_INT(weft_monotonic_ns() - t0, 50000000 - 1000000);
}

WEFT_TEST(time_wall_clock_is_unix_time)
{
    double now = weft_time();
    time_t c_now = time(NULL);

    /* 2020-01-01 .. 2100-01-01 */
    CHECK_GE_DBL(now, 1577836800.0);
    CHECK_LT_DBL(now, 4102444800.0);
    /* Every supported platform's time() counts seconds since the epoch. */
    CHECK_LT_DBL(fabs(now - (double)c_now), 2.0);
    /* Sub-second resolution: two readings 20 ms apart differ. */
    CHECK_OK(weft_sleep(0.02));
    CHECK_GE_DBL(weft_time() - now, 0.01);
}

WEFT_TEST(time_sleep_is_not_early)
{
    double t0 = weft_monotonic();

    CHECK_OK(weft_sleep(0.1));
    CHECK_ELAPSED(t0, 0.1);
}

WEFT_TEST(time_sleep_short_values_not_early)
{
    /* Values below the timer granularity of some systems (Windows: 15.6 ms
     * by default) must still not return early. */
    static const double values[] = {0.001, 0.002, 0.005, 0.017};
    size_t i;

    for (i = 0; i < sizeof values / sizeof values[0]; i++) {
        double t0 = weft_monotonic();
        CHECK_OK(weft_sleep(values[i]));
        CHECK_ELAPSED(t0, values[i]);
    }
}

WEFT_TEST(time_sleep_zero_returns_at_once)
{
    double t0 = weft_monotonic();

    CHECK_OK(weft_sleep(0));
    CHECK_OK(weft_sleep(0.0));
    CHECK_ELAPSED(t0, 0.0);
}

WEFT_TEST(time_sleep_bad_values_einval)
{
    double t0 = weft_monotonic();

    CHECK_STATUS(weft_sleep(-2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_sleep(-0.5), WEFT_EINVAL);
    CHECK_STATUS(weft_sleep(-1e-9), WEFT_EINVAL);
    CHECK_STATUS(weft_sleep(-INFINITY), WEFT_EINVAL);
    CHECK_STATUS(weft_sleep(NAN), WEFT_EINVAL);
    /* ... and they did not sleep. */
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack());
}

static void *sleeper(void *arg)
{
    double seconds = *(const double *)arg;
    double t0 = weft_monotonic();

    CHECK_OK(weft_sleep(seconds));
    CHECK_ELAPSED(t0, seconds);
    return NULL;
}

WEFT_TEST(time_sleep_in_threads_runs_concurrently)
{
    /* Four threads sleeping 0.2 s each: they sleep side by side, so the
     * whole takes about 0.2 s, not 0.8 s. */
    static const double seconds = 0.2;
    double t0 = weft_monotonic();

    weft_test_run_all(4, sleeper, (void *)&seconds);
    CHECK_ELAPSED(t0, seconds);
    CHECK_LT_DBL(weft_monotonic() - t0, 4 * seconds);
}

WEFT_TEST(time_cpu_count_positive)
{
    int n = weft_cpu_count();

    CHECK_GE_INT(n, 1);
    CHECK_LE_INT(n, 1 << 16);
    CHECK_EQ_INT(weft_cpu_count(), n); /* stable */
}
