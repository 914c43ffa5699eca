/* SPDX-License-Identifier: MIT */
/*
 * weft's test runner: a few macros and helpers, no framework.
 *
 * A test file declares its cases at the start of a line:
 *
 *     WEFT_TEST(lock_release_from_other_thread) { ... }
 *     WEFT_TEST_TIMEOUT(lock_stress, 120) { ... }    (a longer CTest timeout)
 *
 * tests/CMakeLists.txt finds those lines at configure time, generates the
 * table of cases for the runner's main() (runner.c) and registers every case
 * as its own CTest test, `<module>.<case>`, run as `test_<module> <case>` in
 * a process of its own, so a crash or a hang stays in its case.
 *
 *     test_lock --list        print every case name
 *     test_lock <case>        run one case; exit 0 when it passes
 *     test_exit --child <m> [args...]
 *                             run the child mode <m> (below); main() returns
 *                             what it returns
 *
 * A case may also end with weft_test_skip(why): exit code 77, which CTest
 * reports as skipped (SKIP_RETURN_CODE).
 *
 * Child modes, for the exit tests, which must watch a whole process end:
 *
 *     WEFT_CHILD_MODE(exit_runs_handlers) { ...; return 3; }
 *
 * also declared at the start of a line, are entry points that are not
 * tests of their own: a case runs one with weft_test_run_self(), which
 * starts this same executable as `test_<module> --child <mode>` (through
 * system(): /bin/sh or cmd.exe), its stdout redirected to a file, so that
 * stdio in the child is fully buffered, and hands back the child's exit
 * code and output.
 *
 * Checks survive NDEBUG. A failed check prints `file:line: what failed` on
 * stderr and ends the process at once with exit code 1 (from any thread;
 * no atexit handler runs, so a failure never waits for stuck threads).
 *
 * Tests use only weft's API and standard C, so they run unchanged on every
 * platform and under Wine: no POSIX calls, no fork, no pthreads. (The one
 * exception is the fork case of test_exit.c, under #ifndef _WIN32; the
 * runner's own weft_test_run_self() decodes system()'s status per platform.)
 *
 * Environment:
 *   WEFT_TEST_TIME_SCALE    multiplies the generous upper bounds of timing
 *                           checks and the helpers' long waits (default 1).
 *   WEFT_TEST_STRESS_SCALE  multiplies iteration counts of stress cases
 *                           (default: WEFT_TEST_STRESS_DEFAULT, set by CMake:
 *                           1 natively, less under TSan or an emulator).
 */
#ifndef WEFT_TEST_RUNNER_H
#define WEFT_TEST_RUNNER_H

#include <weft.h>

#include "sanitizers.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- Declaring cases ------------------------------------------------------- */

/* One case: runs in the main thread of its own process. */
#define WEFT_TEST(name)                                                        \
    void weft_test_##name(void);                                               \
    void weft_test_##name(void)

/* A case that needs more than the default 30 s CTest timeout; `seconds` is
 * read by CMake (a plain integer) and scaled by WEFT_TEST_TIMEOUT_SCALE. */
#define WEFT_TEST_TIMEOUT(name, seconds) WEFT_TEST(name)

/* A child mode: run only as `test_<module> --child <name>`, by
 * weft_test_run_self(); main() returns its return value, so a mode that
 * returns really returns from main(). Not a CTest test. */
#define WEFT_CHILD_MODE(name)                                                  \
    int weft_child_##name(void);                                               \
    int weft_child_##name(void)

/* Code every run of the executable does first, before main() looks at its
 * arguments: where a module registers its process targets, which a child
 * started by the spawn method must find (it is this executable too).
 * At most one per module, at the start of a line:
 *
 *     WEFT_TEST_SETUP { weft_process_register("square", square); }
 */
#define WEFT_TEST_SETUP                                                        \
    void weft_test_setup(void);                                                \
    void weft_test_setup(void)

/* The tables CMake generates for each test executable. */
typedef struct weft_test_case {
    const char *name;
    void (*fn)(void);
} weft_test_case;

typedef struct weft_test_mode {
    const char *name;
    int (*fn)(void);
} weft_test_mode;

extern const weft_test_case weft_test_cases[];
extern const size_t weft_test_case_count;
extern const weft_test_mode weft_test_modes[]; /* ends with {NULL, NULL} */
extern const size_t weft_test_mode_count;
extern void (*const weft_test_setup_hook)(void); /* NULL without WEFT_TEST_SETUP */

/* ---- Checks ------------------------------------------------------------------ */

/* Print "file:line: message" on stderr and end the process with status 1. */
WEFT_NORETURN void weft_test_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            weft_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);            \
    } while (0)

#define WEFT_TEST_CMP_(kind, type, fmt, a, op, b)                              \
    do {                                                                       \
        type a_ = (type)(a), b_ = (type)(b);                                   \
        if (!(a_ op b_))                                                       \
            weft_test_fail(__FILE__, __LINE__,                                 \
                           kind "(%s, %s): %" fmt " " #op " %" fmt " is false", \
                           #a, #b, a_, b_);                                    \
    } while (0)

/* Signed integers (anything that fits int64_t). */
#define CHECK_EQ_INT(a, b) WEFT_TEST_CMP_("CHECK_EQ_INT", int64_t, PRId64, a, ==, b)
#define CHECK_NE_INT(a, b) WEFT_TEST_CMP_("CHECK_NE_INT", int64_t, PRId64, a, !=, b)
#define CHECK_LT_INT(a, b) WEFT_TEST_CMP_("CHECK_LT_INT", int64_t, PRId64, a, <, b)
#define CHECK_LE_INT(a, b) WEFT_TEST_CMP_("CHECK_LE_INT", int64_t, PRId64, a, <=, b)
#define CHECK_GE_INT(a, b) WEFT_TEST_CMP_("CHECK_GE_INT", int64_t, PRId64, a, >=, b)
/* Unsigned integers (uint32_t, uint64_t, size_t). */
#define CHECK_EQ_UINT(a, b) WEFT_TEST_CMP_("CHECK_EQ_UINT", uint64_t, PRIu64, a, ==, b)
#define CHECK_NE_UINT(a, b) WEFT_TEST_CMP_("CHECK_NE_UINT", uint64_t, PRIu64, a, !=, b)
/* Doubles (times in seconds). */
#define CHECK_LT_DBL(a, b) WEFT_TEST_CMP_("CHECK_LT_DBL", double, ".6f", a, <, b)
#define CHECK_GE_DBL(a, b) WEFT_TEST_CMP_("CHECK_GE_DBL", double, ".6f", a, >=, b)

#define CHECK_EQ_PTR(a, b)                                                     \
    do {                                                                       \
        const void *a_ = (a), *b_ = (b);                                       \
        if (a_ != b_)                                                          \
            weft_test_fail(__FILE__, __LINE__, "CHECK_EQ_PTR(%s, %s): %p != %p", \
                           #a, #b, (void *)(uintptr_t)a_, (void *)(uintptr_t)b_); \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                     \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                   \
            weft_test_fail(__FILE__, __LINE__,                                 \
                           "CHECK_EQ_STR(%s, %s): \"%s\" != \"%s\"", #a, #b,   \
                           a_ ? a_ : "(null)", b_ ? b_ : "(null)");            \
    } while (0)

/* A weft status: prints both codes by name when they differ, and the
 * message the failing call left (weft_last_error_message). */
#define CHECK_STATUS(expr, expected)                                           \
    do {                                                                       \
        int got_ = (expr), want_ = (expected);                                 \
        if (got_ != want_)                                                     \
            weft_test_fail(__FILE__, __LINE__,                                 \
                           "CHECK_STATUS(%s, %s): got %s, want %s; message: %s", \
                           #expr, #expected, weft_strerror(got_),              \
                           weft_strerror(want_), weft_last_error_message());   \
    } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, WEFT_OK)

/*
 * A timed wait that began at monotonic time `t0` and was to last `timeout`
 * seconds: it must not have ended early (1 ms for the double conversions),
 * and not absurdly late (weft_test_slack()).
 */
#define CHECK_ELAPSED(t0, timeout)                                             \
    do {                                                                       \
        double el_ = weft_monotonic() - (t0), to_ = (timeout);                 \
        if (!(el_ >= to_ - 1e-3) || !(el_ < to_ + weft_test_slack()))          \
            weft_test_fail(__FILE__, __LINE__,                                 \
                           "CHECK_ELAPSED(%s, %s): %.6f s elapsed, want [%.6f, %.6f)", \
                           #t0, #timeout, el_, to_ - 1e-3, to_ + weft_test_slack()); \
    } while (0)

/* A duration measured by a thread of a wait of `timeout` seconds that timed
 * out: the same bounds as CHECK_ELAPSED. */
#define CHECK_DURATION(elapsed, timeout)                                       \
    do {                                                                       \
        double el_ = (elapsed), to_ = (timeout);                               \
        if (!(el_ >= to_ - 1e-3) || !(el_ < to_ + weft_test_slack()))          \
            weft_test_fail(__FILE__, __LINE__,                                 \
                           "CHECK_DURATION(%s, %s): %.6f s, want [%.6f, %.6f)", \
                           #elapsed, #timeout, el_, to_ - 1e-3, to_ + weft_test_slack()); \
    } while (0)

/* ---- Skipping ---------------------------------------------------------------- */

/* The exit code CTest counts as "skipped" (SKIP_RETURN_CODE). */
#define WEFT_TEST_SKIP_CODE 77

/* Print "skipped: why" and end the process with WEFT_TEST_SKIP_CODE. */
WEFT_NORETURN void weft_test_skip(const char *why);

/* True when the tests run under qemu-user, which CMake tells them by
 * setting WEFT_TEST_QEMU_USER in their environment when its
 * CMAKE_CROSSCOMPILING_EMULATOR is a qemu (ci/i386.sh, ci/aarch64.sh).
 * qemu-user cannot emulate everything a kernel does; the few cases that
 * check what it cannot skip under it, saying why. */
bool weft_test_under_qemu_user(void);

/* ---- Child processes ------------------------------------------------------------ */

/* The path this executable was started with (argv[0]). */
const char *weft_test_self_path(void);

/* In a child mode run as `<self> --child <mode> args...`: the arguments
 * after the mode's name (*count of them). */
char **weft_test_child_args(int *count);

/*
 * Run this executable as `<self> --child <mode>` and wait for it to end.
 * Its stdout goes to a temporary file (so it is not a terminal and stdio
 * there is fully buffered), read back into `out` (NUL-terminated,
 * truncated to out_cap - 1 bytes, "\r\n" turned into "\n"); its stderr is
 * this process's. *exit_code receives the child's exit code (-1 when it
 * did not exit normally, e.g. killed by a signal). Fails the case when the
 * child cannot be run or its output read. Returns the output's length.
 */
int weft_test_run_self(const char *mode, int *exit_code, char *out, size_t out_cap);

/* Where `line` appears as a whole line in `text` (its offset), or -1. */
long weft_test_line_at(const char *text, const char *line);

/* How many times `line` appears as a whole line in `text`. */
int weft_test_line_count(const char *text, const char *line);

/* Room for a child's output. */
enum { WEFT_TEST_OUT_CAP = 8192 };

/* Run child mode `mode` (output into out[WEFT_TEST_OUT_CAP]); check its exit
 * code is want_code and that it took less than weft_test_long() (the child
 * waited for nothing it must not). */
void weft_test_run_mode(const char *mode, int want_code, char *out);

/* Skip the case where fork() does not exist (Windows). */
void weft_test_skip_without_fork(void);

/* Whether this Windows executable runs under Wine (false elsewhere): for
 * the cases that skip where Wine differs from Windows. */
bool weft_test_under_wine(void);

/* Whether a start of a process or program should be tried again: under
 * Wine, after a pause, when it failed with ERROR_INTERNAL_ERROR (1359) from
 * CreateProcessW, which Wine 8 returns now and then when several processes
 * start at once (seen in about one run in three of test_popen's argv round
 * trip with -j2, and in test_process). Windows documents no such failure,
 * so the library does not retry. `tries` counts the tries so far: false
 * after the fifth. */
bool weft_test_wine_start_flaked(int rc, int tries);

/* The int a process target was given as its argument bytes; 0 when the
 * argument is not one int. */
int weft_test_int_arg(const void *arg, size_t len);

/* The byte at offset i of a big test transfer: a lost, duplicated or
 * reordered block shows. */
unsigned char weft_test_pattern(size_t i);

/* `line` is in `out` exactly once. */
#define CHECK_ONCE(out, line) CHECK_EQ_INT(weft_test_line_count(out, line), 1)
/* `line` is not in `out`. */
#define CHECK_ABSENT(out, line) CHECK_EQ_INT(weft_test_line_count(out, line), 0)
/* Lines a and b are both in `out`, a first. */
#define CHECK_BEFORE(out, a, b)                                                \
    do {                                                                       \
        CHECK_GE_INT(weft_test_line_at(out, a), 0);                            \
        CHECK_GE_INT(weft_test_line_at(out, b), 0);                            \
        CHECK_LT_INT(weft_test_line_at(out, a), weft_test_line_at(out, b));    \
    } while (0)

/* ---- Helpers ----------------------------------------------------------------- */

/* WEFT_TEST_TIME_SCALE (default 1). */
double weft_test_time_scale(void);

/* The slack allowed above a timeout: 1.5 s, scaled. */
double weft_test_slack(void);

/* How long a helper waits for something that must happen "soon" before it
 * calls the case failed: 10 s, scaled (well below the CTest timeout). */
double weft_test_long(void);

/* `n` scaled by WEFT_TEST_STRESS_SCALE, at least 1. */
long weft_test_iterations(long n);

/* Start a thread (checks the start succeeded) / with a name. */
weft_thread *weft_test_start(weft_thread_fn fn, void *arg);
weft_thread *weft_test_start_named(weft_thread_fn fn, void *arg, const char *name);

/* Join within weft_test_long() (checks it did), release the handle and
 * return the thread's result. */
void *weft_test_join(weft_thread *thread);

/* The same for a child process: its exit code (-N for signal N). */
int weft_test_join_process(weft_process *process);

/* Start `n` threads, all running fn(arg), into threads[0..n-1]. */
void weft_test_start_all(weft_thread **threads, int n, weft_thread_fn fn, void *arg);

/* Start `n` threads, thread i running fn(args + i * size): one argument
 * each, from an array of `size`-byte elements. */
void weft_test_start_each(weft_thread **threads, int n, weft_thread_fn fn, void *args,
                          size_t size);

/* weft_test_join() each of threads[0..n-1] in turn; their results are dropped. */
void weft_test_join_all(weft_thread **threads, int n);

/* Start `n` (at most 64) threads running fn(arg) and join them all. */
void weft_test_run_all(int n, weft_thread_fn fn, void *arg);

/* Wait for an event within weft_test_long() (checks it was set). */
void weft_test_wait_event(weft_event *event);

/*
 * Give threads that have announced they are about to block time to park
 * (50 ms, scaled). Never needed for a test to be correct: only to make it
 * likely that the blocking path, not the fast path, is exercised.
 */
void weft_test_settle(void);

/*
 * A counter guarded by a lock, with a condition to wait for a value:
 * the tests' handshake ("N threads have arrived") without sleeps.
 */
typedef struct weft_test_counter {
    weft_lock lock;
    weft_cond cond;
    long value;
} weft_test_counter;

#define WEFT_TEST_COUNTER_INIT {WEFT_LOCK_INIT, WEFT_COND_INIT, 0}

void weft_test_counter_add(weft_test_counter *c, long n);
long weft_test_counter_get(weft_test_counter *c);
/* Wait within weft_test_long() until the value is at least `value`. */
void weft_test_counter_wait(weft_test_counter *c, long value);

/* Start `n` threads running fn(arg), each of which adds 1 to `started`
 * just before it blocks; wait until all have, then weft_test_settle(). */
void weft_test_start_parked(weft_thread **threads, int n, weft_thread_fn fn, void *arg,
                            weft_test_counter *started);

/*
 * A mutual-exclusion stress: `threads` threads meet at `start`, then each
 * `iterations` times calls acquire(ctx, i), checks it is alone inside,
 * increments `counter` and calls release(ctx, i). Both return a weft
 * status, checked to be WEFT_OK, except that an acquire may time out
 * (WEFT_ETIMEDOUT): that round is counted in `gave_up` instead.
 * weft_test_exclusion_run() joins the threads and checks that no round was
 * lost: counter + gave_up == threads * iterations. The case checks the
 * exact count it expects (counter alone, when nothing may give up).
 */
typedef struct weft_test_exclusion {
    int (*acquire)(void *ctx, long i);
    int (*release)(void *ctx, long i);
    void *ctx;
    int threads;
    long iterations;     /* per thread, already scaled */
    weft_barrier start;  /* threads + `extra` parties (the case's own threads) */
    long counter;        /* guarded by the lock under test */
    int inside;          /* guarded by the lock under test: threads inside */
    weft_lock tally;     /* guards gave_up */
    long gave_up;
} weft_test_exclusion;

/* Set up for `threads` threads of `iterations` (scaled here by
 * weft_test_iterations()); `extra` more threads of the case's own will
 * wait at x->start too. */
void weft_test_exclusion_init(weft_test_exclusion *x, int (*acquire)(void *ctx, long i),
                              int (*release)(void *ctx, long i), void *ctx, int threads,
                              long iterations, int extra);
/* Start the threads, join them all, check counter + gave_up. */
void weft_test_exclusion_run(weft_test_exclusion *x);

#endif /* WEFT_TEST_RUNNER_H */
