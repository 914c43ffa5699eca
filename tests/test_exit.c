/* SPDX-License-Identifier: MIT */
/* weft_exit, weft_exit_now, weft_atexit: sys.exit, os._exit and atexit.
 *
 * An exit can only be watched from outside the process that exits, so each
 * case runs this executable again in a child mode (WEFT_CHILD_MODE, run by
 * weft_test_run_self()) and checks the child's exit code and what it
 * printed. The child's stdout is a file, so stdio there is fully buffered:
 * a line it printed without fflush appears only when the exit flushes
 * stdio, which is how "flushed or not" is seen.
 *
 * The fork case is POSIX only (skipped on Windows). */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* fork, waitpid, setenv */
#endif
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef _WIN32
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#endif


/* ---- Pieces the child modes share --------------------------------------------- */

/* A handler that prints its argument (a string) as a line, unflushed. */
static void say(void *line)
{
    printf("%s\n", (const char *)line);
}

static weft_event started = WEFT_EVENT_INIT;
static weft_event never_set = WEFT_EVENT_INIT; /* nobody sets it */

/* Start a thread (daemon or not) running fn(NULL); wait until it has set
 * `started`; drop the handle (the exit finds the thread without it). */
static void start_and_wait(weft_thread_fn fn, bool daemon)
{
    weft_thread_opts opts = {0};
    weft_thread *thread = NULL;

    opts.daemon = daemon;
    CHECK_OK(weft_thread_start(&thread, fn, NULL, &opts));
    weft_test_wait_event(&started);
    weft_thread_release(thread);
}

/* Sleeps 0.3 s: the orderly exit requests no stop (as sys.exit leaves a
 * time.sleep alone), so the sleep lasts its full time. */
static void *sleep_a_while(void *arg)
{
    double t0;
    int status;

    (void)arg;
    weft_event_set(&started);
    t0 = weft_monotonic();
    status = weft_sleep(0.3);
    printf("worker: sleep ended %s, full 0.3 s: %s\n",
           status == WEFT_ECANCELED ? "early (stop requested)" : "normally",
           weft_monotonic() - t0 >= 0.3 - 1e-3 ? "yes" : "no");
    return NULL;
}

#define SLEPT_IN_FULL "worker: sleep ended normally, full 0.3 s: yes"


/* ---- weft_exit: handlers in LIFO order, stdio flushed, the code ------------------ */

WEFT_CHILD_MODE(exit_handlers_lifo)
{
    CHECK_OK(weft_atexit(say, "handler 1"));
    CHECK_OK(weft_atexit(say, "handler 2"));
    printf("before weft_exit\n"); /* unflushed: the exit flushes it */
    weft_exit(3);
}

WEFT_TEST(exit_runs_handlers_lifo_and_flushes)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("exit_handlers_lifo", 3, out);
    CHECK_ONCE(out, "before weft_exit");
    CHECK_ONCE(out, "handler 2");
    CHECK_ONCE(out, "handler 1");
    CHECK_BEFORE(out, "before weft_exit", "handler 2");
    CHECK_BEFORE(out, "handler 2", "handler 1"); /* last registered first */
}

/* ---- weft_exit_now: nothing runs, nothing is flushed ---------------------------------- */

WEFT_CHILD_MODE(exit_now)
{
    CHECK_OK(weft_atexit(say, "handler"));
    printf("flushed by hand\n");
    fflush(stdout);
    /* fputs, not printf: mingw-w64's C99 printf (__USE_MINGW_ANSI_STDIO,
     * on in strict C11) writes through to the file at once, whereas fputs
     * leaves the line in msvcrt's buffer, as glibc's stdio does. */
    fputs("left in the buffer\n", stdout);
    weft_exit_now(5);
}

WEFT_TEST(exit_now_runs_nothing_flushes_nothing)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("exit_now", 5, out);
    CHECK_ONCE(out, "flushed by hand"); /* the redirection works */
    /* ThreadSanitizer's _exit() interceptor flushes stdout and stderr
     * itself (a plain printf + _exit shows it): under TSan, "nothing is
     * flushed" cannot be seen. */
    if (!WEFT_TEST_TSAN)
        CHECK_ABSENT(out, "left in the buffer");
    CHECK_ABSENT(out, "handler");
}

/* ---- Returning from main() is the orderly exit ----------------------------------------- */

WEFT_CHILD_MODE(return_from_main)
{
    CHECK_OK(weft_atexit(say, "handler"));
    start_and_wait(sleep_a_while, false);
    printf("main: returning 2\n");
    return 2; /* the runner's main() returns this */
}

WEFT_TEST(exit_return_from_main_joins_without_stopping)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("return_from_main", 2, out);
    CHECK_ONCE(out, "main: returning 2");
    /* The thread slept its full time and was joined (its last line is
     * there), and then the handler ran. */
    CHECK_ONCE(out, SLEPT_IN_FULL);
    CHECK_ONCE(out, "handler");
    CHECK_BEFORE(out, "main: returning 2", SLEPT_IN_FULL);
    CHECK_BEFORE(out, SLEPT_IN_FULL, "handler");
}

/* ---- C's exit() is the orderly exit ------------------------------------------------------ */

WEFT_CHILD_MODE(c_exit)
{
    CHECK_OK(weft_atexit(say, "handler 1"));
    CHECK_OK(weft_atexit(say, "handler 2"));
    start_and_wait(sleep_a_while, false);
    printf("before exit\n");
    exit(4);
}

WEFT_TEST(exit_c_exit_is_orderly)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("c_exit", 4, out);
    CHECK_ONCE(out, "before exit");
    CHECK_ONCE(out, SLEPT_IN_FULL);
    CHECK_ONCE(out, "handler 2");
    CHECK_ONCE(out, "handler 1");
    CHECK_BEFORE(out, SLEPT_IN_FULL, "handler 2");
    CHECK_BEFORE(out, "handler 2", "handler 1");
}

/* ---- The exit waits for a non-daemon thread that does not sleep --------------------------- */

static void *wait_with_timeout(void *arg)
{
    double t0;
    int status;

    (void)arg;
    weft_event_set(&started);
    t0 = weft_monotonic();
    /* Not weft_sleep: a stop request does not cut this wait short. */
    status = weft_event_wait(&never_set, 0.3);
    printf("worker: event wait %s, full 0.3 s: %s\n",
           status == WEFT_ETIMEDOUT ? "timed out" : weft_strerror(status),
           weft_monotonic() - t0 >= 0.3 - 1e-3 ? "yes" : "no");
    return NULL;
}

WEFT_CHILD_MODE(exit_waits_for_thread)
{
    CHECK_OK(weft_atexit(say, "handler"));
    start_and_wait(wait_with_timeout, false);
    weft_exit(0);
}

WEFT_TEST(exit_waits_for_non_daemon_thread)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("exit_waits_for_thread", 0, out);
    CHECK_ONCE(out, "worker: event wait timed out, full 0.3 s: yes");
    CHECK_ONCE(out, "handler");
    CHECK_BEFORE(out, "worker: event wait timed out, full 0.3 s: yes", "handler");
}

/* ---- weft_exit requests no stop: a weft_sleep elsewhere runs its full time --------------- */

WEFT_CHILD_MODE(exit_lets_sleep_finish)
{
    CHECK_OK(weft_atexit(say, "handler"));
    start_and_wait(sleep_a_while, false);
    weft_exit(0);
}

WEFT_TEST(exit_lets_weft_sleep_in_other_thread_finish)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("exit_lets_sleep_finish", 0, out);
    CHECK_ONCE(out, SLEPT_IN_FULL);
    CHECK_ONCE(out, "handler");
    CHECK_BEFORE(out, SLEPT_IN_FULL, "handler");
}

/* ---- ... but not for a daemon thread ------------------------------------------------------- */

static void *block_forever(void *arg)
{
    (void)arg;
    weft_event_set(&started);
    (void)weft_event_wait(&never_set, WEFT_FOREVER);
    printf("daemon: woke up\n");
    return NULL;
}

WEFT_CHILD_MODE(exit_skips_daemon)
{
    CHECK_OK(weft_atexit(say, "handler"));
    start_and_wait(block_forever, true);
    weft_exit(9);
}

WEFT_TEST(exit_does_not_wait_for_daemon_thread)
{
    char out[WEFT_TEST_OUT_CAP];
    double t0 = weft_monotonic();

    weft_test_run_mode("exit_skips_daemon", 9, out);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack() + 1.0); /* process start-up */
    CHECK_ONCE(out, "handler");
    CHECK_ABSENT(out, "daemon: woke up");
}

/* ---- A handler that calls weft_exit ------------------------------------------------------- */

static void exit_from_handler(void *arg)
{
    (void)arg;
    printf("handler B: weft_exit(7)\n");
    weft_exit(7);
    printf("handler B: weft_exit returned\n");
}

WEFT_CHILD_MODE(handler_calls_exit)
{
    CHECK_OK(weft_atexit(say, "handler A"));
    CHECK_OK(weft_atexit(exit_from_handler, NULL));
    CHECK_OK(weft_atexit(say, "handler C"));
    weft_exit(3);
}

WEFT_TEST(exit_from_handler_continues_with_new_code)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("handler_calls_exit", 7, out);
    CHECK_ONCE(out, "handler C");
    CHECK_ONCE(out, "handler B: weft_exit(7)");
    CHECK_ONCE(out, "handler A");
    CHECK_ABSENT(out, "handler B: weft_exit returned");
    CHECK_BEFORE(out, "handler C", "handler B: weft_exit(7)");
    CHECK_BEFORE(out, "handler B: weft_exit(7)", "handler A");
}

/* ---- Handlers that register and unregister handlers; unregister ---------------------------- */

static void register_another(void *arg)
{
    (void)arg;
    printf("adder\n");
    CHECK_OK(weft_atexit(say, "added by a handler"));
}

static void unregister_another(void *arg)
{
    printf("remover\n");
    CHECK_OK(weft_atexit_unregister(say, arg));
}

WEFT_CHILD_MODE(handlers_change_handlers)
{
    static char removed_at_exit[] = "removed at exit";
    static char unregistered[] = "unregistered";

    CHECK_OK(weft_atexit(say, "first registered"));
    CHECK_OK(weft_atexit(say, removed_at_exit));
    CHECK_OK(weft_atexit(unregister_another, removed_at_exit));
    CHECK_OK(weft_atexit(register_another, NULL));
    /* Every registration of (fn, arg) goes, and only those. */
    CHECK_OK(weft_atexit(say, unregistered));
    CHECK_OK(weft_atexit(say, "kept: same fn, other arg"));
    CHECK_OK(weft_atexit(say, unregistered));
    CHECK_OK(weft_atexit_unregister(say, unregistered));
    CHECK_STATUS(weft_atexit_unregister(say, unregistered), WEFT_ENOENT);
    return 0;
}

WEFT_TEST(exit_handlers_register_and_unregister_handlers)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("handlers_change_handlers", 0, out);
    CHECK_ABSENT(out, "unregistered");
    CHECK_ONCE(out, "kept: same fn, other arg");
    CHECK_ONCE(out, "adder");
    CHECK_ONCE(out, "added by a handler"); /* registered while handlers ran */
    CHECK_BEFORE(out, "adder", "added by a handler");
    CHECK_ONCE(out, "remover");
    CHECK_ABSENT(out, "removed at exit"); /* unregistered before its turn */
    CHECK_ONCE(out, "first registered");
    CHECK_BEFORE(out, "kept: same fn, other arg", "adder");
    CHECK_BEFORE(out, "remover", "first registered");
}

static void never_registered(void *arg)
{
    (void)arg;
}

WEFT_TEST(exit_atexit_statuses)
{
    int a = 0, b = 0;

    CHECK_STATUS(weft_atexit(NULL, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_atexit_unregister(NULL, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_atexit_unregister(never_registered, NULL), WEFT_ENOENT);
    CHECK_OK(weft_atexit(never_registered, &a));
    CHECK_OK(weft_atexit(never_registered, &a));
    CHECK_OK(weft_atexit(never_registered, &b));
    CHECK_STATUS(weft_atexit_unregister(never_registered, NULL), WEFT_ENOENT); /* other arg */
    CHECK_OK(weft_atexit_unregister(never_registered, &a)); /* both */
    CHECK_STATUS(weft_atexit_unregister(never_registered, &a), WEFT_ENOENT);
    CHECK_OK(weft_atexit_unregister(never_registered, &b));
    CHECK_STATUS(weft_atexit_unregister(never_registered, &b), WEFT_ENOENT);
}

/* ---- weft_exit from a thread other than the main one --------------------------------------- */

static void *exit_from_worker(void *arg)
{
    (void)arg;
    weft_test_wait_event(&started); /* main is about to block */
    printf("worker: weft_exit(11)\n");
    weft_exit(11);
}

WEFT_CHILD_MODE(exit_from_worker)
{
    weft_thread *thread = NULL;

    CHECK_OK(weft_atexit(say, "handler"));
    CHECK_OK(weft_thread_start(&thread, exit_from_worker, NULL, NULL));
    weft_event_set(&started);
    (void)weft_event_wait(&never_set, WEFT_FOREVER);
    printf("main: woke up\n");
    return 1;
}

WEFT_TEST(exit_from_non_main_thread)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("exit_from_worker", 11, out);
    CHECK_ONCE(out, "worker: weft_exit(11)");
    CHECK_ONCE(out, "handler");
    CHECK_ABSENT(out, "main: woke up");
    CHECK_BEFORE(out, "worker: weft_exit(11)", "handler");
}

/* ---- weft_exit from a thread the exit is joining ------------------------------------------- */

static weft_event main_exits = WEFT_EVENT_INIT;

/* No stop request tells this thread that main's exit has begun: it gives
 * main, which calls weft_exit right after setting the event, a generous
 * moment to get there first. */
static void *exit_after_main(void *arg)
{
    (void)arg;
    weft_event_set(&started);
    weft_test_wait_event(&main_exits);
    CHECK_OK(weft_sleep(0.2 * weft_test_time_scale()));
    printf("worker: weft_exit(12)\n");
    weft_exit(12);
}

WEFT_CHILD_MODE(exit_during_exit)
{
    CHECK_OK(weft_atexit(say, "handler"));
    start_and_wait(exit_after_main, false);
    printf("main: weft_exit(13)\n");
    weft_event_set(&main_exits);
    weft_exit(13);
}

WEFT_TEST(exit_from_thread_being_joined_ends_that_thread)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("exit_during_exit", 13, out); /* main's code wins */
    CHECK_ONCE(out, "main: weft_exit(13)");
    CHECK_ONCE(out, "worker: weft_exit(12)");
    CHECK_ONCE(out, "handler");
    CHECK_BEFORE(out, "main: weft_exit(13)", "worker: weft_exit(12)");
    CHECK_BEFORE(out, "worker: weft_exit(12)", "handler");
}

/* ---- weft_thread_exit in the main thread is weft_exit(0) ------------------------------------- */

WEFT_CHILD_MODE(thread_exit_in_main)
{
    CHECK_OK(weft_atexit(say, "handler"));
    start_and_wait(sleep_a_while, false);
    printf("main: weft_thread_exit\n");
    weft_thread_exit((void *)(intptr_t)99);
}

WEFT_TEST(exit_thread_exit_in_main_is_exit_0)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("thread_exit_in_main", 0, out);
    CHECK_ONCE(out, "main: weft_thread_exit");
    CHECK_ONCE(out, SLEPT_IN_FULL);
    CHECK_ONCE(out, "handler");
    CHECK_BEFORE(out, SLEPT_IN_FULL, "handler");
}

/* ---- WEFT_DEBUG=exit: a stuck exit says what it waits for ------------------------ */

/* Blocks for ever in weft_queue_get on a queue nobody feeds. */
static void *get_for_ever(void *queue)
{
    void *item;

    weft_event_set(&started);
    weft_queue_get(queue, &item, WEFT_FOREVER);
    return NULL;
}

/* Returns from main with a non-daemon thread that never ends: the exit
 * waits for it for ever (as Python's does). */
WEFT_CHILD_MODE(exit_stuck_on_queue_get)
{
    static weft_queue *queue;
    weft_thread *thread;

    CHECK_OK(weft_queue_create(&queue, NULL));
    thread = weft_test_start_named(get_for_ever, queue, "stuck getter");
    weft_test_wait_event(&started);
    weft_thread_release(thread);
    return 0;
}

/* Options that run a child with WEFT_DEBUG=exit:0.1 (and SYSTEMROOT, which
 * a Windows program needs in any environment). */
static const weft_popen_opts *debug_exit_opts(void)
{
    static const char *env[] = {"WEFT_DEBUG=exit:0.1", NULL, NULL};
    static char system_root[512];
    static weft_popen_opts opts;
    const char *root = getenv("SYSTEMROOT");

    if (root) {
        snprintf(system_root, sizeof system_root, "SYSTEMROOT=%s", root);
        env[1] = system_root;
    }
    opts.env = env;
    return &opts;
}

#define STUCK_HEADER "weft: the exit has waited "
#define STUCK_THREAD "weft:   thread \"stuck getter\" ident "

/* With WEFT_DEBUG=exit:0.1 the exit reports the thread every 0.1 s: run
 * the child, longer each round, until its stderr holds two reports, then
 * it is killed (weft_run's timeout). */
WEFT_TEST(exit_stuck_reports_threads_with_weft_debug)
{
    const char *argv[] = {weft_test_self_path(), "--child", "exit_stuck_on_queue_get", NULL};
    double timeout;
    char *err = NULL;
    const char *line = NULL;
    int code = 0;

    for (timeout = 1.0; timeout <= weft_test_long(); timeout *= 2) {
        weft_free(err);
        err = NULL;
        CHECK_EQ_INT(weft_run(argv, debug_exit_opts(), timeout, &code, NULL, NULL, &err, NULL),
                     WEFT_ETIMEDOUT);
        line = err ? strstr(err, STUCK_HEADER) : NULL;
        if (line && strstr(line + 1, STUCK_HEADER))
            break;
    }
    CHECK(line != NULL);
    CHECK(strstr(line + 1, STUCK_HEADER) != NULL); /* reported again */
    line = strstr(line, STUCK_THREAD);
    CHECK(line != NULL);
    line = strstr(line, " native id ");
    CHECK(line != NULL);
    CHECK(line[strlen(" native id ")] != '0'); /* the thread had published it */
    weft_free(err);
}

/* A Process target that lives 1 s, ten report periods of the case below:
 * long enough to be reported, short enough to end on its own. */
static int nap(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    weft_sleep(1.0);
    return 0;
}

WEFT_TEST_SETUP
{
    weft_process_register("nap", nap);
}

WEFT_CHILD_MODE(exit_waits_for_napping_child)
{
    weft_process *child = NULL;

    CHECK_OK(weft_process_start(&child, "nap", NULL, 0, NULL));
    printf("child pid %" PRId64 "\n", weft_process_pid(child));
    weft_process_release(child);
    return 0;
}

/* The exit waits for a Process child too, and says so. */
WEFT_TEST(exit_stuck_reports_children_with_weft_debug)
{
    const char *argv[] = {weft_test_self_path(), "--child", "exit_waits_for_napping_child", NULL};
    char *out = NULL, *err = NULL, line[64];
    long long pid = 0;
    int code = -1;

    CHECK_OK(weft_run(argv, debug_exit_opts(), weft_test_long(), &code, &out, NULL, &err, NULL));
    CHECK_EQ_INT(code, 0);
    CHECK(out != NULL && sscanf(out, "child pid %lld", &pid) == 1);
    snprintf(line, sizeof line, "weft:   child process pid %lld", pid);
    CHECK(err != NULL && strstr(err, STUCK_HEADER) != NULL);
    CHECK(strstr(err, line) != NULL);
    weft_free(out);
    weft_free(err);
}

/* ---- fork (POSIX) ------------------------------------------------------------------------- */

#ifndef _WIN32
static void *wait_for_never(void *arg)
{
    (void)arg;
    weft_event_set(&started);
    (void)weft_event_wait(&never_set, WEFT_FOREVER);
    printf("parent's worker: released\n");
    return NULL;
}

/* Start a thread, fork; in the child check the threads and weft_exit(6);
 * in the parent wait for the child and report. `ask_current_first`: the
 * main thread calls weft_thread_current() before anything else, or never
 * before the fork. */
static int fork_then_exit(bool ask_current_first)
{
    weft_thread *worker = NULL, *listed[4] = {NULL};
    pid_t pid, waited;
    int status = 0;
    double t0, elapsed;

    if (ask_current_first)
        CHECK_EQ_STR(weft_thread_name(weft_thread_current()), "MainThread");
    CHECK_OK(weft_thread_start(&worker, wait_for_never, NULL, NULL));
    weft_test_wait_event(&started);
    CHECK_EQ_UINT(weft_thread_active_count(), 2);
    fflush(stdout); /* nothing buffered is written by both processes */
    t0 = weft_monotonic();
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* Only the forking thread exists here, and it is the main thread. */
        CHECK_EQ_UINT(weft_thread_active_count(), 1);
        CHECK_EQ_UINT(weft_thread_enumerate(listed, 4), 1);
        CHECK_EQ_PTR(listed[0], weft_thread_current());
        CHECK_EQ_PTR(weft_thread_main(), weft_thread_current());
        CHECK_EQ_STR(weft_thread_name(weft_thread_main()), "MainThread");
        CHECK(!weft_thread_is_alive(worker));
        CHECK_OK(weft_atexit(say, "child: handler"));
        printf("child: weft_exit(6)\n");
        /* Must not wait for the parent's worker, which is not in this
         * process: it would never end. */
        weft_exit(6);
    }
    do
        waited = waitpid(pid, &status, 0);
    while (waited == -1);
    elapsed = weft_monotonic() - t0;
    CHECK_EQ_INT(waited, pid);
    printf("parent: child exit code %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    printf("parent: child ended promptly: %s\n", elapsed < weft_test_slack() ? "yes" : "no");
    CHECK_EQ_UINT(weft_thread_active_count(), 2); /* the parent is unchanged */
    CHECK(weft_thread_is_alive(worker));
    weft_event_set(&never_set);
    weft_test_join(worker);
    return 0;
}
#endif

WEFT_CHILD_MODE(fork_then_exit)
{
#ifdef _WIN32
    return 1; /* never run: the case skips */
#else
    return fork_then_exit(false);
#endif
}

WEFT_CHILD_MODE(fork_then_exit_known_main)
{
#ifdef _WIN32
    return 1; /* never run: the case skips */
#else
    return fork_then_exit(true);
#endif
}

#ifndef _WIN32
/* LeakSanitizer hangs at exit in a child forked from a multithreaded
 * process (its thread-suspending code expects the threads it saw). The
 * forked child must end through weft_exit (that is what is tested), so
 * leak detection is turned off for the whole child mode process, which
 * reads ASAN_OPTIONS when it starts: the forked grandchild inherits it.
 * Harmless without ASan. */
static void no_leak_check_in_fork_children(void)
{
    const char *old = getenv("ASAN_OPTIONS");
    char options[1024];

    snprintf(options, sizeof options, "%s%sdetect_leaks=0", old ? old : "",
             old && *old ? ":" : "");
    CHECK_EQ_INT(setenv("ASAN_OPTIONS", options, 1), 0);
}
#endif

/* Run `mode` (fork_then_exit...) and check what parent and child said. */
static void check_fork_mode(const char *mode)
{
#ifdef _WIN32
    (void)mode;
    weft_test_skip("no fork() on Windows");
#else
    char out[WEFT_TEST_OUT_CAP];

    no_leak_check_in_fork_children();
    weft_test_run_mode(mode, 0, out);
    CHECK_ONCE(out, "child: weft_exit(6)");
    CHECK_ONCE(out, "child: handler");
    CHECK_BEFORE(out, "child: weft_exit(6)", "child: handler");
    CHECK_ONCE(out, "parent: child exit code 6");
    CHECK_ONCE(out, "parent: child ended promptly: yes");
    CHECK_ONCE(out, "parent's worker: released"); /* only in the parent */
#endif
}

/* The main thread never asked for its record before the fork. */
WEFT_TEST(exit_after_fork_in_child)
{
    check_fork_mode("fork_then_exit");
}

/* The main thread called weft_thread_current() before the fork. */
WEFT_TEST(exit_after_fork_in_child_main_known)
{
    check_fork_mode("fork_then_exit_known_main");
}

/* ---- weft_exit racing weft_thread_start ----------------------------------------------------- */

static void *return_at_once(void *arg)
{
    return arg;
}

static weft_event race_go = WEFT_EVENT_INIT;

/* Let main start threads for a moment, then exit. */
static void *exit_soon(void *arg)
{
    (void)arg;
    weft_test_wait_event(&race_go);
    (void)weft_sleep(0.001);
    weft_exit(3);
}

/* `exiters` threads call weft_exit(3) while main keeps starting and
 * releasing threads that end at once: the exit's join meets threads that
 * have ended before their starter stored their OS handle. */
static int exit_racing_starts(int exiters)
{
    weft_thread *thread;
    int i, rc;

    for (i = 0; i < exiters; i++) {
        CHECK_OK(weft_thread_start(&thread, exit_soon, NULL, NULL));
        weft_thread_release(thread);
    }
    weft_event_set(&race_go);
    /* Bounded: the exit joins the threads started meanwhile too, and an
     * endless stream of them would keep it joining. */
    for (i = 0; i < 500; i++) {
        rc = weft_thread_start(&thread, return_at_once, NULL, NULL);
        if (rc == WEFT_ESHUTDOWN) {
            /* too late: the exit is ending the process, and says so */
            CHECK(strstr(weft_last_error_message(), "exiting") != NULL);
            break;
        }
        CHECK_OK(rc);
        weft_thread_release(thread);
    }
    (void)weft_event_wait(&never_set, WEFT_FOREVER);
    return 1;
}

WEFT_CHILD_MODE(exit_races_start) { return exit_racing_starts(1); }
WEFT_CHILD_MODE(two_exits_race_start) { return exit_racing_starts(2); }

/* Run `mode` many times: each run must exit 3, never abort. */
static void check_exit_races(const char *mode)
{
    char out[WEFT_TEST_OUT_CAP];
    long i, runs = weft_test_iterations(40);

    for (i = 0; i < runs; i++)
        weft_test_run_mode(mode, 3, out);
}

WEFT_TEST_TIMEOUT(exit_racing_thread_start_exits_with_its_code, 120)
{
    check_exit_races("exit_races_start");
}

WEFT_TEST_TIMEOUT(exit_two_exits_racing_thread_start, 120)
{
    check_exit_races("two_exits_race_start");
}

/* ---- The first exit wins, however the second arrives ------------------------------------------ */

static weft_event worker_exits = WEFT_EVENT_INIT;
static weft_event main_returns = WEFT_EVENT_INIT;

/* A non-daemon thread the exit must wait for: it runs on a while after
 * main has returned, so a second exit arrives while the first runs. */
static void *outlive_main(void *arg)
{
    (void)arg;
    weft_event_set(&started);
    weft_test_wait_event(&main_returns);
    CHECK_OK(weft_sleep(0.3));
    printf("joined thread: done\n");
    return NULL;
}

static void (*worker_exit)(int code); /* exit or weft_exit */

static void *exit_7(void *arg)
{
    (void)arg;
    printf("worker: exits with 7\n");
    weft_event_set(&worker_exits);
    worker_exit(7);
    return NULL;
}

/* exit(7) or weft_exit(7) in a weft thread, then main returns 0 while that
 * exit runs. */
static int worker_exits_then_main_returns(void (*how)(int code))
{
    weft_thread *thread = NULL;

    worker_exit = how;
    CHECK_OK(weft_atexit(say, "handler"));
    start_and_wait(outlive_main, false);
    CHECK_OK(weft_thread_start(&thread, exit_7, NULL, NULL));
    weft_thread_release(thread);
    weft_test_wait_event(&worker_exits);
    /* Nothing shows that the worker's exit() has reached weft: give it a
     * generous moment (it has a few calls to make). */
    CHECK_OK(weft_sleep(0.1 * weft_test_time_scale()));
    printf("main: returning 0\n");
    weft_event_set(&main_returns);
    return 0;
}

static void weft_exit_fn(int code)
{
    weft_exit(code);
}

WEFT_CHILD_MODE(worker_c_exit_then_main_returns) { return worker_exits_then_main_returns(exit); }
WEFT_CHILD_MODE(worker_weft_exit_then_main_returns)
{
    return worker_exits_then_main_returns(weft_exit_fn);
}

static void check_worker_exit_wins(const char *mode)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode(mode, 7, out);
    CHECK_ONCE(out, "main: returning 0");
    CHECK_ONCE(out, "joined thread: done");
    CHECK_ONCE(out, "handler");
    CHECK_BEFORE(out, "joined thread: done", "handler");
}

WEFT_TEST(exit_c_exit_in_worker_wins_over_return_from_main)
{
    /* Windows' C runtime holds its exit lock until the process ends, so
     * the second exit() waits; Wine's lets it go once the first has run
     * the exit functions, and the two then race to end the process. */
    if (weft_test_under_wine())
        weft_test_skip("Wine's exit() lets a second exit() end the process");
    check_worker_exit_wins("worker_c_exit_then_main_returns");
}

WEFT_TEST(exit_weft_exit_in_worker_wins_over_return_from_main)
{
    check_worker_exit_wins("worker_weft_exit_then_main_returns");
}

static void *c_exit_after_main_returns(void *arg)
{
    (void)arg;
    weft_event_set(&started);
    weft_test_wait_event(&main_returns);
    CHECK_OK(weft_sleep(0.1 * weft_test_time_scale())); /* main's exit has begun */
    printf("worker: exit(7)\n");
    exit(7);
}

/* main returns 0; a thread its exit waits for calls exit(7). */
WEFT_CHILD_MODE(main_returns_then_worker_c_exit)
{
    CHECK_OK(weft_atexit(say, "handler"));
    start_and_wait(c_exit_after_main_returns, false);
    printf("main: returning 0\n");
    weft_event_set(&main_returns);
    return 0;
}

WEFT_TEST(exit_return_from_main_wins_over_c_exit_in_worker)
{
    char out[WEFT_TEST_OUT_CAP];

#ifdef _WIN32
    /* The C runtime runs one exit() at a time: the thread's exit() waits
     * for main's, which waits for the thread (weft/exit.h says so). */
    weft_test_skip("on Windows a second exit() waits for the first for good");
#endif
    weft_test_run_mode("main_returns_then_worker_c_exit", 0, out);
    CHECK_ONCE(out, "worker: exit(7)");
    CHECK_ONCE(out, "handler");
    CHECK_BEFORE(out, "worker: exit(7)", "handler");
}

/* ---- A fork child is not inside the parent's exit ------------------------------------------- */

#ifndef _WIN32
/* Forks while main's exit joins this thread: the child, whose only thread
 * this is, must have an exit of its own. */
static void *fork_during_exit(void *arg)
{
    pid_t pid, waited;
    int status = 0;

    (void)arg;
    weft_event_set(&started);
    weft_test_wait_event(&main_exits);
    CHECK_OK(weft_sleep(0.2 * weft_test_time_scale())); /* main is in its exit */
    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        printf("child: weft_exit(6)\n");
        weft_exit(6); /* used to wait for ever for the parent's exit */
    }
    do
        waited = waitpid(pid, &status, 0);
    while (waited == -1);
    printf("parent: child exit code %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return NULL;
}
#endif

WEFT_CHILD_MODE(fork_during_exit)
{
#ifdef _WIN32
    return 1; /* never run: the case skips */
#else
    CHECK_OK(weft_atexit(say, "handler"));
    start_and_wait(fork_during_exit, false);
    printf("main: weft_exit(13)\n");
    weft_event_set(&main_exits);
    weft_exit(13);
#endif
}

WEFT_TEST(exit_fork_child_of_an_exiting_process_has_its_own_exit)
{
#ifdef _WIN32
    weft_test_skip("no fork() on Windows");
#else
    char out[WEFT_TEST_OUT_CAP];

    no_leak_check_in_fork_children();
    weft_test_run_mode("fork_during_exit", 13, out);
    CHECK_ONCE(out, "child: weft_exit(6)");
    CHECK_ONCE(out, "parent: child exit code 6");
    /* The handler is inherited, as in Python: the child runs it too. */
    CHECK_EQ_INT(weft_test_line_count(out, "handler"), 2);
#endif
}
