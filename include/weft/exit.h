/* SPDX-License-Identifier: MIT */
/**
 * \file weft/exit.h
 * \brief The two ways out: sys.exit (weft_exit) and os._exit
 *        (weft_exit_now), and atexit handlers.
 *
 * An orderly exit, in this order:
 * 1. only when a signal started the exit (weft_exit_on_signals()): a stop
 *    is requested on every weft thread (weft_stop_requested() turns true,
 *    weft_sleep() returns `WEFT_ECANCELED`), as KeyboardInterrupt reaches a
 *    program's loops. weft_exit(), exit() and a return from main() request
 *    none: a weft_sleep() elsewhere sleeps its full time, as time.sleep()
 *    does under sys.exit (a thread to stop is the program's to ask, with
 *    weft_thread_request_stop());
 * 2. every non-daemon thread weft started is joined, but the caller; threads
 *    started while these joins run are joined too;
 * 3. the weft_atexit() handlers run, last registered first, each once;
 * 4. daemon child processes (weft_process_start() with `daemon`, pool
 *    workers) are terminated, and every child process is waited for,
 *    including those whose handle was released (multiprocessing's exit);
 * 5. the calling thread's weft_local values are destroyed;
 * 6. stdio is flushed and the process exits.
 * It starts from weft_exit(), from returning from main() or calling exit()
 * (weft installs a C atexit hook when the first thread is started or the
 * first handler registered), and only once: a second weft_exit() from a
 * handler continues the same exit with the new code; one from a thread that
 * step 2 is joining ends that thread, so the join completes. The first exit
 * wins, however another arrives: an exit() or a return from main() on
 * another thread meanwhile waits for the process to end. (On Windows the C
 * runtime runs one exit() at a time, so a thread that step 2 joins must end
 * with weft_exit() or weft_thread_exit(), not exit(), which would wait for
 * the exit that waits for it.)
 *
 * Steps 2 and 4 wait without a time limit. With `WEFT_DEBUG=exit` in the
 * environment (`exit:<seconds>` for another period than 5 s), a step that
 * has waited that long prints on stderr each thread and child process it
 * still waits for, and again each period (README, "Troubleshooting").
 */
#ifndef WEFT_EXIT_H
#define WEFT_EXIT_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Register `fn(arg)` to run at the orderly exit (atexit.register()).
 * Handlers run last registered first; a handler may register or unregister
 * others, and one registered while handlers run runs too.
 * \param fn the handler.
 * \param arg passed to `fn`.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for a NULL `fn`; `WEFT_ENOMEM`.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_atexit(void (*fn)(void *arg), void *arg);

/**
 * Remove every registration of `fn` with `arg` (atexit.unregister()).
 * \param fn the handler.
 * \param arg the argument it was registered with: registrations of `fn`
 *        with another argument stay.
 * \returns `WEFT_OK`; `WEFT_ENOENT` when none was registered; `WEFT_EINVAL`
 *          for a NULL `fn`.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_atexit_unregister(void (*fn)(void *arg), void *arg);

/**
 * sys.exit(code): the orderly exit described above, then exit with `code`.
 * \param code the process's exit code.
 * \par Thread safety:
 * Safe from any thread. Blocks while non-daemon threads,
 * the handlers and child processes run; never returns. While
 * another thread runs the exit, a call from any other thread but
 * the main one ends the calling thread, and one from the main
 * thread waits for the process to end.
 */
WEFT_API WEFT_NORETURN void weft_exit(int code);

/**
 * os._exit(code): end the process now. No handler runs, nothing is
 * flushed, no thread is waited for.
 * \param code the process's exit code.
 * \par Thread safety:
 * Safe from any thread. Never returns.
 */
WEFT_API WEFT_NORETURN void weft_exit_now(int code);

/**
 * Make the shutdown signals start the orderly exit: SIGINT, SIGTERM and
 * SIGHUP on POSIX, exiting with 128 + the signal number (Python's
 * KeyboardInterrupt or a shell's convention); Ctrl-C, Ctrl-Break, console
 * close, log-off and shut-down on Windows, exiting with
 * STATUS_CONTROL_C_EXIT (0xC000013A), the code Windows uses for them. The
 * exit runs on an ordinary thread, never inside a signal handler. A second
 * signal while that exit runs (or one during any orderly exit) ends the
 * process at once, like weft_exit_now(). Unlike weft_exit(), this exit
 * requests a stop on every weft thread first. Calling it again changes
 * nothing once it succeeded; after a failure nothing is left behind and a
 * later call tries again. A child made by fork() starts with the signals'
 * previous dispositions and does not share this process's handling: it
 * calls weft_exit_on_signals() itself to have its own.
 *
 * \returns `WEFT_OK`; `WEFT_EAGAIN` or `WEFT_ENOMEM` when the thread or
 *          pipe that carries signals to it could not be made (POSIX);
 *          `WEFT_EOS` when the OS refused otherwise (weft_last_os_error()).
 * \par Thread safety:
 * Safe from any thread. On POSIX it returns once the thread
 * that carries signals runs (a fork right after it never copies
 * that thread half-started); otherwise never blocks. It
 * replaces the program's own handlers for these signals.
 */
WEFT_API int weft_exit_on_signals(void);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_EXIT_H */
