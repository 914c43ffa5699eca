/* SPDX-License-Identifier: MIT */
/*
 * Shutdown signals: weft_exit_on_signals(). Each case runs a child mode of
 * this executable that raises a real signal at itself (POSIX) or a console
 * control event (Windows) and checks its output and exit code.
 */
#include "runner.h"

#include <signal.h>
#include <stdio.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#define CTRL_C_EXIT_CODE ((int)0xC000013AL) /* STATUS_CONTROL_C_EXIT */
#endif

static weft_event never_set = WEFT_EVENT_INIT; /* nobody sets it */

static void say(void *line)
{
    printf("%s\n", (const char *)line);
}

/* A non-daemon worker that sleeps until the exit's stop request. */
static void *sleeper(void *unused)
{
    (void)unused;
    printf("worker: %s\n", weft_sleep(60) == WEFT_ECANCELED ? "stopped" : "slept");
    return NULL;
}

/* The exit code of a child to which the signal never came. */
enum { NOT_DELIVERED = 98 };

/* Install the signal handling, a handler, a sleeping worker; then `deliver`
 * the signal and wait (not with weft_sleep, which the exit would cancel, so
 * the main thread stays put while the exit runs on another thread). The
 * wait is bounded, so a signal that never arrives fails the case instead
 * of hanging it. */
static int shutdown_by(void (*deliver)(void))
{
    weft_thread *worker;

    CHECK_OK(weft_exit_on_signals());
    CHECK_OK(weft_exit_on_signals()); /* a second call changes nothing */
    CHECK_OK(weft_atexit(say, "handler"));
    CHECK_OK(weft_thread_start(&worker, sleeper, NULL, NULL));
    /* The exit waits for it all the same (non-daemon). A handle kept would
     * leave the ended thread unjoined when a second signal ends the process
     * at once, which gcc's ThreadSanitizer reports as a thread leak. */
    weft_thread_release(worker);
    printf("signalling\n");
    fflush(stdout);
    deliver();
    weft_event_wait(&never_set, 20.0 * weft_test_time_scale());
    printf("no signal arrived\n");
    fflush(stdout);
    weft_exit_now(NOT_DELIVERED);
}

static void check_orderly(const char *mode, int code)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode(mode, code, out);
    CHECK_BEFORE(out, "signalling", "worker: stopped");
    CHECK_BEFORE(out, "worker: stopped", "handler");
    CHECK_ONCE(out, "handler");
}

/* Every child mode exists on every platform (the runner lists them from
 * the source); a mode for the other platform is never run. */
#ifdef _WIN32
#define POSIX_ONLY(body) return 77
#define WINDOWS_ONLY(body) body
#else
#define POSIX_ONLY(body) body
#define WINDOWS_ONLY(body) return 77
#endif

#ifndef _WIN32
static void raise_term(void) { raise(SIGTERM); }
static void raise_int(void) { raise(SIGINT); }
static void raise_hup(void) { raise(SIGHUP); }
#else
/* A console of the child's own, so that the event (sent to every process
 * attached to the console) reaches nobody else, ctest included. */
static void ctrl_c(void)
{
    FreeConsole();
    if (AllocConsole())
        GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0);
}

/* Wine delivers the event when the child runs from a shell, but not when
 * it runs under cmd.exe from system() with its output redirected, as here:
 * under Wine this case is skipped; Windows runs it. */
static bool under_wine(void)
{
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");

    return ntdll && GetProcAddress(ntdll, "wine_get_version") != NULL;
}
#endif

WEFT_CHILD_MODE(sigterm) { POSIX_ONLY(return shutdown_by(raise_term)); }
WEFT_CHILD_MODE(sigint) { POSIX_ONLY(return shutdown_by(raise_int)); }
WEFT_CHILD_MODE(sighup) { POSIX_ONLY(return shutdown_by(raise_hup)); }
WEFT_CHILD_MODE(ctrl_c) { WINDOWS_ONLY(return shutdown_by(ctrl_c)); }

#ifndef _WIN32
/* A handler of the orderly exit raises a second signal: the process ends
 * at once, the rest of that handler and the handlers after it never run. */
static void signal_again(void *unused)
{
    (void)unused;
    printf("second signal\n");
    fflush(stdout);
    raise(SIGINT);
    printf("after the second signal\n");
}

/* A signal while an exit that no signal started runs: at once too. */
static void signal_during_exit(void *unused)
{
    (void)unused;
    printf("exiting\n");
    fflush(stdout);
    raise(SIGTERM);
    printf("after the signal\n");
}
#endif

WEFT_CHILD_MODE(second_signal)
{
    POSIX_ONLY(CHECK_OK(weft_atexit(say, "first registered, runs last"));
               CHECK_OK(weft_atexit(signal_again, NULL)); return shutdown_by(raise_term));
}

WEFT_CHILD_MODE(signal_during_weft_exit)
{
    POSIX_ONLY(CHECK_OK(weft_exit_on_signals()); CHECK_OK(weft_atexit(signal_during_exit, NULL));
               weft_exit(3));
}

WEFT_TEST(signals_sigterm_exits_143_after_orderly_exit)
{
#ifdef _WIN32
    weft_test_skip("POSIX signals");
#else
    check_orderly("sigterm", 128 + SIGTERM);
#endif
}

WEFT_TEST(signals_sigint_exits_130_after_orderly_exit)
{
#ifdef _WIN32
    weft_test_skip("POSIX signals");
#else
    check_orderly("sigint", 128 + SIGINT);
#endif
}

WEFT_TEST(signals_sighup_exits_129_after_orderly_exit)
{
#ifdef _WIN32
    weft_test_skip("POSIX signals");
#else
    check_orderly("sighup", 128 + SIGHUP);
#endif
}

WEFT_TEST(signals_second_signal_ends_at_once)
{
#ifdef _WIN32
    weft_test_skip("POSIX signals");
#else
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("second_signal", 128 + SIGINT, out);
    CHECK_BEFORE(out, "worker: stopped", "second signal");
    CHECK_ABSENT(out, "after the second signal");
    CHECK_ABSENT(out, "first registered, runs last");
#endif
}

WEFT_TEST(signals_signal_during_weft_exit_ends_at_once)
{
#ifdef _WIN32
    weft_test_skip("POSIX signals");
#else
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("signal_during_weft_exit", 128 + SIGTERM, out);
    CHECK_ONCE(out, "exiting");
    CHECK_ABSENT(out, "after the signal");
#endif
}

WEFT_TEST(signals_ctrl_c_event_exits_like_windows)
{
#ifdef _WIN32
    if (under_wine())
        weft_test_skip("Wine delivers no console event to a child of system()");
    check_orderly("ctrl_c", CTRL_C_EXIT_CODE);
#else
    weft_test_skip("Windows console control events");
#endif
}
