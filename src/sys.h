/* SPDX-License-Identifier: MIT */
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

/* Called by the hook as it starts: make sure that exit() called by another
 * thread while the hook runs (a return from main() included) reaches the
 * hook too, instead of ending the process on its own. POSIX does not
 * serialise exit() calls and runs each registered function once, so the
 * hook is registered again (atexit); the C runtime of Windows lets one
 * exit() run at a time, so there is nothing to do. */
void weft_sys_exit_hook_rearm(void (*hook)(void));

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

/* Give the common code's fork handlers to the backend's one pthread_atfork
 * registration: `prepare` runs in the forking thread before fork(), `parent`
 * and `child` after it in each process, the child's after the backend has
 * reset its own state (the parking lot, the main thread's id, the shutdown
 * signals). Called once. A no-op where fork() does not exist. Returns
 * WEFT_OK or WEFT_ENOMEM. */
int weft_sys_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));

/* ---- Files and pipes -------------------------------------------------------- */

/* An open file: a descriptor on POSIX, a HANDLE on Windows. Every file the
 * backend opens is close-on-exec (not inheritable) from its birth, so a
 * spawn on another thread can never inherit it by accident. */
typedef intptr_t weft_sys_file;
#define WEFT__NO_FILE ((weft_sys_file)-1)

/* A pipe: bytes written to *write_end are read from *read_end. Returns
 * WEFT_OK, WEFT_EAGAIN (no descriptors left), WEFT_ENOMEM or WEFT_EOS. */
int weft_sys_pipe(weft_sys_file *read_end, weft_sys_file *write_end);

/* The null device (/dev/null, NUL) open for reading and writing. */
int weft_sys_open_null(weft_sys_file *out);

/* The calling process's own standard file `which` (0 stdin, 1 stdout,
 * 2 stderr): the descriptor number, or GetStdHandle's handle (which may be
 * WEFT__NO_FILE when the process has none). Not a new file: never closed. */
weft_sys_file weft_sys_stdio(int which);

/* Read up to len (> 0) bytes, blocking until at least one byte or the end
 * of the file (every writer closed its end), and retrying interrupted
 * calls. *got is 0 only at the end. Returns WEFT_OK or WEFT_EOS. */
int weft_sys_read(weft_sys_file f, void *buf, size_t len, size_t *got);

/* Write all len bytes, blocking as long as it takes. Returns WEFT_OK;
 * WEFT_ESHUTDOWN when the reading end is closed (EPIPE, ERROR_NO_DATA),
 * without SIGPIPE reaching the process; WEFT_EOS. */
int weft_sys_write(weft_sys_file f, const void *buf, size_t len);

/* Close a file the backend opened. */
void weft_sys_close(weft_sys_file f);

/* ---- Child processes ------------------------------------------------------------- */

/* A started child process. `handle` is what a wait by a deadline needs
 * besides the pid: the process HANDLE on Windows; on Linux a pidfd, made
 * by weft_sys_child_open when first needed; else -1. */
typedef struct weft_sys_child {
    int64_t pid;
    intptr_t handle;
} weft_sys_child;

/* What weft_sys_spawn starts. */
typedef struct weft_sys_spawn_opts {
    /* The program and its arguments, UTF-8, NULL-terminated, at least the
     * program. A program without a directory separator is searched in the
     * directories of PATH (the PATH of `env` when it has one, else the
     * parent's), never in the current directory; on Windows a name without
     * an extension is tried with each of PATHEXT's. */
    const char *const *argv;
    const char *const *env; /* "K=V" entries, NULL-terminated; NULL: the parent's */
    const char *cwd;        /* NULL: the parent's */
    /* The child's stdin, stdout and stderr; WEFT__NO_FILE: the parent's own. */
    weft_sys_file stdio[3];
    /* Further files the child inherits (the spawn start method's channel).
     * The child learns their names from pass_count extra arguments that
     * the backend appends to argv: each the decimal value (a descriptor
     * number on POSIX, a handle value on Windows) under which the child
     * finds pass[i]; weft_sys_file_from_name() reads one back. */
    weft_sys_file pass[2];
    size_t pass_count;
    bool new_process_group; /* setpgid(0) / CREATE_NEW_PROCESS_GROUP */
} weft_sys_spawn_opts;

/* Start a program (posix_spawn; CreateProcessW with an explicit list of
 * inherited handles). The child inherits no file but its three standard
 * ones and `pass`. Returns WEFT_OK; WEFT_ENOENT when the program does not
 * exist (no PATH entry has it, or exec reported ENOENT); WEFT_EINVAL for an
 * empty argv, a bad pass entry, a string Windows cannot carry (not UTF-8,
 * '"' in argv[0], an env entry without '=', a command line over 32767
 * units, an argument to a .bat/.cmd program that cmd.exe would
 * re-interpret); WEFT_ENOMEM; WEFT_EOS
 * with the OS error (the errno exec failed with, e.g. EACCES). */
int weft_sys_spawn(weft_sys_child *out, const weft_sys_spawn_opts *opts);

/* In a spawned child: the file named by an argument that weft_sys_spawn
 * appended for a passed file, or WEFT__NO_FILE when `name` is not a
 * decimal number that can name one. */
weft_sys_file weft_sys_file_from_name(const char *name);

/* Whether this process's first argument (argv[1]) is `marker`, read from
 * what the OS keeps of the command line (/proc/self/cmdline, _NSGetArgv,
 * GetCommandLineW), since weft sees main()'s argv only when the program
 * calls weft_process_main. False where it cannot be read. Allocates
 * nothing; may open and close a file. */
bool weft_sys_first_argument_is(const char *marker);

/* fork(). Returns WEFT_OK in both processes with *in_child telling which;
 * in the parent *out describes the child. WEFT_EINVAL where fork does not
 * exist (Windows); WEFT_EAGAIN; WEFT_ENOMEM; WEFT_EOS. */
int weft_sys_fork(weft_sys_child *out, bool *in_child);

/* Get the child ready for waits by a deadline: on Linux, open its pidfd
 * (when that fails, such waits poll). Call it while the child is not
 * reaped, serialised with the reap; Windows has nothing to do. */
void weft_sys_child_open(weft_sys_child *child);

/* Wait until the child has ended or the deadline passes, without reaping
 * it (several threads may wait at once). Without a deadline, one call that
 * sleeps until the child ends (waitid by pid on POSIX). With one: the
 * pidfd and poll on Linux, the process handle on Windows, polling where
 * neither exists. The caller keeps the child from being reaped while it
 * waits: its pid could then be given to another process. Returns WEFT_OK
 * once it has ended, WEFT_ETIMEDOUT, or WEFT_EOS. */
int weft_sys_child_wait(const weft_sys_child *child, int64_t deadline_ns);

/* Collect an ended child's exit code without blocking: its exit status, or
 * -N when signal N ended it (POSIX); the 32-bit exit code cast to int
 * (Windows). Returns WEFT_OK (then the pid is free
 * for reuse on POSIX: never call again, never signal it again), WEFT_EAGAIN
 * while it runs, or WEFT_EOS. The caller serialises reap and signal. */
int weft_sys_child_reap(weft_sys_child *child, int *code);

/* SIGTERM, or SIGKILL when `force`; on Windows TerminateProcess with exit
 * code 1 for both. Never called after a successful reap. Returns WEFT_OK
 * (also when the child has ended but is not reaped) or WEFT_EOS. */
int weft_sys_child_signal(const weft_sys_child *child, bool force);

/* Free what the record holds besides the process itself (the pidfd, the
 * process handle); the child may still run. */
void weft_sys_child_close(weft_sys_child *child);

/* The calling process's id. */
int64_t weft_sys_getpid(void);

/* The path of the running executable, found without trusting argv[0]
 * (/proc/self/exe, _NSGetExecutablePath, sysctl KERN_PROC_PATHNAME,
 * GetModuleFileNameW), UTF-8, malloc'd into *out. Returns WEFT_OK,
 * WEFT_ENOMEM or WEFT_EOS. */
int weft_sys_executable_path(char **out);

/* ---- The machine ---------------------------------------------------------- */

/* The number of CPUs the process may run on (affinity mask), at least 1. */
int weft_sys_cpu_count(void);

/* Whether the process's threads can run on more than one CPU at once (the
 * process's affinity, as taskset or a container sets it, not the calling
 * thread's, which a program may have pinned): only then can spinning for a
 * thread that holds a lock pay, since on one CPU that thread cannot run. */
bool weft_sys_several_cpus(void);

#endif /* WEFT_SYS_H */
