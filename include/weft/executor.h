/* SPDX-License-Identifier: MIT */
/**
 * \file weft/executor.h
 * \brief concurrent.futures.ThreadPoolExecutor and Future.
 *
 * An executor runs submitted calls `fn(arg)` on a pool of worker threads,
 * started lazily up to `max_workers` (an idle worker is reused before a new
 * one starts) and named "<prefix>_<n>". Each submission returns a future:
 * its state goes pending -> running -> finished, or pending -> cancelled.
 * A call submitted without a future (fire-and-forget: `out` NULL) is
 * queued, run, waited for by weft_executor_shutdown() with `wait` and
 * dropped by one with `cancel_futures` exactly like the others; nothing
 * can wait for it, cancel it alone or read its result.
 *
 * A task that fails says so with weft_task_fail(status) (Python: the call
 * raises); weft_future_result() then returns that status and
 * weft_future_status() reads it without waiting (Future.exception()).
 *
 * Executors and futures are opaque handles with reference counts: the
 * executor holds its futures until they finish, so the caller may release a
 * future, or destroy an executor, in any order; nothing leaks and nothing
 * is freed while in use.
 *
 * Decisions where C differs from Python, or Python is silent:
 * - Workers are daemon threads (weft_thread_is_daemon() is true in them):
 *   an idle worker waits for work without a time limit, so weft_exit's
 *   join of non-daemon threads would wait for it forever. Python's own
 *   exit behaviour (threading._register_atexit(_python_exit)) is kept by a
 *   weft_atexit handler, registered when the first executor is made: at
 *   an orderly exit (weft_exit, exit(), a return from main()) it shuts
 *   down every executor not yet destroyed with `wait`, so queued and
 *   running calls still run to the end. Being a weft_atexit handler it
 *   runs after the handlers registered later (LIFO). A call that waits
 *   for something that never comes holds up the exit, as in Python; the
 *   exit requests a stop on every weft thread, so a call may watch
 *   weft_stop_requested() (and weft_sleep() ends early there).
 * - A `name_prefix` of "" counts as none (Python's `prefix or default`);
 *   only executors without a prefix take a number N.
 * - weft_executor_map() returns `WEFT_ECANCELED` when another thread
 *   cancels its calls meanwhile (weft_executor_shutdown() with
 *   `cancel_futures`), as Python's map iterator raises CancelledError; the
 *   calls not yet started are then cancelled too.
 * - Done callbacks run on the thread that completes the future: a worker,
 *   or the thread calling weft_future_cancel() / weft_executor_shutdown()
 *   with `cancel_futures`. result() may return before they have run.
 * - weft_futures_wait() and weft_futures_next() allocate nothing: waiters
 *   share one process-wide wake-up channel, which a completion touches
 *   only while a thread waits.
 * - Submitting costs no lock and no system call while no worker is
 *   parked. Calls wait in a lock-free queue of blocks of 31, allocated
 *   once per 31 calls; a future is its call's place in that queue, so a
 *   call costs no allocation of its own, with a future or without. A
 *   block stays while any future in it is held: a future kept long keeps
 *   its block (about 4 KiB on 64-bit systems) alive, even after the
 *   executor is destroyed.
 * - After fork() an executor of the parent must not be used in the child
 *   (its workers do not exist there).
 */
#ifndef WEFT_EXECUTOR_H
#define WEFT_EXECUTOR_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque executor handle. */
typedef struct weft_executor weft_executor;
/** An opaque future handle. */
typedef struct weft_future weft_future;

/** What weft_futures_wait() waits for. */
typedef enum weft_wait_mode {
    WEFT_FIRST_COMPLETED, /**< any future finished or cancelled */
    WEFT_ALL_COMPLETED    /**< every future finished or cancelled */
} weft_wait_mode;

/**
 * Make an executor (ThreadPoolExecutor(max_workers, thread_name_prefix)).
 * \param out receives the executor; give it back with
 *        weft_executor_destroy().
 * \param max_workers 0: min(32, weft_cpu_count() + 4), as Python; at most
 *        32767 (more counts as 32767).
 * \param name_prefix NULL: "ThreadPoolExecutor-N" (N counting executors
 *        from 0, as Python); the workers are "<prefix>_0", "<prefix>_1"...
 * \returns `WEFT_OK`; `WEFT_EINVAL` for a NULL `out`; `WEFT_ENOMEM`.
 * \par Thread safety:
 * Safe from any thread. Never blocks; starts no thread yet.
 */
WEFT_API int weft_executor_create(weft_executor **out, size_t max_workers,
                                  const char *name_prefix);

/**
 * Schedule `fn(arg)` (Executor.submit()), with a future or without one.
 * \param executor the executor.
 * \param out receives the future; give it back with weft_future_release().
 *        NULL: fire-and-forget, no future is made; the call is queued and
 *        run as any other (weft_executor_shutdown() waits for it or, with
 *        `cancel_futures`, drops it unrun), and what `fn` returns, or the
 *        status of a weft_task_fail() in it, goes nowhere.
 * \param fn the call; its return value is the future's result.
 * \param arg passed to `fn`.
 * \returns `WEFT_OK`; `WEFT_ESHUTDOWN` after weft_executor_shutdown();
 *          `WEFT_EINVAL` for a NULL `executor` or `fn`; `WEFT_ENOMEM`; a
 *          status of weft_thread_start() (`WEFT_EAGAIN`, `WEFT_EOS`...)
 *          when no worker exists and none could start. On failure `*out`
 *          is NULL (unless `out` is NULL) and nothing runs.
 * \par Thread safety:
 * Safe from any thread. Never blocks (it may start a worker). Takes no
 * lock, and makes no system call when no worker is parked, a worker is
 * already looking for work or being woken, and no worker is to start.
 * \sa weft_executor_submit_n()
 */
WEFT_API int weft_executor_submit(weft_executor *executor, weft_future **out,
                                  void *(*fn)(void *arg), void *arg);

/**
 * Schedule `fn(args[i])` for every i in `[0, n)`, in that order, with one
 * wake-up decision for them all (one parked worker is woken, unless one is
 * already looking for work; each worker woken that finds more calls
 * waiting wakes the next, so no call waits while a worker is parked). All
 * or nothing: on failure no call is queued.
 * \param executor the executor.
 * \param fn the call, run once per argument.
 * \param args the `n` arguments; may be NULL when `n` is 0.
 * \param n how many calls; 0 schedules nothing and returns `WEFT_OK`.
 * \param futures_out receives the `n` futures (give each back with
 *        weft_future_release()); NULL: fire-and-forget, as a NULL `out`
 *        of weft_executor_submit().
 * \returns `WEFT_OK`; `WEFT_ESHUTDOWN` after weft_executor_shutdown();
 *          `WEFT_EINVAL` for a NULL `executor` or `fn`, or NULL `args`
 *          with `n` > 0; `WEFT_ENOMEM`; a status of weft_thread_start()
 *          when no worker exists and none could start. On failure every
 *          `futures_out[i]` is NULL and nothing runs.
 * \par Thread safety:
 * Safe from any thread. Never blocks (it may start a worker).
 */
WEFT_API int weft_executor_submit_n(weft_executor *executor, void *(*fn)(void *arg),
                                    void *const args[], size_t n, weft_future *futures_out[]);

/**
 * Run `fn` over `args[0..n)` on the pool and store the results in input
 * order (Executor.map()), waiting for all of them.
 * \param executor the executor.
 * \param fn the call, run once per argument.
 * \param args the `n` arguments; may be NULL when `n` is 0.
 * \param results receives the `n` results; may be NULL when `n` is 0.
 * \param n how many calls; 0 returns `WEFT_OK` at once.
 * \param timeout one deadline for the whole map, from the call.
 * \returns `WEFT_OK` with `results[i] = fn(args[i])`; `WEFT_ETIMEDOUT`
 *          when not all finished in time (the calls not yet started are
 *          cancelled, as Python does on leaving map's iterator;
 *          `results` holds the ones that finished, NULL elsewhere);
 *          `WEFT_ECANCELED` when another thread's
 *          weft_executor_shutdown(cancel_futures) cancelled some of them;
 *          the status of the first call (in input order) that failed with
 *          weft_task_fail() (the calls not yet started are then cancelled
 *          too, as for a timeout);
 *          `WEFT_EINVAL` for a NULL `executor` or `fn`, NULL `args` or
 *          `results` with `n` > 0, or a bad timeout; `WEFT_ESHUTDOWN`,
 *          `WEFT_ENOMEM` or a weft_thread_start() status as for
 *          weft_executor_submit_n() (then no call was scheduled).
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`.
 */
WEFT_API int weft_executor_map(weft_executor *executor, void *(*fn)(void *arg),
                               void *const args[], void *results[], size_t n, double timeout);

/**
 * Executor.shutdown(wait, cancel_futures): no submission is accepted from
 * now on; with `cancel_futures` the pending futures are cancelled; with
 * `wait` the call returns when every running and pending call has finished
 * and the workers have ended. Calling it again is fine.
 * \param executor the executor; NULL does nothing.
 * \param wait wait for the calls and the workers.
 * \param cancel_futures cancel the calls that have not started (their
 *        done callbacks run on the calling thread).
 * \par Thread safety:
 * Safe from any thread but a worker of this executor when
 * `wait` is true. Blocks while calls run when `wait` is true.
 */
WEFT_API void weft_executor_shutdown(weft_executor *executor, bool wait, bool cancel_futures);

/**
 * Shut down with wait (pending calls still run) and give back the handle.
 * Futures the caller still holds stay valid.
 * \param executor the executor; NULL does nothing.
 * \par Thread safety:
 * As weft_executor_shutdown() with `wait`. Blocks likewise.
 */
WEFT_API void weft_executor_destroy(weft_executor *executor);

/**
 * Wait for the future's call to finish and get its result
 * (Future.result(timeout)).
 * \param future the future.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \param result receives what `fn` returned; NULL is fine. Left as it
 *        was when the call returns anything but `WEFT_OK`.
 * \returns `WEFT_OK`; `WEFT_ETIMEDOUT`; `WEFT_ECANCELED` when the future
 *          was cancelled; the status the call failed with
 *          (weft_task_fail()); `WEFT_EINVAL` for NULL or a bad timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`.
 */
WEFT_API int weft_future_result(weft_future *future, double timeout, void **result);

/**
 * How the future ended, without waiting (Future.exception(timeout=0),
 * with "still running" as a status of its own).
 * \param future the future.
 * \returns `WEFT_OK` when the call returned; the status it gave
 *          weft_task_fail() when it failed; `WEFT_ECANCELED` when the
 *          future was cancelled; `WEFT_EAGAIN` while it is pending or
 *          running (not done yet); `WEFT_EINVAL` for NULL. A call that
 *          failed with `WEFT_ECANCELED` or `WEFT_EAGAIN` itself reads the
 *          same: weft_future_cancelled() and weft_future_done() tell them
 *          apart.
 * \par Thread safety:
 * Safe from any thread. Never blocks. Once not `WEFT_EAGAIN`, it never
 * changes.
 */
WEFT_API int weft_future_status(const weft_future *future);

/**
 * End the calling task as failed (Python: raise in the call). The task's
 * future then finishes with `status`: weft_future_result() returns it and
 * weft_future_status() reads it; the done callbacks run as for any finish.
 *
 * It does not return to the task: it is a longjmp() to the worker's loop,
 * which the worker set up before it ran its first task. The task's frames
 * between are left at once, as C's longjmp leaves them: no code of theirs
 * runs any more, so what they hold stays held (a lock, memory, an open
 * file: release it before the call) and the memory of a variable-length
 * array in them may be lost. Frames of C++ code with destructors to run,
 * or of any code that a longjmp must not cross, must not be between the
 * task's start and this call.
 * \param status the failure: any negative int, a `WEFT_E*` code or one of
 *        the program's own (`WEFT_EUSER` and below, which weft itself never
 *        returns).
 * \returns only when the call cannot end a task, and then the task goes
 *          on: `WEFT_EPERM` when the calling thread is not running a task
 *          of an executor (also inside a done callback, which runs after
 *          the task ended); `WEFT_EINVAL` for a `status` not below 0.
 * \par Thread safety:
 * Affects only the calling thread's task. Never blocks, but runs the
 * future's done callbacks before the worker goes on.
 */
WEFT_API int weft_task_fail(int status);

/**
 * Whether the future finished or was cancelled (Future.done()).
 * \param future the future.
 * \returns a snapshot (once true, it stays true); false for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API bool weft_future_done(const weft_future *future);

/**
 * Cancel the future if its call has not started (Future.cancel()). Its
 * done callbacks then run on the calling thread.
 * \param future the future.
 * \returns true when it is now cancelled (also when it already was); false
 *          when it runs or has finished, or for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks (but the callbacks
 * may).
 */
WEFT_API bool weft_future_cancel(weft_future *future);

/**
 * Whether the future was cancelled (Future.cancelled()).
 * \param future the future.
 * \returns a snapshot (once true, it stays true); false for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API bool weft_future_cancelled(const weft_future *future);

/**
 * Call `fn(future, arg)` once the future is done (finished or cancelled);
 * at once, on the calling thread, when it already is. Callbacks run in the
 * order added, each exactly once, on the thread that completes the future.
 * \param future the future.
 * \param fn the callback, given the future and `arg`.
 * \param arg passed to `fn`.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL; `WEFT_ENOMEM`.
 * \par Thread safety:
 * Safe from any thread. Never blocks (but the callback may).
 */
WEFT_API int weft_future_add_done_callback(weft_future *future,
                                           void (*fn)(weft_future *future, void *arg), void *arg);

/**
 * concurrent.futures.wait(fs, timeout, return_when). Use
 * weft_future_done() afterwards to tell which futures are done.
 * \param fs the futures, of any executors.
 * \param n how many; 0 returns `WEFT_OK` at once (after the checks of
 *        `timeout` and `mode`).
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \param mode what to wait for.
 * \returns `WEFT_OK` when `mode` is satisfied (for FIRST_COMPLETED: at
 *          least one future is done; a future already done satisfies it
 *          at once); `WEFT_ETIMEDOUT`; `WEFT_EINVAL` for a bad timeout, an
 *          unknown `mode`, a NULL `fs` with `n` > 0, or a NULL element.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`.
 */
WEFT_API int weft_futures_wait(weft_future *const fs[], size_t n, double timeout,
                               weft_wait_mode mode);

/**
 * concurrent.futures.as_completed(fs, timeout), one future per call: hand
 * out the index of a done (finished or cancelled) future not yet handed
 * out, the one that finished first, and mark it in `taken`.
 *
 *     bool taken[N] = {false};
 *     size_t i;
 *     while (weft_futures_next(fs, N, taken, WEFT_FOREVER, &i) == WEFT_OK)
 *         use(fs[i]);
 *
 * Futures done before the call come first, in the order they finished,
 * then the others as they finish; two that finish within a few
 * instructions of each other on different threads may come in either
 * order. Each call looks at every future not yet taken (O(n)); nothing is
 * allocated.
 * \param fs the futures, of any executors; NULL elements only where
 *        `taken` is already true.
 * \param n how many.
 * \param taken the caller's `n` flags, all false at first; the call sets
 *        the one it hands out. Reset them to start over.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \param index receives the index handed out.
 * \returns `WEFT_OK` with `*index`; `WEFT_EEMPTY` when every future was
 *          handed out (also for `n` 0); `WEFT_ETIMEDOUT` when none more
 *          finished in time; `WEFT_EINVAL` for a NULL `index`, a NULL
 *          `fs` or `taken` with `n` > 0, a NULL element not taken, or a
 *          bad timeout.
 * \par Thread safety:
 * Safe from any thread; one `taken` array must not be used by two calls
 * at once. Blocks up to `timeout`.
 */
WEFT_API int weft_futures_next(weft_future *const fs[], size_t n, bool taken[], double timeout,
                               size_t *index);

/**
 * Give back a future from weft_executor_submit(). Its call still runs
 * unless cancelled.
 * \param future the future; NULL does nothing.
 * \par Thread safety:
 * The handle must not be used after this call, by any
 * thread. Never blocks.
 */
WEFT_API void weft_future_release(weft_future *future);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_EXECUTOR_H */
