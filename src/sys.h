/*
 * The backend contract: everything weft asks of the operating system.
 *
 * Common code (the .c files in src/) holds all the meaning and calls only these
 * functions; each backend (src/posix/, src/win32/) implements them as plain
 * operating-system facts, with no policy of its own. A function here never
 * returns a raw errno or GetLastError(): it returns a weft status, and for
 * WEFT_EOS records the OS error with weft__set_os_error().
 *
 * Time is int64_t nanoseconds. Deadlines are absolute, on the monotonic
 * clock; WEFT__NO_DEADLINE means none.
 */
#ifndef WEFT_SYS_H
#define WEFT_SYS_H

#ifndef WEFT_BUILDING
#error "src/sys.h is internal to weft"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEFT__NO_DEADLINE INT64_MAX

/* ---- Clocks ------------------------------------------------------------ */

/* Nanoseconds on a clock that never goes backwards and keeps counting while
 * the machine runs (CLOCK_MONOTONIC, QueryPerformanceCounter). */
int64_t weft_sys_monotonic_ns(void);

/* Nanoseconds since the Unix epoch on the wall clock. */
int64_t weft_sys_wall_ns(void);

/* ---- Waiting on an address --------------------------------------------- */

/* Compare-and-sleep. If *addr (read atomically) differs from `expected`,
 * return WEFT_OK at once. Otherwise sleep until weft_sys_wake_* is called on
 * addr, the deadline passes, or spuriously. Returns WEFT_ETIMEDOUT when the
 * deadline has passed (before the call or during the sleep; a deadline of 0
 * has always passed), else WEFT_OK; so callers loop: re-check their
 * condition, call again with the same deadline, and give up on
 * WEFT_ETIMEDOUT. addr must be 4-byte aligned. The check and the sleep are
 * atomic with respect to the wake calls: a wake that follows a change of
 * *addr is never lost. Never allocates. */
int weft_sys_wait(const uint32_t *addr, uint32_t expected, int64_t deadline_ns);

/* Wake at least one thread sleeping in weft_sys_wait on addr, if any. addr
 * need not point to live memory any more: waking a dead address is
 * harmless (at worst a spurious wake-up). */
void weft_sys_wake_one(const uint32_t *addr);

/* Wake every thread sleeping in weft_sys_wait on addr; as above. */
void weft_sys_wake_all(const uint32_t *addr);

/* ---- OS threads --------------------------------------------------------- */

/* An OS thread handle (pthread_t, HANDLE), opaque to common code. */
typedef uintptr_t weft_sys_thread;

/* What a new OS thread runs: fn(arg). */
typedef struct weft_sys_start {
    void (*fn)(void *arg);
    void *arg;
} weft_sys_start;

/* Start an OS thread running start->fn(start->arg). `*start` is the
 * caller's and stays valid until the thread has ended, so the backend needs
 * no allocation of its own (a heap call in a new thread would make the C
 * library set up per-thread heap caches for nothing). stack_size 0 is the
 * OS default; other values are rounded up to what the OS accepts (page
 * size, its minimum). Returns WEFT_OK; WEFT_EINVAL when the OS refuses the
 * stack size; WEFT_EAGAIN when it has no resources for a thread;
 * WEFT_ENOMEM; WEFT_EOS. */
int weft_sys_thread_start(weft_sys_thread *out, const weft_sys_start *start, size_t stack_size);

/* Wait for a thread to end and free its OS resources. Exactly one of join or
 * detach is called for every started thread. Never called by the thread on
 * itself. */
void weft_sys_thread_join(weft_sys_thread thread);

/* Let the OS free the thread's resources when it ends (or now, if it has). */
void weft_sys_thread_detach(weft_sys_thread thread);

/* Give the processor to another ready thread. */
void weft_sys_thread_yield(void);

/* The OS id of the calling thread (Linux TID, Windows thread id, macOS
 * pthread_threadid_np); never 0. */
uint64_t weft_sys_thread_native_id(void);

/* The OS id (as weft_sys_thread_native_id) of the process's main thread:
 * the one that ran main(), or in a forked child the thread that forked. */
uint64_t weft_sys_thread_main_id(void);

/* Set the OS-visible name (for debuggers, ps, top) of `thread`, or of the
 * calling thread when `thread` is NULL, truncated to the OS limit at a UTF-8
 * character boundary. `thread` is a started thread that was neither joined
 * nor detached. Best effort: failures are ignored, since the name is only a
 * diagnostic, and where the OS can only name the calling thread (macOS) a
 * non-NULL `thread` is ignored. */
void weft_sys_thread_set_name(const weft_sys_thread *thread, const char *name);

/* End the calling thread now (pthread_exit, _endthreadex): the thread-local
 * slot's destructor runs as for a thread that returns. */
WEFT_NORETURN void weft_sys_thread_exit(void);

/* ---- The thread-local slot ---------------------------------------------- */

/* Create the one native thread-local slot weft uses. `destructor` is called
 * with the slot's value in every thread that ends with a non-NULL value:
 * weft's threads and threads weft did not start alike (pthread key
 * destructor, FLS callback). Called once, before any get/set.
 * Returns WEFT_OK, WEFT_EAGAIN when the OS has no free slot, or WEFT_EOS. */
int weft_sys_tls_create(void (*destructor)(void *value));

/* The calling thread's value of the slot; NULL until set. */
void *weft_sys_tls_get(void);

/* Set the calling thread's value of the slot. Returns WEFT_OK or WEFT_ENOMEM. */
int weft_sys_tls_set(void *value);

/* ---- The process -------------------------------------------------------- */

/* End the process now with `code`: no handler of any kind runs, nothing is
 * flushed (_exit, TerminateProcess). */
WEFT_NORETURN void weft_sys_exit_now(int code);

/* Arrange for hook() to run when the process exits through exit() or a
 * return from main(), while the other threads still run: atexit on POSIX;
 * on Windows the process-wide exit table of the C runtime, also when weft is
 * a DLL, whose own atexit table runs only after ExitProcess has ended every
 * other thread. The hook may be called more than once and must make later
 * calls harmless. Returns WEFT_OK or WEFT_ENOMEM. */
int weft_sys_exit_hook(void (*hook)(void));

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

/* Register fork handlers (pthread_atfork): `prepare` runs in the forking
 * thread before fork(), `parent` and `child` after it in each process. A
 * no-op where fork() does not exist. Returns WEFT_OK or WEFT_ENOMEM. */
int weft_sys_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));

/* ---- The machine ---------------------------------------------------------- */

/* The number of CPUs the process may run on (affinity mask), at least 1. */
int weft_sys_cpu_count(void);

#endif /* WEFT_SYS_H */
