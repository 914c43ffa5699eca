/* SPDX-License-Identifier: MIT */
/* The runner's main() and the helpers declared in runner.h. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* sys/wait.h's status macros */
#endif
#include "runner.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <sys/wait.h>
#endif

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

void weft_test_skip(const char *why)
{
    printf("skipped: %s\n", why);
    fflush(stdout);
    _Exit(WEFT_TEST_SKIP_CODE);
}

bool weft_test_under_qemu_user(void)
{
    const char *flag = getenv("WEFT_TEST_QEMU_USER");

    return flag != NULL && strcmp(flag, "1") == 0;
}

/* ---- Child processes ------------------------------------------------------------ */

static const char *self_path = "";

void weft_test_skip_without_fork(void)
{
#ifdef _WIN32
    weft_test_skip("no fork() on this platform");
#endif
}

bool weft_test_under_wine(void)
{
#ifdef _WIN32
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");

    return ntdll && GetProcAddress(ntdll, "wine_get_version") != NULL;
#else
    return false;
#endif
}

bool weft_test_wine_start_flaked(int rc, int tries)
{
    if (rc != WEFT_EOS || weft_last_os_error() != 1359 || tries >= 5 || !weft_test_under_wine())
        return false;
    weft_sleep(0.05);
    return true;
}

int weft_test_int_arg(const void *arg, size_t len)
{
    int x = 0;

    if (len == sizeof x)
        memcpy(&x, arg, sizeof x);
    return x;
}

unsigned char weft_test_pattern(size_t i)
{
    return (unsigned char)((i * 2654435761u) >> 13 ^ i >> 20);
}

static int child_argc;
static char **child_argv;

char **weft_test_child_args(int *count)
{
    *count = child_argc;
    return child_argv;
}

const char *weft_test_self_path(void)
{
    return self_path;
}

static void put(char *buf, size_t cap, size_t *len, char c)
{
    if (*len + 1 >= cap)
        weft_test_fail(__FILE__, __LINE__, "command too long");
    buf[(*len)++] = c;
    buf[*len] = '\0';
}

/* Append `text` to buf (of `cap` bytes, holding `*len`), when `quote` in
 * double quotes for the shell system() runs: /bin/sh or cmd.exe. Fails the
 * case when it does not fit. */
static void append(char *buf, size_t cap, size_t *len, const char *text, bool quote)
{
    const char *p;

    if (quote)
        put(buf, cap, len, '"');
    for (p = text; *p; p++) {
#ifdef _WIN32
        /* cmd.exe has no escape inside quotes; a path cannot hold '"'. */
        if (quote && *p == '"')
            weft_test_fail(__FILE__, __LINE__, "cannot quote %s", text);
#else
        if (quote && (*p == '"' || *p == '\\' || *p == '$' || *p == '`'))
            put(buf, cap, len, '\\');
#endif
        put(buf, cap, len, *p);
    }
    if (quote)
        put(buf, cap, len, '"');
}

int weft_test_run_self(const char *mode, int *exit_code, char *out, size_t out_cap)
{
    static unsigned serial;
    char file[256], command[4096];
    size_t len = 0, got;
    int status, c;
    FILE *f;

    CHECK(mode != NULL && exit_code != NULL && out != NULL && out_cap > 0);
    /* In the working directory (CTest's: the build tree), unique per run. */
    snprintf(file, sizeof file, "weft-child-%s-%" PRId64 "-%u.out", mode, weft_monotonic_ns(),
             serial++);
#ifdef _WIN32
    /* cmd /c strips the first and the last quote of a command that starts
     * with one: give it an outer pair to strip. */
    append(command, sizeof command, &len, "\"", false);
#endif
    append(command, sizeof command, &len, self_path, true);
    append(command, sizeof command, &len, " --child ", false);
    append(command, sizeof command, &len, mode, true);
    append(command, sizeof command, &len, " >", false);
    append(command, sizeof command, &len, file, true);
#ifdef _WIN32
    append(command, sizeof command, &len, "\"", false);
#endif

    fflush(NULL); /* nothing of ours is written twice by the child */
    status = system(command);
#ifdef _WIN32
    /* Wine only: cmd.exe now and then fails to start a program (9009, "not
     * recognised") while many processes start at once, or fails to start
     * itself (system() returns -1: once in the 1791 msvc-wine runs of a CI
     * run). This executable exists, so that is Wine's start-up failing:
     * run it once more, and say so. */
    if ((status == 9009 || status == -1) && weft_test_under_wine()) {
        fprintf(stderr, "runner: under Wine, cmd.exe could not start child mode %s (%d): "
                        "once more\n", mode, status);
        status = system(command);
    }
    *exit_code = status; /* cmd.exe's exit code: the program's */
#else
    if (status == -1)
        weft_test_fail(__FILE__, __LINE__, "system(%s) failed", command);
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (WIFSIGNALED(status))
        fprintf(stderr, "runner: child mode %s killed by signal %d\n", mode, WTERMSIG(status));
#endif

    f = fopen(file, "r");
    if (!f)
        weft_test_fail(__FILE__, __LINE__, "no output file %s from `%s` (exit code %d)", file,
                       command, *exit_code);
    got = 0;
    while ((c = fgetc(f)) != EOF) {
        if (c != '\r' && got + 1 < out_cap)
            out[got++] = (char)c;
    }
    out[got] = '\0';
    fclose(f);
    remove(file);
    /* Shown with the case's output when it fails. */
    fprintf(stderr, "---- child mode %s: exit code %d, stdout:\n%s----\n", mode, *exit_code, out);
    return (int)got;
}

long weft_test_line_at(const char *text, const char *line)
{
    size_t n = strlen(line);
    const char *p = text;

    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, line, n) == 0)
            return (long)(p - text);
        if (!end)
            break;
        p = end + 1;
    }
    return -1;
}

int weft_test_line_count(const char *text, const char *line)
{
    long at;
    int count = 0;

    while ((at = weft_test_line_at(text, line)) >= 0) {
        count++;
        text += at + (long)strlen(line);
        if (*text == '\n')
            text++;
    }
    return count;
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

int weft_test_join_process(weft_process *process)
{
    int code = -100;

    CHECK_OK(weft_process_join(process, weft_test_long()));
    CHECK(!weft_process_is_alive(process));
    CHECK_OK(weft_process_exitcode(process, &code));
    weft_process_release(process);
    return code;
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

    if (argc > 0 && argv[0] != NULL)
        self_path = argv[0];
    /* Targets are registered before a spawned child looks for its own. */
    if (weft_test_setup_hook)
        weft_test_setup_hook();
    weft_process_main(argc, argv);
    if (argc >= 3 && strcmp(argv[1], "--child") == 0) {
        child_argc = argc - 3;
        child_argv = argv + 3;
        for (i = 0; i < weft_test_mode_count; i++) {
            if (strcmp(argv[2], weft_test_modes[i].name) == 0)
                return weft_test_modes[i].fn(); /* a real return from main() */
        }
        fprintf(stderr, "%s: no child mode named \"%s\"\n", self_path, argv[2]);
        return 2;
    }
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < weft_test_case_count; i++)
            printf("%s\n", weft_test_cases[i].name);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s <case> | --list | --child <mode>\n", self_path);
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

void weft_test_run_mode(const char *mode, int want_code, char *out)
{
    int code = -2;
    double t0 = weft_monotonic();

    weft_test_run_self(mode, &code, out, WEFT_TEST_OUT_CAP);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_long());
    CHECK_EQ_INT(code, want_code);
}
