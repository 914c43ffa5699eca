/* SPDX-License-Identifier: MIT */
/**
 * \file weft/process.h
 * \brief multiprocessing.Process and multiprocessing.Pool: functions of this
 *        program run in child processes.
 *
 * A target is a function of the program itself, registered under a name:
 *
 *     static int greet(const void *arg, size_t len) { ...; return 0; }
 *
 *     int main(int argc, char **argv)
 *     {
 *         weft_process_register("greet", greet);
 *         weft_process_main(argc, argv);   // a spawned child runs here
 *         ...
 *         weft_process_start(&p, "greet", "bob", 3, NULL);
 *
 * Two start methods, as in Python:
 * - **spawn** (every platform, and the default everywhere): the child runs
 *   this program's executable again (found without trusting argv[0]),
 *   with a marker in its arguments; weft_process_main() sees the marker,
 *   reads the target's name and argument bytes from a pipe the child
 *   inherited (never from the command line, so any size passes), runs the
 *   target and ends with weft_exit(its return value): the child's own
 *   weft_atexit handlers run and its non-daemon threads are waited for.
 * - **fork** (POSIX only): the child is a fork() of the caller and runs the
 *   target at once. stdio is flushed before the fork (so nothing buffered
 *   is written twice) and after the target; the child then ends through
 *   the immediate exit, so no handler inherited from the parent runs in
 *   it. Forking a process that runs other threads is only safe when the
 *   target needs nothing those threads may hold (the reason Python 3.14
 *   stopped defaulting to fork); ask for it explicitly.
 *
 * The child inherits stdin, stdout and stderr (Python gives a child an
 * empty stdin instead; a C program may want to keep it). Its exit code is
 * the target's return value, truncated by the OS as for any exit code (on
 * POSIX the low 8 bits: 300 arrives as 44). A pool runs the same kind of
 * function and hands back its whole return value and the bytes it gave
 * weft_process_reply() (weft_pool_result): return a computed value through
 * a pool, not through a Process's exit code.
 *
 * At an orderly exit of the parent (weft_exit, exit(), a return from main),
 * after the weft_atexit handlers, every daemon child is terminated and then
 * every child not yet joined is waited for, as multiprocessing does; a
 * child whose handle was released still counts.
 */
#ifndef WEFT_PROCESS_H
#define WEFT_PROCESS_H

#include "base.h"
#include "executor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A target: runs in the child with the argument bytes given to start;
 *  its return value is the child's exit code. */
typedef int (*weft_process_fn)(const void *arg, size_t len);

/** How a child process begins. */
typedef enum weft_start_method {
    WEFT_START_DEFAULT, /**< spawn, on every platform */
    WEFT_START_FORK,    /**< fork(): POSIX only */
    WEFT_START_SPAWN    /**< run this executable again */
} weft_start_method;

/** Options of weft_process_start(); NULL means all zero. */
typedef struct weft_process_opts {
    weft_start_method method; /**< how the child begins; spawn when zero-filled */
    bool daemon; /**< terminated, not waited for, at the parent's exit */
    /** Handles of weft/ipc.h (a weft_conn * ...) the child receives, in
     *  order: it finds each with weft_process_passed(). The parent keeps
     *  its own; NULL is fine when `npass` is 0. */
    const void *const *pass;
    size_t npass; /**< how many handles `pass` holds */
    void *reserved[2]; /**< zero: room for later fields (weft/base.h) */
} weft_process_opts;

/** An opaque process handle. */
typedef struct weft_process weft_process;

/**
 * Register `fn` as the target `name`. Register every target before
 * weft_process_main(), in the same order in every run, since a spawned
 * child finds its target by this name.
 * \param name the target's name, copied.
 * \param fn the function.
 * \returns `WEFT_OK` (also for registering the same pair again);
 *          `WEFT_EINVAL` for a NULL or empty name or NULL `fn`, a name
 *          already registered with another function, or a name starting
 *          with "weft:" (weft's own targets); `WEFT_ENOMEM`.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_process_register(const char *name, weft_process_fn fn);

/**
 * The spawn start method's entry point: call it near the top of main(),
 * after registering the targets. In a child started by the spawn method it
 * runs the target (or serves as a pool worker) and ends the process with
 * weft_exit(); anywhere else it returns at once, having taken, in a child
 * of weft_popen_start() given handles in `pass`, those handles
 * (weft_process_passed(); see weft/popen.h). (Python's spawn bootstrap
 * and freeze_support().) A child whose target is not registered writes a
 * message on stderr and exits with code 1. A spawned child re-runs main()
 * up to this call: a process start there (weft_process_start(),
 * weft_pool_create()) before it has run gets `WEFT_EPERM` and a message on
 * stderr, instead of starting children without end (Python's error about
 * the bootstrapping phase).
 * \param argc main()'s argc.
 * \param argv main()'s argv.
 * \par Thread safety:
 * Call from main() only. Never blocks where it returns; in
 * a child it does not return.
 */
WEFT_API void weft_process_main(int argc, char **argv);

/**
 * Start the target `target` with a copy of the `len` bytes at `arg` in a
 * new child process (Process(target=...).start()).
 * \param out receives the handle; give it back with weft_process_release().
 * \param target the name a target was registered under.
 * \param arg the argument bytes; NULL is fine when `len` is 0.
 * \param len how many bytes.
 * \param opts NULL: the default method (spawn), not a daemon.
 * \returns `WEFT_OK` with a handle in `*out`; `WEFT_ENOENT` when no target
 *          has that name; `WEFT_EINVAL` for NULL `out` or `target`, NULL
 *          `arg` with `len` > 0, an unknown method, the fork method on
 *          Windows, a non-zero reserved slot in `opts`, NULL `pass` with
 *          `npass` > 0, or an entry of `pass` that is not an open handle
 *          of weft/ipc.h;
 *          `WEFT_ESHUTDOWN` once the orderly exit has passed its handlers;
 *          `WEFT_EPERM` in a child of the spawn method before
 *          weft_process_main() has run (see there);
 *          `WEFT_ECHILD` when a spawned child ended before it read
 *          its argument; `WEFT_EAGAIN` when no file descriptor is left for
 *          its pipe, or fork() finds no room for a process; `WEFT_ENOMEM`;
 *          `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Blocks until the child has the
 * argument bytes (the spawn method writes them into a pipe).
 */
WEFT_API int weft_process_start(weft_process **out, const char *target, const void *arg,
                                size_t len, const weft_process_opts *opts);

/**
 * Wait for the child to end (join(timeout)) and reap it.
 * \param process the child.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK` once it has ended; `WEFT_ETIMEDOUT`; `WEFT_EINVAL` for
 *          NULL or a bad timeout; `WEFT_EOS`.
 * \par Thread safety:
 * Safe from several threads at once. Blocks up to `timeout`,
 * woken by the child's end (no polling on Linux and Windows).
 */
WEFT_API int weft_process_join(weft_process *process, double timeout);

/**
 * Whether the child still runs (is_alive()); reaps it if it has ended.
 * \param process the child.
 * \returns true while it runs; false once it has ended, and for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API bool weft_process_is_alive(weft_process *process);

/**
 * The child's exit code (exitcode): the target's return value, or -N when
 * signal N ended it (POSIX). On Windows: 1 after weft_process_terminate()
 * or weft_process_kill(), 3 after abort(), and the NTSTATUS code of a
 * crash (such as 0xC0000005) as a negative int. Reaps the child if it has
 * ended.
 * \param process the child.
 * \param code receives the exit code.
 * \returns `WEFT_OK` with `*code`; `WEFT_EAGAIN` while it runs;
 *          `WEFT_EINVAL` for NULL arguments.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_process_exitcode(weft_process *process, int *code);

/**
 * The child's process id (pid).
 * \param process the child.
 * \returns the pid, also after the child has ended; -1 for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int64_t weft_process_pid(const weft_process *process);

/**
 * Ask the child to end: SIGTERM on POSIX, TerminateProcess on Windows
 * (terminate()). A child already reaped is never signalled, so a recycled
 * pid is never hit.
 * \param process the child.
 * \returns `WEFT_OK` (also when it has already ended); `WEFT_EINVAL` for
 *          NULL; `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Never blocks: it does not wait for
 * the child to end.
 */
WEFT_API int weft_process_terminate(weft_process *process);

/**
 * End the child at once: SIGKILL on POSIX, TerminateProcess on Windows
 * (kill()). Otherwise as weft_process_terminate().
 * \param process the child.
 * \returns `WEFT_OK` (also when it has already ended); `WEFT_EINVAL` for
 *          NULL; `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_process_kill(weft_process *process);

/**
 * Give the handle back. A child still running goes on; it is reaped
 * within a fraction of a second of its end (no zombie stays behind), by a
 * thread weft runs only while released children run (not a weft thread:
 * weft_thread_enumerate() does not list it), and the parent's orderly exit still
 * waits for it (or terminates it, for a daemon).
 * \param process the handle; NULL is ignored.
 * \par Thread safety:
 * Not while another thread uses the same handle. Never blocks.
 */
WEFT_API void weft_process_release(weft_process *process);

/**
 * The calling process's id (os.getpid()).
 * \returns the pid.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int64_t weft_getpid(void);

/* ---- Pool ------------------------------------------------------------------ */

/** An opaque pool of worker processes (multiprocessing.Pool). */
typedef struct weft_pool weft_pool;

/** Options of weft_pool_create(); NULL means all zero. */
typedef struct weft_pool_opts {
    int processes;            /**< workers; 0: weft_cpu_count() */
    weft_start_method method; /**< how workers start; default spawn */
    /** NULL, or a registered target run once in each worker before its
     *  first task (Pool(initializer=)), with no argument. It returns 0
     *  when the worker is ready; any other value fails the task that
     *  worker was given, with that value when it is a code of the
     *  program's own (<= `WEFT_EUSER`), else with `WEFT_ECHILD`, and the
     *  worker is replaced, so every task fails while the initializer does
     *  (Python's pool would start workers over and over instead). */
    const char *initializer;
    /** Tasks a worker runs before it is replaced by a new one
     *  (maxtasksperchild); 0: no limit. */
    size_t max_tasks_per_child;
    void *reserved[2]; /**< zero: room for later fields (weft/base.h) */
} weft_pool_opts;

/** One input of weft_pool_map(). */
typedef struct weft_buffer {
    const void *data; /**< the bytes; NULL is fine when `len` is 0 */
    size_t len;       /**< how many */
} weft_buffer;

/** One result of weft_pool_map(), in input order. */
typedef struct weft_pool_result {
    /** `WEFT_OK`: the target returned; `WEFT_ECHILD`: the worker ended
     *  (crashed, was killed, exited) while running this input, or the pool
     *  was terminated before it ran; `WEFT_ENOENT`: the worker had no such
     *  target; another status when no worker could be started for it
     *  (as weft_process_start()) or the pipes to it failed. */
    int status;
    int value;  /**< the target's return value (when status is `WEFT_OK`) */
    void *data; /**< bytes the target gave weft_process_reply(); free with weft_free() */
    size_t len; /**< how many bytes `data` holds; `data` is NULL when 0 */
} weft_pool_result;

/**
 * Start a pool of worker processes (Pool(processes)). Workers are daemon
 * children: an orderly exit terminates those of a pool not yet destroyed.
 * \param out receives the pool; give it back with weft_pool_destroy().
 * \param opts the number of workers and how they start; NULL: one worker
 *        per CPU, spawned.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL `out`, a negative count, an
 *          unknown method or one this platform lacks, or a non-zero
 *          reserved slot in `opts`; a status of
 *          weft_process_start() when a worker could not start
 *          (`WEFT_EAGAIN`, `WEFT_ENOMEM`, `WEFT_EPERM`, `WEFT_ESHUTDOWN`,
 *          `WEFT_EOS`...);
 *          nothing is left running then.
 * \par Thread safety:
 * Safe from any thread. Blocks while the workers start.
 */
WEFT_API int weft_pool_create(weft_pool **out, const weft_pool_opts *opts);

/**
 * Run `target` on each of `count` inputs in the workers and store each
 * outcome in `results[i]` (Pool.map). A worker that ends in the middle of
 * an input makes that input's status `WEFT_ECHILD` and is replaced; the
 * other inputs still run. Maps from several threads, and submitted calls
 * (weft_pool_submit()), share the workers, in the order submitted.
 * \param pool the pool.
 * \param target the name a target was registered under.
 * \param items the `count` inputs.
 * \param results receives the `count` outcomes; free each `data` with
 *        weft_free().
 * \param count how many inputs.
 * \returns `WEFT_OK` when every input's status is `WEFT_OK`, else the
 *          first failed input's status (every result is filled either way);
 *          `WEFT_ENOENT` for an unregistered target; `WEFT_ESHUTDOWN` after
 *          weft_pool_close() or weft_pool_terminate(); `WEFT_EINVAL` for
 *          NULL `pool` or `target`, NULL `items` or `results` with `count`
 *          > 0, or an item with NULL `data` and `len` > 0; `WEFT_ENOMEM`.
 *          Nothing is run, and `results` is not touched, when the status
 *          comes from these checks.
 * \par Thread safety:
 * Safe from any thread. Blocks until every input is done.
 */
WEFT_API int weft_pool_map(weft_pool *pool, const char *target, const weft_buffer *items,
                           size_t count, weft_pool_result *results);

/**
 * Run `target` on one input in a worker, without waiting
 * (Pool.apply_async). The future's result (weft_future_result()) is a
 * `weft_pool_result *` whose `status` is `WEFT_OK`, holding the target's
 * return value and reply bytes; it and its `data` belong to the future and
 * stay valid until weft_future_release() (do not free `data`). When the
 * input fails (its worker ended while running it: `WEFT_ECHILD`, or the
 * pool was terminated; `WEFT_ENOENT` in the worker; a failing
 * initializer), weft_future_result() and weft_future_status() return that
 * status instead (Future.exception()), and only that input fails.
 * Calls and maps take turns in the order submitted; weft_futures_wait()
 * and weft_futures_next() (imap_unordered) work on these futures too, and
 * weft_future_cancel() cancels one that has not started.
 * \param pool the pool.
 * \param out receives the future; release it with weft_future_release().
 * \param target the name a target was registered under.
 * \param arg the input (copied); NULL is fine when `len` is 0.
 * \param len how many bytes.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL `pool`, `out` or `target`,
 *          or NULL `arg` with `len` > 0; `WEFT_ENOENT` for an unregistered
 *          target; `WEFT_ESHUTDOWN` after weft_pool_close() or
 *          weft_pool_terminate(); `WEFT_ENOMEM`. `*out` is NULL on failure.
 * \par Thread safety:
 * Safe from any thread. Never blocks on the workers. A done callback of
 * such a future runs on one of the pool's threads: it must not wait for
 * the same pool (a map, a join), which could need that thread.
 */
WEFT_API int weft_pool_submit(weft_pool *pool, weft_future **out, const char *target,
                              const void *arg, size_t len);

/**
 * Make an executor whose calls run in `max_workers` worker processes
 * (ProcessPoolExecutor): a weft_pool behind the weft/executor.h calls.
 * Submit with weft_executor_submit_target(); weft_executor_submit() and
 * weft_executor_map() take function pointers, which another process cannot
 * call, and refuse with `WEFT_EINVAL`. weft_executor_shutdown() and the
 * futures work as for threads; the worker processes end at
 * weft_executor_destroy(), after the calls, and at an orderly exit.
 * \param out receives the executor; give it back with
 *        weft_executor_destroy().
 * \param max_workers worker processes; 0: weft_cpu_count().
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL `out` or `max_workers` over
 *          INT_MAX; the statuses of weft_pool_create() (a worker that did
 *          not start: nothing is left running).
 * \par Thread safety:
 * Safe from any thread. Blocks while the workers start.
 */
WEFT_API int weft_executor_create_processes(weft_executor **out, size_t max_workers);

/**
 * Run `target` on one input in a worker process of an executor of
 * weft_executor_create_processes() (ProcessPoolExecutor.submit). The
 * future is as weft_pool_submit()'s: its result is a `weft_pool_result *`
 * valid until weft_future_release(); a worker that dies fails only that
 * call, with `WEFT_ECHILD` (Python would break the whole executor).
 * \param executor an executor of processes.
 * \param out receives the future; release it with weft_future_release().
 * \param target the name a target was registered under.
 * \param arg the input (copied); NULL is fine when `len` is 0.
 * \param len how many bytes.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL `executor`, `out` or
 *          `target`, NULL `arg` with `len` > 0, or an executor of threads;
 *          `WEFT_ENOENT` for an unregistered target; `WEFT_ESHUTDOWN` after
 *          weft_executor_shutdown(); `WEFT_ENOMEM`. `*out` is NULL on
 *          failure.
 * \par Thread safety:
 * Safe from any thread. Never blocks on the workers.
 */
WEFT_API int weft_executor_submit_target(weft_executor *executor, weft_future **out,
                                         const char *target, const void *arg, size_t len);

/**
 * In a target run by a pool worker: make `data` (copied) the bytes of this
 * input's result, replacing any given before (what a Python target
 * returns).
 * \param data the bytes; NULL is fine when `len` is 0.
 * \param len how many bytes.
 * \returns `WEFT_OK`; `WEFT_EINVAL` outside a pool worker, or for NULL
 *          `data` with `len` > 0; `WEFT_ENOMEM`.
 * \par Thread safety:
 * Safe from any thread of the worker. Never blocks.
 */
WEFT_API int weft_process_reply(const void *data, size_t len);

/**
 * No more maps (close()): a later weft_pool_map() returns
 * `WEFT_ESHUTDOWN`. The workers stay until weft_pool_join() ends them,
 * after the maps still running.
 * \param pool the pool.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_pool_close(weft_pool *pool);

/**
 * End the workers now (terminate()): each is killed; a map still running
 * returns with the unfinished inputs failed (`WEFT_ECHILD`), and no later
 * map runs.
 * \param pool the pool.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks: it does not wait for
 * the workers to end (weft_pool_join() does).
 */
WEFT_API int weft_pool_terminate(weft_pool *pool);

/**
 * Wait for every worker to end (join()), after weft_pool_close() or
 * weft_pool_terminate(): after close, each worker is told to stop once the
 * maps and submitted calls still queued or running are done.
 * \param pool the pool.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL or a pool still open (Python
 *          raises ValueError).
 * \par Thread safety:
 * Safe from any thread. Blocks until running maps have
 * finished and the workers have ended.
 */
WEFT_API int weft_pool_join(weft_pool *pool);

/**
 * Terminate the workers if they still run, wait for them and free the
 * pool (leaving a `with Pool() as p:` block).
 * \param pool the pool; NULL is ignored.
 * \par Thread safety:
 * Not while another thread uses the pool. Blocks until the
 * killed workers have ended.
 */
WEFT_API void weft_pool_destroy(weft_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_PROCESS_H */
