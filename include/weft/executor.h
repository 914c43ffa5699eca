/* SPDX-License-Identifier: MIT */
/**
 * \file weft/executor.h
 * \brief concurrent.futures.ThreadPoolExecutor and Future.
 *
 * An executor runs submitted calls `fn(arg)` on a pool of worker threads,
 * started lazily up to `max_workers` (an idle worker is reused before a new
 * one starts) and named "<prefix>_<n>". Each submission returns a future:
 * its state goes pending -> running -> finished, or pending -> cancelled.
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
 * - weft_futures_wait() allocates nothing: waiters share one process-wide
 *   wake-up channel, which a completion touches only while a thread waits.
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
 * \param max_workers 0: min(32, weft_cpu_count() + 4), as Python.
 * \param name_prefix NULL: "ThreadPoolExecutor-N" (N counting executors
 *        from 0, as Python); the workers are "<prefix>_0", "<prefix>_1"...
 * \returns `WEFT_OK`; `WEFT_EINVAL` for a NULL `out`; `WEFT_ENOMEM`.
 * \par Thread safety:
 * Safe from any thread. Never blocks; starts no thread yet.
 */
WEFT_API int weft_executor_create(weft_executor **out, size_t max_workers,
                                  const char *name_prefix);

/**
 * Schedule `fn(arg)` (Executor.submit()).
 * \param executor the executor.
 * \param out receives the future; give it back with weft_future_release().
 * \param fn the call; its return value is the future's result.
 * \param arg passed to `fn`.
 * \returns `WEFT_OK`; `WEFT_ESHUTDOWN` after weft_executor_shutdown();
 *          `WEFT_EINVAL` for a NULL `executor`, `out` or `fn`;
 *          `WEFT_ENOMEM`; a status of weft_thread_start() (`WEFT_EAGAIN`,
 *          `WEFT_EOS`...) when no worker exists and none could start. On
 *          failure `*out` is NULL (unless `out` is NULL) and nothing runs.
 * \par Thread safety:
 * Safe from any thread. Never blocks (it may start a worker).
 */
WEFT_API int weft_executor_submit(weft_executor *executor, weft_future **out,
                                  void *(*fn)(void *arg), void *arg);

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
 *          `WEFT_EINVAL` for a NULL `executor` or `fn`, NULL `args` or
 *          `results` with `n` > 0, or a bad timeout; `WEFT_ESHUTDOWN`,
 *          `WEFT_ENOMEM` or a weft_thread_start() status as for submit
 *          (of the calls already scheduled, those not started are then
 *          cancelled and the others run on; `results` holds the ones that
 *          finished, NULL elsewhere).
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
 * \param result receives what `fn` returned; NULL is fine.
 * \returns `WEFT_OK`; `WEFT_ETIMEDOUT`; `WEFT_ECANCELED` when the future
 *          was cancelled; `WEFT_EINVAL` for NULL or a bad timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`.
 */
WEFT_API int weft_future_result(weft_future *future, double timeout, void **result);

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
