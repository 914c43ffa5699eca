/* SPDX-License-Identifier: MIT */
/*
 * The immediate exit, the exit hook and the shutdown signals:
 * posix/exit.c + posix/signals.c, win32/exit.c + win32/signals.c; used by
 * exit.c and runtime.c.
 */
#ifndef WEFT_SYS_EXIT_H
#define WEFT_SYS_EXIT_H

#include "base.h"

/* ---- The process -------------------------------------------------------- */

/* End the process now with `code`: no handler of any kind runs, nothing is
 * flushed (_exit, TerminateProcess). */
WEFT__NORETURN void weft_sys_exit_now(int code);

/* Arrange for hook() to run when the process exits through exit() or a
 * return from main(), while the other threads still run: atexit on POSIX;
 * on Windows the process-wide exit table of the C runtime, also when weft is
 * a DLL, whose own atexit table runs only after ExitProcess has ended every
 * other thread. The hook may be called more than once and must make later
 * calls harmless. Returns WEFT_OK or WEFT_ENOMEM. */
int weft_sys_exit_hook(void (*hook)(void));

/* Called by the hook as it starts: make sure that exit() called by another
 * thread while the hook runs (a return from main() included) reaches the
 * hook too, instead of ending the process on its own. POSIX does not
 * serialise exit() calls and runs each registered function once, so the
 * hook is registered again (atexit); the C runtime of Windows lets one
 * exit() run at a time, so there is nothing to do. */
void weft_sys_exit_hook_rearm(void (*hook)(void));

/* Copy the value of the environment variable `name` (ASCII), UTF-8, into
 * buf (cap bytes, NUL-terminated). False when it is unset or longer than
 * buf holds. For weft's own settings (WEFT_DEBUG), read as an exit starts:
 * the C library's getenv is what cl.exe /W4 rejects as unsafe. */
bool weft_sys_env_get(const char *name, char *buf, size_t cap);

/* Remove the environment variable `name` (ASCII) from this process's
 * environment, the one its children inherit. Not while another thread
 * reads the environment (unsetenv's rule). */
void weft_sys_env_unset(const char *name);

/* True once the process is past the point where threads other than the
 * caller run (a DLL detached at process exit): an exit must then wait for
 * no thread. Always false on POSIX, where exit() runs its handlers while
 * every thread still runs. */
bool weft_sys_other_threads_gone(void);

/* Route the shutdown signals to on_signal(code), called on an ordinary
 * thread, never in a signal context: SIGINT, SIGTERM and SIGHUP on POSIX,
 * with code 128 + the signal number; Ctrl-C, Ctrl-Break, console close,
 * log-off and shut-down on Windows, with STATUS_CONTROL_C_EXIT, the code
 * Windows itself ends a process with for them. on_signal does not return
 * (it exits the process); on Windows the control handler thread is the one
 * that calls it, so Windows waits for it. A second signal, or any signal
 * while exiting() is true, ends the process at once with its code, from the
 * handler: exiting must be async-signal-safe (an atomic load). Installing
 * again only replaces the callbacks. Returns WEFT_OK or WEFT_EOS. */
int weft_sys_signals_install(void (*on_signal)(int code), bool (*exiting)(void));

#endif /* WEFT_SYS_EXIT_H */
