/* SPDX-License-Identifier: MIT */
/*
 * The orderly exit (sys.exit) and the immediate one (os._exit), and the
 * weft_atexit handlers. The order is documented in weft/exit.h.
 *
 *   exit_phase  0  running
 *               1  exiting: non-daemon threads being joined (after a stop
 *                  request to every thread, when a signal started the exit)
 *               2  the handlers run (new threads are still allowed)
 *               3  done: the process is on its way out; no new threads
 *
 * The exit runs once, on the thread that started it (`exiting_thread`).
 * That thread may come back: from a handler calling weft_exit, or through
 * the C atexit hook when it calls exit() at the end. Then it only finishes
 * what is left (the handlers not yet run). Another thread calling weft_exit
 * meanwhile must not wait for the exit it may be blocking: a weft thread
 * ends, so that the join of it completes; any other thread waits for the
 * process to end.
 *
 * The C atexit hook (weft_sys_exit_hook, which on Windows reaches the
 * process-wide exit table even from a DLL) turns exit() and a return from
 * main() into the same orderly exit. The first exit wins, however a second
 * one arrives: exit() on another thread (a return from main() too) finds
 * the hook, re-registered as it started, and waits there. The one window
 * left is after the first exit() has run weft's exit, while the C library
 * runs the functions registered before the hook and flushes: exit() called
 * twice at once is undefined in C, and POSIX leaves it to the library. If exit() is already running (the hook was entered), the
 * final step flushes stdio and ends the process directly: calling exit()
 * again would be undefined behaviour.
 */
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_RUNNING = 0, JOINING = 1, HANDLERS = 2, EXIT_DONE = 3 };

typedef struct handler {
    void (*fn)(void *arg);
    void *arg;
} handler;

static weft_lock handlers_lock; /* guards the handler stack */
static handler *handlers;
static size_t handler_count, handler_cap;

static uint32_t exit_phase;
static WEFT_ALIGN8 uint64_t exiting_thread; /* native id of the thread running the exit */
static uint32_t in_c_exit;      /* the C atexit hook was entered */
static uint32_t never;          /* a word nobody wakes, to wait forever on */

int weft_atexit(void (*fn)(void *arg), void *arg)
{
    handler *grown;
    int rc = WEFT_OK;

    if (!fn)
        return weft__fail_null(__func__);
    rc = weft__runtime_init(); /* the exit hook, which runs the handlers */
    if (rc != WEFT_OK)
        return weft__fail_wrap(rc, "atexit");
    weft__lock(&handlers_lock);
    if (handler_count == handler_cap) {
        size_t cap = handler_cap ? handler_cap * 2 : 8;
        grown = weft__realloc(handlers, cap * sizeof *grown);
        if (grown) {
            handlers = grown;
            handler_cap = cap;
        } else {
            rc = weft__fail(WEFT_ENOMEM, "atexit: no memory for %lu handlers",
                            (unsigned long)cap);
        }
    }
    if (rc == WEFT_OK)
        handlers[handler_count++] = (handler){fn, arg};
    weft__unlock(&handlers_lock);
    return rc;
}

int weft_atexit_unregister(void (*fn)(void *arg), void *arg)
{
    size_t i, kept = 0;

    if (!fn)
        return weft__fail_null(__func__);
    weft__lock(&handlers_lock);
    for (i = 0; i < handler_count; i++) {
        if (handlers[i].fn != fn || handlers[i].arg != arg)
            handlers[kept++] = handlers[i];
    }
    i = handler_count - kept;
    handler_count = kept;
    weft__unlock(&handlers_lock);
    if (i == 0)
        return weft__fail(WEFT_ENOENT, "atexit_unregister: no handler %p with argument %p",
                          (void *)(uintptr_t)fn, arg);
    return WEFT_OK;
}

/* Pop and run handlers until none is left, so each runs once even when a
 * handler re-enters the exit, and handlers registered meanwhile run too. */
static void run_handlers(void)
{
    handler h;

    for (;;) {
        weft__lock(&handlers_lock);
        if (handler_count == 0) {
            weft__unlock(&handlers_lock);
            return;
        }
        h = handlers[--handler_count];
        weft__unlock(&handlers_lock);
        h.fn(h.arg);
    }
}

/* ---- WEFT_DEBUG=exit[:seconds] ---------------------------------------------------------- */

#define REPORT_PERIOD_NS INT64_C(5000000000)

static int64_t report_period; /* 0: no report */
static int64_t report_start, report_at;

/* Read WEFT_DEBUG once, as the exit starts: "exit" or "exit:<seconds>"
 * (the period, for tests that cannot wait 5 s). Anything else, or no
 * variable, leaves the report off. */
static void report_setup(void)
{
    char v[64];
    double seconds;
    char *end;

    if (!weft_sys_env_get("WEFT_DEBUG", v, sizeof v) || strncmp(v, "exit", 4) != 0)
        return;
    if (v[4] == '\0') {
        report_period = REPORT_PERIOD_NS;
    } else if (v[4] == ':') {
        seconds = strtod(v + 5, &end);
        if (end == v + 5 || *end != '\0' || !(seconds > 0 && seconds < 1e6))
            return;
        report_period = (int64_t)(seconds * 1e9);
    }
}

/* Start counting the wait of one step of the exit (the threads, the
 * children): the handlers between them may take their time. */
static void report_arm(void)
{
    if (report_period) {
        report_start = weft_sys_monotonic_ns();
        report_at = report_start + report_period;
    }
}

int64_t weft__exit_report_deadline(void)
{
    return report_period ? report_at : WEFT__NO_DEADLINE;
}

void weft__exit_report(void)
{
    int64_t now = weft_sys_monotonic_ns();

    if (now < report_at)
        return; /* woken early: not stuck yet */
    fprintf(stderr, "weft: the exit has waited %.1f s for:\n", (double)(now - report_start) / 1e9);
    weft__threads_report_non_daemon();
    weft__children_report();
    fflush(stderr);
    report_at = now + report_period;
}

static void finish_exit(void)
{
    weft_thread *self;

    run_handlers();
    /* Once the OS has ended the other threads (a DLL detached at exit), a
     * thread it killed may hold the list of children: leave them be, as
     * the threads are. */
    if (!weft_sys_other_threads_gone()) {
        report_arm();
        weft__children_at_exit();
    }
    self = weft__self_if_known();
    if (self)
        weft__locals_thread_end(self);
    weft__store(&exit_phase, EXIT_DONE);
}

/* Run the orderly exit, or the rest of it when the caller is already the
 * exiting thread. Returns when stdio may be flushed and the process end.
 * Only an exit a signal started requests a stop on the other threads (as
 * KeyboardInterrupt reaches a program's loops); sys.exit lets them run. */
static void orderly_exit(bool stop_threads)
{
    uint64_t me = weft_sys_thread_native_id();
    uint32_t expected = EXIT_RUNNING;

    if (weft__cas(&exit_phase, &expected, JOINING)) {
        weft__store64(&exiting_thread, me);
        report_setup();
        report_arm();
        if (!weft_sys_other_threads_gone()) {
            if (stop_threads)
                weft__threads_request_stop();
            weft__threads_join_non_daemon();
        }
        weft__store(&exit_phase, HANDLERS);
        finish_exit();
        return;
    }
    if (weft__load64(&exiting_thread) == me) {
        /* Back from a handler's weft_exit: finish. Back once all is done
         * (the C exit hook after weft_exit, or a DLL's own exit table
         * after the process-wide one): nothing is left, and the locks
         * finish_exit takes may belong to threads the OS has killed. */
        if (weft__load(&exit_phase) != EXIT_DONE)
            finish_exit();
        return;
    }
    /* Another thread runs the exit. A thread other than the main one ends
     * here, so that a join of it by that exit completes; the main thread
     * (which weft_thread_exit would send back here) waits for the process
     * to end. */
    if (me != weft_sys_thread_main_id())
        weft_thread_exit(NULL);
    for (;;)
        weft_sys_wait(&never, 0, WEFT__NO_DEADLINE);
}

static bool forking_thread_exits; /* the thread that forks runs the exit */

void weft__exit_at_fork(weft__fork_step step)
{
    if (step == WEFT__FORK_PREPARE)
        forking_thread_exits = weft__load(&exit_phase) != EXIT_RUNNING &&
                               weft__load64(&exiting_thread) == weft_sys_thread_native_id();
    weft__lock_at_fork(&handlers_lock, step);
    if (step != WEFT__FORK_CHILD)
        return;
    if (forking_thread_exits) {
        /* A handler forked: the child goes on with that exit, as itself. */
        exiting_thread = weft_sys_thread_native_id();
    } else {
        /* Another thread's exit is not the child's, which has only the
         * forking thread: its own exit starts afresh. */
        exit_phase = EXIT_RUNNING;
        exiting_thread = 0;
        in_c_exit = 0;
    }
}

void weft__exit_c_hook(void)
{
    /* Keep the hook registered for an exit() on another thread while this
     * one runs, which must then wait here instead of ending the process
     * with its own code. Not when the exiting thread's exit() comes back
     * for the registrations left: it would never run out of them. */
    if (weft__load(&exit_phase) == EXIT_RUNNING ||
        weft__load64(&exiting_thread) != weft_sys_thread_native_id())
        weft_sys_exit_hook_rearm(weft__exit_c_hook);
    weft__store(&in_c_exit, 1);
    orderly_exit(false);
}

int weft__exit_allows_threads(void)
{
    if (weft__load(&exit_phase) == EXIT_DONE)
        return weft__fail_text(WEFT_ESHUTDOWN, "the orderly exit has passed its handlers: "
                                               "nothing new starts");
    return WEFT_OK;
}

static bool exit_under_way(void)
{
    return weft__load_relaxed(&exit_phase) != EXIT_RUNNING;
}

WEFT_NORETURN static void exit_process(int code, bool stop_threads)
{
    orderly_exit(stop_threads);
    if (weft__load(&in_c_exit)) {
        /* exit() is already under way: end as it would, without re-entering it. */
        fflush(NULL);
        weft_sys_exit_now(code);
    }
    exit(code);
}

/* Called by the backend on an ordinary thread, never in a signal handler. */
static void on_shutdown_signal(int code)
{
    exit_process(code, true);
}

int weft_exit_on_signals(void)
{
    int rc = weft__runtime_init();

    if (rc != WEFT_OK)
        return rc;
    return weft_sys_signals_install(on_shutdown_signal, exit_under_way);
}

void weft_exit(int code)
{
    exit_process(code, false);
}

void weft_exit_now(int code)
{
    weft_sys_exit_now(code);
}
