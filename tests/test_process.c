/* SPDX-License-Identifier: MIT */
/* weft_process: multiprocessing.Process with the spawn and fork methods.
 *
 * A spawned child is this test executable again: WEFT_TEST_SETUP registers
 * the targets in every run, so the child finds them. Cases about what a
 * whole process does at its exit run a child mode through
 * weft_test_run_self() and read what it (and its own children, which share
 * its stdout) printed. The fork method exists on POSIX only; its cases are
 * skipped on Windows. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* setenv */
#endif
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/types.h>
#include <sys/wait.h>
#endif

/* ---- Targets ------------------------------------------------------------------ */

static int return_arg(const void *arg, size_t len)
{
    return weft_test_int_arg(arg, len);
}

enum { BIG = 16 << 20 };

static int check_big(const void *arg, size_t len)
{
    const unsigned char *bytes = arg;
    size_t i;

    if (len != BIG)
        return 2;
    for (i = 0; i < len; i++) {
        if (bytes[i] != weft_test_pattern(i))
            return 3;
    }
    return 0;
}

static int sleep_long(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    weft_sleep(60);
    return 0;
}

static int crash(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    abort();
}

static void say(void *line)
{
    printf("%s\n", (const char *)line);
}

/* Prints its pid, registers a handler of its own, returns 5. */
static int greet(const void *arg, size_t len)
{
    printf("hello %.*s from %lld\n", (int)len, (const char *)arg, (long long)weft_getpid());
    weft_atexit(say, "child handler");
    return 5;
}

static int nap(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    weft_sleep(0.2);
    return 0;
}

static int late_line(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    weft_sleep(0.3);
    printf("child done\n");
    return 0;
}

static int child_line(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    printf("child line\n");
    return 0;
}

/* ---- A main() that forgets weft_process_main() -------------------------------------- */

/* Set for the children of the case below: how deep in the chain of
 * children this run is. */
#define FORGETFUL_DEPTH "WEFT_TEST_FORGETFUL_DEPTH"

static void set_depth(int depth)
{
    char text[16];

    snprintf(text, sizeof text, "%d", depth);
#ifdef _WIN32
    _putenv_s(FORGETFUL_DEPTH, text);
#else
    setenv(FORGETFUL_DEPTH, text, 1);
#endif
}

/* What a main() that never calls weft_process_main() does in a spawned
 * child: it starts a process again, as its parent did. weft must refuse
 * (WEFT_EPERM). The chain is cut at depth 3, so that the case fails
 * instead of filling the machine. Ends the process. */
static void forgetful_main(int depth)
{
    weft_process_opts opts = {.method = WEFT_START_SPAWN};
    weft_process *p = NULL;
    int rc;

    if (depth >= 3) {
        printf("depth %d: the chain goes on\n", depth);
        exit(3);
    }
    set_depth(depth + 1);
    rc = weft_process_start(&p, "child_line", NULL, 0, &opts);
    printf("depth %d: %s\n", depth, weft_strerror(rc));
    if (rc != WEFT_OK) {
        printf("message names weft_process_main: %d\n",
               strstr(weft_last_error_message(), "weft_process_main()") != NULL);
        exit(0);
    }
    weft_process_join(p, WEFT_FOREVER);
    exit(4);
}

/* ---- Fork children use each facility whose lock another thread held ------------- */

/* Each step takes one of weft's module locks; the hammer thread of a case
 * runs it without pause, and the case's fork children run it once: a lock
 * the fork caught held must be free in the child. */
static weft_future *pending; /* a future that stays pending while a case runs */
static int atexit_key;

static void noop_handler(void *arg)
{
    (void)arg;
}

static int noop_target(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    return 0;
}

static void atexit_step(void)
{
    CHECK_OK(weft_atexit(noop_handler, &atexit_key));
    CHECK_OK(weft_atexit_unregister(noop_handler, &atexit_key));
}

static void register_step(void)
{
    CHECK_OK(weft_process_register("noop_target", noop_target));
}

static void executor_step(void)
{
    weft_executor *ex = NULL;

    CHECK_OK(weft_executor_create(&ex, 1, "forked"));
    weft_executor_destroy(ex);
}

static void wait_step(void)
{
    CHECK_STATUS(weft_futures_wait(&pending, 1, 0, WEFT_ALL_COMPLETED), WEFT_ETIMEDOUT);
}

static void reply_step(void)
{
    CHECK_STATUS(weft_process_reply("x", 1), WEFT_EINVAL); /* not a pool worker */
}

#define FORK_CHILD_RUNS(name, step)                                                        \
    static int name(const void *arg, size_t len)                                           \
    {                                                                                      \
        (void)arg;                                                                         \
        (void)len;                                                                         \
        step();                                                                            \
        return 0;                                                                          \
    }
FORK_CHILD_RUNS(fork_child_atexit, atexit_step)
FORK_CHILD_RUNS(fork_child_register, register_step)
FORK_CHILD_RUNS(fork_child_executor, executor_step)
FORK_CHILD_RUNS(fork_child_wait, wait_step)
FORK_CHILD_RUNS(fork_child_reply, reply_step)

WEFT_TEST_SETUP
{
    const char *depth = getenv(FORGETFUL_DEPTH);

    weft_process_register("child_line", child_line);
    weft_process_register("return_arg", return_arg);
    weft_process_register("check_big", check_big);
    weft_process_register("sleep_long", sleep_long);
    weft_process_register("crash", crash);
    weft_process_register("greet", greet);
    weft_process_register("late_line", late_line);
    weft_process_register("nap", nap);
    /* Before the runner's weft_process_main(): a main() that forgot it. */
    if (depth && *depth)
        forgetful_main(atoi(depth));
    weft_process_register("noop_target", noop_target);
    weft_process_register("fork_child_atexit", fork_child_atexit);
    weft_process_register("fork_child_register", fork_child_register);
    weft_process_register("fork_child_executor", fork_child_executor);
    weft_process_register("fork_child_wait", fork_child_wait);
    weft_process_register("fork_child_reply", fork_child_reply);
}

/* ---- Helpers -------------------------------------------------------------------- */

static weft_process *start(const char *target, const void *arg, size_t len,
                           weft_start_method method, bool daemon)
{
    weft_process_opts opts = {.method = method, .daemon = daemon};
    weft_process *p = NULL;
    int rc = weft_process_start(&p, target, arg, len, &opts);
    int tries;

    for (tries = 1; weft_test_wine_start_flaked(rc, tries); tries++)
        rc = weft_process_start(&p, target, arg, len, &opts);
    CHECK_OK(rc);
    CHECK(p != NULL);
    return p;
}

static int run_to_end(const char *target, const void *arg, size_t len, weft_start_method method)
{
    return weft_test_join_process(start(target, arg, len, method, false));
}

/* ---- Registration and arguments ------------------------------------------------------ */

WEFT_TEST(process_register_checks_arguments)
{
    CHECK_STATUS(weft_process_register(NULL, return_arg), WEFT_EINVAL);
    CHECK_STATUS(weft_process_register("", return_arg), WEFT_EINVAL);
    CHECK_STATUS(weft_process_register("x", NULL), WEFT_EINVAL);
    CHECK_OK(weft_process_register("return_arg", return_arg));       /* the same pair again */
    CHECK_STATUS(weft_process_register("return_arg", check_big), WEFT_EINVAL);
}

/* "weft:" names are weft's own targets (a pool's worker): a program's
 * target under such a name would be run in a fork child but not in a
 * spawned one, which finds weft's first. */
WEFT_TEST(process_register_refuses_weft_names)
{
    CHECK_STATUS(weft_process_register("weft:pool-worker", return_arg), WEFT_EINVAL);
    CHECK_STATUS(weft_process_register("weft:mine", return_arg), WEFT_EINVAL);
    CHECK(strstr(weft_last_error_message(), "weft's own") != NULL);
    CHECK_OK(weft_process_register("weft", return_arg)); /* only the prefix is taken */
}

WEFT_TEST(process_start_checks_arguments)
{
    weft_process_opts bad = {.method = (weft_start_method)42};
    weft_process *p = NULL;

    CHECK_STATUS(weft_process_start(NULL, "return_arg", NULL, 0, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_process_start(&p, NULL, NULL, 0, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_process_start(&p, "return_arg", NULL, 4, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_process_start(&p, "return_arg", NULL, 0, &bad), WEFT_EINVAL);
    CHECK_STATUS(weft_process_start(&p, "no_such_target", NULL, 0, NULL), WEFT_ENOENT);
    CHECK(p == NULL);
    CHECK_STATUS(weft_process_join(NULL, 0), WEFT_EINVAL);
    CHECK(!weft_process_is_alive(NULL));
    CHECK_STATUS(weft_process_exitcode(NULL, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_process_terminate(NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_process_kill(NULL), WEFT_EINVAL);
    CHECK_EQ_INT(weft_process_pid(NULL), -1);
    weft_process_release(NULL);
}

WEFT_TEST(process_fork_method_exists_where_fork_does)
{
    weft_process_opts opts = {.method = WEFT_START_FORK};
    weft_process *p = NULL;
    int rc = weft_process_start(&p, "return_arg", NULL, 0, &opts);

#ifdef _WIN32
    CHECK_STATUS(rc, WEFT_EINVAL);
#else
    CHECK_OK(rc);
    CHECK_OK(weft_process_join(p, weft_test_long()));
    weft_process_release(p);
#endif
}

/* ---- Exit codes --------------------------------------------------------------------------- */

static void exit_code_is_return_value(weft_start_method method)
{
    int seven = 7, zero = 0;

    CHECK_EQ_INT(run_to_end("return_arg", &seven, sizeof seven, method), 7);
    CHECK_EQ_INT(run_to_end("return_arg", &zero, sizeof zero, method), 0);
}

WEFT_TEST(process_spawn_exit_code_is_return_value)
{
    exit_code_is_return_value(WEFT_START_SPAWN);
}

WEFT_TEST(process_default_method_exit_code_is_return_value)
{
    exit_code_is_return_value(WEFT_START_DEFAULT);
}

WEFT_TEST(process_fork_exit_code_is_return_value)
{
    weft_test_skip_without_fork();
    exit_code_is_return_value(WEFT_START_FORK);
}

/* The README's promise: a return value is cut to what an exit code holds
 * (a pool hands back the whole int: pool_map_results_in_input_order). */
WEFT_TEST(process_exit_code_is_what_the_os_keeps)
{
    int big = 300;
#ifdef _WIN32
    int kept = 300;
#else
    int kept = 300 & 0xff;
#endif

    CHECK_EQ_INT(run_to_end("return_arg", &big, sizeof big, WEFT_START_SPAWN), kept);
}

static void crash_is_reported(weft_start_method method)
{
    int code = run_to_end("crash", NULL, 0, method);

#ifdef _WIN32
    CHECK_EQ_INT(code, 3); /* abort() on Windows */
#else
    CHECK_EQ_INT(code, -6); /* -SIGABRT */
#endif
}

WEFT_TEST(process_spawn_crash_is_reported)
{
    crash_is_reported(WEFT_START_SPAWN);
}

WEFT_TEST(process_fork_crash_is_reported)
{
    weft_test_skip_without_fork();
    crash_is_reported(WEFT_START_FORK);
}

/* ---- Big arguments ------------------------------------------------------------------------ */

static void big_argument_arrives_intact(weft_start_method method)
{
    unsigned char *big = malloc(BIG);
    size_t i;

    CHECK(big != NULL);
    for (i = 0; i < BIG; i++)
        big[i] = weft_test_pattern(i);
    CHECK_EQ_INT(run_to_end("check_big", big, BIG, method), 0);
    free(big);
}

WEFT_TEST_TIMEOUT(process_spawn_16mib_argument_arrives_intact, 60)
{
    big_argument_arrives_intact(WEFT_START_SPAWN);
}

WEFT_TEST_TIMEOUT(process_fork_16mib_argument_arrives_intact, 60)
{
    weft_test_skip_without_fork();
    big_argument_arrives_intact(WEFT_START_FORK);
}

/* ---- Join, liveness, signals -------------------------------------------------------------- */

static void join_times_out_then_terminate(weft_start_method method, bool kill)
{
    weft_process *p = start("sleep_long", NULL, 0, method, false);
    int code = -100;
    double t0;

    CHECK(weft_process_pid(p) > 0);
    CHECK(weft_process_pid(p) != weft_getpid());
    t0 = weft_monotonic();
    CHECK_STATUS(weft_process_join(p, 0.2), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.2);
    CHECK_STATUS(weft_process_join(p, 0), WEFT_ETIMEDOUT);
    CHECK(weft_process_is_alive(p));
    CHECK_STATUS(weft_process_exitcode(p, &code), WEFT_EAGAIN);
    CHECK_OK(kill ? weft_process_kill(p) : weft_process_terminate(p));
    CHECK_OK(weft_process_join(p, weft_test_long()));
    CHECK(!weft_process_is_alive(p));
    CHECK_OK(weft_process_exitcode(p, &code));
#ifdef _WIN32
    CHECK_EQ_INT(code, 1);
#else
    CHECK_EQ_INT(code, kill ? -9 : -15);
#endif
    /* Reaped: signalling again does nothing (and hits no recycled pid). */
    CHECK_OK(weft_process_terminate(p));
    CHECK_OK(weft_process_kill(p));
    CHECK_OK(weft_process_join(p, 0));
    weft_process_release(p);
}

WEFT_TEST(process_spawn_join_times_out_then_terminate)
{
    join_times_out_then_terminate(WEFT_START_SPAWN, false);
}

WEFT_TEST(process_spawn_kill)
{
    join_times_out_then_terminate(WEFT_START_SPAWN, true);
}

WEFT_TEST(process_fork_join_times_out_then_terminate)
{
    weft_test_skip_without_fork();
    join_times_out_then_terminate(WEFT_START_FORK, false);
}

typedef struct joiner_arg {
    weft_process *p;
    int status;
} joiner_arg;

static void *joiner(void *arg)
{
    joiner_arg *j = arg;

    j->status = weft_process_join(j->p, weft_test_long());
    return NULL;
}

WEFT_TEST(process_several_threads_join_one_child)
{
    weft_process *p = start("sleep_long", NULL, 0, WEFT_START_SPAWN, false);
    weft_thread *threads[4];
    joiner_arg args[4];
    int i;

    for (i = 0; i < 4; i++) {
        args[i] = (joiner_arg){p, WEFT_EOS};
        CHECK_OK(weft_thread_start(&threads[i], joiner, &args[i], NULL));
    }
    weft_sleep(0.2);
    CHECK_OK(weft_process_kill(p));
    for (i = 0; i < 4; i++) {
        CHECK_OK(weft_thread_join(threads[i], weft_test_long(), NULL));
        weft_thread_release(threads[i]);
        CHECK_OK(args[i].status);
    }
    weft_process_release(p);
}

WEFT_TEST(process_getpid_is_positive)
{
    CHECK(weft_getpid() > 0);
}

/* ---- What a whole process does --------------------------------------------------------------- */

/* The parent names the child's pid; the child greets with its own pid, runs
 * its own handler, and exits with its target's 5. */
WEFT_CHILD_MODE(spawn_child_pid_and_handlers)
{
    weft_process *p = NULL;
    int code = 0;

    if (weft_process_start(&p, "greet", "bob", 3, NULL) != WEFT_OK)
        return 10;
    if (weft_process_join(p, WEFT_FOREVER) != WEFT_OK ||
        weft_process_exitcode(p, &code) != WEFT_OK)
        return 11;
    printf("child %lld exited with %d\n", (long long)weft_process_pid(p), code);
    weft_process_release(p);
    return 0;
}

WEFT_TEST(process_spawned_child_runs_its_own_handlers)
{
    char out[WEFT_TEST_OUT_CAP], line[128];
    long long pid = 0;
    const char *at;

    weft_test_run_mode("spawn_child_pid_and_handlers", 0, out);
    CHECK_ONCE(out, "child handler");
    at = strstr(out, "child ");
    while (at && sscanf(at, "child %lld exited with 5", &pid) != 1)
        at = strstr(at + 1, "child ");
    CHECK(pid > 0);
    snprintf(line, sizeof line, "hello bob from %lld", pid);
    CHECK_ONCE(out, line);
    CHECK_BEFORE(out, line, "child handler"); /* the target, then the child's exit */
}

/* A forked child must not run the parent's handler: it ends through the
 * immediate exit after its target. */
WEFT_CHILD_MODE(fork_child_runs_no_inherited_handler)
{
    weft_process_opts opts = {.method = WEFT_START_FORK};
    weft_process *p = NULL;
    int code = 0;

    weft_atexit(say, "parent handler");
    if (weft_process_start(&p, "greet", "ann", 3, &opts) != WEFT_OK)
        return 10;
    if (weft_process_join(p, WEFT_FOREVER) != WEFT_OK ||
        weft_process_exitcode(p, &code) != WEFT_OK || code != 5)
        return 11;
    weft_process_release(p);
    return 0;
}

WEFT_TEST(process_fork_child_runs_no_inherited_handler)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_skip_without_fork();
    weft_test_run_mode("fork_child_runs_no_inherited_handler", 0, out);
    CHECK_ONCE(out, "parent handler");
    /* The child's own handler, registered by its target, does not run
     * either: the fork method ends through the immediate exit. */
    CHECK_ABSENT(out, "child handler");
    CHECK(strstr(out, "hello ann from ") != NULL);
}

/* Returning from main() with a daemon child that would sleep for a minute:
 * the exit terminates it instead of waiting. */
WEFT_CHILD_MODE(exit_terminates_daemon_child)
{
    weft_process_opts opts = {.daemon = true};
    weft_process *p = NULL;

    if (weft_process_start(&p, "sleep_long", NULL, 0, &opts) != WEFT_OK)
        return 10;
    weft_process_release(p);
    printf("main returns\n");
    return 0;
}

WEFT_TEST(process_exit_terminates_daemon_child)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("exit_terminates_daemon_child", 0, out); /* bounded in time */
    CHECK_ONCE(out, "main returns");
}

/* Returning from main() with a non-daemon child still running: the exit
 * waits for it, even though its handle was released (and, under ASan, the
 * child mode's own leak check sees the released record freed). */
WEFT_CHILD_MODE(exit_waits_for_child)
{
    weft_process *p = NULL;

    if (weft_process_start(&p, "late_line", NULL, 0, NULL) != WEFT_OK)
        return 10;
    weft_process_release(p);
    printf("main returns\n");
    fflush(stdout);
    return 0;
}

WEFT_TEST(process_exit_waits_for_non_daemon_child)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("exit_waits_for_child", 0, out);
    CHECK_BEFORE(out, "main returns", "child done");
}

/* What the parent printed before it started a child comes before what the
 * child prints, in a file both write to (stdio is flushed before either
 * start method, as Python does). */
static int parent_then_child(weft_start_method method)
{
    weft_process_opts opts = {.method = method};
    weft_process *p = NULL;

    printf("parent line\n"); /* stdout is a file: this stays in the buffer */
    if (weft_process_start(&p, "child_line", NULL, 0, &opts) != WEFT_OK)
        return 10;
    if (weft_process_join(p, WEFT_FOREVER) != WEFT_OK)
        return 11;
    weft_process_release(p);
    return 0;
}

WEFT_CHILD_MODE(spawn_parent_then_child)
{
    return parent_then_child(WEFT_START_SPAWN);
}

WEFT_CHILD_MODE(fork_parent_then_child)
{
    return parent_then_child(WEFT_START_FORK);
}

WEFT_TEST(process_spawn_flushes_stdio_first)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("spawn_parent_then_child", 0, out);
    CHECK_ONCE(out, "parent line");
    CHECK_BEFORE(out, "parent line", "child line");
}

WEFT_TEST(process_fork_flushes_stdio_first)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_skip_without_fork();
    weft_test_run_mode("fork_parent_then_child", 0, out);
    CHECK_ONCE(out, "parent line");
    CHECK_BEFORE(out, "parent line", "child line");
}

WEFT_CHILD_MODE(forgotten_process_main)
{
    weft_process *p = NULL;
    int code = -100;

    int rc;

    set_depth(1);
    rc = weft_process_start(&p, "child_line", NULL, 0, NULL);
    /* The child may end before it has read its argument: WEFT_ECHILD. */
    if (rc == WEFT_ECHILD)
        return 0;
    if (rc != WEFT_OK)
        return 10;
    if (weft_process_join(p, WEFT_FOREVER) != WEFT_OK || weft_process_exitcode(p, &code) != WEFT_OK)
        return 11;
    weft_process_release(p);
    return code;
}

/* A spawned child whose main() starts a process before
 * weft_process_main() gets WEFT_EPERM (with a message) instead of
 * starting an endless chain of children. */
WEFT_TEST(process_forgotten_process_main_stops_at_the_first_child)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("forgotten_process_main", 0, out); /* the first child's exit code */
    CHECK_ONCE(out, "depth 1: WEFT_EPERM: operation not permitted for the caller");
    CHECK_ONCE(out, "message names weft_process_main: 1");
    CHECK_ABSENT(out, "depth 2: WEFT_EPERM: operation not permitted for the caller");
}

/* ---- Released children are reaped ----------------------------------------------------- */

#ifndef _WIN32
/* Whether `pid` is a child of this process not yet reaped (running, or a
 * zombie): waitid without reaping fails with ECHILD once it is reaped. */
static bool unreaped(int64_t pid)
{
    siginfo_t info;

    memset(&info, 0, sizeof info);
    return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

/* A child released while it runs is reaped soon after it ends (within
 * 0.5 s; 2 s allowed here, scaled), with no weft call after the release. */
static void check_reaped_soon(int64_t pid)
{
    double give_up = weft_monotonic() + 0.2 + 2.0 * weft_test_time_scale();

    CHECK(pid > 0);
    while (unreaped(pid) && weft_monotonic() < give_up)
        weft_sleep(0.01);
    CHECK(!unreaped(pid));
}
#endif

static void released_child_is_reaped(weft_start_method method)
{
#ifdef _WIN32
    (void)method;
    weft_test_skip("zombies are a POSIX matter (waitid)");
#else
    weft_process *p = start("nap", NULL, 0, method, false);
    int64_t pid = weft_process_pid(p);

    CHECK(weft_process_is_alive(p));
    weft_process_release(p);
    check_reaped_soon(pid);
#endif
}

WEFT_TEST(process_spawn_released_child_is_reaped)
{
    released_child_is_reaped(WEFT_START_SPAWN);
}

WEFT_TEST(process_fork_released_child_is_reaped)
{
    weft_test_skip_without_fork();
    released_child_is_reaped(WEFT_START_FORK);
}

/* A popen's child the same way (the same mechanism). */
WEFT_TEST(process_released_popen_child_is_reaped)
{
#ifdef _WIN32
    weft_test_skip("zombies are a POSIX matter (waitid)");
#else
    const char *argv[] = {"sleep", "0.2", NULL};
    weft_popen *p = NULL;
    int64_t pid;

    CHECK_OK(weft_popen_start(&p, argv, NULL));
    pid = weft_popen_pid(p);
    weft_popen_release(p);
    check_reaped_soon(pid);
#endif
}

/* ---- Fork safety: the module locks ---------------------------------------------------------- */

typedef struct hammer {
    void (*step)(void);
    weft_event stop;
} hammer;

static void *run_hammer(void *arg)
{
    hammer *h = arg;

    while (!weft_event_is_set(&h->stop))
        h->step();
    return NULL;
}

/* While a thread runs `step` without pause (holding its lock much of the
 * time), start fork children running `target`, which takes the same lock:
 * every child must end with 0, none may hang on a lock the fork caught. */
static void fork_while_held(void (*step)(void), const char *target)
{
    hammer h = {step, WEFT_EVENT_INIT};
    weft_thread *thread;
    weft_process *p;
    long i, n = weft_test_iterations(100);
    int code;

    /* Seen with gdb: the fork child blocked in ASan's malloc, on the size
     * class lock that the hammering thread held at the fork (clang 14's
     * allocator takes no lock across fork(); glibc's malloc does); and in
     * GCC 12's ThreadSanitizer's the same way (a child of the executor
     * case below hung in 1 to 4 of 20 runs, more often beside busy
     * processes). weft's own locks are what these cases test, in every
     * other build (soak.c's fork scenario runs quiet under both). */
    if (WEFT_TEST_ASAN || WEFT_TEST_TSAN)
        weft_test_skip("the sanitizer's allocator is not fork-safe while another thread "
                       "allocates");
    thread = weft_test_start(run_hammer, &h);
    for (i = 0; i < n; i++) {
        p = start(target, NULL, 0, WEFT_START_FORK, false);
        if (weft_process_join(p, 5.0 * weft_test_time_scale()) == WEFT_ETIMEDOUT) {
            weft_process_kill(p);
            weft_test_fail(__FILE__, __LINE__, "fork child %ld of %ld hung in %s", i + 1, n,
                           target);
        }
        code = -100;
        CHECK_OK(weft_process_exitcode(p, &code));
        CHECK_EQ_INT(code, 0);
        weft_process_release(p);
    }
    weft_event_set(&h.stop);
    weft_test_join(thread);
}

WEFT_TEST_TIMEOUT(process_fork_child_registers_atexit_handlers, 60)
{
    weft_test_skip_without_fork();
    fork_while_held(atexit_step, "fork_child_atexit");
}

WEFT_TEST_TIMEOUT(process_fork_child_registers_targets, 60)
{
    weft_test_skip_without_fork();
    fork_while_held(register_step, "fork_child_register");
}

WEFT_TEST_TIMEOUT(process_fork_child_creates_executors, 60)
{
    weft_test_skip_without_fork();
    fork_while_held(executor_step, "fork_child_executor");
}

static void *wait_for_event(void *arg)
{
    weft_test_wait_event(arg);
    return NULL;
}

WEFT_TEST_TIMEOUT(process_fork_child_waits_for_futures, 60)
{
    weft_event release = WEFT_EVENT_INIT;
    weft_executor *ex = NULL;

    weft_test_skip_without_fork();
    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &pending, wait_for_event, &release));
    fork_while_held(wait_step, "fork_child_wait");
    weft_event_set(&release);
    CHECK_OK(weft_future_result(pending, WEFT_FOREVER, NULL));
    weft_future_release(pending);
    weft_executor_destroy(ex);
}

WEFT_TEST_TIMEOUT(process_fork_child_replies, 60)
{
    weft_test_skip_without_fork();
    fork_while_held(reply_step, "fork_child_reply");
}
