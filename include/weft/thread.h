/* SPDX-License-Identifier: MIT */
/**
 * \file weft/thread.h
 * \brief Threads with the meaning of Python's threading.Thread.
 *
 * A weft_thread is an opaque handle made by weft_thread_start() and given
 * back with weft_thread_release(). The record behind it lives while the
 * handle or the running thread needs it: releasing the handle of a running
 * thread lets the thread run on, and it frees its record when it ends.
 *
 * Threads that weft did not start (the main thread, threads of other
 * libraries) get a record on their first call to weft_thread_current():
 * "MainThread" for the main thread, "Dummy-N" for the others. It lives until
 * that thread ends.
 */
#ifndef WEFT_THREAD_H
#define WEFT_THREAD_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque thread handle. */
typedef struct weft_thread weft_thread;

/** The function a thread runs; its return value is the thread's result. */
typedef void *(*weft_thread_fn)(void *arg);

/** Options for weft_thread_start(); a zero-filled struct means the defaults. */
typedef struct weft_thread_opts {
    const char *name;  /**< NULL or "": "Thread-N", N counting unnamed threads from 1 */
    bool daemon;       /**< a daemon thread is not waited for at exit */
    size_t stack_size; /**< 0: the platform's default; else rounded up to a page */
    void *reserved[4]; /**< zero: room for later fields (weft/base.h) */
} weft_thread_opts;

/**
 * Start a thread running `fn(arg)` (Thread(target=fn, args=(arg,)).start()).
 *
 * \param out receives the handle; give it back with weft_thread_release().
 * \param fn the thread's function.
 * \param arg passed to `fn`.
 * \param opts NULL for the defaults.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for a NULL `out` or `fn`, a non-zero
 *          reserved slot in `opts`, or a stack size the OS refuses;
 *          `WEFT_ENOMEM`; `WEFT_EAGAIN` when the OS has no resources for
 *          another thread (or, on weft's first use, no thread-local slot);
 *          `WEFT_ESHUTDOWN` once an orderly exit
 *          has run its handlers (weft/exit.h); `WEFT_EOS` for another OS
 *          failure. On failure `*out` is NULL (unless `out` is NULL) and
 *          nothing was started.
 * \par Thread safety:
 * Safe from any thread. Does not wait for the thread to run.
 */
WEFT_API int weft_thread_start(weft_thread **out, weft_thread_fn fn, void *arg,
                               const weft_thread_opts *opts);

/**
 * Wait for the thread to end (Thread.join(timeout)).
 *
 * \param thread the thread; joining the same thread from several threads,
 *        or again after it ended, is fine.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \param result receives the thread's result when it has ended; NULL is fine.
 * \returns `WEFT_OK` when the thread has ended; `WEFT_ETIMEDOUT` while it is
 *          still alive; `WEFT_EPERM` when a thread joins itself;
 *          `WEFT_EINVAL` for NULL, a bad timeout, or a thread weft did not
 *          start (the main thread, a "Dummy" thread).
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`.
 */
WEFT_API int weft_thread_join(weft_thread *thread, double timeout, void **result);

/**
 * Whether the thread is running (Thread.is_alive()).
 * \param thread the thread.
 * \returns true from weft_thread_start() until its function has returned;
 *          always true for threads weft did not start, while they are
 *          known; false for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API bool weft_thread_is_alive(const weft_thread *thread);

/**
 * Rename the thread (Thread.name = ...). The OS-visible name (debuggers,
 * `/proc/<pid>/task/<tid>/comm`) follows when the caller renames itself,
 * and for another thread where the OS allows it (Linux, Windows, the BSDs;
 * on macOS a thread can only name itself, so there the OS-visible name of
 * another thread keeps its old value). Where the OS limits its length (15
 * bytes on Linux) it keeps the name's start, ".." and the trailing
 * numbers, which tell a pool's workers apart: "ThreadPoolExecutor-0_12"
 * shows as "ThreadPo..-0_12". weft_thread_name() keeps the whole name.
 *
 * \param thread the thread.
 * \param name the new name, copied.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for a NULL thread or name;
 *          `WEFT_ENOMEM` (the name is then unchanged). Earlier names stay
 *          valid while the record lives.
 * \par Thread safety:
 * Safe from any thread. Never blocks (renames of the same
 * thread take turns).
 */
WEFT_API int weft_thread_set_name(weft_thread *thread, const char *name);

/**
 * The thread's name (Thread.name): "MainThread", "Thread-N", "Dummy-N" or
 * the name given.
 * \param thread the thread.
 * \returns a string owned by the thread record, valid while the handle is
 *          held (or, for a borrowed record, while the thread lives); NULL
 *          for NULL.
 * \par Thread safety:
 * Safe from any thread, also while another renames the
 * thread. Never blocks.
 */
WEFT_API const char *weft_thread_name(const weft_thread *thread);

/**
 * Whether the thread is a daemon thread (Thread.daemon).
 * \param thread the thread.
 * \returns the flag given at start (true for "Dummy" threads, as in
 *          Python); false for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API bool weft_thread_is_daemon(const weft_thread *thread);

/**
 * The thread's identifier (Thread.ident, threading.get_ident()).
 * \param thread the thread.
 * \returns an identifier unique in the process and never reused, even
 *          after the thread ends; never 0 for a thread; 0 for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API uint64_t weft_thread_ident(const weft_thread *thread);

/**
 * The operating system's id of the thread (Thread.native_id).
 * \param thread the thread.
 * \returns the Linux TID, the Windows thread id, the macOS thread id; 0
 *          for NULL.
 * \par Thread safety:
 * Safe from any thread. Blocks only until a newly started
 * thread has begun to run.
 */
WEFT_API uint64_t weft_thread_native_id(weft_thread *thread);

/**
 * The calling thread's record (threading.current_thread()).
 * \returns a borrowed pointer, valid while the calling thread lives; never
 *          release it. NULL only when the record of a thread that weft did
 *          not start could not be allocated.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API weft_thread *weft_thread_current(void);

/**
 * The main thread's record (threading.main_thread()): the thread that ran
 * main(), or after fork() in the child the thread that forked.
 * \returns a borrowed pointer; NULL only when it could not be allocated.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API weft_thread *weft_thread_main(void);

/**
 * How many threads are alive (threading.active_count()).
 * \returns weft's running threads plus the main thread and the "Dummy"
 *          threads weft knows of: a snapshot.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API size_t weft_thread_active_count(void);

/**
 * List the threads that are alive (threading.enumerate()).
 *
 * \param out receives up to `cap` borrowed pointers, each valid while its
 *        thread lives (a handle you hold stays valid until you release it);
 *        NULL is fine with `cap` 0.
 * \param cap the room in `out`.
 * \returns how many threads are alive; when that exceeds `cap`, only `cap`
 *          were stored.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API size_t weft_thread_enumerate(weft_thread **out, size_t cap);

/**
 * Ask the thread to stop, cooperatively (like C++20 std::jthread): from now
 * on weft_stop_requested() is true in it and weft_sleep() there returns
 * `WEFT_ECANCELED` at once. Nothing is interrupted otherwise.
 * \param thread the thread.
 * \returns `WEFT_OK`, also for a thread that has ended; `WEFT_EINVAL` for
 *          NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_thread_request_stop(weft_thread *thread);

/**
 * Whether a stop was requested for the calling thread.
 * \returns true after weft_thread_request_stop() on the calling thread
 *          (an orderly exit that a signal started requests it for every
 *          thread but its own; weft_exit() requests none).
 * \par Thread safety:
 * Safe from any thread; the answer is about the caller.
 * Never blocks.
 */
WEFT_API bool weft_stop_requested(void);

/**
 * End the calling thread now, as if its function had returned `result`
 * (_thread.exit_thread()): joiners get `result` and its weft_local values
 * are destroyed. In a thread weft did not start it ends that thread. In the
 * main thread it is weft_exit(0).
 * \param result what weft_thread_join() hands to joiners.
 * \par Thread safety:
 * Called by the thread that ends. Blocks only while its
 * weft_local destructors run (and, in the main thread, as
 * weft_exit()). Never returns.
 */
WEFT_API WEFT_NORETURN void weft_thread_exit(void *result);

/**
 * threading.Timer: start a thread that waits `interval` seconds, then runs
 * `fn(arg)`, unless weft_thread_request_stop() was called on it first
 * (Timer.cancel()). The thread is named "Thread-N" like any other; join and
 * release it as any thread (its result is NULL).
 *
 * \param out receives the handle; give it back with weft_thread_release().
 * \param interval seconds to wait before calling `fn`; 0 calls it at once.
 * \param fn the function to call.
 * \param arg passed to `fn`.
 * \returns as weft_thread_start(); `WEFT_EINVAL` also for a negative or NaN
 *          interval (`WEFT_FOREVER` included).
 * \par Thread safety:
 * Safe from any thread. Does not wait.
 */
WEFT_API int weft_timer_start(weft_thread **out, double interval, void (*fn)(void *arg),
                              void *arg);

/**
 * Give back a handle from weft_thread_start(). A running thread runs on and
 * frees its record when it ends; a thread that ended and was not joined has
 * its OS resources freed. NULL does nothing; so does a borrowed record from
 * weft_thread_current() of a thread weft did not start.
 * \param thread the handle.
 * \par Thread safety:
 * The handle must not be used after this call, by any
 * thread. Never blocks.
 */
WEFT_API void weft_thread_release(weft_thread *thread);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_THREAD_H */
